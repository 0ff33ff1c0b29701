//! The watch-driven check runner: observe → judge (core) → record in the
//! `Attempt` state machine (core) → wait for the next watch event or the
//! poll interval, whichever comes first → observe again.

use crate::capture;
use crate::client::{ConnectOptions, Connection, connect, is_fatal};
use crate::error::{Error, Result};
use crate::observe::{self, HttpProbe, Kinds, NodeShell, namespace_or_default};
use crate::proxy::ProxyMode;
use crate::watch::{ChangeFeed, Target};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use kube::Client;
use layerlab_core::lab::{
    Attempt, Check, CheckKind, CheckResult, CommandFailed, Decision, Lab, Observation, Step,
    StepResult, Verdict, evaluate,
};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// A check's result plus what it captured (for the journey view).
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The graded result.
    pub result: CheckResult,
    /// The last capture's pcap bytes, for `capture` checks.
    pub pcap: Option<Vec<u8>>,
}

/// Runs the checks of kind labs against one cluster. Cheap to clone; the
/// client and the discovery cache are shared.
#[derive(Clone)]
pub struct KubeLabs {
    client: Client,
    kinds: Arc<Kinds>,
    shell: NodeShell,
    http: HttpProbe,
    proxy_mode: Arc<OnceCell<ProxyMode>>,
    context: Option<String>,
    kubeconfig: Option<std::path::PathBuf>,
    /// The lab's namespace and where it goes (see [`KubeLabs::in_namespace`]).
    scope: Option<Arc<Scope>>,
    /// The server's own client for node-level reads (nodes, other
    /// namespaces, node checks, captures), when `client` is a learner's.
    reader: Option<Client>,
}

/// A lab's namespace as its file names it, and the one its work goes to.
#[derive(Debug)]
struct Scope {
    lab: Option<String>,
    actual: String,
}

impl KubeLabs {
    /// Connects through the kubeconfig (`--context`, `KUBECONFIG`) and checks
    /// the server answers, failing with one line within seconds.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self> {
        let Connection {
            client, context, ..
        } = connect(opts).await?;
        Ok(KubeLabs {
            context: Some(context),
            kubeconfig: opts.kubeconfig.clone(),
            ..KubeLabs::from_client(client)
        })
    }

    /// Uses a client built elsewhere (tests, the server).
    pub fn from_client(client: Client) -> Self {
        KubeLabs {
            client,
            kinds: Arc::new(Kinds::default()),
            shell: NodeShell::detect(),
            http: HttpProbe::new(),
            proxy_mode: Arc::new(OnceCell::new()),
            context: None,
            kubeconfig: None,
            scope: None,
            reader: None,
        }
    }

    /// Runs a lab that works in `lab_namespace` (its file's `namespace:`)
    /// in `actual` instead: checks naming the lab's namespace, or none, go
    /// to `actual`, and it is kubectl's default namespace (and
    /// `$LAB_NAMESPACE`) for the lab's commands. Single-user runs pass the
    /// same name twice; a workshop passes the learner's namespace.
    pub fn in_namespace(mut self, lab_namespace: Option<&str>, actual: &str) -> Self {
        self.scope = Some(Arc::new(Scope {
            lab: lab_namespace.map(String::from),
            actual: actual.to_string(),
        }));
        self
    }

    /// Node-level reads (nodes, other namespaces, node commands, captures,
    /// http checks' watches) go through `admin`'s client and node shell:
    /// for a runner whose own client is a learner's, confined to their
    /// namespace. Those observers only read.
    pub fn with_reader(mut self, admin: &KubeLabs) -> Self {
        self.reader = Some(admin.client.clone());
        self.shell = admin.shell.clone();
        self.proxy_mode = admin.proxy_mode.clone();
        self
    }

    /// The namespace this runner's lab works in, if scoped.
    pub fn namespace(&self) -> Option<&str> {
        self.scope.as_ref().map(|s| s.actual.as_str())
    }

    /// The kubeconfig file this runner connected through, if one was named.
    pub fn kubeconfig(&self) -> Option<&std::path::Path> {
        self.kubeconfig.as_deref()
    }

    /// Whether node-level reads go through another (the server's) client:
    /// this runner's own credentials are a learner's.
    pub fn has_reader(&self) -> bool {
        self.reader.is_some()
    }

    /// The client for node-level reads (the server's own).
    fn reader(&self) -> &Client {
        self.reader.as_ref().unwrap_or(&self.client)
    }

    /// The check with the lab's namespace put where it goes.
    fn localize<'c>(&self, check: &'c Check) -> std::borrow::Cow<'c, Check> {
        use std::borrow::Cow;
        let Some(scope) = &self.scope else {
            return Cow::Borrowed(check);
        };
        let maps = |ns: &Option<String>| ns.is_none() || *ns == scope.lab;
        let mut c = check.clone();
        match &mut c.kind {
            CheckKind::Resource(r) if maps(&r.namespace) => {
                r.namespace = Some(scope.actual.clone())
            }
            CheckKind::Exec(e) if maps(&e.namespace) => e.namespace = Some(scope.actual.clone()),
            CheckKind::Node(n) => {
                let Some(sp) = n
                    .service
                    .as_deref()
                    .and_then(crate::proxy::ServicePort::parse)
                else {
                    return Cow::Borrowed(check);
                };
                if Some(&sp.namespace) != scope.lab.as_ref() {
                    return Cow::Borrowed(check);
                }
                let port = if sp.port.is_empty() {
                    String::new()
                } else {
                    format!(":{}", sp.port)
                };
                n.service = Some(format!("{}/{}{port}", scope.actual, sp.name));
            }
            _ => return Cow::Borrowed(check),
        }
        Cow::Owned(c)
    }

    /// The client a (localized) check observes with: the runner's own for
    /// exec and for namespaced reads in the lab's namespace, the server's
    /// for reads of anything else.
    async fn client_for(&self, kind: &CheckKind) -> &Client {
        let Some(reader) = &self.reader else {
            return &self.client;
        };
        let own = self.namespace();
        match kind {
            CheckKind::Resource(r) if r.namespace.as_deref() == own => {
                // Cluster-scoped kinds (Node) ignore the namespace.
                match self.kinds.resolve(reader, &r.api_version, &r.kind).await {
                    Ok(info) if info.namespaced => &self.client,
                    _ => reader,
                }
            }
            // Exec runs commands: always as the learner, never as the server.
            CheckKind::Exec(_) => &self.client,
            _ => reader,
        }
    }

    /// Runs node commands through this container CLI instead of the detected one.
    pub fn with_node_shell(mut self, shell: NodeShell) -> Self {
        self.shell = shell;
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The kubeconfig context, when connected through one.
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Runs one check to a verdict (see [`KubeLabs::run_check_detailed`]).
    pub async fn run_check(&self, check: &Check, answer: Option<&str>) -> CheckResult {
        self.run_check_detailed(check, answer).await.result
    }

    /// Runs one check: observes, judges, and for `eventually` and
    /// `consistently` observes again on every watch event (or after
    /// `POLL_MS` at most) until core's [`Attempt`] decides. A failure that
    /// retrying cannot fix (unreachable, 401, 403) ends the check at once.
    pub async fn run_check_detailed(&self, check: &Check, answer: Option<&str>) -> CheckOutcome {
        let check = self.localize(check);
        let check = check.as_ref();
        let client = self.client_for(&check.kind).await;
        let start = Instant::now();
        // Watches start only when a first observation did not decide the
        // check: most checks a learner asks for are already true.
        let mut feed: Option<ChangeFeed> = None;
        let mut attempt = Attempt::new(check, 0);
        let mut pcap = None;
        loop {
            let (verdict, fatal, captured) =
                self.observe_and_judge(client, &check.kind, answer).await;
            if captured.is_some() {
                pcap = captured;
            }
            let now = start.elapsed().as_millis() as u64;
            match attempt.record(verdict, now) {
                Decision::Done => break,
                _ if fatal => break,
                Decision::Again { within_ms } => {
                    let feed = feed.get_or_insert_with(|| {
                        ChangeFeed::start(client, &self.kinds, targets(&check.kind))
                    });
                    feed.next_change(Duration::from_millis(within_ms)).await;
                }
            }
        }
        CheckOutcome {
            result: attempt.finish(),
            pcap,
        }
    }

    /// Runs every check of a step (0-based index) concurrently; `answers`
    /// holds the learner's answer per check, if any.
    pub async fn run_step(&self, lab: &Lab, step: usize, answers: &[Option<String>]) -> StepResult {
        let Some(s) = lab.steps.get(step) else {
            return StepResult {
                step: step + 1,
                title: format!("step {} does not exist in lab {}", step + 1, lab.id),
                passed: false,
                checked_at_ms: now_ms(),
                checks: Vec::new(),
            };
        };
        let answer = answers.iter().flatten().next().map(String::as_str);
        self.run_step_reporting(s, step, answer, |_, _| {}).await
    }

    /// Runs every check of `step` (0-based `index` in its lab) concurrently,
    /// telling `on_check` each check's outcome (with its 0-based index) as
    /// soon as it is decided, so callers can stream them.
    pub async fn run_step_reporting(
        &self,
        step: &Step,
        index: usize,
        answer: Option<&str>,
        mut on_check: impl FnMut(usize, &CheckOutcome),
    ) -> StepResult {
        let mut runs: FuturesUnordered<_> = step
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| async move { (i, self.run_check_detailed(c, answer).await) })
            .collect();
        let mut checks: Vec<Option<CheckResult>> = vec![None; step.checks.len()];
        while let Some((i, outcome)) = runs.next().await {
            on_check(i, &outcome);
            checks[i] = Some(outcome.result);
        }
        let checks: Vec<CheckResult> = checks.into_iter().flatten().collect();
        StepResult {
            step: index + 1,
            title: step.title.clone(),
            passed: checks.iter().all(|c| c.passed),
            checked_at_ms: now_ms(),
            checks,
        }
    }

    /// One observation and its verdict; `true` when retrying cannot help.
    async fn observe_and_judge(
        &self,
        client: &Client,
        kind: &CheckKind,
        answer: Option<&str>,
    ) -> (Verdict, bool, Option<Vec<u8>>) {
        // Only API failures can be final: an HTTP port or a host command
        // that fails now may work in a moment.
        let api = matches!(
            kind,
            CheckKind::Resource(_) | CheckKind::Exec(_) | CheckKind::Capture(_)
        );
        let judge = |obs: &Observation| {
            let fatal = api && matches!(obs, Observation::Failed(why) if is_fatal(why));
            (evaluate(kind, obs, answer), fatal)
        };
        let obs = match kind {
            CheckKind::Resource(r) => observe::resource(client, &self.kinds, r).await,
            CheckKind::Exec(e) => observe::exec(client, e).await,
            CheckKind::Http(h) => self.http.observe(h).await,
            CheckKind::Host { run, .. } => {
                let script = self.with_context(run);
                match observe::run_local(&script, observe::COMMAND_TIMEOUT).await {
                    Ok(out) => Observation::Command(out),
                    Err(e) => Observation::Failed(e),
                }
            }
            CheckKind::Node(n) => return self.node(kind, n, answer).await,
            CheckKind::Capture(c) => match &c.node {
                Some(node) => {
                    let trigger = c.trigger.as_deref().map(|t| self.with_context(t));
                    let obs = capture::observe(self.reader(), node, c, trigger.as_deref()).await;
                    let pcap = match &obs {
                        Observation::Packets { pcap, .. } => Some(pcap.clone()),
                        _ => None,
                    };
                    let (v, fatal) = judge(&obs);
                    return (v, fatal, pcap);
                }
                None => Observation::Failed(
                    "a capture in a kind lab needs `node:` (the node to capture on)".into(),
                ),
            },
            other => Observation::Failed(format!(
                "`{}` checks run in the Linux sandbox, not on a kind cluster",
                other.name()
            )),
        };
        let (v, fatal) = judge(&obs);
        (v, fatal, None)
    }

    /// Node checks: on the named node, or on each node until one passes
    /// (`any`), naming the node in the verdict.
    async fn node(
        &self,
        kind: &CheckKind,
        n: &layerlab_core::lab::NodeCheck,
        answer: Option<&str>,
    ) -> (Verdict, bool, Option<Vec<u8>>) {
        let reader = self.reader();
        let nodes = match observe::node_names(reader, &n.node).await {
            Ok(v) => v,
            Err(e) => {
                let fatal = is_fatal(&e);
                return (evaluate(kind, &Observation::Failed(e), answer), fatal, None);
            }
        };
        let mut last = None;
        for node in &nodes {
            let out = match &n.service {
                Some(svc) => {
                    let mode = self
                        .proxy_mode
                        .get_or_try_init(|| observe::proxy_mode(reader, &self.shell, node))
                        .await
                        .copied();
                    match mode {
                        Ok(m) => observe::service_rules(reader, &self.shell, m, node, svc).await,
                        Err(e) => Err(e),
                    }
                }
                None => self.shell.run(node, &n.run).await,
            };
            let (obs, fatal) = match out {
                Ok(o) => (Observation::Command(o), false),
                Err(e) => {
                    let fatal =
                        is_fatal(&e) || e.contains("not installed") || e.contains("not found");
                    (Observation::Failed(e), fatal)
                }
            };
            let mut v = evaluate(kind, &obs, answer);
            if nodes.len() > 1 {
                v.message = format!("{node}: {}", v.message);
            }
            if v.passed || fatal {
                return (v, fatal, None);
            }
            last = Some(v);
        }
        (last.unwrap_or_default(), false, None)
    }

    /// A shell script with `kubectl` bound to this runner's context, so
    /// commands written as plain `kubectl ...` reach the cluster checked.
    pub fn with_context(&self, script: &str) -> String {
        match self.kubectl_binding() {
            Some(f) => format!("{f}\n{script}"),
            None => script.to_string(),
        }
    }

    /// A shell function binding `kubectl` to this runner's kubeconfig,
    /// context and lab namespace (None when none was chosen). A scoped
    /// runner also exports `KUBECONFIG` (so `command kubectl` and other
    /// tools get the same credentials, not the server's) and
    /// `LAB_NAMESPACE`.
    pub fn kubectl_binding(&self) -> Option<String> {
        let mut args = String::new();
        let mut exports = String::new();
        if let Some(k) = &self.kubeconfig {
            let k = capture::shell_quote(&k.to_string_lossy());
            args.push_str(&format!(" --kubeconfig {k}"));
            if self.reader.is_some() {
                exports.push_str(&format!("export KUBECONFIG={k}\n"));
            }
        }
        if let Some(ctx) = &self.context {
            args.push_str(&format!(" --context {}", capture::shell_quote(ctx)));
        }
        if let Some(ns) = self.namespace() {
            // A later `-n` on the command line still wins (kubectl takes
            // the last value of a flag).
            let ns = capture::shell_quote(ns);
            args.push_str(&format!(" --namespace {ns}"));
            exports.push_str(&format!("export LAB_NAMESPACE={ns}\n"));
        }
        (!args.is_empty())
            .then(|| format!("{exports}kubectl() {{ command kubectl{args} \"$@\"; }}"))
    }

    /// Applies step `step`'s (0-based) setup and solution commands, with
    /// the lab manifests written to a private folder for them to use.
    pub async fn solve_step(&self, lab: &Lab, step: usize) -> Result<()> {
        let s = lab.steps.get(step).ok_or_else(|| {
            Error::CommandFailed(format!("lab `{}` has no step {}", lab.id, step + 1))
        })?;
        let dir = std::env::temp_dir().join(format!(
            "layerlab-{}-{}-{}",
            lab.id,
            std::process::id(),
            now_ms()
        ));
        crate::write_manifests(&dir).map_err(|e| {
            Error::CommandFailed(format!(
                "cannot write the lab manifests to {}: {e}",
                dir.display()
            ))
        })?;
        let r = async {
            self.run_commands(&s.setup, &dir).await?;
            self.run_commands(&s.solution, &dir).await
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    /// Runs a step's setup or solution commands on this machine (`sh -c`,
    /// in `dir`, with `kubectl` bound to this runner's context).
    pub async fn run_commands(&self, commands: &[String], dir: &std::path::Path) -> Result<()> {
        for c in commands {
            let script = self.with_context(&format!(
                "cd {} && {c}",
                capture::shell_quote(&dir.to_string_lossy())
            ));
            let out = observe::run_local(&script, Duration::from_secs(180))
                .await
                .map_err(Error::CommandFailed)?;
            if out.exit != 0 {
                return Err(CommandFailed::of(c, &out).into());
            }
        }
        Ok(())
    }
}

/// Runs one check with a client passed in (kube-rs controller style).
pub async fn run_check(client: &Client, check: &Check, answer: Option<&str>) -> CheckResult {
    KubeLabs::from_client(client.clone())
        .run_check(check, answer)
        .await
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What to watch while a check runs: the objects it reads, and for
/// connectivity checks the pods and policies that decide the outcome.
pub(crate) fn targets(kind: &CheckKind) -> Vec<Target> {
    match kind {
        CheckKind::Resource(r) => {
            let ns = Some(namespace_or_default(&r.namespace));
            let mut t = vec![match (&r.name, &r.selector) {
                (Some(name), _) => Target::named(&r.api_version, &r.kind, ns, name),
                (_, Some(sel)) => Target::labelled(&r.api_version, &r.kind, ns, sel),
                _ => Target::all(&r.api_version, &r.kind, ns),
            }];
            if r.endpointslices {
                t.push(match &r.name {
                    Some(name) => Target::labelled(
                        "discovery.k8s.io/v1",
                        "EndpointSlice",
                        ns,
                        &format!("kubernetes.io/service-name={name}"),
                    ),
                    None => Target::all("discovery.k8s.io/v1", "EndpointSlice", ns),
                });
            }
            t
        }
        CheckKind::Exec(e) => {
            let ns = Some(namespace_or_default(&e.namespace));
            vec![
                match (&e.pod, &e.selector) {
                    (Some(p), _) => Target::named("v1", "Pod", ns, p),
                    (_, Some(sel)) => Target::labelled("v1", "Pod", ns, sel),
                    _ => Target::all("v1", "Pod", ns),
                },
                Target::all("networking.k8s.io/v1", "NetworkPolicy", ns),
                Target::all("v1", "Service", ns),
            ]
        }
        CheckKind::Node(n) => match n
            .service
            .as_deref()
            .and_then(crate::proxy::ServicePort::parse)
        {
            Some(sp) => vec![
                Target::named("v1", "Service", Some(&sp.namespace), &sp.name),
                Target::labelled(
                    "discovery.k8s.io/v1",
                    "EndpointSlice",
                    Some(&sp.namespace),
                    &format!("kubernetes.io/service-name={}", sp.name),
                ),
            ],
            None => Vec::new(),
        },
        CheckKind::Http(_) => vec![
            Target::all("v1", "Service", None),
            Target::all("discovery.k8s.io/v1", "EndpointSlice", None),
            Target::all("networking.k8s.io/v1", "Ingress", None),
        ],
        _ => Vec::new(),
    }
}
