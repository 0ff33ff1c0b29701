//! `layerlab cluster up | status | down`: the kind cluster the Kubernetes
//! labs run on. `up` checks prerequisites, creates the cluster from the
//! chapter's embedded kind config, installs what the chapter needs through
//! the kube API (server-side apply), and waits until it is ready; running it
//! again repairs a half-made cluster instead of failing.

pub mod apply;
pub mod prereq;

use crate::client::{ConnectOptions, KIND_CONTEXT, connect};
use crate::error::{Error, Result};
use apply::{Ready, apply_all, documents, set_env, wait_ready};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The kind cluster's name.
pub const CLUSTER_NAME: &str = "layerlab";

/// Node label recording which chapter's config made the cluster.
pub const CHAPTER_LABEL: &str = "layerlab.dev/chapter";

/// kind config for chapter 4 (no default CNI; Calico is installed).
pub const KIND_CHAPTER4: &str = include_str!("../../../kind/chapter4.yaml");

/// kind config for chapter 5 (ingress-ready node with ports 80/443).
pub const KIND_CHAPTER5: &str = include_str!("../../../kind/chapter5.yaml");

/// layerlab's own helpers (namespace, capture DaemonSet).
pub const LAYERLAB_SYSTEM: &str = include_str!("../../../kind/manifests/layerlab-system.yaml");

/// Calico, pinned. Its manifest (CRDs included) is several hundred KB, so it
/// is fetched at `cluster up` and applied through the API like the rest.
pub const CALICO_URL: &str =
    "https://raw.githubusercontent.com/projectcalico/calico/v3.30.2/manifests/calico.yaml";

/// ingress-nginx's kind flavour (hostPort 80/443 on the ingress-ready node), pinned.
pub const INGRESS_NGINX_URL: &str = "https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/kind/deploy.yaml";

/// The kind project's LoadBalancer implementation, run as a container on
/// the host's `kind` network (it needs the container runtime's socket).
pub const CLOUD_PROVIDER_KIND_IMAGE: &str =
    "registry.k8s.io/cloud-provider-kind/cloud-controller-manager:v0.6.0";

/// Name of the cloud-provider-kind container.
pub const CLOUD_PROVIDER_CONTAINER: &str = "layerlab-cloud-provider-kind";

fn is_kind_context(opts: &ConnectOptions) -> bool {
    opts.context.as_deref().unwrap_or(KIND_CONTEXT) == KIND_CONTEXT
}

/// The options with the kind context filled in when none was given.
fn kind_opts(opts: &ConnectOptions) -> ConnectOptions {
    ConnectOptions {
        context: Some(opts.context.clone().unwrap_or_else(|| KIND_CONTEXT.into())),
        kubeconfig: opts.kubeconfig.clone(),
    }
}

fn container_cli() -> &'static str {
    if std::env::var("KIND_EXPERIMENTAL_PROVIDER").as_deref() == Ok("podman") {
        "podman"
    } else {
        "docker"
    }
}

/// Runs a command, returning trimmed stdout or a one-line error.
fn output(program: &str, args: &[&str]) -> Result<String> {
    let o = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::CommandFailed(format!("cannot run {program}: {e}")))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        Err(Error::CommandFailed(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            err.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
        )))
    }
}

fn kind_clusters() -> Result<Vec<String>> {
    Ok(output("kind", &["get", "clusters"])?
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with("No kind clusters"))
        .collect())
}

/// Node containers of the cluster and whether each runs.
fn node_containers() -> Result<Vec<(String, bool)>> {
    let text = output(
        container_cli(),
        &[
            "ps",
            "-a",
            "--filter",
            &format!("label=io.x-k8s.kind.cluster={CLUSTER_NAME}"),
            "--format",
            "{{.Names}} {{.State}}",
        ],
    )?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, s)| (n.to_string(), s.trim() == "running"))
        .collect())
}

/// The chapter a running cluster was made for (its nodes' label).
async fn cluster_chapter(client: &kube::Client) -> Option<u8> {
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client.clone());
    let list = tokio::time::timeout(
        Duration::from_secs(4),
        nodes.list(&kube::api::ListParams::default()),
    )
    .await
    .ok()?
    .ok()?;
    list.items
        .iter()
        .find_map(|n| n.metadata.labels.as_ref()?.get(CHAPTER_LABEL)?.parse().ok())
}

/// Fetches a pinned manifest over HTTPS.
async fn fetch(url: &str) -> Result<String> {
    use http_body_util::BodyExt;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| Error::ClusterSetupFailed(format!("no TLS root certificates: {e}")))?
        .https_only()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Empty<bytes::Bytes>>(https);
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| Error::ClusterSetupFailed(format!("bad URL {url}: {e}")))?;
    let get = async {
        let resp = client
            .get(uri)
            .await
            .map_err(|e| crate::error::transport_cause(&e).unwrap_or_else(|| e.to_string()))?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        String::from_utf8(body.to_vec()).map_err(|e| e.to_string())
    };
    match tokio::time::timeout(Duration::from_secs(60), get).await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(Error::ClusterSetupFailed(format!(
            "cannot download {url}: {e} (cluster up needs the internet once to fetch it and the images)"
        ))),
        Err(_) => Err(Error::ClusterSetupFailed(format!(
            "downloading {url} took longer than 60 s"
        ))),
    }
}

/// Creates the kind cluster, or brings back one whose node containers
/// stopped, and makes sure the kubeconfig has its context.
fn ensure_kind_cluster(chapter: u8, out: &mut dyn FnMut(&str)) -> Result<()> {
    let missing: Vec<String> = prereq::check_all()
        .into_iter()
        .filter(|f| !f.ok)
        .map(|f| format!("{}: {}", f.what, f.detail))
        .collect();
    if !missing.is_empty() {
        return Err(Error::PrerequisiteMissing(missing.join("\n")));
    }
    if kind_clusters()?.iter().any(|c| c == CLUSTER_NAME) {
        for (name, running) in node_containers()? {
            if !running {
                out(&format!("starting stopped node container {name}"));
                output(container_cli(), &["start", &name])?;
            }
        }
    } else {
        out(&format!(
            "creating kind cluster `{CLUSTER_NAME}` for chapter {chapter} (three nodes; the first run pulls the node image)"
        ));
        let config = if chapter == 4 {
            KIND_CHAPTER4
        } else {
            KIND_CHAPTER5
        };
        let mut child = Command::new("kind")
            .args([
                "create",
                "cluster",
                "--name",
                CLUSTER_NAME,
                "--config",
                "-",
                "--wait",
                "0s",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| Error::CommandFailed(format!("cannot run kind: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(config.as_bytes()).map_err(|e| {
                Error::CommandFailed(format!("cannot pass the config to kind: {e}"))
            })?;
        }
        let status = child
            .wait()
            .map_err(|e| Error::CommandFailed(format!("kind: {e}")))?;
        if !status.success() {
            return Err(Error::ClusterSetupFailed(format!(
                "`kind create cluster` failed ({status}); run `layerlab cluster down` and try again"
            )));
        }
    }
    // Repairs a kubeconfig that lost the context (and is harmless otherwise).
    output("kind", &["export", "kubeconfig", "--name", CLUSTER_NAME])?;
    Ok(())
}

/// Keeps cloud-provider-kind running next to the cluster.
fn ensure_cloud_provider(out: &mut dyn FnMut(&str)) -> Result<()> {
    if container_cli() == "podman" {
        out(&format!(
            "note: LoadBalancer support runs cloud-provider-kind against Docker's socket; with podman run it on the host instead (`go install sigs.k8s.io/cloud-provider-kind@{}`)",
            CLOUD_PROVIDER_KIND_IMAGE
                .rsplit(':')
                .next()
                .unwrap_or("latest")
        ));
        return Ok(());
    }
    match output(
        "docker",
        &[
            "inspect",
            "-f",
            "{{.State.Running}}",
            CLOUD_PROVIDER_CONTAINER,
        ],
    ) {
        Ok(s) if s == "true" => {}
        Ok(_) => {
            out("starting cloud-provider-kind");
            output("docker", &["start", CLOUD_PROVIDER_CONTAINER])?;
        }
        Err(_) => {
            out("starting cloud-provider-kind (LoadBalancer addresses)");
            output(
                "docker",
                &[
                    "run",
                    "-d",
                    "--name",
                    CLOUD_PROVIDER_CONTAINER,
                    "--restart",
                    "unless-stopped",
                    "--network",
                    "kind",
                    "-v",
                    "/var/run/docker.sock:/var/run/docker.sock",
                    CLOUD_PROVIDER_KIND_IMAGE,
                ],
            )?;
        }
    }
    Ok(())
}

/// What a chapter installs beyond layerlab's helpers, and what to wait for.
async fn chapter_addons(chapter: u8) -> Result<(Vec<serde_json::Value>, Vec<Ready>)> {
    let mut docs = Vec::new();
    let mut ready = vec![
        Ready::DaemonSet("kube-system", "kube-proxy"),
        Ready::Deployment("kube-system", "coredns"),
    ];
    if chapter == 4 {
        let mut calico = documents(&fetch(CALICO_URL).await?)?;
        for d in calico.iter_mut() {
            if d["kind"] == "DaemonSet" && d["metadata"]["name"] == "calico-node" {
                // kind's pod subnet, instead of Calico's 192.168.0.0/16 default.
                set_env(d, "calico-node", "CALICO_IPV4POOL_CIDR", "10.244.0.0/16");
            }
        }
        docs.extend(calico);
        ready.insert(0, Ready::DaemonSet("kube-system", "calico-node"));
        ready.push(Ready::Deployment("kube-system", "calico-kube-controllers"));
    } else {
        docs.extend(documents(&fetch(INGRESS_NGINX_URL).await?)?);
        ready.push(Ready::Deployment(
            "ingress-nginx",
            "ingress-nginx-controller",
        ));
    }
    Ok((docs, ready))
}

/// `layerlab cluster up`.
pub async fn up(
    opts: &ConnectOptions,
    chapter: Option<u8>,
    out: &mut dyn FnMut(&str),
) -> Result<()> {
    if !is_kind_context(opts) {
        // An instructor's cluster: install only layerlab's helpers; the
        // cluster's owner provides the CNI, ingress and load balancers.
        let conn = connect(opts).await?;
        out(&format!(
            "using context {} at {}",
            conn.context, conn.server
        ));
        let docs = documents(LAYERLAB_SYSTEM)?;
        apply_all(&conn.client, &docs, out).await?;
        wait_ready(
            &conn.client,
            &[
                Ready::Nodes,
                Ready::DaemonSet("layerlab-system", "layerlab-capture"),
            ],
            Duration::from_secs(300),
            out,
        )
        .await?;
        out(
            "ready (the cluster's owner provides NetworkPolicy enforcement, an ingress controller and LoadBalancers)",
        );
        return Ok(());
    }
    let opts = kind_opts(opts);
    // An existing cluster keeps its chapter unless another was asked for.
    let existing = match crate::client::client(&opts).await {
        Ok(c)
            if kind_clusters()
                .unwrap_or_default()
                .iter()
                .any(|n| n == CLUSTER_NAME) =>
        {
            cluster_chapter(&c.client).await
        }
        _ => None,
    };
    let chapter = chapter.or(existing).unwrap_or(4);
    if let Some(have) = existing
        && have != chapter
    {
        return Err(Error::ClusterSetupFailed(format!(
            "the cluster `{CLUSTER_NAME}` was made for chapter {have}; chapter {chapter} needs different nodes: run `layerlab cluster down`, then `layerlab cluster up --chapter {chapter}`"
        )));
    }
    ensure_kind_cluster(chapter, out)?;
    let conn = {
        let mut tries = 0;
        loop {
            match connect(&opts).await {
                Ok(c) => break c,
                Err(e) if tries < 30 => {
                    if tries == 0 {
                        out(&format!("waiting for the API server ({e})"));
                    }
                    tries += 1;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Err(e) => return Err(e),
            }
        }
    };
    out(&format!("connected to {} ({})", conn.server, conn.context));
    // A cluster that was stopped could not say its chapter before it started.
    if let Some(have) = cluster_chapter(&conn.client).await
        && have != chapter
    {
        return Err(Error::ClusterSetupFailed(format!(
            "the cluster `{CLUSTER_NAME}` was made for chapter {have}: run `layerlab cluster down`, then `layerlab cluster up --chapter {chapter}`"
        )));
    }
    let (mut docs, mut ready) = chapter_addons(chapter).await?;
    docs.extend(documents(LAYERLAB_SYSTEM)?);
    let n = apply_all(&conn.client, &docs, &mut |_| {}).await?;
    out(&format!(
        "applied {n} objects (server-side, field manager `layerlab`)"
    ));
    if chapter == 5 {
        ensure_cloud_provider(out)?;
    }
    ready.insert(0, Ready::Nodes);
    ready.push(Ready::DaemonSet("layerlab-system", "layerlab-capture"));
    wait_ready(&conn.client, &ready, Duration::from_secs(600), out).await?;
    out(&format!(
        "cluster `{CLUSTER_NAME}` is ready for chapter {chapter} (context {KIND_CONTEXT})"
    ));
    Ok(())
}

/// `layerlab cluster status`: `Ok(true)` when everything is ready.
pub async fn status(opts: &ConnectOptions, out: &mut dyn FnMut(&str)) -> Result<bool> {
    let kind = is_kind_context(opts);
    if kind {
        match kind_clusters() {
            Ok(list) if list.iter().any(|c| c == CLUSTER_NAME) => {
                for (name, running) in node_containers().unwrap_or_default() {
                    out(&format!(
                        "node container {name}: {}",
                        if running { "running" } else { "stopped" }
                    ));
                }
            }
            Ok(_) => {
                out(&format!(
                    "no kind cluster `{CLUSTER_NAME}`: run `layerlab cluster up --chapter 4` (or 5)"
                ));
                return Ok(false);
            }
            Err(e) => out(&format!("cannot ask kind: {e}")),
        }
    }
    let opts = if kind { kind_opts(opts) } else { opts.clone() };
    let conn = match connect(&opts).await {
        Ok(c) => c,
        Err(e) => {
            out(&e.to_string());
            return Ok(false);
        }
    };
    out(&format!(
        "API server {} ({}) answers",
        conn.server, conn.context
    ));
    let chapter = cluster_chapter(&conn.client).await;
    if let Some(c) = chapter {
        out(&format!("made for chapter {c}"));
    }
    let mut items = vec![
        Ready::Nodes,
        Ready::DaemonSet("layerlab-system", "layerlab-capture"),
    ];
    match chapter {
        Some(4) => items.push(Ready::DaemonSet("kube-system", "calico-node")),
        Some(5) => items.push(Ready::Deployment(
            "ingress-nginx",
            "ingress-nginx-controller",
        )),
        _ => {}
    }
    let mut healthy = true;
    let mut quiet = |_: &str| {};
    for item in items {
        let ok = wait_ready(
            &conn.client,
            std::slice::from_ref(&item),
            Duration::ZERO,
            &mut quiet,
        )
        .await;
        match ok {
            Ok(()) => out(&format!("ready: {item}")),
            Err(e) => {
                healthy = false;
                out(&format!("NOT ready: {e}"));
            }
        }
    }
    Ok(healthy)
}

/// `layerlab cluster down`.
pub fn down(opts: &ConnectOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    if !is_kind_context(opts) {
        return Err(Error::ClusterSetupFailed(format!(
            "`cluster down` only deletes the kind cluster `{CLUSTER_NAME}`, never the cluster behind context `{}`",
            opts.context.as_deref().unwrap_or("")
        )));
    }
    if container_cli() == "docker"
        && output("docker", &["inspect", CLOUD_PROVIDER_CONTAINER]).is_ok()
    {
        output("docker", &["rm", "-f", CLOUD_PROVIDER_CONTAINER])?;
        out("removed cloud-provider-kind");
    }
    if !kind_clusters()?.iter().any(|c| c == CLUSTER_NAME) {
        out(&format!(
            "no kind cluster `{CLUSTER_NAME}`: nothing to delete"
        ));
        return Ok(());
    }
    output("kind", &["delete", "cluster", "--name", CLUSTER_NAME])?;
    out(&format!("deleted kind cluster `{CLUSTER_NAME}`"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_configs_are_valid_yaml_for_the_layerlab_cluster() {
        for (text, chapter) in [(KIND_CHAPTER4, "4"), (KIND_CHAPTER5, "5")] {
            let v: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
            assert_eq!(v["name"], CLUSTER_NAME);
            assert_eq!(v["apiVersion"], "kind.x-k8s.io/v1alpha4");
            let nodes = v["nodes"].as_array().unwrap();
            assert_eq!(nodes.len(), 3);
            assert!(nodes.iter().all(|n| n["labels"][CHAPTER_LABEL] == chapter));
            assert!(nodes.iter().all(|n| {
                n["image"]
                    .as_str()
                    .unwrap()
                    .starts_with("kindest/node:v1.34")
            }));
        }
        let four: serde_json::Value = serde_yaml_ng::from_str(KIND_CHAPTER4).unwrap();
        assert_eq!(four["networking"]["disableDefaultCNI"], true);
        let five: serde_json::Value = serde_yaml_ng::from_str(KIND_CHAPTER5).unwrap();
        let cp = &five["nodes"][0];
        assert_eq!(cp["labels"]["ingress-ready"], "true");
        let ports: Vec<u64> = cp["extraPortMappings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["hostPort"].as_u64().unwrap())
            .collect();
        assert_eq!(ports, [80, 443]);
    }

    #[test]
    fn pinned_versions_are_exact() {
        for url in [CALICO_URL, INGRESS_NGINX_URL] {
            assert!(url.starts_with("https://"), "{url}");
            assert!(!url.contains("latest") && !url.contains("/main/") && !url.contains("master"));
        }
        assert!(CLOUD_PROVIDER_KIND_IMAGE.contains(":v"));
        assert!(LAYERLAB_SYSTEM.contains("nicolaka/netshoot:v"));
    }

    #[test]
    fn down_refuses_a_foreign_context() {
        let opts = ConnectOptions {
            context: Some("prod".into()),
            kubeconfig: None,
        };
        let err = down(&opts, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("never the cluster behind context `prod`"),
            "{err}"
        );
    }
}
