//! Who a request comes from and what they may do: the stand-in's
//! authenticator (its admin token, or a ServiceAccount token it issued
//! through the TokenRequest API) and an RBAC authorizer over the Roles,
//! ClusterRoles and their bindings in the store, evaluated like the API
//! server's (rules only add; no rule, no access).

use super::store::{Store, resource};
use serde_json::Value;

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    /// The stand-in's own kubeconfig: everything is allowed.
    Admin,
    /// A ServiceAccount, through a token from its TokenRequest.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl Identity {
    /// The user name as the API server spells it in messages.
    pub(crate) fn user(&self) -> String {
        match self {
            Identity::Admin => "kubernetes-admin".into(),
            Identity::ServiceAccount { namespace, name } => {
                format!("system:serviceaccount:{namespace}:{name}")
            }
        }
    }

    /// The groups the user is in (what Group subjects match).
    fn groups(&self) -> Vec<String> {
        match self {
            Identity::Admin => vec!["kubeadm:cluster-admins".into()],
            Identity::ServiceAccount { namespace, .. } => vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }
}

/// What a request asks to do, in RBAC's terms.
#[derive(Debug, Clone)]
pub(crate) struct Attributes<'a> {
    /// get, list, watch, create, update, patch, delete.
    pub verb: &'a str,
    /// API group ("" for core).
    pub group: &'a str,
    /// Resource, with the subresource when there is one (`pods/exec`).
    pub resource: String,
    /// The namespace (None: cluster scope).
    pub namespace: Option<&'a str>,
    /// The object's name, when the request names one.
    pub name: Option<&'a str>,
}

fn has(list: &Value, want: &str) -> bool {
    list.as_array()
        .is_some_and(|l| l.iter().any(|v| v == want || v == "*"))
}

/// Whether one PolicyRule grants the request.
fn rule_allows(rule: &Value, a: &Attributes) -> bool {
    let names_ok = match rule["resourceNames"].as_array() {
        Some(names) if !names.is_empty() => a.name.is_some_and(|n| names.iter().any(|v| v == n)),
        _ => true,
    };
    has(&rule["verbs"], a.verb)
        && has(&rule["apiGroups"], a.group)
        && has(&rule["resources"], &a.resource)
        && names_ok
}

/// Whether a binding's subjects include the user (`binding_ns`: where a
/// RoleBinding lives, the default namespace of its ServiceAccount subjects).
fn binds(binding: &Value, who: &Identity, binding_ns: Option<&str>) -> bool {
    let user = who.user();
    let groups = who.groups();
    binding["subjects"].as_array().is_some_and(|subjects| {
        subjects.iter().any(|s| match s["kind"].as_str() {
            Some("User") => s["name"] == user.as_str(),
            Some("Group") => groups.iter().any(|g| s["name"] == g.as_str()),
            Some("ServiceAccount") => match who {
                Identity::ServiceAccount { namespace, name } => {
                    s["name"] == name.as_str()
                        && s["namespace"].as_str().or(binding_ns) == Some(namespace.as_str())
                }
                Identity::Admin => false,
            },
            _ => false,
        })
    })
}

/// The rules of the role a binding refers to (empty when it is missing).
fn role_rules(store: &Store, binding: &Value, ns: Option<&str>) -> Vec<Value> {
    let name = binding["roleRef"]["name"].as_str().unwrap_or_default();
    let found = match (binding["roleRef"]["kind"].as_str(), ns) {
        (Some("Role"), Some(ns)) => resource("rbac.authorization.k8s.io", "v1", "roles")
            .and_then(|r| store.get(r, ns, name).ok()),
        (Some("ClusterRole"), _) => resource("rbac.authorization.k8s.io", "v1", "clusterroles")
            .and_then(|r| store.get(r, "", name).ok()),
        _ => None,
    };
    found
        .and_then(|r| r["rules"].as_array().cloned())
        .unwrap_or_default()
}

/// RBAC: allowed when a ClusterRoleBinding, or a RoleBinding in the
/// request's namespace, binds the user to a role with a matching rule.
pub(crate) fn allowed(store: &Store, who: &Identity, a: &Attributes) -> bool {
    if *who == Identity::Admin {
        return true;
    }
    let crb = resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings");
    let cluster_wide = crb.into_iter().flat_map(|r| store.all(r)).any(|b| {
        binds(&b, who, None)
            && role_rules(store, &b, None)
                .iter()
                .any(|rule| rule_allows(rule, a))
    });
    if cluster_wide {
        return true;
    }
    let Some(ns) = a.namespace else {
        return false;
    };
    let rb = resource("rbac.authorization.k8s.io", "v1", "rolebindings");
    rb.into_iter()
        .flat_map(|r| store.all(r))
        .filter(|b| b["metadata"]["namespace"] == ns)
        .any(|b| {
            binds(&b, who, Some(ns))
                && role_rules(store, &b, Some(ns))
                    .iter()
                    .any(|rule| rule_allows(rule, a))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs<'a>(verb: &'a str, resource: &str, ns: Option<&'a str>) -> Attributes<'a> {
        Attributes {
            verb,
            group: "",
            resource: resource.into(),
            namespace: ns,
            name: None,
        }
    }

    #[test]
    fn a_role_grants_only_its_verbs_resources_and_namespace() {
        let mut store = Store::default();
        let role = resource("rbac.authorization.k8s.io", "v1", "roles").unwrap();
        let rb = resource("rbac.authorization.k8s.io", "v1", "rolebindings").unwrap();
        store.put(
            role,
            json!({"metadata": {"name": "learner", "namespace": "a"},
                   "rules": [{"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["get", "create"]}]}),
        );
        store.put(
            rb,
            json!({"metadata": {"name": "learner", "namespace": "a"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "learner"},
                   "subjects": [{"kind": "ServiceAccount", "name": "learner"}]}),
        );
        let sa = Identity::ServiceAccount {
            namespace: "a".into(),
            name: "learner".into(),
        };
        assert!(allowed(&store, &sa, &attrs("get", "pods", Some("a"))));
        assert!(allowed(
            &store,
            &sa,
            &attrs("create", "pods/exec", Some("a"))
        ));
        assert!(!allowed(&store, &sa, &attrs("delete", "pods", Some("a"))));
        assert!(!allowed(&store, &sa, &attrs("get", "pods", Some("b"))));
        assert!(!allowed(&store, &sa, &attrs("get", "secrets", Some("a"))));
        assert!(!allowed(&store, &sa, &attrs("list", "pods", None)));
        let other = Identity::ServiceAccount {
            namespace: "b".into(),
            name: "learner".into(),
        };
        assert!(!allowed(&store, &other, &attrs("get", "pods", Some("a"))));
        assert!(allowed(
            &store,
            &Identity::Admin,
            &attrs("delete", "nodes", None)
        ));
    }
}
