//! Every endpoint through the real router (`oneshot`), good and bad input.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use layerlab_core::lab::{CheckKind, LabView};
use layerlab_core::{CourseOutline, Journey, Lesson};
use layerlab_server::assets::Asset;
use layerlab_server::{AppState, BODY_LIMIT, LabEngine, router};
use serde_json::Value;
use std::io::Read;
use std::sync::{Arc, LazyLock};
use tower::ServiceExt;

/// Built once: serializing the course is the slow part of a test.
static STATE: LazyLock<AppState> = LazyLock::new(AppState::embedded);

/// A small app, so asset serving is tested whether or not the real one is built.
static FAKE_APP: &[Asset] = &[
    Asset {
        path: "index.html",
        mime: "text/html; charset=utf-8",
        etag: "\"idx\"",
        etag_gzip: "\"idx-gzip\"",
        body:
            b"<!doctype html><title>app</title><script type=module src=/layerlab_app.js></script>",
        gzip: None,
    },
    Asset {
        path: "layerlab_app.js",
        mime: "text/javascript; charset=utf-8",
        etag: "\"js\"",
        etag_gzip: "\"js-gzip\"",
        body: b"export default function init() {}",
        gzip: None,
    },
    Asset {
        path: "layerlab_app_bg.wasm",
        mime: "application/wasm",
        etag: "\"wasm\"",
        etag_gzip: "\"wasm-gzip\"",
        body: b"\0asm\x01\0\0\0 identity bytes",
        gzip: Some(b"gzip bytes"),
    },
];

fn app() -> Router {
    router(STATE.clone())
}

fn app_with(assets: &'static [Asset]) -> Router {
    router(AppState {
        assets,
        ..STATE.clone()
    })
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/json",
            "status {}",
            self.status
        );
        serde_json::from_slice(&self.body).expect("valid JSON body")
    }

    /// The message of an API error, checking its shape on the way.
    fn error(&self) -> String {
        let v = self.json();
        let obj = v.as_object().expect("error is an object");
        assert_eq!(obj.len(), 1, "only `error`: {v}");
        obj["error"]
            .as_str()
            .expect("error is a string")
            .to_string()
    }
}

async fn send_to(app: Router, req: Request<Body>) -> Reply {
    let res = app.oneshot(req).await.expect("router is infallible");
    let (parts, body) = res.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.expect("body").to_bytes().to_vec(),
    }
}

async fn send(method: Method, uri: &str, body: Body) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .unwrap();
    send_to(app(), req).await
}

async fn get(uri: &str) -> Reply {
    send(Method::GET, uri, Body::empty()).await
}

async fn get_with(uri: &str, name: header::HeaderName, value: &str) -> Reply {
    let req = Request::get(uri)
        .header(name, value)
        .body(Body::empty())
        .unwrap();
    send_to(app(), req).await
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn health_reports_ok_and_version() {
    let r = get("/api/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn outside_a_workshop_the_workshop_is_no_content() {
    // The app asks on every load: not an error, so nothing in the console.
    let r = get("/api/workshop").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn course_is_the_outline_with_validators_and_security_headers() {
    let r = get("/api/course").await;
    assert_eq!(r.status, StatusCode::OK);
    let outline: CourseOutline = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(outline, layerlab_lessons::course().outline());
    assert!(!outline.chapters.is_empty());
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache");
    assert!(r.headers.get(header::CONTENT_ENCODING).is_none());
    let etag = r.headers[header::ETAG].to_str().unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{csp}");
    // Inline styles are allowed (the lab terminal's xterm.js), inline
    // scripts never.
    let scripts = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .expect("a script-src");
    assert!(!scripts.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
}

/// GETs `uri` asking for the app's binary encoding.
async fn get_postcard<T: serde::de::DeserializeOwned>(uri: &str) -> T {
    let r = get_with(uri, header::ACCEPT, "application/postcard").await;
    assert_eq!(r.status, StatusCode::OK, "{uri}");
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/postcard",
        "{uri}"
    );
    // The app asks by query, so its preloaded response is the same one.
    let by_query = get(&format!("{uri}?format=postcard")).await;
    assert_eq!(by_query.body, r.body, "{uri}");
    postcard::from_bytes(&r.body).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

#[tokio::test]
async fn postcard_documents_decode_to_the_same_values_as_json() {
    let outline: CourseOutline = get_postcard("/api/course").await;
    let json: CourseOutline = serde_json::from_slice(&get("/api/course").await.body).unwrap();
    assert_eq!(outline, json);
    let lesson = &outline.chapters[0].lessons[0].id;
    let uri = format!("/api/lessons/{lesson}");
    let pc: Lesson = get_postcard(&uri).await;
    let json: Lesson = serde_json::from_slice(&get(&uri).await.body).unwrap();
    assert_eq!(pc, json);
    for j in layerlab_lessons::journeys() {
        let pc: Journey = get_postcard(&format!("/api/journeys/{}", j.id)).await;
        assert_eq!(&pc, j);
    }
    for l in layerlab_labs::labs() {
        let pc: LabView = get_postcard(&format!("/api/labs/{}", l.id)).await;
        assert_eq!(pc, LabView::of(l));
    }
    // Each encoding has its own validator, so caches never mix them up.
    let a = get_with("/api/course", header::ACCEPT, "application/postcard").await;
    let b = get("/api/course").await;
    assert_ne!(a.headers[header::ETAG], b.headers[header::ETAG]);
    assert!(a.body.len() < b.body.len(), "postcard is the smaller one");
}

#[tokio::test]
async fn course_gzip_decodes_to_the_same_json() {
    let plain = get("/api/course").await;
    let gz = get_with("/api/course", header::ACCEPT_ENCODING, "br, gzip").await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gz.headers[header::VARY], "accept, accept-encoding");
    assert!(
        gz.body.len() < plain.body.len() / 2,
        "gzip should shrink JSON"
    );
    assert_eq!(gunzip(&gz.body), plain.body);
    assert_ne!(gz.headers[header::ETAG], plain.headers[header::ETAG]);
    // q=0 is a refusal.
    let refused = get_with("/api/course", header::ACCEPT_ENCODING, "gzip;q=0").await;
    assert!(refused.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(refused.body, plain.body);
}

#[tokio::test]
async fn unchanged_course_is_a_304_without_body() {
    let first = get("/api/course").await;
    let etag = first.headers[header::ETAG].to_str().unwrap().to_string();
    let again = get_with("/api/course", header::IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.headers[header::ETAG].to_str().unwrap(), etag);
    let stale = get_with("/api/course", header::IF_NONE_MATCH, "\"old\"").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, first.body);
}

#[tokio::test]
async fn head_gives_headers_only() {
    let r = send(Method::HEAD, "/api/course", Body::empty()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn every_lesson_is_served_whole() {
    let course = layerlab_lessons::course();
    let mut served = 0;
    for expected in course.lessons() {
        let r = get(&format!("/api/lessons/{}", expected.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", expected.id);
        let lesson: Lesson = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(&lesson, expected);
        served += 1;
    }
    assert_eq!(served, course.lessons().count());
    assert!(served > 0);
}

#[tokio::test]
async fn journeys_index_and_each_journey() {
    let expected = layerlab_lessons::journeys();
    let r = get("/api/journeys").await;
    assert_eq!(r.status, StatusCode::OK);
    let index = r.json();
    let index = index.as_array().expect("a list");
    assert_eq!(index.len(), expected.len());
    for (entry, journey) in index.iter().zip(expected) {
        assert_eq!(
            entry,
            &serde_json::json!({"id": journey.id, "title": journey.title, "summary": journey.summary})
        );
        let r = get(&format!("/api/journeys/{}", journey.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", journey.id);
        let got: Journey = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(&got, journey);
    }
}

#[tokio::test]
async fn unknown_ids_are_404_naming_the_id() {
    for (uri, kind) in [
        ("/api/lessons/no-such-lesson", "lesson"),
        ("/api/journeys/no-such-journey", "journey"),
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        let msg = r.error();
        assert!(msg.contains(kind) && msg.contains("no-such"), "{msg}");
    }
    // Encoded path tricks are just ids that name nothing.
    let r = get("/api/lessons/..%2F..%2Fetc%2Fpasswd").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error().contains("../../etc/passwd"));
}

#[tokio::test]
async fn huge_ids_are_not_echoed_whole() {
    let id = "x".repeat(5000);
    let r = get(&format!("/api/lessons/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let msg = r.error();
    assert!(msg.len() < 200, "{} bytes", msg.len());
}

#[tokio::test]
async fn invalid_utf8_in_a_path_is_a_400() {
    let r = get("/api/lessons/%ff%fe").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.error().is_empty());
}

#[tokio::test]
async fn labs_index_and_learner_views_hide_expected_answers() {
    let index = get("/api/labs").await;
    assert_eq!(index.status, StatusCode::OK);
    let index = index.json();
    let entries = index.as_array().expect("an array");
    assert_eq!(entries.len(), layerlab_labs::labs().len());
    for (entry, lab) in entries.iter().zip(layerlab_labs::labs()) {
        assert_eq!(entry["id"], lab.id.as_str());
        assert_eq!(entry["steps"], lab.steps.len());
        let r = get(&format!("/api/labs/{}", lab.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", lab.id);
        let view: LabView = serde_json::from_slice(&r.body).expect("a LabView");
        assert_eq!(view, LabView::of(lab));
        // Answer checks' expected values stay on the server.
        let text = String::from_utf8_lossy(&r.body);
        for step in &lab.steps {
            for c in &step.checks {
                if let CheckKind::Answer(a) = &c.kind {
                    assert!(
                        !text.contains(&a.expected),
                        "{} leaks {}",
                        lab.id,
                        a.expected
                    );
                }
            }
        }
    }
    let handshake: LabView =
        serde_json::from_slice(&get("/api/labs/handshake").await.body).unwrap();
    assert!(handshake.steps.iter().any(|s| s.question.is_some()));
}

#[tokio::test]
async fn unknown_labs_and_steps_are_404_naming_them() {
    for (method, uri, needle) in [
        (Method::GET, "/api/labs/bridge-lab", "bridge-lab"),
        (Method::GET, "/api/labs/bridge-lab/status", "bridge-lab"),
        (Method::POST, "/api/labs/bridge-lab/start", "bridge-lab"),
        (
            Method::POST,
            "/api/labs/bridge-lab/steps/2/check",
            "bridge-lab",
        ),
        (
            Method::POST,
            "/api/labs/bridge-lab/steps/2/solve",
            "bridge-lab",
        ),
        (Method::GET, "/api/labs/bridge-lab/report", "bridge-lab"),
        (
            Method::POST,
            "/api/labs/handshake/steps/99/check",
            "steps 1 to 5, not 99",
        ),
        (
            Method::POST,
            "/api/labs/handshake/steps/6/solve",
            "steps 1 to 5, not 6",
        ),
    ] {
        let r = send(method.clone(), uri, Body::empty()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {uri}");
        let msg = r.error();
        assert!(msg.contains(needle), "{uri}: {msg}");
    }
}

#[tokio::test]
async fn capture_journeys_name_what_is_missing() {
    for (uri, status, needle) in [
        (
            "/api/labs/handshake/steps/3/checks/9/journey",
            StatusCode::NOT_FOUND,
            "checks 1 to",
        ),
        (
            "/api/labs/handshake/steps/3/checks/x/journey",
            StatusCode::BAD_REQUEST,
            "check must be",
        ),
        (
            "/api/labs/handshake/steps/0/checks/1/journey",
            StatusCode::BAD_REQUEST,
            "step must be",
        ),
        (
            "/api/labs/nope/steps/1/checks/1/journey",
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            "/api/labs/k8s-pod-network/steps/1/checks/1/journey",
            StatusCode::NOT_FOUND,
            "run that step's check first",
        ),
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, status, "{uri}");
        let msg = r.error();
        assert!(msg.contains(needle), "{uri}: {msg}");
    }
}

#[tokio::test]
async fn lab_actions_from_other_sites_are_refused() {
    let post = |uri: &str, name: &'static str, value: &str| {
        Request::post(uri)
            .header(header::HOST, "127.0.0.1:8080")
            .header(name, value)
            .body(Body::empty())
            .unwrap()
    };
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example"),
        ("origin", "http://127.0.0.1:9999"),
    ] {
        for uri in [
            "/api/labs/handshake/start",
            "/api/labs/handshake/steps/1/check",
            "/api/labs/handshake/steps/1/solve",
            "/api/labs/handshake/console",
            "/api/labs/handshake/reset",
            "/api/labs/handshake/stop",
        ] {
            let r = send_to(app(), post(uri, name, value)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri} {name}: {value}");
            assert!(r.error().contains("this server"), "{uri}");
        }
    }
    // A loopback server answers only to loopback names (DNS rebinding).
    let loopback = router(AppState {
        allowed_hosts: Some(["localhost".to_string(), "127.0.0.1".to_string()].into()),
        ..STATE.clone()
    });
    let rebound = Request::post("/api/labs/handshake/start")
        .header(header::HOST, "rebind.example:8080")
        .header("sec-fetch-site", "same-origin")
        .header(header::ORIGIN, "http://rebind.example:8080")
        .body(Body::empty())
        .unwrap();
    let r = send_to(loopback, rebound).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error().contains("rebind.example"), "names the host");
}

#[tokio::test]
async fn with_labs_turned_off_runs_are_503_and_views_still_work() {
    let off = || {
        router(AppState {
            labs: Arc::new(LabEngine::new(false, None)),
            ..STATE.clone()
        })
    };
    for uri in [
        "/api/labs/handshake/start",
        "/api/labs/handshake/steps/1/check",
        "/api/labs/handshake/steps/1/solve",
        "/api/labs/handshake/reset",
    ] {
        let r = send_to(off(), Request::post(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(r.error().contains("--no-labs"), "{uri}");
    }
    let console = Request::post("/api/labs/handshake/console")
        .body(Body::from(r#"{"command": "ip netns"}"#))
        .unwrap();
    assert_eq!(
        send_to(off(), console).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let view = send_to(
        off(),
        Request::get("/api/labs/handshake")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(view.status, StatusCode::OK);
}

/// The hole this closes: a server bound to a network address with labs on
/// gave anyone who could reach it a shell as the server's user (root when
/// run as root): `touch /root/x`, `head -1 /etc/shadow` through the console.
#[tokio::test]
async fn a_server_reachable_from_the_network_refuses_lab_runs() {
    let root_marker = std::path::Path::new("/root/layerlab-must-not-exist");
    for bind in ["0.0.0.0", "192.0.2.10", "::"] {
        let app = || {
            router(AppState {
                labs: Arc::new(LabEngine::for_server(
                    true,
                    bind.parse().unwrap(),
                    None,
                    None,
                )),
                ..STATE.clone()
            })
        };
        let console = Request::post("/api/labs/handshake/console")
            .body(Body::from(format!(
                r#"{{"command": "touch {}; head -1 /etc/shadow"}}"#,
                root_marker.display()
            )))
            .unwrap();
        let r = send_to(app(), console).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{bind}");
        assert!(
            r.error().contains("reachable from the network") && r.error().contains(bind),
            "{bind}: {}",
            r.error()
        );
        for uri in [
            "/api/labs/handshake/start",
            "/api/labs/handshake/steps/1/check",
            "/api/labs/handshake/steps/1/solve",
        ] {
            let r = send_to(app(), Request::post(uri).body(Body::empty()).unwrap()).await;
            assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{bind} {uri}");
        }
    }
    assert!(!root_marker.exists(), "the console ran on the host");
    // Loopback keeps its labs.
    let local = LabEngine::for_server(true, "127.0.0.1".parse().unwrap(), None, None);
    assert!(format!("{local:?}").contains("refused: None"), "{local:?}");
}

#[tokio::test]
async fn bad_console_and_answer_bodies_are_4xx() {
    let long = format!(r#"{{"command": "{}"}}"#, "x".repeat(5000));
    for (uri, body, status, needle) in [
        (
            "/api/labs/handshake/console",
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
            "command",
        ),
        (
            "/api/labs/handshake/console",
            r#"{"command": "  "}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "command",
        ),
        (
            "/api/labs/handshake/console",
            r#"{"command": 7}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "command",
        ),
        (
            "/api/labs/handshake/console",
            &long,
            StatusCode::UNPROCESSABLE_ENTITY,
            "4096",
        ),
        (
            "/api/labs/handshake/console",
            "{oops",
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "/api/labs/handshake/steps/5/check",
            r#"{"answer": [1]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "answer",
        ),
        (
            "/api/labs/handshake/steps/5/check",
            r#"{"answer": {}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "answer",
        ),
    ] {
        let r = send(Method::POST, uri, Body::from(body.to_string())).await;
        assert_eq!(r.status, status, "{uri} {body:.40}");
        let msg = r.error();
        assert!(msg.contains(needle), "{uri}: {msg}");
    }
}

#[tokio::test]
async fn reports_come_in_three_formats_and_count_unchecked_steps_as_failed() {
    let r = get("/api/labs/router/report?learner=Ada%20L").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("layerlab-router-report.json")
    );
    let report = r.json();
    assert_eq!(report["learner"], "Ada L");
    assert_eq!(report["score"], 0);
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(
        steps.len(),
        layerlab_labs::find("router").unwrap().steps.len()
    );
    assert!(steps.iter().all(|s| s["passed"] == false));
    let junit = get("/api/labs/router/report?format=junit").await;
    assert_eq!(junit.status, StatusCode::OK);
    assert_eq!(junit.headers[header::CONTENT_TYPE], "application/xml");
    assert!(String::from_utf8_lossy(&junit.body).contains("<testsuites"));
    let csv = get("/api/labs/router/report?format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bad = get("/api/labs/router/report?format=pdf").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("pdf"));
}

#[tokio::test]
async fn bad_check_requests_are_4xx_before_the_engine_is_asked() {
    let cases = [
        (
            "/api/labs/l/steps/abc/check",
            "{}",
            StatusCode::BAD_REQUEST,
            "step",
        ),
        (
            "/api/labs/l/steps/0/check",
            "{}",
            StatusCode::BAD_REQUEST,
            "step",
        ),
        (
            "/api/labs/l/steps/-1/check",
            "{}",
            StatusCode::BAD_REQUEST,
            "step",
        ),
        (
            "/api/labs/l/steps/99999999999/check",
            "{}",
            StatusCode::BAD_REQUEST,
            "step",
        ),
        (
            "/api/labs/l/steps/1/check",
            "{bad",
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "/api/labs/l/steps/1/check",
            "{\"a\":",
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "/api/labs/l/steps/1/check",
            "[1, 2]",
            StatusCode::UNPROCESSABLE_ENTITY,
            "JSON object",
        ),
        (
            "/api/labs/l/steps/1/check",
            "\"text\"",
            StatusCode::UNPROCESSABLE_ENTITY,
            "JSON object",
        ),
    ];
    for (uri, body, status, needle) in cases {
        let r = send(Method::POST, uri, Body::from(body)).await;
        assert_eq!(r.status, status, "{uri} {body:?}");
        let msg = r.error();
        assert!(msg.contains(needle), "{uri} {body:?}: {msg}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_declared_or_streamed() {
    let big = vec![b' '; BODY_LIMIT + 1];
    let declared = Request::post("/api/labs/l/steps/1/check")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let r = send_to(app(), declared).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.error().contains(&BODY_LIMIT.to_string()));
    // Without Content-Length the limit bites while reading.
    let chunks = big
        .chunks(4096)
        .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
        .collect::<Vec<_>>();
    let streamed = Request::post("/api/labs/l/steps/1/check")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let r = send_to(app(), streamed).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!r.error().is_empty());
    // Just under the limit is read (and then refused for what it is).
    let fits = send(
        Method::POST,
        "/api/labs/l/steps/1/check",
        Body::from(vec![b' '; BODY_LIMIT]),
    )
    .await;
    assert_eq!(fits.status, StatusCode::NOT_FOUND, "read, then no lab `l`");
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_408() {
    // One chunk, then nothing: the body timeout fires (time is paused, so
    // the test does not wait for it).
    let stalled = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("{"))])
        .chain(futures_util::stream::pending());
    let req = Request::post("/api/labs/l/steps/1/check")
        .body(Body::from_stream(stalled))
        .unwrap();
    let r = send_to(app(), req).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert!(r.error().contains("too long"));
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let cases = [
        (Method::POST, "/api/course"),
        (Method::DELETE, "/api/lessons/layers"),
        (Method::PUT, "/api/health"),
        (Method::PATCH, "/api/journeys"),
        (Method::GET, "/api/labs/l/steps/1/check"),
        (Method::POST, "/"),
        (Method::DELETE, "/lesson/layers"),
    ];
    for (method, uri) in cases {
        let r = send(method.clone(), uri, Body::empty()).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(r.headers.contains_key(header::ALLOW), "{method} {uri}");
        let msg = r.error();
        assert!(msg.contains(method.as_str()), "{msg}");
    }
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    for uri in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/lessons",
        "/api/lessons/",
        "/api/course/extra",
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!r.error().is_empty(), "{uri}");
        // Rewritten errors keep the security headers.
        assert!(r.headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

#[tokio::test]
async fn client_routes_get_the_app_and_files_their_type() {
    let app = || app_with(FAKE_APP);
    for route in [
        "/",
        "/lesson/layers",
        "/journey/dnat",
        "/glossary",
        "/lab/bridge-lab",
    ] {
        let r = send_to(app(), Request::get(route).body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK, "{route}");
        assert_eq!(r.body, FAKE_APP[0].body, "{route}");
        assert_eq!(r.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache");
    }
    let wasm = send_to(
        app(),
        Request::get("/layerlab_app_bg.wasm")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(wasm.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(wasm.body, FAKE_APP[2].body);
    let gz = send_to(
        app(),
        Request::get("/layerlab_app_bg.wasm")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gz.headers[header::ETAG], FAKE_APP[2].etag_gzip);
    assert_eq!(gz.body, FAKE_APP[2].gzip.unwrap());
    let cached = send_to(
        app(),
        Request::get("/layerlab_app.js")
            .header(header::IF_NONE_MATCH, FAKE_APP[1].etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let missing = send_to(app(), Request::get("/nope.js").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.error().contains("/nope.js"));
}

#[tokio::test]
async fn without_a_built_app_the_page_says_how_to_build_it() {
    for route in ["/", "/lesson/layers"] {
        let r = send_to(
            app_with(&[]),
            Request::get(route).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = String::from_utf8(r.body).unwrap();
        assert!(
            page.to_lowercase().contains("the web app is not built"),
            "{page}"
        );
        assert!(page.contains("cargo xtask web"), "{page}");
    }
    // The API does not depend on the app.
    let r = send_to(
        app_with(&[]),
        Request::get("/api/health").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn embedded_assets_are_sorted_and_typed() {
    let assets = layerlab_server::assets::ASSETS;
    assert!(assets.windows(2).all(|w| w[0].path < w[1].path));
    for a in assets {
        if a.path.ends_with(".wasm") {
            assert_eq!(a.mime, "application/wasm");
        }
        if let Some(gz) = a.gzip {
            assert_eq!(gunzip(gz), a.body, "{}", a.path);
        }
    }
}

#[test]
fn state_is_cheap_to_share() {
    let a = STATE.clone();
    assert!(Arc::ptr_eq(&a.content, &STATE.content));
}

/// A router whose learner progress lives in a fresh folder.
fn app_with_learners(tag: &str) -> (Router, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("layerlab-learners-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let app = router(AppState {
        learners: Some(Arc::new(layerlab_server::learners::Learners::new(
            dir.clone(),
        ))),
        ..STATE.clone()
    });
    (app, dir)
}

async fn post_progress(app: Router, name: &str, body: &str) -> Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/learners/{name}/progress"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send_to(app, req).await
}

#[tokio::test]
async fn learner_progress_is_merged_kept_and_listed() {
    let (app, dir) = app_with_learners("merge");
    let laptop = r#"{"version":1,"lessons":{"tcp":{"read_at":20,"quiz":{"best":3,"last":3,"total":7,"attempts":1,"last_at":21}}}}"#;
    let tablet = r#"{"version":1,"lessons":{"osi":{"read_at":5}},"labs":{"handshake":{"steps":{"1":{"passed_at":30,"attempts":2}}}}}"#;

    let r = post_progress(app.clone(), "ada", laptop).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = post_progress(app.clone(), "ada", tablet).await;
    assert_eq!(r.status, StatusCode::OK);
    let merged = r.json();
    assert_eq!(merged["lessons"]["tcp"]["quiz"]["best"], 3);
    assert_eq!(merged["lessons"]["osi"]["read_at"], 5);
    assert_eq!(merged["labs"]["handshake"]["steps"]["1"]["attempts"], 2);

    // Kept on disk in the tutor's format, and answered on GET.
    let stored = std::fs::read_to_string(dir.join("ada.json")).unwrap();
    let stored = layerlab_core::progress::Progress::from_json(&stored).unwrap();
    assert!(stored.is_read("tcp") && stored.is_read("osi"));
    let req = Request::get("/api/learners/ada/progress")
        .body(Body::empty())
        .unwrap();
    let r = send_to(app.clone(), req).await;
    assert_eq!(r.json(), merged);

    // A learner the server has not seen yet starts empty.
    let req = Request::get("/api/learners/bob/progress")
        .body(Body::empty())
        .unwrap();
    let r = send_to(app.clone(), req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["lessons"], serde_json::json!({}));

    let req = Request::get("/api/learners").body(Body::empty()).unwrap();
    let r = send_to(app, req).await;
    assert_eq!(
        r.json(),
        serde_json::json!([{"name": "ada", "lessons_read": 2, "quizzes_taken": 1, "lab_steps_passed": 1}])
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn learner_progress_refuses_bad_input_and_says_when_it_is_off() {
    // Off unless the server was started with --learners.
    let r = get("/api/learners/ada/progress").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error().contains("--learners"), "{}", r.error());

    let (app, dir) = app_with_learners("bad");
    for name in ["..", ".hidden", "a%2Fb", "x%20y"] {
        let r = post_progress(app.clone(), name, r#"{"version":1}"#).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(r.error().contains("not a learner name"), "{}", r.error());
    }
    let long = "a".repeat(65);
    let r = post_progress(app.clone(), &long, r#"{"version":1}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = post_progress(app.clone(), "ada", "{not json").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().contains("not valid progress"), "{}", r.error());
    let r = post_progress(app.clone(), "ada", r#"{"version":99}"#).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().contains("newer layerlab"), "{}", r.error());

    // A cross-site page cannot write someone's progress.
    let req = Request::post("/api/learners/ada/progress")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(r#"{"version":1}"#))
        .unwrap();
    assert_eq!(
        send_to(app.clone(), req).await.status,
        StatusCode::FORBIDDEN
    );

    // A damaged file on the server is named, and not overwritten.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ada.json"), "garbage").unwrap();
    let r = post_progress(app, "ada", r#"{"version":1}"#).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.error().contains("ada.json"), "{}", r.error());
    assert_eq!(
        std::fs::read_to_string(dir.join("ada.json")).unwrap(),
        "garbage"
    );
    assert!(!r.body.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
