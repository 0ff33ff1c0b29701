//! Building a `kube::Client` from a kubeconfig exactly as for any cluster
//! (`KUBECONFIG`, `--context`), with timeouts short enough that a dead
//! cluster is reported within seconds, not minutes.

use crate::error::{Call, Error, Result, describe, transport_cause};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The context `layerlab cluster up` creates.
pub const KIND_CONTEXT: &str = "kind-layerlab";

/// Longest wait for one API call (get, list, patch) before giving up.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(4);

/// Longest wait for a TCP connection to the API server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Where to find the cluster.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// kubeconfig context (default: the file's current context).
    pub context: Option<String>,
    /// kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
}

impl ConnectOptions {
    /// Where kind labs run: `context`, else the `kind-layerlab` context
    /// that `layerlab cluster up` creates.
    pub fn for_labs(context: Option<String>) -> Self {
        ConnectOptions {
            context: Some(context.unwrap_or_else(|| KIND_CONTEXT.to_string())),
            kubeconfig: None,
        }
    }
}

/// A connected cluster: the client and where it points.
#[derive(Clone)]
pub struct Connection {
    /// The client, shared by every observer.
    pub client: Client,
    /// The API server URL.
    pub server: String,
    /// The context used.
    pub context: String,
}

/// Reads the kubeconfig and checks the context exists, with the list of
/// contexts when it does not.
fn kubeconfig(opts: &ConnectOptions) -> Result<(Kubeconfig, String)> {
    let kc = match &opts.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| {
        Error::KubeconfigUnusable(format!(
            "{e} (set KUBECONFIG or pass --kubeconfig; `layerlab cluster up` writes the kind context)"
        ))
    })?;
    let context = match opts.context.clone().or_else(|| kc.current_context.clone()) {
        Some(c) => c,
        None => {
            return Err(Error::KubeconfigUnusable(
                "no current context; pass --context".into(),
            ));
        }
    };
    if !kc.contexts.iter().any(|c| c.name == context) {
        let names: Vec<_> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::KubeconfigUnusable(format!(
            "context `{context}` not found (contexts: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    Ok((kc, context))
}

/// Builds a client for the context without talking to the server.
pub async fn client(opts: &ConnectOptions) -> Result<Connection> {
    let (kc, context) = kubeconfig(opts)?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| Error::KubeconfigUnusable(format!("context `{context}`: {e}")))?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    // Watches stay open while nothing changes; single calls get their own
    // deadline through `call` instead of a global read timeout.
    config.read_timeout = None;
    config.write_timeout = Some(CALL_TIMEOUT);
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| Error::ClusterUnreachable {
        server: server.clone(),
        cause: transport_cause(&e).unwrap_or_else(|| e.to_string()),
    })?;
    Ok(Connection {
        client,
        server: server.trim_end_matches('/').to_string(),
        context,
    })
}

/// Builds a client and checks the server answers (`GET /version`), so a
/// dead cluster or expired credentials are reported at once.
pub async fn connect(opts: &ConnectOptions) -> Result<Connection> {
    let conn = client(opts).await?;
    let call = Call {
        verb: "get",
        resource: "/version".into(),
        namespace: None,
    };
    match tokio::time::timeout(CALL_TIMEOUT, conn.client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(conn),
        Ok(Err(e)) if crate::error::is_transport(&e) => Err(Error::ClusterUnreachable {
            server: conn.server.clone(),
            cause: transport_cause(&e).unwrap_or_else(|| e.to_string()),
        }),
        Ok(Err(e)) => Err(Error::ApiCallFailed(describe(&e, &call))),
        Err(_) => Err(Error::ClusterUnreachable {
            server: conn.server.clone(),
            cause: format!(
                "no answer within {} s (is the API server overloaded or hung?)",
                CALL_TIMEOUT.as_secs()
            ),
        }),
    }
}

/// Runs one API call with [`CALL_TIMEOUT`], turning every failure into one
/// line that names the call.
pub(crate) async fn call<T>(
    what: Call<'_>,
    fut: impl Future<Output = kube::Result<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(describe(&e, &what)),
        Err(_) => Err(format!(
            "{what}: no answer from the API server within {} s",
            CALL_TIMEOUT.as_secs()
        )),
    }
}

/// Whether a one-line cause means retrying cannot help (credentials,
/// permissions, an unreachable server, a kind the cluster lacks).
pub(crate) fn is_fatal(cause: &str) -> bool {
    [
        "forbidden (403)",
        "401 Unauthorized",
        "connection refused",
        "cannot resolve",
        "TLS handshake failed",
        "no answer from the API server",
        "the connection timed out",
        "no route to the server",
        "has no kind",
    ]
    .iter()
    .any(|k| cause.contains(k))
}
