//! The layerlab course, embedded in the binary so it works offline.
//!
//! The files under `lessons/content/` are compiled in as text by `build.rs`
//! and parsed by [`layerlab_core::Course::load`] on first use.

use layerlab_core::{Catalog, Course, LoadedCourse, SourceFile};
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

/// Ids outside the lessons tree that lessons may reference.
pub fn catalog() -> Catalog {
    Catalog::default()
}

/// Parses and validates the embedded course (uncached).
pub fn load() -> LoadedCourse {
    Course::load(&files(), &catalog())
}

/// The embedded course, parsed once per process.
pub fn course() -> &'static Course {
    static COURSE: OnceLock<Course> = OnceLock::new();
    COURSE.get_or_init(|| load().course)
}
