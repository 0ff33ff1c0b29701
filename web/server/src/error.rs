//! The one error shape of the API, `{"error": "<message>"}`, and the layer
//! that gives it to every error response, including those made by axum and
//! tower-http (405, 413, 408, rejections), which otherwise have plain text or
//! empty bodies.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to the client as `{"error": message}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a person to read.
    pub message: String,
}

impl ApiError {
    /// An error with the given status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 404 for an id that names nothing; the id is shortened so a huge one is
    /// not echoed back whole.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("no {kind} with id {:?}", shorten(id)),
        )
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The client sees the message; whoever runs the server needs it too
        // when the fault is on this side (a sandbox that will not start).
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), error = %self.message, "request failed");
        }
        let body = serde_json::to_vec(&ErrorBody {
            error: &self.message,
        })
        .expect("a string serializes");
        (
            self.status,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(JSON)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response()
    }
}

/// Content type of every API response.
pub(crate) const JSON: &str = "application/json";

/// Keeps at most 80 characters of client input for messages.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Rewrites an error response that is not already JSON (or the HTML page
/// for an unbuilt app) into the API's error shape, keeping the status.
pub(crate) async fn json_error_body(method: &Method, uri: &Uri, res: Response) -> Response {
    let status = res.status();
    let typed = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(JSON) || ct.starts_with("text/html"));
    if typed {
        return res;
    }
    let (parts, body) = res.into_parts();
    let message = match status {
        // axum adds the Allow header after this layer, so it is not named here.
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("{method} is not allowed on {}", shorten(uri.path()))
        }
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "request body too large: the limit is {} bytes",
            crate::BODY_LIMIT
        ),
        StatusCode::REQUEST_TIMEOUT => "the request body took too long to arrive".to_string(),
        _ => {
            // axum's rejections explain themselves in a short text body.
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let text = text.trim();
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_lowercase()
            } else {
                shorten(text)
            }
        }
    };
    let mut res = ApiError::new(status, message).into_response();
    // Keep what the status needs (Allow on 405), drop the old body's headers.
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        res.headers_mut().insert(header::ALLOW, allow.clone());
    }
    res
}

/// Answers a panic in a handler with a JSON 500 instead of a dropped
/// connection; the panic itself is logged by the tracing layer.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}
