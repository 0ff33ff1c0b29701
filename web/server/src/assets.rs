//! The browser app's files, embedded at compile time by `build.rs`, and the
//! handler that serves them (and `index.html` for the app's own routes).

use crate::AppState;
use crate::http_util::{accepts_gzip, etag_matches};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file of the web app.
#[derive(Debug)]
pub struct Asset {
    /// Path under `dist/`, `/`-separated, no leading slash.
    pub path: &'static str,
    /// Content type sent with it.
    pub mime: &'static str,
    /// Strong ETag (quoted) of the uncompressed bytes.
    pub etag: &'static str,
    /// Strong ETag (quoted) of the gzip encoding.
    pub etag_gzip: &'static str,
    /// The file as built.
    pub body: &'static [u8],
    /// Its gzip encoding, when that is meaningfully smaller.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Shown instead of the app when `web/app/dist/` was empty at compile time.
const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>layerlab</title></head>\n<body><h1>layerlab</h1>\n<p>The web app is not built: run <code>cargo xtask web</code>, then restart the server (<code>cargo xtask serve</code> does both).</p>\n<p>The API works meanwhile: <a href=\"/api/course\">/api/course</a>.</p></body></html>\n";

/// Serves embedded files; any other extension-less path gets `index.html`
/// so deep links (`/lesson/tcp`) load the app, which routes them itself.
pub(crate) async fn serve_app(State(state): State<AppState>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = crate::error::ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{} is not allowed on {}: use GET",
                req.method(),
                req.uri().path()
            ),
        )
        .into_response();
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let path = req.uri().path().trim_start_matches('/');
    if let Some(asset) = find(state.assets, path) {
        return respond(asset, req.headers());
    }
    // A missing file (it has an extension) is a 404, not the app: a broken
    // script URL must fail loudly instead of returning HTML.
    let last = path.rsplit('/').next().unwrap_or(path);
    if last.contains('.') {
        return crate::error::ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no such file: /{path}"),
        )
        .into_response();
    }
    match find(state.assets, "index.html") {
        Some(index) => respond(index, req.headers()),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            NOT_BUILT,
        )
            .into_response(),
    }
}

fn find(assets: &'static [Asset], path: &str) -> Option<&'static Asset> {
    assets
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &assets[i])
}

/// The file, gzip-encoded if the client takes it, or 304 if unchanged.
fn respond(asset: &'static Asset, req: &axum::http::HeaderMap) -> Response {
    let (body, etag, encoding) = match asset.gzip {
        Some(gz) if accepts_gzip(req) => (gz, asset.etag_gzip, Some("gzip")),
        _ => (asset.body, asset.etag, None),
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, asset.mime)
        .header(header::ETAG, etag)
        // File names carry no hash, so revalidate every time (cheap: 304).
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "accept-encoding");
    if etag_matches(req, etag) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("static headers are valid");
    }
    if let Some(encoding) = encoding {
        builder = builder.header(header::CONTENT_ENCODING, encoding);
    }
    builder
        .body(Body::from(body))
        .expect("static headers are valid")
}
