//! `cargo xtask <task>`: the workspace's build and test entry points.
//!
//! `cargo xtask test` is the one command that runs every check CI runs;
//! `.ci/run` installs system packages and then calls it.

use std::process::{Command, ExitCode};
use std::time::Instant;

mod web;

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "test" => test(),
        "dist" => dist(),
        "serve" => serve(),
        "web" => web::build(),
        "browser-test" => web::browser_test(),
        _ => {
            eprintln!(
                "usage: cargo xtask test|dist|serve|web|browser-test\n\n  test   format check, build, clippy, all tests, dist (the wasm app, so core for wasm32, and the release binary), browser tests\n  dist   the web app, then the release `layerlab` with it embedded (what the Dockerfile runs)\n  serve  dist, then `layerlab serve` (extra arguments are passed on)\n  web    build the browser app into web/app/dist/\n  browser-test  the browser tests in headless Chromium against the `dist` binary"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command from the workspace root, failing loudly with its name.
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let shown = format!("{program} {}", args.join(" "));
    eprintln!("\n==> {shown}");
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR").trim_end_matches("/xtask"))
        .status()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    eprintln!(
        "<== {shown}: {status} in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

fn test() -> Result<(), String> {
    // Toolchain pieces the checks need; idempotent and quick when present.
    if Command::new("rustup").arg("--version").output().is_ok() {
        run("rustup", &["component", "add", "clippy", "rustfmt"])?;
        run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    run("cargo", &["fmt", "--all", "--check"])?;
    run(
        "cargo",
        &["build", "--workspace", "--all-targets", "--locked"],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", &["test", "--workspace", "--locked"])?;
    dockerfile_lint()?;
    // The Dockerfile's build command: CI runs it so the image recipe works.
    // Its first step builds the browser app for wasm32, and with it all of
    // core: core must never stop building for the browser.
    dist()?;
    // The browser app: its wasm32 lints, then the real thing in Chromium.
    run(
        "cargo",
        &[
            "clippy",
            "-p",
            "layerlab-app",
            "--target",
            "wasm32-unknown-unknown",
            "--locked",
            "--no-deps",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    web::browser_test()?;
    eprintln!("\nall checks passed");
    Ok(())
}

/// The shippable binary: the wasm app (`cargo xtask web`), then the release
/// `layerlab` with the app embedded. The Dockerfile's builder runs exactly
/// this, and `cargo xtask test` does too, so the image recipe is exercised.
fn dist() -> Result<(), String> {
    // A fresh toolchain (the Docker builder) lacks the browser target.
    if Command::new("rustup").arg("--version").output().is_ok() {
        run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    web::build()?;
    run(
        "cargo",
        &["build", "--release", "-p", "layerlab", "--locked"],
    )
}

/// `cargo xtask serve [ARGS]`: builds everything and serves it
/// (`layerlab serve ARGS`, e.g. `--port 3000`).
fn serve() -> Result<(), String> {
    dist()?;
    let extra: Vec<String> = std::env::args().skip(2).collect();
    let mut args = vec!["serve"];
    args.extend(extra.iter().map(String::as_str));
    let root = env!("CARGO_MANIFEST_DIR").trim_end_matches("/xtask");
    run(&format!("{root}/target/release/layerlab"), &args)
}

/// Lints the Dockerfile with dockerfilelint (npm; `.ci/run` installs it).
fn dockerfile_lint() -> Result<(), String> {
    if Command::new("dockerfilelint")
        .arg("--version")
        .output()
        .is_err()
    {
        if std::env::var_os("CI").is_some() {
            return Err("dockerfilelint is missing: npm install -g dockerfilelint".into());
        }
        eprintln!("\n(skipping the Dockerfile lint: npm install -g dockerfilelint)");
        return Ok(());
    }
    run("dockerfilelint", &["Dockerfile"])
}
