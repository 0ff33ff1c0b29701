//! The JSON API handlers (`/api/...`); see `docs/web-api.md`.

use crate::AppState;
use crate::error::{ApiError, shorten};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::error::Category;
use tower_http::timeout::TimeoutError;

/// Body of `GET /api/health`.
#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

pub(crate) async fn health() -> Response {
    // Never cached: a probe must see the live server.
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
        }),
    )
        .into_response()
}

pub(crate) async fn course(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.content.course.respond(&headers)
}

pub(crate) async fn lesson(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state.content.lessons.get(&id) {
        Some(doc) => doc.respond(&headers),
        None => ApiError::not_found("lesson", &id).into_response(),
    }
}

pub(crate) async fn journeys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.content.journey_index.respond(&headers)
}

pub(crate) async fn journey(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state.content.journeys.get(&id) {
        Some(doc) => doc.respond(&headers),
        None => ApiError::not_found("journey", &id).into_response(),
    }
}

/// What every labs endpoint answers until the labs engine is wired in.
fn no_lab_engine() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "lab engine not available yet",
    )
}

pub(crate) async fn labs() -> ApiError {
    no_lab_engine()
}

pub(crate) async fn lab(Path(_id): Path<String>) -> ApiError {
    no_lab_engine()
}

/// `POST /api/labs/{id}/steps/{n}/check`: the request is validated in full
/// (step number, body) before the engine is asked, so a client learns about
/// its own mistakes with a 4xx whatever the engine's state.
pub(crate) async fn check(
    Path((_id, step)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let _step = parse_step(&step)?;
    let body = body.map_err(body_error)?;
    let _request = parse_check_body(&body)?;
    Err(no_lab_engine())
}

/// A body that could not be read: too big (413), too slow (408), or cut off.
fn body_error(rejection: BytesRejection) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
    while let Some(e) = source {
        if e.is::<TimeoutError>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request body took too long to arrive",
            );
        }
        source = e.source();
    }
    ApiError::new(rejection.status(), rejection.body_text())
}

/// Steps are numbered from 1, as the learner sees them.
fn parse_step(step: &str) -> Result<u32, ApiError> {
    match step.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "step must be a whole number from 1, got {:?}",
                shorten(step)
            ),
        )),
    }
}

/// The optional body of a check run: nothing, or a JSON object (e.g. the
/// learner's `answer` for prediction steps), handed to the engine as is.
fn parse_check_body(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the request body must be a JSON object",
        )),
        Err(e) => {
            let status = match e.classify() {
                Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(ApiError::new(status, format!("malformed JSON body: {e}")))
        }
    }
}

/// Any other `/api/...` path.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no API endpoint at {}", shorten(uri.path())),
    )
}
