//! Runs a lab's checks in its sandbox: observe, judge (in core), repeat
//! until the check's mode decides.

use crate::capture;
use crate::sandbox::Sandbox;
use layerlab_core::lab::{
    Attempt, Check, CheckKind, CheckResult, CommandFailed, CommandOutput, Decision, Lab,
    Observation, Probe, Step, StepResult, evaluate, probe,
};
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest a single probe command may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a single solution or setup command may take.
const SOLUTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Recent results of probe scripts, so the checks of one step that read the
/// same state (say, four interface checks reading one `ip -j addr` dump)
/// judge one snapshot instead of taking four.
#[derive(Default)]
pub struct Snapshots {
    recent: HashMap<String, (Instant, CommandOutput)>,
}

/// How long a snapshot may be reused.
const SNAPSHOT_MS: u128 = 50;

impl Snapshots {
    fn run(&mut self, sb: &Sandbox, script: &str) -> CommandOutput {
        if let Some((at, out)) = self.recent.get(script)
            && at.elapsed().as_millis() < SNAPSHOT_MS
        {
            return out.clone();
        }
        let out = sb.run(script, PROBE_TIMEOUT);
        self.recent
            .insert(script.to_string(), (Instant::now(), out.clone()));
        out
    }
}

/// Observes a check once.
pub fn observe(
    sb: &Sandbox,
    check: &Check,
    keep: Option<&std::path::Path>,
    snapshots: &mut Snapshots,
) -> Observation {
    match probe(&check.kind) {
        // Host commands may have effects (curl, ping): never reused.
        Probe::Shell(script)
            if matches!(check.kind, CheckKind::Host { .. } | CheckKind::Answer(_)) =>
        {
            Observation::Command(sb.run(&script, PROBE_TIMEOUT))
        }
        Probe::Shell(script) => Observation::Command(snapshots.run(sb, &script)),
        Probe::Capture(c) => capture::capture(sb, &c, keep),
        Probe::Saved(name) => match std::fs::read(sb.dir.join(format!("{name}.pcap"))) {
            Ok(pcap) => Observation::Packets {
                pcap,
                trigger: None,
            },
            Err(_) => Observation::Failed(format!(
                "no saved capture `{name}` yet: run the check that records it first"
            )),
        },
        Probe::Cluster | Probe::Http => Observation::Failed(format!(
            "`{}` checks need a cluster; this lab runs in a sandbox",
            check.kind.name()
        )),
    }
}

/// Runs one check until its mode decides.
pub fn run_check(
    sb: &Sandbox,
    check: &Check,
    answer: Option<&str>,
    keep: Option<&std::path::Path>,
) -> CheckResult {
    run_check_with(sb, check, answer, keep, &mut Snapshots::default())
}

fn run_check_with(
    sb: &Sandbox,
    check: &Check,
    answer: Option<&str>,
    keep: Option<&std::path::Path>,
    snapshots: &mut Snapshots,
) -> CheckResult {
    let t0 = Instant::now();
    let now = || t0.elapsed().as_millis() as u64;
    let mut attempt = Attempt::new(check, now());
    loop {
        let obs = observe(sb, check, keep, snapshots);
        let verdict = evaluate(&check.kind, &obs, answer);
        match attempt.record(verdict, now()) {
            Decision::Done => return attempt.finish(),
            Decision::Again { within_ms } => std::thread::sleep(Duration::from_millis(within_ms)),
        }
    }
}

/// Milliseconds since the Unix epoch: the clock check results are stamped
/// with (`StepResult::checked_at_ms`).
pub fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs every check of step `index` (0-based). Captures are kept in the
/// sandbox folder as `step-N-check-M.pcap` for the journey view.
pub fn run_step(sb: &Sandbox, lab: &Lab, index: usize, answer: Option<&str>) -> StepResult {
    run_step_reporting(sb, lab, index, answer, |_, _| {})
}

/// [`run_step`], telling `on_check` each check's result (with its 0-based
/// index) as soon as it is decided, so a server can stream them.
pub fn run_step_reporting(
    sb: &Sandbox,
    lab: &Lab,
    index: usize,
    answer: Option<&str>,
    mut on_check: impl FnMut(usize, &CheckResult),
) -> StepResult {
    check_step(sb, &lab.steps[index], index, answer, &mut on_check)
}

/// Runs every check of `step` (0-based `index` in its lab), reporting each
/// result as it is decided. Captures are kept in the sandbox folder as
/// `step-N-check-M.pcap` for the journey view.
pub fn check_step(
    sb: &Sandbox,
    step: &Step,
    index: usize,
    answer: Option<&str>,
    on_check: &mut dyn FnMut(usize, &CheckResult),
) -> StepResult {
    let mut snapshots = Snapshots::default();
    let checks = step
        .checks
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let keep = sb
                .dir
                .join(format!("step-{}-check-{}.pcap", index + 1, ci + 1));
            let r = run_check_with(sb, c, answer, Some(&keep), &mut snapshots);
            on_check(ci, &r);
            r
        })
        .collect::<Vec<_>>();
    StepResult {
        step: index + 1,
        title: step.title.clone(),
        passed: checks.iter().all(|c| c.passed),
        checked_at_ms: epoch_ms(),
        checks,
    }
}

/// Runs a list of commands in order, stopping at the first failure.
pub fn run_commands(
    sb: &Sandbox,
    commands: &[String],
) -> Result<Vec<CommandOutput>, CommandFailed> {
    let mut outs = Vec::new();
    for cmd in commands {
        let o = sb.run(cmd, SOLUTION_TIMEOUT);
        if o.exit != 0 {
            return Err(CommandFailed::of(cmd, &o));
        }
        outs.push(o);
    }
    Ok(outs)
}

/// Applies a step's solution (its setup first).
pub fn solve_step(sb: &Sandbox, step: &Step) -> Result<(), CommandFailed> {
    run_commands(sb, &step.setup)?;
    run_commands(sb, &step.solution).map(|_| ())
}
