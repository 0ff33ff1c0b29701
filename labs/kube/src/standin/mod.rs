//! An in-process Kubernetes API server stand-in, over real HTTPS, for tests
//! and benchmarks on machines without Docker. It speaks the wire format the
//! labs use — discovery, get/list/watch (chunked JSON events with resource
//! versions, 410 for expired ones), create, update, merge patch, server-side
//! apply, delete, exec over websocket (`v5.channel.k8s.io`/`v4`, status on
//! channel 3), 401 and 403, ServiceAccount tokens (TokenRequest) authorized
//! by RBAC Roles and bindings, namespace deletion with its contents — so `kube::Client` and `kubectl` talk to it
//! exactly as to a real cluster. Objects start from fixture JSON recorded
//! in the shape a kind cluster returns.
//!
//! What it does not do: scheduling, controllers (EndpointSlices do not
//! follow pods by themselves: scenarios change both; `run_pods` starts new
//! pods), admission (quotas, limit ranges and policies are stored, not
//! enforced), field ownership conflicts, protobuf, aggregated discovery
//! (clients fall back to the per-group documents), OpenAPI schemas (just
//! enough v3 for kubectl to validate on the server).

mod rbac;
mod server;
pub mod store;

use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{ResDef, Store, resource_for_kind};
use tokio::sync::broadcast;

/// The fixture cluster: three kind nodes, namespace `shop` with web (two
/// replicas behind Service `web`), db and batch, CoreDNS, kube-proxy's
/// ConfigMap, capture pods.
pub const KIND_CLUSTER: &str = include_str!("fixtures/kind-cluster.json");

/// More fixture objects (a NetworkPolicy, an Ingress) for scenarios.
pub const EXAMPLES: &str = include_str!("fixtures/examples.json");

/// The admin's bearer token (the stand-in's own kubeconfig): allowed
/// everything. ServiceAccount tokens from the TokenRequest API are allowed
/// what their Roles and ClusterRoles grant, through RBAC.
pub const TOKEN: &str = "layerlab-standin-token";

/// A command run through exec, as the stand-in received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCall {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container, if named.
    pub container: Option<String>,
    /// Command and arguments.
    pub command: Vec<String>,
}

/// What a scripted exec answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecReply {
    /// Bytes on stdout.
    pub stdout: Vec<u8>,
    /// Text on stderr.
    pub stderr: String,
    /// Exit code (0: `Success` status; otherwise `NonZeroExitCode`).
    pub exit: i32,
    /// How long the command "runs" before answering.
    pub delay: Duration,
}

impl ExecReply {
    /// Exit 0 with this stdout.
    pub fn ok(stdout: impl Into<String>) -> Self {
        ExecReply {
            stdout: stdout.into().into_bytes(),
            ..ExecReply::default()
        }
    }

    /// A non-zero exit with this stderr.
    pub fn fail(exit: i32, stderr: impl Into<String>) -> Self {
        ExecReply {
            exit,
            stderr: stderr.into(),
            ..ExecReply::default()
        }
    }

    /// The same reply after a delay.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type ExecHandler = Arc<dyn Fn(&ExecCall) -> Option<ExecReply> + Send + Sync>;

/// Mutable behaviour of the stand-in that tests script.
#[derive(Default)]
pub(crate) struct Behaviour {
    /// (verb, resource) pairs answered with 403; `*` matches any verb.
    forbidden: Vec<(String, String)>,
    /// Every request gets 401 (expired credentials).
    expired: bool,
    /// Requests are accepted but never answered (a hung server).
    hung: bool,
    /// Exec scripts, newest first.
    exec: Vec<ExecHandler>,
    /// `METHOD path?query` of every request.
    log: Vec<String>,
}

pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub events: broadcast::Sender<store::Event>,
    pub behaviour: Mutex<Behaviour>,
    /// ServiceAccount tokens issued through TokenRequest.
    pub tokens: Mutex<std::collections::HashMap<String, Issued>>,
}

/// A ServiceAccount token the stand-in issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub namespace: String,
    pub name: String,
    /// The ServiceAccount's uid: a token is bound to that object, so one
    /// made again under the same name does not revive old tokens.
    pub uid: String,
    pub expires: std::time::Instant,
}

impl Shared {
    /// Who a bearer token belongs to: a live token of a ServiceAccount
    /// that still exists (deleting it, or its namespace, revokes it).
    pub(crate) fn identity(&self, token: &str) -> Option<rbac::Identity> {
        let issued = self.tokens.lock().expect("tokens").get(token).cloned()?;
        let sa = store::resource("", "v1", "serviceaccounts")?;
        let exists = self
            .store
            .lock()
            .expect("store")
            .get(sa, &issued.namespace, &issued.name)
            .is_ok_and(|o| o["metadata"]["uid"] == issued.uid.as_str());
        (exists && issued.expires > std::time::Instant::now()).then_some(
            rbac::Identity::ServiceAccount {
                namespace: issued.namespace,
                name: issued.name,
            },
        )
    }

    /// Records a token and answers it: not guessable from the name, like a
    /// signed JWT is not.
    pub(crate) fn issue(&self, issued: Issued) -> String {
        use std::hash::{BuildHasher, Hasher};
        let mut tokens = self.tokens.lock().expect("tokens");
        // RandomState is seeded from the OS per instance.
        let mut bits = String::new();
        for _ in 0..4 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(tokens.len());
            bits.push_str(&format!("{:016x}", h.finish()));
        }
        let token = format!("standin-sa.{bits}");
        tokens.insert(token.clone(), issued);
        token
    }
}

/// A running stand-in API server on 127.0.0.1 (HTTPS, with its own CA).
pub struct StandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
    ca_pem: String,
    runtime: tokio::runtime::Handle,
    kubelet: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A CA and a server certificate for 127.0.0.1 and localhost, made at
/// start: (CA PEM, server certificate DER, server key DER).
fn certificates() -> std::io::Result<(String, Vec<u8>, Vec<u8>)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| std::io::Error::other(e.to_string());
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "layerlab-standin-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().map_err(err)?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let cert = params.signed_by(&key, &issuer).map_err(err)?;
    Ok((ca.pem(), cert.der().to_vec(), key.serialize_der()))
}

/// Serves `app` over TLS (HTTP/1.1 with upgrades, for websocket exec).
async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    app: axum::Router,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .with_upgrades()
                .await;
        });
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(k) = self.kubelet.lock().ok().and_then(|mut k| k.take()) {
            k.abort();
        }
    }
}

fn res_of(obj: &Value) -> &'static ResDef {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    resource_for_kind(api_version, kind)
        .unwrap_or_else(|| panic!("the stand-in does not serve {api_version} {kind}"))
}

impl StandIn {
    /// Starts an empty stand-in (only the namespaces `default` and `kube-system`).
    pub async fn start_empty() -> std::io::Result<Self> {
        let s = Self::start_with(&[]).await?;
        for ns in ["default", "kube-system"] {
            s.put(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        Ok(s)
    }

    /// Starts a stand-in holding the fixture kind cluster.
    pub async fn start() -> std::io::Result<Self> {
        let list: Value = serde_json::from_str(KIND_CLUSTER).expect("fixture JSON parses");
        Self::start_with(list["items"].as_array().expect("a List")).await
    }

    /// Starts a stand-in holding these objects.
    pub async fn start_with(objects: &[Value]) -> std::io::Result<Self> {
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::default()),
            events,
            behaviour: Mutex::new(Behaviour::default()),
            tokens: Mutex::new(Default::default()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = server::router(shared.clone());
        let (ca_pem, cert, key) = certificates()?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut tls = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.into()],
                tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
            )
            .map_err(std::io::Error::other)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let task = tokio::spawn(serve_tls(listener, acceptor, app));
        let s = StandIn {
            addr,
            shared,
            task,
            ca_pem,
            runtime: tokio::runtime::Handle::current(),
            kubelet: Mutex::new(None),
        };
        for o in objects {
            s.put(o.clone());
        }
        Ok(s)
    }

    /// The server URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A kubeconfig with context `standin` pointing here, shaped like the
    /// one `kind export kubeconfig` writes (CA data inline; a bearer token
    /// instead of a client certificate).
    pub fn kubeconfig(&self) -> String {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {}\n  name: standin\ncontexts:\n- context:\n    cluster: standin\n    user: standin\n  name: standin\ncurrent-context: standin\npreferences: {{}}\nusers:\n- name: standin\n  user:\n    token: {TOKEN}\n",
            self.url()
        )
    }

    /// Writes [`StandIn::kubeconfig`] to a file.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// Writes [`StandIn::kubeconfig`] into a fresh folder of the temp dir
    /// named for `purpose` and this process, and answers the file's path.
    pub fn kubeconfig_file(&self, purpose: &str) -> std::io::Result<std::path::PathBuf> {
        let dir =
            std::env::temp_dir().join(format!("layerlab-standin-{purpose}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("kubeconfig");
        self.write_kubeconfig(&path)?;
        Ok(path)
    }

    /// Adds or replaces an object (as a controller would), notifying watches.
    pub fn put(&self, obj: Value) {
        let r = res_of(&obj);
        let ev = self.shared.store.lock().expect("store").put(r, obj);
        let _ = self.shared.events.send(ev);
    }

    /// Changes an object in place (a controller's update), notifying watches.
    pub fn update(
        &self,
        api_version: &str,
        kind: &str,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) {
        let r = resource_for_kind(api_version, kind).expect("a served kind");
        let mut store = self.shared.store.lock().expect("store");
        let mut obj = store.get(r, ns, name).expect("the object exists");
        f(&mut obj);
        let ev = store.put(r, obj);
        drop(store);
        let _ = self.shared.events.send(ev);
    }

    /// Deletes an object, notifying watches.
    pub fn delete(&self, api_version: &str, kind: &str, ns: &str, name: &str) {
        let r = resource_for_kind(api_version, kind).expect("a served kind");
        let res = self.shared.store.lock().expect("store").delete(r, ns, name);
        if let Ok((_, ev)) = res {
            let _ = self.shared.events.send(ev);
        }
    }

    /// Reads an object.
    pub fn get(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let r = resource_for_kind(api_version, kind)?;
        self.shared
            .store
            .lock()
            .expect("store")
            .get(r, ns, name)
            .ok()
    }

    /// Answers `verb` on `resource` (`pods`, `pods/exec`, `*` for any
    /// verb) with 403 Forbidden from now on.
    pub fn forbid(&self, verb: &str, resource: &str) {
        self.shared
            .behaviour
            .lock()
            .expect("behaviour")
            .forbidden
            .push((verb.into(), resource.into()));
    }

    /// From now on every pod created without a status starts at once, as
    /// the scheduler and kubelet would make it: on its `spec.nodeName`
    /// (else `layerlab-worker`), `Running` and Ready, with the next pod IP
    /// of that node's /24. Scenarios then need not script each pod.
    pub fn run_pods(&self) {
        let mut kubelet = self.kubelet.lock().expect("kubelet");
        if kubelet.is_some() {
            return;
        }
        let shared = self.shared.clone();
        let mut events = shared.events.subscribe();
        *kubelet = Some(self.runtime.spawn(async move {
            let mut next = 10u32;
            loop {
                let ev = match events.recv().await {
                    Ok(ev) => ev,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                };
                let obj = &ev.object;
                if ev.res != "/pods" || ev.kind != "ADDED" || !obj["status"]["phase"].is_null() {
                    continue;
                }
                next += 1;
                let node = obj["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or("layerlab-worker")
                    .to_string();
                let subnet = match node.as_str() {
                    "layerlab-control-plane" => 0,
                    "layerlab-worker2" => 2,
                    _ => 1,
                };
                let mut pod = obj.clone();
                pod["spec"]["nodeName"] = Value::from(node);
                pod["status"] = serde_json::json!({
                    "phase": "Running",
                    "podIP": format!("10.244.{subnet}.{}", next % 250 + 2),
                    "conditions": [
                        {"type": "PodScheduled", "status": "True"},
                        {"type": "Initialized", "status": "True"},
                        {"type": "ContainersReady", "status": "True"},
                        {"type": "Ready", "status": "True"}
                    ]
                });
                let Some(r) = store::resource("", "v1", "pods") else {
                    return;
                };
                let ev = shared.store.lock().expect("store").put(r, pod);
                let _ = shared.events.send(ev);
            }
        }));
    }

    /// Expires every token issued so far for ServiceAccounts in `namespace`
    /// (their holders get 401 from now on), as time would.
    pub fn expire_tokens_of(&self, namespace: &str) {
        let past = std::time::Instant::now();
        for t in self.shared.tokens.lock().expect("tokens").values_mut() {
            if t.namespace == namespace {
                t.expires = past;
            }
        }
    }

    /// Answers every request with 401, as for an expired token.
    pub fn expire_credentials(&self) {
        self.shared.behaviour.lock().expect("behaviour").expired = true;
    }

    /// Accepts connections but never answers, as a hung server would.
    pub fn hang(&self) {
        self.shared.behaviour.lock().expect("behaviour").hung = true;
    }

    /// Scripts exec: the newest handler that returns `Some` answers.
    pub fn on_exec(&self, f: impl Fn(&ExecCall) -> Option<ExecReply> + Send + Sync + 'static) {
        self.shared
            .behaviour
            .lock()
            .expect("behaviour")
            .exec
            .insert(0, Arc::new(f));
    }

    /// `METHOD /path?query` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared.behaviour.lock().expect("behaviour").log.clone()
    }

    /// Changes the object after `delay` (a scripted scenario step, e.g. "the
    /// pod becomes Ready after 300 ms").
    pub fn after(
        self: &Arc<Self>,
        delay: Duration,
        api_version: &'static str,
        kind: &'static str,
        ns: &'static str,
        name: &'static str,
        f: impl FnOnce(&mut Value) + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            me.update(api_version, kind, ns, name, f);
        })
    }
}

/// Sets a pod's `Ready` and `ContainersReady` conditions (and the
/// container's `ready`), as the kubelet does after a readiness probe.
pub fn set_pod_ready(pod: &mut Value, ready: bool) {
    let status = if ready { "True" } else { "False" };
    if let Some(conds) = pod["status"]["conditions"].as_array_mut() {
        for c in conds {
            if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                c["status"] = Value::from(status);
            }
        }
    }
    if let Some(cs) = pod["status"]["containerStatuses"].as_array_mut() {
        for c in cs {
            c["ready"] = Value::from(ready);
        }
    }
}

/// A pod as the kubelet reports it once it runs: scheduled on `node`,
/// `Running`, Ready, with `ip` (what a learner's `kubectl apply` leads to).
pub fn running_pod(namespace: &str, name: &str, node: &str, ip: &str) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"nodeName": node, "containers": [{"name": "agnhost", "image": "agnhost"}]},
        "status": {"phase": "Running", "podIP": ip,
                   "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

/// Sets the `ready`/`serving` conditions of an EndpointSlice's endpoint for
/// a pod IP, as the EndpointSlice controller does when readiness changes.
pub fn set_endpoint_ready(slice: &mut Value, ip: &str, ready: bool) {
    if let Some(eps) = slice["endpoints"].as_array_mut() {
        for e in eps {
            if e["addresses"][0] == ip {
                e["conditions"]["ready"] = Value::from(ready);
                e["conditions"]["serving"] = Value::from(ready);
            }
        }
    }
}
