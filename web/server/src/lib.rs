//! layerlab's web server: the JSON API over the embedded course, the
//! embedded browser app, and lab runs (sandbox or kind) with streamed check
//! results. `layerlab serve` runs it.
//!
//! Everything the API returns is serialized once at startup ([`Content`]);
//! handlers only pick a ready response. See `docs/web-api.md` for the API.
#![deny(missing_docs)]

mod api;
pub mod assets;
mod content;
mod dashboard;
mod error;
pub mod gradebook;
mod http_util;
pub mod labs;
pub mod learners;
mod serve;
pub mod terminal;
pub mod workshop;
mod workshop_api;

pub use content::{Content, JsonDoc};
pub use error::ApiError;
pub use labs::LabEngine;
pub use serve::{
    DEFAULT_PORT, ServeError, ServeOptions, init_tracing, probe, run, serve, shutdown_signal,
};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{any, get, post};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

/// Largest request body accepted (check runs carry at most a short answer).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Longest a handler may take to start its response (streams may then run
/// longer: the limit stops at the headers).
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest a client may take to send its request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handlers share. Cheap to clone: everything is behind `Arc`s or
/// static.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The course, journeys and labs as ready JSON.
    pub content: Arc<Content>,
    /// The browser app's files (normally [`assets::ASSETS`]).
    pub assets: &'static [assets::Asset],
    /// Runs labs: sandboxes, the cluster connection, latest results.
    pub labs: Arc<LabEngine>,
    /// Host names lab actions are accepted for (`None`: any). A server on
    /// loopback answers only to loopback names, so a web page cannot reach
    /// it through DNS rebinding.
    pub allowed_hosts: Option<Arc<[String]>>,
    /// Learners' progress kept by this server (`--learners DIR`), if any.
    pub learners: Option<Arc<learners::Learners>>,
    /// The workshop this server runs (`--workshop`), if any: then every
    /// request but joining needs a session, and each learner has their own
    /// confined sandboxes.
    pub workshop: Option<Arc<workshop::Workshop>>,
    /// Live lab terminals (PTY sessions that outlive their WebSockets).
    pub terminals: Arc<terminal::Terminals>,
}

impl AppState {
    /// State over the embedded course, journeys, labs and app, with labs
    /// enabled, kind labs on the default context and any Host accepted.
    pub fn embedded() -> Self {
        Self {
            content: Arc::new(Content::new(
                layerlab_lessons::course(),
                layerlab_lessons::journeys(),
                layerlab_labs::labs(),
            )),
            assets: assets::ASSETS,
            labs: Arc::new(LabEngine::new(true, None)),
            allowed_hosts: None,
            learners: None,
            workshop: None,
            terminals: Arc::new(terminal::Terminals::new()),
        }
    }

    /// This state running workshop `w`: only its chapters and labs are
    /// served, learners' progress goes to its data folder.
    pub fn with_workshop(mut self, w: workshop::Workshop) -> Self {
        let labs: Vec<_> = layerlab_labs::labs()
            .iter()
            .filter(|l| w.plan.has_lab(&l.id))
            .cloned()
            .collect();
        self.content = Arc::new(Content::new(
            &w.plan.course(layerlab_lessons::course()),
            layerlab_lessons::journeys(),
            &labs,
        ));
        self.learners = Some(Arc::new(learners::Learners::new(w.progress_dir())));
        self.workshop = Some(Arc::new(w));
        self
    }

    /// Refuses lab actions (which run commands as the server's user) that
    /// a page of another site could have sent: a cross-site `Origin` or
    /// `Sec-Fetch-Site`, or a `Host` this server does not answer to.
    /// Clients that send none of these (curl, scripts) pass.
    pub fn guard(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let refuse = |why: String| Err(ApiError::new(StatusCode::FORBIDDEN, why));
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
            && !matches!(site, "same-origin" | "none")
        {
            return refuse(format!(
                "lab actions are taken only from this server's own pages (Sec-Fetch-Site: {})",
                error::shorten(site)
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            if origin_host != host {
                return refuse(format!(
                    "lab actions are taken only from this server's own pages, not from {}",
                    error::shorten(origin)
                ));
            }
        }
        if let Some(allowed) = &self.allowed_hosts
            && !host.is_empty()
        {
            let name = host_name(host);
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                return refuse(format!(
                    "this server answers lab actions for {} only, not for Host {}",
                    allowed.join(", "),
                    error::shorten(host)
                ));
            }
        }
        Ok(())
    }
}

/// The name part of a Host header (`[::1]:8080` → `[::1]`, `a:80` → `a`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    }
}

/// The whole HTTP surface: API, app files, and the layers that make every
/// response safe (security headers, limits, timeouts, JSON errors).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/health", get(api::health))
        .route("/api/course", get(api::course))
        .route("/api/lessons/{id}", get(api::lesson))
        .route("/api/lessons/{id}/quiz/{n}", post(api::quiz_answer))
        .route("/api/journeys", get(api::journeys))
        .route("/api/journeys/{id}", get(api::journey))
        .route("/api/labs", get(api::labs))
        .route("/api/labs/{id}", get(api::lab))
        .route("/api/labs/{id}/status", get(api::lab_status))
        .route("/api/labs/{id}/start", post(api::lab_start))
        .route("/api/labs/{id}/stop", post(api::lab_stop))
        .route("/api/labs/{id}/reset", post(api::lab_reset))
        .route("/api/labs/{id}/console", post(api::console))
        .route("/api/labs/{id}/terminal", get(api::terminal))
        .route("/api/labs/{id}/report", get(api::report))
        .route("/api/labs/{id}/steps/{n}/check", post(api::check))
        .route("/api/labs/{id}/steps/{n}/solve", post(api::solve))
        .route(
            "/api/labs/{id}/steps/{n}/checks/{m}/journey",
            get(api::capture_journey),
        )
        .route("/api/learners", get(api::learners))
        .route(
            "/api/learners/{name}/progress",
            get(api::learner_progress).post(api::sync_progress),
        )
        .route("/api/workshop", get(workshop_api::about))
        .route("/api/workshop/join", post(workshop_api::join_api))
        .route("/api/workshop/learners", get(workshop_api::roster))
        .route(
            "/join",
            get(workshop_api::join_page).post(workshop_api::join_form),
        )
        .route("/instructor", get(workshop_api::instructor))
        .route("/instructor/dashboard.js", get(dashboard::script))
        .route("/instructor/dashboard.css", get(dashboard::style))
        .route("/api/workshop/grid", get(dashboard::grid))
        .route("/api/workshop/events", get(dashboard::events))
        .route("/api/workshop/export", get(dashboard::export))
        .route("/api/workshop/hints", get(dashboard::my_hints))
        .route(
            "/api/workshop/learners/{id}/hints",
            post(dashboard::add_hint),
        )
        .route(
            "/api/workshop/learners/{id}/labs/{lab}",
            get(dashboard::learner_lab),
        )
        .route(
            "/api/workshop/learners/{id}/labs/{lab}/reset",
            post(dashboard::reset),
        )
        .route("/api", any(api::not_found))
        .route("/api/", any(api::not_found))
        .route("/api/{*rest}", any(api::not_found));
    // One `layer` call: every `Router::layer` boxes each route once more,
    // which measurably slows every request.
    let gate = axum::middleware::from_fn_with_state(state.clone(), workshop_api::gate);
    api.fallback(assets::serve_app).with_state(state).layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(axum::middleware::from_fn(finish))
            .layer(gate)
            .layer(CatchPanicLayer::custom(error::panic_response))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                HANDLER_TIMEOUT,
            ))
            .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(DefaultBodyLimit::max(BODY_LIMIT)),
    )
}

/// Last touches on every response: errors get the JSON shape, and all get
/// the security headers (after the rewrite, so rewritten ones do too).
async fn finish(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let mut res = next.run(req).await;
    if res.status().is_client_error() || res.status().is_server_error() {
        res = error::json_error_body(&method, &uri, res).await;
    }
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS.iter() {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    res
}

/// The Content-Security-Policy: only this origin's scripts, plus the
/// hashes of `index.html`'s inline scripts; `'wasm-unsafe-eval'` lets the
/// page compile its WebAssembly and nothing else.
///
/// Styles allow `'unsafe-inline'` (and so carry no hashes, which would
/// switch it off): the lab terminal's renderer (xterm.js) writes its
/// measured character grid and theme into `<style>` elements it makes at
/// run time, and colours 24-bit text with `style` attributes. Both change
/// with the font's metrics, so no hash can name them, and xterm has no
/// nonce support. Inline CSS cannot run script (script-src stays strict),
/// and with images, fonts and connections limited to this origin, injected
/// CSS has nowhere else to send what it could read.
pub fn content_security_policy() -> String {
    let join = |extra: &[&str]| extra.iter().map(|s| format!(" {s}")).collect::<String>();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        join(assets::INLINE_SCRIPTS),
    )
}

/// Sent with every response; built once.
static SECURITY_HEADERS: LazyLock<Vec<(HeaderName, HeaderValue)>> = LazyLock::new(|| {
    let csp = HeaderValue::from_str(&content_security_policy()).expect("CSP is ASCII");
    vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ]
});
