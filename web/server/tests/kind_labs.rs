//! A kind lab through the HTTP API, against the Kubernetes API server
//! stand-in: a step's checks stream one event each as they are decided,
//! and there is no console (it would be a shell on the server's machine).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use layerlab_server::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

mod sse;
use sse::events;

/// A kind lab's step through the HTTP API, against the API server
/// stand-in: every check's event arrives on its own, the moment it is
/// decided, before the step's own event (checks of cluster labs run
/// concurrently and wait on watches).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_step_streams_one_event_per_check_before_the_step_ends() {
    use layerlab_kube::standin::{StandIn, running_pod};
    use layerlab_labs::run::{Labs, RunOptions};
    use layerlab_server::labs::LabEngine;
    use std::sync::Arc;
    use std::time::Duration;

    let standin = StandIn::start().await.expect("stand-in starts");
    let kubeconfig = standin.kubeconfig_file("api").unwrap();
    let labs = Labs::new(RunOptions {
        context: Some("standin".into()),
        kubeconfig: Some(kubeconfig.clone()),
        runtime: Some(tokio::runtime::Handle::current()),
        ..RunOptions::default()
    });
    let state = AppState {
        labs: Arc::new(LabEngine::new(true, None).with_labs(labs)),
        ..AppState::embedded()
    };
    let req = Request::builder()
        .method("POST")
        .uri("/api/labs/k8s-pod-network/steps/1/check")
        .body(Body::empty())
        .unwrap();
    let res = router(state.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let mut text = String::new();
    // Reads the stream until `n` events have come (or fails after 30 s).
    async fn until(body: &mut Body, text: &mut String, n: usize) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let evs = events(text);
            if evs.len() >= n {
                return evs;
            }
            let frame = tokio::time::timeout_at(deadline, body.frame())
                .await
                .unwrap_or_else(|_| panic!("only {} events after 30 s: {text}", evs.len()))
                .expect("stream ended early")
                .expect("frame");
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
    // The nodes already own /24s: that check's event comes alone, while
    // the pods' checks still wait.
    let first = until(&mut body, &mut text, 1).await;
    assert_eq!(first[0].0, "check", "{text}");
    assert_eq!(first[0].1["index"], 0);
    assert_eq!(first[0].1["result"]["passed"], true);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        events(&text).len(),
        1,
        "nothing else is decided yet: {text}"
    );

    for (name, node, ip) in [
        ("client", "layerlab-worker", "10.244.1.7"),
        ("server", "layerlab-worker2", "10.244.2.9"),
    ] {
        standin.put(running_pod("net", name, node, ip));
    }
    let all = until(&mut body, &mut text, 4).await;
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["check", "check", "check", "step"], "{text}");
    let mut indexes: Vec<u64> = all[..3]
        .iter()
        .map(|(_, v)| v["index"].as_u64().unwrap())
        .collect();
    indexes.sort();
    assert_eq!(indexes, [0, 1, 2]);
    assert_eq!(all[3].1["passed"], true, "{text}");

    // A cluster lab has no sandbox: a console would be a shell on the
    // server's own machine, so there is none.
    let console = Request::builder()
        .method("POST")
        .uri("/api/labs/k8s-pod-network/console")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"command": "id"}"#))
        .unwrap();
    let res = router(state).oneshot(console).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&bytes).contains("server's machine"),
        "{bytes:?}"
    );
    let _ = std::fs::remove_dir_all(kubeconfig.parent().unwrap());
}
