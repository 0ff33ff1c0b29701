//! `layerlab lab ...`: list, start, enter, check, solve, reset and report
//! labs from the command line.

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use layerlab_core::lab::{Lab, LabReport, Needs, StepResult};
use layerlab_core::{Progress, Timestamp};
use layerlab_labs::runner;
use layerlab_labs::sandbox::{self, Owner, Sandbox};
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
    /// Start the lab's sandbox (kept until `stop` or `reset`).
    Start {
        /// Lab id.
        lab: String,
    },
    /// Open a shell inside the lab's sandbox (starting it if needed).
    Shell {
        /// Lab id.
        lab: String,
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
        /// kube context for kind labs (default: kind-layerlab, else the current one).
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

fn sandbox_lab(id: &str) -> Result<&'static Lab> {
    let lab = layerlab_labs::find(id).map_err(anyhow::Error::msg)?;
    if lab.needs != Needs::Sandbox {
        bail!(
            "lab `{id}` runs on a kind cluster: create it with `layerlab cluster up`, then use the tutor or `layerlab lab check`"
        );
    }
    Ok(lab)
}

fn ensure(lab: &Lab) -> Result<Sandbox> {
    if let Some(missing) = layerlab_labs::tools::check_linux_lab_tools() {
        bail!("{missing}");
    }
    let existed = Sandbox::find(&lab.id).is_some();
    let sb = Sandbox::ensure(&lab.id, Owner::Nobody)?;
    if !existed {
        eprintln!(
            "started the sandbox for `{}` ({}): a private network host, invisible to yours",
            lab.id,
            if sb.rootless {
                "rootless, in a user namespace"
            } else {
                "as root: network namespaces and iptables need CAP_NET_ADMIN"
            }
        );
    }
    Ok(sb)
}

/// Runs a lab subcommand; `Ok(false)` means checks failed.
pub fn run(cmd: LabCommand) -> Result<bool> {
    match cmd {
        LabCommand::List => {
            let running: Vec<String> = sandbox::list().into_iter().map(|s| s.lab).collect();
            for lab in layerlab_labs::labs() {
                let needs = match lab.needs {
                    Needs::Sandbox => "sandbox",
                    Needs::Kind => "kind",
                };
                let mark = if running.contains(&lab.id) {
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
            let lab = layerlab_labs::find(&lab).map_err(anyhow::Error::msg)?;
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
        LabCommand::Start { lab } => {
            let lab = sandbox_lab(&lab)?;
            let sb = ensure(lab)?;
            println!(
                "sandbox for `{}` is running (PID {}); enter it with `layerlab lab shell {}`",
                lab.id, sb.pid, lab.id
            );
            Ok(true)
        }
        LabCommand::Shell { lab } => {
            let lab = sandbox_lab(&lab)?;
            let sb = ensure(lab)?;
            let status = sb
                .shell_command()
                .status()
                .context("starting a shell in the sandbox")?;
            Ok(status.success() || status.code().is_some())
        }
        LabCommand::Stop { lab } => {
            let lab = sandbox_lab(&lab)?;
            match Sandbox::find(&lab.id) {
                Some(sb) => {
                    sb.destroy();
                    println!("sandbox for `{}` removed", lab.id);
                }
                None => println!("no sandbox for `{}` is running", lab.id),
            }
            Ok(true)
        }
        LabCommand::Reset { lab } => {
            let lab = sandbox_lab(&lab)?;
            if let Some(sb) = Sandbox::find(&lab.id) {
                sb.destroy();
            }
            ensure(lab)?;
            println!("sandbox for `{}` is fresh", lab.id);
            Ok(true)
        }
        LabCommand::Solve { lab, step, context } => {
            let found = layerlab_labs::find(&lab).map_err(anyhow::Error::msg)?;
            if found.needs == Needs::Kind {
                let kube = Kube::connect(context)?;
                for i in steps(found, step)? {
                    kube.solve(found, i)?;
                    println!(
                        "applied the solution of step {}: {}",
                        i + 1,
                        found.steps[i].title
                    );
                }
                return Ok(true);
            }
            let lab = sandbox_lab(&lab)?;
            let sb = ensure(lab)?;
            for i in steps(lab, step)? {
                runner::solve_step(&sb, &lab.steps[i])
                    .map_err(|e| anyhow::anyhow!("step {} solution failed: {e}", i + 1))?;
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
            let found = layerlab_labs::find(&lab).map_err(anyhow::Error::msg)?;
            let which = steps(found, step)?;
            let results: Vec<StepResult> = if found.needs == Needs::Kind {
                let kube = Kube::connect(context)?;
                which
                    .iter()
                    .map(|&i| {
                        let r = kube.check(found, i, answer.as_deref());
                        if !json {
                            print_step(found, &r);
                        }
                        r
                    })
                    .collect()
            } else {
                let lab = sandbox_lab(&lab)?;
                let sb = ensure(lab)?;
                if watch {
                    return watch_steps(&sb, lab, &which, answer.as_deref());
                }
                which
                    .iter()
                    .map(|&i| {
                        let r = runner::run_step(&sb, lab, i, answer.as_deref());
                        if !json {
                            print_step(lab, &r);
                        }
                        r
                    })
                    .collect()
            };
            let lab = found;
            let all = results.iter().all(|r| r.passed);
            record(lab, &results);
            if json {
                println!("{}", report(lab, results, None).to_json());
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
            let found = layerlab_labs::find(&lab).map_err(anyhow::Error::msg)?;
            let results: Vec<StepResult> = if found.needs == Needs::Kind {
                let kube = Kube::connect(context)?;
                (0..found.steps.len())
                    .map(|i| kube.check(found, i, answer.as_deref()))
                    .collect()
            } else {
                let sb = ensure(found)?;
                (0..found.steps.len())
                    .map(|i| runner::run_step(&sb, found, i, answer.as_deref()))
                    .collect()
            };
            let lab = found;
            record(lab, &results);
            let all = results.iter().all(|r| r.passed);
            let r = report(lab, results, learner);
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

fn report(lab: &Lab, steps: Vec<StepResult>, learner: Option<String>) -> LabReport {
    LabReport {
        version: 1,
        lab: lab.id.clone(),
        title: lab.title.clone(),
        learner: learner
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "unknown".into()),
        steps,
    }
}

/// Saves passed steps in the learner's progress (the tutor shows them).
fn record(lab: &Lab, results: &[StepResult]) {
    let Ok(store) = crate::store::ProgressStore::default_location() else {
        return;
    };
    let Ok(loaded) = store.load() else { return };
    let mut progress: Progress = loaded.progress();
    let now = Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    for r in results {
        progress.record_step(&lab.id, &r.step.to_string(), r.passed, now);
    }
    if let Err(e) = store.save(&progress) {
        eprintln!("layerlab: could not save progress: {e:#}");
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

fn watch_steps(sb: &Sandbox, lab: &Lab, which: &[usize], answer: Option<&str>) -> Result<bool> {
    let mut pending: Vec<usize> = which.to_vec();
    let start = Instant::now();
    eprintln!("watching {} steps; Ctrl-C to stop", pending.len());
    while !pending.is_empty() {
        let mut still = Vec::new();
        for &i in &pending {
            let r = runner::run_step(sb, lab, i, answer);
            if r.passed {
                println!(
                    "[PASS] step {}: {} (after {:.1} s)",
                    i + 1,
                    lab.steps[i].title,
                    start.elapsed().as_secs_f64()
                );
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

/// A kind lab's cluster connection, driven from this synchronous CLI.
struct Kube {
    rt: tokio::runtime::Runtime,
    labs: layerlab_kube::KubeLabs,
}

impl Kube {
    fn connect(context: Option<String>) -> Result<Kube> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let opts = layerlab_kube::ConnectOptions::for_labs(context);
        let labs = rt
            .block_on(layerlab_kube::KubeLabs::connect(&opts))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Kube { rt, labs })
    }

    fn check(&self, lab: &Lab, step: usize, answer: Option<&str>) -> StepResult {
        let answers = vec![answer.map(String::from); lab.steps[step].checks.len()];
        self.rt.block_on(self.labs.run_step(lab, step, &answers))
    }

    fn solve(&self, lab: &Lab, step: usize) -> Result<()> {
        self.rt
            .block_on(self.labs.solve_step(lab, step))
            .map_err(|e| anyhow::anyhow!("step {} solution failed: {e}", step + 1))
    }
}
