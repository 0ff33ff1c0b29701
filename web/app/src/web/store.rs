//! What the browser keeps between visits: progress (core's versioned
//! `Progress` JSON, the same format the terminal tutor writes) and the theme.

use layerlab_core::progress::{Progress, Timestamp};

const PROGRESS_KEY: &str = "layerlab.progress";
const THEME_KEY: &str = "layerlab.theme";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Now, in core's clock-free terms.
pub fn now() -> Timestamp {
    Timestamp((js_sys::Date::now() / 1000.0) as u64)
}

/// Loads progress. Unreadable progress is moved aside (never silently
/// overwritten) and the learner starts afresh.
pub fn load_progress() -> Progress {
    let Some(s) = storage() else {
        return Progress::default();
    };
    let Ok(Some(json)) = s.get_item(PROGRESS_KEY) else {
        return Progress::default();
    };
    match Progress::from_json(&json) {
        Ok(p) => p,
        Err(e) => {
            web_sys::console::warn_1(
                &format!("layerlab: {e}; kept it as {PROGRESS_KEY}.corrupt").into(),
            );
            let _ = s.set_item(&format!("{PROGRESS_KEY}.corrupt"), &json);
            Progress::default()
        }
    }
}

/// Saves progress.
pub fn save_progress(p: &Progress) {
    if let Some(s) = storage() {
        let _ = s.set_item(PROGRESS_KEY, &p.to_json());
    }
}

/// The chosen theme (`light` or `dark`), or `None` to follow the system.
pub fn load_theme() -> Option<String> {
    storage()?
        .get_item(THEME_KEY)
        .ok()?
        .filter(|t| t == "light" || t == "dark")
}

/// Remembers the theme and applies it to the page.
pub fn set_theme(theme: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(THEME_KEY, theme);
    }
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", theme);
    }
}

/// Whether the page is dark now (chosen, or the system's preference).
pub fn is_dark() -> bool {
    match load_theme().as_deref() {
        Some(t) => t == "dark",
        None => media_matches("(prefers-color-scheme: dark)"),
    }
}

/// Whether a media query matches.
pub fn media_matches(query: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.match_media(query).ok().flatten())
        .is_some_and(|m| m.matches())
}
