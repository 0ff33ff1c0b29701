//! A real sandbox lab driven through the HTTP API (root only): a check
//! streams a failure, the solution is applied, the same check streams a
//! pass, the console runs commands inside, the report counts the step, and
//! stopping leaves the host as it was. (Root only: ignored, with the
//! reason, when not built by root.) And a kind lab's step, streamed per
//! check, against the API server stand-in.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use layerlab_server::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

async fn call(method: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = router(STATE.with(|s| s.clone()))
        .oneshot(req)
        .await
        .expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

thread_local! {
    static STATE: AppState = AppState::embedded();
}

/// The events of a check stream: (event name, data as JSON).
fn events(sse: &str) -> Vec<(String, Value)> {
    sse.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = Some(n.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((name?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

fn host_netns() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "current_thread")]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: network namespaces and iptables (CI runs as root)"
)]
async fn a_sandbox_lab_fails_then_passes_through_the_api() {
    if let Some(missing) = layerlab_labs::tools::check_linux_lab_tools() {
        panic!("as root the Linux lab tools must be installed: {missing}");
    }
    let state_dir = std::env::temp_dir().join(format!("layerlab-api-live-{}", std::process::id()));
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("LAYERLAB_SANDBOX_DIR", &state_dir) };
    let before = host_netns();

    let (status, body) = call("POST", "/api/labs/handshake/start", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(started["running"], true);

    // Before the solution: the stream says which check failed and why.
    let (status, body) = call("POST", "/api/labs/handshake/steps/1/check", "").await;
    assert_eq!(status, StatusCode::OK);
    let evs = events(&body);
    let (last, step) = evs.last().expect("a last event");
    assert_eq!(last, "step", "{body}");
    assert_eq!(step["passed"], false);
    let checks: Vec<_> = evs.iter().filter(|(n, _)| n == "check").collect();
    assert_eq!(checks.len(), step["checks"].as_array().unwrap().len());
    assert_eq!(checks[0].1["result"]["passed"], false);
    assert!(
        !checks[0].1["result"]["message"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    let (status, body) = call("POST", "/api/labs/handshake/steps/1/solve", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, body) = call("POST", "/api/labs/handshake/steps/1/check", "{}").await;
    let evs = events(&body);
    assert_eq!(evs.last().unwrap().1["passed"], true, "{body}");

    // The console runs inside the sandbox: its namespace is there, not on the host.
    let (status, body) = call(
        "POST",
        "/api/labs/handshake/console",
        r#"{"command": "ip netns list"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(out["exit"], 0);
    assert!(out["stdout"].as_str().unwrap().contains("client"), "{body}");
    assert!(
        !host_netns().contains("client"),
        "the host sees the sandbox's namespace"
    );
    // A chatty command is cut off instead of filling memory.
    let (_, body) = call(
        "POST",
        "/api/labs/handshake/console",
        r#"{"command": "yes"}"#,
    )
    .await;
    let out: Value = serde_json::from_str(&body).unwrap();
    let len = out["stdout"].as_str().unwrap().len();
    assert_eq!(
        len,
        layerlab_server::labs::CONSOLE_OUTPUT_LIMIT,
        "output cut"
    );

    let (_, body) = call("GET", "/api/labs/handshake/report", "").await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["steps"][0]["passed"], true);
    assert_eq!(report["steps"][1]["passed"], false);
    assert!(report["score"].as_u64().unwrap() > 0);

    let (status, body) = call("POST", "/api/labs/handshake/stop", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["running"],
        false
    );
    assert!(layerlab_labs::sandbox::Sandbox::find("handshake").is_none());
    assert_eq!(host_netns(), before, "host namespaces unchanged");
    let _ = std::fs::remove_dir_all(&state_dir);
}

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
