use super::*;
use layerlab_core::lab::{CheckResult, Mismatch};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn member(id: &str, name: &str, joined: u64) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        joined,
    }
}

/// A result shaped like the server's: one check that holds, one that
/// names what is wrong.
fn result(step: usize, passed: bool, at: u64) -> StepResult {
    StepResult {
        step,
        title: format!("Step {step}"),
        passed,
        checked_at_ms: at,
        checks: vec![
            CheckResult {
                title: "namespace exists".into(),
                kind: "namespace".into(),
                passed: true,
                points: 1,
                max_points: 1,
                attempts: 1,
                duration_ms: 3,
                message: "ok".into(),
                mismatches: vec![],
                evidence: "ip netns: client".into(),
                hint: None,
            },
            CheckResult {
                title: "veth up".into(),
                kind: "interface".into(),
                passed,
                points: if passed { 2 } else { 0 },
                max_points: 2,
                attempts: 4,
                duration_ms: 812,
                message: if passed {
                    "veth-c is up".into()
                } else {
                    "`veth-c` is DOWN".into()
                },
                mismatches: if passed {
                    vec![]
                } else {
                    vec![Mismatch::new("veth-c.state", "UP", "DOWN")]
                },
                evidence: "2: veth-c@if3: <BROADCAST> state DOWN".into(),
                hint: (!passed).then(|| "ip link set veth-c up".into()),
            },
        ],
    }
}

fn fresh() -> (tempfile::TempDir, Gradebook) {
    let dir = tempfile::tempdir().unwrap();
    let book = Gradebook::open(&Gradebook::in_data_dir(dir.path())).unwrap();
    (dir, book)
}

#[test]
fn records_attempts_with_their_evidence_and_numbers_them() {
    let (_dir, book) = fresh();
    assert!(book.add_member(&member("l-a", "Ada", 10)).unwrap());
    assert!(!book.add_member(&member("l-a", "Someone else", 11)).unwrap());
    book.add_member(&member("l-b", "Bo", 12)).unwrap();
    assert_eq!(
        book.members().unwrap(),
        vec![member("l-a", "Ada", 10), member("l-b", "Bo", 12)]
    );

    assert_eq!(
        book.record_check("l-a", "veth", &result(1, false, 100), None)
            .unwrap(),
        1
    );
    assert_eq!(
        book.record_check(
            "l-a",
            "veth",
            &result(1, true, 200),
            Some("IP 10.0.0.1 > 10.0.0.2: ICMP echo request")
        )
        .unwrap(),
        2
    );
    // Numbering is per learner × lab × step.
    assert_eq!(
        book.record_check("l-a", "veth", &result(2, false, 300), None)
            .unwrap(),
        1
    );
    assert_eq!(
        book.record_check("l-b", "veth", &result(1, false, 400), None)
            .unwrap(),
        1
    );
    assert_eq!(
        book.record_check("l-a", "router", &result(1, true, 500), None)
            .unwrap(),
        1
    );

    let latest = book.latest_results("l-a", "veth").unwrap();
    assert_eq!(latest.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(latest[&1], result(1, true, 200));
    assert_eq!(latest[&2], result(2, false, 300));

    let attempts = book.attempts("l-a", "veth", 1).unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].result, result(1, false, 100));
    assert_eq!(attempts[0].result.checks[1].mismatches[0].observed, "DOWN");
    assert_eq!(attempts[0].capture_summary, None);
    assert_eq!(
        attempts[1].capture_summary.as_deref(),
        Some("IP 10.0.0.1 > 10.0.0.2: ICMP echo request")
    );
    assert_eq!(book.labs_checked().unwrap(), vec!["router", "veth"]);
}

#[test]
fn a_learner_not_on_the_roster_is_refused() {
    let (_dir, book) = fresh();
    let e = book
        .record_check("l-nobody", "veth", &result(1, true, 1), None)
        .unwrap_err();
    assert!(
        matches!(e, GradebookError::UnknownLearner { ref learner, .. } if learner == "l-nobody"),
        "{e}"
    );
    assert!(e.to_string().contains("workshop.db"), "{e}");
    assert!(book.attempts("l-nobody", "veth", 1).unwrap().is_empty());
}

#[test]
fn quiz_answers_and_reads_are_kept() {
    let (_dir, book) = fresh();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    let answer = |question, score, at_ms| QuizAnswer {
        learner: "l-a".into(),
        lesson: "tcp".into(),
        question,
        answer: r#"{"choice":[1]}"#.into(),
        score,
        at_ms,
    };
    book.record_quiz(&answer(0, 0, 5)).unwrap();
    book.record_quiz(&answer(0, 1, 6)).unwrap();
    assert_eq!(
        book.quiz_answers("l-a").unwrap(),
        vec![answer(0, 0, 5), answer(0, 1, 6)]
    );
    assert!(book.record_read("l-a", "tcp", 7).unwrap());
    assert!(!book.record_read("l-a", "tcp", 9).unwrap());
    assert_eq!(
        book.lesson_reads("l-a").unwrap(),
        BTreeMap::from([("tcp".to_string(), 7)])
    );
    let e = book.record_read("l-x", "tcp", 1).unwrap_err();
    assert!(matches!(e, GradebookError::UnknownLearner { .. }), "{e}");
}

#[test]
fn the_class_report_has_every_learner_and_step_with_counts() {
    let (_dir, book) = fresh();
    let lab = layerlab_labs::labs()
        .iter()
        .find(|l| l.steps.len() >= 2)
        .expect("a lab with two steps");
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    book.add_member(&member("l-b", "Bo", 2)).unwrap();
    book.record_check("l-a", &lab.id, &result(1, false, 1_000), None)
        .unwrap();
    book.record_check("l-a", &lab.id, &result(1, false, 2_000), None)
        .unwrap();
    book.record_check("l-a", &lab.id, &result(1, true, 3_000), None)
        .unwrap();
    book.record_check("l-b", &lab.id, &result(2, false, 4_000), None)
        .unwrap();

    let report = book.class_report(std::slice::from_ref(lab)).unwrap();
    assert_eq!(report.learners.len(), 2);
    let ada = &report.learners[0].labs[0].steps;
    assert_eq!(ada.len(), lab.steps.len());
    assert_eq!(
        (
            ada[0].passed,
            ada[0].attempts,
            ada[0].first_checked_ms,
            ada[0].last_checked_ms,
            ada[0].points
        ),
        (true, 3, Some(1_000), Some(3_000), 3)
    );
    assert_eq!((ada[1].attempts, ada[1].latest.is_none()), (0, true));
    let bo = &report.learners[1].labs[0].steps;
    assert_eq!(
        (bo[0].attempts, bo[1].attempts, bo[1].passed),
        (0, 1, false)
    );
    assert_eq!(
        bo[1].latest.as_ref().unwrap().checks[1].message,
        "`veth-c` is DOWN"
    );
}

#[test]
fn the_class_report_counts_quiz_answers_by_their_latest_grade_and_reads() {
    let (_dir, book) = fresh();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    book.add_member(&member("l-b", "Bo", 2)).unwrap();
    let answer = |learner: &str, lesson: &str, question, score, at_ms| QuizAnswer {
        learner: learner.into(),
        lesson: lesson.into(),
        question,
        answer: "{}".into(),
        score,
        at_ms,
    };
    // Ada: question 0 wrong then right, question 1 right then wrong.
    for a in [
        answer("l-a", "tcp", 0, 0, 1),
        answer("l-a", "tcp", 1, 1, 2),
        answer("l-a", "tcp", 0, 1, 3),
        answer("l-a", "tcp", 1, 0, 4),
        answer("l-a", "udp", 0, 1, 5),
    ] {
        book.record_quiz(&a).unwrap();
    }
    book.record_read("l-a", "tcp", 1).unwrap();
    book.record_read("l-a", "udp", 2).unwrap();
    book.record_read("l-a", "udp", 3).unwrap();

    let report = book.class_report(&[]).unwrap();
    let ada = &report.learners[0];
    assert_eq!(
        ada.quizzes,
        vec![
            QuizResults {
                lesson: "tcp".into(),
                answered: 2,
                right: 1,
                answers: 4
            },
            QuizResults {
                lesson: "udp".into(),
                answered: 1,
                right: 1,
                answers: 1
            },
        ]
    );
    assert_eq!(ada.lessons_read, 2);
    let bo = &report.learners[1];
    assert_eq!((bo.quizzes.len(), bo.lessons_read), (0, 0));
    assert!(
        report
            .to_summary_csv()
            .contains("l-a,Ada,0,0,0,0,0,2,3,2\n"),
        "{}",
        report.to_summary_csv()
    );
}

/// The first schema, written by hand as a layerlab of that version did.
const VERSION_1: &str = "
    CREATE TABLE members (id TEXT PRIMARY KEY, name TEXT NOT NULL, joined INTEGER NOT NULL) STRICT;
    CREATE TABLE check_attempts (
        learner TEXT NOT NULL REFERENCES members(id), lab TEXT NOT NULL, step INTEGER NOT NULL,
        attempt INTEGER NOT NULL, passed INTEGER NOT NULL, checked_at INTEGER NOT NULL,
        result TEXT NOT NULL, PRIMARY KEY (learner, lab, step, attempt)) STRICT;
    PRAGMA user_version = 1;";

#[test]
fn a_version_1_database_migrates_keeping_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(VERSION_1).unwrap();
        c.execute("INSERT INTO members VALUES ('l-old', 'Old timer', 5)", [])
            .unwrap();
        c.execute(
            "INSERT INTO check_attempts VALUES ('l-old', 'veth', 1, 1, 0, 100, ?1)",
            [serde_json::to_string(&result(1, false, 100)).unwrap()],
        )
        .unwrap();
    }
    let book = Gradebook::open(&path).unwrap();
    let version: u32 = book
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(
        book.members().unwrap(),
        vec![member("l-old", "Old timer", 5)]
    );
    let old = book.attempts("l-old", "veth", 1).unwrap();
    assert_eq!((old.len(), old[0].capture_summary.as_ref()), (1, None));
    assert_eq!(old[0].result, result(1, false, 100));
    // The tables version 2 added work, and numbering continues.
    assert_eq!(
        book.record_check("l-old", "veth", &result(1, true, 200), Some("1 packet"))
            .unwrap(),
        2
    );
    assert!(book.record_read("l-old", "tcp", 1).unwrap());
    drop(book);
    // Opening again at the current version changes nothing.
    let again = Gradebook::open(&path).unwrap();
    assert_eq!(again.attempts("l-old", "veth", 1).unwrap().len(), 2);
}

/// Opens `bytes` written as the gradebook and expects `what`, with the
/// file left byte for byte as it was and no WAL made beside it.
fn refused(bytes: &[u8], what: fn(&GradebookError) -> bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    std::fs::write(&path, bytes).unwrap();
    let e = Gradebook::open(&path).unwrap_err();
    assert!(what(&e), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "the file was changed"
    );
    assert!(!dir.path().join("workshop.db-wal").exists());
    msg
}

/// A real gradebook with a few hundred attempts, as bytes.
fn real_database() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    let book = Gradebook::open(&path).unwrap();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    for i in 0..300 {
        book.record_check(
            "l-a",
            "veth",
            &result(1 + i % 3, i % 2 == 0, i as u64),
            None,
        )
        .unwrap();
    }
    drop(book); // the last connection checkpoints the WAL into the file
    std::fs::read(&path).unwrap()
}

#[test]
fn garbage_is_refused_and_left_alone() {
    let msg = refused(b"PK\x03\x04 this is a zip, not a gradebook ......", |e| {
        matches!(e, GradebookError::Damaged { .. })
    });
    assert!(msg.contains("not an SQLite database"), "{msg}");
}

#[test]
fn a_truncated_database_is_refused_and_left_alone() {
    let full = real_database();
    assert!(full.len() > 16 * 4096, "{} bytes", full.len());
    let msg = refused(&full[..full.len() / 2], |e| {
        matches!(e, GradebookError::Damaged { .. })
    });
    assert!(msg.contains("damaged"), "{msg}");
    let msg = refused(&full[..60], |e| matches!(e, GradebookError::Damaged { .. }));
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn scribbled_pages_are_refused_and_left_alone() {
    let mut bytes = real_database();
    // Overwrite the middle pages (b-tree pages of the results) with noise.
    let page = 4096;
    for (i, b) in bytes[2 * page..6 * page].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    refused(&bytes, |e| matches!(e, GradebookError::Damaged { .. }));
}

#[test]
fn a_database_from_a_newer_layerlab_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = Gradebook::open(&path).unwrap_err();
    assert!(
        matches!(
            e,
            GradebookError::TooNew {
                found: 99,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("newer layerlab"), "{e}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the file was changed"
    );
}

#[test]
fn a_locked_database_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    let short = OpenOptions {
        create: true,
        busy_timeout: Duration::from_millis(100),
    };
    // Another process holds the lock of a database still to migrate
    // (a fresh one, in SQLite's default rollback mode).
    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN EXCLUSIVE; CREATE TABLE pending (x);")
        .unwrap();
    let e = Gradebook::open_with(&path, &short).unwrap_err();
    assert!(matches!(e, GradebookError::Locked { .. }), "{e:?}");
    assert!(e.to_string().contains("locked by another process"), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    other.execute_batch("ROLLBACK").unwrap();

    // Open, then another writer holds the lock: a write times out cleanly.
    let book = Gradebook::open_with(&path, &short).unwrap();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO members VALUES ('l-b', 'Bo', 2);")
        .unwrap();
    let e = book
        .record_check("l-a", "veth", &result(1, true, 1), None)
        .unwrap_err();
    assert!(matches!(e, GradebookError::Locked { .. }), "{e:?}");
    // Reads still work in WAL mode, and once the lock is gone, writes too.
    assert!(book.attempts("l-a", "veth", 1).unwrap().is_empty());
    other.execute_batch("COMMIT").unwrap();
    assert_eq!(book.members().unwrap().len(), 2);
    assert_eq!(
        book.record_check("l-a", "veth", &result(1, true, 1), None)
            .unwrap(),
        1
    );
}

#[test]
fn missing_file_is_not_created_when_opening_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    let e = Gradebook::open_existing(&path).unwrap_err();
    assert!(matches!(e, GradebookError::NotFound { .. }), "{e:?}");
    assert!(!path.exists());
}

#[test]
fn backup_is_a_consistent_copy_and_never_overwrites() {
    let (dir, book) = fresh();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    for i in 0..20 {
        book.record_check("l-a", "veth", &result(1, i == 19, i), None)
            .unwrap();
    }
    let to = dir.path().join("backup.db");
    book.backup(&to).unwrap();
    assert!(!dir.path().join("backup.db.partial").exists());
    // Writes after the backup are not in it.
    book.record_check("l-a", "veth", &result(1, true, 99), None)
        .unwrap();
    let copy = Gradebook::open_existing(&to).unwrap();
    assert_eq!(copy.members().unwrap(), book.members().unwrap());
    assert_eq!(copy.attempts("l-a", "veth", 1).unwrap().len(), 20);
    assert_eq!(
        copy.latest_results("l-a", "veth").unwrap()[&1],
        result(1, true, 19)
    );

    let before = std::fs::read(&to).unwrap();
    let e = book.backup(&to).unwrap_err();
    assert!(matches!(e, GradebookError::BackupExists { .. }), "{e:?}");
    assert_eq!(std::fs::read(&to).unwrap(), before);
}

/// The writer half of the kill -9 test: records results until killed,
/// printing each acknowledged attempt. Runs only when the test below
/// starts it (with the database path in the environment).
#[test]
#[ignore = "child process of acknowledged_results_survive_kill_9"]
fn kill_9_child_writer() {
    let path = std::env::var_os("LAYERLAB_GRADEBOOK_CHILD").expect("started by the parent test");
    let book = Gradebook::open(Path::new(&path)).unwrap();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let n = book
            .record_check("l-a", "veth", &result(1, i % 2 == 0, i), None)
            .unwrap();
        use std::io::Write;
        writeln!(out, "acked {n}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_results_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "gradebook::tests::kill_9_child_writer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("LAYERLAB_GRADEBOOK_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acked = 0u32;
        // Kill it at a point that differs per round, mid-stream.
        let target = 150 + round * 37;
        for line in lines.by_ref() {
            if let Some(n) = line.unwrap().strip_prefix("acked ") {
                acked = n.parse().unwrap();
                if acked >= target {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        // Acknowledgements already in the pipe count too.
        for line in lines {
            if let Some(n) = line.unwrap().strip_prefix("acked ") {
                acked = n.parse().unwrap();
            }
        }
        child.wait().unwrap();
        let book = Gradebook::open(&path).unwrap();
        let stored = book.attempts("l-a", "veth", 1).unwrap();
        assert!(
            stored.len() as u32 >= acked,
            "round {round}: {acked} acknowledged, {} stored",
            stored.len()
        );
        // Every acknowledged number is there, in order, with its result.
        for (i, a) in stored.iter().enumerate().take(acked as usize) {
            assert_eq!(a.attempt, i as u32 + 1);
            assert_eq!(a.result.checks.len(), 2);
        }
        assert!(acked > 0);
    }
}

#[test]
fn shared_across_threads() {
    let (_dir, book) = fresh();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    let book = std::sync::Arc::new(book);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let book = book.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    book.record_check("l-a", &format!("lab-{t}"), &result(1, true, i), None)
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for t in 0..4 {
        let a = book.attempts("l-a", &format!("lab-{t}"), 1).unwrap();
        assert_eq!(
            a.iter().map(|a| a.attempt).collect::<Vec<_>>(),
            (1..=25).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_writer_is_wal_synchronous_full_with_foreign_keys() {
    let (_dir, book) = fresh();
    let conn = book.conn();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    let busy: i64 = conn
        .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
    assert_eq!(busy, DEFAULT_BUSY_TIMEOUT.as_millis() as i64);
    // The read connection cannot write, whatever a future caller tries.
    let e = book
        .reader()
        .execute("INSERT INTO members VALUES ('x', 'x', 0)", [])
        .unwrap_err();
    assert!(e.to_string().contains("readonly"), "{e}");
}

#[test]
fn someone_elses_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workshop.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE invoices (n); INSERT INTO invoices VALUES (1);")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = Gradebook::open(&path).unwrap_err();
    assert!(
        matches!(e, GradebookError::NotAGradebook { ref tables, .. } if tables == "invoices"),
        "{e:?}"
    );
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the file was changed"
    );
}

#[test]
fn the_wal_is_checkpointed_in_the_background() {
    let (dir, book) = fresh();
    book.add_member(&member("l-a", "Ada", 1)).unwrap();
    for i in 0..200 {
        book.record_check("l-a", "veth", &result(1, false, i), None)
            .unwrap();
    }
    let db = dir.path().join("workshop.db");
    let size = || std::fs::metadata(&db).unwrap().len();
    // Commits go to the WAL only (no checkpoint on the writer's path)...
    let before = size();
    assert!(before < 100 * 1024, "{before} bytes before any checkpoint");
    // ...and the checkpointer moves them into the file within a period or two.
    let deadline = std::time::Instant::now() + 10 * CHECKPOINT_EVERY;
    // (200 results of ~0.9 KB each.)
    while size() < before + 100 * 1024 {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint: {} bytes",
            size()
        );
        std::thread::sleep(CHECKPOINT_EVERY / 5);
    }
}
