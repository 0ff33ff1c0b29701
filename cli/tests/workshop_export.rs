//! `layerlab workshop export|backup` on a gradebook file, with no server:
//! results recorded through the gradebook come back out of a copied file
//! row for row.

use layerlab_core::lab::{CheckResult, Lab, Mismatch, StepResult};
use layerlab_server::gradebook::{Gradebook, QuizAnswer};
use layerlab_server::workshop::Member;
use std::path::Path;
use std::process::{Command, Output};

fn layerlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args(args)
        .output()
        .expect("run layerlab")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A result of step `step` (1-based) of `lab`, every check passing or
/// failing with a named mismatch.
fn result(lab: &Lab, step: usize, passed: bool, at: u64) -> StepResult {
    let s = &lab.steps[step - 1];
    StepResult {
        step,
        title: s.title.clone(),
        passed,
        checked_at_ms: at,
        checks: s
            .checks
            .iter()
            .map(|c| CheckResult {
                title: c.title.clone(),
                kind: "exec".into(),
                passed,
                points: if passed { c.points } else { 0 },
                max_points: c.points,
                attempts: 2,
                duration_ms: 120,
                message: if passed {
                    "holds".into()
                } else {
                    format!("{}: not yet, \"close\"", c.title)
                },
                mismatches: if passed {
                    vec![]
                } else {
                    vec![Mismatch::new("exit", "0", "1")]
                },
                evidence: "exit 1".into(),
                hint: None,
            })
            .collect(),
    }
}

const T0: u64 = 1_765_000_000_000; // 2025-12-06T05:46:40Z

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

#[test]
fn export_from_a_copied_gradebook_matches_what_was_recorded() {
    let lab = layerlab_labs::labs()
        .iter()
        .find(|l| l.steps.len() >= 2)
        .expect("a lab with two steps");
    let points = |step: usize| -> u32 { lab.steps[step - 1].checks.iter().map(|c| c.points).sum() };
    let live = tempfile::tempdir().unwrap();
    {
        let book = Gradebook::open(&Gradebook::in_data_dir(live.path())).unwrap();
        for (id, name, joined) in [("l-1", "Ada, \"A.\"", 1), ("l-2", "Bo", 2)] {
            book.add_member(&Member {
                id: id.into(),
                name: name.into(),
                joined,
            })
            .unwrap();
        }
        book.record_check("l-1", &lab.id, &result(lab, 1, false, T0), None)
            .unwrap();
        book.record_check(
            "l-1",
            &lab.id,
            &result(lab, 1, true, T0 + 60_000),
            Some("2 packets"),
        )
        .unwrap();
        book.record_check("l-1", &lab.id, &result(lab, 2, false, T0 + 120_000), None)
            .unwrap();
        for i in 0..3 {
            book.record_check("l-2", &lab.id, &result(lab, 1, false, T0 + i * 1_000), None)
                .unwrap();
        }
        // Bo answered two quiz questions, one right at the second try.
        for (question, score) in [(0, 0), (0, 1), (1, 0)] {
            book.record_quiz(&QuizAnswer {
                learner: "l-2".into(),
                lesson: "tcp".into(),
                question,
                answer: "{}".into(),
                score,
                at_ms: T0,
            })
            .unwrap();
        }
        book.record_read("l-2", "tcp", T0).unwrap();
    }
    // The last connection closed: everything is in the one file.
    assert!(!live.path().join("workshop.db-wal").exists());
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        live.path().join("workshop.db"),
        copy.path().join("workshop.db"),
    )
    .unwrap();
    let data = copy.path().to_str().unwrap();

    let csv = ok(layerlab(&[
        "workshop", "export", "--data", data, "--format", "csv",
    ]));
    assert!(
        csv.starts_with("learner,name,lab,step,step_title,passed,attempts,first_checked,last_checked,points,max_points\n"),
        "{csv}"
    );
    let table = rows(&csv);
    assert_eq!(table.len(), 2 * lab.steps.len(), "{csv}");
    let row = |learner: &str, step: usize| {
        table
            .iter()
            .find(|r| r[0] == learner && r[3] == step.to_string())
            .unwrap_or_else(|| panic!("no row {learner} {step}:\n{csv}"))
    };
    let p1 = points(1).to_string();
    let s1 = &lab.steps[0].title;
    let r = row("l-1", 1);
    assert_eq!(
        r[1..],
        [
            "Ada, \"A.\"",
            &lab.id,
            "1",
            s1,
            "true",
            "2",
            "2025-12-06T05:46:40Z",
            "2025-12-06T05:47:40Z",
            &p1,
            &p1
        ]
    );
    assert_eq!(row("l-1", 2)[5..7], ["false", "1"]);
    assert_eq!(
        row("l-2", 1)[5..10],
        [
            "false",
            "3",
            "2025-12-06T05:46:40Z",
            "2025-12-06T05:46:42Z",
            "0"
        ]
    );
    for step in 3..=lab.steps.len() {
        assert_eq!(row("l-1", step)[6..9], ["0", "", ""]);
    }
    assert_eq!(row("l-2", 2)[6], "0");

    let summary = ok(layerlab(&[
        "workshop",
        "export",
        "--data",
        data,
        "--format",
        "summary-csv",
    ]));
    let total_points: u32 = (1..=lab.steps.len()).map(points).sum();
    let steps = lab.steps.len().to_string();
    assert_eq!(
        rows(&summary),
        [
            [
                "l-1",
                "Ada, \"A.\"",
                "1",
                &steps,
                &p1,
                &total_points.to_string(),
                "3",
                "0",
                "0",
                "0"
            ],
            [
                "l-2",
                "Bo",
                "0",
                &steps,
                "0",
                &total_points.to_string(),
                "3",
                "1",
                "2",
                "1"
            ],
        ]
    );

    let json_file = copy.path().join("class.json");
    ok(layerlab(&[
        "workshop",
        "export",
        "--data",
        data,
        "--format",
        "json",
        "--out",
        json_file.to_str().unwrap(),
    ]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    let failed = &json["learners"][0]["labs"][0]["steps"][1]["latest"]["checks"][0];
    assert_eq!(
        failed["message"],
        format!("{}: not yet, \"close\"", lab.steps[1].checks[0].title)
    );
    assert_eq!(failed["mismatches"][0]["observed"], "1");

    let junit = ok(layerlab(&[
        "workshop", "export", "--data", data, "--format", "junit",
    ]));
    assert!(
        junit.contains(&format!("<testsuite name=\"Bo (l-2): {}\"", lab.id)),
        "{junit}"
    );
    assert!(junit.contains("failures=\"2\""), "{junit}");
}

#[test]
fn backup_copies_a_live_gradebook_and_never_overwrites() {
    let live = tempfile::tempdir().unwrap();
    let lab = &layerlab_labs::labs()[0];
    let book = Gradebook::open(&Gradebook::in_data_dir(live.path())).unwrap();
    book.add_member(&Member {
        id: "l-1".into(),
        name: "Ada".into(),
        joined: 1,
    })
    .unwrap();
    book.record_check("l-1", &lab.id, &result(lab, 1, true, T0), None)
        .unwrap();
    // The server still has it open (results in the WAL) while we copy.
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("workshop.db");
    let backup = |to: &Path| {
        layerlab(&[
            "workshop",
            "backup",
            "--data",
            live.path().to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
        ])
    };
    ok(backup(&target));
    drop(book);
    let csv = ok(layerlab(&[
        "workshop",
        "export",
        "--data",
        out.path().to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert_eq!(
        rows(&csv)[0][..7],
        [
            "l-1",
            "Ada",
            lab.id.as_str(),
            "1",
            &lab.steps[0].title,
            "true",
            "1"
        ]
    );

    let before = std::fs::read(&target).unwrap();
    let again = backup(&target);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("exists already"), "{stderr}");
    assert_eq!(std::fs::read(&target).unwrap(), before);
}

#[test]
fn a_damaged_or_missing_gradebook_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = layerlab(&["workshop", "export", "--data", data, "--format", "csv"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no gradebook at"), "{stderr}");
    assert!(!dir.path().join("workshop.db").exists());

    let garbage = b"not a database at all, just some text that is long enough";
    std::fs::write(dir.path().join("workshop.db"), garbage).unwrap();
    let out = layerlab(&["workshop", "export", "--data", data, "--format", "json"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("workshop.db is damaged"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("workshop.db")).unwrap(),
        garbage
    );
}
