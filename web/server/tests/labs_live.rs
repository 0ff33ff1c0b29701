//! A real sandbox lab driven through the HTTP API (root only): a check
//! streams a failure, the solution is applied, the same check streams a
//! pass, the console runs commands inside, the report counts the step, and
//! stopping leaves the host as it was. (Root only: ignored, with the
//! reason, when not built by root.) Alone in its test binary: it sets
//! `LAYERLAB_SANDBOX_DIR` for the whole process.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use layerlab_server::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

mod sse;
use sse::events;

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
