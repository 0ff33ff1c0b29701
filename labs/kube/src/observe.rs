//! Observers: each turns one check into an [`Observation`] by asking the
//! cluster (resource, exec), a node container (node), or the network (http).
//! Every failure becomes `Observation::Failed` with one line naming the cause.

use crate::client::call;
use crate::error::Call;
use crate::proxy::{self, ProxyMode, ServicePort};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status as ExecStatus;
use kube::Client;
use kube::api::{Api, AttachParams, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use layerlab_core::lab::{CommandOutput, ExecCheck, HttpCheck, Observation, ResourceCheck};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

/// Longest a command in a pod or on a node may run.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// Longest an HTTP check waits for an answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest HTTP body kept.
const HTTP_BODY_LIMIT: usize = 1 << 20;

/// A resolved kind: where its API lives and whether it is namespaced.
#[derive(Debug, Clone)]
pub(crate) struct KindInfo {
    pub ar: ApiResource,
    pub namespaced: bool,
}

/// Discovery results, kept for the life of the runner.
#[derive(Default)]
pub(crate) struct Kinds {
    map: Mutex<HashMap<(String, String), KindInfo>>,
}

impl Kinds {
    /// Finds `kind` in `api_version` through discovery (`/api/v1`,
    /// `/apis/GROUP/VERSION`), once.
    pub async fn resolve(
        &self,
        client: &Client,
        api_version: &str,
        kind: &str,
    ) -> Result<KindInfo, String> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(k) = self.map.lock().await.get(&key) {
            return Ok(k.clone());
        }
        if let Some(k) = builtin(api_version, kind) {
            return Ok(k);
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let what = Call {
            verb: "get",
            resource: format!("discovery for {api_version}"),
            namespace: None,
        };
        let found = call(what, kube::discovery::pinned_kind(client, &gvk)).await;
        let (ar, caps) = match found {
            Ok(v) => v,
            Err(e) if e.contains("Missing") || e.contains("not found") => {
                return Err(format!(
                    "the cluster has no kind {kind} in apiVersion {api_version} (check the spelling, or install what serves it)"
                ));
            }
            Err(e) => return Err(e),
        };
        let info = KindInfo {
            ar,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.map.lock().await.insert(key, info.clone());
        Ok(info)
    }
}

/// Kinds every conformant cluster serves, known without asking discovery
/// (one round trip fewer for each new runner).
fn builtin(api_version: &str, kind: &str) -> Option<KindInfo> {
    const KNOWN: &[(&str, &str, &str, bool)] = &[
        ("v1", "Pod", "pods", true),
        ("v1", "Service", "services", true),
        ("v1", "Node", "nodes", false),
        ("v1", "Namespace", "namespaces", false),
        ("v1", "ConfigMap", "configmaps", true),
        ("apps/v1", "Deployment", "deployments", true),
        ("apps/v1", "DaemonSet", "daemonsets", true),
        (
            "discovery.k8s.io/v1",
            "EndpointSlice",
            "endpointslices",
            true,
        ),
        (
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
        ),
        ("networking.k8s.io/v1", "Ingress", "ingresses", true),
    ];
    let &(_, _, plural, namespaced) = KNOWN
        .iter()
        .find(|(v, k, _, _)| *v == api_version && *k == kind)?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Some(KindInfo {
        ar: ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            plural: plural.into(),
        },
        namespaced,
    })
}

/// The API for a kind in a namespace (ignored for cluster-scoped kinds).
pub(crate) fn dynamic_api(client: &Client, info: &KindInfo, namespace: &str) -> Api<DynamicObject> {
    if info.namespaced {
        Api::namespaced_with(client.clone(), namespace, &info.ar)
    } else {
        Api::all_with(client.clone(), &info.ar)
    }
}

/// An object as checks see it: `apiVersion` and `kind` filled in (list
/// items lack them), `managedFields` stripped.
pub(crate) fn object_json(obj: &DynamicObject, ar: &ApiResource) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.insert("apiVersion".into(), Value::from(ar.api_version.clone()));
        map.insert("kind".into(), Value::from(ar.kind.clone()));
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
    }
    v
}

fn endpointslice_resource() -> ApiResource {
    ApiResource {
        group: "discovery.k8s.io".into(),
        version: "v1".into(),
        api_version: "discovery.k8s.io/v1".into(),
        kind: "EndpointSlice".into(),
        plural: "endpointslices".into(),
    }
}

/// The namespace a check means when it names none.
pub(crate) fn namespace_or_default(ns: &Option<String>) -> &str {
    ns.as_deref().unwrap_or("default")
}

/// Observes a `resource` check: the object (or the selected objects) and,
/// when asked, the Service's EndpointSlices.
pub(crate) async fn resource(client: &Client, kinds: &Kinds, r: &ResourceCheck) -> Observation {
    let info = match kinds.resolve(client, &r.api_version, &r.kind).await {
        Ok(i) => i,
        Err(e) => return Observation::Failed(e),
    };
    let ns = namespace_or_default(&r.namespace);
    let api = dynamic_api(client, &info, ns);
    let shown_ns = info.namespaced.then_some(ns);
    let object = match (&r.name, &r.selector) {
        (Some(name), _) => {
            let what = Call {
                verb: "get",
                resource: format!("{}/{name}", info.ar.plural),
                namespace: shown_ns,
            };
            match call(what, api.get_opt(name)).await {
                Ok(Some(o)) => object_json(&o, &info.ar),
                Ok(None) => Value::Null,
                Err(e) => return Observation::Failed(e),
            }
        }
        (None, Some(sel)) => {
            let what = Call {
                verb: "list",
                resource: info.ar.plural.clone(),
                namespace: shown_ns,
            };
            match call(what, api.list(&ListParams::default().labels(sel))).await {
                Ok(list) => {
                    let mut items: Vec<Value> = list
                        .items
                        .iter()
                        .map(|o| object_json(o, &info.ar))
                        .collect();
                    items.sort_by(|a, b| {
                        a["metadata"]["name"]
                            .as_str()
                            .cmp(&b["metadata"]["name"].as_str())
                    });
                    Value::Array(items)
                }
                Err(e) => return Observation::Failed(e),
            }
        }
        (None, None) => Value::Null,
    };
    let related = if r.endpointslices {
        let names: Vec<String> = match &object {
            Value::Array(items) => items
                .iter()
                .filter_map(|o| o["metadata"]["name"].as_str().map(String::from))
                .collect(),
            Value::Null => Vec::new(),
            one => one["metadata"]["name"]
                .as_str()
                .map(String::from)
                .into_iter()
                .collect(),
        };
        match endpoint_slices(client, ns, &names).await {
            Ok(v) => v,
            Err(e) => return Observation::Failed(e),
        }
    } else {
        Value::Null
    };
    Observation::Objects { object, related }
}

/// The EndpointSlices of these Services (label `kubernetes.io/service-name`).
async fn endpoint_slices(client: &Client, ns: &str, services: &[String]) -> Result<Value, String> {
    let ar = endpointslice_resource();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let mut out = Vec::new();
    for svc in services {
        let what = Call {
            verb: "list",
            resource: "endpointslices".into(),
            namespace: Some(ns),
        };
        let lp = ListParams::default().labels(&format!("kubernetes.io/service-name={svc}"));
        let list = call(what, api.list(&lp)).await?;
        out.extend(list.items.iter().map(|o| object_json(o, &ar)));
    }
    Ok(Value::Array(out))
}

/// Whether a pod's `Ready` condition is true.
pub(crate) fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pod an exec check runs in: the named one, or the first ready pod
/// (by name) that the selector picks.
async fn exec_target(client: &Client, e: &ExecCheck) -> Result<String, String> {
    let ns = namespace_or_default(&e.namespace);
    if let Some(p) = &e.pod {
        return Ok(p.clone());
    }
    let sel = e.selector.as_deref().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let what = Call {
        verb: "list",
        resource: "pods".into(),
        namespace: Some(ns),
    };
    let list = call(what, pods.list(&ListParams::default().labels(sel))).await?;
    let mut ready: Vec<&Pod> = list.items.iter().filter(|p| pod_ready(p)).collect();
    ready.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    match ready.first() {
        Some(p) => Ok(p.metadata.name.clone().unwrap_or_default()),
        None if list.items.is_empty() => {
            Err(format!("no pod matches `{sel}` in namespace {ns} (yet)"))
        }
        None => Err(format!(
            "{} pod(s) match `{sel}` in namespace {ns}, but none is ready yet",
            list.items.len()
        )),
    }
}

/// The exit code a finished exec reports on its status channel: `Success`
/// is 0, `NonZeroExitCode` carries the code in `details.causes`.
pub(crate) fn exit_code(status: Option<&ExecStatus>) -> Result<i32, String> {
    let Some(status) = status else {
        return Err("the exec stream ended without a status (the connection was cut)".into());
    };
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    let message = status.message.clone().unwrap_or_default();
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
            .and_then(|c| c.message.as_deref()?.parse().ok());
        return code.ok_or_else(|| format!("exit status without a code: {message}"));
    }
    // The runtime could not start the command (not found, not executable).
    Err(message)
}

/// A finished command whose stdout may be binary (a pcap).
pub(crate) struct RawOutput {
    pub exit: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Runs a command in a pod through the API's exec (websocket).
pub(crate) async fn run_in_pod(
    client: &Client,
    ns: &str,
    pod: &str,
    container: Option<&str>,
    command: &[String],
    timeout: Duration,
) -> Result<CommandOutput, String> {
    let raw = run_in_pod_raw(client, ns, pod, container, command, timeout).await?;
    Ok(CommandOutput {
        exit: raw.exit,
        stdout: String::from_utf8_lossy(&raw.stdout).into_owned(),
        stderr: raw.stderr,
    })
}

/// [`run_in_pod`], keeping stdout as bytes.
pub(crate) async fn run_in_pod_raw(
    client: &Client,
    ns: &str,
    pod: &str,
    container: Option<&str>,
    command: &[String],
    timeout: Duration,
) -> Result<RawOutput, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut ap = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(true);
    if let Some(c) = container {
        ap = ap.container(c);
    }
    let what = Call {
        verb: "create",
        resource: format!("pods/{pod}/exec"),
        namespace: Some(ns),
    };
    let run = async {
        let mut proc = call(what, pods.exec(pod, command.to_vec(), &ap)).await?;
        let mut out = proc.stdout();
        let mut err = proc.stderr();
        let status = proc.take_status();
        let read_out = async {
            let mut buf = Vec::new();
            if let Some(s) = out.as_mut() {
                let _ = s.read_to_end(&mut buf).await;
            }
            buf
        };
        let read_err = async {
            let mut buf = Vec::new();
            if let Some(s) = err.as_mut() {
                let _ = s.read_to_end(&mut buf).await;
            }
            buf
        };
        let status = async {
            match status {
                Some(s) => s.await,
                None => None,
            }
        };
        let (stdout, stderr, status) = tokio::join!(read_out, read_err, status);
        let _ = proc.join().await;
        let mut stderr = String::from_utf8_lossy(&stderr).into_owned();
        let exit = match exit_code(status.as_ref()) {
            Ok(c) => c,
            Err(msg) => {
                // Shown like a shell would: the command could not run.
                if !stderr.is_empty() && !stderr.ends_with('\n') {
                    stderr.push('\n');
                }
                stderr.push_str(&msg);
                127
            }
        };
        Ok(RawOutput {
            exit,
            stdout,
            stderr,
        })
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "`{}` in pod {ns}/{pod} did not finish within {} s",
            command.join(" "),
            timeout.as_secs()
        )),
    }
}

/// Observes an `exec` check.
pub(crate) async fn exec(client: &Client, e: &ExecCheck) -> Observation {
    let ns = namespace_or_default(&e.namespace);
    let pod = match exec_target(client, e).await {
        Ok(p) => p,
        Err(msg) => return Observation::Failed(msg),
    };
    match run_in_pod(
        client,
        ns,
        &pod,
        e.container.as_deref(),
        &e.command,
        COMMAND_TIMEOUT,
    )
    .await
    {
        Ok(out) => Observation::Command(out),
        Err(msg) => Observation::Failed(msg),
    }
}

/// Runs commands on kind nodes: `docker exec NODE sh -c ...` (or podman).
#[derive(Debug, Clone)]
pub struct NodeShell {
    program: String,
}

impl NodeShell {
    /// Uses this container CLI (`docker`, `podman`, or a path).
    pub fn new(program: impl Into<String>) -> Self {
        NodeShell {
            program: program.into(),
        }
    }

    /// Picks the container CLI the way kind does: `LAYERLAB_NODE_RUNTIME`
    /// (an explicit path, used by tests), `KIND_EXPERIMENTAL_PROVIDER=podman`,
    /// else docker if installed, else podman.
    pub fn detect() -> Self {
        if let Ok(p) = std::env::var("LAYERLAB_NODE_RUNTIME")
            && !p.is_empty()
        {
            return NodeShell::new(p);
        }
        if std::env::var("KIND_EXPERIMENTAL_PROVIDER").as_deref() == Ok("podman") {
            return NodeShell::new("podman");
        }
        if crate::cluster::prereq::on_path("docker").is_none()
            && crate::cluster::prereq::on_path("podman").is_some()
        {
            return NodeShell::new("podman");
        }
        NodeShell::new("docker")
    }

    /// The container CLI in use.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Runs `script` with `sh -c` in the node's container.
    pub async fn run(&self, node: &str, script: &str) -> Result<CommandOutput, String> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(["exec", node, "sh", "-c", script])
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = match tokio::time::timeout(COMMAND_TIMEOUT, cmd.output()).await {
            Err(_) => {
                return Err(format!(
                    "`{script}` on node {node} did not finish within {} s",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "cannot run `{}`: not installed (node checks need docker or podman; see `layerlab cluster up`)",
                    self.program
                ));
            }
            Ok(Err(e)) => return Err(format!("cannot run `{}`: {e}", self.program)),
            Ok(Ok(o)) => o,
        };
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if stderr.contains("No such container") || stderr.contains("no such container") {
            return Err(format!(
                "node container `{node}` not found: is the kind cluster running? (`layerlab cluster status`)"
            ));
        }
        if stderr.contains("Cannot connect to the Docker daemon") {
            return Err(format!(
                "`{}` cannot reach its daemon: start Docker (or use podman)",
                self.program
            ));
        }
        Ok(CommandOutput {
            exit: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        })
    }
}

/// The nodes a node check runs on: the named one, or every node (sorted)
/// for `any`.
pub(crate) async fn node_names(client: &Client, node: &str) -> Result<Vec<String>, String> {
    if node != "any" {
        return Ok(vec![node.to_string()]);
    }
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let what = Call {
        verb: "list",
        resource: "nodes".into(),
        namespace: None,
    };
    let list = call(what, nodes.list(&ListParams::default())).await?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    names.sort();
    if names.is_empty() {
        return Err("the cluster has no nodes".into());
    }
    Ok(names)
}

/// kube-proxy's mode, from its ConfigMap, else by looking at a node.
pub(crate) async fn proxy_mode(
    client: &Client,
    shell: &NodeShell,
    node: &str,
) -> Result<ProxyMode, String> {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    let what = Call {
        verb: "get",
        resource: "configmaps/kube-proxy".into(),
        namespace: Some("kube-system"),
    };
    if let Ok(Some(cm)) = call(what, cms.get_opt("kube-proxy")).await
        && let Some(conf) = cm.data.as_ref().and_then(|d| d.get("config.conf"))
        && let Some(mode) = ProxyMode::from_config(conf)
    {
        return Ok(mode);
    }
    let out = shell.run(node, proxy::PROBE_MODE_SCRIPT).await?;
    match out.stdout.trim() {
        "iptables" => Ok(ProxyMode::Iptables),
        "nftables" => Ok(ProxyMode::Nftables),
        "ipvs" => Ok(ProxyMode::Ipvs),
        _ => Err(format!(
            "cannot tell how kube-proxy programs Services on {node} (no iptables, nftables or IPVS rules; is kube-proxy replaced, e.g. by Cilium?)"
        )),
    }
}

/// kube-proxy's rules for a Service port on a node, as JSON on stdout.
pub(crate) async fn service_rules(
    client: &Client,
    shell: &NodeShell,
    mode: ProxyMode,
    node: &str,
    service: &str,
) -> Result<CommandOutput, String> {
    let svc = ServicePort::parse(service)
        .ok_or_else(|| format!("`{service}` is not NAMESPACE/NAME[:PORT]"))?;
    let dump = shell.run(node, mode.dump_command()).await?;
    if dump.exit != 0 {
        return Ok(dump);
    }
    let rules = match mode {
        ProxyMode::Iptables => proxy::from_iptables(&dump.stdout, &svc),
        ProxyMode::Nftables => proxy::from_nftables(&dump.stdout, &svc),
        ProxyMode::Ipvs => {
            // IPVS has no comments: find the virtual server by the Service's address.
            let services: Api<k8s_openapi::api::core::v1::Service> =
                Api::namespaced(client.clone(), &svc.namespace);
            let what = Call {
                verb: "get",
                resource: format!("services/{}", svc.name),
                namespace: Some(&svc.namespace),
            };
            let s = call(what, services.get_opt(&svc.name)).await?;
            let spec = s.and_then(|s| s.spec);
            let ip = spec
                .as_ref()
                .and_then(|s| s.cluster_ip.clone())
                .unwrap_or_default();
            let port = spec
                .and_then(|s| s.ports)
                .unwrap_or_default()
                .into_iter()
                .find(|p| p.name.as_deref().unwrap_or("") == svc.port)
                .map(|p| p.port as u16)
                .unwrap_or(0);
            proxy::from_ipvs(&dump.stdout, &svc, &ip, port)
        }
    };
    Ok(CommandOutput {
        exit: 0,
        stdout: serde_json::to_string_pretty(&rules).unwrap_or_default(),
        stderr: String::new(),
    })
}

/// A command on the learner's machine (`host` checks in kind labs, capture
/// triggers, solutions).
pub(crate) async fn run_local(script: &str, timeout: Duration) -> Result<CommandOutput, String> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.args(["-c", script])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(timeout, cmd.output()).await {
        Err(_) => Err(format!(
            "`{script}` did not finish within {} s",
            timeout.as_secs()
        )),
        Ok(Err(e)) => Err(format!("cannot run sh: {e}")),
        Ok(Ok(o)) => Ok(CommandOutput {
            exit: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }),
    }
}

/// Makes HTTP requests from the learner's machine.
#[derive(Clone)]
pub(crate) struct HttpProbe {
    client: Arc<
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            http_body_util::Empty<bytes::Bytes>,
        >,
    >,
}

impl HttpProbe {
    pub fn new() -> Self {
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        // A fresh connection per check: the path behind a NodePort or an
        // Ingress may change between attempts, and pooled keep-alive
        // connections would hide that.
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector);
        HttpProbe {
            client: Arc::new(client),
        }
    }

    /// Observes an `http` check.
    pub async fn observe(&self, h: &HttpCheck) -> Observation {
        use http_body_util::BodyExt;
        if h.url.starts_with("https://") {
            return Observation::Failed(format!(
                "{}: https is not supported by http checks; check the plain-http port",
                h.url
            ));
        }
        let uri: hyper::Uri = match h.url.parse() {
            Ok(u) => u,
            Err(e) => return Observation::Failed(format!("bad URL `{}`: {e}", h.url)),
        };
        let method = h.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        let mut req = hyper::Request::builder().method(method.as_str()).uri(uri);
        if let Some(host) = &h.host {
            req = req.header(hyper::header::HOST, host);
        }
        let req = match req.body(http_body_util::Empty::new()) {
            Ok(r) => r,
            Err(e) => return Observation::Failed(format!("bad request for {}: {e}", h.url)),
        };
        let fetch = async {
            let resp = self.client.request(req).await.map_err(|e| {
                let cause = crate::error::transport_cause(&e).unwrap_or_else(|| e.to_string());
                format!("{}: {cause}", h.url)
            })?;
            let status = resp.status().as_u16();
            let body = http_body_util::Limited::new(resp.into_body(), HTTP_BODY_LIMIT)
                .collect()
                .await
                .map_err(|e| format!("{}: reading the body failed: {e}", h.url))?
                .to_bytes();
            Ok::<_, String>(Observation::Http {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        };
        match tokio::time::timeout(HTTP_TIMEOUT, fetch).await {
            Ok(Ok(obs)) => obs,
            Ok(Err(msg)) => Observation::Failed(msg),
            Err(_) => Observation::Failed(format!(
                "{}: no answer within {} s",
                h.url,
                HTTP_TIMEOUT.as_secs()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_come_from_the_status_channel() {
        let parse = |json: &str| serde_json::from_str::<ExecStatus>(json).unwrap();
        assert_eq!(
            exit_code(Some(&parse(r#"{"metadata":{},"status":"Success"}"#))),
            Ok(0)
        );
        let failed = parse(
            r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#,
        );
        assert_eq!(exit_code(Some(&failed)), Ok(3));
        let not_found = parse(
            r#"{"metadata":{},"status":"Failure","message":"executable file not found in $PATH","reason":"InternalError"}"#,
        );
        assert_eq!(
            exit_code(Some(&not_found)),
            Err("executable file not found in $PATH".into())
        );
        assert!(exit_code(None).unwrap_err().contains("without a status"));
    }
}
