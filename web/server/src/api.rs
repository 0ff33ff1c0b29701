//! The JSON API handlers (`/api/...`); see `docs/web-api.md`.

use crate::error::{ApiError, shorten};
use crate::labs::{CheckEvent, Lifecycle};
use crate::workshop::Caller;
use crate::{AppState, JsonDoc};
use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use layerlab_core::lab::Lab;
use layerlab_labs::run::Pace;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::error::Category;
use std::collections::HashMap;
use std::time::Duration;
use tower_http::timeout::TimeoutError;

/// Body of `GET /api/health`.
#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

pub(crate) async fn health() -> Response {
    // Never cached: a probe must see the live server.
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
        }),
    )
        .into_response()
}

pub(crate) async fn course(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    state.content.course.respond(&headers, query.as_deref())
}

pub(crate) async fn lesson(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    one_of(&state.content.lessons, "lesson", &id, &headers, query)
}

/// `POST /api/lessons/{id}/quiz/{n}` with a core `Response` as JSON
/// (`{"choices":[0,2]}`, `{"text":"…"}`, `{"number":1460}`): the server's
/// grade of question `n` (from 1), by the same `Question::grade` as the
/// tutor. In a workshop the learner's answer and its grade go to the
/// gradebook before the answer is sent; the instructor answers no quizzes.
pub(crate) async fn quiz_answer(
    State(state): State<AppState>,
    who: Caller,
    Path((id, n)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    let n = parse_number("question", &n)?;
    let body = body.map_err(body_error)?;
    let response: layerlab_core::Response = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the body must be an answer: {{\"choices\":[…]}}, {{\"text\":\"…\"}} or {{\"number\":…}} ({e})"
            ),
        )
    })?;
    let quiz = state
        .content
        .quizzes
        .get(&id)
        .ok_or_else(|| ApiError::not_found("lesson", &id))?;
    let question = quiz.get(n as usize - 1).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("lesson `{id}` has {} quiz questions, not {n}", quiz.len()),
        )
    })?;
    let grade = question.grade(&response);
    match (&who, &state.workshop) {
        (Caller::Instructor, _) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "quizzes are the learners' to answer",
            ));
        }
        (Caller::Learner(learner), Some(w)) => {
            let answer = crate::gradebook::QuizAnswer {
                learner: learner.clone(),
                lesson: id,
                question: n - 1,
                answer: serde_json::to_string(&response).unwrap_or_default(),
                score: u32::from(grade.correct),
                at_ms: layerlab_labs::runner::epoch_ms(),
            };
            let book = w.book.clone();
            crate::labs::blocking(move || book.record_quiz(&answer))
                .await?
                .map_err(|e| {
                    tracing::warn!(error = %e, "a quiz answer could not be recorded");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the server could not record this answer; send it again in a moment",
                    )
                })?;
        }
        _ => {}
    }
    Ok(no_store(Json(grade)))
}

pub(crate) async fn journeys(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    state
        .content
        .journey_index
        .respond(&headers, query.as_deref())
}

pub(crate) async fn journey(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    one_of(&state.content.journeys, "journey", &id, &headers, query)
}

pub(crate) async fn labs(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    state.content.lab_index.respond(&headers, query.as_deref())
}

pub(crate) async fn lab(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    one_of(&state.content.labs, "lab", &id, &headers, query)
}

/// The document with this id, or a 404 naming the kind and the id.
fn one_of(
    docs: &HashMap<String, JsonDoc>,
    kind: &str,
    id: &str,
    headers: &HeaderMap,
    query: Option<String>,
) -> Response {
    match docs.get(id) {
        Some(doc) => doc.respond(headers, query.as_deref()),
        None => ApiError::not_found(kind, id).into_response(),
    }
}

/// The lab with this id, or a 404 naming it.
fn find_lab(id: &str) -> Result<&'static Lab, ApiError> {
    layerlab_labs::labs()
        .iter()
        .find(|l| l.id == id)
        .ok_or_else(|| ApiError::not_found("lab", id))
}

/// The lab `id` for a run by `who`: in a workshop only its labs, and only
/// while it is open (the instructor may try labs at any time).
fn lab_for(state: &AppState, who: &Caller, id: &str) -> Result<&'static Lab, ApiError> {
    let lab = find_lab(id)?;
    if let Some(w) = &state.workshop {
        if !w.plan.has_lab(id) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("lab `{}` is not part of this workshop", shorten(id)),
            ));
        }
        if *who != Caller::Instructor
            && let Some(why) = w.plan.closed_at(crate::workshop::unix_now())
        {
            return Err(ApiError::new(StatusCode::FORBIDDEN, why));
        }
    }
    Ok(lab)
}

/// Step `n` (1-based) of `lab`, or a 404 saying which steps exist.
fn check_step(lab: &Lab, n: u32) -> Result<usize, ApiError> {
    let n = n as usize;
    if n <= lab.steps.len() {
        Ok(n)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "lab `{}` has steps 1 to {}, not {n}",
                lab.id,
                lab.steps.len()
            ),
        ))
    }
}

/// `GET /api/labs/{id}/status`: whether its sandbox runs; starts nothing.
pub(crate) async fn lab_status(
    State(state): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lab = lab_for(&state, &who, &id)?;
    Ok(no_store(Json(state.labs.status(&who, lab).await)))
}

/// `GET /api/labs/{id}/terminal`: a WebSocket to a shell in the lab's
/// sandbox (protocol in docs/web-api.md). Browsers do not apply CORS to
/// WebSockets, so the cross-site guard runs before the upgrade.
pub(crate) async fn terminal(
    State(state): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    state.labs.ensure_enabled()?;
    let lab = lab_for(&state, &who, &id)?;
    let ws = ws.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let term = state
        .terminals
        .open(&terminal_key(who.learner(), lab), || {
            state.labs.shell(&who, lab)
        })
        .await?;
    Ok(crate::terminal::upgrade(ws, term))
}

/// The terminal session of `learner`'s (or the single user's) `lab`.
pub(crate) fn terminal_key(learner: Option<&str>, lab: &Lab) -> String {
    match learner {
        Some(l) => format!("{l}/{}", lab.id),
        None => lab.id.clone(),
    }
}

/// `POST /api/labs/{id}/start`.
pub(crate) async fn lab_start(
    state: State<AppState>,
    who: Caller,
    id: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    lifecycle(state, who, id, headers, Lifecycle::Start).await
}

/// `POST /api/labs/{id}/stop`.
pub(crate) async fn lab_stop(
    state: State<AppState>,
    who: Caller,
    id: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    lifecycle(state, who, id, headers, Lifecycle::Stop).await
}

/// `POST /api/labs/{id}/reset`.
pub(crate) async fn lab_reset(
    state: State<AppState>,
    who: Caller,
    id: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    lifecycle(state, who, id, headers, Lifecycle::Reset).await
}

async fn lifecycle(
    State(state): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    action: Lifecycle,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    let lab = lab_for(&state, &who, &id)?;
    let status = state.labs.lifecycle(&who, lab, action).await?;
    if action != Lifecycle::Start {
        // The old sandbox's shell is gone with it: say so to its page now.
        state.terminals.close(&terminal_key(who.learner(), lab));
    }
    Ok(no_store(Json(status)))
}

/// `POST /api/labs/{id}/steps/{n}/check`: the request is validated in full
/// (step number, body, lab, step range) before the engine is asked, so a
/// client learns about its own mistakes with a 4xx whatever the engine's
/// state. The answer is a stream of `check` events, then one `step` (or
/// `error`) event.
pub(crate) async fn check(
    State(state): State<AppState>,
    who: Caller,
    Path((id, step)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    let step = parse_step(&step)?;
    let body = body.map_err(body_error)?;
    let request = parse_body(&body)?;
    // Only the server decides a result: a body that carries anything but
    // the learner's answer and the pace is refused, not half-read.
    if let Some(key) = request
        .keys()
        .find(|k| !["answer", "quick"].contains(&k.as_str()))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "unknown field `{}`: a check's result is decided by the server; send only `answer` and `quick`",
                shorten(key)
            ),
        ));
    }
    let answer = match request.get("answer") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`answer` must be a string or a number",
            ));
        }
    };
    // `"quick": true` observes every check once instead of waiting out
    // their timeouts (a live checklist's look).
    let pace = match request.get("quick") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Pace::Full,
        Some(Value::Bool(true)) => Pace::Quick,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`quick` must be true or false",
            ));
        }
    };
    let lab = lab_for(&state, &who, &id)?;
    let step = check_step(lab, step)?;
    state.labs.ensure_enabled()?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    // Typing in the lab's terminal may have changed the sandbox.
    let typed_ms = state
        .terminals
        .idle_for(&terminal_key(who.learner(), lab))
        .map(|idle| layerlab_labs::runner::epoch_ms().saturating_sub(idle.as_millis() as u64));
    tokio::spawn(
        state
            .labs
            .clone()
            .check(who, lab, step, answer, pace, typed_ms, tx),
    );
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let e = rx.recv().await?;
        let name = match &e {
            CheckEvent::Check { .. } => "check",
            CheckEvent::Step { .. } => "step",
            CheckEvent::Error { .. } => "error",
        };
        let event = Event::default()
            .event(name)
            .json_data(&e)
            .unwrap_or_else(|_| Event::default().event("error"));
        Some((Ok::<_, std::convert::Infallible>(event), rx))
    });
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Reverse proxies must pass events on as they come.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// `POST /api/labs/{id}/steps/{n}/solve`.
pub(crate) async fn solve(
    State(state): State<AppState>,
    who: Caller,
    Path((id, step)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    let step = parse_step(&step)?;
    let lab = lab_for(&state, &who, &id)?;
    let step = check_step(lab, step)?;
    state.labs.solve(&who, lab, step).await?;
    Ok(no_store(Json(serde_json::json!({
        "lab": lab.id,
        "step": step,
        "applied": lab.steps[step - 1].solution,
    }))))
}

/// `GET /api/labs/{id}/steps/{n}/checks/{m}/journey`: the packets a
/// capture check recorded on its last run, as a journey (JSON or postcard).
pub(crate) async fn capture_journey(
    State(state): State<AppState>,
    who: Caller,
    Path((id, step, check)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let step = parse_step(&step)?;
    let check = parse_number("check", &check)? as usize;
    let lab = lab_for(&state, &who, &id)?;
    let step = check_step(lab, step)?;
    let checks = lab.steps[step - 1].checks.len();
    if check > checks {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "step {step} of `{}` has checks 1 to {checks}, not {check}",
                lab.id
            ),
        ));
    }
    let journey = state.labs.capture_journey(&who, lab, step, check).await?;
    let mut res = JsonDoc::new(&journey).respond(&headers, query.as_deref());
    // A new check run replaces the capture: never cache it.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Longest console command accepted.
const COMMAND_LIMIT: usize = 4096;

/// `POST /api/labs/{id}/console` with `{"command": "..."}`: runs it in the
/// sandbox and answers its exit code and (cut) output.
pub(crate) async fn console(
    State(state): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    let body = body.map_err(body_error)?;
    let request = parse_body(&body)?;
    let command = match request.get("command") {
        Some(Value::String(c)) if !c.trim().is_empty() && c.len() <= COMMAND_LIMIT => c.clone(),
        Some(Value::String(c)) if c.len() > COMMAND_LIMIT => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`command` is over {COMMAND_LIMIT} bytes"),
            ));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the body must be {\"command\": \"...\"} with a command that is not empty",
            ));
        }
    };
    let lab = lab_for(&state, &who, &id)?;
    Ok(no_store(Json(
        state.labs.console(&who, lab, command).await?,
    )))
}

/// The server's learner sessions, or a 404 saying how to turn them on.
fn learner_sessions(state: &AppState) -> Result<&crate::learners::Learners, ApiError> {
    state.learners.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this server keeps no learner progress (start it with `layerlab serve --learners DIR`)",
        )
    })
}

/// In a workshop, learners reach only their own progress and the
/// instructor everyone's; elsewhere anyone may (the `--learners` folder of
/// a single-user server).
fn may_see(who: &Caller, name: &str) -> Result<(), ApiError> {
    match who {
        Caller::Local | Caller::Instructor => Ok(()),
        Caller::Learner(id) if id == name => Ok(()),
        Caller::Learner(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "in a workshop you can reach only your own progress",
        )),
    }
}

/// `GET /api/learners`: everyone with progress on this server, with counts
/// (in a workshop: the instructor only).
pub(crate) async fn learners(
    State(state): State<AppState>,
    who: Caller,
) -> Result<Response, ApiError> {
    if matches!(who, Caller::Learner(_)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the instructor sees the class list",
        ));
    }
    Ok(no_store(Json(learner_sessions(&state)?.list().await?)))
}

/// `GET /api/learners/{name}/progress`: what the server holds for them.
pub(crate) async fn learner_progress(
    State(state): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    may_see(&who, &name)?;
    Ok(no_store(Json(
        learner_sessions(&state)?.progress(&name).await?,
    )))
}

/// `POST /api/learners/{name}/progress` with the browser's progress JSON:
/// merged into the server's copy; answers the merged progress.
pub(crate) async fn sync_progress(
    State(state): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.guard(&headers)?;
    may_see(&who, &name)?;
    if who == Caller::Instructor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "progress is the learner's to send, not the instructor's",
        ));
    }
    let sessions = learner_sessions(&state)?;
    let body = body.map_err(body_error)?;
    let incoming = std::str::from_utf8(&body)
        .ok()
        .map(layerlab_core::progress::Progress::from_json)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "the body is not UTF-8"))?
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let merged = sessions.sync(&name, &incoming).await?;
    if let (Caller::Learner(id), Some(w)) = (&who, &state.workshop) {
        // The gradebook keeps when the server first heard of each reading
        // (of lessons this server serves; the browser's clock is its own).
        let read: Vec<String> = merged
            .lessons
            .iter()
            .filter(|(l, p)| p.read_at.is_some() && state.content.lessons.contains_key(*l))
            .map(|(l, _)| l.clone())
            .collect();
        let (book, id) = (w.book.clone(), id.clone());
        crate::labs::blocking(move || {
            let now = layerlab_labs::runner::epoch_ms();
            read.iter()
                .try_for_each(|l| book.record_read(&id, l, now).map(drop))
        })
        .await?
        .map_err(crate::dashboard::book_error)?;
    }
    Ok(no_store(Json(merged)))
}

/// Query of `GET /api/labs/{id}/report`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReportQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    learner: Option<String>,
}

/// `GET /api/labs/{id}/report?format=json|junit|csv&learner=NAME`: the
/// latest result of every step checked on this server, for grading.
pub(crate) async fn report(
    State(state): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let lab = lab_for(&state, &who, &id)?;
    let asked = q.learner.filter(|l| !l.trim().is_empty());
    let (seat, learner) = match (&state.workshop, &who) {
        (None, _) => (
            None,
            asked
                .map(|l| shorten(l.trim()))
                .unwrap_or_else(|| "web learner".to_string()),
        ),
        // A learner's report is their own, whatever they ask for.
        (Some(w), Caller::Learner(id)) => (
            Some(id.clone()),
            w.member(id).map_or_else(|| id.clone(), |m| m.name),
        ),
        (Some(w), _) => {
            let id = asked.ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "name the learner: ?learner=ID (ids are in GET /api/workshop/learners)",
                )
            })?;
            let m = w
                .member(id.trim())
                .ok_or_else(|| ApiError::not_found("learner", id.trim()))?;
            (Some(m.id), m.name)
        }
    };
    let report = state.labs.report(seat.as_deref(), lab, learner);
    let (body, mime, ext) = match q.format.as_deref().unwrap_or("json") {
        "json" => (report.to_json(), "application/json", "json"),
        "junit" => (report.to_junit(), "application/xml", "xml"),
        "csv" => (report.to_csv(), "text/csv; charset=utf-8", "csv"),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "format must be json, junit or csv, not {:?}",
                    shorten(other)
                ),
            ));
        }
    };
    let disposition = format!("attachment; filename=\"layerlab-{}-report.{ext}\"", lab.id);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                })?,
            ),
        ],
        body,
    )
        .into_response())
}

pub(crate) fn no_store(body: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// A body that could not be read: too big (413), too slow (408), or cut off.
fn body_error(rejection: BytesRejection) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
    while let Some(e) = source {
        if e.is::<TimeoutError>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request body took too long to arrive",
            );
        }
        source = e.source();
    }
    ApiError::new(rejection.status(), rejection.body_text())
}

/// Steps are numbered from 1, as the learner sees them.
fn parse_step(step: &str) -> Result<u32, ApiError> {
    parse_number("step", step)
}

/// A number from 1 in a path (steps, checks).
fn parse_number(what: &str, text: &str) -> Result<u32, ApiError> {
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "{what} must be a whole number from 1, got {:?}",
                shorten(text)
            ),
        )),
    }
}

/// An optional JSON object body: nothing, or an object (e.g. the learner's
/// `answer` for prediction steps).
fn parse_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the request body must be a JSON object",
        )),
        Err(e) => {
            let status = match e.classify() {
                Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(ApiError::new(status, format!("malformed JSON body: {e}")))
        }
    }
}

/// Any other `/api/...` path.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no API endpoint at {}", shorten(uri.path())),
    )
}
