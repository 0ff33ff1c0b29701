//! `cargo xtask <task>`: the workspace's build and test entry points.
//!
//! `cargo xtask test` is the one command that runs every check CI runs;
//! `.ci/run` installs system packages and then calls it.

use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "test" => test(),
        _ => {
            eprintln!(
                "usage: cargo xtask test\n\n  test   format check, build, clippy, all tests, and the wasm32 build of core"
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
    // core must never stop building for the browser.
    run(
        "cargo",
        &[
            "build",
            "-p",
            "layerlab-core",
            "--target",
            "wasm32-unknown-unknown",
            "--locked",
        ],
    )?;
    eprintln!("\nall checks passed");
    Ok(())
}
