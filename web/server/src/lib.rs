//! layerlab's web server: the JSON API over the embedded course, the
//! embedded browser app, and (soon) lab check runs. `layerlab serve` runs it.
//!
//! Everything the API returns is serialized once at startup ([`Content`]);
//! handlers only pick a ready response. See `docs/web-api.md` for the API.
#![deny(missing_docs)]

mod api;
pub mod assets;
mod content;
mod error;
mod http_util;
mod serve;

pub use content::{Content, JsonDoc};
pub use error::ApiError;
pub use serve::{DEFAULT_PORT, ServeOptions, init_tracing, probe, run, serve, shutdown_signal};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
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
/// static. The labs engine joins as one more field.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The course and journeys as ready JSON.
    pub content: Arc<Content>,
    /// The browser app's files (normally [`assets::ASSETS`]).
    pub assets: &'static [assets::Asset],
    /// The kube context for kind labs (`--context`), `None` for the current one.
    pub context: Option<String>,
}

impl AppState {
    /// State over the embedded course, journeys and app.
    pub fn embedded() -> Self {
        Self {
            content: Arc::new(Content::new(
                layerlab_lessons::course(),
                layerlab_lessons::journeys(),
            )),
            assets: assets::ASSETS,
            context: None,
        }
    }
}

/// The whole HTTP surface: API, app files, and the layers that make every
/// response safe (security headers, limits, timeouts, JSON errors).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/health", get(api::health))
        .route("/api/course", get(api::course))
        .route("/api/lessons/{id}", get(api::lesson))
        .route("/api/journeys", get(api::journeys))
        .route("/api/journeys/{id}", get(api::journey))
        .route("/api/labs", get(api::labs))
        .route("/api/labs/{id}", get(api::lab))
        .route("/api/labs/{id}/steps/{n}/check", post(api::check))
        .route("/api", any(api::not_found))
        .route("/api/", any(api::not_found))
        .route("/api/{*rest}", any(api::not_found));
    // One `layer` call: every `Router::layer` boxes each route once more,
    // which measurably slows every request.
    api.fallback(assets::serve_app).with_state(state).layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(axum::middleware::from_fn(finish))
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
/// hashes of `index.html`'s inline scripts and styles; `'wasm-unsafe-eval'`
/// lets the page compile its WebAssembly and nothing else.
pub fn content_security_policy() -> String {
    let join = |extra: &[&str]| extra.iter().map(|s| format!(" {s}")).collect::<String>();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'{}; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        join(assets::INLINE_SCRIPTS),
        join(assets::INLINE_STYLES),
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
