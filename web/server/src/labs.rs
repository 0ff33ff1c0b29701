//! The labs engine behind `/api/labs/...`: starts a lab (its sandbox, or
//! the cluster connection) through the one lab-run API
//! (`layerlab_labs::run`, as the tutor and the command line do), runs
//! check, solve and console requests on it, streams each check's result as
//! a server-sent event the moment it is decided, and keeps each step's
//! latest result for the grading report.
//!
//! The lab-run API is blocking, so every call runs on tokio's blocking pool
//! under a small semaphore; cluster work inside it runs on this server's
//! runtime.

use crate::error::ApiError;
use crate::workshop::Caller;
use axum::http::StatusCode;
use layerlab_core::Journey;
use layerlab_core::lab::{CheckResult, CommandOutput, Lab, LabReport, Needs, StepResult};
use layerlab_labs::confine::Confine;
use layerlab_labs::run::{ClusterSpace, Confinement, LabRun, Labs, Pace, RunError, RunOptions};
use layerlab_labs::sandbox::Owner;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tracing::{info, warn};

/// Sandbox or cluster runs in progress at once; more wait their turn (each
/// run starts processes, so a page hammering the API cannot fork-bomb).
const RUNS_AT_ONCE: usize = 4;

/// How long a live re-check of a sandbox nothing has changed since its
/// last observation is answered with that observation instead of a new
/// one. Changes the server knows of (terminal input, console, solve, start,
/// reset) end it at once; this bounds how late anything else (a process
/// the learner left running) shows.
const UNCHANGED_FOR_MS: u64 = 5_000;

/// Longest a console command may run.
const CONSOLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Console output kept per stream; the rest is cut (and the command
/// stopped by SIGPIPE), so `yes` cannot fill the server's memory.
pub const CONSOLE_OUTPUT_LIMIT: usize = 64 * 1024;

/// Most packets of a capture shown as journey hops.
const CAPTURE_HOPS: usize = 2000;

/// Whose lab run: `None` for the single user of a server without
/// `--workshop`, else the learner's id.
type Seat = Option<String>;

/// The labs engine: one per server. In a workshop each learner has their
/// own lab runs (confined sandboxes keyed `learner/lab`); results, idle
/// times and sandboxes are all kept per learner.
pub struct LabEngine {
    /// Why lab runs are refused, if they are (`--no-labs`, or a server
    /// reachable from the network).
    refused: Option<String>,
    /// kube context for kind labs (`--context`).
    context: Option<String>,
    /// Workshops: how learners' runs are kept apart.
    learners: Option<LearnerRuns>,
    /// The lab runs per seat (made on first use, on the server's runtime).
    labs: Mutex<HashMap<Seat, Arc<Labs>>>,
    runs: Semaphore,
    /// Serializes sandbox creation and removal per server.
    lifecycle: tokio::sync::Mutex<()>,
    /// Labs this server started, per seat, with their last use (their
    /// sandboxes go when idle too long, and at shutdown).
    started: Mutex<BTreeMap<(Seat, &'static str), Instant>>,
    /// Latest result per seat, lab and step (1-based), for the report.
    latest: Mutex<HashMap<(Seat, String), BTreeMap<usize, StepResult>>>,
    /// When each seat's lab was last changed through the server (console,
    /// solve), in ms since the Unix epoch.
    changed: Mutex<HashMap<(Seat, String), u64>>,
}

impl std::fmt::Debug for LabEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabEngine")
            .field("refused", &self.refused)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

/// How a workshop keeps learners' lab runs apart: sandbox labs in confined
/// sandboxes, kind labs in namespaces of their own on the shared cluster.
#[derive(Debug, Clone)]
pub struct LearnerRuns {
    /// How each learner's sandboxes are confined.
    pub confine: Confine,
    /// Where learners' kubeconfigs and tokens for kind labs are kept (one
    /// folder per learner).
    pub spaces: std::path::PathBuf,
    /// Where every learner's check results go, with their evidence (the
    /// grade the server stands behind); `None` keeps them in memory only.
    pub book: Option<Arc<crate::gradebook::Gradebook>>,
}

/// What `POST /api/labs/{id}/start` and `GET /api/labs/{id}/status` answer.
#[derive(Debug, Serialize)]
pub struct LabStatus {
    /// Lab id.
    pub lab: String,
    /// `sandbox` or `kind`.
    pub needs: Needs,
    /// Whether its sandbox is running (kind labs: whether connected).
    pub running: bool,
    /// How to open a terminal on the same sandbox or cluster.
    pub shell: String,
    /// Whether the page can open a terminal (`/api/labs/{id}/terminal`):
    /// sandbox labs on a server that runs labs.
    pub terminal: bool,
    /// Sandbox labs: whether it runs in a user namespace (no real root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootless: Option<bool>,
    /// Kind labs: the kube context checks use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// In a workshop: hints the instructor revealed to this learner for
    /// this lab, oldest first (the lab page shows them as it polls).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<crate::gradebook::Hint>,
}

/// What a learner can do to a lab's sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Start it (or connect to the cluster) if needed.
    Start,
    /// Remove it.
    Stop,
    /// Remove it and start a fresh one.
    Reset,
}

/// A streamed check event.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum CheckEvent {
    /// One check decided (0-based `index` within the step).
    Check {
        /// Check index.
        index: usize,
        /// Its result.
        result: CheckResult,
    },
    /// The whole step, last.
    Step {
        /// The step's result.
        #[serde(flatten)]
        result: StepResult,
        /// Whether it went into the gradebook as a new attempt: a workshop
        /// learner's check, unless it is a live re-check that only repeats
        /// the step's last verdict.
        recorded: bool,
    },
    /// The run could not happen (sandbox or cluster unavailable).
    Error {
        /// Why.
        error: String,
    },
}

impl LabEngine {
    /// An engine; `enabled: false` answers every run with a 503.
    pub fn new(enabled: bool, context: Option<String>) -> Self {
        let refused = (!enabled).then(|| {
            "labs are turned off on this server (it was started with --no-labs)".to_string()
        });
        Self::with_refusal(refused, context, None)
    }

    /// The engine of a server started with `opts`: labs only where they
    /// cannot hand the machine to strangers. A plain lab sandbox runs
    /// whatever its learner types as this server's user, so a server
    /// reachable from the network refuses lab runs (saying why) unless it
    /// runs a workshop, whose runs are kept apart per learner (`learners`).
    pub fn for_server(
        labs: bool,
        bind: std::net::IpAddr,
        context: Option<String>,
        learners: Option<LearnerRuns>,
    ) -> Self {
        if labs && !bind.is_loopback() && learners.is_none() {
            return Self::with_refusal(
                Some(format!(
                    "labs are off on this server: it listens on {bind}, reachable from the network, \
                     and a lab sandbox runs its learner's commands as the server's user; \
                     serve labs on 127.0.0.1 (reach it through an SSH tunnel), run a workshop \
                     (`--workshop`: confined sandboxes per learner), or run the course only"
                )),
                context,
                None,
            );
        }
        let mut engine = Self::new(labs, context);
        engine.learners = learners;
        engine
    }

    fn with_refusal(
        refused: Option<String>,
        context: Option<String>,
        learners: Option<LearnerRuns>,
    ) -> Self {
        Self {
            refused,
            context,
            learners,
            labs: Mutex::new(HashMap::new()),
            runs: Semaphore::new(RUNS_AT_ONCE),
            lifecycle: tokio::sync::Mutex::new(()),
            started: Mutex::new(BTreeMap::new()),
            latest: Mutex::new(HashMap::new()),
            changed: Mutex::new(HashMap::new()),
        }
    }

    /// Runs the single user's cluster labs on this connection (tests: a
    /// stand-in API server).
    pub fn with_labs(self, labs: Labs) -> Self {
        self.labs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(None, Arc::new(labs));
        self
    }

    /// A 503 naming the reason when lab runs are refused.
    pub(crate) fn ensure_enabled(&self) -> Result<(), ApiError> {
        match &self.refused {
            None => Ok(()),
            Some(why) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why.clone())),
        }
    }

    /// Whose runs a caller's requests act on. In a workshop every caller
    /// has a seat of their own; confinement is never skipped there.
    fn seat(&self, who: &Caller) -> Seat {
        who.learner().map(String::from)
    }

    /// The seat's lab runs; made on first use so that they share the
    /// server's runtime.
    fn labs(&self, seat: &Seat) -> Arc<Labs> {
        let mut all = self.labs.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(seat.clone())
            .or_insert_with(|| {
                let (confine, cluster_space) = match (&self.learners, seat) {
                    (Some(w), Some(learner)) => (
                        Some(Confinement {
                            learner: learner.clone(),
                            confine: w.confine.clone(),
                        }),
                        Some(ClusterSpace {
                            learner: learner.clone(),
                            dir: w.spaces.join(learner),
                            limits: Default::default(),
                        }),
                    ),
                    _ => (None, None),
                };
                Arc::new(Labs::new(RunOptions {
                    owner: Owner::Process(std::process::id()),
                    context: self.context.clone(),
                    runtime: tokio::runtime::Handle::try_current().ok(),
                    confine,
                    cluster_space,
                    ..RunOptions::default()
                }))
            })
            .clone()
    }

    /// Whether the lab runs (no side effects).
    pub async fn status(&self, who: &Caller, lab: &'static Lab) -> LabStatus {
        let labs = self.labs(&self.seat(who));
        let info = blocking(move || labs.info(lab)).await.ok();
        LabStatus {
            lab: lab.id.clone(),
            needs: lab.needs,
            running: info.as_ref().is_some_and(|i| i.running),
            // A workshop's learners have no terminal on the server's machine.
            shell: match (&self.learners, &info) {
                (Some(_), _) => "the terminal on this page".to_string(),
                (None, Some(i)) => i.shell_hint.clone(),
                (None, None) => format!("layerlab lab shell {}", lab.id),
            },
            terminal: self.refused.is_none()
                && (lab.needs == Needs::Sandbox || self.learners.is_some()),
            rootless: info.as_ref().and_then(|i| i.rootless),
            context: info.and_then(|i| i.context),
            hints: self.hints(who, lab).await,
        }
    }

    /// The hints revealed to a workshop learner for `lab`; none for anyone
    /// else, or when the gradebook cannot be read (a status still answers).
    async fn hints(&self, who: &Caller, lab: &'static Lab) -> Vec<crate::gradebook::Hint> {
        let (
            Some(LearnerRuns {
                book: Some(book), ..
            }),
            Caller::Learner(id),
        ) = (&self.learners, who)
        else {
            return Vec::new();
        };
        let (book, id) = (book.clone(), id.clone());
        match blocking(move || book.hints(&id)).await {
            Ok(Ok(all)) => all.into_iter().filter(|h| h.lab == lab.id).collect(),
            Ok(Err(e)) => {
                warn!(error = %e, "hints could not be read");
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Starts the lab's sandbox (or connects to the cluster) if needed.
    pub async fn start(&self, who: &Caller, lab: &'static Lab) -> Result<LabStatus, ApiError> {
        self.ensure_enabled()?;
        self.run_of(who, lab).await?;
        Ok(self.status(who, lab).await)
    }

    /// The lab's run, started or connected on first use. A sandbox stopped
    /// from a terminal (`layerlab lab stop`) is started again.
    async fn run_of(&self, who: &Caller, lab: &'static Lab) -> Result<LabRun, ApiError> {
        let seat = self.seat(who);
        let labs = self.labs(&seat);
        let _one_at_a_time = self.lifecycle.lock().await;
        let run = blocking(move || labs.start(lab))
            .await?
            .map_err(unavailable)?;
        if run.started_now() {
            let info = run.info();
            info!(lab = %lab.id, learner = ?seat, rootless = ?info.rootless, context = ?info.context, "lab started");
        }
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((seat, &lab.id), Instant::now());
        Ok(run)
    }

    /// Runs step `step` (1-based) and sends each check's result the moment
    /// it is decided, then the step's, on `events`. Never fails: trouble
    /// becomes an error event. A `live` re-check (quick, no answer) of a
    /// sandbox unchanged since its last observation (no change through the
    /// server, nothing typed since `typed_ms`, at most [`UNCHANGED_FOR_MS`]
    /// ago) is answered with that observation.
    #[allow(clippy::too_many_arguments)]
    pub async fn check(
        self: Arc<Self>,
        who: Caller,
        lab: &'static Lab,
        step: usize,
        answer: Option<String>,
        pace: Pace,
        typed_ms: Option<u64>,
        events: mpsc::Sender<CheckEvent>,
    ) {
        let live = pace == Pace::Quick && answer.is_none();
        let seat_lab = (self.seat(&who), lab.id.clone());
        let last = self
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&seat_lab)
            .and_then(|steps| steps.get(&step).cloned());
        if live
            && let Some(seen) = last
                .as_ref()
                .filter(|r| self.unchanged_since(&seat_lab, r, typed_ms))
        {
            for (index, result) in seen.checks.iter().cloned().enumerate() {
                let _ = events.send(CheckEvent::Check { index, result }).await;
            }
            let _ = events
                .send(CheckEvent::Step {
                    result: seen.clone(),
                    recorded: false,
                })
                .await;
            return;
        }
        let result = async {
            self.ensure_enabled()?;
            let run = self.run_of(&who, lab).await?;
            let _turn = self.runs.acquire().await.map_err(|_| closing())?;
            // Checks report from inside the run (for cluster labs, from
            // inside this runtime), where nothing may block: one event per
            // check, so an unbounded hand-over holds at most a step's worth.
            let (tx, mut rx) = mpsc::unbounded_channel();
            let page = events.clone();
            let forward = tokio::spawn(async move {
                while let Some(ev) = rx.recv().await {
                    // A closed page just stops listening.
                    let _ = page.send(ev).await;
                }
            });
            let result = blocking(move || {
                let result = run.check(step - 1, answer.as_deref(), pace, |i, r| {
                    let _ = tx.send(CheckEvent::Check {
                        index: i,
                        result: r.clone(),
                    });
                })?;
                let captured = captured_packets(&run, step, &result);
                Ok((result, captured))
            })
            .await?
            .map_err(unavailable);
            // Every check's event goes out before the step's.
            let _ = forward.await;
            let (result, captured) = result?;
            // A live re-check that sees what was last seen adds no attempt:
            // attempts stay the learner's own checks and the changes of
            // verdict, not the page's polling.
            let repeat = live && last.as_ref().is_some_and(|l| same_verdicts(l, &result));
            let recorded = !repeat && self.record(&who, lab, &result, captured).await?;
            self.latest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(seat_lab)
                .or_default()
                .insert(step, result.clone());
            Ok::<_, ApiError>((result, recorded))
        }
        .await;
        let last = match result {
            Ok((result, recorded)) => CheckEvent::Step { result, recorded },
            Err(e) => CheckEvent::Error { error: e.message },
        };
        let _ = events.send(last).await;
    }

    /// Whether `last` (an observation of the seat's lab) still stands:
    /// recent, and nothing changed or was typed since.
    fn unchanged_since(
        &self,
        seat_lab: &(Seat, String),
        last: &StepResult,
        typed_ms: Option<u64>,
    ) -> bool {
        let now = layerlab_labs::runner::epoch_ms();
        let changed = self
            .changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(seat_lab)
            .copied()
            .unwrap_or(0);
        now.saturating_sub(last.checked_at_ms) < UNCHANGED_FOR_MS
            && last.checked_at_ms > changed
            && typed_ms.is_none_or(|t| last.checked_at_ms > t)
    }

    /// Notes that the seat's lab was just changed through the server.
    fn mark_changed(&self, who: &Caller, lab: &'static Lab) {
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (self.seat(who), lab.id.clone()),
                layerlab_labs::runner::epoch_ms(),
            );
    }

    /// Puts a learner's check result in the gradebook (on disk before the
    /// page hears of it); a result that cannot be kept is reported as such.
    /// Answers whether it was kept (only workshop learners' are).
    async fn record(
        &self,
        who: &Caller,
        lab: &'static Lab,
        result: &StepResult,
        captured: Option<String>,
    ) -> Result<bool, ApiError> {
        let (Caller::Learner(id), Some(book)) =
            (who, self.learners.as_ref().and_then(|l| l.book.clone()))
        else {
            return Ok(false);
        };
        let (id, result) = (id.clone(), result.clone());
        blocking(move || book.record_check(&id, &lab.id, &result, captured.as_deref()))
            .await?
            .map(|_| true)
            .map_err(|e| {
                warn!(error = %e, "a check result could not be recorded");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server could not record this result; check again in a moment",
                )
            })
    }

    /// Applies step `step`'s setup and solution commands.
    pub async fn solve(
        &self,
        who: &Caller,
        lab: &'static Lab,
        step: usize,
    ) -> Result<(), ApiError> {
        self.ensure_enabled()?;
        let run = self.run_of(who, lab).await?;
        let _turn = self.runs.acquire().await.map_err(|_| closing())?;
        let solved = blocking(move || run.solve(step - 1)).await?;
        self.mark_changed(who, lab);
        solved.map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))
    }

    /// The lab's run for a shell or command: labs without a sandbox
    /// (cluster labs) are refused, since their shell would run on the
    /// server's own machine.
    async fn isolated_run(&self, who: &Caller, lab: &'static Lab) -> Result<LabRun, ApiError> {
        self.ensure_enabled()?;
        let run = self.run_of(who, lab).await?;
        if !run.info().isolated {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "this lab has no sandbox: its commands would run on the server's machine itself; run kubectl in your own terminal",
            ));
        }
        Ok(run)
    }

    /// Runs one console command in the lab's sandbox.
    pub async fn console(
        &self,
        who: &Caller,
        lab: &'static Lab,
        command: String,
    ) -> Result<CommandOutput, ApiError> {
        let run = self.isolated_run(who, lab).await?;
        let _turn = self.runs.acquire().await.map_err(|_| closing())?;
        let limit = CONSOLE_OUTPUT_LIMIT;
        // Output is cut where it runs (head), so a chatty command stops
        // early instead of growing the server's buffers.
        let script = format!("exec > >(head -c {limit}) 2> >(head -c {limit} >&2)\n{command}");
        let out = blocking(move || run.run_command(&script, CONSOLE_TIMEOUT)).await;
        self.mark_changed(who, lab);
        out
    }

    /// The command that opens a shell in the lab's sandbox (started if
    /// needed), for a terminal; refused like the console for labs without one.
    pub async fn shell(
        &self,
        who: &Caller,
        lab: &'static Lab,
    ) -> Result<std::process::Command, ApiError> {
        let run = self.isolated_run(who, lab).await?;
        let mut cmd = run.shell_command();
        // The browser's terminal is xterm.js, whatever TERM the server has.
        cmd.env("TERM", "xterm-256color");
        Ok(cmd)
    }

    /// Starts, stops or resets the lab's sandbox.
    pub async fn lifecycle(
        &self,
        who: &Caller,
        lab: &'static Lab,
        action: Lifecycle,
    ) -> Result<LabStatus, ApiError> {
        match action {
            Lifecycle::Start => self.start(who, lab).await,
            Lifecycle::Stop => self.stop(who, lab).await,
            Lifecycle::Reset => {
                self.stop(who, lab).await?;
                self.start(who, lab).await
            }
        }
    }

    /// Removes the lab's sandbox (and forgets its results).
    pub async fn stop(&self, who: &Caller, lab: &'static Lab) -> Result<LabStatus, ApiError> {
        self.ensure_enabled()?;
        let seat = self.seat(who);
        {
            let labs = self.labs(&seat);
            let _one_at_a_time = self.lifecycle.lock().await;
            blocking(move || labs.stop(lab))
                .await?
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        }
        self.forget(&seat, lab);
        Ok(self.status(who, lab).await)
    }

    fn forget(&self, seat: &Seat, lab: &'static Lab) {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(seat.clone(), lab.id.as_str()));
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(seat.clone(), lab.id.clone()));
    }

    /// The report of the latest result of every step of `learner`'s run
    /// (`None`: the single user); steps never checked on this server count
    /// as failed with no checks.
    pub fn report(&self, seat: Option<&str>, lab: &Lab, learner: String) -> LabReport {
        // A workshop's learners: from the gradebook, so a restart forgets nothing.
        if let (Some(id), Some(book)) = (seat, self.learners.as_ref().and_then(|l| l.book.as_ref()))
            && let Ok(kept) = book.latest_results(id, &lab.id)
            && !kept.is_empty()
        {
            return LabReport::of(lab, learner, |n| kept.get(&n).cloned());
        }
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let seen = latest.get(&(seat.map(String::from), lab.id.clone()));
        LabReport::of(lab, learner, |n| seen.and_then(|m| m.get(&n).cloned()))
    }

    /// What check `check` of step `step` (both 1-based) captured on its
    /// last run, as a journey the page animates like the authored ones.
    pub async fn capture_journey(
        &self,
        who: &Caller,
        lab: &'static Lab,
        step: usize,
        check: usize,
    ) -> Result<Journey, ApiError> {
        let missing = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no capture from step {step}, check {check} of `{}` yet: run that step's check first",
                    lab.id
                ),
            )
        };
        let labs = self.labs(&self.seat(who));
        let bytes = blocking(move || {
            labs.existing(lab)
                .ok()
                .and_then(|run| run.saved_capture(step, check))
        })
        .await?
        .ok_or_else(missing)?;
        let c = &lab.steps[step - 1].checks[check - 1];
        let title = format!("{}: {}", lab.title, c.title);
        let (mut journey, note) = Journey::from_capture_file(
            &format!("{}-step-{step}-check-{check}", lab.id),
            &title,
            &bytes,
            CAPTURE_HOPS,
        )
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the capture cannot be shown: {e}"),
            )
        })?;
        journey.summary = note.unwrap_or_else(|| {
            format!("The packets your lab exchanged in step {step}, as the check captured them.")
        });
        Ok(journey)
    }

    /// Removes sandboxes unused for `idle` (blocking) unless `in_use` says
    /// otherwise (their terminal had input lately); answers the learner and
    /// lab of each one removed.
    pub fn reclaim_idle(
        &self,
        idle: Duration,
        in_use: impl Fn(Option<&str>, &'static Lab) -> bool,
    ) -> Vec<(Seat, &'static str)> {
        let stale: Vec<(Seat, &'static str)> = self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, used)| used.elapsed() >= idle)
            .map(|(k, _)| k.clone())
            .filter(|(seat, id)| {
                layerlab_labs::find(id).is_ok_and(|lab| !in_use(seat.as_deref(), lab))
            })
            .collect();
        let mut removed = Vec::new();
        for (seat, id) in stale {
            let Ok(lab) = layerlab_labs::find(id) else {
                continue;
            };
            match self.labs(&seat).stop(lab) {
                Ok(true) => {
                    info!(lab = %id, learner = ?seat, idle_s = idle.as_secs(), "idle sandbox removed");
                    self.forget(&seat, lab);
                    removed.push((seat, id));
                }
                Ok(false) => self.forget(&seat, lab),
                // Cluster labs have no sandbox to reclaim (stop refuses).
                Err(_) => {}
            }
        }
        removed
    }

    /// Removes the sandboxes this server started (at shutdown).
    pub fn shutdown(&self) {
        let started = std::mem::take(&mut *self.started.lock().unwrap_or_else(|e| e.into_inner()));
        for (seat, id) in started.into_keys() {
            if let Ok(lab) = layerlab_labs::find(id)
                && let Ok(true) = self.labs(&seat).stop(lab)
            {
                info!(lab = %id, learner = ?seat, "sandbox removed");
            }
        }
    }
}

/// A lab that cannot start or run: the server cannot serve it now.
fn unavailable(e: RunError) -> ApiError {
    let status = match e {
        RunError::NoStep { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    ApiError::new(status, e.to_string())
}

fn closing() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is shutting down",
    )
}

/// Runs blocking work (commands, the gradebook) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        warn!(error = %e, "a lab task failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

/// The packets the step's capture checks caught on this run, one line
/// each, under the check's title (what the gradebook keeps with the
/// attempt); `None` when the step captured nothing.
fn captured_packets(run: &LabRun, step: usize, result: &StepResult) -> Option<String> {
    let mut out = String::new();
    for (i, c) in result.checks.iter().enumerate() {
        if c.kind != "capture" {
            continue;
        }
        let Some(pcap) = run.saved_capture(step, i + 1) else {
            continue;
        };
        let lines = match layerlab_core::lab::packet_records(&pcap) {
            Ok(set) => set.evidence(),
            Err(e) => format!("(unreadable capture: {e})"),
        };
        out.push_str(&format!("check {}: {}\n{lines}\n", i + 1, c.title));
    }
    (!out.is_empty()).then_some(out)
}

/// Whether two results of a step have the same verdict, check by check.
fn same_verdicts(a: &StepResult, b: &StepResult) -> bool {
    a.passed == b.passed
        && a.checks
            .iter()
            .map(|c| c.passed)
            .eq(b.checks.iter().map(|c| c.passed))
}
