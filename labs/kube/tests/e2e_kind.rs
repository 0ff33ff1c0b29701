//! The real end-to-end suite: for every chapter 4–5 lab and every step, on
//! a real kind cluster: run the step's setup, see its checks fail, run its
//! solution, see every check pass.
//!
//! `LAYERLAB_E2E=kind cargo test -p layerlab-kube --test e2e_kind`
//!
//! It creates (or repairs) the cluster `layerlab` with `layerlab cluster up`
//! for each chapter, deleting and recreating it between chapters 4 and 5.
//!
//! With `LAYERLAB_E2E_WORKSHOP=1` each lab runs as a workshop learner
//! would: in a learner space (its own namespace, a ServiceAccount confined
//! to it, a token from the TokenRequest API), with the solution applied by
//! the learner's kubeconfig and node-level checks read with the admin's;
//! the space is torn down after the lab.
//! Without `LAYERLAB_E2E=kind`, or without kind and docker, it prints one
//! `skipped:` line to stderr and runs nothing (a custom harness, so it is
//! never counted as a pass).

use layerlab_core::SourceFile;
use layerlab_core::lab::{Lab, Mode, Needs, load_labs};
use layerlab_kube::cluster::{self, prereq};
use layerlab_kube::learner_space;
use layerlab_kube::{ConnectOptions, KIND_CONTEXT, KubeLabs};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

fn kind_labs() -> Vec<Lab> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../content");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("labs/content")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect();
    files.sort();
    let sources: Vec<SourceFile<'_>> = files
        .iter()
        .map(|(p, t)| SourceFile { path: p, text: t })
        .collect();
    let loaded = load_labs(&sources, &BTreeSet::new());
    let mut labs: Vec<Lab> = loaded
        .labs
        .into_iter()
        .filter(|l| l.needs == Needs::Kind)
        .collect();
    // Chapter 4 first, then chapter 5 (one cluster rebuild).
    labs.sort_by_key(|l| (chapter(l), l.source.clone()));
    labs
}

fn chapter(lab: &Lab) -> u8 {
    if lab.chapter == "abstractions" { 5 } else { 4 }
}

async fn run() -> Result<(usize, usize), String> {
    let labs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let opts = ConnectOptions {
        context: Some(
            std::env::var("LAYERLAB_E2E_CONTEXT").unwrap_or_else(|_| KIND_CONTEXT.into()),
        ),
        kubeconfig: None,
    };
    let mut print = |line: &str| eprintln!("  {line}");
    let (mut passed, mut failed) = (0, 0);
    let mut current: Option<u8> = None;
    for lab in kind_labs() {
        let ch = chapter(&lab);
        if current != Some(ch) {
            if current.is_some() {
                cluster::down(&opts, &mut print).map_err(|e| e.to_string())?;
            }
            eprintln!("cluster up --chapter {ch}");
            cluster::up(&opts, Some(ch), &mut print)
                .await
                .map_err(|e| format!("cluster up --chapter {ch}: {e}"))?;
            current = Some(ch);
        }
        let admin = KubeLabs::connect(&opts).await.map_err(|e| e.to_string())?;
        let lab_ns = lab.namespace.clone().unwrap_or_else(|| lab.id.clone());
        let workshop = std::env::var("LAYERLAB_E2E_WORKSHOP").as_deref() == Ok("1");
        let tmp = std::env::temp_dir().join(format!("layerlab-e2e-{}", std::process::id()));
        let (runner, space) = if workshop {
            let space = learner_space::open(
                admin.client(),
                &opts,
                "e2e",
                &lab_ns,
                &learner_space::SpaceLimits::default(),
                &tmp.join(&lab.id).join("kubeconfig"),
            )
            .await
            .map_err(|e| format!("{}: learner space: {e}", lab.id))?;
            let learner = KubeLabs::connect(&ConnectOptions {
                context: Some(space.context.clone()),
                kubeconfig: Some(space.kubeconfig.clone()),
            })
            .await
            .map_err(|e| e.to_string())?;
            let runner = learner
                .in_namespace(lab.namespace.as_deref(), &space.namespace)
                .with_reader(&admin);
            (runner, Some(space.namespace))
        } else {
            learner_space::ensure_namespace(admin.client(), &lab_ns)
                .await
                .map_err(|e| e.to_string())?;
            (admin.clone().in_namespace(Some(&lab_ns), &lab_ns), None)
        };
        for (i, step) in lab.steps.iter().enumerate() {
            let name = format!("{} step {} ({})", lab.id, i + 1, step.title);
            if let Err(e) = runner.run_commands(&step.setup, &labs_dir).await {
                eprintln!("FAIL {name}: setup: {e}");
                failed += 1;
                continue;
            }
            // Before the solution: one quick observation per check.
            let mut before_failing = 0;
            for c in &step.checks {
                let mut quick = c.clone();
                quick.mode = Mode::Once;
                if !runner.run_check(&quick, None).await.passed {
                    before_failing += 1;
                }
            }
            if let Err(e) = runner.run_commands(&step.solution, &labs_dir).await {
                eprintln!("FAIL {name}: solution: {e}");
                failed += 1;
                continue;
            }
            let result = runner.run_step(&lab, i, &[]).await;
            let bad: Vec<String> = result
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("`{}`: {}", c.title, c.message))
                .collect();
            if before_failing == 0 {
                eprintln!("FAIL {name}: every check already passed before the solution");
                failed += 1;
            } else if !bad.is_empty() {
                eprintln!("FAIL {name}: after the solution: {}", bad.join("; "));
                failed += 1;
            } else {
                eprintln!(
                    "ok   {name}: {before_failing} of {} checks failed before the solution, all pass after",
                    step.checks.len()
                );
                passed += 1;
            }
        }
        if let Some(ns) = space {
            learner_space::teardown(admin.client(), &ns)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok((passed, failed))
}

fn main() -> ExitCode {
    // `cargo test` passes libtest flags (`--list` when discovering tests).
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    if std::env::var("LAYERLAB_E2E").as_deref() != Ok("kind") {
        eprintln!("skipped: set LAYERLAB_E2E=kind to run the kind end-to-end suite");
        return ExitCode::SUCCESS;
    }
    let runtime_ok = prereq::on_path("docker").is_some() || prereq::on_path("podman").is_some();
    let engine_up = runtime_ok
        && prereq::check_all()
            .iter()
            .find(|f| f.what == "container runtime")
            .is_some_and(|f| f.ok);
    if prereq::on_path("kind").is_none() || !engine_up {
        eprintln!("skipped: no kind/docker");
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("e2e_kind: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok((passed, 0)) => {
            println!("e2e_kind: {passed} passed, 0 failed");
            ExitCode::SUCCESS
        }
        Ok((passed, failed)) => {
            println!("e2e_kind: {passed} passed, {failed} failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("e2e_kind: {e}");
            ExitCode::FAILURE
        }
    }
}
