//! The layerlab course, embedded in the binary so it works offline.
//!
//! The files under `lessons/content/` are compiled in twice by `build.rs`: as
//! text, for lint and tests that check the sources, and already parsed, for
//! the tutor and the server, which read it in well under a millisecond.

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

/// Ids of the labs in `labs/content/`, which lessons may link to (read
/// from the lab files at build time; the labs crate checks the files).
pub static LAB_IDS: &[&str] = include!(concat!(env!("OUT_DIR"), "/lab_ids.rs"));

/// Lab ids that lessons may link to.
pub fn labs() -> BTreeSet<String> {
    LAB_IDS.iter().map(|s| s.to_string()).collect()
}

/// Parses and validates the embedded course and journeys (uncached).
pub fn load() -> LoadedContent {
    load_content(&files(), &labs())
}

/// The course and journeys as parsed by `build.rs`.
static PREPARSED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/content.postcard"));

/// Reads the build-time parse of the embedded content (no markdown parsing).
pub fn load_preparsed() -> Option<(Course, Vec<Journey>)> {
    postcard::from_bytes(PREPARSED).ok()
}

/// What the binaries use: the pre-parsed content, or a full parse if that
/// could not be read (it always can when built by this crate's build script).
fn content() -> &'static (Course, Vec<Journey>) {
    static CONTENT: OnceLock<(Course, Vec<Journey>)> = OnceLock::new();
    CONTENT.get_or_init(|| {
        load_preparsed().unwrap_or_else(|| {
            let loaded = load();
            (loaded.course, loaded.journeys)
        })
    })
}

/// The embedded course, parsed once per process.
pub fn course() -> &'static Course {
    &content().0
}

/// The embedded packet journeys.
pub fn journeys() -> &'static [Journey] {
    &content().1
}
