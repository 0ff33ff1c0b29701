//! A learner's own space on a shared cluster (workshops): one namespace per
//! learner per lab, a ServiceAccount bound to a namespaced Role with just
//! what the kind labs do, a ResourceQuota and a LimitRange, a short-lived
//! token from the TokenRequest API, and a kubeconfig (0600) whose context is
//! that namespace and that token. The learner gets no cluster-wide rights;
//! node-level checks keep running with the server's own credentials.
//!
//! Everything is server-side applied (field manager `layerlab`, forced), so
//! provisioning again repairs drift and changes nothing otherwise.
//!
//! ```no_run
//! # async fn demo(admin: &kube::Client) -> layerlab_kube::Result<()> {
//! use layerlab_kube::learner_space::{SpaceLimits, provision, teardown};
//! let ns = provision(admin, "l-0123456789ab", "net", &SpaceLimits::default()).await?;
//! assert_eq!(ns, "ll-l-0123456789ab-net");
//! teardown(admin, &ns).await?;
//! # Ok(()) }
//! ```

use crate::client::{ConnectOptions, call};
use crate::error::{Call, Error, Result};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The field manager of every object made here.
const MANAGER: &str = "layerlab";

/// The label every learner namespace carries (value: `layerlab`).
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The label naming the learner a namespace belongs to.
pub const LEARNER_LABEL: &str = "layerlab.dev/learner";

/// The label naming the lab namespace a learner namespace stands for.
pub const LAB_NAMESPACE_LABEL: &str = "layerlab.dev/lab-namespace";

/// The ServiceAccount, Role and RoleBinding name in each learner namespace.
pub const LEARNER_SA: &str = "learner";

/// The longest a learner token lives (and the default).
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// What the learner's Role grants, in their namespace only: what the kind
/// labs' instructions and solutions do (`kubectl apply`, `get -o wide`,
/// `exec`, `wait`, `patch`, `delete`, EndpointSlices and events to read).
/// No Secrets, ServiceAccounts, Roles or bindings (no way to escalate), no
/// quota changes.
pub fn learner_rules() -> Value {
    const WRITE: &[&str] = &[
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    const READ: &[&str] = &["get", "list", "watch"];
    json!([
        {"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": WRITE},
        {"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create", "get"]},
        {"apiGroups": [""], "resources": ["pods/log", "pods/status", "services/status"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["endpoints", "events", "resourcequotas", "limitranges"], "verbs": READ},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": WRITE},
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "update", "patch"]},
        {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": READ},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies", "ingresses"], "verbs": WRITE},
    ])
}

/// Quota and per-container limits of one learner namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceLimits {
    /// Pods at most.
    pub pods: u32,
    /// Services at most.
    pub services: u32,
    /// NodePort Services at most (they take a port on every node).
    pub node_ports: u32,
    /// LoadBalancer Services at most.
    pub load_balancers: u32,
    /// Sum of CPU requests (`2`, `500m`).
    pub cpu: String,
    /// Sum of memory requests (`2Gi`).
    pub memory: String,
    /// A container's CPU and memory request when it names none.
    pub default_request: (String, String),
    /// A container's CPU and memory limit when it names none.
    pub default_limit: (String, String),
    /// The most CPU and memory one container may ask for.
    pub max_per_container: (String, String),
}

impl Default for SpaceLimits {
    /// Enough for the largest kind lab (five pods, three Services, one
    /// NodePort, one LoadBalancer) with room to experiment.
    fn default() -> Self {
        SpaceLimits {
            pods: 20,
            services: 10,
            node_ports: 2,
            load_balancers: 1,
            cpu: "2".into(),
            memory: "2Gi".into(),
            default_request: ("50m".into(), "32Mi".into()),
            default_limit: ("500m".into(), "128Mi".into()),
            max_per_container: ("1".into(), "512Mi".into()),
        }
    }
}

/// A DNS label from any id: lowercase letters, digits and `-`; when that
/// changes the id or it is longer than `max`, cut and suffixed with a hash
/// of the original so two ids never meet.
fn label_part(id: &str, max: usize) -> String {
    let clean: String = id
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    let clean = clean.trim_matches('-').to_string();
    if clean == id && !clean.is_empty() && clean.len() <= max {
        return clean;
    }
    // FNV-1a: stable across processes and versions, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let hash = format!("{:08x}", h as u32);
    let keep = max.saturating_sub(hash.len() + 1).min(clean.len());
    let head = clean[..keep].trim_end_matches('-');
    if head.is_empty() {
        hash
    } else {
        format!("{head}-{hash}")
    }
}

/// The namespace of `learner`'s space for a lab working in `lab_namespace`:
/// `ll-<learner>-<lab namespace>`, a valid namespace name (≤ 63 chars).
pub fn space_namespace(learner: &str, lab_namespace: &str) -> String {
    let lab = label_part(lab_namespace, 20);
    let learner = label_part(learner, 63 - 4 - lab.len());
    format!("ll-{learner}-{lab}")
}

fn apply_params() -> PatchParams {
    PatchParams::apply(MANAGER).force()
}

async fn apply<K>(api: &Api<K>, name: &str, ns: Option<&str>, obj: Value) -> Result<()>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let what = Call {
        verb: "patch",
        resource: format!("{}/{name}", K::plural(&())),
        namespace: ns,
    };
    call(what, api.patch(name, &apply_params(), &Patch::Apply(&obj)))
        .await
        .map(|_| ())
        .map_err(Error::ClusterSetupFailed)
}

/// Makes (or repairs) `learner`'s space for a lab working in
/// `lab_namespace`, with the admin's client: the namespace (labelled as
/// layerlab's, Pod Security `baseline` enforced so no pod can take the
/// node), the ServiceAccount, the Role ([`learner_rules`]) and its
/// RoleBinding, the ResourceQuota and the LimitRange. Idempotent; answers
/// the namespace.
pub async fn provision(
    admin: &Client,
    learner: &str,
    lab_namespace: &str,
    limits: &SpaceLimits,
) -> Result<String> {
    let ns = space_namespace(learner, lab_namespace);
    let labels = json!({
        MANAGED_BY: "layerlab",
        LEARNER_LABEL: label_part(learner, 63),
        LAB_NAMESPACE_LABEL: label_part(lab_namespace, 63),
        // No privileged, hostNetwork, hostPID or hostPath pods: with those
        // a learner's pod would be root on the node, outside every namespace.
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "baseline",
    });
    apply(
        &Api::<Namespace>::all(admin.clone()),
        &ns,
        None,
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": ns, "labels": labels}}),
    )
    .await?;
    let meta =
        |name: &str| json!({"name": name, "namespace": ns, "labels": {MANAGED_BY: "layerlab"}});
    apply(
        &Api::<ServiceAccount>::namespaced(admin.clone(), &ns),
        LEARNER_SA,
        Some(&ns),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(LEARNER_SA),
               // Its token is asked for when needed, never stored in the namespace.
               "automountServiceAccountToken": false}),
    )
    .await?;
    apply(
        &Api::<Role>::namespaced(admin.clone(), &ns),
        LEARNER_SA,
        Some(&ns),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": meta(LEARNER_SA), "rules": learner_rules()}),
    )
    .await?;
    apply(
        &Api::<RoleBinding>::namespaced(admin.clone(), &ns),
        LEARNER_SA,
        Some(&ns),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": meta(LEARNER_SA),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": LEARNER_SA},
               "subjects": [{"kind": "ServiceAccount", "name": LEARNER_SA, "namespace": ns}]}),
    )
    .await?;
    apply(
        &Api::<ResourceQuota>::namespaced(admin.clone(), &ns),
        "learner-quota",
        Some(&ns),
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("learner-quota"),
        "spec": {"hard": {
            "pods": limits.pods.to_string(),
            "services": limits.services.to_string(),
            "services.nodeports": limits.node_ports.to_string(),
            "services.loadbalancers": limits.load_balancers.to_string(),
            "requests.cpu": limits.cpu,
            "requests.memory": limits.memory,
            "persistentvolumeclaims": "0",
        }}}),
    )
    .await?;
    let (dr, dl, max) = (
        &limits.default_request,
        &limits.default_limit,
        &limits.max_per_container,
    );
    apply(
        &Api::<LimitRange>::namespaced(admin.clone(), &ns),
        "learner-limits",
        Some(&ns),
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("learner-limits"),
               "spec": {"limits": [{"type": "Container",
                   "defaultRequest": {"cpu": dr.0, "memory": dr.1},
                   "default": {"cpu": dl.0, "memory": dl.1},
                   "max": {"cpu": max.0, "memory": max.1}}]}}),
    )
    .await?;
    Ok(ns)
}

/// The cluster-wide guard for learner namespaces, applied once per
/// cluster (idempotent): a ValidatingAdmissionPolicy, bound to every
/// namespace with the learner label, that refuses Services with
/// `spec.externalIPs` (CVE-2020-8554: such a Service takes the traffic for
/// those addresses from every pod of the cluster, other learners' too).
pub async fn guard_cluster(admin: &Client) -> Result<()> {
    use k8s_openapi::api::admissionregistration::v1::{
        ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    };
    const NAME: &str = "layerlab-learner-services";
    apply(
        &Api::<ValidatingAdmissionPolicy>::all(admin.clone()),
        NAME,
        None,
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
               "metadata": {"name": NAME, "labels": {MANAGED_BY: "layerlab"}},
               "spec": {
                   "failurePolicy": "Fail",
                   "matchConstraints": {"resourceRules": [{
                       "apiGroups": [""], "apiVersions": ["v1"],
                       "operations": ["CREATE", "UPDATE"], "resources": ["services"]}]},
                   "validations": [{
                       "expression": "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
                       "message": "a learner's Service may not set spec.externalIPs: it would take those addresses' traffic from every pod of the cluster"}]}}),
    )
    .await?;
    apply(
        &Api::<ValidatingAdmissionPolicyBinding>::all(admin.clone()),
        NAME,
        None,
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
               "metadata": {"name": NAME, "labels": {MANAGED_BY: "layerlab"}},
               "spec": {
                   "policyName": NAME,
                   "validationActions": ["Deny"],
                   "matchResources": {"namespaceSelector": {"matchExpressions": [
                       {"key": LEARNER_LABEL, "operator": "Exists"}]}}}}),
    )
    .await
}

/// Whether namespace `ns` exists (in any phase).
async fn namespace_exists(api: &Api<Namespace>, ns: &str) -> Result<bool> {
    let get = Call {
        verb: "get",
        resource: format!("namespaces/{ns}"),
        namespace: None,
    };
    Ok(call(get, api.get_opt(ns))
        .await
        .map_err(Error::ApiCallFailed)?
        .is_some())
}

/// Makes namespace `ns` if it is missing (a kind lab's namespace on the
/// learner's own cluster), labelled as layerlab's; leaves an existing one
/// as it is.
pub async fn ensure_namespace(admin: &Client, ns: &str) -> Result<()> {
    let api = Api::<Namespace>::all(admin.clone());
    if namespace_exists(&api, ns).await? {
        return Ok(());
    }
    apply(
        &api,
        ns,
        None,
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": ns, "labels": {MANAGED_BY: "layerlab"}}}),
    )
    .await
}

/// A token for the learner's ServiceAccount in `namespace`, from the
/// TokenRequest API (`serviceaccounts/learner/token`), valid for `ttl`:
/// (token, expiry as RFC 3339 when the server says).
pub async fn issue_token(
    admin: &Client,
    namespace: &str,
    ttl: Duration,
) -> Result<(String, Option<String>)> {
    let api = Api::<ServiceAccount>::namespaced(admin.clone(), namespace);
    let req = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(ttl.as_secs() as i64),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let what = Call {
        verb: "create",
        resource: format!("serviceaccounts/{LEARNER_SA}/token"),
        namespace: Some(namespace),
    };
    let out = call(
        what,
        api.create_token_request(LEARNER_SA, &PostParams::default(), &req),
    )
    .await
    .map_err(Error::ClusterSetupFailed)?;
    let status = out.status.ok_or_else(|| {
        Error::ClusterSetupFailed(format!(
            "the API server answered the TokenRequest for {namespace}/{LEARNER_SA} without a token"
        ))
    })?;
    let expires = Some(status.expiration_timestamp.0.to_string());
    Ok((status.token, expires))
}

/// How a learner kubeconfig carries its token.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The token itself (the file stands alone).
    Token(&'a str),
    /// A file holding it (`tokenFile`, relative paths from the kubeconfig's
    /// folder): kubectl reads it on every run and kube clients every
    /// minute, so a renewed token reaches them without a new kubeconfig.
    TokenFile(&'a str),
}

/// A kubeconfig for the learner: the admin context's cluster (server, and
/// its CA inlined), the credential, and a context `layerlab-<namespace>`
/// whose default namespace is theirs.
pub fn learner_kubeconfig(
    admin: &ConnectOptions,
    namespace: &str,
    credential: Credential<'_>,
) -> Result<String> {
    use kube::config::Kubeconfig;
    let kc = match &admin.kubeconfig {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| Error::KubeconfigUnusable(e.to_string()))?;
    let ctx_name = admin
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .ok_or_else(|| Error::KubeconfigUnusable("no current context; pass --context".into()))?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == ctx_name)
        .and_then(|c| c.context.as_ref())
        .ok_or_else(|| Error::KubeconfigUnusable(format!("context `{ctx_name}` not found")))?;
    let cluster = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| {
            Error::KubeconfigUnusable(format!(
                "context `{ctx_name}` names cluster `{}`, which the kubeconfig lacks",
                ctx.cluster
            ))
        })?;
    let server = cluster.server.clone().ok_or_else(|| {
        Error::KubeconfigUnusable(format!("cluster `{}` has no server", ctx.cluster))
    })?;
    let mut c = serde_json::Map::new();
    c.insert("server".into(), json!(server));
    if let Some(data) = &cluster.certificate_authority_data {
        c.insert("certificate-authority-data".into(), json!(data));
    } else if let Some(path) = &cluster.certificate_authority {
        use base64::Engine;
        let pem = std::fs::read(path).map_err(|e| {
            Error::KubeconfigUnusable(format!("cannot read the cluster's CA {path}: {e}"))
        })?;
        c.insert(
            "certificate-authority-data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(pem)),
        );
    }
    if let Some(name) = &cluster.tls_server_name {
        c.insert("tls-server-name".into(), json!(name));
    }
    if cluster.insecure_skip_tls_verify == Some(true) {
        c.insert("insecure-skip-tls-verify".into(), json!(true));
    }
    if let Some(proxy) = &cluster.proxy_url {
        c.insert("proxy-url".into(), json!(proxy));
    }
    let name = format!("layerlab-{namespace}");
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": c}],
        "users": [{"name": name, "user": match credential {
            Credential::Token(t) => json!({"token": t}),
            Credential::TokenFile(f) => json!({"tokenFile": f}),
        }}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    });
    serde_yaml_ng::to_string(&doc)
        .map_err(|e| Error::KubeconfigUnusable(format!("cannot write a kubeconfig: {e}")))
}

/// A learner kubeconfig pointed at another address for the same API
/// server (a port forwarded into the learner's sandbox, e.g.
/// `https://127.0.0.1:6443`): the server URL is replaced and the original
/// host kept as `tls-server-name`, so the server's certificate is still
/// checked against the name it was issued for.
pub fn via_server(kubeconfig: &str, server: &str) -> Result<String> {
    let bad = |why: String| Error::KubeconfigUnusable(why);
    let mut doc: serde_json::Value =
        serde_yaml_ng::from_str(kubeconfig).map_err(|e| bad(format!("not a kubeconfig: {e}")))?;
    let clusters = doc["clusters"]
        .as_array_mut()
        .ok_or_else(|| bad("the kubeconfig has no clusters".into()))?;
    for c in clusters {
        let cluster = &mut c["cluster"];
        let old = cluster["server"].as_str().unwrap_or_default().to_string();
        let host = old
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(|hp| match hp.strip_prefix('[') {
                // [::1]:6443
                Some(v6) => v6.split(']').next().unwrap_or(v6).to_string(),
                None => hp.rsplit_once(':').map_or(hp, |(h, _)| h).to_string(),
            })
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad(format!("cluster server `{old}` has no host")))?;
        if cluster["tls-server-name"].is_null() {
            cluster["tls-server-name"] = json!(host);
        }
        cluster["server"] = json!(server);
    }
    serde_yaml_ng::to_string(&doc).map_err(|e| bad(format!("cannot write a kubeconfig: {e}")))
}

/// The API server's address in a kubeconfig (its first cluster), resolved:
/// where a bridge from a learner's sandbox leads.
pub fn server_address(kubeconfig: &str) -> Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let bad = |why: String| Error::KubeconfigUnusable(why);
    let doc: serde_json::Value =
        serde_yaml_ng::from_str(kubeconfig).map_err(|e| bad(format!("not a kubeconfig: {e}")))?;
    let server = doc["clusters"][0]["cluster"]["server"]
        .as_str()
        .ok_or_else(|| bad("the kubeconfig names no cluster server".into()))?;
    let (scheme, rest) = server
        .split_once("://")
        .ok_or_else(|| bad(format!("cluster server `{server}` is not a URL")))?;
    let host_port = rest.split('/').next().unwrap_or(rest);
    let default_port = if scheme == "http" { 80 } else { 443 };
    let with_port = match host_port.rsplit_once(':') {
        Some((_, p)) if p.parse::<u16>().is_ok() && !host_port.ends_with(']') => {
            host_port.to_string()
        }
        _ => format!("{host_port}:{default_port}"),
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| bad(format!("cannot resolve `{with_port}`: {e}")))?
        .next()
        .ok_or_else(|| bad(format!("`{with_port}` resolves to no address")))
}

/// Writes a file only its owner may read (0600), replacing it atomically.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A learner's space, ready to use.
#[derive(Debug, Clone)]
pub struct LearnerSpace {
    /// The namespace (`ll-<learner>-<lab namespace>`).
    pub namespace: String,
    /// The kubeconfig file (0600) bound to it.
    pub kubeconfig: std::path::PathBuf,
    /// The token file beside it (`token`, 0600), which the kubeconfig names.
    pub token_file: std::path::PathBuf,
    /// Its one context's name.
    pub context: String,
    /// When the token expires (RFC 3339), if the server said.
    pub expires: Option<String>,
}

/// [`guard_cluster`], [`provision`], [`issue_token`] and
/// [`learner_kubeconfig`] in one: the space made (or repaired), a fresh
/// token in `token` beside `kubeconfig`, and the kubeconfig naming it,
/// both written with mode 0600. Move the folder as a whole: the
/// kubeconfig names the token file relative to itself.
pub async fn open(
    admin: &Client,
    admin_opts: &ConnectOptions,
    learner: &str,
    lab_namespace: &str,
    limits: &SpaceLimits,
    kubeconfig: &Path,
) -> Result<LearnerSpace> {
    guard_cluster(admin).await?;
    let namespace = provision(admin, learner, lab_namespace, limits).await?;
    let token_file = kubeconfig.with_file_name("token");
    let mut space = LearnerSpace {
        context: format!("layerlab-{namespace}"),
        namespace,
        kubeconfig: kubeconfig.to_path_buf(),
        token_file,
        expires: None,
    };
    renew_token(admin, &mut space).await?;
    let text = learner_kubeconfig(admin_opts, &space.namespace, Credential::TokenFile("token"))?;
    write_private(kubeconfig, &text).map_err(|e| {
        Error::KubeconfigUnusable(format!("cannot write {}: {e}", kubeconfig.display()))
    })?;
    Ok(space)
}

/// A fresh token for the space's ServiceAccount, written over its token
/// file (0600): every client of the kubeconfig picks it up.
pub async fn renew_token(admin: &Client, space: &mut LearnerSpace) -> Result<()> {
    let (token, expires) = issue_token(admin, &space.namespace, TOKEN_TTL).await?;
    write_private(&space.token_file, &token).map_err(|e| {
        Error::KubeconfigUnusable(format!("cannot write {}: {e}", space.token_file.display()))
    })?;
    space.expires = expires;
    Ok(())
}

/// Deletes a learner namespace (and with it everything in it, its
/// ServiceAccount and so every token issued for it). Refuses namespaces
/// not labelled as layerlab's. `Ok(false)` when it was already gone.
pub async fn teardown(admin: &Client, namespace: &str) -> Result<bool> {
    let api = Api::<Namespace>::all(admin.clone());
    let get = Call {
        verb: "get",
        resource: format!("namespaces/{namespace}"),
        namespace: None,
    };
    let ns = match call(get, api.get_opt(namespace))
        .await
        .map_err(Error::ApiCallFailed)?
    {
        Some(ns) => ns,
        None => return Ok(false),
    };
    if ns.labels().get(MANAGED_BY).map(String::as_str) != Some("layerlab")
        || !ns.labels().contains_key(LEARNER_LABEL)
    {
        return Err(Error::ApiCallFailed(format!(
            "namespace {namespace} is not a layerlab learner space (no {LEARNER_LABEL} label): not deleting it"
        )));
    }
    let del = Call {
        verb: "delete",
        resource: format!("namespaces/{namespace}"),
        namespace: None,
    };
    call(del, api.delete(namespace, &DeleteParams::background()))
        .await
        .map_err(Error::ApiCallFailed)?;
    Ok(true)
}

/// Waits until namespace `ns` is gone (a deleted namespace lingers as
/// `Terminating` while its contents are removed), up to `limit`.
pub async fn wait_gone(admin: &Client, ns: &str, limit: Duration) -> Result<()> {
    let api = Api::<Namespace>::all(admin.clone());
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if !namespace_exists(&api, ns).await? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::ApiCallFailed(format!(
                "namespace {ns} is still terminating after {} s (a finalizer may be stuck: `kubectl get namespace {ns} -o yaml`)",
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Deletes every space of a learner (all labs); answers the namespaces.
pub async fn teardown_learner(admin: &Client, learner: &str) -> Result<Vec<String>> {
    let api = Api::<Namespace>::all(admin.clone());
    let selector = format!(
        "{MANAGED_BY}=layerlab,{LEARNER_LABEL}={}",
        label_part(learner, 63)
    );
    let what = Call {
        verb: "list",
        resource: "namespaces".into(),
        namespace: None,
    };
    let list = call(what, api.list(&ListParams::default().labels(&selector)))
        .await
        .map_err(Error::ApiCallFailed)?;
    let mut gone = Vec::new();
    for ns in list {
        let name = ns.name_any();
        if teardown(admin, &name).await? {
            gone.push(name);
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_dns_labels_and_distinct() {
        assert_eq!(
            space_namespace("l-0123456789ab", "net"),
            "ll-l-0123456789ab-net"
        );
        let odd = space_namespace("Alice.Smith", "net");
        let other = space_namespace("alice-smith", "net");
        assert_ne!(odd, other, "cleaning an id must not make it meet another");
        let long = space_namespace(&"x".repeat(200), "shop");
        for ns in [&odd, &other, &long] {
            assert!(ns.len() <= 63, "{ns}");
            assert!(
                ns.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{ns}"
            );
            assert!(
                !ns.ends_with('-') && ns.ends_with("net") || ns.ends_with("shop"),
                "{ns}"
            );
        }
        assert_ne!(long, space_namespace(&"x".repeat(201), "shop"));
    }

    #[test]
    fn server_address_reads_the_first_cluster() {
        let cfg =
            |server: &str| format!("clusters:\n- name: c\n  cluster:\n    server: {server}\n");
        let a = server_address(&cfg("https://127.0.0.1:6443")).unwrap();
        assert_eq!(a.to_string(), "127.0.0.1:6443");
        let a = server_address(&cfg("https://[::1]:7443/prefix")).unwrap();
        assert_eq!(a.to_string(), "[::1]:7443");
        let a = server_address(&cfg("https://127.0.0.1")).unwrap();
        assert_eq!(a.port(), 443);
        assert!(server_address("clusters: []").is_err());
        assert!(server_address(&cfg("127.0.0.1:6443")).is_err());
    }

    #[test]
    fn a_kubeconfig_via_a_forwarded_port_keeps_the_certificate_name() {
        let kc = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://kind.example:6443\n    certificate-authority-data: QUJD\nusers: []\ncontexts: []\n";
        let out = via_server(kc, "https://127.0.0.1:7000").unwrap();
        let v: serde_json::Value = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:7000"
        );
        assert_eq!(
            v["clusters"][0]["cluster"]["tls-server-name"],
            "kind.example"
        );
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            "QUJD"
        );
        let v6 = via_server(
            &kc.replace("kind.example", "[::1]"),
            "https://127.0.0.1:7000",
        )
        .unwrap();
        assert!(v6.contains("tls-server-name: ::1"), "{v6}");
        assert!(via_server("clusters: 3", "https://x").is_err());
    }

    #[test]
    fn the_role_grants_no_secrets_and_no_rbac() {
        let rules = learner_rules().to_string();
        for banned in [
            "secrets",
            "roles",
            "rolebindings",
            "serviceaccounts",
            "nodes",
            "\"*\"",
        ] {
            assert!(!rules.contains(banned), "{banned} in {rules}");
        }
    }
}
