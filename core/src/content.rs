//! The whole lessons tree: course, glossary and journeys, checked together.

use crate::course::{Catalog, Course, SourceFile};
use crate::diag::{Diagnostic, Severity};
use crate::journey::{Journey, load_journey};
use std::collections::BTreeSet;

/// Folder of the lessons tree that holds journey files (`journeys/*.toml`).
pub const JOURNEYS_DIR: &str = "journeys/";

/// Everything loaded from a lessons tree.
#[derive(Debug, Clone, Default)]
pub struct LoadedContent {
    /// The course (broken lessons left out).
    pub course: Course,
    /// The journeys that built cleanly, in file order.
    pub journeys: Vec<Journey>,
    /// Every problem, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedContent {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// A journey by id.
    pub fn journey(&self, id: &str) -> Option<&Journey> {
        self.journeys.iter().find(|j| j.id == id)
    }
}

/// Loads journeys first, so lessons can be checked against them, then the course.
/// `labs` are the lab ids that exist (they live outside the lessons tree).
pub fn load_content(files: &[SourceFile<'_>], labs: &BTreeSet<String>) -> LoadedContent {
    let mut diagnostics = Vec::new();
    let mut journeys: Vec<Journey> = Vec::new();
    let mut ids = BTreeSet::new();
    for f in files.iter().filter(|f| f.path.starts_with(JOURNEYS_DIR)) {
        if !f.path.ends_with(".toml") {
            continue;
        }
        // A journey with errors is still a known id: its lessons' links are not the problem.
        let id = f
            .text
            .lines()
            .find_map(|l| l.strip_prefix("id = "))
            .map(|v| v.trim().trim_matches('"').to_string());
        if let Some(id) = &id
            && !ids.insert(id.clone())
        {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                file: f.path.to_string(),
                line: 1,
                col: 1,
                message: format!("duplicate journey id `{id}`"),
                help: Some("journey ids must be unique".into()),
            });
            continue;
        }
        if let Some(j) = load_journey(f.path, f.text, &mut diagnostics) {
            journeys.push(j);
        }
    }
    let catalog = Catalog {
        labs: labs.clone(),
        journeys: ids,
    };
    let loaded = Course::load(files, &catalog);
    diagnostics.extend(loaded.diagnostics);
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    LoadedContent {
        course: loaded.course,
        journeys,
        diagnostics,
    }
}
