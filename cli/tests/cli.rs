//! Drives the real `layerlab` binary.

use std::path::Path;
use std::process::{Command, Output};

fn layerlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args(args)
        .output()
        .expect("run layerlab")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn lint_reports_every_broken_fixture_with_file_line_and_column() {
    let out = layerlab(&["lint", &fixture("broken-course")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "lint must fail on errors:\n{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = [
        "01-basics/01-no-front-matter.md:1:1: error: lesson has no front matter",
        "01-basics/02-bad-toml.md:3:18: error: front matter: invalid basic string",
        "02-more/01-duplicate.md:2:1: error: duplicate lesson id `good` (first used in 01-basics/03-good.md)",
        "02-more/02-dangling-lab.md:6:1: error: unknown lab `no-such-lab`",
        "02-more/02-dangling-lab.md:9:40: error: link to unknown lesson `gooood`",
        "02-more/03-quiz-no-correct.md:11:1: error: single-choice question has no correct answer",
        "02-more/04-unterminated-fence.md:10:1: error: code fence is never closed",
        "02-more/05-not-utf8.md:1:1: error: file is not UTF-8",
    ];
    for line in expected {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "missing `{line}` in:\n{stdout}"
        );
    }
    assert!(stdout.contains("help: did you mean `good`?"), "{stdout}");
    assert!(
        stdout.lines().last().unwrap().contains("errors"),
        "{stdout}"
    );
}

#[test]
fn lint_of_a_missing_folder_is_a_clear_error() {
    let out = layerlab(&["lint", "/no/such/folder"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/no/such/folder is not a folder"),
        "{stderr}"
    );
}

#[test]
fn lint_of_the_embedded_course_has_no_errors() {
    let out = layerlab(&["lint"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("embedded course:") && stdout.contains(" 0 errors"),
        "{stdout}"
    );
}

#[test]
fn lint_holds_kind_labs_and_their_manifests_to_the_runner_s_namespace() {
    let out = layerlab(&["lint", &fixture("kind-lab/content")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for expected in [
        "pods.yaml:11:1: error: step 1 (`Two pods`): a command names the lab's namespace `net`",
        "pods.yaml:6:1: error: Pod `client` names namespace `net`",
        "2 errors",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn lint_reports_broken_lab_files_with_file_line_and_cause() {
    let out = layerlab(&["lint", &fixture("broken-labs")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for expected in [
        "bad-yaml.yaml:3:1: error: found unexpected end of stream",
        "typo.yaml:12:9: error: steps[0].checks[0]: unknown field `namespce`",
        "no-solution.yaml:3:1: error: unknown chapter `nowhere`",
        "no-solution.yaml:7:1: error: step 1 (`Make red`) has no solution",
        "needs `for: <duration>`",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
