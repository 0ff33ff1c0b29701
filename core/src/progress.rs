//! The learner's progress: lessons read, quiz scores, lab steps passed.
//!
//! Serialised as versioned JSON. Core has no clock (it must run in the
//! browser too), so every change takes the time as a [`Timestamp`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The progress format version this build writes.
pub const PROGRESS_VERSION: u32 = 1;

/// Seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

/// Everything a learner has done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Format version ([`PROGRESS_VERSION`]).
    pub version: u32,
    /// Per lesson id.
    #[serde(default)]
    pub lessons: BTreeMap<String, LessonProgress>,
    /// Per lab id.
    #[serde(default)]
    pub labs: BTreeMap<String, LabProgress>,
    /// The lesson the learner last opened, to resume there.
    #[serde(default)]
    pub last_lesson: Option<String>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            version: PROGRESS_VERSION,
            lessons: BTreeMap::new(),
            labs: BTreeMap::new(),
            last_lesson: None,
        }
    }
}

/// Progress in one lesson.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LessonProgress {
    /// When the learner first read it to the end (or marked it read).
    #[serde(default)]
    pub read_at: Option<Timestamp>,
    /// Quiz results, once attempted.
    #[serde(default)]
    pub quiz: Option<QuizRecord>,
}

/// Quiz results for one lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizRecord {
    /// Best number of right answers.
    pub best: u32,
    /// Right answers in the last attempt.
    pub last: u32,
    /// Number of questions.
    pub total: u32,
    /// How many times the quiz was submitted.
    pub attempts: u32,
    /// When it was last submitted.
    pub last_at: Timestamp,
}

/// Progress in one lab.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabProgress {
    /// Per step id: when it first passed.
    #[serde(default)]
    pub steps: BTreeMap<String, StepRecord>,
}

/// A passed lab step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// When its checks first all passed.
    pub passed_at: Timestamp,
    /// Check runs it took.
    pub attempts: u32,
}

/// Why saved progress could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// The JSON is damaged or not progress at all.
    #[error("progress file is not valid progress JSON: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// Written by a newer layerlab than this one.
    #[error(
        "progress was written by a newer layerlab (format {found}, this build reads up to {PROGRESS_VERSION}); upgrade layerlab"
    )]
    TooNew {
        /// The version found in the file.
        found: u32,
    },
}

impl Progress {
    /// Reads progress from JSON, accepting this and older format versions.
    pub fn from_json(json: &str) -> Result<Progress, ProgressError> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let Version { version } = serde_json::from_str(json)?;
        if version > PROGRESS_VERSION {
            return Err(ProgressError::TooNew { found: version });
        }
        let mut p: Progress = serde_json::from_str(json)?;
        p.version = PROGRESS_VERSION;
        Ok(p)
    }

    /// Writes progress as pretty, stable JSON (maps are sorted).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Marks a lesson read, keeping the first time it was read.
    pub fn mark_read(&mut self, lesson: &str, now: Timestamp) {
        self.lessons
            .entry(lesson.to_string())
            .or_default()
            .read_at
            .get_or_insert(now);
    }

    /// Remembers where the learner is.
    pub fn set_last_lesson(&mut self, lesson: &str) {
        self.last_lesson = Some(lesson.to_string());
    }

    /// Records a submitted quiz with `right` of `total` correct.
    pub fn record_quiz(&mut self, lesson: &str, right: u32, total: u32, now: Timestamp) {
        let entry = self.lessons.entry(lesson.to_string()).or_default();
        match &mut entry.quiz {
            Some(q) => {
                q.best = q.best.max(right);
                q.last = right;
                q.total = total;
                q.attempts += 1;
                q.last_at = now;
            }
            None => {
                entry.quiz = Some(QuizRecord {
                    best: right,
                    last: right,
                    total,
                    attempts: 1,
                    last_at: now,
                })
            }
        }
    }

    /// Records a check run of a lab step; the first pass is kept.
    pub fn record_step(&mut self, lab: &str, step: &str, passed: bool, now: Timestamp) {
        let lab = self.labs.entry(lab.to_string()).or_default();
        match lab.steps.get_mut(step) {
            Some(rec) => rec.attempts += 1,
            None if passed => {
                lab.steps.insert(
                    step.to_string(),
                    StepRecord {
                        passed_at: now,
                        attempts: 1,
                    },
                );
            }
            None => {}
        }
    }

    /// Whether a lab's step (1-based, as text) has passed once.
    pub fn step_passed(&self, lab: &str, step: &str) -> bool {
        self.labs
            .get(lab)
            .is_some_and(|l| l.steps.contains_key(step))
    }

    /// Whether a lesson has been read.
    pub fn is_read(&self, lesson: &str) -> bool {
        self.lessons
            .get(lesson)
            .is_some_and(|l| l.read_at.is_some())
    }

    /// The quiz record of a lesson.
    pub fn quiz(&self, lesson: &str) -> Option<&QuizRecord> {
        self.lessons.get(lesson).and_then(|l| l.quiz.as_ref())
    }

    /// Folds in progress kept elsewhere (another browser, the server's copy
    /// for this learner): the union of what either has done, firsts kept
    /// earliest and bests kept highest. Merging the same progress twice
    /// changes nothing, so copies can be merged in any order, any number of
    /// times.
    pub fn merge(&mut self, other: &Progress) {
        for (id, theirs) in &other.lessons {
            let mine = self.lessons.entry(id.clone()).or_default();
            mine.read_at = match (mine.read_at, theirs.read_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            mine.quiz = match (mine.quiz.take(), &theirs.quiz) {
                (Some(a), Some(b)) => {
                    // The later attempt says what "last" was.
                    let later = if b.last_at > a.last_at { b } else { &a };
                    Some(QuizRecord {
                        best: a.best.max(b.best),
                        last: later.last,
                        total: later.total,
                        attempts: a.attempts.max(b.attempts),
                        last_at: a.last_at.max(b.last_at),
                    })
                }
                (a, b) => a.or_else(|| b.clone()),
            };
        }
        for (id, theirs) in &other.labs {
            let mine = self.labs.entry(id.clone()).or_default();
            for (step, b) in &theirs.steps {
                mine.steps
                    .entry(step.clone())
                    .and_modify(|a| {
                        a.passed_at = a.passed_at.min(b.passed_at);
                        a.attempts = a.attempts.max(b.attempts);
                    })
                    .or_insert_with(|| b.clone());
            }
        }
        if self.last_lesson.is_none() {
            self.last_lesson.clone_from(&other.last_lesson);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_the_union_and_idempotent() {
        let mut laptop = Progress::default();
        laptop.mark_read("tcp", Timestamp(20));
        laptop.record_quiz("tcp", 3, 7, Timestamp(21));
        laptop.record_step("handshake", "1", true, Timestamp(30));
        let mut tablet = Progress::default();
        tablet.mark_read("tcp", Timestamp(10));
        tablet.mark_read("osi", Timestamp(11));
        tablet.record_quiz("tcp", 6, 7, Timestamp(12));
        tablet.record_quiz("tcp", 2, 7, Timestamp(40));
        tablet.record_step("handshake", "2", true, Timestamp(41));
        tablet.set_last_lesson("osi");

        let mut merged = laptop.clone();
        merged.merge(&tablet);
        assert_eq!(merged.lessons["tcp"].read_at, Some(Timestamp(10)));
        assert!(merged.is_read("osi"));
        let q = merged.quiz("tcp").unwrap();
        assert_eq!(
            (q.best, q.last, q.attempts, q.last_at),
            (6, 2, 2, Timestamp(40))
        );
        assert!(merged.step_passed("handshake", "1") && merged.step_passed("handshake", "2"));
        assert_eq!(merged.last_lesson.as_deref(), Some("osi"));

        // Again, and the other way round: nothing more changes.
        let once = merged.clone();
        merged.merge(&tablet);
        merged.merge(&laptop);
        assert_eq!(merged, once);
        let mut other_way = tablet.clone();
        other_way.merge(&laptop);
        assert_eq!(other_way.lessons, once.lessons);
        assert_eq!(other_way.labs, once.labs);
    }

    #[test]
    fn round_trips_through_versioned_json() {
        let mut p = Progress::default();
        p.mark_read("tcp", Timestamp(10));
        p.mark_read("tcp", Timestamp(20));
        p.record_quiz("tcp", 3, 6, Timestamp(30));
        p.record_quiz("tcp", 2, 6, Timestamp(40));
        p.record_step("handshake", "capture", false, Timestamp(50));
        p.record_step("handshake", "capture", true, Timestamp(60));
        p.set_last_lesson("tcp");
        let json = p.to_json();
        assert!(json.contains("\"version\": 1"));
        let back = Progress::from_json(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.lessons["tcp"].read_at, Some(Timestamp(10)));
        let q = back.quiz("tcp").unwrap();
        assert_eq!(
            (q.best, q.last, q.attempts, q.last_at),
            (3, 2, 2, Timestamp(40))
        );
        assert_eq!(
            back.labs["handshake"].steps["capture"].passed_at,
            Timestamp(60)
        );
    }

    #[test]
    fn rejects_newer_versions_and_garbage() {
        assert!(matches!(
            Progress::from_json(r#"{"version": 99}"#),
            Err(ProgressError::TooNew { found: 99 })
        ));
        assert!(matches!(
            Progress::from_json("{\"version\": 1, \"lessons\": ["),
            Err(ProgressError::Corrupt(_))
        ));
        assert!(
            Progress::from_json(r#"{"version": 1}"#)
                .unwrap()
                .lessons
                .is_empty()
        );
    }
}
