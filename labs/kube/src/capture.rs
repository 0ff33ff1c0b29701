//! Packet captures on a cluster node: tcpdump runs in the `layerlab-capture`
//! DaemonSet's pod on that node (host network, so it sees the node's
//! interfaces, veths and bridges) and streams a pcap back over exec. The
//! bytes are judged by core and kept for the journey view.

use crate::client::call;
use crate::error::Call;
use crate::observe::{pod_ready, run_in_pod_raw, run_local};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams};
use layerlab_core::lab::{CaptureCheck, Observation};
use std::time::Duration;

/// Namespace of layerlab's own helpers in the cluster.
pub const SYSTEM_NAMESPACE: &str = "layerlab-system";

/// Label selecting the capture DaemonSet's pods.
pub const CAPTURE_SELECTOR: &str = "app.kubernetes.io/name=layerlab-capture";

/// How long tcpdump gets to start listening before the trigger runs.
const LISTEN_DELAY: Duration = Duration::from_millis(700);

pub(crate) use layerlab_core::lab::shell_quote;

/// The tcpdump command line for a capture check: pcap to stdout, unbuffered,
/// stopped by packet count or by the window, whichever comes first.
pub(crate) fn tcpdump_command(c: &CaptureCheck) -> Vec<String> {
    let secs = c.window_ms.div_ceil(1000).max(1) + 1;
    let mut script = format!(
        "timeout -s INT {secs} tcpdump -i {} -nn -U -w - -c {}",
        shell_quote(&c.interface),
        c.count
    );
    if let Some(f) = &c.filter {
        script.push(' ');
        script.push_str(&shell_quote(f));
    }
    vec!["sh".into(), "-c".into(), script]
}

/// The capture pod on a node.
async fn capture_pod(client: &Client, node: &str) -> Result<String, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let what = Call {
        verb: "list",
        resource: "pods".into(),
        namespace: Some(SYSTEM_NAMESPACE),
    };
    let lp = ListParams::default()
        .labels(CAPTURE_SELECTOR)
        .fields(&format!("spec.nodeName={node}"));
    let list = call(what, pods.list(&lp)).await?;
    match list.items.iter().find(|p| pod_ready(p)) {
        Some(p) => Ok(p.metadata.name.clone().unwrap_or_default()),
        None if list.items.is_empty() => Err(format!(
            "no capture pod on node {node}: run `layerlab cluster up` (it installs the layerlab-capture DaemonSet)"
        )),
        None => Err(format!(
            "the capture pod on node {node} is not ready yet (pulling its image?)"
        )),
    }
}

/// Observes a capture on `node`, running `trigger` (the check's, prepared
/// by the runner) on this machine once tcpdump listens.
pub(crate) async fn observe(
    client: &Client,
    node: &str,
    c: &CaptureCheck,
    trigger: Option<&str>,
) -> Observation {
    let pod = match capture_pod(client, node).await {
        Ok(p) => p,
        Err(e) => return Observation::Failed(e),
    };
    let command = tcpdump_command(c);
    let limit = Duration::from_millis(c.window_ms) + Duration::from_secs(10);
    let capture = run_in_pod_raw(client, SYSTEM_NAMESPACE, &pod, None, &command, limit);
    let trigger = async {
        match trigger {
            Some(t) => {
                tokio::time::sleep(LISTEN_DELAY).await;
                Some(
                    run_local(
                        t,
                        Duration::from_millis(c.window_ms) + Duration::from_secs(5),
                    )
                    .await,
                )
            }
            None => None,
        }
    };
    let (capture, trigger) = tokio::join!(capture, trigger);
    let trigger = match trigger {
        Some(Ok(out)) => Some(out),
        Some(Err(e)) => return Observation::Failed(format!("the trigger failed: {e}")),
        None => None,
    };
    match capture {
        Ok(raw) if !raw.stdout.is_empty() => Observation::Packets {
            pcap: raw.stdout,
            trigger,
        },
        Ok(raw) => Observation::Failed(format!(
            "tcpdump on {node} wrote no capture (exit {}): {}",
            raw.exit,
            raw.stderr.lines().last().unwrap_or("no message")
        )),
        Err(e) => Observation::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdump_gets_a_quoted_filter_and_a_deadline() {
        let c: CaptureCheck = serde_yaml_ng::from_str(
            "{node: layerlab-worker, filter: \"tcp port 80 and host 10.96.0.10\", count: 5, window_ms: 2500, cel: 'true'}",
        )
        .unwrap();
        let cmd = tcpdump_command(&c);
        assert_eq!(
            cmd[2],
            "timeout -s INT 4 tcpdump -i any -nn -U -w - -c 5 'tcp port 80 and host 10.96.0.10'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
