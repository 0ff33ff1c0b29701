//! The instructor's live view of the class: the dashboard page (plain
//! script and style from this origin), the grid of learners × lab steps
//! from the gradebook, live events over SSE, a learner's attempts with
//! their evidence, resetting a learner's sandbox, hints, and exports.
//! Everything here but a learner's own hints is for the instructor only.

use crate::AppState;
use crate::api::no_store;
use crate::error::{ApiError, shorten};
use crate::gradebook::{ClassEvent, GradebookError, Hint};
use crate::labs::{Lifecycle, blocking};
use crate::workshop::{Caller, Workshop};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use layerlab_core::lab::{ExportFormat, Lab, StepResult};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The dashboard's page, script and style (served from this origin, so a
/// CSP of `'self'` covers them).
const PAGE: &str = include_str!("../assets/instructor.html");
const SCRIPT: &str = include_str!("../assets/instructor.js");
const STYLE: &str = include_str!("../assets/instructor.css");

/// The dashboard's own policy: its script, its style, its API; nothing else.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Longest hint accepted (bytes).
const HINT_LIMIT: usize = 4000;

/// The workshop, if the caller is its instructor: 404 without a workshop,
/// 403 for a learner (anonymous callers were refused by the extractor).
fn instructor_only<'a>(state: &'a AppState, who: &Caller) -> Result<&'a Arc<Workshop>, ApiError> {
    let w = state
        .workshop
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "this server runs no workshop"))?;
    if *who != Caller::Instructor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the instructor sees the class dashboard",
        ));
    }
    Ok(w)
}

/// The workshop's labs, in its plan's order.
fn workshop_labs(w: &Workshop) -> Vec<Lab> {
    w.plan
        .labs
        .iter()
        .filter_map(|id| layerlab_labs::labs().iter().find(|l| &l.id == id).cloned())
        .collect()
}

/// Lab `id` of the workshop, or a 404.
fn workshop_lab(w: &Workshop, id: &str) -> Result<&'static Lab, ApiError> {
    layerlab_labs::labs()
        .iter()
        .find(|l| l.id == id && w.plan.has_lab(id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("lab `{}` is not part of this workshop", shorten(id)),
            )
        })
}

/// Learner `id` on the roster, or a 404.
fn known_learner(w: &Workshop, id: &str) -> Result<(), ApiError> {
    match w.member(id) {
        Some(_) => Ok(()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no learner `{}` in this workshop", shorten(id)),
        )),
    }
}

pub(crate) fn book_error(e: GradebookError) -> ApiError {
    tracing::error!(error = %e, "gradebook read failed");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the gradebook could not be read; try again in a moment",
    )
}

/// `GET /instructor` once signed in: the dashboard page.
pub(crate) fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            ),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /instructor/dashboard.js` and `.css`.
pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// `GET /instructor/dashboard.css`.
pub(crate) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}

/// A lab as the grid's columns show it.
#[derive(Debug, Serialize)]
struct GridLab {
    id: String,
    title: String,
    steps: Vec<String>,
}

/// One learner × step cell of the grid.
#[derive(Debug, Serialize)]
struct Cell {
    passed: bool,
    attempts: u32,
    first_ms: Option<u64>,
    last_ms: Option<u64>,
}

/// One learner's row: per lab id, one cell per step.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    name: String,
    joined: u64,
    labs: std::collections::BTreeMap<String, Vec<Cell>>,
    /// Quiz questions whose latest answer was right, of those answered.
    quiz_right: u32,
    quiz_answered: u32,
    lessons_read: u32,
}

/// What `GET /api/workshop/grid` answers.
#[derive(Debug, Serialize)]
struct Grid {
    title: String,
    join_code: String,
    labs: Vec<GridLab>,
    learners: Vec<Row>,
    /// The server's clock (ms since the Unix epoch), for "no progress for M minutes".
    now_ms: u64,
}

/// `GET /api/workshop/grid`: every learner × every step of the workshop's
/// labs, from the gradebook.
pub(crate) async fn grid(State(state): State<AppState>, who: Caller) -> Result<Response, ApiError> {
    let w = instructor_only(&state, &who)?.clone();
    let grid = blocking(move || build_grid(&w)).await??;
    Ok(no_store(Json(grid)))
}

fn build_grid(w: &Workshop) -> Result<Grid, ApiError> {
    let labs = workshop_labs(w);
    let report = w.book.class_report(&labs).map_err(book_error)?;
    let joined: std::collections::HashMap<String, u64> =
        w.roster().into_iter().map(|m| (m.id, m.joined)).collect();
    let learners = report
        .learners
        .into_iter()
        .map(|l| Row {
            joined: joined.get(&l.id).copied().unwrap_or(0),
            quiz_right: l.quizzes.iter().map(|q| q.right).sum(),
            quiz_answered: l.quizzes.iter().map(|q| q.answered).sum(),
            lessons_read: l.lessons_read,
            id: l.id,
            name: l.name,
            labs: l
                .labs
                .into_iter()
                .map(|lab| {
                    let cells = lab
                        .steps
                        .into_iter()
                        .map(|s| Cell {
                            passed: s.passed,
                            attempts: s.attempts,
                            first_ms: s.first_checked_ms,
                            last_ms: s.last_checked_ms,
                        })
                        .collect();
                    (lab.lab, cells)
                })
                .collect(),
        })
        .collect();
    Ok(Grid {
        title: w.plan.title.clone(),
        join_code: w.plan.join_code.clone(),
        labs: labs
            .iter()
            .map(|l| GridLab {
                id: l.id.clone(),
                title: l.title.clone(),
                steps: l.steps.iter().map(|s| s.title.clone()).collect(),
            })
            .collect(),
        learners,
        now_ms: crate::workshop::unix_now() * 1000,
    })
}

/// `GET /api/workshop/events`: an SSE stream of joins and check runs as
/// they are recorded. A dashboard that falls behind gets a `resync` event
/// (and should fetch the grid again) instead of slowing anyone down.
pub(crate) async fn events(
    State(state): State<AppState>,
    who: Caller,
) -> Result<Response, ApiError> {
    let w = instructor_only(&state, &who)?;
    let rx = w.book.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(e) => {
                let name = match &e {
                    ClassEvent::Check { .. } => "check",
                    ClassEvent::Join { .. } => "join",
                    ClassEvent::Quiz { .. } => "quiz",
                };
                Event::default()
                    .event(name)
                    .json_data(&e)
                    .unwrap_or_else(|_| Event::default().event("resync").data("encode"))
            }
            Err(RecvError::Lagged(n)) => Event::default().event("resync").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok::<_, Infallible>(event), rx))
    });
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// One recorded attempt, as the drill-down shows it.
#[derive(Debug, Serialize)]
struct Attempt {
    attempt: u32,
    result: StepResult,
    capture_summary: Option<String>,
}

/// One step of a learner's drill-down.
#[derive(Debug, Serialize)]
struct StepDetail {
    step: usize,
    title: String,
    attempts: Vec<Attempt>,
    /// First attempt → first pass (ms), if it passed.
    time_to_pass_ms: Option<u64>,
}

/// What the drill-down answers.
#[derive(Debug, Serialize)]
struct LearnerLab {
    id: String,
    name: String,
    lab: String,
    title: String,
    steps: Vec<StepDetail>,
}

/// `GET /api/workshop/learners/{id}/labs/{lab}`: every attempt of every
/// step, with its checks' messages, mismatches and evidence.
pub(crate) async fn learner_lab(
    State(state): State<AppState>,
    who: Caller,
    Path((id, lab)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let w = instructor_only(&state, &who)?.clone();
    let lab = workshop_lab(&w, &lab)?;
    let member = w.member(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no learner `{}` in this workshop", shorten(&id)),
        )
    })?;
    let detail = blocking(move || -> Result<LearnerLab, ApiError> {
        let steps = lab
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let attempts = w
                    .book
                    .attempts(&member.id, &lab.id, i + 1)
                    .map_err(book_error)?;
                let first = attempts.first().map(|a| a.result.checked_at_ms);
                let pass = attempts
                    .iter()
                    .find(|a| a.result.passed)
                    .map(|a| a.result.checked_at_ms);
                Ok(StepDetail {
                    step: i + 1,
                    title: s.title.clone(),
                    time_to_pass_ms: first.zip(pass).map(|(f, p)| p.saturating_sub(f)),
                    attempts: attempts
                        .into_iter()
                        .map(|a| Attempt {
                            attempt: a.attempt,
                            result: a.result,
                            capture_summary: a.capture_summary,
                        })
                        .collect(),
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(LearnerLab {
            id: member.id,
            name: member.name,
            lab: lab.id.clone(),
            title: lab.title.clone(),
            steps,
        })
    })
    .await??;
    Ok(no_store(Json(detail)))
}

/// `POST /api/workshop/learners/{id}/labs/{lab}/reset`: a fresh sandbox
/// for that learner; their open terminal on it is closed.
pub(crate) async fn reset(
    State(state): State<AppState>,
    who: Caller,
    headers: HeaderMap,
    Path((id, lab)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let w = instructor_only(&state, &who)?;
    state.guard(&headers)?;
    let lab = workshop_lab(w, &lab)?;
    known_learner(w, &id)?;
    let status = state
        .labs
        .lifecycle(&Caller::Learner(id.clone()), lab, Lifecycle::Reset)
        .await?;
    state
        .terminals
        .close(&crate::api::terminal_key(Some(&id), lab));
    Ok(no_store(Json(status)))
}

/// Body of `POST /api/workshop/learners/{id}/hints`.
#[derive(Debug, Deserialize)]
pub(crate) struct HintForm {
    lab: String,
    #[serde(default)]
    step: Option<usize>,
    text: String,
}

/// `POST /api/workshop/learners/{id}/hints`: reveals a hint to one learner.
pub(crate) async fn add_hint(
    State(state): State<AppState>,
    who: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let w = instructor_only(&state, &who)?.clone();
    state.guard(&headers)?;
    known_learner(&w, &id)?;
    let form: HintForm = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body must be {{\"lab\": \"...\", \"step\": N, \"text\": \"...\"}}: {e}"),
        )
    })?;
    let lab = workshop_lab(&w, &form.lab)?;
    if let Some(n) = form.step
        && (n == 0 || n > lab.steps.len())
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "lab `{}` has steps 1 to {}, not {n}",
                lab.id,
                lab.steps.len()
            ),
        ));
    }
    let text = form.text.trim().to_owned();
    if text.is_empty() || text.len() > HINT_LIMIT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("a hint needs text, at most {HINT_LIMIT} bytes"),
        ));
    }
    let hint = Hint {
        lab: lab.id.clone(),
        step: form.step,
        text,
        at_ms: layerlab_labs::runner::epoch_ms(),
    };
    let stored = hint.clone();
    blocking(move || w.book.add_hint(&id, &stored))
        .await?
        .map_err(book_error)?;
    Ok((StatusCode::CREATED, no_store(Json(hint))).into_response())
}

/// `GET /api/workshop/hints`: the hints revealed to the calling learner.
pub(crate) async fn my_hints(
    State(state): State<AppState>,
    who: Caller,
) -> Result<Response, ApiError> {
    let w = state
        .workshop
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "this server runs no workshop"))?;
    let Caller::Learner(id) = who else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "hints are a learner's own; the instructor sees them per learner",
        ));
    };
    let book = w.book.clone();
    let hints = blocking(move || book.hints(&id))
        .await?
        .map_err(book_error)?;
    Ok(no_store(Json(hints)))
}

/// Query of `GET /api/workshop/export`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET /api/workshop/export?format=csv|summary-csv|json|junit`: the class
/// report, as `layerlab workshop export` writes it.
pub(crate) async fn export(
    State(state): State<AppState>,
    who: Caller,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let w = instructor_only(&state, &who)?.clone();
    let name = q.format.unwrap_or_else(|| "csv".into());
    let format = ExportFormat::parse(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown format `{}`: use csv, summary-csv, json or junit",
                shorten(&name)
            ),
        )
    })?;
    let labs = workshop_labs(&w);
    let report = blocking(move || w.book.class_report(&labs))
        .await?
        .map_err(book_error)?;
    let text = report.export(format);
    let (kind, ext) = (format.mime(), format.extension());
    let disposition = format!("attachment; filename=\"workshop-{name}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).expect("ASCII"),
            ),
        ],
        text,
    )
        .into_response())
}
