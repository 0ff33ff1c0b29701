//! The labs engine behind `/api/labs/...`: starts a lab's sandbox (or
//! connects to the kind cluster), runs check, solve and console requests on
//! it, streams check results as server-sent events, and keeps each step's
//! latest result for the grading report.
//!
//! Sandbox work is blocking (processes, `nsenter`), so it runs on tokio's
//! blocking pool under a small semaphore; cluster work is async through
//! `layerlab-kube`. Both judge with `layerlab-core`, like the tutor and CLI.

use crate::error::ApiError;
use axum::http::StatusCode;
use layerlab_core::Journey;
use layerlab_core::lab::{CheckResult, CommandOutput, Lab, LabReport, Needs, StepResult};
use layerlab_kube::{ConnectOptions, KubeLabs};
use layerlab_labs::sandbox::{Owner, Sandbox};
use layerlab_labs::{runner, tools};
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

/// Where a lab's checks run.
#[derive(Clone)]
enum Target {
    Sandbox(Sandbox),
    Cluster(KubeLabs),
}

/// The labs engine: one per server.
pub struct LabEngine {
    /// Whether lab runs are allowed (`layerlab serve --no-labs` turns them off).
    enabled: bool,
    /// kube context for kind labs (`--context`).
    context: Option<String>,
    runs: Semaphore,
    /// Serializes sandbox creation and removal per server.
    lifecycle: tokio::sync::Mutex<()>,
    /// Sandboxes this server started (removed at shutdown).
    started: Mutex<BTreeSet<String>>,
    /// The cluster connection, once made.
    cluster: tokio::sync::Mutex<Option<KubeLabs>>,
    /// Latest result per lab and step (1-based), for the report.
    latest: Mutex<HashMap<String, BTreeMap<usize, StepResult>>>,
}

impl std::fmt::Debug for LabEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabEngine")
            .field("enabled", &self.enabled)
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
        Self {
            enabled,
            context,
            runs: Semaphore::new(RUNS_AT_ONCE),
            lifecycle: tokio::sync::Mutex::new(()),
            started: Mutex::new(BTreeSet::new()),
            cluster: tokio::sync::Mutex::new(None),
            latest: Mutex::new(HashMap::new()),
        }
    }

    /// A 503 when labs are turned off.
    pub(crate) fn ensure_enabled(&self) -> Result<(), ApiError> {
        if self.enabled {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "labs are turned off on this server (it was started with --no-labs)",
            ))
        }
    }

    fn shell_hint(lab: &Lab) -> String {
        match lab.needs {
            Needs::Sandbox => format!("sudo layerlab lab shell {}", lab.id),
            Needs::Kind => "kubectl --context kind-layerlab get pods -A".to_string(),
        }
    }

    /// Whether the lab's sandbox runs (no side effects).
    pub async fn status(&self, lab: &'static Lab) -> LabStatus {
        match lab.needs {
            Needs::Sandbox => {
                let found = blocking(move || Sandbox::find(&lab.id))
                    .await
                    .ok()
                    .flatten();
                LabStatus {
                    lab: lab.id.clone(),
                    needs: lab.needs,
                    running: found.is_some(),
                    shell: Self::shell_hint(lab),
                    rootless: found.map(|s| s.rootless),
                    context: None,
                }
            }
            Needs::Kind => {
                let cluster = self.cluster.lock().await;
                LabStatus {
                    lab: lab.id.clone(),
                    needs: lab.needs,
                    running: cluster.is_some(),
                    shell: Self::shell_hint(lab),
                    rootless: None,
                    context: cluster.as_ref().and_then(|c| c.context().map(String::from)),
                }
            }
        }
    }

    /// Starts the lab's sandbox (or connects to the cluster) if needed.
    pub async fn start(&self, lab: &'static Lab) -> Result<LabStatus, ApiError> {
        self.ensure_enabled()?;
        self.target(lab).await?;
        Ok(self.status(lab).await)
    }

    /// The lab's target, started or connected on first use. A sandbox
    /// stopped from a terminal (`layerlab lab stop`) is started again.
    async fn target(&self, lab: &'static Lab) -> Result<Target, ApiError> {
        match lab.needs {
            Needs::Sandbox => {
                if let Some(sb) = blocking(move || Sandbox::find(&lab.id)).await? {
                    return Ok(Target::Sandbox(sb));
                }
                let _one_at_a_time = self.lifecycle.lock().await;
                let sb = blocking(move || {
                    if let Some(missing) = tools::check_linux_lab_tools() {
                        return Err(missing);
                    }
                    Sandbox::ensure(&lab.id, Owner::Process(std::process::id()))
                        .map_err(|e| e.to_string())
                })
                .await?
                .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
                info!(lab = %lab.id, pid = sb.pid, rootless = sb.rootless, "sandbox started");
                self.started
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(lab.id.clone());
                Ok(Target::Sandbox(sb))
            }
            Needs::Kind => {
                let mut cluster = self.cluster.lock().await;
                if let Some(c) = cluster.as_ref() {
                    return Ok(Target::Cluster(c.clone()));
                }
                let opts = ConnectOptions::for_labs(self.context.clone());
                let labs = KubeLabs::connect(&opts).await.map_err(|e| {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "cannot reach the kind cluster: {e} (create it with `layerlab cluster up`)"
                        ),
                    )
                })?;
                *cluster = Some(labs.clone());
                Ok(Target::Cluster(labs))
            }
        }
    }

    /// Runs step `step` (1-based) and sends each check's result, then the
    /// step's, on `events`. Never fails: trouble becomes an error event.
    pub async fn check(
        self: Arc<Self>,
        lab: &'static Lab,
        step: usize,
        answer: Option<String>,
        events: mpsc::Sender<CheckEvent>,
    ) {
        let result = async {
            self.ensure_enabled()?;
            let target = self.target(lab).await?;
            let _turn = self.runs.acquire().await.map_err(|_| closing())?;
            let index = step - 1;
            let result = match target {
                Target::Sandbox(sb) => {
                    let tx = events.clone();
                    blocking(move || {
                        runner::run_step_reporting(&sb, lab, index, answer.as_deref(), |i, r| {
                            // A closed page just stops listening.
                            let _ = tx.blocking_send(CheckEvent::Check {
                                index: i,
                                result: r.clone(),
                            });
                        })
                    })
                    .await?
                }
                Target::Cluster(kube) => {
                    let answers = vec![answer; lab.steps[index].checks.len()];
                    let r = kube.run_step(lab, index, &answers).await;
                    for (i, c) in r.checks.iter().enumerate() {
                        let _ = events
                            .send(CheckEvent::Check {
                                index: i,
                                result: c.clone(),
                            })
                            .await;
                    }
                    r
                }
            };
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
        let target = self.target(lab).await?;
        let _turn = self.runs.acquire().await.map_err(|_| closing())?;
        let s = &lab.steps[step - 1];
        let failed = |e: String| {
            ApiError::new(
                StatusCode::CONFLICT,
                format!("step {step} solution failed: {e}"),
            )
        };
        match target {
            Target::Sandbox(sb) => blocking(move || runner::solve_step(&sb, s))
                .await?
                .map_err(failed),
            Target::Cluster(kube) => kube.solve_step(lab, step - 1).await.map_err(failed),
        }
    }

    /// Runs one console command in the lab's sandbox.
    pub async fn console(
        &self,
        lab: &'static Lab,
        command: String,
    ) -> Result<CommandOutput, ApiError> {
        self.ensure_enabled()?;
        if lab.needs == Needs::Kind {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "kind labs have no sandbox console: run kubectl in your own terminal",
            ));
        }
        let Target::Sandbox(sb) = self.target(lab).await? else {
            unreachable!("sandbox labs have sandbox targets")
        };
        let _turn = self.runs.acquire().await.map_err(|_| closing())?;
        let limit = CONSOLE_OUTPUT_LIMIT;
        // Output is cut inside the sandbox (head), so a chatty command
        // stops early instead of growing the server's buffers.
        let script = format!("exec > >(head -c {limit}) 2> >(head -c {limit} >&2)\n{command}");
        blocking(move || sb.run(&script, CONSOLE_TIMEOUT)).await
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
        if lab.needs == Needs::Kind {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "kind labs share one cluster: remove it with `layerlab cluster down`",
            ));
        }
        {
            let _one_at_a_time = self.lifecycle.lock().await;
            blocking(move || {
                if let Some(sb) = Sandbox::find(&lab.id) {
                    sb.destroy();
                }
            })
            .await?;
        }
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&lab.id);
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
        let steps = lab
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                seen.and_then(|m| m.get(&(i + 1)).cloned())
                    .unwrap_or_else(|| StepResult {
                        step: i + 1,
                        title: s.title.clone(),
                        passed: false,
                        checked_at_ms: 0,
                        checks: Vec::new(),
                    })
            })
            .collect();
        LabReport {
            version: 1,
            lab: lab.id.clone(),
            title: lab.title.clone(),
            learner,
            steps,
        }
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
        if lab.needs == Needs::Kind {
            return Err(missing());
        }
        let file = format!("step-{step}-check-{check}.pcap");
        let bytes = blocking(move || {
            Sandbox::find(&lab.id).and_then(|sb| std::fs::read(sb.dir.join(file)).ok())
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
            format!(
                "The packets your sandbox exchanged in step {step}, as the check captured them."
            )
        });
        Ok(journey)
    }

    /// Removes the sandboxes this server started (at shutdown).
    pub fn shutdown(&self) {
        let started = std::mem::take(&mut *self.started.lock().unwrap_or_else(|e| e.into_inner()));
        for id in started {
            if let Some(sb) = Sandbox::find(&id) {
                sb.destroy();
                info!(lab = %id, "sandbox removed");
            }
        }
    }
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
