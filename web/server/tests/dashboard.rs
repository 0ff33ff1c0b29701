//! The instructor's dashboard over HTTP: who may see it (instructor yes,
//! learners 403, nobody 401), the grid against what the gradebook holds,
//! live events over SSE, a dashboard that never reads not holding up a
//! learner, drill-down, reset, per-learner hints and exports; and what
//! feeds it from the learners' side: quizzes graded by the server, progress
//! synced per learner.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use layerlab_core::lab::{CheckResult, Mismatch, StepResult};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::{Reply, class};
use tower::ServiceExt;

/// Who sends a request.
#[derive(Clone, Copy)]
enum As<'a> {
    Nobody,
    Learner(&'a str),
    Instructor(&'a str),
}

fn request(method: &str, uri: &str, who: As, body: &str) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    req = match who {
        As::Nobody => req,
        As::Learner(cookie) => req.header(header::COOKIE, cookie),
        As::Instructor(bearer) => req.header(header::AUTHORIZATION, bearer),
    };
    req.body(Body::from(body.to_string())).unwrap()
}

async fn send(app: &Router, method: &str, uri: &str, who: As<'_>, body: &str) -> Reply {
    support::send(app, request(method, uri, who, body)).await
}

/// A GET as the instructor.
async fn instructor_get(c: &support::Class, uri: &str) -> Reply {
    send(&c.app, "GET", uri, As::Instructor(&c.bearer), "").await
}

/// The instructor's event stream, opened.
async fn events(c: &support::Class) -> axum::response::Response {
    let req = request("GET", "/api/workshop/events", As::Instructor(&c.bearer), "");
    c.app.clone().oneshot(req).await.unwrap()
}

async fn join(app: &Router, name: &str) -> (String, String) {
    support::join_with(app, "blue otter 42", name).await
}

fn result(step: usize, passed: bool, at: u64) -> StepResult {
    StepResult {
        step,
        title: format!("Step {step}"),
        passed,
        checked_at_ms: at,
        checks: vec![CheckResult {
            title: "route present".into(),
            kind: "route".into(),
            passed,
            points: u32::from(passed),
            max_points: 1,
            attempts: 1,
            duration_ms: 2,
            message: if passed {
                "ok".into()
            } else {
                "no route".into()
            },
            mismatches: if passed {
                vec![]
            } else {
                vec![Mismatch::new("route.via", "10.0.0.1", "(none)")]
            },
            evidence: format!("ip route (attempt at {at})"),
            hint: None,
        }],
    }
}

/// Reads SSE frames from `body` until `n` events arrived (1 s each at most).
async fn read_events(body: &mut Body, n: usize) -> Vec<(String, Value)> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let frame = tokio::time::timeout(Duration::from_secs(1), body.frame())
            .await
            .expect("an event within 1 s")
            .expect("the stream goes on")
            .expect("no error");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if name.is_empty() {
                continue; // a keep-alive comment
            }
            let value = serde_json::from_str(&data).unwrap_or(Value::String(data));
            events.push((name, value));
        }
    }
    events
}

#[tokio::test]
async fn every_dashboard_endpoint_is_the_instructors_only() {
    let c = class();
    let (ada, cookie) = join(&c.app, "Ada").await;
    let endpoints = [
        ("GET", "/api/workshop/grid".to_string(), ""),
        ("GET", "/api/workshop/events".to_string(), ""),
        ("GET", "/api/workshop/export?format=csv".to_string(), ""),
        (
            "GET",
            format!("/api/workshop/learners/{ada}/labs/router"),
            "",
        ),
        (
            "POST",
            format!("/api/workshop/learners/{ada}/labs/router/reset"),
            "",
        ),
        (
            "POST",
            format!("/api/workshop/learners/{ada}/hints"),
            r#"{"lab":"router","text":"look at the default route"}"#,
        ),
    ];
    for (method, uri, body) in &endpoints {
        let r = send(&c.app, method, uri, As::Nobody, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri}: {}",
            r.body
        );
        let r = send(&c.app, method, uri, As::Learner(&cookie), body).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            r.body
        );
    }
    // The learner's own hints: nobody 401, the instructor has none to read.
    let r = send(&c.app, "GET", "/api/workshop/hints", As::Nobody, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = instructor_get(&c, "/api/workshop/hints").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Unknown learners and labs are 404s for the instructor.
    for (method, uri) in [
        ("GET", "/api/workshop/learners/l-nobody/labs/router"),
        ("POST", "/api/workshop/learners/l-nobody/labs/router/reset"),
        (
            "GET",
            &*format!("/api/workshop/learners/{ada}/labs/vxlan-overlay"),
        ),
        (
            "POST",
            &*format!("/api/workshop/learners/{ada}/labs/no-such-lab/reset"),
        ),
    ] {
        let r = send(&c.app, method, uri, As::Instructor(&c.bearer), "").await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            r.body
        );
    }
    let r = send(
        &c.app,
        "POST",
        "/api/workshop/learners/l-nobody/hints",
        As::Instructor(&c.bearer),
        r#"{"lab":"router","text":"x"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn the_dashboard_page_loads_its_own_script_under_a_strict_policy() {
    let c = class();
    let r = instructor_get(&c, "/instructor").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("/instructor/dashboard.js"), "{}", r.body);
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let js = instructor_get(&c, "/instructor/dashboard.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.body.contains("EventSource"));
    // Without the instructor's session the page is refused.
    let r = send(&c.app, "GET", "/instructor", As::Nobody, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_grid_shows_what_the_gradebook_recorded() {
    let c = class();
    let (ada, _) = join(&c.app, "Ada").await;
    let (bob, _) = join(&c.app, "Bob").await;
    c.book
        .record_check(&ada, "router", &result(1, false, 1_000), None)
        .unwrap();
    c.book
        .record_check(&ada, "router", &result(1, false, 2_000), None)
        .unwrap();
    c.book
        .record_check(&ada, "router", &result(1, true, 5_000), None)
        .unwrap();
    c.book
        .record_check(&bob, "dnat", &result(2, false, 3_000), None)
        .unwrap();

    let r = instructor_get(&c, "/api/workshop/grid").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let g = r.json();
    let labs: Vec<_> = g["labs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].clone())
        .collect();
    assert_eq!(labs, ["router", "dnat"]);
    let router_steps = g["labs"][0]["steps"].as_array().unwrap().len();
    assert!(router_steps >= 1);
    let rows = g["learners"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    let a = row(&ada);
    assert_eq!(a["name"], "Ada");
    assert_eq!(a["labs"]["router"].as_array().unwrap().len(), router_steps);
    assert_eq!(a["labs"]["router"][0]["passed"], true);
    assert_eq!(a["labs"]["router"][0]["attempts"], 3);
    assert_eq!(a["labs"]["router"][0]["first_ms"], 1_000);
    assert_eq!(a["labs"]["router"][0]["last_ms"], 5_000);
    assert_eq!(a["labs"]["dnat"][1]["attempts"], 0);
    let b = row(&bob);
    assert_eq!(b["labs"]["dnat"][1]["passed"], false);
    assert_eq!(b["labs"]["dnat"][1]["attempts"], 1);
    assert_eq!(b["labs"]["router"][0]["attempts"], 0);

    // The drill-down: every attempt with its evidence, and time to pass.
    let r = instructor_get(&c, &format!("/api/workshop/learners/{ada}/labs/router")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.json();
    assert_eq!(d["name"], "Ada");
    let s1 = &d["steps"][0];
    assert_eq!(s1["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(s1["time_to_pass_ms"], 4_000);
    let first = &s1["attempts"][0]["result"]["checks"][0];
    assert_eq!(first["mismatches"][0]["expected"], "10.0.0.1");
    assert_eq!(first["evidence"], "ip route (attempt at 1000)");
    assert_eq!(d["steps"][1]["time_to_pass_ms"], Value::Null);
}

#[tokio::test]
async fn exports_match_the_class_report() {
    let c = class();
    let (ada, _) = join(&c.app, "Ada, \"the first\"").await;
    c.book
        .record_check(&ada, "router", &result(1, true, 1_000), None)
        .unwrap();
    let labs: Vec<_> = layerlab_labs::labs()
        .iter()
        .filter(|l| l.id == "router" || l.id == "dnat")
        .cloned()
        .collect();
    // The plan's order: router, then dnat.
    let labs: Vec<_> = ["router", "dnat"]
        .iter()
        .map(|id| labs.iter().find(|l| &l.id == id).unwrap().clone())
        .collect();
    let report = c.book.class_report(&labs).unwrap();
    for (format, want, kind) in [
        ("csv", report.to_csv(), "text/csv"),
        ("summary-csv", report.to_summary_csv(), "text/csv"),
        ("json", report.to_json() + "\n", "application/json"),
        ("junit", report.to_junit(), "application/xml"),
    ] {
        let r = instructor_get(&c, &format!("/api/workshop/export?format={format}")).await;
        assert_eq!(r.status, StatusCode::OK, "{format}: {}", r.body);
        assert_eq!(r.body, want, "{format}");
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
    }
    assert!(report.to_csv().contains("Ada"));
    let r = instructor_get(&c, "/api/workshop/export?format=pdf").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("summary-csv"), "{}", r.body);
}

#[tokio::test]
async fn events_tell_of_joins_and_checks_recorded_after_subscribing() {
    let c = class();
    let (ada, _) = join(&c.app, "Ada").await; // before: not sent
    let res = events(&c).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = res.into_body();
    let (bob, _) = join(&c.app, "Bob").await;
    let t0 = Instant::now();
    c.book
        .record_check(&ada, "router", &result(1, false, 7_000), None)
        .unwrap();
    c.book
        .record_check(&ada, "router", &result(1, true, 8_000), None)
        .unwrap();
    let events = read_events(&mut body, 3).await;
    eprintln!("record → SSE receipt of 2 checks: {:?}", t0.elapsed());
    assert_eq!(events[0].0, "join");
    assert_eq!(events[0].1["id"], bob.as_str());
    assert_eq!(events[0].1["name"], "Bob");
    assert_eq!(events[1].0, "check");
    let check = &events[1].1;
    assert_eq!(check["learner"], ada.as_str());
    assert_eq!(check["lab"], "router");
    assert_eq!(check["step"], 1);
    assert_eq!(check["passed"], false);
    assert_eq!(check["attempt"], 1);
    assert_eq!(check["at_ms"], 7_000);
    assert_eq!(events[2].1["passed"], true);
    assert_eq!(events[2].1["attempt"], 2);
}

#[tokio::test]
async fn a_dashboard_that_never_reads_does_not_hold_up_learners() {
    let c = class();
    let (ada, _) = join(&c.app, "Ada").await;
    let res = events(&c).await;
    let mut body = res.into_body();
    // Far more than the backlog, with nobody reading: every write returns.
    let book = c.book.clone();
    let id = ada.clone();
    let n = 3000u32;
    let done = tokio::task::spawn_blocking(move || {
        for i in 0..n {
            book.record_check(&id, "router", &result(1, i % 2 == 0, u64::from(i)), None)
                .unwrap();
        }
    });
    tokio::time::timeout(Duration::from_secs(60), done)
        .await
        .expect("recording is never held up by the dashboard")
        .unwrap();
    assert_eq!(
        c.book.attempts(&ada, "router", 1).unwrap().len(),
        n as usize
    );
    // When it reads at last, it is told to resync rather than fed stale events.
    let events = read_events(&mut body, 1).await;
    assert_eq!(events[0].0, "resync", "{events:?}");
}

#[tokio::test]
async fn hints_are_each_learners_own() {
    let c = class();
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let (_bob, bob_cookie) = join(&c.app, "Bob").await;
    let r = send(
        &c.app,
        "POST",
        &format!("/api/workshop/learners/{ada}/hints"),
        As::Instructor(&c.bearer),
        r#"{"lab":"router","step":1,"text":"  which route does the client use?  "}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = send(
        &c.app,
        "GET",
        "/api/workshop/hints",
        As::Learner(&ada_cookie),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let hints = r.json();
    assert_eq!(hints.as_array().unwrap().len(), 1);
    assert_eq!(hints[0]["text"], "which route does the client use?");
    assert_eq!(hints[0]["lab"], "router");
    assert_eq!(hints[0]["step"], 1);
    let r = send(
        &c.app,
        "GET",
        "/api/workshop/hints",
        As::Learner(&bob_cookie),
        "",
    )
    .await;
    assert_eq!(r.json(), serde_json::json!([]));
    // The lab page's status brings them: Ada's router lab has it, her dnat
    // lab and Bob's router lab do not.
    let status = |cookie: String, lab: &'static str| {
        let app = c.app.clone();
        async move {
            let uri = format!("/api/labs/{lab}/status");
            send(&app, "GET", &uri, As::Learner(&cookie), "")
                .await
                .json()
        }
    };
    let ada_router = status(ada_cookie.clone(), "router").await;
    assert_eq!(
        ada_router["hints"][0]["text"],
        "which route does the client use?"
    );
    assert_eq!(ada_router["hints"][0]["step"], 1);
    assert!(
        status(ada_cookie.clone(), "dnat")
            .await
            .get("hints")
            .is_none()
    );
    assert!(
        status(bob_cookie.clone(), "router")
            .await
            .get("hints")
            .is_none()
    );
    // Bad hints are refused with the reason.
    for body in [
        r#"{"lab":"router","step":99,"text":"x"}"#,
        r#"{"lab":"router","text":"   "}"#,
        r#"{"text":"no lab"}"#,
    ] {
        let r = send(
            &c.app,
            "POST",
            &format!("/api/workshop/learners/{ada}/hints"),
            As::Instructor(&c.bearer),
            body,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
}

/// The instructor's reset gives a learner a fresh sandbox: what they made
/// in the old one is gone, and the other learner's is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: confined sandboxes switch uids and make cgroups (CI runs as root)"
)]
async fn the_instructor_resets_one_learners_sandbox() {
    let c = class();
    // SAFETY: set before any thread of this test reads the environment;
    // no other test of this binary starts a sandbox.
    unsafe { std::env::set_var("LAYERLAB_SANDBOX_DIR", c.dir.path().join("sandboxes")) };
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let (_, bob_cookie) = join(&c.app, "Bob").await;
    let console = |cookie: String, command: &str| {
        let body = serde_json::json!({ "command": command }).to_string();
        let app = c.app.clone();
        async move {
            let r = send(
                &app,
                "POST",
                "/api/labs/router/console",
                As::Learner(&cookie),
                &body,
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.json()
        }
    };
    for cookie in [&ada_cookie, &bob_cookie] {
        let r = send(
            &c.app,
            "POST",
            "/api/labs/router/start",
            As::Learner(cookie),
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let out = console(
            cookie.clone(),
            "ip link add mark0 type veth peer name mark1",
        )
        .await;
        assert_eq!(out["exit"], 0, "{out}");
    }
    let r = send(
        &c.app,
        "POST",
        &format!("/api/workshop/learners/{ada}/labs/router/reset"),
        As::Instructor(&c.bearer),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = console(ada_cookie.clone(), "ip link show mark0").await;
    assert_ne!(
        out["exit"], 0,
        "Ada's old sandbox survived the reset: {out}"
    );
    let out = console(bob_cookie.clone(), "ip link show mark0").await;
    assert_eq!(out["exit"], 0, "Bob's sandbox was reset too: {out}");
    for cookie in [&ada_cookie, &bob_cookie] {
        send(
            &c.app,
            "POST",
            "/api/labs/router/stop",
            As::Learner(cookie),
            "",
        )
        .await;
    }
}

/// A single-choice question of a lesson in the workshop's chapter, with a
/// right and a wrong choice.
fn linux_question() -> (String, usize, usize, usize) {
    use layerlab_core::QuestionKind;
    let course = layerlab_lessons::course();
    let linux = course.chapters.iter().find(|c| c.id == "linux").unwrap();
    for lesson in &linux.lessons {
        for (n, q) in lesson.quiz.iter().enumerate() {
            if let QuestionKind::Single { choices } = &q.kind {
                let right = choices.iter().position(|c| c.correct).unwrap();
                let wrong = choices.iter().position(|c| !c.correct).unwrap();
                return (lesson.id.clone(), n + 1, right, wrong);
            }
        }
    }
    panic!("no single-choice question in the linux chapter");
}

#[tokio::test]
async fn quiz_answers_are_graded_and_recorded_by_the_server_only() {
    let c = class();
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let (lesson, n, right, wrong) = linux_question();
    let path = format!("/api/lessons/{lesson}/quiz/{n}");
    let question = layerlab_lessons::course()
        .lessons()
        .find(|l| l.id == lesson)
        .unwrap()
        .quiz[n - 1]
        .clone();

    // Wrong, then right: the server's verdicts are core's own grades.
    for (pick, correct) in [(wrong, false), (right, true)] {
        let body = format!(r#"{{"choices":[{pick}]}}"#);
        let r = send(&c.app, "POST", &path, As::Learner(&ada_cookie), &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let expected = question.grade(&layerlab_core::Response::Choices(vec![pick]));
        assert_eq!(r.json(), serde_json::to_value(&expected).unwrap());
        assert_eq!(r.json()["correct"], correct);
    }
    let kept = c.book.quiz_answers(&ada).unwrap();
    assert_eq!(
        kept.iter()
            .map(|a| (a.lesson.as_str(), a.question, a.score))
            .collect::<Vec<_>>(),
        vec![
            (lesson.as_str(), n as u32 - 1, 0),
            (lesson.as_str(), n as u32 - 1, 1)
        ]
    );

    // A learner cannot send a grade, only an answer; nobody else answers.
    let forged = format!(r#"{{"choices":[{wrong}],"correct":true,"score":1}}"#);
    let r = send(&c.app, "POST", &path, As::Learner(&ada_cookie), &forged).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = send(
        &c.app,
        "POST",
        &path,
        As::Instructor(&c.bearer),
        r#"{"choices":[0]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = send(&c.app, "POST", &path, As::Nobody, r#"{"choices":[0]}"#).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // Bad questions and lessons, and lessons outside the workshop.
    let course = layerlab_lessons::course();
    let outside = course
        .chapters
        .iter()
        .filter(|c| c.id != "linux")
        .flat_map(|c| &c.lessons)
        .find(|l| !l.quiz.is_empty())
        .unwrap()
        .id
        .clone();
    for (uri, status) in [
        (
            format!("/api/lessons/{lesson}/quiz/0"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/lessons/{lesson}/quiz/x"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/lessons/{lesson}/quiz/999"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/lessons/{outside}/quiz/1"),
            StatusCode::NOT_FOUND,
        ),
        ("/api/lessons/nope/quiz/1".into(), StatusCode::NOT_FOUND),
    ] {
        let r = send(
            &c.app,
            "POST",
            &uri,
            As::Learner(&ada_cookie),
            r#"{"choices":[0]}"#,
        )
        .await;
        assert_eq!(r.status, status, "{uri}: {}", r.body);
    }
    for body in ["", "[1]", "{\"choices\":\"a\"}", "{not json"] {
        let r = send(&c.app, "POST", &path, As::Learner(&ada_cookie), body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body:?}: {}",
            r.body
        );
        assert!(
            r.json()["error"].as_str().unwrap().contains("answer"),
            "{}",
            r.body
        );
    }
    assert_eq!(
        c.book.quiz_answers(&ada).unwrap().len(),
        2,
        "refused answers are not kept"
    );

    // The grid and the summary export count the latest answer.
    let grid = instructor_get(&c, "/api/workshop/grid").await;
    let row = &grid.json()["learners"][0];
    assert_eq!(
        (row["quiz_right"].as_u64(), row["quiz_answered"].as_u64()),
        (Some(1), Some(1))
    );
    let csv = instructor_get(&c, "/api/workshop/export?format=summary-csv").await;
    assert!(
        csv.body.lines().nth(1).unwrap().ends_with(",1,1,0"),
        "{}",
        csv.body
    );
}

#[tokio::test]
async fn progress_syncs_in_a_workshop_between_the_learner_and_no_one_else() {
    use layerlab_core::{Progress, Timestamp};
    let c = class();
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let (bob, bob_cookie) = join(&c.app, "Bob").await;
    let (lesson, ..) = linux_question();
    let path = format!("/api/learners/{ada}/progress");

    // One browser reads a lesson (and claims a lesson no one serves).
    let mut first = Progress::default();
    first.mark_read(&lesson, Timestamp(100));
    first.mark_read("not-a-lesson", Timestamp(100));
    let r = send(
        &c.app,
        "POST",
        &path,
        As::Learner(&ada_cookie),
        &first.to_json(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Another of Ada's browsers sends its own; the answer is the union.
    let mut second = Progress::default();
    second.record_quiz(&lesson, 2, 3, Timestamp(200));
    let r = send(
        &c.app,
        "POST",
        &path,
        As::Learner(&ada_cookie),
        &second.to_json(),
    )
    .await;
    let merged = Progress::from_json(&r.body).unwrap();
    assert!(merged.is_read(&lesson));
    assert_eq!(merged.quiz(&lesson).map(|q| q.best), Some(2));
    let r = send(&c.app, "GET", &path, As::Learner(&ada_cookie), "").await;
    assert_eq!(Progress::from_json(&r.body).unwrap(), merged);

    // Bob can neither read nor write Ada's; his own is empty.
    let r = send(&c.app, "GET", &path, As::Learner(&bob_cookie), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &c.app,
        "POST",
        &path,
        As::Learner(&bob_cookie),
        &first.to_json(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &c.app,
        "GET",
        &format!("/api/learners/{bob}/progress"),
        As::Learner(&bob_cookie),
        "",
    )
    .await;
    assert_eq!(Progress::from_json(&r.body).unwrap(), Progress::default());

    // The gradebook knows what was read, of the lessons this server serves.
    let reads = c.book.lesson_reads(&ada).unwrap();
    assert_eq!(reads.keys().collect::<Vec<_>>(), vec![&lesson]);
    assert!(c.book.lesson_reads(&bob).unwrap().is_empty());
}

#[tokio::test]
async fn a_learner_cannot_post_or_forge_a_result() {
    let c = class();
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let me = As::Learner(&ada_cookie);
    // A result in the check's body is refused before anything runs.
    for forged in [
        r#"{"passed":true}"#,
        r#"{"quick":true,"result":{"step":1,"passed":true,"checks":[]}}"#,
        r#"{"answer":"x","points":10}"#,
    ] {
        let r = send(&c.app, "POST", "/api/labs/router/steps/1/check", me, forged).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{forged}: {}",
            r.body
        );
        assert!(r.body.contains("decided by the server"), "{}", r.body);
    }
    // Nothing that reads results takes a write.
    for uri in [
        "/api/labs/router/report".to_string(),
        "/api/workshop/grid".to_string(),
        format!("/api/workshop/learners/{ada}/labs/router"),
        "/api/workshop/export?format=json".to_string(),
    ] {
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let r = send(&c.app, method, &uri, me, r#"{"passed":true}"#).await;
            assert!(
                [StatusCode::METHOD_NOT_ALLOWED, StatusCode::FORBIDDEN].contains(&r.status),
                "{method} {uri}: {} {}",
                r.status,
                r.body
            );
        }
    }
    assert!(c.book.attempts(&ada, "router", 1).unwrap().is_empty());
}
