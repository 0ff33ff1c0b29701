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

/// GETs `path` and decodes its JSON; errors are messages for the learner.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|_| {
            format!("cannot reach the layerlab server for {path}: is it still running?")
        })?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| "fetch returned no response")?;
    let text = JsFuture::from(resp.text().map_err(|_| "response has no body")?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    if !resp.ok() {
        let message = serde_json::from_str::<ApiError>(&text)
            .map(|e| e.error)
            .unwrap_or_else(|_| format!("HTTP {}", resp.status()));
        return Err(message);
    }
    serde_json::from_str(&text)
        .map_err(|e| format!("{path}: unexpected answer from the server: {e}"))
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
            let result = get::<T>(&p).await.map(Arc::new);
            if latest.get_value() == p {
                set_value.set(Some(result));
            }
        });
    });
    value
}
