//! One way into a lab run, for the command line, the tutor and the server
//! alike: start (or connect), check a step with each check's result
//! reported as it is decided, solve, open a shell, read saved captures,
//! stop, and build the report from results.
//!
//! Sandbox labs and cluster labs are the two [`Backend`]s behind it; the
//! only place that looks at [`Needs`] is [`Labs::backend`]. Callers hold a
//! [`Labs`] (one per process: it keeps the cluster connection) and the
//! [`LabRun`]s it hands out.
//!
//! The API is blocking. Cluster work runs on a tokio runtime: the caller's
//! (pass a [`Handle`] and call from a thread outside it, e.g.
//! `spawn_blocking`) or one the [`Labs`] makes for itself.

use crate::runner;
use crate::sandbox::{Owner, Sandbox, SandboxError};
use crate::tools::MissingTools;
use layerlab_core::lab::{CheckResult, CommandOutput, Lab, LabReport, Needs, Step, StepResult};
use layerlab_kube::{CheckOutcome, ConnectOptions, KubeLabs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};

/// Why a lab run could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Programs the lab needs are missing (the message names the packages).
    #[error(transparent)]
    MissingTools(#[from] MissingTools),
    /// The sandbox could not be made or used.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The lab's sandbox is not running (nothing to act on).
    #[error("the sandbox for `{0}` is not running; start it with `layerlab lab start {0}`")]
    NotRunning(String),
    /// The cluster could not be reached.
    #[error("{source} (for the kind cluster: `layerlab cluster up`)")]
    Cluster {
        /// The cause, from the kube client.
        #[source]
        source: layerlab_kube::Error,
    },
    /// Cluster labs share one cluster: stopping or resetting it is not a lab's to do.
    #[error(
        "kind labs share one cluster: remove it with `layerlab cluster down`, or undo a step with kubectl"
    )]
    SharedCluster,
    /// A step's setup or solution command failed.
    #[error("step {step} solution failed: {source}")]
    Solution {
        /// 1-based step.
        step: usize,
        /// The failing command and its last error line.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No such step.
    #[error("lab `{lab}` has steps 1 to {count}, not {step}")]
    NoStep {
        /// Lab id.
        lab: String,
        /// Its step count.
        count: usize,
        /// The 1-based step asked for.
        step: usize,
    },
    /// A runtime for cluster work could not be made.
    #[error("cannot start the runtime for cluster checks: {0}")]
    Runtime(#[source] std::io::Error),
}

/// How a step is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As the lab says: `eventually` checks retry until their timeout.
    Full,
    /// Every `eventually` check observed once (a live checklist's look).
    Quick,
}

/// What a lab run is, for status lines and the server's status answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// Whether its sandbox runs (cluster labs: whether connected).
    pub running: bool,
    /// Sandbox labs: whether it runs in a user namespace (no real root).
    pub rootless: Option<bool>,
    /// Cluster labs: the kube context checks use.
    pub context: Option<String>,
    /// Whether its commands and shell run inside a sandbox; if not they
    /// run on this machine itself (with `kubectl` bound to the cluster), and
    /// a server must not offer them to its visitors.
    pub isolated: bool,
    /// How to open a terminal on the same sandbox or cluster.
    pub shell_hint: String,
    /// Cluster labs: the namespace the lab works in (a learner's own in a
    /// workshop).
    pub namespace: Option<String>,
    /// Workshop cluster labs: the learner's kubeconfig (0600), bound to
    /// their namespace and ServiceAccount: what a learner's terminal gets
    /// as `KUBECONFIG` (never the server's own).
    pub kubeconfig: Option<PathBuf>,
}

/// Where cluster labs run, and who owns the sandboxes a process starts.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Sandboxes this process starts: removed with it, or kept.
    pub owner: Owner,
    /// kube context (default: `kind-layerlab`).
    pub context: Option<String>,
    /// kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// The runtime for cluster work (default: one of the [`Labs`]' own).
    pub runtime: Option<Handle>,
    /// Shared machines: sandboxes confined, one per learner per lab.
    pub confine: Option<Confinement>,
    /// Workshops: kind labs in the learner's own namespaces on the shared
    /// cluster (`context`), provisioned on first start.
    pub cluster_space: Option<ClusterSpace>,
}

/// Kind labs for one learner on a shared cluster: each lab in its own
/// namespace `ll-<learner>-<lab namespace>` (made on the lab's first
/// start), with a ServiceAccount confined to it; the lab's commands, shell
/// and namespaced checks use that ServiceAccount's kubeconfig, node-level
/// checks the server's credentials (read-only).
#[derive(Debug, Clone)]
pub struct ClusterSpace {
    /// The learner's id (part of each namespace's name and its label).
    pub learner: String,
    /// Where the learner's kubeconfigs (0600) and captures are kept, one
    /// folder per lab.
    pub dir: PathBuf,
    /// Quota and limits of each namespace.
    pub limits: layerlab_kube::learner_space::SpaceLimits,
}

/// Confined sandboxes for one learner (the workshop server): keyed
/// `learner/lab`, started with [`Sandbox::create_confined`].
#[derive(Debug, Clone)]
pub struct Confinement {
    /// The learner's id (part of the sandbox key).
    pub learner: String,
    /// Host uid, limits, folders to hide.
    pub confine: crate::confine::Confine,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            owner: Owner::Nobody,
            context: None,
            kubeconfig: None,
            runtime: None,
            confine: None,
            cluster_space: None,
        }
    }
}

/// Why a step's solution did not apply, from either backend.
type SolveError = Box<dyn std::error::Error + Send + Sync>;

/// What a lab runs on: a sandbox or a cluster. [`LabRun`] is the face.
trait Backend: Send + Sync {
    fn check(
        &self,
        lab: &Lab,
        step: &Step,
        index: usize,
        answer: Option<&str>,
        on_check: &mut dyn FnMut(usize, &CheckResult),
    ) -> StepResult;
    fn solve(&self, lab: &Lab, index: usize) -> Result<(), SolveError>;
    fn capture_path(&self, step: usize, check: usize) -> PathBuf;
    fn shell_command(&self) -> Command;
    fn run(&self, script: &str, timeout: Duration) -> CommandOutput;
    fn info(&self) -> RunInfo;
}

/// The lab runs of one process: starts sandboxes, keeps the cluster
/// connection, and hands out [`LabRun`]s.
pub struct Labs {
    opts: RunOptions,
    rt: Mutex<Option<Rt>>,
    cluster: Mutex<Option<KubeLabs>>,
    /// Per lab id: the runner scoped to its namespace (a learner's space in
    /// a workshop), and when it was made (tokens expire).
    scoped: Mutex<std::collections::HashMap<String, Scoped>>,
    /// Holders of kind-lab shell sandboxes already bridged to the API server.
    bridged: Mutex<std::collections::HashSet<u32>>,
}

/// A kind lab's runner, its learner space in a workshop, and when its
/// token was issued.
struct Scoped {
    kube: KubeLabs,
    space: Option<layerlab_kube::learner_space::LearnerSpace>,
    since: std::time::Instant,
}

/// A learner's token is renewed when older than this (it lives an hour;
/// kube clients reread the token file every minute).
const TOKEN_RENEW: Duration = Duration::from_secs(45 * 60);

/// The runtime cluster work runs on.
#[derive(Clone)]
enum Rt {
    Owned(Arc<Runtime>),
    Shared(Handle),
}

impl Rt {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match self {
            Rt::Owned(rt) => rt.block_on(f),
            Rt::Shared(h) => h.block_on(f),
        }
    }
}

impl Labs {
    /// The lab runs of this process.
    pub fn new(opts: RunOptions) -> Self {
        Labs {
            opts,
            rt: Mutex::new(None),
            cluster: Mutex::new(None),
            scoped: Mutex::new(Default::default()),
            bridged: Mutex::new(Default::default()),
        }
    }

    /// Cluster labs run on this connection (tests pass one to a stand-in).
    pub fn with_cluster(self, kube: KubeLabs) -> Self {
        *self.cluster.lock().unwrap_or_else(|e| e.into_inner()) = Some(kube);
        self
    }

    fn runtime(&self) -> Result<Rt, RunError> {
        let mut rt = self.rt.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = rt.as_ref() {
            return Ok(r.clone());
        }
        let made = match &self.opts.runtime {
            Some(h) => Rt::Shared(h.clone()),
            None => Rt::Owned(Arc::new(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(RunError::Runtime)?,
            )),
        };
        *rt = Some(made.clone());
        Ok(made)
    }

    fn connect(&self) -> Result<(KubeLabs, Rt), RunError> {
        let rt = self.runtime()?;
        let mut cluster = self.cluster.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = cluster.as_ref() {
            return Ok((k.clone(), rt));
        }
        let mut opts = ConnectOptions::for_labs(self.opts.context.clone());
        opts.kubeconfig = self.opts.kubeconfig.clone();
        let kube = rt
            .block_on(KubeLabs::connect(&opts))
            .map_err(|source| RunError::Cluster { source })?;
        *cluster = Some(kube.clone());
        Ok((kube, rt))
    }

    /// The sandbox's name: the lab's id, or `learner/lab` when confined.
    fn sandbox_key(&self, lab: &Lab) -> String {
        match &self.opts.confine {
            Some(c) => format!("{}/{}", c.learner, lab.id),
            None => lab.id.clone(),
        }
    }

    /// The one place that tells sandbox labs from cluster labs.
    fn backend(&self, lab: &'static Lab, start: Start) -> Result<Arc<dyn Backend>, RunError> {
        match lab.needs {
            Needs::Sandbox => {
                let sb = match start {
                    Start::Existing => Sandbox::find(&self.sandbox_key(lab))
                        .ok_or_else(|| RunError::NotRunning(lab.id.clone()))?,
                    Start::Ensure | Start::Fresh => {
                        if let Some(missing) = crate::tools::check_lab_tools(lab) {
                            return Err(missing.into());
                        }
                        let (key, owner) = (self.sandbox_key(lab), self.opts.owner);
                        match (&self.opts.confine, start) {
                            (Some(c), Start::Fresh) => {
                                Sandbox::create_confined(&key, owner, &c.confine)?
                            }
                            (Some(c), _) => Sandbox::ensure_confined(&key, owner, &c.confine)?,
                            (None, Start::Fresh) => Sandbox::create(&lab.id, owner)?,
                            (None, _) => Sandbox::ensure(&lab.id, owner)?,
                        }
                    }
                };
                Ok(Arc::new(SandboxBackend { sb }))
            }
            Needs::Kind => {
                if start == Start::Fresh {
                    return Err(RunError::SharedCluster);
                }
                let connected = self
                    .cluster
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_some();
                if start == Start::Existing && !connected {
                    return Err(RunError::NotRunning(lab.id.clone()));
                }
                let (admin, rt) = self.connect()?;
                let kube = self.scoped(lab, &admin, &rt, start)?;
                let dir = match &self.opts.cluster_space {
                    Some(space) => space.dir.join(&lab.id),
                    None => cluster_dir(&lab.id),
                };
                let shell = match (&self.opts.confine, &self.opts.cluster_space) {
                    (Some(c), Some(_)) => self.kube_shell(lab, c, &kube, start)?,
                    _ => None,
                };
                Ok(Arc::new(ClusterBackend {
                    dir,
                    context: kube.context().map(String::from),
                    kube,
                    rt,
                    shell,
                }))
            }
        }
    }

    /// A workshop learner's shell for a kind lab: a confined sandbox like a
    /// sandbox lab's, whose only way out is a bridge from its own
    /// `127.0.0.1:6443` to the API server, with a kubeconfig inside that
    /// holds the learner's token (their namespace's rights, nothing more).
    /// `None` when only looking and none runs.
    fn kube_shell(
        &self,
        lab: &Lab,
        c: &Confinement,
        kube: &KubeLabs,
        start: Start,
    ) -> Result<Option<Sandbox>, RunError> {
        let key = self.sandbox_key(lab);
        let sb = match start {
            Start::Existing => match Sandbox::find(&key) {
                Some(sb) => sb,
                None => return Ok(None),
            },
            _ => Sandbox::ensure_confined(&key, self.opts.owner, &c.confine)?,
        };
        let unusable = |why: String| {
            RunError::Sandbox(SandboxError::Create(format!(
                "cannot give the learner's shell its kubeconfig: {why}"
            )))
        };
        let learner = kube
            .kubeconfig()
            .ok_or_else(|| unusable("the learner's runner has no kubeconfig".into()))?;
        let text = std::fs::read_to_string(learner)
            .map_err(|e| unusable(format!("{}: {e}", learner.display())))?;
        // The token is copied on every use, so the shell follows renewals.
        let token = learner.with_file_name("token");
        // Named as the kubeconfig names it (relative to the kubeconfig).
        let inside_token = sb.dir.join("token");
        let inside = layerlab_kube::learner_space::via_server(&text, "https://127.0.0.1:6443")
            .map_err(|e| unusable(e.to_string()))?;
        let owned_by_learner = |path: &Path, bytes: &[u8]| -> std::io::Result<()> {
            use std::os::unix::fs::OpenOptionsExt;
            let tmp = path.with_extension("tmp");
            let _ = std::fs::remove_file(&tmp);
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))?;
            std::os::unix::fs::chown(&tmp, Some(c.confine.uid), Some(c.confine.uid))?;
            std::fs::rename(&tmp, path)
        };
        let token_bytes =
            std::fs::read(&token).map_err(|e| unusable(format!("{}: {e}", token.display())))?;
        owned_by_learner(&inside_token, &token_bytes)
            .and_then(|()| owned_by_learner(&sb.dir.join("kubeconfig"), inside.as_bytes()))
            .map_err(|e| unusable(e.to_string()))?;
        let mut bridged = self.bridged.lock().unwrap_or_else(|e| e.into_inner());
        if !bridged.contains(&sb.pid) {
            let target = layerlab_kube::learner_space::server_address(&text)
                .map_err(|e| unusable(e.to_string()))?;
            crate::bridge::open(sb.pid, 6443, target)
                .map_err(|e| unusable(format!("the bridge to the API server: {e}")))?;
            bridged.retain(|pid| Path::new(&format!("/proc/{pid}")).exists());
            bridged.insert(sb.pid);
        }
        Ok(Some(sb))
    }

    /// The runner for a kind lab: in a workshop, scoped to the learner's
    /// space (provisioned on first start, its token renewed when old); on
    /// one's own cluster, to the lab's namespace (made if missing); a lab
    /// naming no namespace uses the admin runner as it is.
    fn scoped(
        &self,
        lab: &Lab,
        admin: &KubeLabs,
        rt: &Rt,
        start: Start,
    ) -> Result<KubeLabs, RunError> {
        let cluster = |source| RunError::Cluster { source };
        let mut scoped = self.scoped.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = scoped.get_mut(&lab.id) {
            if entry.since.elapsed() >= TOKEN_RENEW
                && let Some(space) = entry.space.as_mut()
            {
                // A fresh token into the token file the kubeconfig names:
                // runs already handed out pick it up too.
                rt.block_on(layerlab_kube::learner_space::renew_token(
                    admin.client(),
                    space,
                ))
                .map_err(cluster)?;
                entry.since = std::time::Instant::now();
            }
            return Ok(entry.kube.clone());
        }
        match (&self.opts.cluster_space, &lab.namespace) {
            (Some(_), _) if start == Start::Existing => Err(RunError::NotRunning(lab.id.clone())),
            (Some(space), lab_ns) => {
                let lab_ns = lab_ns.as_deref().unwrap_or(&lab.id);
                let mut opts = ConnectOptions::for_labs(self.opts.context.clone());
                opts.kubeconfig = self.opts.kubeconfig.clone();
                let file = space.dir.join(&lab.id).join("kubeconfig");
                let made = rt.block_on(async {
                    let s = layerlab_kube::learner_space::open(
                        admin.client(),
                        &opts,
                        &space.learner,
                        lab_ns,
                        &space.limits,
                        &file,
                    )
                    .await?;
                    let learner = KubeLabs::connect(&ConnectOptions {
                        context: Some(s.context.clone()),
                        kubeconfig: Some(s.kubeconfig.clone()),
                    })
                    .await?;
                    let kube = learner
                        .in_namespace(lab.namespace.as_deref(), &s.namespace)
                        .with_reader(admin);
                    Ok::<_, layerlab_kube::Error>((kube, s))
                });
                let (kube, space) = made.map_err(cluster)?;
                scoped.insert(
                    lab.id.clone(),
                    Scoped {
                        kube: kube.clone(),
                        space: Some(space),
                        since: std::time::Instant::now(),
                    },
                );
                Ok(kube)
            }
            (None, Some(ns)) => {
                if start != Start::Existing {
                    rt.block_on(layerlab_kube::learner_space::ensure_namespace(
                        admin.client(),
                        ns,
                    ))
                    .map_err(cluster)?;
                }
                let kube = admin.clone().in_namespace(Some(ns), ns);
                if start != Start::Existing {
                    scoped.insert(
                        lab.id.clone(),
                        Scoped {
                            kube: kube.clone(),
                            space: None,
                            since: std::time::Instant::now(),
                        },
                    );
                }
                Ok(kube)
            }
            (None, None) => Ok(admin.clone()),
        }
    }

    /// Workshops: the namespace of this learner's space for a kind lab.
    fn space_namespace(&self, lab: &Lab) -> Option<String> {
        let space = self.opts.cluster_space.as_ref()?;
        Some(layerlab_kube::learner_space::space_namespace(
            &space.learner,
            lab.namespace.as_deref().unwrap_or(&lab.id),
        ))
    }

    /// Workshops: deletes every namespace of this learner's kind labs on the
    /// shared cluster (what they built, their ServiceAccounts and tokens);
    /// answers the namespaces deleted. Nothing to do without a cluster space.
    pub fn remove_cluster_spaces(&self) -> Result<Vec<String>, RunError> {
        let Some(space) = &self.opts.cluster_space else {
            return Ok(Vec::new());
        };
        let (admin, rt) = self.connect()?;
        self.scoped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        rt.block_on(layerlab_kube::learner_space::teardown_learner(
            admin.client(),
            &space.learner,
        ))
        .map_err(|source| RunError::Cluster { source })
    }

    /// The lab's run, started (or connected) if needed, after checking the
    /// programs it needs are there.
    pub fn start(&self, lab: &'static Lab) -> Result<LabRun, RunError> {
        let fresh = !self.is_running(lab);
        let backend = self.backend(lab, Start::Ensure)?;
        Ok(LabRun {
            lab,
            backend,
            fresh,
        })
    }

    /// The lab's run if it is already going; nothing is started.
    pub fn existing(&self, lab: &'static Lab) -> Result<LabRun, RunError> {
        let backend = self.backend(lab, Start::Existing)?;
        Ok(LabRun {
            lab,
            backend,
            fresh: false,
        })
    }

    /// A fresh start: the old sandbox (and what the learner built in it)
    /// is removed. Cluster labs refuse (their cluster is shared), except a
    /// workshop learner's: their namespace is deleted, waited for, and made
    /// again empty.
    pub fn reset(&self, lab: &'static Lab) -> Result<LabRun, RunError> {
        if lab.needs == Needs::Kind && self.opts.cluster_space.is_some() {
            self.stop(lab)?;
            let (admin, rt) = self.connect()?;
            let ns = self.space_namespace(lab).unwrap_or_default();
            rt.block_on(layerlab_kube::learner_space::wait_gone(
                admin.client(),
                &ns,
                Duration::from_secs(120),
            ))
            .map_err(|source| RunError::Cluster { source })?;
            let backend = self.backend(lab, Start::Ensure)?;
            return Ok(LabRun {
                lab,
                backend,
                fresh: true,
            });
        }
        let backend = self.backend(lab, Start::Fresh)?;
        Ok(LabRun {
            lab,
            backend,
            fresh: true,
        })
    }

    /// Removes the lab's sandbox; `Ok(false)` when none was running.
    /// Cluster labs refuse (their cluster is shared), except a workshop
    /// learner's: their namespace for the lab is deleted.
    pub fn stop(&self, lab: &'static Lab) -> Result<bool, RunError> {
        if lab.needs == Needs::Kind {
            // A learner's own namespace is theirs to remove; the cluster is not.
            let Some(space) = &self.opts.cluster_space else {
                return Err(RunError::SharedCluster);
            };
            let (admin, rt) = self.connect()?;
            self.scoped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&lab.id);
            if let Some(sb) = Sandbox::find(&self.sandbox_key(lab)) {
                sb.destroy();
            }
            let ns = layerlab_kube::learner_space::space_namespace(
                &space.learner,
                lab.namespace.as_deref().unwrap_or(&lab.id),
            );
            return rt
                .block_on(layerlab_kube::learner_space::teardown(admin.client(), &ns))
                .map_err(|source| RunError::Cluster { source });
        }
        Ok(match Sandbox::find(&self.sandbox_key(lab)) {
            Some(sb) => {
                sb.destroy();
                true
            }
            None => false,
        })
    }

    /// Whether the lab runs now (cluster labs: whether connected); no side effects.
    pub fn is_running(&self, lab: &'static Lab) -> bool {
        self.existing(lab).is_ok()
    }

    /// What runs for the lab now; no side effects.
    pub fn info(&self, lab: &'static Lab) -> RunInfo {
        match self.existing(lab) {
            Ok(run) => run.info(),
            Err(_) => RunInfo {
                running: false,
                rootless: None,
                context: None,
                isolated: false,
                shell_hint: shell_hint(lab),
                namespace: None,
                kubeconfig: None,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Existing,
    Ensure,
    Fresh,
}

/// How a learner opens a terminal on a lab from outside the tutor.
fn shell_hint(lab: &Lab) -> String {
    format!("layerlab lab shell {}", lab.id)
}

/// Where a cluster lab's captures and shell files are kept: beside the
/// sandboxes' state, not among it (the stale-sandbox sweep would take it).
fn cluster_dir(lab: &str) -> PathBuf {
    crate::sandbox::state_root()
        .with_file_name("cluster-labs")
        .join(lab)
}

/// One lab, running: check, solve, shell, captures.
#[derive(Clone)]
pub struct LabRun {
    lab: &'static Lab,
    backend: Arc<dyn Backend>,
    fresh: bool,
}

impl std::fmt::Debug for LabRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabRun")
            .field("lab", &self.lab.id)
            .field("info", &self.backend.info())
            .finish()
    }
}

impl LabRun {
    /// The lab.
    pub fn lab(&self) -> &'static Lab {
        self.lab
    }

    /// Whether this run started the sandbox (it was not running before).
    pub fn started_now(&self) -> bool {
        self.fresh
    }

    /// What it runs on.
    pub fn info(&self) -> RunInfo {
        self.backend.info()
    }

    /// The step (0-based), or the error naming the steps there are.
    pub fn step(&self, index: usize) -> Result<&'static Step, RunError> {
        self.lab.steps.get(index).ok_or_else(|| RunError::NoStep {
            lab: self.lab.id.clone(),
            count: self.lab.steps.len(),
            step: index + 1,
        })
    }

    /// Checks step `index` (0-based), telling `on_check` each check's result
    /// (with its 0-based index) as soon as it is decided. `on_check` runs
    /// where the check ran (for cluster labs, inside the runtime): it must
    /// not block.
    pub fn check(
        &self,
        index: usize,
        answer: Option<&str>,
        pace: Pace,
        mut on_check: impl FnMut(usize, &CheckResult),
    ) -> Result<StepResult, RunError> {
        let step = self.step(index)?;
        let quick;
        let step = match pace {
            Pace::Full => step,
            Pace::Quick => {
                quick = step.checked_once();
                &quick
            }
        };
        Ok(self
            .backend
            .check(self.lab, step, index, answer, &mut on_check))
    }

    /// Applies step `index`'s (0-based) setup and solution commands.
    pub fn solve(&self, index: usize) -> Result<(), RunError> {
        self.step(index)?;
        self.backend
            .solve(self.lab, index)
            .map_err(|source| RunError::Solution {
                step: index + 1,
                source,
            })
    }

    /// The learner's interactive shell on the lab: inside the sandbox, or
    /// with `kubectl` bound to the lab's cluster context.
    pub fn shell_command(&self) -> Command {
        self.backend.shell_command()
    }

    /// Runs one command where the lab runs, with a deadline.
    pub fn run_command(&self, script: &str, timeout: Duration) -> CommandOutput {
        self.backend.run(script, timeout)
    }

    /// The packets check `check` of step `step` (both 1-based) captured on
    /// its last run, if any.
    pub fn saved_capture(&self, step: usize, check: usize) -> Option<Vec<u8>> {
        std::fs::read(self.backend.capture_path(step, check)).ok()
    }
}

/// The grading report of a lab from its latest step results (steps never
/// checked count as failed); the learner defaults to `$USER`.
pub fn report(lab: &Lab, results: &[StepResult], learner: Option<String>) -> LabReport {
    let learner = learner
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    LabReport::of(lab, learner, |n| {
        results.iter().rev().find(|r| r.step == n).cloned()
    })
}

/// Where `step-N-check-M.pcap` lives in a folder.
fn capture_file(dir: &Path, step: usize, check: usize) -> PathBuf {
    dir.join(format!("step-{step}-check-{check}.pcap"))
}

struct SandboxBackend {
    sb: Sandbox,
}

impl Backend for SandboxBackend {
    fn check(
        &self,
        _lab: &Lab,
        step: &Step,
        index: usize,
        answer: Option<&str>,
        on_check: &mut dyn FnMut(usize, &CheckResult),
    ) -> StepResult {
        runner::check_step(&self.sb, step, index, answer, on_check)
    }

    fn solve(&self, lab: &Lab, index: usize) -> Result<(), SolveError> {
        Ok(runner::solve_step(&self.sb, &lab.steps[index])?)
    }

    fn capture_path(&self, step: usize, check: usize) -> PathBuf {
        capture_file(&self.sb.dir, step, check)
    }

    fn shell_command(&self) -> Command {
        self.sb.shell_command()
    }

    fn run(&self, script: &str, timeout: Duration) -> CommandOutput {
        self.sb.run(script, timeout)
    }

    fn info(&self) -> RunInfo {
        RunInfo {
            running: true,
            rootless: Some(self.sb.rootless),
            context: None,
            isolated: true,
            shell_hint: format!("layerlab lab shell {}", self.sb.lab),
            namespace: None,
            kubeconfig: None,
        }
    }
}

struct ClusterBackend {
    kube: KubeLabs,
    rt: Rt,
    dir: PathBuf,
    context: Option<String>,
    /// In a workshop: the learner's confined shell (kubeconfig inside).
    shell: Option<Sandbox>,
}

impl Backend for ClusterBackend {
    fn check(
        &self,
        _lab: &Lab,
        step: &Step,
        index: usize,
        answer: Option<&str>,
        on_check: &mut dyn FnMut(usize, &CheckResult),
    ) -> StepResult {
        let dir = &self.dir;
        self.rt.block_on(self.kube.run_step_reporting(
            step,
            index,
            answer,
            |ci, outcome: &CheckOutcome| {
                // Kept like a sandbox's captures, for the journey view.
                if let Some(pcap) = &outcome.pcap {
                    let _ = std::fs::create_dir_all(dir);
                    let _ = std::fs::write(capture_file(dir, index + 1, ci + 1), pcap);
                }
                on_check(ci, &outcome.result);
            },
        ))
    }

    fn solve(&self, lab: &Lab, index: usize) -> Result<(), SolveError> {
        Ok(self.rt.block_on(self.kube.solve_step(lab, index))?)
    }

    fn capture_path(&self, step: usize, check: usize) -> PathBuf {
        capture_file(&self.dir, step, check)
    }

    fn shell_command(&self) -> Command {
        if let Some(sb) = &self.shell {
            let mut cmd = sb.shell_command();
            cmd.env("KUBECONFIG", sb.dir.join("kubeconfig"));
            return cmd;
        }
        let _ = std::fs::create_dir_all(&self.dir);
        let rc = self.dir.join("bashrc");
        let context = self.context.as_deref().unwrap_or("the current context");
        let _ = std::fs::write(
            &rc,
            format!(
                "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc\n\
                 {}\n\
                 PS1='\\[\\e[1;35m\\][{context}]\\[\\e[0m\\] \\w $ '\n\
                 echo 'layerlab: kubectl here talks to {context}; `exit` leaves this shell.'\n",
                self.kube.kubectl_binding().unwrap_or_default()
            ),
        );
        let mut cmd = Command::new("bash");
        cmd.arg("--rcfile").arg(&rc).arg("-i");
        if let Some(k) = self
            .kube
            .kubeconfig()
            .filter(|_| self.kube.namespace().is_some())
        {
            // Tools other than the kubectl function read the same file.
            cmd.env("KUBECONFIG", k);
        }
        cmd.env(
            "TERM",
            std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
        );
        cmd
    }

    fn run(&self, script: &str, timeout: Duration) -> CommandOutput {
        if let Some(sb) = &self.shell {
            let mut cmd = sb.command(&["bash", "-c", script]);
            cmd.env("KUBECONFIG", sb.dir.join("kubeconfig"));
            return crate::exec::run(cmd, timeout);
        }
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &self.kube.with_context(script)]);
        crate::exec::run(cmd, timeout)
    }

    fn info(&self) -> RunInfo {
        RunInfo {
            running: true,
            rootless: None,
            context: self.context.clone(),
            isolated: self.shell.is_some(),
            shell_hint: match (&self.context, self.kube.namespace()) {
                (Some(c), Some(ns)) => format!("kubectl --context {c} -n {ns} get pods"),
                (Some(c), None) => format!("kubectl --context {c} get pods -A"),
                (None, _) => "kubectl get pods -A".into(),
            },
            namespace: self.kube.namespace().map(String::from),
            // Only a learner's runner has a server-side reader; its
            // kubeconfig is the learner's, the one a terminal may get.
            kubeconfig: self
                .kube
                .has_reader()
                .then(|| self.kube.kubeconfig().map(Path::to_path_buf))
                .flatten(),
        }
    }
}
