//! Benchmarks against the API server stand-in (real HTTPS on loopback):
//!
//! 1. Latency from an object reaching the required state to the check
//!    reporting pass: watch-driven (the runner as shipped) and, for
//!    comparison, polling only (watch forbidden, so the runner falls back to
//!    core's `POLL_MS`). kuttl and chainsaw poll once a second.
//! 2. Checks per second for 100 concurrent learners, each in its own
//!    namespace, each running a resource check (with EndpointSlices and
//!    CEL) and an exec check in a loop, through one shared runner as the
//!    workshop server would.
//!
//! `cargo bench -p layerlab-kube --bench check_latency`

use layerlab_core::SourceFile;
use layerlab_core::lab::{Check, load_labs};
use layerlab_kube::standin::{ExecReply, StandIn, set_pod_ready};
use layerlab_kube::{ConnectOptions, KubeLabs};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn check(yaml: &str) -> Check {
    let indented: String = yaml.lines().map(|l| format!("        {l}\n")).collect();
    let text = format!(
        "id: b\ntitle: B\nchapter: x\nneeds: kind\nsummary: s\nsteps:\n  - title: S\n    instructions: i\n    solution: [x]\n    checks:\n      - title: c\n{indented}"
    );
    let loaded = load_labs(
        &[SourceFile {
            path: "b.yaml",
            text: &text,
        }],
        &BTreeSet::new(),
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.labs[0].steps[0].checks[0].clone()
}

async fn connect(standin: &StandIn, dir: &tempfile::TempDir) -> KubeLabs {
    let path = dir.path().join("kubeconfig");
    standin.write_kubeconfig(&path).unwrap();
    KubeLabs::connect(&ConnectOptions {
        context: None,
        kubeconfig: Some(path),
    })
    .await
    .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    println!(
        "{name}: n={} p50={:.1} ms p90={:.1} ms max={:.1} ms mean={:.1} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        ms[ms.len() - 1],
        mean
    );
}

/// Milliseconds from "the pod becomes Ready" to "the check reports pass".
async fn latency(labs: &KubeLabs, standin: &Arc<StandIn>, rounds: usize) -> Vec<f64> {
    let c = check(
        "timeout: 10s\nresource: {apiVersion: v1, kind: Pod, namespace: shop, name: db, match: {status: {conditions: [{type: Ready, status: 'True'}]}}}",
    );
    let mut out = Vec::new();
    for i in 0..rounds {
        standin.update("v1", "Pod", "shop", "db", |p| set_pod_ready(p, false));
        let labs2 = labs.clone();
        let c2 = c.clone();
        let run = tokio::spawn(async move {
            let r = labs2.run_check(&c2, None).await;
            (r.passed, Instant::now())
        });
        // Flip at varying phases of the runner's 100 ms poll.
        tokio::time::sleep(Duration::from_millis(150 + (i as u64 * 37) % 100)).await;
        let flipped = Instant::now();
        standin.update("v1", "Pod", "shop", "db", |p| set_pod_ready(p, true));
        let (passed, done) = run.await.unwrap();
        assert!(passed);
        out.push((done - flipped).as_secs_f64() * 1000.0);
    }
    out
}

/// A copy of the fixture's `shop` objects in namespace `ns`.
fn learner_objects(world: &Value, ns: &str) -> Vec<Value> {
    let mut out = vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    ];
    for o in world["items"].as_array().unwrap() {
        if o["metadata"]["namespace"] == "shop" {
            let mut o = o.clone();
            o["metadata"]["namespace"] = Value::from(ns);
            out.push(o);
        }
    }
    out
}

async fn throughput(learners: usize, secs: u64) -> (f64, Vec<f64>) {
    let world: Value = serde_json::from_str(layerlab_kube::standin::KIND_CLUSTER).unwrap();
    let mut objects: Vec<Value> = world["items"].as_array().unwrap().clone();
    for l in 0..learners {
        objects.extend(learner_objects(&world, &format!("learner-{l}")));
    }
    let standin = StandIn::start_with(&objects).await.unwrap();
    standin.on_exec(|call| Some(ExecReply::ok(format!("{}\n", call.pod))));
    let dir = tempfile::tempdir().unwrap();
    let labs = connect(&standin, &dir).await;
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for l in 0..learners {
        let ns = format!("learner-{l}");
        let svc = check(&format!(
            "resource:\n  apiVersion: v1\n  kind: Service\n  namespace: {ns}\n  name: web\n  match: {{spec: {{type: ClusterIP}}}}\n  endpointslices: true\n  cel: \"related.exists(s, size(s.endpoints) == 2)\""
        ));
        let exec = check(&format!(
            "exec: {{namespace: {ns}, selector: app=web, command: [hostname], expect: {{stdout: web-}}}}"
        ));
        let labs = labs.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                for c in [&svc, &exec] {
                    let t = Instant::now();
                    let r = labs.run_check(c, None).await;
                    assert!(r.passed, "{}", r.message);
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            times
        }));
    }
    let start = Instant::now();
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    (rate, times)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let standin = Arc::new(StandIn::start().await.unwrap());
        let dir = tempfile::tempdir().unwrap();
        let labs = connect(&standin, &dir).await;
        summary(
            "state change -> pass, watch-driven",
            latency(&labs, &standin, 40).await,
        );
        // No watch and no list: the runner's watches cannot open (and so
        // never ring), leaving core's POLL_MS polling alone.
        standin.forbid("watch", "pods");
        standin.forbid("list", "pods");
        summary(
            "state change -> pass, polling only (POLL_MS = 100)",
            latency(&labs, &standin, 40).await,
        );

        let (rate, times) = throughput(100, 10).await;
        println!(
            "100 concurrent learners: {rate:.0} checks/s (resource + exec, one shared runner)"
        );
        summary("  one check, start to verdict", times);
    });
}
