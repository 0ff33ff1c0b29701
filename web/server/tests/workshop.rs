//! A workshop over HTTP, attacked the ways the issue lists: no session,
//! forged and foreign cookies, another learner's id, wrong join codes a
//! thousand times, cross-site requests, oversized and malformed bodies.
//! Each gets a clear 4xx and nothing already recorded is lost. The last
//! test (root only) runs two learners' confined sandboxes side by side.
//! Alone in its test binary: the root test sets `LAYERLAB_SANDBOX_DIR`.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use support::{Reply, class, send};

async fn get(app: &Router, uri: &str, cookie: Option<&str>) -> Reply {
    let mut req = Request::get(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

async fn post(app: &Router, uri: &str, cookie: Option<&str>, body: &str) -> Reply {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::from(body.to_string())).unwrap()).await
}

/// The `step` event of a check's event stream.
fn step_event(sse: &str) -> Value {
    let data = sse
        .split("\n\n")
        .find(|e| e.starts_with("event: step"))
        .and_then(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .unwrap_or_else(|| panic!("no step event in {sse}"));
    serde_json::from_str(data).unwrap()
}

/// Joins through the JSON API; answers the learner's id and cookie.
async fn join(app: &Router, name: &str) -> (String, String) {
    support::join_with(app, "blue otter 42", name).await
}

#[tokio::test]
async fn without_a_session_only_the_join_page_answers() {
    let c = class();
    for uri in ["/api/course", "/api/labs", "/api/labs/router/status"] {
        let r = get(&c.app, uri, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{uri}: {}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains("/join"));
    }
    let r = post(&c.app, "/api/labs/router/start", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = get(&c.app, "/", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/join");
    let r = get(&c.app, "/join", None).await;
    assert_eq!(r.status, StatusCode::OK);
    // The title is the instructor's text, escaped.
    assert!(
        r.body.contains("Linux networking &lt;day one&gt;"),
        "{}",
        r.body
    );
    assert!(
        r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("form-action 'self'")
    );
    // Its form's POST must carry the real Origin (not `null`) past the guard.
    assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(
        get(&c.app, "/api/health", None).await.status,
        StatusCode::OK
    );
    let about = get(&c.app, "/api/workshop", None).await.json();
    assert_eq!(about["you"], Value::Null);
    assert_eq!(about["labs"], serde_json::json!(["router", "dnat"]));
}

#[tokio::test]
async fn a_learner_sees_the_workshops_course_and_only_their_own_things() {
    let c = class();
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let (bob, bob_cookie) = join(&c.app, "Bob").await;
    assert_ne!(ada, bob);

    let course = get(&c.app, "/api/course", Some(&ada_cookie)).await;
    assert_eq!(course.status, StatusCode::OK);
    let chapters = course.json()["chapters"].as_array().unwrap().len();
    assert_eq!(chapters, 1, "only the workshop's chapter");
    // A lab outside the workshop does not exist for its learners.
    let r = post(
        &c.app,
        "/api/labs/vxlan-overlay/start",
        Some(&ada_cookie),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let me = get(&c.app, "/api/workshop", Some(&ada_cookie)).await.json();
    assert_eq!(me["you"]["id"], ada.as_str());
    assert_eq!(me["you"]["name"], "Ada");

    // Progress: own yes, the other's no, either way.
    let progress = r#"{"version":1,"lessons":{"what-is-a-network-namespace":{"read_at":5}}}"#;
    let r = post(
        &c.app,
        &format!("/api/learners/{ada}/progress"),
        Some(&ada_cookie),
        progress,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = get(
        &c.app,
        &format!("/api/learners/{ada}/progress"),
        Some(&bob_cookie),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = post(
        &c.app,
        &format!("/api/learners/{ada}/progress"),
        Some(&bob_cookie),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The class list is the instructor's.
    assert_eq!(
        get(&c.app, "/api/learners", Some(&bob_cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&c.app, "/api/workshop/learners", Some(&bob_cookie))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Asking for another learner's report answers one's own.
    let r = get(
        &c.app,
        &format!("/api/labs/router/report?learner={ada}"),
        Some(&bob_cookie),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["learner"], "Bob", "{}", r.body);

    // The instructor (bearer token) sees both.
    let bearer = format!("Bearer {}", c.token);
    let r = send(
        &c.app,
        Request::get("/api/workshop/learners")
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<_> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert_eq!(names, ["Ada", "Bob"]);
    let r = send(
        &c.app,
        Request::get(format!("/api/learners/{ada}/progress"))
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("what-is-a-network-namespace"), "{}", r.body);
}

#[tokio::test]
async fn forged_foreign_and_garbage_cookies_are_refused() {
    let c = class();
    let (ada, ada_cookie) = join(&c.app, "Ada").await;
    let (bob, _) = join(&c.app, "Bob").await;
    let other = class();
    let (_, foreign) = join(&other.app, "Eve").await;
    let forged = ada_cookie.replace(&ada, &bob);
    let instructor = {
        // The instructor's subject with Ada's signature.
        let (name, value) = ada_cookie.split_once('=').unwrap();
        let parts: Vec<&str> = value.split('.').collect();
        format!("{name}=i:instructor.{}.{}", parts[1], parts[2])
    };
    for bad in [
        forged.as_str(),
        foreign.as_str(),
        instructor.as_str(),
        "layerlab_session=",
        "layerlab_session=....",
        "layerlab_session=l:%00.1.2",
        &format!("layerlab_session={}", "A".repeat(8000)),
    ] {
        let r = get(&c.app, "/api/labs/router/status", Some(bad)).await;
        assert!(
            r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::BAD_REQUEST,
            "{bad}: {} {}",
            r.status,
            r.body
        );
    }
    let r = send(
        &c.app,
        Request::get("/api/workshop/learners")
            .header(header::AUTHORIZATION, "Bearer not-the-token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The real one still works after all that.
    assert_eq!(
        get(&c.app, "/api/course", Some(&ada_cookie)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_thousand_wrong_codes_are_throttled_and_lose_nothing() {
    let c = class();
    let (_, ada_cookie) = join(&c.app, "Ada").await;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..1000 {
        let r = post(
            &c.app,
            "/api/workshop/join",
            None,
            &format!(r#"{{"code": "guess-{i:04}", "name": "m"}}"#),
        )
        .await;
        *statuses.entry(r.status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&403), Some(&5), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&995), "{statuses:?}");
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    // Nothing lost: Ada is still in, and still alone on the roster.
    assert_eq!(
        get(&c.app, "/api/course", Some(&ada_cookie)).await.status,
        StatusCode::OK
    );
    let book = layerlab_server::gradebook::Gradebook::open_existing(
        &c.dir.path().join("data/workshop.db"),
    )
    .unwrap();
    assert_eq!(book.members().unwrap().len(), 1);
}

#[tokio::test]
async fn cross_site_oversized_and_malformed_requests_get_a_clear_4xx() {
    let c = class();
    let (_, cookie) = join(&c.app, "Ada").await;
    let evil = |uri: &str, body: &str| {
        Request::post(uri)
            .header(header::HOST, "workshop.example:8080")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    for uri in [
        "/api/workshop/join",
        "/join",
        "/api/labs/router/start",
        "/api/labs/router/console",
    ] {
        let r = send(&c.app, evil(uri, r#"{"code":"BLUE-OTTER-42","name":"x"}"#)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.body);
    }
    let huge = format!(r#"{{"code": "{}", "name": "x"}}"#, "A".repeat(1 << 20));
    let r = post(&c.app, "/api/workshop/join", None, &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    let r = post(&c.app, "/api/workshop/join", None, "{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(&c.app, "/api/workshop/join", None, r#"{"code": 7}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // The form: a broken encoding re-renders the page with the reason.
    let form = |body: &str| {
        Request::post("/join")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = send(&c.app, form("code=a&code=b")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("could not be read"));
    let r = send(&c.app, form("code=WRONG-CODE&name=Bob")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("not this workshop&#39;s join code"),
        "{}",
        r.body
    );
    let r = send(&c.app, form("code=blue-otter-42&name=%3Cb%3EBob%3C%2Fb%3E")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.headers.contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn the_instructor_signs_in_with_the_printed_token() {
    let c = class();
    join(&c.app, "<script>alert(1)</script>").await;
    let r = get(&c.app, "/instructor?token=wrong", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = get(&c.app, "/instructor", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = get(&c.app, &format!("/instructor?token={}", c.token), None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The token leaves the address bar.
    assert_eq!(r.headers[header::LOCATION], "/instructor");
    let cookie = r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = get(&c.app, "/instructor", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    // The dashboard page is static; names reach it only as JSON data (the
    // script puts them in with textContent), never as markup.
    assert!(page.body.contains("/instructor/dashboard.js"));
    assert!(!page.body.contains("<script>alert"));
    let grid = get(&c.app, "/api/workshop/grid", Some(&cookie))
        .await
        .json();
    assert_eq!(grid["learners"][0]["name"], "<script>alert(1)</script>");
    assert_eq!(grid["join_code"], "BLUE-OTTER-42");
}

/// Two learners' sandboxes of the same lab: each is root inside their own,
/// the host and the other learner stay out of reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: confined sandboxes switch uids and make cgroups (CI runs as root)"
)]
async fn two_learners_work_in_their_own_confined_sandboxes() {
    let c = class();
    let state_dir = c.dir.path().join("sandboxes");
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("LAYERLAB_SANDBOX_DIR", &state_dir) };
    let (_, ada) = join(&c.app, "Ada").await;
    let (_, bob) = join(&c.app, "Bob").await;
    for who in [&ada, &bob] {
        let r = post(&c.app, "/api/labs/router/start", Some(who), "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["rootless"], true, "{}", r.body);
    }
    let console = |who: &str, command: &str| {
        let body = serde_json::json!({ "command": command }).to_string();
        let (app, who) = (c.app.clone(), who.to_string());
        async move {
            let r = post(&app, "/api/labs/router/console", Some(&who), &body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.json()
        }
    };
    let out = console(
        &ada,
        "ip link add ada0 type veth peer name ada1 && id -u && touch /root/ada-was-here; echo done",
    )
    .await;
    assert_eq!(out["exit"], 0, "{out}");
    assert!(out["stdout"].as_str().unwrap().starts_with("0\n"), "{out}");
    assert!(!std::path::Path::new("/root/ada-was-here").exists());
    let out = console(&bob, "ip link show ada0").await;
    assert_ne!(out["exit"], 0, "Bob sees Ada's interface: {out}");
    let out = console(&bob, "head -1 /etc/shadow").await;
    assert_ne!(out["exit"], 0, "{out}");
    let out = console(
        &bob,
        "ls /var/lib/layerlab 2>&1; ls $LAYERLAB_SANDBOX_DIR 2>&1; echo x > /usr/x",
    )
    .await;
    assert_ne!(out["exit"], 0, "{out}");
    // The page's live re-checks (quick) of an unchanged sandbox are
    // answered from its last observation and add no attempt; a change of
    // verdict and the learner's own checks do.
    let quick = r#"{"quick":true}"#;
    let check = |body: &'static str| {
        let (app, ada) = (c.app.clone(), ada.clone());
        async move {
            let r = post(&app, "/api/labs/router/steps/1/check", Some(&ada), body).await;
            step_event(&r.body)
        }
    };
    let first = check(quick).await;
    assert_eq!(
        (first["passed"].as_bool(), first["recorded"].as_bool()),
        (Some(false), Some(true)),
        "{first}"
    );
    let again = check(quick).await;
    assert_eq!(again["recorded"], false, "{again}");
    assert_eq!(
        again["checked_at_ms"], first["checked_at_ms"],
        "observed again: {again}"
    );
    // Solving changes the sandbox: observed anew, the new verdict kept.
    let r = post(&c.app, "/api/labs/router/steps/1/solve", Some(&ada), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let solved = check(quick).await;
    assert_eq!(
        (solved["passed"].as_bool(), solved["recorded"].as_bool()),
        (Some(true), Some(true)),
        "{solved}"
    );
    // The learner's own check is always observed and kept.
    let own = check("").await;
    assert_eq!(
        (own["passed"].as_bool(), own["recorded"].as_bool()),
        (Some(true), Some(true)),
        "{own}"
    );
    assert_ne!(own["checked_at_ms"], solved["checked_at_ms"]);
    assert_eq!(check(quick).await["recorded"], false);
    // Three attempts in the gradebook: the first look, the change, the own check.
    let ada_id = get(&c.app, "/api/workshop", Some(&ada)).await.json()["you"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let req = Request::get(format!("/api/workshop/learners/{ada_id}/labs/router"))
        .header(header::AUTHORIZATION, format!("Bearer {}", c.token))
        .body(Body::empty())
        .unwrap();
    let drill = send(&c.app, req).await.json();
    assert_eq!(
        drill["steps"][0]["attempts"].as_array().unwrap().len(),
        3,
        "{drill}"
    );
    // A capture check's packets are kept with the attempt (step 5 pings
    // through the router and captures on it).
    for n in 2..=5 {
        let uri = format!("/api/labs/router/steps/{n}/solve");
        let r = post(&c.app, &uri, Some(&ada), "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = post(&c.app, "/api/labs/router/steps/5/check", Some(&ada), "").await;
    assert_eq!(step_event(&r.body)["passed"], true, "{}", r.body);
    let req = Request::get(format!("/api/workshop/learners/{ada_id}/labs/router"))
        .header(header::AUTHORIZATION, format!("Bearer {}", c.token))
        .body(Body::empty())
        .unwrap();
    let drill = send(&c.app, req).await.json();
    let kept = drill["steps"][4]["attempts"][0]["capture_summary"]
        .as_str()
        .unwrap_or_else(|| panic!("no capture kept: {drill}"))
        .to_string();
    assert!(kept.starts_with("check "), "{kept}");
    assert!(kept.contains("ICMP") && kept.contains(" > "), "{kept}");
    let mine = get(&c.app, "/api/labs/router/report", Some(&ada))
        .await
        .json();
    let theirs = get(&c.app, "/api/labs/router/report", Some(&bob))
        .await
        .json();
    let passed = |r: &Value| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["passed"] == true)
            .count()
    };
    assert_eq!(passed(&mine), 2, "{mine}");
    assert_eq!(passed(&theirs), 0, "{theirs}");
    let r = post(&c.app, "/api/labs/router/stop", Some(&bob), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Idle sandboxes are reclaimed: Ada's goes, and its results with it.
    let engine = c.engine.clone();
    let removed = tokio::task::spawn_blocking(move || {
        engine.reclaim_idle(std::time::Duration::ZERO, |_, _| false)
    })
    .await
    .unwrap();
    assert_eq!(removed.len(), 1, "{removed:?}");
    let status = get(&c.app, "/api/labs/router/status", Some(&ada))
        .await
        .json();
    assert_eq!(status["running"], false, "{status}");
    // The grade outlives the sandbox: it is in the gradebook, on disk.
    let kept = get(&c.app, "/api/labs/router/report", Some(&ada))
        .await
        .json();
    assert_eq!(passed(&kept), 2, "{kept}");
    assert_eq!(std::fs::read_dir(&state_dir).unwrap().count(), 0);
}
