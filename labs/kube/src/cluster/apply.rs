//! Server-side apply of multi-document YAML through the kube API, in an
//! order that lets each object find what it needs (namespaces and CRDs
//! first), and readiness waiting with progress lines.

use crate::client::call;
use crate::error::{Call, Error, Result};
use crate::observe::{Kinds, dynamic_api};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The field manager layerlab applies as.
pub const FIELD_MANAGER: &str = "layerlab";

/// Splits a multi-document YAML text into objects (empty documents skipped).
pub fn documents(text: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let v = <Value as serde::Deserialize>::deserialize(doc)
            .map_err(|e| Error::ManifestInvalid(format!("document {}: {e}", i + 1)))?;
        if v.is_null() {
            continue;
        }
        if v.get("kind").and_then(Value::as_str).is_none()
            || v.get("apiVersion").and_then(Value::as_str).is_none()
            || v.pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_none()
        {
            return Err(Error::ManifestInvalid(format!(
                "document {} lacks apiVersion, kind or metadata.name",
                i + 1
            )));
        }
        out.push(v);
    }
    Ok(out)
}

/// Lower applies first: namespaces and CRDs, then RBAC and config, then
/// workloads.
fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" | "ClusterRole" | "Role" | "ConfigMap" | "Secret" | "PriorityClass" => 2,
        "ClusterRoleBinding" | "RoleBinding" => 3,
        _ => 4,
    }
}

/// Sets an environment variable on a container of a workload object (used
/// to give Calico the cluster's pod CIDR).
pub fn set_env(obj: &mut Value, container: &str, name: &str, value: &str) -> bool {
    let Some(containers) = obj
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    for c in containers.iter_mut().filter(|c| c["name"] == container) {
        let env = c
            .as_object_mut()
            .map(|m| m.entry("env").or_insert_with(|| Value::Array(Vec::new())));
        if let Some(Value::Array(env)) = env {
            env.retain(|e| e["name"] != name);
            env.push(serde_json::json!({"name": name, "value": value}));
            return true;
        }
    }
    false
}

/// Applies every object server-side (force: layerlab owns what it applies),
/// so running it again repairs drift instead of failing on "exists".
pub async fn apply_all(
    client: &Client,
    docs: &[Value],
    progress: &mut dyn FnMut(&str),
) -> Result<usize> {
    let mut docs: Vec<&Value> = docs.iter().collect();
    docs.sort_by_key(|d| rank(d["kind"].as_str().unwrap_or("")));
    let mut kinds = Kinds::default();
    for doc in &docs {
        let api_version = doc["apiVersion"].as_str().unwrap_or_default();
        let kind = doc["kind"].as_str().unwrap_or_default();
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        let mut tries = 0;
        let info = loop {
            match kinds.resolve(client, api_version, kind).await {
                Ok(i) => break i,
                // A CRD applied a moment ago may not be served yet.
                Err(e) if e.contains("has no kind") && tries < 10 => {
                    tries += 1;
                    kinds = Kinds::default();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(Error::ClusterSetupFailed(e)),
            }
        };
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
        let api = dynamic_api(client, &info, ns);
        let what = Call {
            verb: "patch",
            resource: format!("{}/{name}", info.ar.plural),
            namespace: info.namespaced.then_some(ns),
        };
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        call(what, api.patch(name, &pp, &Patch::Apply(doc)))
            .await
            .map_err(Error::ClusterSetupFailed)?;
        progress(&format!("applied {kind} {name}"));
    }
    Ok(docs.len())
}

/// Something `cluster up` waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// Every node reports `Ready`.
    Nodes,
    /// A DaemonSet has a ready pod on every node it schedules to.
    DaemonSet(&'static str, &'static str),
    /// A Deployment has all replicas available.
    Deployment(&'static str, &'static str),
}

impl std::fmt::Display for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ready::Nodes => f.write_str("nodes"),
            Ready::DaemonSet(ns, n) => write!(f, "daemonset {ns}/{n}"),
            Ready::Deployment(ns, n) => write!(f, "deployment {ns}/{n}"),
        }
    }
}

/// `(ready, wanted)` for one item; an absent object is `(0, 1)`.
async fn counts(client: &Client, item: &Ready) -> Result<(i32, i32), String> {
    match item {
        Ready::Nodes => {
            let api: Api<Node> = Api::all(client.clone());
            let what = Call {
                verb: "list",
                resource: "nodes".into(),
                namespace: None,
            };
            let list = call(what, api.list(&ListParams::default())).await?;
            let ready = list
                .items
                .iter()
                .filter(|n| {
                    n.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        })
                })
                .count() as i32;
            Ok((ready, (list.items.len() as i32).max(1)))
        }
        Ready::DaemonSet(ns, name) => {
            let api: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
            let what = Call {
                verb: "get",
                resource: format!("daemonsets/{name}"),
                namespace: Some(ns),
            };
            Ok(match call(what, api.get_opt(name)).await? {
                Some(d) => {
                    let s = d.status.unwrap_or_default();
                    (s.number_ready, s.desired_number_scheduled.max(1))
                }
                None => (0, 1),
            })
        }
        Ready::Deployment(ns, name) => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            let what = Call {
                verb: "get",
                resource: format!("deployments/{name}"),
                namespace: Some(ns),
            };
            Ok(match call(what, api.get_opt(name)).await? {
                Some(d) => {
                    let want = d.spec.and_then(|s| s.replicas).unwrap_or(1).max(1);
                    let have = d.status.and_then(|s| s.available_replicas).unwrap_or(0);
                    (have, want)
                }
                None => (0, 1),
            })
        }
    }
}

/// Why pods in a namespace are not running (image pulls, crashes), for the
/// error when waiting gives up.
async fn pod_problems(client: &Client, ns: &str) -> Vec<String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let Ok(Ok(list)) =
        tokio::time::timeout(Duration::from_secs(4), api.list(&ListParams::default())).await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in list.items {
        let name = p.metadata.name.unwrap_or_default();
        for cs in p
            .status
            .and_then(|s| s.container_statuses)
            .unwrap_or_default()
        {
            if let Some(w) = cs.state.and_then(|s| s.waiting) {
                out.push(format!(
                    "{ns}/{name}: {} {}",
                    w.reason.unwrap_or_default(),
                    w.message.unwrap_or_default()
                ));
            }
        }
    }
    out
}

/// Waits until every item is ready, printing each as it becomes ready and
/// what is still missing every 15 s.
pub async fn wait_ready(
    client: &Client,
    items: &[Ready],
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let start = Instant::now();
    let mut pending: Vec<Ready> = items.to_vec();
    let mut last_report = Instant::now();
    while !pending.is_empty() {
        let mut still = Vec::new();
        let mut states = Vec::new();
        for item in pending {
            match counts(client, &item).await {
                Ok((ready, want)) if ready >= want => progress(&format!(
                    "ready: {item} ({ready}/{want}) after {} s",
                    start.elapsed().as_secs()
                )),
                Ok((ready, want)) => {
                    states.push(format!("{item} {ready}/{want}"));
                    still.push(item);
                }
                Err(e) if crate::client::is_fatal(&e) => {
                    return Err(Error::ClusterSetupFailed(e));
                }
                Err(e) => {
                    states.push(format!("{item}: {e}"));
                    still.push(item);
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if start.elapsed() > timeout {
            let mut problems = Vec::new();
            for item in &pending {
                if let Ready::DaemonSet(ns, _) | Ready::Deployment(ns, _) = item {
                    problems.extend(pod_problems(client, ns).await);
                }
            }
            problems.dedup();
            return Err(Error::ClusterSetupFailed(format!(
                "not ready after {} s: {}{}",
                timeout.as_secs(),
                states.join(", "),
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", problems.join("; "))
                }
            )));
        }
        if last_report.elapsed() >= Duration::from_secs(15) {
            progress(&format!("waiting for {}", states.join(", ")));
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_skip_empties_and_reject_nameless_objects() {
        let docs = documents("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: a}\n").unwrap();
        assert_eq!(docs.len(), 2);
        let err = documents("apiVersion: v1\nkind: Namespace\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "document 1 lacks apiVersion, kind or metadata.name"
        );
    }

    #[test]
    fn embedded_manifests_parse_and_namespaces_come_first() {
        let docs = documents(crate::cluster::LAYERLAB_SYSTEM).unwrap();
        let mut kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        kinds.sort_by_key(|k| rank(k));
        assert_eq!(kinds, ["Namespace", "DaemonSet"]);
    }

    #[test]
    fn env_is_set_on_the_named_container_only() {
        let mut ds = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": "calico-node", "env": [{"name": "CALICO_IPV4POOL_CIDR", "value": "192.168.0.0/16"}]},
            {"name": "other"}
        ]}}}});
        assert!(set_env(
            &mut ds,
            "calico-node",
            "CALICO_IPV4POOL_CIDR",
            "10.244.0.0/16"
        ));
        let env = &ds["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env.as_array().unwrap().len(), 1);
        assert_eq!(env[0]["value"], "10.244.0.0/16");
        assert!(
            ds["spec"]["template"]["spec"]["containers"][1]
                .get("env")
                .is_none()
        );
        assert!(!set_env(&mut ds, "nope", "A", "b"));
    }
}
