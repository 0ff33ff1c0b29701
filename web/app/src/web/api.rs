//! Fetching the course from the server's JSON API (`/api/...`). The types
//! are core's own, so the app and the server cannot disagree about them.

use leptos::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A journey in `GET /api/journeys`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JourneyInfo {
    /// Id, for `/journey/{id}`.
    pub id: String,
    /// Title.
    pub title: String,
    /// One or two sentences.
    pub summary: String,
}

/// The server's error body.
#[derive(Deserialize)]
struct ApiError {
    error: String,
}

/// `{"key": "value"}` with the value escaped.
pub fn json_body(key: &str, value: &str) -> String {
    let value = serde_json::to_string(value).unwrap_or_default();
    format!("{{\"{key}\":{value}}}")
}

/// GETs `path` and decodes its JSON; errors are messages for the learner.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    decode(path, &text(path, None).await?)
}

/// GETs a course document (`/api/course`, lessons, journeys, labs) in
/// postcard, the same serde types as the JSON but far less code to decode.
/// The query (not an `Accept` header) asks for it, so the response the
/// page preloads for `/api/course?format=postcard` is the one used here.
pub async fn get_document<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let resp = send(&format!("{path}?format=postcard"), None).await?;
    if !resp.ok() {
        return Err(failure(resp).await);
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(|_| "response has no body")?)
        .await
        .map_err(|_| format!("{path}: the answer was cut off"))?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    postcard::from_bytes(&bytes)
        .map_err(|e| format!("{path}: unexpected answer from the server: {e}"))
}

/// POSTs `body` (JSON) to `path` and decodes the JSON answer.
pub async fn post<T: DeserializeOwned>(path: &str, body: &str) -> Result<T, String> {
    decode(path, &text(path, Some(body)).await?)
}

/// Sends a request: a GET, or a POST of a JSON body.
async fn send(path: &str, body: Option<&str>) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = match body {
        None => window.fetch_with_str(path),
        Some(body) => {
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            init.set_body(&wasm_bindgen::JsValue::from_str(body));
            let headers = web_sys::Headers::new().map_err(|_| "no Headers")?;
            let _ = headers.set("content-type", "application/json");
            init.set_headers(&headers);
            window.fetch_with_str_and_init(path, &init)
        }
    };
    let resp = JsFuture::from(promise).await.map_err(|_| {
        format!("cannot reach the layerlab server for {path}: is it still running?")
    })?;
    resp.dyn_into()
        .map_err(|_| "fetch returned no response".into())
}

/// A request's answer as text, or the server's error message. Not
/// generic, so each type fetched adds only its decoder to the download.
pub async fn text(path: &str, body: Option<&str>) -> Result<String, String> {
    let resp = send(path, body).await?;
    let text = JsFuture::from(resp.text().map_err(|_| "response has no body")?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    if !resp.ok() {
        return Err(error_message(&text, resp.status()));
    }
    Ok(text)
}

/// An answer's JSON as `T`.
fn decode<T: DeserializeOwned>(path: &str, text: &str) -> Result<T, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("{path}: unexpected answer from the server: {e}"))
}

/// The server's message in a failed response.
async fn failure(resp: web_sys::Response) -> String {
    let text = match resp.text() {
        Ok(t) => JsFuture::from(t).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    error_message(&text.unwrap_or_default(), resp.status())
}

fn error_message(body: &str, status: u16) -> String {
    serde_json::from_str::<ApiError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| format!("HTTP {status}"))
}

/// POSTs `body` to `path` and hands each server-sent event (name, data) to
/// `on_event` as it arrives.
pub async fn post_events(
    path: &str,
    body: &str,
    mut on_event: impl FnMut(&str, &str),
) -> Result<(), String> {
    let resp = send(path, Some(body)).await?;
    if !resp.ok() {
        return Err(failure(resp).await);
    }
    let reader: web_sys::ReadableStreamDefaultReader = resp
        .body()
        .ok_or("the check answered no stream")?
        .get_reader()
        .dyn_into()
        .map_err(|_| "the check answered no stream")?;
    let mut buf = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| "the server closed the check stream")?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        if let Ok(bytes) = js_sys::Reflect::get(&chunk, &"value".into()) {
            buf.extend(js_sys::Uint8Array::new(&bytes).to_vec());
        }
        for (name, data) in crate::events::take_events(&mut buf) {
            on_event(&name, &data);
        }
    }
}

/// A fetched value: `None` until the first answer, then the latest result.
pub type Fetched<T> = ReadSignal<Option<Result<Arc<T>, String>>>;

/// Fetches `path()` now and again whenever it changes. Lighter than a
/// `LocalResource` (this is downloaded, so its code size counts), and a
/// late answer for an old path never replaces the current one.
pub fn fetch<T>(path: impl Fn() -> String + 'static) -> Fetched<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let (value, set_value) = signal(None);
    let latest = StoredValue::new(String::new());
    Effect::new(move |_| {
        let p = path();
        latest.set_value(p.clone());
        leptos::task::spawn_local(async move {
            let result = get_document::<T>(&p).await.map(Arc::new);
            if latest.get_value() == p {
                set_value.set(Some(result));
            }
        });
    });
    value
}
