//! How long the dashboard's `GET /api/workshop/grid` takes on a filled
//! gradebook: N learners (default 100) × 3 labs, every step checked a few
//! times (some failing first). Prints one JSON line.
//!
//! `cargo run --release -p layerlab-server --example dashboard_grid -- [N] [ROUNDS]`

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use layerlab_core::lab::{CheckResult, StepResult};
use layerlab_server::workshop::{Member, Plan, Workshop};
use layerlab_server::{AppState, router};
use std::time::Instant;
use tower::ServiceExt;

const PLAN: &str = r#"
title = "Grid bench"
chapters = ["linux"]
labs = ["router", "dnat", "masquerade"]
join_code = "GRID-BENCH-1"
max_learners = 1000
"#;

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
            message: "a message of ordinary length for a check".into(),
            mismatches: vec![],
            evidence: "default via 10.0.0.1 dev veth-c\n10.0.0.0/24 dev veth-c scope link\n"
                .repeat(4),
            hint: None,
        }],
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let plan = Plan::parse(PLAN, layerlab_lessons::course(), layerlab_labs::labs())
        .unwrap_or_else(|e| panic!("bench plan: {e}"));
    let w = Workshop::open(plan, &dir.path().join("data")).expect("workshop");
    let bearer = format!("Bearer {}", w.instructor_token());
    let book = w.book.clone();
    let labs: Vec<_> = ["router", "dnat", "masquerade"]
        .iter()
        .map(|id| {
            layerlab_labs::labs()
                .iter()
                .find(|l| &l.id == id)
                .expect("lab")
        })
        .collect();
    let mut attempts = 0;
    let t = Instant::now();
    for i in 0..n {
        let id = format!("l-{i:06}");
        book.add_member(&Member {
            id: id.clone(),
            name: format!("Learner {i}"),
            joined: 1,
        })
        .expect("member");
        for lab in &labs {
            for step in 1..=lab.steps.len() {
                // Learner i fails step s (i + s) % 3 times, then passes.
                let fails = (i + step) % 3;
                for k in 0..=fails {
                    book.record_check(
                        &id,
                        &lab.id,
                        &result(step, k == fails, 1_000 + k as u64),
                        None,
                    )
                    .expect("record");
                    attempts += 1;
                }
            }
        }
    }
    let fill_ms = t.elapsed().as_millis();
    let app = router(AppState::embedded().with_workshop(w));
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for _ in 0..rounds {
        let req = Request::get("/api/workshop/grid")
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .expect("request");
        let t = Instant::now();
        let res = app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::OK);
        bytes = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"learners\":{n},\"labs\":3,\"attempts\":{attempts},\"fill_ms\":{fill_ms},\"grid_bytes\":{bytes},\"grid_ms_median\":{:.2},\"grid_ms_max\":{:.2}}}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
