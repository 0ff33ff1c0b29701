//! A workshop learner's shell for a kind lab (root only): a confined
//! sandbox whose one way out is a bridge to the API server, with a
//! kubeconfig holding the learner's own token. kubectl works in their
//! namespace and is refused everywhere else; the host stays out of reach.
//! Against the Kubernetes API server stand-in; alone in its test binary
//! (it sets `KUBECONFIG` and `LAYERLAB_SANDBOX_DIR`).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use layerlab_server::labs::{LabEngine, LearnerRuns};
use layerlab_server::workshop::{Plan, Workshop};
use layerlab_server::{AppState, router};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: confined sandboxes switch uids and make cgroups (CI runs as root)"
)]
async fn a_learner_s_kubectl_reaches_only_their_namespace() {
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
    let app = router(
        AppState {
            labs: Arc::new(LabEngine::for_server(
                true,
                "0.0.0.0".parse().unwrap(),
                Some("standin".into()),
                Some(LearnerRuns {
                    confine: Default::default(),
                    spaces: dir.path().join("data/cluster"),
                    book: None,
                }),
            )),
            ..AppState::embedded()
        }
        .with_workshop(w),
    );
    let call = |uri: &str, cookie: &str, body: String| {
        let req = Request::post(uri)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let mut cookies = Vec::new();
    for name in ["Ada", "Bob"] {
        let req = Request::post("/api/workshop/join")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(
                r#"{{"code":"cluster-day-1","name":"{name}"}}"#
            )))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let c = res.headers()[header::SET_COOKIE].to_str().unwrap();
        cookies.push(c.split(';').next().unwrap().to_string());
    }
    let (ada, bob) = (&cookies[0], &cookies[1]);
    for who in [ada, bob] {
        let (status, body) = call("/api/labs/k8s-pod-network/start", who, String::new()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["shell"], "the terminal on this page", "{body}");
    }
    let console = |who: &str, command: &str| {
        let body = serde_json::json!({ "command": command }).to_string();
        let f = call("/api/labs/k8s-pod-network/console", who, body);
        async move {
            let (status, body) = f.await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()
        }
    };
    // Ada's kubectl works in her namespace (its default).
    let out = console(ada, "kubectl run client --image=registry.k8s.io/e2e-test-images/agnhost:2.39 && kubectl get pods -o name && kubectl config view --minify -o jsonpath='{..namespace}'").await;
    assert_eq!(out["exit"], 0, "{out}");
    let stdout = out["stdout"].as_str().unwrap().to_string();
    assert!(stdout.contains("pod/client"), "{out}");
    let ada_ns = stdout.lines().last().unwrap().to_string();
    assert!(ada_ns.starts_with("ll-"), "{out}");
    // Bob cannot see into Ada's namespace, nor the cluster's nodes.
    for cmd in [
        format!("kubectl get pods -n {ada_ns}"),
        "kubectl get nodes".to_string(),
        "kubectl get secrets -n kube-system".to_string(),
        "kubectl create namespace mine".to_string(),
    ] {
        let out = console(bob, &cmd).await;
        assert_ne!(out["exit"], 0, "{cmd}: {out}");
        assert!(
            out["stderr"].as_str().unwrap().contains("Forbidden")
                || out["stderr"].as_str().unwrap().contains("forbidden"),
            "{cmd}: {out}"
        );
    }
    // The shell is root only in its sandbox: no host secrets, no way out
    // but the API server's bridged port.
    let out = console(bob, "id -u; head -1 /etc/shadow").await;
    assert!(out["stdout"].as_str().unwrap().starts_with("0\n"), "{out}");
    assert_ne!(out["exit"], 0, "{out}");
    let url = standin.url();
    let port = url.rsplit(':').next().unwrap().trim_end_matches('/');
    let out = console(bob, &format!("exec 3<>/dev/tcp/127.0.0.1/{port}")).await;
    assert_ne!(out["exit"], 0, "the host's loopback is reachable: {out}");
    // Stop removes Ada's shell sandbox as well as her namespace.
    let (status, body) = call("/api/labs/k8s-pod-network/stop", ada, String::new()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("sandboxes"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "only Bob's sandbox is left: {left:?}");
    let (status, _) = call("/api/labs/k8s-pod-network/stop", bob, String::new()).await;
    assert_eq!(status, StatusCode::OK);
}
