//! Kind labs in a workshop, through the lab-run API, against the API server
//! stand-in: each learner's run provisions their own namespace on first
//! start; a step fails before and passes after its solution there; two
//! learners doing the same lab never see each other's pods; their kubectl
//! is confined while node-level checks use the server's credentials; stop
//! removes the learner's namespace.

use layerlab_kube::learner_space::{SpaceLimits, space_namespace};
use layerlab_kube::standin::StandIn;
use layerlab_labs::run::{ClusterSpace, Labs, Pace, RunOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn kubectl_missing() -> bool {
    let missing = layerlab_kube::cluster::prereq::on_path("kubectl").is_none();
    if missing {
        eprintln!("skipped: kubectl is not installed (the lab's commands use it)");
    }
    missing
}

fn learner_labs(kubeconfig: &Path, dir: &Path, learner: &str) -> Labs {
    Labs::new(RunOptions {
        context: Some("standin".into()),
        kubeconfig: Some(kubeconfig.to_path_buf()),
        cluster_space: Some(ClusterSpace {
            learner: learner.into(),
            dir: dir.join(learner),
            limits: SpaceLimits::default(),
        }),
        ..RunOptions::default()
    })
}

struct Setup {
    _rt: tokio::runtime::Runtime,
    standin: StandIn,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn setup(name: &str) -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let standin = rt.block_on(StandIn::start()).expect("stand-in starts");
    // Pods start as the solution creates them (no kubelet in the stand-in).
    standin.run_pods();
    let dir = std::env::temp_dir().join(format!("layerlab-workshop-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("admin-kubeconfig");
    standin.write_kubeconfig(&kubeconfig).unwrap();
    Setup {
        _rt: rt,
        standin,
        kubeconfig,
        dir,
    }
}

#[test]
fn a_kind_step_fails_then_passes_in_the_learner_s_own_namespace() {
    if kubectl_missing() {
        return;
    }
    let s = setup("step");
    let lab = layerlab_labs::find("k8s-pod-network").expect("embedded lab");
    let alice = learner_labs(&s.kubeconfig, &s.dir, "l-a11ce0000001");
    let bob = learner_labs(&s.kubeconfig, &s.dir, "l-b0b000000002");
    let ns_a = space_namespace("l-a11ce0000001", "net");
    let ns_b = space_namespace("l-b0b000000002", "net");

    assert!(!alice.is_running(lab), "nothing before the first start");
    let run_a = alice.start(lab).expect("alice's space is provisioned");
    assert!(s.standin.get("v1", "Namespace", "", &ns_a).is_some());
    assert!(
        s.standin.get("v1", "Namespace", "", "net").is_none(),
        "a workshop never touches the lab's own namespace"
    );
    let info = run_a.info();
    assert_eq!(
        info.context.as_deref(),
        Some(format!("layerlab-{ns_a}").as_str())
    );
    assert_eq!(info.namespace.as_deref(), Some(ns_a.as_str()));
    let file = info.kubeconfig.expect("the learner's kubeconfig");
    assert!(file.starts_with(s.dir.join("l-a11ce0000001")), "{file:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("namespace: {ns_a}")), "{text}");
    assert!(
        !text.contains(layerlab_kube::standin::TOKEN),
        "the admin token leaked: {text}"
    );

    // Before: the nodes' CIDRs pass (read with the server's credentials),
    // the pods are missing in alice's namespace.
    let before = run_a.check(0, None, Pace::Quick, |_, _| {}).unwrap();
    let passed: Vec<bool> = before.checks.iter().map(|c| c.passed).collect();
    assert_eq!(passed, [true, false, false], "{before:?}");
    assert!(
        before.checks[1].message.contains(&ns_a),
        "{}",
        before.checks[1].message
    );

    run_a
        .solve(0)
        .expect("the solution applies with alice's kubeconfig");
    let pods = s
        .standin
        .get("v1", "Pod", &ns_a, "client")
        .expect("client in alice's namespace");
    assert_eq!(pods["spec"]["nodeName"], "layerlab-worker");
    let after = run_a.check(0, None, Pace::Full, |_, _| {}).unwrap();
    assert!(after.passed, "{after:?}");

    // Bob's run of the same lab sees none of it.
    let run_b = bob.start(lab).expect("bob's space");
    let bob_before = run_b.check(0, None, Pace::Quick, |_, _| {}).unwrap();
    assert!(!bob_before.passed, "bob sees alice's pods: {bob_before:?}");
    let listed = run_b.run_command("kubectl get pods -o name", Duration::from_secs(20));
    assert_eq!(
        (listed.exit, listed.stdout.trim()),
        (0, ""),
        "{}",
        listed.stderr
    );
    let peek = run_b.run_command(
        &format!("kubectl get pods -n {ns_a} -o name"),
        Duration::from_secs(20),
    );
    assert_ne!(peek.exit, 0);
    assert!(
        peek.stderr.contains("Forbidden")
            && peek
                .stderr
                .contains(&format!("system:serviceaccount:{ns_b}:learner")),
        "{}",
        peek.stderr
    );
    // Even past the kubectl function: KUBECONFIG is the learner's.
    let raw = run_b.run_command("command kubectl get nodes", Duration::from_secs(20));
    assert!(raw.stderr.contains("Forbidden"), "{}", raw.stderr);
    let in_a = run_a.run_command("kubectl get pods -o name", Duration::from_secs(20));
    assert_eq!(
        in_a.stdout.trim(),
        "pod/client\npod/server",
        "{}",
        in_a.stderr
    );

    // Reset gives alice an empty namespace of the same name.
    let fresh = alice.reset(lab).expect("reset");
    assert!(fresh.started_now());
    assert!(s.standin.get("v1", "Namespace", "", &ns_a).is_some());
    assert!(s.standin.get("v1", "Pod", &ns_a, "client").is_none());
    let again = fresh.check(0, None, Pace::Quick, |_, _| {}).unwrap();
    assert!(!again.passed, "{again:?}");
    fresh
        .solve(0)
        .expect("solvable again, with the renewed token");

    // Stop removes alice's namespace only.
    assert!(alice.stop(lab).expect("stopped"));
    assert!(s.standin.get("v1", "Namespace", "", &ns_a).is_none());
    assert!(s.standin.get("v1", "Pod", &ns_a, "client").is_none());
    assert!(s.standin.get("v1", "Namespace", "", &ns_b).is_some());
    assert!(!alice.stop(lab).expect("again: nothing to do"));
    assert_eq!(bob.remove_cluster_spaces().unwrap(), [ns_b]);
}

#[test]
fn single_user_runs_still_work_in_the_lab_s_own_namespace() {
    if kubectl_missing() {
        return;
    }
    let s = setup("single");
    let lab = layerlab_labs::find("k8s-pod-network").expect("embedded lab");
    let labs = Labs::new(RunOptions {
        context: Some("standin".into()),
        kubeconfig: Some(s.kubeconfig.clone()),
        ..RunOptions::default()
    });
    let run = labs.start(lab).unwrap();
    assert!(
        s.standin.get("v1", "Namespace", "", "net").is_some(),
        "made on start"
    );
    assert_eq!(run.info().namespace.as_deref(), Some("net"));
    assert_eq!(
        run.info().kubeconfig,
        None,
        "no learner kubeconfig on one's own cluster"
    );
    run.solve(0).unwrap();
    assert!(s.standin.get("v1", "Pod", "net", "server").is_some());
    assert!(run.check(0, None, Pace::Full, |_, _| {}).unwrap().passed);
    assert!(
        labs.stop(lab).is_err(),
        "the shared cluster is not a lab's to stop"
    );
}
