//! The workshop's gradebook: every stored thing a workshop grades from —
//! the roster, every check run with its full evidence, quiz answers,
//! lessons read — in one SQLite file (`DATA/workshop.db`).
//!
//! All SQL lives in this module; callers see domain types ([`Member`],
//! [`StepResult`], [`AttemptRecord`], [`ClassReport`]) so another backend
//! (Postgres, for several replicas) can take its place behind the same API.
//!
//! Durability: WAL with `synchronous=FULL`, so a call that returned `Ok`
//! is on disk (kill -9 or power loss keep it). A damaged file, a file
//! from a newer layerlab or a locked one is refused with an error naming
//! the file; it is never rewritten or "repaired".
//!
//! Calls block (a few ms: one fsync per write); from async code run them
//! in `spawn_blocking`. Two connections, each behind a mutex, serve every
//! thread: one for writes (SQLite has one writer anyway), one for reads,
//! so a dashboard's reads never wait on a write's fsync; a third, on its
//! own thread, checkpoints the WAL into the file every 500 ms, so no
//! writer pays for a checkpoint.

mod schema;

pub use schema::SCHEMA_VERSION;

use crate::workshop::Member;
use layerlab_core::lab::{ClassReport, Lab, QuizResults, StepHistory, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags, params};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::Duration;

/// The gradebook's file name inside a workshop's data folder.
pub const FILE_NAME: &str = "workshop.db";

/// How long a call waits for another process's lock before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the gradebook could not do what was asked. Every variant names the
/// file.
#[derive(Debug, thiserror::Error)]
pub enum GradebookError {
    /// There is no gradebook at that path (and creating one was not asked).
    #[error("no gradebook at {path} (a workshop server creates it in its --data folder)")]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a gradebook SQLite can read: garbage, truncated or
    /// corrupt. It was left untouched.
    #[error(
        "{path} is damaged: {cause}; it was left as it is (restore a backup, or move it aside to start empty)"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What SQLite or the header check found.
        cause: String,
    },
    /// Another process holds a lock on it for longer than the busy timeout.
    #[error("{path} is locked by another process (another server on the same --data?): {cause}")]
    Locked {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        cause: String,
    },
    /// Written by a newer layerlab: its schema is beyond this build's.
    #[error(
        "{path} was written by a newer layerlab (schema version {found}, this one knows up to {supported}); it was left as it is: run that version or a newer one"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: u32,
        /// This build's [`SCHEMA_VERSION`].
        supported: u32,
    },
    /// An SQLite database, but someone else's (tables and no gradebook
    /// schema version). It was left untouched.
    #[error(
        "{path} is an SQLite database but not a layerlab gradebook (it has tables {tables} and no schema version); it was left as it is"
    )]
    NotAGradebook {
        /// The file.
        path: PathBuf,
        /// Its tables, comma-separated.
        tables: String,
    },
    /// A learner who is not on the roster.
    #[error("{path}: no learner `{learner}` on the roster")]
    UnknownLearner {
        /// The file.
        path: PathBuf,
        /// The id asked for.
        learner: String,
    },
    /// The backup target exists already (a backup never overwrites).
    #[error("backup target {path} exists already; choose a new file")]
    BackupExists {
        /// The target.
        path: PathBuf,
    },
    /// Any other failure reading or writing it (I/O, disk full, a stored
    /// value that does not read back).
    #[error("gradebook {path}: {cause}")]
    Storage {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: String,
    },
}

/// How to open a gradebook.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the file if it does not exist (the server); `false` for tools
    /// that read an existing one (exports, backups).
    pub create: bool,
    /// How long to wait for another process's lock.
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            create: true,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// One recorded check run of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// 1-based attempt number for this learner, lab and step.
    pub attempt: u32,
    /// The step's result, as the server decided it (checks, messages,
    /// expected vs observed, evidence, timing).
    pub result: StepResult,
    /// A capture's one-line-per-packet summary, where a check captured.
    pub capture_summary: Option<String>,
}

/// One graded quiz answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizAnswer {
    /// Learner id.
    pub learner: String,
    /// Lesson id.
    pub lesson: String,
    /// 0-based question index in the lesson's quiz.
    pub question: u32,
    /// The answer as the learner gave it (the caller's encoding, e.g. JSON).
    pub answer: String,
    /// Points given by the server's grading (`Question::grade`).
    pub score: u32,
    /// When (ms since the Unix epoch).
    pub at_ms: u64,
}

/// The workshop's storage. Cheap to share (`Arc<Gradebook>`); every method
/// takes `&self`.
#[derive(Debug)]
pub struct Gradebook {
    path: PathBuf,
    busy_timeout: Duration,
    /// The one writer: every write is one statement or transaction on it.
    conn: Mutex<Connection>,
    /// Reads on their own connection: under WAL they see the last commit
    /// and neither wait for a write's fsync nor hold one up.
    reader: Mutex<Connection>,
    /// Moves the WAL into the database file off the writers' path (a
    /// checkpoint inside a commit would add its fsyncs to that call); held
    /// for its `Drop`, which stops it.
    _checkpointer: Checkpointer,
    /// What was just written, for live views (the instructor's dashboard).
    /// Sent only after the write succeeded; a receiver that falls behind
    /// loses the oldest events (and is told so), never slows a writer.
    events: tokio::sync::broadcast::Sender<ClassEvent>,
}

/// How many events a slow live view may fall behind before it must resync.
const EVENT_BACKLOG: usize = 1024;

/// Something just recorded in the gradebook, as live views hear it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ClassEvent {
    /// A learner's check run of one step.
    Check {
        /// Learner id.
        learner: String,
        /// Lab id.
        lab: String,
        /// 1-based step number.
        step: usize,
        /// Whether it passed.
        passed: bool,
        /// 1-based attempt number of that step.
        attempt: u32,
        /// When it was checked (ms since the Unix epoch).
        at_ms: u64,
    },
    /// A learner's quiz answer, graded by the server.
    Quiz {
        /// Learner id.
        learner: String,
        /// Lesson id.
        lesson: String,
        /// 0-based question index.
        question: u32,
        /// Whether the answer was right.
        right: bool,
    },
    /// A learner joined.
    Join {
        /// Learner id.
        id: String,
        /// Display name.
        name: String,
        /// When (unix seconds).
        joined: u64,
    },
}

/// A hint the instructor revealed to one learner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hint {
    /// Lab id.
    pub lab: String,
    /// 1-based step, if the hint is about one.
    pub step: Option<usize>,
    /// The hint's text.
    pub text: String,
    /// When it was revealed (ms since the Unix epoch).
    pub at_ms: u64,
}

impl Gradebook {
    /// The gradebook's path in a workshop data folder.
    pub fn in_data_dir(data: &Path) -> PathBuf {
        data.join(FILE_NAME)
    }

    /// Opens the gradebook at `path`, creating it if missing, and brings
    /// its schema up to date.
    pub fn open(path: &Path) -> Result<Gradebook, GradebookError> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Opens an existing gradebook (exports, backups): a missing file is
    /// [`GradebookError::NotFound`], never created.
    pub fn open_existing(path: &Path) -> Result<Gradebook, GradebookError> {
        Self::open_with(
            path,
            &OpenOptions {
                create: false,
                ..OpenOptions::default()
            },
        )
    }

    /// Opens with explicit options.
    pub fn open_with(path: &Path, opts: &OpenOptions) -> Result<Gradebook, GradebookError> {
        let existed = check_header(path, opts.create)?;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if opts.create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let fail = |e| classify(path, e);
        let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.busy_timeout(opts.busy_timeout).map_err(fail)?;
        let version = user_version(&conn).map_err(fail)?;
        if version > SCHEMA_VERSION {
            return Err(GradebookError::TooNew {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if existed {
            // Reads every page's structure (not the rows' contents): a
            // truncated or scribbled file is found here, before anything
            // is written to it.
            let problems: Vec<String> = conn
                .prepare("PRAGMA quick_check(5)")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(fail)?;
            if problems.first().map(String::as_str) != Some("ok") {
                return Err(GradebookError::Damaged {
                    path: path.to_owned(),
                    cause: format!("integrity check: {}", problems.join("; ")),
                });
            }
        }
        if version == 0
            && let Some(tables) = foreign_tables(&conn).map_err(fail)?
        {
            return Err(GradebookError::NotAGradebook {
                path: path.to_owned(),
                tables,
            });
        }
        // The first write: the file is known to be ours from here on.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(GradebookError::Storage {
                path: path.to_owned(),
                cause: format!("cannot switch to WAL mode (still `{mode}`)"),
            });
        }
        // FULL: a commit returns once the WAL is fsynced; foreign keys keep
        // results tied to a learner on the roster.
        // wal_autocheckpoint = 0: the checkpointer thread does it instead.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(fail)?;
        migrate(&mut conn).map_err(|e| match e {
            Migrate::Sql(e) => classify(path, e),
            Migrate::TooNew(found) => GradebookError::TooNew {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            },
            Migrate::Foreign(tables) => GradebookError::NotAGradebook {
                path: path.to_owned(),
                tables,
            },
        })?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        reader.busy_timeout(opts.busy_timeout).map_err(fail)?;
        reader
            .execute_batch("PRAGMA query_only = ON;")
            .map_err(fail)?;
        Ok(Gradebook {
            path: path.to_owned(),
            busy_timeout: opts.busy_timeout,
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            _checkpointer: Checkpointer::start(path, opts.busy_timeout).map_err(fail)?,
            events: tokio::sync::broadcast::channel(EVENT_BACKLOG).0,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves the connection
        // usable: every write is a single statement or transaction.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fail(&self, e: rusqlite::Error) -> GradebookError {
        classify(&self.path, e)
    }

    /// Adds a learner to the roster; `false` if that id is there already
    /// (the stored name and join time are kept).
    pub fn add_member(&self, member: &Member) -> Result<bool, GradebookError> {
        let n = self
            .conn()
            .prepare_cached(
                "INSERT INTO members (id, name, joined) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![member.id, member.name, member.joined as i64]))
            .map_err(|e| self.fail(e))?;
        if n == 1 {
            // No receiver is fine: nobody is watching.
            let _ = self.events.send(ClassEvent::Join {
                id: member.id.clone(),
                name: member.name.clone(),
                joined: member.joined,
            });
        }
        Ok(n == 1)
    }

    /// Live events of what is recorded from now on (joins, check runs).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ClassEvent> {
        self.events.subscribe()
    }

    /// Keeps a hint the instructor revealed to `learner`.
    pub fn add_hint(&self, learner: &str, hint: &Hint) -> Result<(), GradebookError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO hints (learner, lab, step, text, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    learner,
                    hint.lab,
                    hint.step.map(|n| n as i64),
                    hint.text,
                    hint.at_ms as i64
                ])
            })
            .map_err(|e| self.unknown_learner(e, learner))?;
        Ok(())
    }

    /// The hints revealed to `learner`, oldest first.
    pub fn hints(&self, learner: &str) -> Result<Vec<Hint>, GradebookError> {
        self.reader()
            .prepare_cached(
                "SELECT lab, step, text, at FROM hints WHERE learner = ?1 ORDER BY at, rowid",
            )
            .and_then(|mut s| {
                s.query_map(params![learner], |r| {
                    Ok(Hint {
                        lab: r.get(0)?,
                        step: r.get::<_, Option<i64>>(1)?.map(|n| n as usize),
                        text: r.get(2)?,
                        at_ms: r.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.fail(e))
    }

    /// The roster, in joining order.
    pub fn members(&self) -> Result<Vec<Member>, GradebookError> {
        self.reader()
            .prepare_cached("SELECT id, name, joined FROM members ORDER BY joined, id")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(Member {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        joined: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.fail(e))
    }

    /// Records one check run of step `result.step` of `lab` for `learner`,
    /// with its full result and a capture's summary where there is one.
    /// Returns the attempt number (1 for the first run of that step). Once
    /// this returns, the record is on disk.
    pub fn record_check(
        &self,
        learner: &str,
        lab: &str,
        result: &StepResult,
        capture_summary: Option<&str>,
    ) -> Result<u32, GradebookError> {
        let json = serde_json::to_string(result).map_err(|e| GradebookError::Storage {
            path: self.path.clone(),
            cause: format!("cannot encode a step result: {e}"),
        })?;
        // One statement, so one implicit transaction: the attempt number is
        // decided and written atomically.
        let attempt: i64 = self
            .conn()
            .prepare_cached(
                "INSERT INTO check_attempts
                    (learner, lab, step, attempt, passed, checked_at, result, capture_summary)
                 SELECT ?1, ?2, ?3, COALESCE(MAX(attempt), 0) + 1, ?4, ?5, ?6, ?7
                   FROM check_attempts WHERE learner = ?1 AND lab = ?2 AND step = ?3
                 RETURNING attempt",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        learner,
                        lab,
                        result.step as i64,
                        result.passed,
                        result.checked_at_ms as i64,
                        json,
                        capture_summary
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(|e| self.unknown_learner(e, learner))?;
        let _ = self.events.send(ClassEvent::Check {
            learner: learner.to_owned(),
            lab: lab.to_owned(),
            step: result.step,
            passed: result.passed,
            attempt: attempt as u32,
            at_ms: result.checked_at_ms,
        });
        Ok(attempt as u32)
    }

    /// The latest result of every step of `lab` that `learner` has checked,
    /// by step number (what [`LabReport::of`](layerlab_core::lab::LabReport::of) takes).
    pub fn latest_results(
        &self,
        learner: &str,
        lab: &str,
    ) -> Result<BTreeMap<usize, StepResult>, GradebookError> {
        // With a single MAX(), SQLite takes the other columns from that row.
        let rows: Vec<(i64, i64, String)> = self
            .reader()
            .prepare_cached(
                "SELECT step, MAX(attempt), result FROM check_attempts
                 WHERE learner = ?1 AND lab = ?2 GROUP BY step",
            )
            .and_then(|mut s| {
                s.query_map(params![learner, lab], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
            })
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|(step, attempt, json)| {
                let r = self.decode(learner, lab, step, attempt, &json)?;
                Ok((step as usize, r))
            })
            .collect()
    }

    /// Every recorded run of one step, oldest first.
    pub fn attempts(
        &self,
        learner: &str,
        lab: &str,
        step: usize,
    ) -> Result<Vec<AttemptRecord>, GradebookError> {
        let rows: Vec<(i64, String, Option<String>)> = self
            .reader()
            .prepare_cached(
                "SELECT attempt, result, capture_summary FROM check_attempts
                 WHERE learner = ?1 AND lab = ?2 AND step = ?3 ORDER BY attempt",
            )
            .and_then(|mut s| {
                s.query_map(params![learner, lab, step as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
            })
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|(attempt, json, capture_summary)| {
                Ok(AttemptRecord {
                    attempt: attempt as u32,
                    result: self.decode(learner, lab, step as i64, attempt, &json)?,
                    capture_summary,
                })
            })
            .collect()
    }

    /// The ids of the labs anyone has checked, sorted.
    pub fn labs_checked(&self) -> Result<Vec<String>, GradebookError> {
        self.reader()
            .prepare_cached("SELECT DISTINCT lab FROM check_attempts ORDER BY lab")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.fail(e))
    }

    /// Records a graded quiz answer (every answer is kept, in order).
    pub fn record_quiz(&self, answer: &QuizAnswer) -> Result<(), GradebookError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO quiz_answers (learner, lesson, question, answer, score, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    answer.learner,
                    answer.lesson,
                    answer.question,
                    answer.answer,
                    answer.score,
                    answer.at_ms as i64
                ])
            })
            .map_err(|e| self.unknown_learner(e, &answer.learner))?;
        let _ = self.events.send(ClassEvent::Quiz {
            learner: answer.learner.clone(),
            lesson: answer.lesson.clone(),
            question: answer.question,
            right: answer.score > 0,
        });
        Ok(())
    }

    /// A learner's quiz answers, oldest first.
    pub fn quiz_answers(&self, learner: &str) -> Result<Vec<QuizAnswer>, GradebookError> {
        self.reader()
            .prepare_cached(
                "SELECT lesson, question, answer, score, at FROM quiz_answers
                 WHERE learner = ?1 ORDER BY at, rowid",
            )
            .and_then(|mut s| {
                s.query_map([learner], |r| {
                    Ok(QuizAnswer {
                        learner: learner.to_owned(),
                        lesson: r.get(0)?,
                        question: r.get(1)?,
                        answer: r.get(2)?,
                        score: r.get(3)?,
                        at_ms: r.get::<_, i64>(4)? as u64,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.fail(e))
    }

    /// Records that `learner` read `lesson` at `at_ms`; the first reading
    /// is kept (`false`: it was read before).
    pub fn record_read(
        &self,
        learner: &str,
        lesson: &str,
        at_ms: u64,
    ) -> Result<bool, GradebookError> {
        let n = self
            .conn()
            .prepare_cached(
                "INSERT INTO lesson_reads (learner, lesson, read_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (learner, lesson) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![learner, lesson, at_ms as i64]))
            .map_err(|e| self.unknown_learner(e, learner))?;
        Ok(n == 1)
    }

    /// The lessons a learner has read, with when (ms), by lesson id.
    pub fn lesson_reads(&self, learner: &str) -> Result<BTreeMap<String, u64>, GradebookError> {
        self.reader()
            .prepare_cached("SELECT lesson, read_at FROM lesson_reads WHERE learner = ?1")
            .and_then(|mut s| {
                s.query_map([learner], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
                    .collect()
            })
            .map_err(|e| self.fail(e))
    }

    /// The class's results on `labs`: every learner on the roster × every
    /// step, with the latest result and the attempt counts.
    pub fn class_report(&self, labs: &[Lab]) -> Result<ClassReport, GradebookError> {
        let members = self.members()?;
        type Row = (String, String, i64, i64, i64, i64, i64, String);
        let rows: Vec<Row> = self
            .reader()
            .prepare_cached(
                "SELECT a.learner, a.lab, a.step, s.n, s.first, s.last, a.attempt, a.result
                 FROM (SELECT learner, lab, step, COUNT(*) AS n, MIN(checked_at) AS first,
                              MAX(checked_at) AS last, MAX(attempt) AS latest
                         FROM check_attempts GROUP BY learner, lab, step) AS s
                 JOIN check_attempts AS a
                   ON a.learner = s.learner AND a.lab = s.lab AND a.step = s.step
                  AND a.attempt = s.latest",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                })?
                .collect()
            })
            .map_err(|e| self.fail(e))?;
        let mut history: HashMap<(String, String, usize), StepHistory> = HashMap::new();
        for (learner, lab, step, n, first, last, attempt, json) in rows {
            let latest = self.decode(&learner, &lab, step, attempt, &json)?;
            history.insert(
                (learner, lab, step as usize),
                StepHistory {
                    attempts: n as u32,
                    first_checked_ms: first as u64,
                    last_checked_ms: last as u64,
                    latest,
                },
            );
        }
        let mut report = ClassReport::build(
            labs,
            members.into_iter().map(|m| (m.id, m.name)),
            |learner, lab, step| history.remove(&(learner.to_owned(), lab.to_owned(), step)),
        );
        let mut quizzes = self.quiz_results()?;
        let mut reads = self.read_counts()?;
        for l in &mut report.learners {
            l.quizzes = quizzes.remove(&l.id).unwrap_or_default();
            l.lessons_read = reads.remove(&l.id).unwrap_or_default();
        }
        Ok(report)
    }

    /// Every learner's quiz results, by learner id, lessons by id: a
    /// question counts as right when its latest answer was.
    fn quiz_results(&self) -> Result<HashMap<String, Vec<QuizResults>>, GradebookError> {
        let rows: Vec<(String, String, i64, i64)> = self
            .reader()
            .prepare_cached(
                "SELECT learner, lesson, question, score FROM quiz_answers ORDER BY rowid",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect()
            })
            .map_err(|e| self.fail(e))?;
        // learner → lesson → (answers sent, question → latest score)
        type Answers = (u32, BTreeMap<i64, i64>);
        let mut by: HashMap<String, BTreeMap<String, Answers>> = HashMap::new();
        for (learner, lesson, question, score) in rows {
            let (sent, latest) = by.entry(learner).or_default().entry(lesson).or_default();
            *sent += 1;
            latest.insert(question, score);
        }
        Ok(by
            .into_iter()
            .map(|(learner, lessons)| {
                let results = lessons
                    .into_iter()
                    .map(|(lesson, (answers, latest))| QuizResults {
                        lesson,
                        answered: latest.len() as u32,
                        right: latest.values().filter(|&&s| s > 0).count() as u32,
                        answers,
                    })
                    .collect();
                (learner, results)
            })
            .collect())
    }

    /// How many lessons each learner has read, by learner id.
    fn read_counts(&self) -> Result<HashMap<String, u32>, GradebookError> {
        self.reader()
            .prepare_cached("SELECT learner, COUNT(*) FROM lesson_reads GROUP BY learner")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u32)))?
                    .collect()
            })
            .map_err(|e| self.fail(e))
    }

    /// Writes a consistent copy of the gradebook to `to` (which must not
    /// exist), while the server keeps writing: `VACUUM INTO` on a second
    /// connection reads one snapshot; the copy is fsynced and only then
    /// given its name.
    pub fn backup(&self, to: &Path) -> Result<(), GradebookError> {
        if to.exists() {
            return Err(GradebookError::BackupExists {
                path: to.to_owned(),
            });
        }
        let storage = |cause: String| GradebookError::Storage {
            path: to.to_owned(),
            cause,
        };
        let name = to
            .file_name()
            .ok_or_else(|| storage("not a file name".into()))?;
        let mut partial_name = name.to_owned();
        partial_name.push(".partial");
        let partial = to.with_file_name(partial_name);
        // A leftover from an interrupted backup is ours to replace.
        let _ = std::fs::remove_file(&partial);
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| self.fail(e))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(|e| self.fail(e))?;
        let target = partial
            .to_str()
            .ok_or_else(|| storage("the path is not UTF-8".into()))?;
        conn.execute("VACUUM INTO ?1", [target])
            .map_err(|e| storage(format!("cannot write the backup: {e}")))?;
        let io = |what: &str, e: std::io::Error| storage(format!("{what}: {e}"));
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("cannot sync the backup", e))?;
        // A hard link never replaces an existing file (unlike rename).
        std::fs::hard_link(&partial, to).map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                GradebookError::BackupExists {
                    path: to.to_owned(),
                }
            } else {
                io("cannot name the backup", e)
            }
        })?;
        let _ = std::fs::remove_file(&partial);
        let dir = to.parent().filter(|p| !p.as_os_str().is_empty());
        std::fs::File::open(dir.unwrap_or(Path::new(".")))
            .and_then(|d| d.sync_all())
            .map_err(|e| io("cannot sync the backup's folder", e))?;
        Ok(())
    }

    fn decode(
        &self,
        learner: &str,
        lab: &str,
        step: i64,
        attempt: i64,
        json: &str,
    ) -> Result<StepResult, GradebookError> {
        serde_json::from_str(json).map_err(|e| GradebookError::Storage {
            path: self.path.clone(),
            cause: format!(
                "stored result of `{learner}`, lab `{lab}`, step {step}, attempt {attempt} does not read back: {e}"
            ),
        })
    }

    fn unknown_learner(&self, e: rusqlite::Error, learner: &str) -> GradebookError {
        match e.sqlite_error() {
            Some(f) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                GradebookError::UnknownLearner {
                    path: self.path.clone(),
                    learner: learner.to_owned(),
                }
            }
            _ => self.fail(e),
        }
    }
}

/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A thread with its own connection running `PRAGMA wal_checkpoint(PASSIVE)`
/// (which never blocks writers or readers) every [`CHECKPOINT_EVERY`]; it
/// stops when the gradebook is dropped.
#[derive(Debug)]
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        let (stop, stopped) = mpsc::channel::<()>();
        let file = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("gradebook-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        // The WAL keeps every commit; it only grows until
                        // the next checkpoint works.
                        tracing::warn!(file, error = %e, "gradebook checkpoint failed");
                    }
                }
            })
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Checks an existing file starts like an SQLite database before SQLite
/// touches it (so garbage is refused, never initialised over). Returns
/// whether the file has content.
fn check_header(path: &Path, create: bool) -> Result<bool, GradebookError> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if create {
                Ok(false)
            } else {
                Err(GradebookError::NotFound {
                    path: path.to_owned(),
                })
            };
        }
        Err(e) => {
            return Err(GradebookError::Storage {
                path: path.to_owned(),
                cause: format!("cannot read it: {e}"),
            });
        }
    };
    let mut head = Vec::with_capacity(100);
    file.by_ref()
        .take(100)
        .read_to_end(&mut head)
        .map_err(|e| GradebookError::Storage {
            path: path.to_owned(),
            cause: format!("cannot read it: {e}"),
        })?;
    const MAGIC: &[u8] = b"SQLite format 3\0";
    if head.is_empty() {
        // SQLite's own empty database: nothing there to lose.
        return Ok(false);
    }
    if !head.starts_with(MAGIC) {
        return Err(GradebookError::Damaged {
            path: path.to_owned(),
            cause: "not an SQLite database (wrong header)".into(),
        });
    }
    if head.len() < 100 {
        return Err(GradebookError::Damaged {
            path: path.to_owned(),
            cause: format!("truncated to {} bytes", head.len()),
        });
    }
    Ok(true)
}

/// The tables of a database with no schema version: someone else's data
/// if there are any.
fn foreign_tables(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT group_concat(name, ', ') FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

enum Migrate {
    Sql(rusqlite::Error),
    TooNew(u32),
    Foreign(String),
}

impl From<rusqlite::Error> for Migrate {
    fn from(e: rusqlite::Error) -> Self {
        Migrate::Sql(e)
    }
}

/// Runs the migrations past the file's version, all in one transaction
/// (IMMEDIATE: a second process opening at the same time waits, then
/// finds the work done).
fn migrate(conn: &mut Connection) -> Result<(), Migrate> {
    if user_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let from = user_version(&tx)?;
    if from > SCHEMA_VERSION {
        return Err(Migrate::TooNew(from));
    }
    // Checked before anything was written too; again here in case another
    // process wrote in between.
    if from == 0
        && let Some(tables) = foreign_tables(&tx)?
    {
        return Err(Migrate::Foreign(tables));
    }
    for step in &schema::MIGRATIONS[from as usize..] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Sorts SQLite's failures into the errors callers can act on.
fn classify(path: &Path, e: rusqlite::Error) -> GradebookError {
    let path = path.to_owned();
    let cause = e.to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            GradebookError::Locked { path, cause }
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            GradebookError::Damaged { path, cause }
        }
        _ => GradebookError::Storage { path, cause },
    }
}

#[cfg(test)]
mod tests;
