//! `/lab/{id}`: a lab panel. Steps with their instructions, a checklist
//! whose rows turn green or red as the server streams check results
//! (expected vs observed on failure), hints earned by failed checks, the
//! solution on request, a terminal in the lab's sandbox, and the report.
//! While the sandbox runs, the current step re-checks itself every few
//! seconds, so it turns green as the learner works.

use crate::web::{Ctx, api, doc, routes, store};
use layerlab_core::lab::{CheckResult, LabView, Needs, StepResult};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// `GET /api/labs/{id}/status` and the answer to start/reset/stop.
#[derive(Debug, Clone, Deserialize)]
struct LabStatus {
    running: bool,
    shell: String,
    #[serde(default)]
    rootless: Option<bool>,
    #[serde(default)]
    context: Option<String>,
    /// Whether `/api/labs/{id}/terminal` serves a shell.
    #[serde(default)]
    terminal: bool,
    /// In a workshop: hints the instructor revealed to this learner.
    #[serde(default)]
    hints: Vec<InstructorHint>,
}

/// A streamed check event (`check`, `step` or `error`).
#[derive(Deserialize)]
struct CheckEvent {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    result: Option<CheckResult>,
    #[serde(default)]
    error: Option<String>,
}

/// A hint the workshop's instructor revealed to this learner for this lab.
#[derive(Debug, Clone, Deserialize)]
struct InstructorHint {
    /// 1-based step, or `None` for the whole lab.
    step: Option<usize>,
    text: String,
}

/// In a workshop, how many live ticks between asks for the status (which
/// brings the instructor's hints) while the sandbox runs.
const HINTS_EVERY_TICKS: u32 = 5;

/// The answer to a solve request (only its success matters here).
#[derive(Deserialize)]
struct Applied {}

/// How often the current step re-checks itself while the sandbox runs.
const LIVE_EVERY: Duration = Duration::from_secs(2);

/// What the panel shows and changes. One signal holds it all: every
/// distinct signal type costs the download its own copy of the reactive
/// machinery, and this page is small enough to redraw as a whole.
#[derive(Clone)]
struct LabState {
    lab: Arc<LabView>,
    status: Option<Result<LabStatus, String>>,
    /// Bumped by start/stop/reset, so a status answer sent before one of
    /// them cannot overwrite what it did.
    status_gen: u32,
    /// Latest finished result per step.
    results: Vec<Option<StepResult>>,
    /// Results of the run in flight, check by check.
    partial: Vec<Option<CheckResult>>,
    checking: bool,
    /// Failed runs per step (hints unlock with them).
    failures: Vec<u32>,
    busy: Option<&'static str>,
    message: Option<Result<String, String>>,
    live: bool,
    /// Live ticks so far (a workshop's status is asked for every few).
    ticks: u32,
}

/// Handles on the panel's state; `Copy`, so closures share it freely.
#[derive(Clone, Copy)]
struct Panel {
    s: RwSignal<LabState>,
    answer: RwSignal<String>,
    /// The step on show (its own signal: the step's view is rebuilt only
    /// when it changes, so open hints, the solution and focus survive the
    /// live re-checks).
    current: RwSignal<usize>,
}

/// The lab page.
#[component]
pub fn LabPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let lab = api::fetch::<LabView>(move || format!("/api/labs/{}", id.get()));
    move || match lab.get() {
        None => routes::loading(),
        Some(Err(e)) => routes::load_error("this lab", e),
        Some(Ok(l)) => {
            crate::web::set_title(&l.title);
            panel(l)
        }
    }
}

impl Panel {
    fn id(self) -> String {
        self.s.with_untracked(|s| s.lab.id.clone())
    }

    fn running(self) -> bool {
        self.s
            .with_untracked(|s| matches!(s.status, Some(Ok(ref st)) if st.running))
    }

    fn say(self, message: Result<String, String>) {
        self.s.update(|s| s.message = Some(message));
    }

    /// Asks the server whether the sandbox runs.
    async fn refresh_status(self) {
        let path = format!("/api/labs/{}/status", self.id());
        let sent = self.s.with_untracked(|s| s.status_gen);
        let status = api::get::<LabStatus>(&path).await;
        if self.s.with_untracked(|s| s.status_gen) == sent {
            self.s.update(|s| s.status = Some(status));
        }
    }
}

fn panel(lab: Arc<LabView>) -> AnyView {
    let ctx = expect_context::<Ctx>();
    let steps = lab.steps.len();
    // Start on the first step the learner has not passed.
    let first_open = (1..=steps)
        .find(|n| {
            !ctx.progress
                .with_untracked(|pr| pr.step_passed(&lab.id, &n.to_string()))
        })
        .unwrap_or(1);
    let p = Panel {
        s: RwSignal::new(LabState {
            lab: lab.clone(),
            status: None,
            status_gen: 0,
            results: vec![None; steps],
            partial: Vec::new(),
            checking: false,
            failures: vec![0; steps],
            busy: None,
            message: None,
            live: true,
            ticks: 0,
        }),
        answer: RwSignal::new(String::new()),
        current: RwSignal::new(first_open - 1),
    };
    leptos::task::spawn_local(p.refresh_status());
    if let Ok(handle) = set_interval_with_handle(move || live_tick(ctx, p), LIVE_EVERY) {
        on_cleanup(move || handle.clear());
    }

    let step_list = lab
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let title = format!("{}. {}", i + 1, s.title);
            view! {
                <li class=move || step_class(ctx, p, i) data-step=i + 1>
                    <button class="step-link" on:click=move |_| select(p, i)>
                        <span class="step-mark" aria-hidden="true"></span>
                        {title}
                    </button>
                </li>
            }
        })
        .collect_view();

    let needs = match lab.needs {
        Needs::Sandbox => "Runs in a private network sandbox on the server's machine",
        Needs::Kind => "Runs against the kind cluster the server is configured for",
    };
    view! {
        <article class="page lab">
            <header class="lab-header">
                <p class="eyebrow">"Lab"</p>
                <h1>{lab.title.clone()}</h1>
                <p class="lead">{lab.summary.clone()}</p>
                {status_bar(p, needs)}
                {move || p.s.with(|s| s.message.clone()).map(|m| {
                    let (class, text) = match m {
                        Ok(t) => ("lab-message ok", t),
                        Err(t) => ("lab-message error", t),
                    };
                    view! { <p class=class role="status">{text}</p> }
                })}
            </header>
            <div class="lab-body">
                <nav class="lab-steps" aria-label="Steps"><ol>{step_list}</ol></nav>
                <section class="lab-step" aria-live="polite">{move || step_view(ctx, p, p.current.get())}</section>
            </div>
            {(lab.needs == Needs::Sandbox).then(|| terminal_view(p))}
        </article>
    }
    .into_any()
}

/// `passed`, `failed`, `current` classes of a step in the list.
fn step_class(ctx: Ctx, p: Panel, i: usize) -> String {
    let current = p.current.get() == i;
    let (result, id) =
        p.s.with(|s| (s.results[i].as_ref().map(|r| r.passed), s.lab.id.clone()));
    let recorded = ctx
        .progress
        .with(|pr| pr.step_passed(&id, &(i + 1).to_string()));
    let state = match result {
        Some(true) => "passed",
        Some(false) => "failed",
        None if recorded => "passed",
        None => "",
    };
    if current {
        format!("{state} current")
    } else {
        state.to_string()
    }
}

fn select(p: Panel, i: usize) {
    if p.current.get_untracked() != i {
        p.current.set(i);
        p.s.update(|s| s.partial.clear());
        p.answer.set(String::new());
    }
}

/// What the lab bar says: pill state, its text, the shell hint.
fn bar_state(p: Panel) -> (&'static str, String, String) {
    p.s.with(|s| match &s.status {
        None => ("checking", "Asking the server…".to_string(), String::new()),
        Some(Err(e)) => ("off", e.clone(), String::new()),
        Some(Ok(st)) => {
            let detail = match (st.running, st.rootless, &st.context) {
                (false, _, _) => "Not started".to_string(),
                (true, Some(true), _) => "Sandbox running (rootless)".to_string(),
                (true, _, Some(ctx)) => format!("Connected to {ctx}"),
                (true, _, _) => "Sandbox running".to_string(),
            };
            let state = if st.running { "on" } else { "off" };
            (state, detail, st.shell.clone())
        }
    })
}

/// The lab bar. Its elements stay put and only their attributes and text
/// follow the state: a button rebuilt under the pointer loses the click.
fn status_bar(p: Panel, needs: &'static str) -> AnyView {
    let id = p.id();
    let state = move || bar_state(p).0;
    // Start appears once the server has said the lab is not running.
    let shown = move |action: &str| match state() {
        "on" => action != "start",
        "off" => action == "start",
        _ => false,
    };
    let button = move |id: &'static str, label: &'static str, action: &'static str| {
        let class = if action == "start" {
            "button primary"
        } else {
            "button"
        };
        view! {
            <button id=id class=class hidden=move || !shown(action)
                disabled=move || p.s.with(|s| s.busy.is_some())
                on:click=move |_| lifecycle(p, action)>{label}</button>
        }
    };
    view! {
        <div class="lab-bar">
            <span id="lab-status" class=move || format!("pill {}", state())>{move || bar_state(p).1}</span>
            <span class="muted small">{needs}</span>
            <span class="spacer"></span>
            {button("lab-start", "Start lab", "start")}
            {button("lab-reset", "Reset", "reset")}
            {button("lab-stop", "Stop", "stop")}
            <a class="button" href=format!("/api/labs/{id}/report") download="">"Report"</a>
        </div>
        {move || {
            let shell = bar_state(p).2;
            (!shell.is_empty()).then(|| view! {
                <p class="muted small">"In a terminal on the server's machine: "<code>{shell}</code></p>
            })
        }}
    }
    .into_any()
}

/// Start, reset or stop the sandbox.
fn lifecycle(p: Panel, action: &'static str) {
    let path = format!("/api/labs/{}/{action}", p.id());
    p.s.update(|s| {
        s.busy = Some(action);
        s.status_gen += 1;
        s.message = None;
    });
    leptos::task::spawn_local(async move {
        let r = api::post::<LabStatus>(&path, "{}").await;
        p.s.update(|s| {
            s.busy = None;
            match r {
                Ok(st) => {
                    if action != "start" {
                        s.results.iter_mut().for_each(|r| *r = None);
                        s.partial.clear();
                    }
                    s.status = Some(Ok(st));
                }
                Err(e) => s.message = Some(Err(e)),
            }
        });
    });
}

fn step_view(ctx: Ctx, p: Panel, i: usize) -> AnyView {
    let lab = p.s.with_untracked(|s| s.lab.clone());
    let step = &lab.steps[i];
    let total = lab.steps.len();
    let has_question = step.question.is_some();
    let checks = (0..step.checks.len())
        .map(|ci| move || check_row(p, i, ci))
        .collect_view();
    let hints = move || {
        p.s.with(|s| {
            s.lab
                .hints_after(i, s.failures[i])
                .map(|h| view! { <li>{doc::ticked(&h.text)}</li> })
                .collect_view()
        })
    };
    let idle = move || p.s.with(|s| !s.checking && s.busy.is_none());
    view! {
        <header class="step-header">
            <span class="muted">{format!("Step {} of {total}", i + 1)}</span>
            <h2>{step.title.clone()}</h2>
        </header>
        {doc::blocks(&step.document.blocks)}
        {step.question.as_ref().map(|q| view! {
            <form class="lab-answer" on:submit=move |e| { e.prevent_default(); run_check(ctx, p, false); }>
                <label for="lab-answer-input">{doc::ticked(q)}</label>
                <input id="lab-answer-input" type="text" autocomplete="off" prop:value=move || p.answer.get()
                    on:input=move |e| p.answer.set(event_target_value(&e)) />
            </form>
        })}
        <div class="lab-actions">
            <button id="lab-check" class="button primary" disabled=move || !idle() on:click=move |_| run_check(ctx, p, false)>
                {move || if p.s.with(|s| s.checking) { "Checking…" } else { "Check" }}
            </button>
            {(!has_question).then(|| view! {
                <label class="muted small"><input type="checkbox" prop:checked=move || p.s.with(|s| s.live)
                    on:change=move |e| p.s.update(|s| s.live = event_target_checked(&e)) />" Check as I work"</label>
            })}
            {(i + 1 < total).then(|| view! {
                <button class="button" on:click=move |_| select(p, i + 1)>"Next step"</button>
            })}
        </div>
        <ul class="lab-checks">{checks}</ul>
        {move || step_summary(p, i)}
        {move || {
            let from_instructor = p.s.with(|s| {
                let hints = match &s.status {
                    Some(Ok(st)) => st.hints.as_slice(),
                    _ => &[],
                };
                hints
                    .iter()
                    .filter(|h| h.step.is_none_or(|n| n == i + 1))
                    .map(|h| view! { <li>{doc::ticked(&h.text)}</li> })
                    .collect::<Vec<_>>()
            });
            (!from_instructor.is_empty()).then(|| view! {
                <div class="instructor-hints" role="status">
                    <p class="verdict-title">"From your instructor"</p>
                    <ul>{from_instructor}</ul>
                </div>
            })
        }}
        <details class="lab-hints">
            <summary>{format!("Hints ({})", step.hints.len())}</summary>
            <ul>{hints}</ul>
            <p class="muted small">"More hints appear as checks fail."</p>
        </details>
        <details class="lab-solution">
            <summary>"Solution"</summary>
            <pre><code>{step.solution.join("\n")}</code></pre>
            <button id="lab-solve" class="button" disabled=move || !idle() on:click=move |_| solve(ctx, p, i)>
                "Apply the solution"
            </button>
        </details>
    }
    .into_any()
}

/// One row of the checklist: pending, running, passed or failed with why.
fn check_row(p: Panel, step: usize, ci: usize) -> AnyView {
    let (title, result, checking, id) = p.s.with(|s| {
        let live = s.partial.get(ci).cloned().flatten();
        let done = s.results[step]
            .as_ref()
            .and_then(|r| r.checks.get(ci).cloned());
        (
            s.lab.steps[step].checks[ci].title.clone(),
            live.or(if s.checking { None } else { done }),
            s.checking,
            s.lab.id.clone(),
        )
    });
    let class = match &result {
        Some(r) if r.passed => "passed",
        Some(_) => "failed",
        None if checking => "running",
        None => "pending",
    };
    let detail = result.map(|r| {
        let mismatches = (!r.passed && !r.mismatches.is_empty()).then(|| {
            let rows = r
                .mismatches
                .iter()
                .map(|m| view! { <tr><td><code>{m.path.clone()}</code></td><td>{m.expected.clone()}</td><td>{m.observed.clone()}</td></tr> })
                .collect_view();
            view! {
                <table class="mismatches">
                    <thead><tr><th>"field"</th><th>"expected"</th><th>"observed"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        });
        let evidence = (!r.evidence.is_empty() && (!r.passed || r.kind == "capture")).then(|| {
            let text: Vec<&str> = r.evidence.lines().take(20).collect();
            view! { <pre class="evidence">{text.join("\n")}</pre> }
        });
        let hint = r
            .hint
            .as_ref()
            .filter(|_| !r.passed)
            .map(|h| view! { <p class="hint">"Hint: "{doc::ticked(h)}</p> });
        // What a capture check recorded can be replayed hop by hop.
        let replay = (r.kind == "capture").then(|| {
            let href = format!("/lab/{id}/capture/{}/{}", step + 1, ci + 1);
            view! { <p><a class="replay" href=href>"Animate these packets →"</a></p> }
        });
        view! {
            <p class="check-message">{doc::ticked(&r.message)}</p>
            {mismatches}
            {hint}
            {evidence}
            {replay}
        }
    });
    view! {
        <li class=format!("lab-check-row {class}")>
            <span class="check-mark" aria-hidden="true"></span>
            <div>
                <p class="check-title">{title}<span class="sr-only">{format!(" ({class})")}</span></p>
                {detail}
            </div>
        </li>
    }
    .into_any()
}

fn step_summary(p: Panel, i: usize) -> Option<AnyView> {
    let (passed, points, max) = p.s.with(|s| {
        let r = s.results[i].as_ref()?;
        let points: u32 = r.checks.iter().map(|c| c.points).sum();
        let max: u32 = r.checks.iter().map(|c| c.max_points).sum();
        Some((r.passed, points, max))
    })?;
    let (class, text) = if passed {
        (
            "lab-message ok",
            format!("Step passed ({points}/{max} points)."),
        )
    } else {
        (
            "lab-message error",
            format!("Not yet: {points}/{max} points. Fix what is red and check again."),
        )
    };
    Some(view! { <p id="lab-step-result" class=class>{text}</p> }.into_any())
}

/// Re-checks the current step when nothing else runs and it is not passed.
fn live_tick(ctx: Ctx, p: Panel) {
    let ticks = p.s.with_untracked(|s| s.ticks);
    p.s.update_untracked(|s| s.ticks += 1);
    let in_workshop = !ctx.learner.with_untracked(String::is_empty);
    if in_workshop && p.running() && ticks % HINTS_EVERY_TICKS == 0 {
        leptos::task::spawn_local(p.refresh_status());
    }
    let i = p.current.get_untracked();
    let due = p.s.with_untracked(|s| {
        s.live
            && !s.checking
            && s.busy.is_none()
            && s.lab.steps[i].question.is_none()
            && !s.results[i].as_ref().is_some_and(|r| r.passed)
    });
    if due && p.running() {
        run_check(ctx, p, true);
    } else if !p.running()
        && p.s
            .with_untracked(|s| s.busy.is_none() && s.status.is_some())
    {
        // A sandbox started or stopped from a terminal shows up here too.
        leptos::task::spawn_local(p.refresh_status());
    }
}

/// Runs the current step's checks, updating rows as results stream in.
/// `quiet` runs (live re-checks) do not count as failed attempts.
fn run_check(ctx: Ctx, p: Panel, quiet: bool) {
    if p.s.with_untracked(|s| s.checking) {
        return;
    }
    let i = p.current.get_untracked();
    let id = p.id();
    let path = format!("/api/labs/{id}/steps/{}/check", i + 1);
    let answer = p.answer.get_untracked();
    // Live re-checks observe once (no waiting out timeouts), and the server
    // may answer them from an unchanged sandbox's last observation.
    let body = if answer.trim().is_empty() {
        if quiet { r#"{"quick":true}"# } else { "{}" }.to_string()
    } else {
        api::json_body("answer", answer.trim())
    };
    p.s.update(|s| {
        s.checking = true;
        s.partial.clear();
        if !quiet {
            s.message = None;
        }
    });
    leptos::task::spawn_local(async move {
        let mut error = None;
        let outcome = api::post_events(&path, &body, |name, data| match name {
            "check" => {
                if let Ok(e) = serde_json::from_str::<CheckEvent>(data) {
                    p.s.update(|s| {
                        if s.partial.len() <= e.index {
                            s.partial.resize(e.index + 1, None);
                        }
                        s.partial[e.index] = e.result;
                    });
                }
            }
            "step" => {
                if let Ok(r) = serde_json::from_str::<StepResult>(data) {
                    finish(ctx, p, &id, i, r, quiet);
                }
            }
            _ => {
                error = serde_json::from_str::<CheckEvent>(data)
                    .ok()
                    .and_then(|e| e.error)
            }
        })
        .await;
        p.s.update(|s| {
            s.checking = false;
            s.partial.clear();
        });
        if let Some(e) = error.or(outcome.err()) {
            p.say(Err(e));
        } else if !p.running() {
            // A check starts the sandbox when needed: show it.
            p.refresh_status().await;
        }
    });
}

/// Records a finished step: result, attempt count, progress.
fn finish(ctx: Ctx, p: Panel, id: &str, i: usize, r: StepResult, quiet: bool) {
    if r.passed || !quiet {
        ctx.progress
            .update(|pr| pr.record_step(id, &(i + 1).to_string(), r.passed, store::now()));
    }
    p.s.update(|s| {
        if !r.passed && !quiet {
            s.failures[i] += 1;
        }
        s.results[i] = Some(r);
    });
}

/// Applies the step's solution, then checks it.
fn solve(ctx: Ctx, p: Panel, i: usize) {
    let path = format!("/api/labs/{}/steps/{}/solve", p.id(), i + 1);
    p.s.update(|s| {
        s.busy = Some("solve");
        s.message = None;
    });
    leptos::task::spawn_local(async move {
        let r = api::post::<Applied>(&path, "{}").await;
        p.s.update(|s| s.busy = None);
        match r {
            Ok(_) => {
                p.say(Ok(format!(
                    "Applied the solution of step {}; checking it…",
                    i + 1
                )));
                run_check(ctx, p, false);
            }
            Err(e) => p.say(Err(e)),
        }
    });
}

/// The lab's terminal: xterm.js (`/terminal.js`, loaded by index.html's
/// `llTerminal` only here) on a WebSocket to a shell in the sandbox, shown
/// once the server says the lab runs and has one. The glue keeps one
/// terminal per element and reconnects a finished one when called again.
fn terminal_view(p: Panel) -> AnyView {
    let ready = move || {
        p.s.with(|s| matches!(&s.status, Some(Ok(st)) if st.terminal && st.running))
    };
    Effect::new(move |_| {
        if ready() {
            mount_terminal(&p.id());
        }
    });
    view! {
        <section class="lab-terminal" aria-label="Sandbox terminal" hidden=move || !ready()>
            <h2>"Terminal"</h2>
            <div id="lab-terminal" class="lab-terminal-box"></div>
        </section>
    }
    .into_any()
}

/// `window.llTerminal(element, url)`, if the page defines it.
fn mount_terminal(id: &str) {
    use wasm_bindgen::JsCast;
    let Some(w) = web_sys::window() else { return };
    let Some(el) = w
        .document()
        .and_then(|d| d.get_element_by_id("lab-terminal"))
    else {
        return;
    };
    if let Ok(f) = js_sys::Reflect::get(&w, &"llTerminal".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    {
        let url = format!("/api/labs/{id}/terminal");
        let _ = f.call2(&wasm_bindgen::JsValue::NULL, &el, &url.into());
    }
}
