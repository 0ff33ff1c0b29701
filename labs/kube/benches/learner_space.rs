//! Learner spaces against the API server stand-in (real HTTPS on loopback):
//!
//! 1. Opening a learner's space (namespace, ServiceAccount, Role,
//!    RoleBinding, ResourceQuota, LimitRange by server-side apply, a
//!    TokenRequest, the 0600 kubeconfig) for 100 learners, one after the
//!    other; then opening them all again (nothing to change but the token).
//! 2. Real `kubectl` round trips with a learner's kubeconfig: an allowed
//!    `get pods` and a forbidden `get pods -n OTHER` (process start
//!    included, as a learner's terminal would pay it).
//!
//! `cargo bench -p layerlab-kube --bench learner_space`

use layerlab_kube::ConnectOptions;
use layerlab_kube::learner_space::{self, SpaceLimits};
use layerlab_kube::standin::StandIn;
use std::time::{Duration, Instant};

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<52} n={:>3}  p50 {:>7.2} ms  p90 {:>7.2} ms  max {:>7.2} ms",
        v.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        v[v.len() - 1].as_secs_f64() * 1e3
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let standin = rt.block_on(StandIn::start()).expect("stand-in");
    let admin_file = dir.path().join("kubeconfig");
    standin.write_kubeconfig(&admin_file).expect("kubeconfig");
    let admin = ConnectOptions {
        context: Some("standin".into()),
        kubeconfig: Some(admin_file),
    };
    let client = rt
        .block_on(layerlab_kube::connect(&admin))
        .expect("connects")
        .client;
    let limits = SpaceLimits::default();
    let learners: Vec<String> = (0..100).map(|i| format!("l-{i:012x}")).collect();
    let open_all = |label: &str| {
        let mut times = Vec::new();
        for l in &learners {
            let file = dir.path().join(l).join("kubeconfig");
            let t = Instant::now();
            rt.block_on(learner_space::open(
                &client, &admin, l, "net", &limits, &file,
            ))
            .expect("opened");
            times.push(t.elapsed());
        }
        summary(label, times);
    };
    open_all("open a learner space (first time, 100 learners)");
    open_all("open it again (idempotent, fresh token)");

    if layerlab_kube::cluster::prereq::on_path("kubectl").is_none() {
        println!("kubectl round trips: skipped (kubectl is not installed)");
        return;
    }
    let file = dir.path().join(&learners[0]).join("kubeconfig");
    let other = learner_space::space_namespace(&learners[1], "net");
    let kubectl = |args: &[&str]| {
        let t = Instant::now();
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&file)
            .args(args)
            .output()
            .expect("kubectl runs");
        (t.elapsed(), out)
    };
    let mut ok = Vec::new();
    let mut denied = Vec::new();
    for _ in 0..20 {
        let (t, out) = kubectl(&["get", "pods"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ok.push(t);
        let (t, out) = kubectl(&["get", "pods", "-n", &other]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("Forbidden"));
        denied.push(t);
    }
    summary("kubectl get pods (learner's namespace, allowed)", ok);
    summary("kubectl get pods -n OTHER (403 Forbidden)", denied);
}
