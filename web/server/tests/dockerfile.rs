//! The Dockerfile's project rules, checked on every test run because no
//! Docker engine is at hand to build it: the builder runs the command CI
//! runs, the runtime stage is non-root, exposes and binds the server's port
//! on every interface and has a health check. (dockerfilelint, run by
//! `cargo xtask test`, checks general Dockerfile practice.)

use std::path::Path;

/// One instruction: keyword (upper case) and its arguments, continuation
/// lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (kw, args) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((kw.to_ascii_uppercase(), args.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn dockerfile_builds_with_the_ci_command_and_runs_safely() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let all = instructions(&text);
    let stages: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, (kw, _))| kw == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stages.len(), 2, "a builder and a runtime stage");
    for &i in &stages {
        let image = all[i].1.split_whitespace().next().unwrap();
        let tag = image.split_once(':').map(|(_, t)| t);
        assert!(
            tag.is_some_and(|t| t != "latest"),
            "base image {image} must be pinned to a version"
        );
    }
    let (build, runtime) = all.split_at(stages[1]);
    assert!(build[0].1.ends_with(" AS build"), "{:?}", build[0]);

    // The builder builds with exactly what CI runs (after installing system
    // packages), and xtask knows that command.
    let runs: Vec<&str> = build
        .iter()
        .filter(|(kw, _)| kw == "RUN")
        .map(|(_, a)| a.as_str())
        .collect();
    let (last, before) = runs.split_last().expect("the builder runs something");
    assert_eq!(*last, "cargo xtask dist");
    for run in before {
        assert!(
            run.starts_with("apt-get update && apt-get install -y --no-install-recommends "),
            "only package installs before the build: {run}"
        );
        assert!(!run.contains("cargo"), "{run}");
    }
    let xtask = std::fs::read_to_string(root().join("xtask/src/main.rs")).unwrap();
    assert!(xtask.contains("\"dist\" =>"), "xtask has a dist task");

    let find = |kw: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(k, _)| k == kw)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    let user = find("USER");
    assert_eq!(user.len(), 1);
    assert!(!["root", "0"].contains(&user[0]), "runs as root: {user:?}");
    let port = layerlab_server::DEFAULT_PORT.to_string();
    assert_eq!(find("EXPOSE"), [port.as_str()]);
    let health = find("HEALTHCHECK");
    assert_eq!(health.len(), 1);
    assert!(
        health[0].contains("--health-check") && health[0].contains(&port),
        "{health:?}"
    );
    let cmd = find("CMD").join(" ");
    assert!(cmd.contains(r#""--bind", "0.0.0.0""#), "{cmd}");
    assert!(cmd.contains(&format!(r#""--port", "{port}""#)), "{cmd}");
    assert_eq!(find("ENTRYPOINT"), [r#"["layerlab"]"#]);
    let copies = find("COPY");
    assert!(
        copies
            .iter()
            .any(|c| c.starts_with("--from=build /src/target/release/layerlab ")),
        "{copies:?}"
    );

    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target/"));
}

#[test]
fn instruction_reader_joins_continuations_and_skips_comments() {
    let parsed = instructions("# c\nFROM a:1 AS b\n\nRUN x \\\n  y\n# mid\nuser 1\n");
    assert_eq!(
        parsed,
        [
            ("FROM".into(), "a:1 AS b".into()),
            ("RUN".into(), "x y".into()),
            ("USER".into(), "1".into())
        ]
    );
}
