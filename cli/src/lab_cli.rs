//! `layerlab lab ...`: list, start, enter, check, solve, reset and report
//! labs from the command line.

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use layerlab_core::Progress;
use layerlab_core::lab::{Lab, StepResult};
use layerlab_labs::run::{self, LabRun, Labs, Pace, RunOptions};
use layerlab_labs::store::{self, ProgressStore};
use std::io::Write;
use std::time::{Duration, Instant};

/// Lab subcommands.
#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// List the labs.
    List,
    /// Show a lab's steps and instructions.
    Show {
        /// Lab id.
        lab: String,
    },
    /// Start the lab's sandbox (kept until `stop` or `reset`), or connect to its cluster.
    Start {
        /// Lab id.
        lab: String,
        /// kube context for kind labs (default: kind-layerlab).
        #[arg(long)]
        context: Option<String>,
    },
    /// Open a shell on the lab: inside its sandbox (starting it if needed),
    /// or with kubectl bound to its cluster.
    Shell {
        /// Lab id.
        lab: String,
        /// kube context for kind labs (default: kind-layerlab).
        #[arg(long)]
        context: Option<String>,
    },
    /// Check the lab's steps against the real system.
    Check {
        /// Lab id.
        lab: String,
        /// Only this step (1-based).
        #[arg(long)]
        step: Option<usize>,
        /// Your answer, for steps that ask a question.
        #[arg(long)]
        answer: Option<String>,
        /// Keep checking, printing steps as they turn green, until all pass.
        #[arg(long)]
        watch: bool,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// kube context for kind labs (default: kind-layerlab).
        #[arg(long)]
        context: Option<String>,
    },
    /// Apply the solution of a step (or of every step).
    Solve {
        /// Lab id.
        lab: String,
        /// Only this step (1-based); without it, every step in order.
        #[arg(long)]
        step: Option<usize>,
        /// kube context for kind labs.
        #[arg(long)]
        context: Option<String>,
    },
    /// Destroy the sandbox and start a fresh one.
    Reset {
        /// Lab id.
        lab: String,
    },
    /// Destroy the sandbox.
    Stop {
        /// Lab id.
        lab: String,
    },
    /// Check every step and write a report for grading.
    Report {
        /// Lab id.
        lab: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Learner name in the report (default: $USER).
        #[arg(long)]
        learner: Option<String>,
        /// Your answer, for steps that ask a question.
        #[arg(long)]
        answer: Option<String>,
        /// kube context for kind labs.
        #[arg(long)]
        context: Option<String>,
    },
}

/// Report formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Canonical JSON.
    Json,
    /// JUnit XML.
    Junit,
    /// CSV, one row per check.
    Csv,
}

fn find(id: &str) -> Result<&'static Lab> {
    Ok(layerlab_labs::find(id)?)
}

/// The lab's run, started (or the cluster connected) if needed; says so
/// when it started a sandbox.
fn start(labs: &Labs, lab: &'static Lab) -> Result<LabRun> {
    let run = labs.start(lab)?;
    if run.started_now()
        && let Some(rootless) = run.info().rootless
    {
        eprintln!(
            "started the sandbox for `{}` ({}): a private network host, invisible to yours",
            lab.id,
            if rootless {
                "rootless, in a user namespace"
            } else {
                "as root: network namespaces and iptables need CAP_NET_ADMIN"
            }
        );
    }
    Ok(run)
}

fn labs_for(context: Option<String>) -> Labs {
    Labs::new(RunOptions {
        context,
        ..RunOptions::default()
    })
}

/// Runs a lab subcommand; `Ok(false)` means checks failed.
pub fn run(cmd: LabCommand) -> Result<bool> {
    match cmd {
        LabCommand::List => {
            let labs = labs_for(None);
            for lab in layerlab_labs::labs() {
                let needs = lab.needs.name();
                let mark = if labs.is_running(lab) {
                    " (running)"
                } else {
                    ""
                };
                println!(
                    "{:<22} {:<8} {:>2} steps  {}{mark}",
                    lab.id,
                    needs,
                    lab.steps.len(),
                    lab.title
                );
            }
            Ok(true)
        }
        LabCommand::Show { lab } => {
            let lab = find(&lab)?;
            println!("{} — {}\n\n{}\n", lab.id, lab.title, lab.summary.trim());
            for (i, s) in lab.steps.iter().enumerate() {
                println!("Step {}: {}\n", i + 1, s.title);
                println!("{}", s.instructions.trim_end());
                for c in &s.checks {
                    println!("  [ ] {}", c.title);
                }
                println!();
            }
            Ok(true)
        }
        LabCommand::Start { lab, context } => {
            let run = start(&labs_for(context), find(&lab)?)?;
            println!(
                "`{lab}` is ready; open a shell on it with `{}`",
                run.info().shell_hint
            );
            Ok(true)
        }
        LabCommand::Shell { lab, context } => {
            let run = start(&labs_for(context), find(&lab)?)?;
            let status = run
                .shell_command()
                .status()
                .context("starting a shell on the lab")?;
            Ok(status.success() || status.code().is_some())
        }
        LabCommand::Stop { lab } => {
            let lab = find(&lab)?;
            if labs_for(None).stop(lab)? {
                println!("sandbox for `{}` removed", lab.id);
            } else {
                println!("no sandbox for `{}` is running", lab.id);
            }
            Ok(true)
        }
        LabCommand::Reset { lab } => {
            let lab = find(&lab)?;
            labs_for(None).reset(lab)?;
            println!("sandbox for `{}` is fresh", lab.id);
            Ok(true)
        }
        LabCommand::Solve { lab, step, context } => {
            let lab = find(&lab)?;
            let run = start(&labs_for(context), lab)?;
            for i in steps(lab, step)? {
                run.solve(i)?;
                println!(
                    "applied the solution of step {}: {}",
                    i + 1,
                    lab.steps[i].title
                );
            }
            Ok(true)
        }
        LabCommand::Check {
            lab,
            step,
            answer,
            watch,
            json,
            context,
        } => {
            let lab = find(&lab)?;
            let which = steps(lab, step)?;
            let run = start(&labs_for(context), lab)?;
            if watch {
                return watch_steps(&run, &which, answer.as_deref());
            }
            let results = which
                .iter()
                .map(|&i| {
                    let r = run.check(i, answer.as_deref(), Pace::Full, |_, _| {})?;
                    if !json {
                        print_step(lab, &r);
                    }
                    Ok(r)
                })
                .collect::<Result<Vec<StepResult>>>()?;
            let all = results.iter().all(|r| r.passed);
            record(lab, &results);
            if json {
                println!("{}", run::report(lab, &results, None).to_json());
            }
            Ok(all)
        }
        LabCommand::Report {
            lab,
            format,
            learner,
            answer,
            context,
        } => {
            let lab = find(&lab)?;
            let run = start(&labs_for(context), lab)?;
            let results = (0..lab.steps.len())
                .map(|i| run.check(i, answer.as_deref(), Pace::Full, |_, _| {}))
                .collect::<Result<Vec<StepResult>, _>>()?;
            record(lab, &results);
            let all = results.iter().all(|r| r.passed);
            let r = run::report(lab, &results, learner);
            let text = match format {
                Format::Json => r.to_json(),
                Format::Junit => r.to_junit(),
                Format::Csv => r.to_csv(),
            };
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(all)
        }
    }
}

fn steps(lab: &Lab, step: Option<usize>) -> Result<Vec<usize>> {
    match step {
        None => Ok((0..lab.steps.len()).collect()),
        Some(n) if (1..=lab.steps.len()).contains(&n) => Ok(vec![n - 1]),
        Some(n) => bail!(
            "lab `{}` has steps 1 to {}, not {n}",
            lab.id,
            lab.steps.len()
        ),
    }
}

/// Saves passed steps in the learner's progress (the tutor shows them).
fn record(lab: &Lab, results: &[StepResult]) {
    let Ok(store) = ProgressStore::default_location() else {
        return;
    };
    let Ok(loaded) = store.load() else { return };
    let mut progress: Progress = loaded.progress();
    let now = store::now();
    for r in results {
        progress.record_step(&lab.id, &r.step.to_string(), r.passed, now);
    }
    if let Err(e) = store.save(&progress) {
        eprintln!("layerlab: could not save progress: {e}");
    }
}

/// Prints a step's result the way a learner reads it.
pub fn print_step(lab: &Lab, r: &StepResult) {
    print_checks(r);
    if !r.passed {
        // The step's hints that need no earlier failures (the CLI keeps no
        // attempt count between runs; the tutor unlocks the rest).
        for h in lab.steps[r.step - 1].hints_after(0) {
            println!("  hint: {}", h.text.trim());
        }
    }
}

fn print_checks(r: &StepResult) {
    let mark = if r.passed { "PASS" } else { "FAIL" };
    println!("[{mark}] step {}: {}", r.step, r.title);
    for c in &r.checks {
        let m = if c.passed { "  ✓" } else { "  ✗" };
        println!("{m} {} — {}", c.title, c.message);
        if !c.passed {
            for mm in &c.mismatches {
                println!(
                    "      {}: expected {}, observed {}",
                    mm.path, mm.expected, mm.observed
                );
            }
            if let Some(h) = &c.hint {
                println!("      hint: {h}");
            }
        }
        if c.kind == "capture" || (!c.passed && !c.evidence.is_empty()) {
            for line in c.evidence.lines().take(20) {
                println!("      | {line}");
            }
        }
    }
}

/// Re-checks the steps until every one passes, printing each check as it
/// turns green and each step as it passes (sandbox and cluster labs alike).
fn watch_steps(run: &LabRun, which: &[usize], answer: Option<&str>) -> Result<bool> {
    let lab = run.lab();
    let mut pending: Vec<usize> = which.to_vec();
    let mut green: std::collections::BTreeSet<(usize, usize)> = Default::default();
    let start = Instant::now();
    eprintln!("watching {} steps; Ctrl-C to stop", pending.len());
    while !pending.is_empty() {
        let mut still = Vec::new();
        for &i in &pending {
            let r = run.check(i, answer, Pace::Quick, |ci, c| {
                if c.passed && green.insert((i, ci)) {
                    println!(
                        "  ✓ step {} check {}: {} (after {:.1} s)",
                        i + 1,
                        ci + 1,
                        c.title,
                        start.elapsed().as_secs_f64()
                    );
                    let _ = std::io::stdout().flush();
                }
            })?;
            if r.passed {
                println!(
                    "[PASS] step {}: {} (after {:.1} s)",
                    i + 1,
                    lab.steps[i].title,
                    start.elapsed().as_secs_f64()
                );
                let _ = std::io::stdout().flush();
                record(lab, std::slice::from_ref(&r));
            } else {
                still.push(i);
            }
        }
        pending = still;
        if !pending.is_empty() {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    println!("all steps pass");
    Ok(true)
}
