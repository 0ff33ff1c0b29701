//! What the workshop test files share: a workshop server in memory (its
//! data in a temporary folder, learners' sandboxes confined), a request's
//! reply, joining.

// Each test file uses its own part of this.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use layerlab_server::gradebook::Gradebook;
use layerlab_server::labs::{LabEngine, LearnerRuns};
use layerlab_server::workshop::{Plan, Workshop};
use layerlab_server::{AppState, router};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// A workshop server and what the tests reach behind it.
pub struct Class {
    pub app: Router,
    pub dir: tempfile::TempDir,
    /// The instructor's token, and as an `Authorization` header value.
    pub token: String,
    pub bearer: String,
    pub book: Arc<Gradebook>,
    pub engine: Arc<LabEngine>,
}

/// The workshop the tests run: two Linux labs, a title that needs escaping.
pub const PLAN: &str = r#"
title = "Linux networking <day one>"
chapters = ["linux"]
labs = ["router", "dnat"]
join_code = "BLUE-OTTER-42"
"#;

/// A workshop of [`PLAN`], bound as if to every address (so its lab runs
/// are the confined, per-learner ones).
pub fn class() -> Class {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse(PLAN, layerlab_lessons::course(), layerlab_labs::labs()).unwrap();
    let w = Workshop::open(plan, &dir.path().join("data")).unwrap();
    let token = w.instructor_token().to_string();
    let book = w.book.clone();
    let learners = LearnerRuns {
        confine: layerlab_labs::confine::Confine::default(),
        spaces: dir.path().join("data/cluster"),
        book: Some(w.book.clone()),
    };
    let engine = Arc::new(LabEngine::for_server(
        true,
        "0.0.0.0".parse().unwrap(),
        None,
        Some(learners),
    ));
    let state = AppState {
        labs: engine.clone(),
        ..AppState::embedded()
    }
    .with_workshop(w);
    Class {
        app: router(state),
        dir,
        bearer: format!("Bearer {token}"),
        token,
        book,
        engine,
    }
}

/// A reply, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON (a panic naming the body if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends `req` and reads the whole reply.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Joins with `code` through the JSON API; answers the learner's id and
/// their session cookie (`name=value`), checking the cookie's flags.
pub async fn join_with(app: &Router, code: &str, name: &str) -> (String, String) {
    let body = serde_json::json!({"code": code, "name": name}).to_string();
    let req = Request::post("/api/workshop/join")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let r = send(app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    (r.json()["id"].as_str().unwrap().to_string(), cookie)
}
