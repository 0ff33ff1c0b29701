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
use axum::http::StatusCode;
use layerlab_core::Journey;
use layerlab_core::lab::{CheckResult, CommandOutput, Lab, LabReport, Needs, StepResult};
use layerlab_labs::run::{LabRun, Labs, Pace, RunError, RunOptions};
use layerlab_labs::sandbox::Owner;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tracing::{info, warn};

/// Sandbox or cluster runs in progress at once; more wait their turn (each
/// run starts processes, so a page hammering the API cannot fork-bomb).
const RUNS_AT_ONCE: usize = 4;

/// Longest a console command may run.
const CONSOLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Console output kept per stream; the rest is cut (and the command
/// stopped by SIGPIPE), so `yes` cannot fill the server's memory.
pub const CONSOLE_OUTPUT_LIMIT: usize = 64 * 1024;

/// Most packets of a capture shown as journey hops.
const CAPTURE_HOPS: usize = 2000;

/// The labs engine: one per server.
pub struct LabEngine {
    /// Why lab runs are refused, if they are (`--no-labs`, or a server
    /// reachable from the network).
    refused: Option<String>,
    /// kube context for kind labs (`--context`).
    context: Option<String>,
    /// The lab runs (made on first use, on the server's runtime).
    labs: std::sync::OnceLock<Arc<Labs>>,
    runs: Semaphore,
    /// Serializes sandbox creation and removal per server.
    lifecycle: tokio::sync::Mutex<()>,
    /// Labs this server started (their sandboxes go at shutdown).
    started: Mutex<BTreeSet<&'static str>>,
    /// Latest result per lab and step (1-based), for the report.
    latest: Mutex<HashMap<String, BTreeMap<usize, StepResult>>>,
}

impl std::fmt::Debug for LabEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabEngine")
            .field("refused", &self.refused)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
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
    Step(StepResult),
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
        Self::with_refusal(refused, context)
    }

    /// The engine of a server started with `opts`: labs only where they
    /// cannot hand the machine to strangers. A lab sandbox runs whatever its
    /// learner types as this server's user, so a server reachable from the
    /// network refuses lab runs (saying why) instead of opening a shell on
    /// its host to anyone who can reach the port.
    pub fn for_server(labs: bool, bind: std::net::IpAddr, context: Option<String>) -> Self {
        if labs && !bind.is_loopback() {
            return Self::with_refusal(
                Some(format!(
                    "labs are off on this server: it listens on {bind}, reachable from the network, \
                     and a lab sandbox runs its learner's commands as the server's user; \
                     serve labs on 127.0.0.1 (reach it through an SSH tunnel), or run the course only"
                )),
                context,
            );
        }
        Self::new(labs, context)
    }

    fn with_refusal(refused: Option<String>, context: Option<String>) -> Self {
        Self {
            refused,
            context,
            labs: std::sync::OnceLock::new(),
            runs: Semaphore::new(RUNS_AT_ONCE),
            lifecycle: tokio::sync::Mutex::new(()),
            started: Mutex::new(BTreeSet::new()),
            latest: Mutex::new(HashMap::new()),
        }
    }

    /// Runs cluster labs on this connection (tests: a stand-in API server).
    pub fn with_labs(self, labs: Labs) -> Self {
        let _ = self.labs.set(Arc::new(labs));
        self
    }

    /// A 503 naming the reason when lab runs are refused.
    pub(crate) fn ensure_enabled(&self) -> Result<(), ApiError> {
        match &self.refused {
            None => Ok(()),
            Some(why) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why.clone())),
        }
    }

    /// The lab runs; made on first use so that they share the server's runtime.
    fn labs(&self) -> Arc<Labs> {
        self.labs
            .get_or_init(|| {
                Arc::new(Labs::new(RunOptions {
                    owner: Owner::Process(std::process::id()),
                    context: self.context.clone(),
                    runtime: tokio::runtime::Handle::try_current().ok(),
                    ..RunOptions::default()
                }))
            })
            .clone()
    }

    /// Whether the lab runs (no side effects).
    pub async fn status(&self, lab: &'static Lab) -> LabStatus {
        let labs = self.labs();
        let info = blocking(move || labs.info(lab)).await.ok();
        LabStatus {
            lab: lab.id.clone(),
            needs: lab.needs,
            running: info.as_ref().is_some_and(|i| i.running),
            shell: info.as_ref().map_or_else(
                || format!("layerlab lab shell {}", lab.id),
                |i| i.shell_hint.clone(),
            ),
            terminal: self.refused.is_none() && lab.needs == Needs::Sandbox,
            rootless: info.as_ref().and_then(|i| i.rootless),
            context: info.and_then(|i| i.context),
        }
    }

    /// Starts the lab's sandbox (or connects to the cluster) if needed.
    pub async fn start(&self, lab: &'static Lab) -> Result<LabStatus, ApiError> {
        self.ensure_enabled()?;
        self.run_of(lab).await?;
        Ok(self.status(lab).await)
    }

    /// The lab's run, started or connected on first use. A sandbox stopped
    /// from a terminal (`layerlab lab stop`) is started again.
    async fn run_of(&self, lab: &'static Lab) -> Result<LabRun, ApiError> {
        let labs = self.labs();
        let _one_at_a_time = self.lifecycle.lock().await;
        let run = blocking(move || labs.start(lab))
            .await?
            .map_err(unavailable)?;
        if run.started_now() {
            let info = run.info();
            info!(lab = %lab.id, rootless = ?info.rootless, context = ?info.context, "lab started");
        }
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(&lab.id);
        Ok(run)
    }

    /// Runs step `step` (1-based) and sends each check's result the moment
    /// it is decided, then the step's, on `events`. Never fails: trouble
    /// becomes an error event.
    pub async fn check(
        self: Arc<Self>,
        lab: &'static Lab,
        step: usize,
        answer: Option<String>,
        events: mpsc::Sender<CheckEvent>,
    ) {
        let result = async {
            self.ensure_enabled()?;
            let run = self.run_of(lab).await?;
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
                run.check(step - 1, answer.as_deref(), Pace::Full, |i, r| {
                    let _ = tx.send(CheckEvent::Check {
                        index: i,
                        result: r.clone(),
                    });
                })
            })
            .await?
            .map_err(unavailable);
            // Every check's event goes out before the step's.
            let _ = forward.await;
            let result = result?;
            self.latest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(lab.id.clone())
                .or_default()
                .insert(step, result.clone());
            Ok::<_, ApiError>(result)
        }
        .await;
        let last = match result {
            Ok(r) => CheckEvent::Step(r),
            Err(e) => CheckEvent::Error { error: e.message },
        };
        let _ = events.send(last).await;
    }

    /// Applies step `step`'s setup and solution commands.
    pub async fn solve(&self, lab: &'static Lab, step: usize) -> Result<(), ApiError> {
        self.ensure_enabled()?;
        let run = self.run_of(lab).await?;
        let _turn = self.runs.acquire().await.map_err(|_| closing())?;
        blocking(move || run.solve(step - 1))
            .await?
            .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))
    }

    /// Runs one console command in the lab's sandbox; labs without one
    /// (cluster labs) are refused: a console there would be a shell on the
    /// server's own machine.
    pub async fn console(
        &self,
        lab: &'static Lab,
        command: String,
    ) -> Result<CommandOutput, ApiError> {
        self.ensure_enabled()?;
        let run = self.run_of(lab).await?;
        if !run.info().isolated {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "this lab has no sandbox: its commands would run on the server's machine itself; run kubectl in your own terminal",
            ));
        }
        let _turn = self.runs.acquire().await.map_err(|_| closing())?;
        let limit = CONSOLE_OUTPUT_LIMIT;
        // Output is cut where it runs (head), so a chatty command stops
        // early instead of growing the server's buffers.
        let script = format!("exec > >(head -c {limit}) 2> >(head -c {limit} >&2)\n{command}");
        blocking(move || run.run_command(&script, CONSOLE_TIMEOUT)).await
    }

    /// The command that opens a shell in the lab's sandbox (started if
    /// needed), for a terminal; refused like the console for labs without one.
    pub async fn shell(&self, lab: &'static Lab) -> Result<std::process::Command, ApiError> {
        self.ensure_enabled()?;
        let run = self.run_of(lab).await?;
        if !run.info().isolated {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "this lab has no sandbox: its shell would run on the server's machine itself; run kubectl in your own terminal",
            ));
        }
        let mut cmd = run.shell_command();
        // The browser's terminal is xterm.js, whatever TERM the server has.
        cmd.env("TERM", "xterm-256color");
        Ok(cmd)
    }

    /// Starts, stops or resets the lab's sandbox.
    pub async fn lifecycle(
        &self,
        lab: &'static Lab,
        action: Lifecycle,
    ) -> Result<LabStatus, ApiError> {
        match action {
            Lifecycle::Start => self.start(lab).await,
            Lifecycle::Stop => self.stop(lab).await,
            Lifecycle::Reset => {
                self.stop(lab).await?;
                self.start(lab).await
            }
        }
    }

    /// Removes the lab's sandbox (and forgets its results).
    pub async fn stop(&self, lab: &'static Lab) -> Result<LabStatus, ApiError> {
        self.ensure_enabled()?;
        {
            let labs = self.labs();
            let _one_at_a_time = self.lifecycle.lock().await;
            blocking(move || labs.stop(lab))
                .await?
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        }
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(lab.id.as_str());
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&lab.id);
        Ok(self.status(lab).await)
    }

    /// The report of the latest result of every step; steps never checked
    /// on this server count as failed with no checks.
    pub fn report(&self, lab: &Lab, learner: String) -> LabReport {
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let seen = latest.get(&lab.id);
        LabReport::of(lab, learner, |n| seen.and_then(|m| m.get(&n).cloned()))
    }

    /// What check `check` of step `step` (both 1-based) captured on its
    /// last run, as a journey the page animates like the authored ones.
    pub async fn capture_journey(
        &self,
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
        let labs = self.labs();
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

    /// Removes the sandboxes this server started (at shutdown).
    pub fn shutdown(&self) {
        let started = std::mem::take(&mut *self.started.lock().unwrap_or_else(|e| e.into_inner()));
        let labs = self.labs();
        for id in started {
            if let Ok(lab) = layerlab_labs::find(id)
                && let Ok(true) = labs.stop(lab)
            {
                info!(lab = %id, "sandbox removed");
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

/// Runs blocking work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        warn!(error = %e, "a lab task failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}
