//! The layerlab course, embedded in the binary so it works offline.
//!
//! The files under `lessons/content/` are compiled in as text by `build.rs`
//! and parsed by [`layerlab_core::Course::load`] on first use.

use layerlab_core::{Course, Journey, LoadedContent, SourceFile, load_content};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Every content file: (path relative to `content/`, text).
pub static FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/content.rs"));

/// The embedded content files as core's input type.
pub fn files() -> Vec<SourceFile<'static>> {
    FILES
        .iter()
        .map(|&(path, text)| SourceFile { path, text })
        .collect()
}

/// Lab ids that lessons may link to (labs live outside the lessons tree).
pub fn labs() -> BTreeSet<String> {
    BTreeSet::new()
}

/// Parses and validates the embedded course and journeys (uncached).
pub fn load() -> LoadedContent {
    load_content(&files(), &labs())
}

fn content() -> &'static LoadedContent {
    static CONTENT: OnceLock<LoadedContent> = OnceLock::new();
    CONTENT.get_or_init(load)
}

/// The embedded course, parsed once per process.
pub fn course() -> &'static Course {
    &content().course
}

/// The embedded packet journeys.
pub fn journeys() -> &'static [Journey] {
    &content().journeys
}
