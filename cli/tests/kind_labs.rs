//! Kind labs from the command line, against the Kubernetes API server
//! stand-in (HTTPS, watch, the real wire format): `lab check --watch`
//! prints each check as it turns green, while the cluster changes.

use layerlab_kube::standin::{StandIn, running_pod};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn lab_check_watch_on_a_kind_lab_prints_checks_as_they_pass() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let standin = rt.block_on(StandIn::start()).expect("stand-in starts");
    let kubeconfig = standin.kubeconfig_file("cli").unwrap();
    let dir = kubeconfig.parent().unwrap().to_path_buf();

    let mut child = Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args([
            "lab",
            "check",
            "k8s-pod-network",
            "--step",
            "1",
            "--watch",
            "--context",
            "standin",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("LAYERLAB_DATA_DIR", dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run layerlab");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| -> Vec<String> {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    seen.push(line);
                    if hit {
                        return seen;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("no line with {needle:?}; saw {seen:?}");
    };

    // The nodes already own /24s: that check turns green at once, alone.
    let first = wait_for("check 1:");
    assert!(
        first
            .iter()
            .all(|l| !l.contains("check 2") && !l.contains("PASS")),
        "{first:?}"
    );
    // Nothing more passes while the pods are missing.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.try_recv().is_err(), "a check passed with no pods");

    standin.put(running_pod(
        "net",
        "client",
        "layerlab-worker",
        "10.244.1.7",
    ));
    let next = wait_for("check 2:");
    assert!(next.iter().all(|l| !l.contains("PASS")), "{next:?}");
    standin.put(running_pod(
        "net",
        "server",
        "layerlab-worker2",
        "10.244.2.9",
    ));
    let rest = wait_for("all steps pass");
    assert!(
        rest.iter().any(|l| l.contains("check 3:"))
            && rest.iter().any(|l| l.contains("[PASS] step 1")),
        "{rest:?}"
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let progress = std::fs::read_to_string(dir.join("data/progress.json")).unwrap();
    assert!(progress.contains("k8s-pod-network"), "{progress}");
    let _ = std::fs::remove_dir_all(dir);
}
