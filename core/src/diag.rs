//! Diagnostics: what an author got wrong, where, and how to fix it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Content is shown, but falls short of the course's standards.
    Warning,
    /// Content is broken: it cannot be shown or graded correctly.
    Error,
}

/// One problem found in a content file, with a 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Path of the file, relative to the content root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we can say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Whether this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.col, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Maps byte offsets of one file to 1-based line and column.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The 1-based (line, column) of a byte offset; offsets past the end clamp.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// Collects diagnostics for one file, turning offsets into positions.
pub(crate) struct FileDiags<'a> {
    pub(crate) file: &'a str,
    text: &'a str,
    /// Built on the first diagnostic: clean files never pay for it.
    index: Option<LineIndex<'a>>,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

impl<'a> FileDiags<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str, out: &'a mut Vec<Diagnostic>) -> Self {
        FileDiags {
            file,
            text,
            index: None,
            out,
        }
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        offset: usize,
        message: impl Into<String>,
        help: Option<&str>,
    ) {
        let text = self.text;
        let (line, col) = self
            .index
            .get_or_insert_with(|| LineIndex::new(text))
            .position(offset);
        self.out.push(Diagnostic {
            severity,
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
            help: help.map(str::to_string),
        });
    }

    pub(crate) fn error(&mut self, offset: usize, message: impl Into<String>, help: Option<&str>) {
        self.push(Severity::Error, offset, message, help);
    }

    pub(crate) fn warning(
        &mut self,
        offset: usize,
        message: impl Into<String>,
        help: Option<&str>,
    ) {
        self.push(Severity::Warning, offset, message, help);
    }

    /// Reports a TOML error from a document that starts at `base` in this file.
    pub(crate) fn toml_error(
        &mut self,
        base: usize,
        what: &str,
        err: &toml::de::Error,
        help: Option<&str>,
    ) {
        let offset = base + err.span().map_or(0, |s| s.start);
        let msg = err.message().trim().to_string();
        self.error(offset, format!("{what}: {msg}"), help);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let idx = LineIndex::new("ab\nçd\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(3), (2, 1));
        // 'ç' is two bytes but one column.
        assert_eq!(idx.position(5), (2, 2));
        assert_eq!(idx.position(999), (3, 1));
    }
}
