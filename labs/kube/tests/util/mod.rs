//! Shared harness: a stand-in API server with the fixture kind cluster, a
//! kubeconfig written for it, and a runner connected through that
//! kubeconfig exactly as for a real cluster.

#![allow(dead_code)]

use layerlab_core::SourceFile;
use layerlab_core::lab::{Check, Lab, load_labs};
use layerlab_kube::standin::StandIn;
use layerlab_kube::{ConnectOptions, KubeLabs, NodeShell};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

pub struct Harness {
    pub standin: Arc<StandIn>,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    pub labs: KubeLabs,
}

impl Harness {
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            context: Some("standin".into()),
            kubeconfig: Some(self.kubeconfig.clone()),
        }
    }
}

pub async fn harness() -> Harness {
    let standin = Arc::new(StandIn::start().await.expect("stand-in starts"));
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    standin.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let opts = ConnectOptions {
        context: Some("standin".into()),
        kubeconfig: Some(kubeconfig.clone()),
    };
    let labs = KubeLabs::connect(&opts)
        .await
        .expect("connects to the stand-in");
    let labs = labs.with_node_shell(fake_docker(&dir));
    Harness {
        standin,
        dir,
        kubeconfig,
        labs,
    }
}

/// A `docker` stand-in: a shell script that answers `docker exec NODE sh -c
/// SCRIPT` from fixture files, like a kind node container would.
pub fn fake_docker(dir: &tempfile::TempDir) -> NodeShell {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let path = dir.path().join("docker");
    let script = format!(
        r#"#!/bin/sh
# args: exec NODE sh -c SCRIPT
[ "$1" = exec ] || {{ echo "unexpected: $*" >&2; exit 2; }}
node="$2"; script="$5"
case "$node" in
  layerlab-control-plane|layerlab-worker|layerlab-worker2) ;;
  *) echo "Error response from daemon: No such container: $node" >&2; exit 1 ;;
esac
case "$script" in
  "iptables-save -t nat") cat {data}/iptables-save-nat.txt ;;
  "nft list table ip kube-proxy") cat {data}/nft-kube-proxy.txt ;;
  "ip route"*) echo "default via 172.18.0.1 dev eth0"; echo "10.244.0.0/24 via 172.18.0.2 dev eth0"; echo "10.244.1.3 dev cali1b2c3d4e5f6 scope link" ;;
  "hostname") echo "$node" ;;
  *) sh -c "$script" ;;
esac
"#
    );
    std::fs::write(&path, script).expect("write fake docker");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    NodeShell::new(path.to_string_lossy())
}

/// Parses one check written as in a lab file (under `checks:`).
pub fn check(yaml: &str) -> Check {
    let indented: String = yaml.lines().map(|l| format!("        {l}\n")).collect();
    let text = format!(
        "id: t\ntitle: T\nchapter: x\nneeds: kind\nsummary: s\nsteps:\n  - title: S\n    instructions: i\n    solution: [x]\n    checks:\n      - title: the check\n{indented}"
    );
    let loaded = load_labs(
        &[SourceFile {
            path: "t.yaml",
            text: &text,
        }],
        &BTreeSet::new(),
    );
    assert!(
        loaded.diagnostics.is_empty(),
        "{:?}\n{text}",
        loaded.diagnostics
    );
    loaded.labs[0].steps[0].checks[0].clone()
}

/// The Kubernetes labs under `labs/content`, validated against the course.
pub fn kind_labs() -> Vec<Lab> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../content");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("labs/content")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    let sources: Vec<SourceFile<'_>> = files
        .iter()
        .map(|(p, t)| SourceFile { path: p, text: t })
        .collect();
    let chapters: BTreeSet<String> = layerlab_lessons::course()
        .chapters
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let loaded = load_labs(&sources, &chapters);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && (d.file.contains("k8s")))
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    loaded
        .labs
        .into_iter()
        .filter(|l| l.needs == layerlab_core::lab::Needs::Kind)
        .collect()
}
