//! The workshop's HTTP face: who a request is for ([`Caller`] as an
//! extractor), the gate that keeps everything but the join page behind a
//! session, the join page and API, the instructor's sign-in and the roster.

use crate::AppState;
use crate::error::{ApiError, shorten};
use crate::workshop::{Caller, Member, Workshop};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match &state.workshop {
            None => Ok(Caller::Local),
            Some(w) => w.caller(&parts.headers).ok_or_else(not_signed_in),
        }
    }
}

fn not_signed_in() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "join the workshop first at /join (your session is missing, expired or not from this server)",
    )
}

/// Paths anyone may reach in a workshop: joining, health, the workshop's title.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/join" | "/instructor" | "/api/health" | "/api/workshop" | "/api/workshop/join"
    )
}

/// In a workshop, everything but the public paths needs a session: API
/// calls get a 401, pages are sent to `/join`.
pub(crate) async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(w) = &state.workshop else {
        return next.run(req).await;
    };
    if is_public(req.uri().path()) || w.caller(req.headers()).is_some() {
        return next.run(req).await;
    }
    if req.uri().path().starts_with("/api/") {
        not_signed_in().into_response()
    } else {
        Redirect::to("/join").into_response()
    }
}

fn workshop(state: &AppState) -> Result<&Arc<Workshop>, ApiError> {
    state.workshop.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this server runs no workshop (start it with `layerlab serve --workshop FILE --data DIR`)",
        )
    })
}

/// The client's address, as the accept loop recorded it.
fn client_ip(parts: &axum::http::Extensions) -> Option<IpAddr> {
    parts
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// What `GET /api/workshop` answers.
#[derive(Debug, Serialize)]
struct About<'a> {
    title: &'a str,
    opens: Option<u64>,
    closes: Option<u64>,
    labs: &'a [String],
    /// Who is asking: `learner` (with id and name), `instructor`, or nobody.
    you: Option<You>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum You {
    Learner { id: String, name: String },
    Instructor,
}

/// `GET /api/workshop`: the workshop's title and hours, and who you are;
/// outside a workshop, 204 with no body (every page of the app asks, and a
/// 404 would show as an error in the browser's console).
pub(crate) async fn about(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(w) = state.workshop.as_ref() else {
        return Ok(no_store(StatusCode::NO_CONTENT));
    };
    let you = w.caller(&headers).and_then(|c| match c {
        Caller::Learner(id) => w.member(&id).map(|m| You::Learner {
            id: m.id,
            name: m.name,
        }),
        Caller::Instructor => Some(You::Instructor),
        Caller::Local => None,
    });
    Ok(no_store(Json(About {
        title: &w.plan.title,
        opens: w.plan.opens,
        closes: w.plan.closes,
        labs: &w.plan.labs,
        you,
    })))
}

/// A join request, from the form or as JSON.
#[derive(Debug, Deserialize)]
pub(crate) struct JoinForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

/// A join request's workshop and client address (after the cross-site
/// guard), and its body if it fits in `limit` bytes.
async fn read_join(
    state: &AppState,
    req: Request,
    limit: usize,
) -> Result<(Arc<Workshop>, Option<IpAddr>, Option<bytes::Bytes>), ApiError> {
    let w = workshop(state)?.clone();
    state.guard(req.headers())?;
    let ip = client_ip(req.extensions());
    let body = axum::body::to_bytes(req.into_body(), limit).await.ok();
    Ok((w, ip, body))
}

/// `POST /api/workshop/join` with `{"code": …, "name": …}`: the new
/// learner, and their session cookie.
pub(crate) async fn join_api(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    let (w, ip, body) = read_join(&state, req, crate::BODY_LIMIT).await?;
    let body = body.ok_or_else(|| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the join request is too large",
        )
    })?;
    let form: JoinForm = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body must be {{\"code\": \"...\", \"name\": \"...\"}}: {e}"),
        )
    })?;
    let (member, cookie) = w.join(ip, &form.code, &form.name)?;
    let mut res = no_store(Json(member));
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(res)
}

/// `GET /join`: the join page (a plain form: no script, works anywhere).
pub(crate) async fn join_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let w = workshop(&state)?;
    Ok(page(StatusCode::OK, &w.plan.title, None))
}

/// `POST /join` from the form: on success the session cookie and a
/// redirect to the course; otherwise the form again with the reason.
pub(crate) async fn join_form(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    let (w, ip, body) = read_join(&state, req, 4096).await?;
    let title = &w.plan.title;
    let Some(body) = body else {
        return Ok(page(
            StatusCode::PAYLOAD_TOO_LARGE,
            title,
            Some("That form was far too large."),
        ));
    };
    let Ok(form) = serde_urlencoded::from_bytes::<JoinForm>(&body) else {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            title,
            Some("That form could not be read; please try again."),
        ));
    };
    match w.join(ip, &form.code, &form.name) {
        Ok((_, cookie)) => {
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e) => Ok(page(e.status, title, Some(&e.message))),
    }
}

/// Query of `GET /instructor`.
#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    #[serde(default)]
    token: Option<String>,
}

/// `GET /instructor?token=…`: signs the instructor in (cookie) and sends
/// them to the dashboard; the token leaves the address bar at once.
pub(crate) async fn instructor(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<SignIn>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let w = workshop(&state)?;
    if let Some(token) = q.token {
        let cookie = w.instructor_sign_in(&token)?;
        let mut res = Redirect::to("/instructor").into_response();
        res.headers_mut().insert(header::SET_COOKIE, cookie);
        return Ok(res);
    }
    if w.caller(&headers) != Some(Caller::Instructor) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "open the sign-in link the server printed when it started (/instructor?token=…)",
        ));
    }
    Ok(crate::dashboard::page())
}

/// `GET /api/workshop/learners`: the roster (the instructor only).
pub(crate) async fn roster(
    State(state): State<AppState>,
    who: Caller,
) -> Result<Response, ApiError> {
    let w = workshop(&state)?;
    if who != Caller::Instructor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the instructor sees the class list",
        ));
    }
    let roster: Vec<Member> = w.roster();
    Ok(no_store(Json(roster)))
}

fn no_store(body: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// The join form, with a message when the last try failed.
fn page(status: StatusCode, title: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=error role=alert>{}</p>", escape(&shorten(e))))
        .unwrap_or_default();
    let body = format!(
        "<h1>{}</h1><p>Join the workshop: type the code your instructor gave you and the name they will see.</p>{error}\
         <form method=post action=/join>\
         <label>Join code <input name=code required autocomplete=off autocapitalize=characters></label>\
         <label>Your name <input name=name required maxlength=40 autocomplete=nickname></label>\
         <button>Join</button></form>",
        escape(title)
    );
    html(status, title, &body)
}

/// The app's icon (as `web/app/index.html` has it), so browsers do not
/// ask for a `/favicon.ico` there is none of.
const ICON: &str = r#"<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%232563c9'/%3E%3Cpath d='M8 8h7v8H8zM17 16h7v8h-7z' fill='white'/%3E%3C/svg%3E">"#;

/// The pages' one stylesheet, allowed by its hash in their own CSP.
const PAGE_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}\
label{display:block;margin:1rem 0}input{display:block;font:inherit;padding:.4rem;width:100%}\
button{font:inherit;padding:.4rem 1.2rem}.error{color:#a00}table{border-collapse:collapse}\
td,th{border-bottom:1px solid #ccc;padding:.3rem .8rem;text-align:left}";

static PAGE_CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = data_encoding::BASE64.encode(&Sha256::digest(PAGE_STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ))
    .expect("CSP is ASCII")
});

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{}</title>{ICON}<style>{PAGE_STYLE}</style>{body}</html>",
        escape(title)
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP.clone()),
            // With `no-referrer` (the server's default) a browser sends
            // `Origin: null` with the form's POST, which the cross-site
            // guard must refuse; this origin is no secret to itself.
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ),
        ],
        doc,
    )
        .into_response()
}

/// Text made safe to put in HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
