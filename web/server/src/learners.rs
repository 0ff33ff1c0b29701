//! Learner sessions (`layerlab serve --learners DIR`): each learner's
//! progress kept by the server as `DIR/<name>.json` (the tutor's progress
//! format), merged with what their browser holds, so a workshop's learners
//! resume on any machine and the instructor finds everyone's progress in one
//! folder.

use crate::error::{ApiError, shorten};
use axum::http::StatusCode;
use layerlab_core::progress::Progress;
use layerlab_labs::store::{ProgressStore, StoreError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The folder of learners' progress files.
#[derive(Debug)]
pub struct Learners {
    dir: PathBuf,
    /// One read-merge-write at a time, so two tabs cannot drop each other's work.
    write: tokio::sync::Mutex<()>,
}

/// One learner in `GET /api/learners`.
#[derive(Debug, Serialize)]
pub struct LearnerSummary {
    /// The learner's name.
    pub name: String,
    /// Lessons read.
    pub lessons_read: usize,
    /// Quizzes submitted at least once.
    pub quizzes_taken: usize,
    /// Lab steps passed, over all labs.
    pub lab_steps_passed: usize,
}

impl Learners {
    /// Keeps progress in `dir` (created on first use).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            write: tokio::sync::Mutex::new(()),
        }
    }

    fn file(&self, name: &str) -> Result<PathBuf, ApiError> {
        let ok = (1..=64).contains(&name.len())
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !ok {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "{:?} is not a learner name: use 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.')",
                    shorten(name)
                ),
            ));
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// A learner's progress on this server (empty for a new learner).
    pub async fn progress(&self, name: &str) -> Result<Progress, ApiError> {
        let file = self.file(name)?;
        read(&file).await
    }

    /// Merges `incoming` into the learner's stored progress and answers
    /// the result, which the browser adopts.
    pub async fn sync(&self, name: &str, incoming: &Progress) -> Result<Progress, ApiError> {
        let file = self.file(name)?;
        let _one_at_a_time = self.write.lock().await;
        let mut stored = read(&file).await?;
        let before = stored.clone();
        stored.merge(incoming);
        if stored != before || !file.exists() {
            write(&file, stored.clone()).await?;
        }
        Ok(stored)
    }

    /// Everyone with progress here, by name.
    pub async fn list(&self) -> Result<Vec<LearnerSummary>, ApiError> {
        let mut out = Vec::new();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(storage_error(&self.dir, e)),
        };
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| storage_error(&self.dir, e))?
        {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if self.file(name).is_err() {
                continue;
            }
            let p = read(&path).await?;
            out.push(LearnerSummary {
                name: name.to_string(),
                lessons_read: p.lessons.values().filter(|l| l.read_at.is_some()).count(),
                quizzes_taken: p.lessons.values().filter(|l| l.quiz.is_some()).count(),
                lab_steps_passed: p.labs.values().map(|l| l.steps.len()).sum(),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

fn storage_error(path: &Path, e: std::io::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("learner progress at {}: {e}", path.display()),
    )
}

/// A learner's file, strictly: a damaged one is a 500 naming it, and is
/// never overwritten (the instructor repairs or removes it).
async fn read(file: &Path) -> Result<Progress, ApiError> {
    let store = ProgressStore::at(file);
    blocking(move || store.read()).await
}

/// Saves through the one progress store (temp file, fsync, rename, fsync of
/// the folder), so what the server acknowledged survives a crash.
async fn write(file: &Path, progress: Progress) -> Result<(), ApiError> {
    let store = ProgressStore::at(file);
    blocking(move || store.save(&progress)).await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let internal = |m: String| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m);
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| internal(format!("learner progress: {e}")))?
        .map_err(|e| internal(format!("learner progress at {e}")))
}
