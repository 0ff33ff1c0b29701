//! The gradebook's schema, as numbered migrations. `PRAGMA user_version`
//! holds how many have run; opening runs the rest in one transaction.
//! Append new steps; never edit one that has shipped.

/// Migration `n` (1-based) is `MIGRATIONS[n - 1]`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the roster and every check run.
    "CREATE TABLE members (
        id     TEXT PRIMARY KEY,
        name   TEXT NOT NULL,
        joined INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE check_attempts (
        learner    TEXT NOT NULL REFERENCES members(id),
        lab        TEXT NOT NULL,
        step       INTEGER NOT NULL,
        attempt    INTEGER NOT NULL,
        passed     INTEGER NOT NULL,
        checked_at INTEGER NOT NULL,
        result     TEXT NOT NULL,
        PRIMARY KEY (learner, lab, step, attempt)
    ) STRICT;",
    // 2: capture summaries next to results; quizzes and reading.
    "ALTER TABLE check_attempts ADD COLUMN capture_summary TEXT;
    -- Attempt counts and times per step without reading the results
    -- (class reports scan this, not the rows with the JSON).
    CREATE INDEX check_attempts_times
        ON check_attempts (learner, lab, step, attempt, checked_at);
    CREATE TABLE quiz_answers (
        learner  TEXT NOT NULL REFERENCES members(id),
        lesson   TEXT NOT NULL,
        question INTEGER NOT NULL,
        answer   TEXT NOT NULL,
        score    INTEGER NOT NULL,
        at       INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX quiz_answers_by_learner ON quiz_answers (learner, lesson, question);
    CREATE TABLE lesson_reads (
        learner TEXT NOT NULL REFERENCES members(id),
        lesson  TEXT NOT NULL,
        read_at INTEGER NOT NULL,
        PRIMARY KEY (learner, lesson)
    ) STRICT;",
    // 3: hints the instructor revealed to one learner.
    "CREATE TABLE hints (
        learner TEXT NOT NULL REFERENCES members(id),
        lab     TEXT NOT NULL,
        step    INTEGER,
        text    TEXT NOT NULL,
        at      INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX hints_by_learner ON hints (learner, at);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

// The migration test starts from version 1 and must have a step to run.
const _: () = assert!(SCHEMA_VERSION > 1);
