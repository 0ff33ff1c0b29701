//! The Dockerfile's project rules, checked on every test run because no
//! Docker engine is at hand to build it: the builder runs the command CI
//! runs, the runtime stage is non-root, exposes and binds the server's port
//! on every interface and has a health check; for workshops it installs
//! every tool the sandbox labs call, and ships an example workshop file
//! that the server accepts and the entrypoint that starts it.
//! (dockerfilelint, run by `cargo xtask test`, checks general Dockerfile
//! practice; bench/capabilities-docker.sh runs the image's workshop mode
//! under a real Docker engine where there is one.)

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

/// The runtime stage's instructions.
fn runtime() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let all = instructions(&text);
    let last = all
        .iter()
        .rposition(|(kw, _)| kw == "FROM")
        .expect("a runtime stage");
    all[last..].to_vec()
}

#[test]
fn the_image_has_every_tool_the_sandbox_labs_call() {
    use layerlab_core::lab::Needs;
    use layerlab_labs::tools::{EXTRA_LAB_TOOLS, LINUX_LAB_TOOLS};
    let installed: Vec<String> = runtime()
        .iter()
        .filter(|(kw, a)| kw == "RUN" && a.contains("apt-get install"))
        .flat_map(|(_, a)| {
            let after = a.split("--no-install-recommends").nth(1).unwrap_or("");
            after
                .split("&&")
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    let package = |program: &str| {
        LINUX_LAB_TOOLS
            .iter()
            .chain(EXTRA_LAB_TOOLS)
            .find(|(p, _)| *p == program)
            .map(|(_, pkg)| *pkg)
            .unwrap_or_else(|| {
                panic!("no Debian package known for `{program}` (labs/src/tools.rs)")
            })
    };
    let mut wanted: Vec<&str> = LINUX_LAB_TOOLS.iter().map(|(_, pkg)| *pkg).collect();
    for lab in layerlab_labs::labs() {
        if lab.needs == Needs::Sandbox {
            wanted.extend(lab.tools.iter().map(|t| package(t)));
        }
    }
    // Confined sandboxes: bubblewrap, and setpriv from util-linux.
    wanted.extend(["bubblewrap", "util-linux"]);
    // libc-bin (getent) is essential in every Debian image.
    wanted.retain(|p| *p != "libc-bin");
    for pkg in wanted {
        assert!(
            installed.iter().any(|i| i == pkg),
            "the image lacks {pkg}; installed: {installed:?}"
        );
    }
}

#[test]
fn the_image_ships_a_workshop_file_the_server_accepts_and_its_entrypoint() {
    let rt = runtime();
    let copies: Vec<&str> = rt
        .iter()
        .filter(|(kw, _)| kw == "COPY")
        .map(|(_, a)| a.as_str())
        .collect();
    assert!(
        copies.contains(&"docker/workshop.example.toml /etc/layerlab/workshop.toml"),
        "{copies:?}"
    );
    assert!(
        copies.contains(&"docker/workshop-entrypoint.sh /usr/local/bin/layerlab-workshop"),
        "{copies:?}"
    );
    let text = std::fs::read_to_string(root().join("docker/workshop.example.toml")).unwrap();
    let plan = layerlab_server::workshop::Plan::parse(
        &text,
        layerlab_lessons::course(),
        layerlab_labs::labs(),
    )
    .unwrap_or_else(|e| panic!("docker/workshop.example.toml: {e}"));
    assert!(plan.has_lab("router"), "{:?}", plan.labs);
    // The data volume is where the server keeps workshop data by default.
    let default_data = layerlab_server::ServeOptions::default().data;
    let volumes: Vec<&str> = rt
        .iter()
        .filter(|(kw, _)| kw == "VOLUME")
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(volumes, [default_data.display().to_string()]);
    // The entrypoint ends by starting the server with the given arguments.
    let entry = std::fs::read_to_string(root().join("docker/workshop-entrypoint.sh")).unwrap();
    assert!(entry.starts_with("#!/bin/sh\n"), "{entry}");
    assert_eq!(
        entry.lines().rfind(|l| !l.trim().is_empty()),
        Some("exec layerlab \"$@\"")
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root().join("docker/workshop-entrypoint.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(mode & 0o111, 0, "the entrypoint must be executable");
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
