//! Kind labs in a workshop over HTTP, against the Kubernetes API server
//! stand-in: each learner's run takes place in their own namespace with
//! their own ServiceAccount; one learner's solution turns only their step
//! green; their shell is a confined sandbox whose only way out is a bridge
//! to the API server, where kubectl is refused outside their namespace. Alone in its test binary: it sets `KUBECONFIG` and
//! `LAYERLAB_SANDBOX_DIR` for the whole process.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use layerlab_server::labs::{LabEngine, LearnerRuns};
use layerlab_server::workshop::{Plan, Workshop};
use layerlab_server::{AppState, router};
use std::sync::Arc;
use tower::ServiceExt;

mod sse;
use sse::events;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: a workshop learner's kind-lab shell is a confined sandbox (CI runs as root)"
)]
async fn two_learners_do_a_kind_lab_each_in_their_own_namespace() {
    if layerlab_kube::cluster::prereq::on_path("kubectl").is_none() {
        eprintln!("skipped: kubectl is not installed (the lab's solution uses it)");
        return;
    }
    let standin = layerlab_kube::standin::StandIn::start()
        .await
        .expect("stand-in starts");
    standin.run_pods();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("admin-kubeconfig");
    standin.write_kubeconfig(&kubeconfig).unwrap();
    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var("KUBECONFIG", &kubeconfig);
        std::env::set_var("LAYERLAB_SANDBOX_DIR", dir.path().join("sandboxes"));
    }

    let plan = Plan::parse(
        "title = \"Cluster day\"\nlabs = [\"k8s-pod-network\"]\njoin_code = \"CLUSTER-DAY-1\"\n",
        layerlab_lessons::course(),
        layerlab_labs::labs(),
    )
    .unwrap();
    let w = Workshop::open(plan, &dir.path().join("data")).unwrap();
    let engine = LabEngine::for_server(
        true,
        "0.0.0.0".parse().unwrap(),
        Some("standin".into()),
        Some(LearnerRuns {
            confine: Default::default(),
            spaces: dir.path().join("data/cluster"),
            book: None,
        }),
    );
    let app = router(
        AppState {
            labs: Arc::new(engine),
            ..AppState::embedded()
        }
        .with_workshop(w),
    );
    let call = |method: &str, uri: &str, cookie: &str, body: &str| {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let join = |name: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::post("/api/workshop/join")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!(
                    r#"{{"code":"cluster-day-1","name":"{name}"}}"#
                )))
                .unwrap();
            let res = app.oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        }
    };
    let ada = join("Ada").await;
    let bob = join("Bob").await;
    let step_passed = |body: &str| {
        let evs = events(body);
        let (name, step) = evs.last().expect("a last event").clone();
        assert_eq!(name, "step", "{body}");
        step["passed"] == true
    };
    let check = "/api/labs/k8s-pod-network/steps/1/check";
    // Quick checks observe once: a red step answers at once.
    let quick = r#"{"quick": true}"#;

    let (status, body) = call("POST", check, &ada, quick).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!step_passed(&body), "green before the solution: {body}");
    let (status, body) = call("POST", "/api/labs/k8s-pod-network/steps/1/solve", &ada, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = call("POST", check, &ada, "").await;
    assert!(step_passed(&body), "not green after the solution: {body}");
    // Bob's namespace is his own: Ada's pods are not there.
    let (_, body) = call("POST", check, &bob, quick).await;
    assert!(!step_passed(&body), "Bob is green with Ada's pods: {body}");
    let (status, body) = call("GET", "/api/labs/k8s-pod-network/status", &ada, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""running":true"#), "{body}");
    assert!(
        body.contains(r#""shell":"the terminal on this page""#),
        "{body}"
    );

    // The terminal's shell (here through the console, the same sandbox):
    // root only inside a confined sandbox whose one way out is the bridge
    // to the API server; kubectl there holds the learner's own token.
    let console = |who: &str, command: &str| {
        let body = serde_json::json!({ "command": command }).to_string();
        let f = call("POST", "/api/labs/k8s-pod-network/console", who, &body);
        async move {
            let (status, body) = f.await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<serde_json::Value>(&body).unwrap()
        }
    };
    let out = console(
        &ada,
        "kubectl get pods -o name && kubectl config view --minify -o jsonpath='{..namespace}'",
    )
    .await;
    assert_eq!(out["exit"], 0, "{out}");
    let stdout = out["stdout"].as_str().unwrap().to_string();
    assert!(stdout.contains("pod/client"), "{out}");
    let ada_ns = stdout.lines().last().unwrap().to_string();
    assert!(ada_ns.starts_with("ll-"), "{out}");
    for cmd in [
        format!("kubectl get pods -n {ada_ns}"),
        "kubectl get nodes".to_string(),
        "kubectl get secrets -n kube-system".to_string(),
        "kubectl create namespace mine".to_string(),
    ] {
        let out = console(&bob, &cmd).await;
        assert_ne!(out["exit"], 0, "{cmd}: {out}");
        let err = out["stderr"].as_str().unwrap().to_lowercase();
        assert!(err.contains("forbidden"), "{cmd}: {out}");
    }
    let out = console(&bob, "id -u; head -1 /etc/shadow").await;
    assert!(out["stdout"].as_str().unwrap().starts_with("0\n"), "{out}");
    assert_ne!(out["exit"], 0, "{out}");
    let api_port = standin.url().rsplit(':').next().unwrap().to_string();
    let out = console(&bob, &format!("exec 3<>/dev/tcp/127.0.0.1/{api_port}")).await;
    assert_ne!(out["exit"], 0, "the host's loopback is reachable: {out}");

    // Stop removes Ada's namespace and her shell's sandbox, not Bob's.
    let (status, body) = call("POST", "/api/labs/k8s-pod-network/stop", &ada, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let left = std::fs::read_dir(dir.path().join("sandboxes"))
        .unwrap()
        .count();
    assert_eq!(left, 1, "only Bob's sandbox is left");
    // Checking again starts afresh: an empty namespace.
    let (_, body) = call("POST", check, &ada, quick).await;
    assert!(!step_passed(&body), "still green after stop: {body}");
    // Both stop: no sandbox outlives the test.
    for who in [&ada, &bob] {
        let (status, body) = call("POST", "/api/labs/k8s-pod-network/stop", who, "").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let left = std::fs::read_dir(dir.path().join("sandboxes"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "sandboxes left after both stopped");
}
