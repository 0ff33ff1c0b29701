//! One error type for the crate, and the translation of kube's errors into
//! one-line causes a learner can act on ("connection refused", "forbidden:
//! cannot list pods in namespace shop"), never a debug dump.

use std::error::Error as StdError;

/// Errors from talking to a cluster or setting one up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig could not be read or has no usable context.
    #[error("cannot use the kubeconfig: {0}")]
    KubeconfigUnusable(String),
    /// The API server could not be reached or did not answer in time.
    #[error("cannot reach the cluster at {server}: {cause}")]
    ClusterUnreachable {
        /// The server URL from the kubeconfig.
        server: String,
        /// One line: refused, DNS, TLS, timed out.
        cause: String,
    },
    /// An API call was answered with an error (403, 401, 404, 5xx).
    #[error("{0}")]
    ApiCallFailed(String),
    /// A command on a node or in a pod could not be run.
    #[error("{0}")]
    CommandFailed(String),
    /// A step's setup or solution command ran and failed.
    #[error(transparent)]
    StepCommand(#[from] layerlab_core::lab::CommandFailed),
    /// A prerequisite (docker, kind, memory) is missing.
    #[error("{0}")]
    PrerequisiteMissing(String),
    /// A manifest or kind config is malformed.
    #[error("{0}")]
    ManifestInvalid(String),
    /// Cluster setup did not finish.
    #[error("{0}")]
    ClusterSetupFailed(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What an API call was doing, for error messages: `list pods in namespace
/// shop`, `get services/web in namespace default`.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// The verb, as RBAC names it (`get`, `list`, `watch`, `create`, `patch`).
    pub verb: &'a str,
    /// The resource's plural (`pods`), with `/name` when there is one.
    pub resource: String,
    /// The namespace, if any.
    pub namespace: Option<&'a str>,
}

impl std::fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if let Some(ns) = self.namespace {
            write!(f, " in namespace {ns}")?;
        }
        Ok(())
    }
}

/// The deepest readable message in an error's source chain, plus every
/// message on the way (some causes only show in the middle of the chain).
fn chain(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push(e.to_string());
        cur = e.source();
    }
    out
}

/// Names a transport failure: refused, DNS, TLS, timeout; `None` when the
/// chain holds nothing recognisable.
pub(crate) fn transport_cause(err: &(dyn StdError + 'static)) -> Option<String> {
    let msgs = chain(err);
    let all = msgs.join(" | ").to_lowercase();
    let deepest = msgs.last().cloned().unwrap_or_default();
    if all.contains("connection refused") {
        Some(
            "connection refused (is the cluster running? for kind: `layerlab cluster status`)"
                .into(),
        )
    } else if all.contains("dns error")
        || all.contains("failed to lookup address")
        || all.contains("name or service not known")
        || all.contains("no address associated")
    {
        Some(format!("cannot resolve the server's host name ({deepest})"))
    } else if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        Some(format!(
            "TLS handshake failed ({deepest}); the kubeconfig's CA may not match the cluster"
        ))
    } else if all.contains("timed out") || all.contains("deadline has elapsed") {
        Some("the connection timed out".into())
    } else if all.contains("connection reset") || all.contains("broken pipe") {
        Some(format!("the connection was reset ({deepest})"))
    } else if all.contains("network is unreachable") || all.contains("no route to host") {
        Some(format!("no route to the server ({deepest})"))
    } else if all.contains("connection closed")
        || all.contains("incomplete message")
        || all.contains("unexpected eof")
    {
        Some(format!("the server closed the connection ({deepest})"))
    } else {
        None
    }
}

/// The resource as RBAC names it: `pods/web/exec` → `pods/exec`,
/// `services/web` → `services`.
fn rbac_resource(resource: &str) -> String {
    let parts: Vec<&str> = resource.split('/').collect();
    match parts.as_slice() {
        [plural, _name, sub] => format!("{plural}/{sub}"),
        [plural, ..] => plural.to_string(),
        [] => resource.to_string(),
    }
}

/// A kube error as one line, for the call that caused it.
pub(crate) fn describe(err: &kube::Error, call: &Call<'_>) -> String {
    match err {
        kube::Error::Api(status) => {
            let code = status.code;
            let message = status.message.trim();
            match code {
                401 => format!(
                    "{call}: the cluster rejected the credentials (401 Unauthorized): the token or client certificate has expired or is wrong; for kind run `kind export kubeconfig --name layerlab`"
                ),
                403 => format!(
                    "{call}: forbidden (403): your credentials may not {} {}{}",
                    call.verb,
                    rbac_resource(&call.resource),
                    call.namespace
                        .map(|n| format!(" in namespace {n}"))
                        .unwrap_or_default()
                ),
                404 => format!("{call}: not found ({message})"),
                _ => format!(
                    "{call}: the API server answered {code} {}: {message}",
                    status.reason
                ),
            }
        }
        kube::Error::Auth(e) => format!("{call}: cannot get credentials from the kubeconfig: {e}"),
        kube::Error::HyperError(_) | kube::Error::Service(_) => match transport_cause(err) {
            Some(cause) => format!("{call}: {cause}"),
            None => format!("{call}: {}", chain(err).last().cloned().unwrap_or_default()),
        },
        kube::Error::UpgradeConnection(e) => {
            format!("{call}: the API server refused the streaming upgrade ({e})")
        }
        other => format!("{call}: {}", chain(other).join(": ")),
    }
}

/// Whether an error means the server itself is out of reach (as opposed to
/// an answer we did not like).
pub(crate) fn is_transport(err: &kube::Error) -> bool {
    matches!(err, kube::Error::HyperError(_) | kube::Error::Service(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            status: Some(kube::core::response::StatusSummary::Failure),
            code,
            message: message.into(),
            reason: reason.into(),
            metadata: None,
            details: None,
        }))
    }

    #[test]
    fn forbidden_names_the_verb_resource_and_namespace() {
        let call = Call {
            verb: "list",
            resource: "pods".into(),
            namespace: Some("shop"),
        };
        let e = api_error(
            403,
            "Forbidden",
            "pods is forbidden: User \"ada\" cannot list resource \"pods\"",
        );
        assert_eq!(
            describe(&e, &call),
            "list pods in namespace shop: forbidden (403): your credentials may not list pods in namespace shop"
        );
    }

    #[test]
    fn expired_credentials_say_how_to_refresh_them() {
        let call = Call {
            verb: "get",
            resource: "services/web".into(),
            namespace: Some("default"),
        };
        let text = describe(&api_error(401, "Unauthorized", "Unauthorized"), &call);
        assert!(text.contains("401 Unauthorized"), "{text}");
        assert!(text.contains("kind export kubeconfig"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn transport_causes_are_recognised_through_the_chain() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let cause = transport_cause(&io).unwrap();
        assert!(cause.starts_with("connection refused"), "{cause}");
        let dns = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(transport_cause(&dns).unwrap().contains("cannot resolve"));
        let odd = std::io::Error::other("something else");
        assert_eq!(transport_cause(&odd), None);
    }
}
