//! The lab format: YAML files under `labs/`, parsed into [`Lab`]s with
//! diagnostics that name the file, the line and the step.

use crate::course::SourceFile;
use crate::diag::{Diagnostic, Severity};
use crate::doc::Document;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// A lab: steps a learner works through on a real system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lab {
    /// Unique id (kebab-case), used by `layerlab lab start ID` and lessons.
    pub id: String,
    /// Title.
    pub title: String,
    /// Id of the chapter it belongs to.
    pub chapter: String,
    /// What it runs on.
    pub needs: Needs,
    /// One or two sentences: what the learner will build.
    pub summary: String,
    /// Programs this lab needs beyond every sandbox lab's basic set (e.g. `bird`, `haproxy`).
    pub tools: Vec<String>,
    /// Kind labs: the namespace the lab works in (`net`). On the learner's
    /// own cluster it is that name; in a workshop the runner puts the
    /// learner's own namespace in its place (kubectl's default namespace,
    /// and checks that name it or name none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Steps, in order.
    pub steps: Vec<Step>,
    /// Source path, relative to the labs root.
    pub source: String,
}

/// Where a lab runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Needs {
    /// A disposable network namespace on the learner's machine.
    Sandbox,
    /// A kind cluster (context `kind-layerlab`).
    Kind,
}

impl Needs {
    /// How the lab format writes it: `sandbox` or `kind`.
    pub fn name(self) -> &'static str {
        match self {
            Needs::Sandbox => "sandbox",
            Needs::Kind => "kind",
        }
    }
}

/// One step of a lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Title.
    pub title: String,
    /// Instructions, as written (markdown).
    pub instructions: String,
    /// Instructions parsed into the renderer-neutral document model.
    pub document: Document,
    /// Commands run before the step starts (not shown as the solution).
    pub setup: Vec<String>,
    /// Commands that solve the step.
    pub solution: Vec<String>,
    /// Hints, shown as failed attempts accumulate.
    pub hints: Vec<Hint>,
    /// What must hold for the step to pass.
    pub checks: Vec<Check>,
}

impl Step {
    /// The hints a learner has earned after `failed` failed attempts.
    pub fn hints_after(&self, failed: u32) -> impl Iterator<Item = &Hint> {
        self.hints.iter().filter(move |h| h.after <= failed)
    }

    /// The step with every `eventually` check observed once: the quick
    /// look a live checklist or a "does it fail yet?" test takes, which
    /// must not wait out timeouts. `consistently` checks keep their window.
    pub fn checked_once(&self) -> Step {
        let mut quick = self.clone();
        for c in &mut quick.checks {
            if c.mode == Mode::Eventually {
                c.mode = Mode::Once;
            }
        }
        quick
    }
}

/// A hint that appears after some failed attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    /// Failed check attempts before the hint is shown (0: always).
    pub after: u32,
    /// The hint (markdown).
    pub text: String,
}

/// One check: something the real system must show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What it checks, in the learner's terms.
    pub title: String,
    /// How to observe and judge.
    pub kind: CheckKind,
    /// When it counts as passing.
    pub mode: Mode,
    /// How long `eventually` keeps trying, in milliseconds.
    pub timeout_ms: u64,
    /// Points for passing.
    pub points: u32,
    /// The author's hint shown with a failure.
    pub hint: Option<String>,
}

/// Check semantics over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Retry until it holds or the timeout passes; report the last state.
    Eventually,
    /// Must hold on every observation for this many milliseconds.
    Consistently {
        /// Duration it must hold.
        for_ms: u64,
    },
    /// Observe once.
    Once,
}

/// The kinds of check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// A command in the sandbox, with assertions on its output.
    Host {
        /// Shell command.
        run: String,
        /// What the output must show.
        expect: Expect,
    },
    /// A network namespace exists.
    Namespace(NamespaceCheck),
    /// An interface exists (in a namespace) with properties.
    Interface(InterfaceCheck),
    /// A route exists.
    Route(RouteCheck),
    /// A sysctl has a value.
    Sysctl(SysctlCheck),
    /// An iptables rule is present.
    Iptables(IptablesCheck),
    /// A conntrack entry exists.
    Conntrack(ConntrackCheck),
    /// Packets captured in a namespace.
    Capture(CaptureCheck),
    /// The learner's answer, compared with what the system shows.
    Answer(AnswerCheck),
    /// A Kubernetes object matches a partial spec.
    Resource(ResourceCheck),
    /// A command in a pod.
    Exec(ExecCheck),
    /// A command on a cluster node.
    Node(NodeCheck),
    /// An HTTP request from the host.
    Http(HttpCheck),
}

impl CheckKind {
    /// The kind's name as written in lab files.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Host { .. } => "host",
            CheckKind::Namespace(_) => "namespace",
            CheckKind::Interface(_) => "interface",
            CheckKind::Route(_) => "route",
            CheckKind::Sysctl(_) => "sysctl",
            CheckKind::Iptables(_) => "iptables",
            CheckKind::Conntrack(_) => "conntrack",
            CheckKind::Capture(_) => "capture",
            CheckKind::Answer(_) => "answer",
            CheckKind::Resource(_) => "resource",
            CheckKind::Exec(_) => "exec",
            CheckKind::Node(_) => "node",
            CheckKind::Http(_) => "http",
        }
    }

    /// Whether the kind needs a cluster rather than a sandbox.
    pub fn needs_cluster(&self) -> bool {
        matches!(
            self,
            CheckKind::Resource(_) | CheckKind::Exec(_) | CheckKind::Node(_)
        )
    }
}

/// Assertions over a command's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exit code (default: not checked, unless nothing else is asserted, then 0).
    #[serde(default)]
    pub exit: Option<i32>,
    /// Standard output.
    #[serde(default)]
    pub stdout: Option<TextMatch>,
    /// Standard error.
    #[serde(default)]
    pub stderr: Option<TextMatch>,
    /// Standard output parsed as JSON must contain this (partial match).
    #[serde(default)]
    pub json: Option<Value>,
    /// A CEL expression that must be true; variables: `exit`, `stdout`,
    /// `stderr`, `json` (stdout parsed, or null).
    #[serde(default)]
    pub cel: Option<String>,
}

/// A text assertion. A plain string means "contains".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TextMatch {
    /// Must contain.
    Contains(String),
    /// Detailed form.
    Detailed {
        /// Must contain.
        #[serde(default)]
        contains: Option<String>,
        /// Must not contain.
        #[serde(default)]
        not_contains: Option<String>,
        /// Must equal (after trimming surrounding whitespace).
        #[serde(default)]
        equals: Option<String>,
        /// Must match this regex somewhere.
        #[serde(default)]
        regex: Option<String>,
    },
}

/// A network namespace (inside the sandbox) exists — or must not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceCheck {
    /// Its name (`ip netns add NAME`).
    pub name: String,
    /// Set to false to require that it is gone.
    #[serde(default = "yes")]
    pub exists: bool,
}

fn yes() -> bool {
    true
}

/// An interface and what it must look like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceCheck {
    /// Interface name.
    pub name: String,
    /// Namespace it must be in (absent: the sandbox's host namespace).
    #[serde(default)]
    pub netns: Option<String>,
    /// Administratively up (the UP flag; a veth also needs its peer up to carry traffic).
    #[serde(default)]
    pub up: Option<bool>,
    /// Addresses it must have, in CIDR form (`10.0.0.1/24`).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Link kind (`veth`, `bridge`, `vxlan`).
    #[serde(default, rename = "type")]
    pub link_type: Option<String>,
    /// For a veth: where its peer is.
    #[serde(default)]
    pub peer: Option<PeerSpec>,
    /// Bridge it must be enslaved to.
    #[serde(default)]
    pub master: Option<String>,
}

/// The far end of a veth pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    /// Peer interface name.
    pub name: String,
    /// Namespace of the peer (absent: the host namespace).
    #[serde(default)]
    pub netns: Option<String>,
}

/// A route in a namespace's main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCheck {
    /// Namespace (absent: host).
    #[serde(default)]
    pub netns: Option<String>,
    /// Destination: `default` or a prefix (`10.0.2.0/24`).
    pub to: String,
    /// Gateway.
    #[serde(default)]
    pub via: Option<String>,
    /// Output device.
    #[serde(default)]
    pub dev: Option<String>,
}

/// A sysctl value in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SysctlCheck {
    /// Namespace (absent: host).
    #[serde(default)]
    pub netns: Option<String>,
    /// Key, e.g. `net.ipv4.ip_forward`.
    pub key: String,
    /// Required value.
    pub value: String,
}

/// An iptables rule, matched by what it does, never by generated names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IptablesCheck {
    /// Namespace (absent: host).
    #[serde(default)]
    pub netns: Option<String>,
    /// Table (`filter`, `nat`, `mangle`, `raw`).
    #[serde(default = "filter")]
    pub table: String,
    /// Chain the rule must be in.
    pub chain: String,
    /// Target (`DNAT`, `MASQUERADE`, `ACCEPT`, a user chain).
    #[serde(default)]
    pub target: Option<String>,
    /// Match options that must all appear, in any order (`-p tcp --dport 8080`).
    #[serde(rename = "match", default)]
    pub matches: Option<String>,
    /// Rule comment (`-m comment --comment`), matched as a substring.
    #[serde(default)]
    pub comment: Option<String>,
    /// Target options, e.g. `--to-destination 10.0.2.2:80`.
    #[serde(default)]
    pub to: Option<String>,
}

fn filter() -> String {
    "filter".into()
}

/// A conntrack entry; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConntrackCheck {
    /// Namespace whose table to read (absent: host).
    #[serde(default)]
    pub netns: Option<String>,
    /// `tcp`, `udp`, `icmp`.
    #[serde(default)]
    pub proto: Option<String>,
    /// Original direction source address.
    #[serde(default)]
    pub src: Option<String>,
    /// Original direction destination address.
    #[serde(default)]
    pub dst: Option<String>,
    /// Original destination port.
    #[serde(default)]
    pub dport: Option<u16>,
    /// Reply direction source (where DNAT sent it).
    #[serde(default)]
    pub reply_src: Option<String>,
    /// Reply direction source port.
    #[serde(default)]
    pub reply_sport: Option<u16>,
    /// Reply direction destination (differs from `src` after SNAT).
    #[serde(default)]
    pub reply_dst: Option<String>,
    /// TCP state (`ESTABLISHED`, `TIME_WAIT`).
    #[serde(default)]
    pub state: Option<String>,
}

/// Capture packets in a namespace while a trigger command runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureCheck {
    /// Namespace to capture in (absent: host).
    #[serde(default)]
    pub netns: Option<String>,
    /// For kind labs: the cluster node to capture on (instead of `netns`).
    #[serde(default)]
    pub node: Option<String>,
    /// Interface (`any` by default).
    #[serde(default = "any")]
    pub interface: String,
    /// A tcpdump/BPF filter.
    #[serde(default)]
    pub filter: Option<String>,
    /// Command run once the capture is listening (e.g. the `curl`).
    #[serde(default)]
    pub trigger: Option<String>,
    /// Stop after this many packets.
    #[serde(default = "ten")]
    pub count: u32,
    /// Or after this long, in milliseconds.
    #[serde(default = "three_seconds")]
    pub window_ms: u64,
    /// Packets that must appear in this order (each a partial match of a
    /// packet record, other packets may come between).
    #[serde(default)]
    pub sequence: Vec<Value>,
    /// A CEL expression over `packets` that must be true.
    #[serde(default)]
    pub cel: Option<String>,
}

fn any() -> String {
    "any".into()
}
fn ten() -> u32 {
    10
}
fn three_seconds() -> u64 {
    3000
}

/// A question whose right answer the system itself reveals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerCheck {
    /// The question put to the learner.
    pub prompt: String,
    /// Observe by capturing packets...
    #[serde(default)]
    pub capture: Option<CaptureCheck>,
    /// ...or by running a command...
    #[serde(default)]
    pub run: Option<String>,
    /// ...or from a capture an earlier check kept (`step-4-check-1`), so
    /// the learner answers about packets they have already seen.
    #[serde(default)]
    pub saved: Option<String>,
    /// CEL expression computing the right answer from `packets` (capture) or
    /// `stdout` (command).
    pub expected: String,
}

/// A Kubernetes object that must partially match a spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceCheck {
    /// `apiVersion` (`v1`, `apps/v1`, `discovery.k8s.io/v1`).
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Kind (`Service`, `Pod`).
    pub kind: String,
    /// Namespace (absent: `default` for namespaced kinds).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Object name (or use `selector`).
    #[serde(default)]
    pub name: Option<String>,
    /// Label selector (`app=web`): every selected object is checked.
    #[serde(default)]
    pub selector: Option<String>,
    /// Partial object: maps as subsets, arrays as unordered subsets.
    #[serde(default, rename = "match")]
    pub matches: Option<Value>,
    /// Arrays must match exactly (same length), not as subsets.
    #[serde(default)]
    pub exact: bool,
    /// CEL over `object` (or `objects` with a selector) and `related`.
    #[serde(default)]
    pub cel: Option<String>,
    /// Also fetch the EndpointSlices of this Service as `related`.
    #[serde(default)]
    pub endpointslices: bool,
}

/// A command inside a pod (API exec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecCheck {
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Pod name...
    #[serde(default)]
    pub pod: Option<String>,
    /// ...or a label selector (first ready pod).
    #[serde(default)]
    pub selector: Option<String>,
    /// Container (default: the first).
    #[serde(default)]
    pub container: Option<String>,
    /// Command and arguments.
    pub command: Vec<String>,
    /// What the output must show.
    #[serde(default)]
    pub expect: Expect,
}

/// A command on a kind node container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCheck {
    /// Node name (`layerlab-control-plane`), or `any` for each node until one passes.
    pub node: String,
    /// Shell command run on the node (or use `service`).
    #[serde(default)]
    pub run: String,
    /// Instead of `run`: kube-proxy's rules for this Service port
    /// (`shop/web:http`, or `shop/web` for an unnamed port), read in
    /// whichever mode kube-proxy runs (iptables, nftables, ipvs) and found by
    /// the rules' comments, never by hashed chain names. Stdout is then JSON:
    /// `mode`, `cluster_ip`, `port`, `node_ports`, `endpoints` (`ip:port`),
    /// `chains`.
    #[serde(default)]
    pub service: Option<String>,
    /// What the output must show.
    #[serde(default)]
    pub expect: Expect,
}

/// An HTTP request from the learner's machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// URL.
    pub url: String,
    /// Method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// `Host` header to send (for Ingress rules).
    #[serde(default)]
    pub host: Option<String>,
    /// Required status code.
    #[serde(default)]
    pub status: Option<u16>,
    /// Body assertion.
    #[serde(default)]
    pub body: Option<TextMatch>,
}

/// Every lab that loaded, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct LoadedLabs {
    /// Labs, sorted by id.
    pub labs: Vec<Lab>,
    /// Problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedLabs {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

// --- the file format (what authors write) ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFile {
    id: String,
    title: String,
    chapter: String,
    needs: Needs,
    summary: String,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    namespace: Option<String>,
    steps: Vec<StepFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    title: String,
    instructions: String,
    #[serde(default)]
    setup: Vec<String>,
    #[serde(default)]
    solution: Vec<String>,
    #[serde(default)]
    hints: Vec<HintFile>,
    checks: Vec<CheckFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HintFile {
    Text(String),
    After { after: u32, text: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    title: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default, rename = "for")]
    hold_for: Option<String>,
    #[serde(default)]
    points: Option<u32>,
    #[serde(default)]
    hint: Option<String>,
    // Exactly one of the kinds below.
    #[serde(default)]
    host: Option<HostFile>,
    #[serde(default)]
    namespace: Option<NamespaceCheck>,
    #[serde(default)]
    interface: Option<InterfaceCheck>,
    #[serde(default)]
    route: Option<RouteCheck>,
    #[serde(default)]
    sysctl: Option<SysctlCheck>,
    #[serde(default)]
    iptables: Option<IptablesCheck>,
    #[serde(default)]
    conntrack: Option<ConntrackCheck>,
    #[serde(default)]
    capture: Option<CaptureCheck>,
    #[serde(default)]
    answer: Option<AnswerCheck>,
    #[serde(default)]
    resource: Option<ResourceCheck>,
    #[serde(default)]
    exec: Option<ExecCheck>,
    #[serde(default)]
    node: Option<NodeCheck>,
    #[serde(default)]
    http: Option<HttpCheck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFile {
    run: String,
    #[serde(default)]
    expect: Expect,
}

/// Default `eventually` timeout.
const DEFAULT_TIMEOUT_MS: u64 = 3_000;

/// Parses `250ms`, `5s`, `2m`.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.')?);
    let n: f64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    };
    (ms >= 0.0).then_some(ms as u64)
}

struct FileCtx<'a> {
    path: &'a str,
    text: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

impl FileCtx<'_> {
    /// Reports at the first line containing `needle` at or after line `from`.
    fn error(&mut self, needle: &str, message: String, help: Option<&str>) {
        let line = self
            .text
            .lines()
            .position(|l| !needle.is_empty() && l.contains(needle))
            .map_or(1, |i| i + 1);
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            file: self.path.to_string(),
            line,
            col: 1,
            message,
            help: help.map(Into::into),
        });
    }
}

/// Parses and validates lab files (YAML). `chapters` are the course's chapter
/// ids, so a lab naming an unknown chapter is reported.
pub fn load_labs(files: &[SourceFile<'_>], chapters: &BTreeSet<String>) -> LoadedLabs {
    let mut out = LoadedLabs::default();
    for file in files {
        if !(file.path.ends_with(".yaml") || file.path.ends_with(".yml")) {
            continue;
        }
        if let Some(lab) = load_one(file, chapters, &mut out.diagnostics) {
            if let Some(prev) = out.labs.iter().find(|l| l.id == lab.id) {
                let message = format!("duplicate lab id `{}` (also in {})", lab.id, prev.source);
                FileCtx {
                    path: file.path,
                    text: file.text,
                    diags: &mut out.diagnostics,
                }
                .error("id:", message, Some("lab ids must be unique"));
                continue;
            }
            out.labs.push(lab);
        }
    }
    out.labs.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn load_one(
    file: &SourceFile<'_>,
    chapters: &BTreeSet<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Lab> {
    let parsed: LabFile = match serde_yaml_ng::from_str(file.text) {
        Ok(l) => l,
        Err(e) => {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            // The location is already in our diagnostic; keep the message short.
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            diags.push(Diagnostic {
                severity: Severity::Error,
                file: file.path.to_string(),
                line,
                col,
                message,
                help: Some("see docs/lab-format.md for the lab file format".into()),
            });
            return None;
        }
    };
    let mut cx = FileCtx {
        path: file.path,
        text: file.text,
        diags,
    };
    let before = cx.diags.len();
    if parsed.id.is_empty()
        || !parsed
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        cx.error(
            "id:",
            format!("lab id `{}` is not kebab-case", parsed.id),
            Some("use lowercase letters, digits and dashes"),
        );
    }
    if !chapters.is_empty() && !chapters.contains(&parsed.chapter) {
        let known: Vec<_> = chapters.iter().map(String::as_str).collect();
        cx.error(
            "chapter:",
            format!("unknown chapter `{}`", parsed.chapter),
            Some(&format!("chapters are: {}", known.join(", "))),
        );
    }
    if parsed.steps.is_empty() {
        cx.error("steps:", "a lab needs at least one step".into(), None);
    }
    if let Some(ns) = &parsed.namespace {
        check_lab_namespace(&mut cx, ns, parsed.needs, &parsed.steps);
    }
    let mut steps = Vec::new();
    for (si, step) in parsed.steps.into_iter().enumerate() {
        let at = format!("step {} (`{}`)", si + 1, step.title);
        if step.solution.is_empty() {
            cx.error(
                &step.title,
                format!("{at} has no solution"),
                Some("every step needs solution commands: they power `solve`, \"show solution\" and the tests"),
            );
        }
        if step.checks.is_empty() {
            cx.error(&step.title, format!("{at} has no checks"), None);
        }
        let mut checks = Vec::new();
        for (ci, check) in step.checks.into_iter().enumerate() {
            let title = check.title.clone();
            match check_from_file(check, parsed.needs) {
                Ok(c) => checks.push(c),
                Err(msg) => cx.error(
                    &title,
                    format!("{at}, check {} (`{title}`): {msg}", ci + 1),
                    None,
                ),
            }
        }
        let document = {
            // Markdown problems in instructions are reported like a lesson's.
            let mut fd = crate::diag::FileDiags::new(cx.path, cx.text, cx.diags);
            crate::doc::parse_body(&step.instructions, 0, &mut fd).0
        };
        steps.push(Step {
            title: step.title,
            document,
            instructions: step.instructions,
            setup: step.setup,
            solution: step.solution,
            hints: step
                .hints
                .into_iter()
                .map(|h| match h {
                    HintFile::Text(text) => Hint { after: 0, text },
                    HintFile::After { after, text } => Hint { after, text },
                })
                .collect(),
            checks,
        });
    }
    (cx.diags.len() == before).then(|| Lab {
        id: parsed.id,
        title: parsed.title,
        chapter: parsed.chapter,
        needs: parsed.needs,
        summary: parsed.summary,
        tools: parsed.tools,
        namespace: parsed.namespace,
        steps,
        source: file.path.to_string(),
    })
}

/// A kind lab's `namespace:` is a DNS label, and its commands leave it to
/// the runner: naming it (`-n net`) would send a workshop learner's
/// commands to a namespace that is not theirs.
fn check_lab_namespace(cx: &mut FileCtx<'_>, ns: &str, needs: Needs, steps: &[StepFile]) {
    if needs != Needs::Kind {
        cx.error(
            "namespace:",
            "`namespace` is for kind labs (`needs: kind`)".into(),
            Some("sandbox labs have their own network namespaces: use `ip netns`"),
        );
        return;
    }
    let label = !ns.is_empty()
        && ns.len() <= 30
        && !ns.starts_with('-')
        && !ns.ends_with('-')
        && ns
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !label {
        cx.error(
            "namespace:",
            format!("lab namespace `{ns}` is not a DNS label of at most 30 characters"),
            Some("use lowercase letters, digits and dashes (learner namespaces add a prefix)"),
        );
        return;
    }
    let names_it = |cmd: &str| {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        words.windows(2).any(|w| {
            (w[0] == "-n" || w[0] == "--namespace") && w[1].trim_matches(['\'', '"']) == ns
        }) || words
            .iter()
            .any(|w| *w == format!("--namespace={ns}") || *w == format!("-n={ns}"))
    };
    for (si, step) in steps.iter().enumerate() {
        let scripts = step.setup.iter().chain(&step.solution);
        let checks = step.checks.iter().flat_map(|c| {
            c.host
                .as_ref()
                .map(|h| h.run.as_str())
                .into_iter()
                .chain(c.capture.as_ref().and_then(|c| c.trigger.as_deref()))
        });
        for cmd in scripts.map(String::as_str).chain(checks) {
            if names_it(cmd) {
                cx.error(
                    cmd.lines().next().unwrap_or(cmd),
                    format!(
                        "step {} (`{}`): a command names the lab's namespace `{ns}`",
                        si + 1,
                        step.title
                    ),
                    Some("leave it out: the runner makes the lab's namespace kubectl's default (in a workshop, the learner's own); `$LAB_NAMESPACE` holds its name"),
                );
            }
        }
    }
}

fn check_from_file(c: CheckFile, needs: Needs) -> Result<Check, String> {
    let mut kinds: Vec<CheckKind> = Vec::new();
    if let Some(h) = c.host {
        kinds.push(CheckKind::Host {
            run: h.run,
            expect: h.expect,
        });
    }
    kinds.extend(c.namespace.map(CheckKind::Namespace));
    kinds.extend(c.interface.map(CheckKind::Interface));
    kinds.extend(c.route.map(CheckKind::Route));
    kinds.extend(c.sysctl.map(CheckKind::Sysctl));
    kinds.extend(c.iptables.map(CheckKind::Iptables));
    kinds.extend(c.conntrack.map(CheckKind::Conntrack));
    kinds.extend(c.capture.map(CheckKind::Capture));
    kinds.extend(c.answer.map(CheckKind::Answer));
    kinds.extend(c.resource.map(CheckKind::Resource));
    kinds.extend(c.exec.map(CheckKind::Exec));
    kinds.extend(c.node.map(CheckKind::Node));
    kinds.extend(c.http.map(CheckKind::Http));
    if kinds.len() != 1 {
        let names: Vec<_> = kinds.iter().map(CheckKind::name).collect();
        return Err(if names.is_empty() {
            "says nothing to check: add one of host, namespace, interface, route, sysctl, iptables, conntrack, capture, answer, resource, exec, node, http".into()
        } else {
            format!(
                "has several kinds ({}); split it into one check per kind",
                names.join(", ")
            )
        });
    }
    let kind = kinds.pop().expect("one kind");
    let node_capture = matches!(&kind, CheckKind::Capture(c) if c.node.is_some());
    if (kind.needs_cluster() || node_capture) && needs == Needs::Sandbox {
        return Err(format!(
            "`{}` checks need a cluster, but the lab says `needs: sandbox`",
            kind.name()
        ));
    }
    validate_kind(&kind)?;
    let timeout_ms = match c.timeout.as_deref() {
        None => DEFAULT_TIMEOUT_MS,
        Some(t) => {
            parse_duration(t).ok_or_else(|| format!("bad timeout `{t}` (use 500ms, 5s, 2m)"))?
        }
    };
    let mode = match (c.mode.as_deref(), c.hold_for.as_deref()) {
        (None | Some("eventually"), None) => Mode::Eventually,
        (Some("once"), None) => Mode::Once,
        (Some("consistently"), Some(d)) => Mode::Consistently {
            for_ms: parse_duration(d).ok_or_else(|| format!("bad duration `{d}` in `for`"))?,
        },
        (Some("consistently"), None) => {
            return Err("`mode: consistently` needs `for: <duration>`, e.g. `for: 3s`".into());
        }
        (_, Some(_)) => return Err("`for` only applies to `mode: consistently`".into()),
        (Some(m), None) => {
            return Err(format!(
                "unknown mode `{m}` (use eventually, consistently or once)"
            ));
        }
    };
    Ok(Check {
        title: c.title,
        kind,
        mode,
        timeout_ms,
        points: c.points.unwrap_or(1),
        hint: c.hint,
    })
}

/// `ns/name` or `ns/name:port`, each part non-empty.
fn valid_service_port(s: &str) -> bool {
    let (nn, port) = s.split_once(':').unwrap_or((s, "x"));
    matches!(nn.split_once('/'), Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/'))
        && !port.is_empty()
}

fn validate_kind(kind: &CheckKind) -> Result<(), String> {
    let cel_ok = |expr: &Option<String>| -> Result<(), String> {
        match expr {
            Some(e) => super::cel::compile(e).map(|_| ()),
            None => Ok(()),
        }
    };
    let regex_ok = |m: &Option<TextMatch>| -> Result<(), String> {
        if let Some(TextMatch::Detailed { regex: Some(r), .. }) = m {
            regex_lite::Regex::new(r).map_err(|e| format!("bad regex `{r}`: {e}"))?;
        }
        Ok(())
    };
    let expect_ok = |e: &Expect| -> Result<(), String> {
        cel_ok(&e.cel)?;
        regex_ok(&e.stdout)?;
        regex_ok(&e.stderr)
    };
    match kind {
        CheckKind::Host { run, expect } => {
            if run.trim().is_empty() {
                return Err("`run` is empty".into());
            }
            expect_ok(expect)
        }
        CheckKind::Interface(i) => {
            for a in &i.addresses {
                if !a.contains('/') {
                    return Err(format!(
                        "address `{a}` needs a prefix length, e.g. `{a}/24`"
                    ));
                }
            }
            Ok(())
        }
        CheckKind::Capture(c) => {
            cel_ok(&c.cel)?;
            if c.sequence.is_empty() && c.cel.is_none() {
                return Err("a capture check needs `sequence` or `cel`".into());
            }
            Ok(())
        }
        CheckKind::Answer(a) => {
            let sources = [a.capture.is_some(), a.run.is_some(), a.saved.is_some()];
            if sources.iter().filter(|&&x| x).count() != 1 {
                return Err(
                    "an answer check observes with exactly one of `capture`, `run` or `saved`"
                        .into(),
                );
            }
            super::cel::compile(&a.expected).map(|_| ())
        }
        CheckKind::Resource(r) => {
            if r.name.is_some() == r.selector.is_some() {
                return Err("give exactly one of `name` or `selector`".into());
            }
            if r.matches.is_none() && r.cel.is_none() {
                return Err("a resource check needs `match` or `cel`".into());
            }
            cel_ok(&r.cel)
        }
        CheckKind::Exec(e) => {
            if e.pod.is_some() == e.selector.is_some() {
                return Err("give exactly one of `pod` or `selector`".into());
            }
            if e.command.is_empty() {
                return Err("`command` is empty".into());
            }
            expect_ok(&e.expect)
        }
        CheckKind::Node(n) => {
            match (&n.service, n.run.trim().is_empty()) {
                (Some(_), false) => return Err("give exactly one of `run` or `service`".into()),
                (None, true) => return Err("`run` is empty".into()),
                (Some(s), true) if !valid_service_port(s) => {
                    return Err(format!(
                        "`service: {s}` should be NAMESPACE/NAME or NAMESPACE/NAME:PORTNAME"
                    ));
                }
                _ => {}
            }
            expect_ok(&n.expect)
        }
        CheckKind::Http(h) => regex_ok(&h.body),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> LoadedLabs {
        let chapters = ["linux".to_string()].into_iter().collect();
        load_labs(
            &[SourceFile {
                path: "x.yaml",
                text,
            }],
            &chapters,
        )
    }

    const GOOD: &str = r#"
id: demo
title: Demo
chapter: linux
needs: sandbox
summary: A demo.
steps:
  - title: Make a namespace
    instructions: Run `ip netns add red`.
    solution: [ip netns add red]
    hints:
      - Use ip netns.
      - after: 2
        text: The command is `ip netns add red`.
    checks:
      - title: red exists
        namespace: { name: red }
      - title: it stays
        mode: consistently
        for: 1s
        timeout: 2s
        points: 3
        host: { run: "ip netns list", expect: { stdout: red } }
"#;

    #[test]
    fn a_good_lab_loads_with_defaults() {
        let l = load(GOOD);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let step = &l.labs[0].steps[0];
        assert_eq!(step.checks[0].mode, Mode::Eventually);
        assert_eq!(step.checks[0].timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(step.checks[1].mode, Mode::Consistently { for_ms: 1000 });
        assert_eq!(
            (step.checks[1].points, step.checks[1].timeout_ms),
            (3, 2000)
        );
        assert_eq!(step.hints_after(0).count(), 1);
        assert_eq!(step.hints_after(2).count(), 2);
    }

    #[test]
    fn a_lab_namespace_is_for_kind_labs_whose_commands_leave_it_out() {
        let kind = r#"
id: k
title: K
chapter: linux
needs: kind
namespace: net
summary: S.
steps:
  - title: Pods
    instructions: Apply them.
    solution: [kubectl apply -f manifests/k/pods.yaml]
    checks:
      - title: one
        resource: { apiVersion: v1, kind: Pod, name: client, match: { spec: { nodeName: w } } }
      - title: seen
        host: { run: "kubectl -n kube-system get pods", expect: { exit: 0 } }
"#;
        let l = load(kind);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        assert_eq!(l.labs[0].namespace.as_deref(), Some("net"));
        for bad in [
            "kubectl -n net apply -f manifests/k/pods.yaml",
            "kubectl apply --namespace=net -f x.yaml",
            "kubectl --namespace 'net' get pods",
        ] {
            let text = kind.replace("kubectl apply -f manifests/k/pods.yaml", bad);
            let d = &load(&text).diagnostics;
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert!(
                d[0].message.contains("names the lab's namespace `net`"),
                "{d:?}"
            );
            assert_eq!(d[0].line, 11, "{d:?}");
        }
        let d = &load(&kind.replace("namespace: net", "namespace: Net_1")).diagnostics;
        assert!(d[0].message.contains("not a DNS label"), "{d:?}");
        let d =
            &load(&GOOD.replace("needs: sandbox", "needs: sandbox\nnamespace: net")).diagnostics;
        assert!(d[0].message.contains("for kind labs"), "{d:?}");
    }

    #[test]
    fn mistakes_are_reported_with_the_line_and_the_step() {
        let typo = GOOD.replace("namespace: { name: red }", "namespce: { name: red }");
        let d = &load(&typo).diagnostics;
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("unknown field `namespce`"),
            "{}",
            d[0]
        );
        assert_eq!(d[0].line, 17, "{}", d[0]);

        let two = GOOD.replace(
            "namespace: { name: red }",
            "namespace: { name: red }\n        sysctl: { key: a, value: b }",
        );
        let d = &load(&two).diagnostics;
        assert!(
            d[0].message.contains("several kinds (namespace, sysctl)"),
            "{}",
            d[0]
        );
        assert!(
            d[0].message
                .contains("step 1 (`Make a namespace`), check 1"),
            "{}",
            d[0]
        );
        assert_eq!(d[0].line, 16);

        let bad_cel = GOOD.replace("stdout: red", "cel: 'stdout.contains('");
        let d = &load(&bad_cel).diagnostics;
        assert!(d[0].message.contains("CEL"), "{}", d[0]);

        let no_for = GOOD.replace("        for: 1s\n", "");
        assert!(load(&no_for).diagnostics[0].message.contains("needs `for:"));

        let chapter = GOOD.replace("chapter: linux", "chapter: linx");
        let d = &load(&chapter).diagnostics;
        assert!(d[0].message.contains("unknown chapter `linx`"));
        assert_eq!(d[0].help.as_deref(), Some("chapters are: linux"));

        let cluster = GOOD.replace(
            "namespace: { name: red }",
            "exec: { pod: a, command: [ls] }",
        );
        assert!(
            load(&cluster).diagnostics[0]
                .message
                .contains("need a cluster")
        );
    }

    #[test]
    fn node_checks_take_run_or_a_service_port_and_node_captures_need_a_cluster() {
        let kind_lab = |check: &str| {
            let text = GOOD
                .replace("needs: sandbox", "needs: kind")
                .replace("namespace: { name: red }", check);
            load(&text).diagnostics
        };
        assert!(kind_lab("node: { node: any, service: shop/web:http }").is_empty());
        assert!(kind_lab("node: { node: any, service: shop/web }").is_empty());
        let both = kind_lab("node: { node: any, run: ls, service: shop/web }");
        assert!(
            both[0]
                .message
                .contains("exactly one of `run` or `service`")
        );
        let bad = kind_lab("node: { node: any, service: web }");
        assert!(bad[0].message.contains("NAMESPACE/NAME"), "{}", bad[0]);
        assert!(
            kind_lab("node: { node: any }")[0]
                .message
                .contains("`run` is empty")
        );
        let capture = GOOD.replace(
            "namespace: { name: red }",
            "capture: { node: layerlab-worker, cel: 'size(packets) > 0' }",
        );
        assert!(
            load(&capture).diagnostics[0]
                .message
                .contains("need a cluster")
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("1.5s"), Some(1500));
        assert_eq!(parse_duration("2m"), Some(120_000));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5h"), None);
    }
}
