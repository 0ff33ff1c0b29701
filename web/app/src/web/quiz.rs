//! A lesson's quiz: answer each question, check it with core's
//! `Question::grade` (the terminal's grader), read every explanation; when
//! all are checked the score goes into progress.

use crate::answer;
use crate::web::{Ctx, api, doc, store};
use layerlab_core::quiz::{Grade, QuestionKind, Response};
use layerlab_core::{Lesson, Question};
use leptos::prelude::*;
use std::sync::Arc;

/// The part of the server's grade the page needs (decoding only this keeps
/// the download small).
#[derive(serde::Deserialize)]
struct Verdict {
    correct: bool,
}

/// One question's state.
#[derive(Clone, Copy)]
struct Slot {
    picked: RwSignal<Vec<usize>>,
    typed: RwSignal<String>,
    grade: RwSignal<Option<Grade>>,
    /// An answer is on its way to the server.
    sending: RwSignal<bool>,
}

/// The quiz of a lesson.
#[component]
pub fn Quiz(lesson: Arc<Lesson>, title: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let slots: Vec<Slot> = lesson
        .quiz
        .iter()
        .map(|_| Slot {
            picked: RwSignal::new(Vec::new()),
            typed: RwSignal::new(String::new()),
            grade: RwSignal::new(None),
            sending: RwSignal::new(false),
        })
        .collect();
    let total = slots.len();
    let slots = StoredValue::new(slots);
    let attempt = RwSignal::new(1u32);
    let right = move || {
        slots.with_value(|s| {
            s.iter()
                .filter(|x| x.grade.with(|g| g.as_ref().is_some_and(|g| g.correct)))
                .count()
        })
    };
    let checked =
        move || slots.with_value(|s| s.iter().filter(|x| x.grade.with(Option::is_some)).count());
    // Record once per attempt, when its last question is checked.
    let recorded = RwSignal::new(0u32);
    let id = lesson.id.clone();
    Effect::new(move |_| {
        if checked() == total && recorded.get_untracked() != attempt.get() {
            recorded.set(attempt.get_untracked());
            let r = right() as u32;
            ctx.progress
                .update(|p| p.record_quiz(&id, r, total as u32, store::now()));
        }
    });
    let retry = move |_| {
        slots.with_value(|s| {
            for x in s {
                x.picked.set(Vec::new());
                x.typed.set(String::new());
                x.grade.set(None);
            }
        });
        attempt.update(|a| *a += 1);
        if let Some(el) = document().get_element_by_id("quiz") {
            el.scroll_into_view();
        }
    };
    let best = {
        let id = lesson.id.clone();
        move || {
            ctx.progress
                .with(|p| p.quiz(&id).map(|q| (q.best, q.total)))
        }
    };
    let questions = lesson
        .quiz
        .iter()
        .enumerate()
        .map(|(i, q)| question_view(ctx, &lesson.id, i, q.clone(), slots.with_value(|s| s[i])))
        .collect_view();
    view! {
        <section class="quiz" id="quiz" tabindex="-1">
            <header class="quiz-header">
                <h2>{title}</h2>
                <span class="muted">
                    {move || match best() {
                        Some((b, t)) => format!("Best so far: {b}/{t}"),
                        None => format!("{total} questions · every answer is explained"),
                    }}
                </span>
            </header>
            {questions}
            <div class="quiz-summary" class:hidden={move || checked() < total} aria-live="polite">
                <p class="score">
                    {move || {
                        let r = right();
                        let verdict = if r == total { "All right — well done." } else { "Read the explanations above, then try again." };
                        format!("Score: {r}/{total}. {verdict}")
                    }}
                </p>
                <button class="button" on:click=retry>"Try again"</button>
            </div>
        </section>
    }
}

fn question_view(ctx: Ctx, lesson: &str, i: usize, q: Question, slot: Slot) -> AnyView {
    let path = format!("/api/lessons/{lesson}/quiz/{}", i + 1);
    let q = Arc::new(q);
    let is_multi = matches!(q.kind, QuestionKind::Multiple { .. });
    let input = match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Multiple { choices } => {
            let choices = choices.clone();
            let name = format!("q{i}");
            // Until graded the inputs keep their own state; grading redraws
            // the list once with every choice's verdict and explanation.
            let items = move || {
                let graded = slot.grade.get();
                choices
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| {
                        let g = graded.as_ref().and_then(|g| g.choices.get(ci));
                        let class = match g {
                            Some(cg) if cg.correct => "choice right",
                            Some(cg) if cg.picked => "choice wrong",
                            _ => "choice",
                        };
                        let explain = g.filter(|cg| cg.picked || cg.correct).map(|cg| {
                            view! {
                                <p class="explain">
                                    <strong>{if cg.correct { "Right. " } else { "Not this one. " }}</strong>
                                    {doc::ticked(&cg.explain)}
                                </p>
                            }
                        });
                        view! {
                            <li class=class>
                                <label>
                                    <input
                                        type=if is_multi { "checkbox" } else { "radio" }
                                        name=name.clone()
                                        checked=g.is_some_and(|cg| cg.picked)
                                        disabled=graded.is_some()
                                        on:change=move |_| pick(slot, ci, is_multi)
                                    />
                                    <span class="choice-text">{doc::ticked(&c.text)}</span>
                                </label>
                                {explain}
                            </li>
                        }
                    })
                    .map(IntoAny::into_any).collect_view()
            };
            view! { <ul class="choices" role=if is_multi { "group" } else { "radiogroup" }>{items}</ul> }.into_any()
        }
        QuestionKind::Numeric { .. } | QuestionKind::Text { .. } => {
            let numeric = matches!(q.kind, QuestionKind::Numeric { .. });
            let (q2, path2) = (q.clone(), path.clone());
            view! {
                <div class="free-answer">
                    <input
                        type="text"
                        inputmode=if numeric { "decimal" } else { "text" }
                        autocomplete="off"
                        spellcheck="false"
                        aria-label="Your answer"
                        placeholder=if numeric { "A number" } else { "Your answer" }
                        prop:value=move || slot.typed.get()
                        prop:disabled=move || slot.grade.with(Option::is_some)
                        on:input=move |e| slot.typed.set(event_target_value(&e))
                        on:keydown=move |e| {
                            if e.key() == "Enter" {
                                check(ctx, &path2, &q2, slot);
                            }
                        }
                    />
                    {unit_label(&q.kind)}
                </div>
            }
            .into_any()
        }
    };
    let q_check = q.clone();
    let ready = {
        let q = q.clone();
        move || {
            slot.picked
                .with(|p| slot.typed.with(|t| answer::ready(&q, p, t)))
        }
    };
    // Before grading: the Check button; after: the verdict.
    let footer = move || match slot.grade.get() {
        None => {
            let q = q_check.clone();
            view! {
                <div class="question-actions">
                    <button class="button primary check" prop:disabled={let r = ready.clone(); move || !r() || slot.sending.get()} on:click={let path = path.clone(); move |_| check(ctx, &path, &q, slot)}>
                        "Check"
                    </button>
                </div>
            }
            .into_any()
        }
        Some(g) => {
            let expected = g.expected.clone().map(|exp| {
                view! { <p><span class="muted">"Answer: "</span><strong>{exp}</strong></p> }
            });
            let explain = g
                .explain
                .as_deref()
                .map(|ex| view! { <p class="explain">{doc::ticked(ex)}</p> });
            // Choice questions explain each choice in place.
            let summary = (expected.is_some() || explain.is_some()).then(|| {
                view! {
                    <div class=if g.correct { "verdict right" } else { "verdict wrong" } role="status">
                        <p class="verdict-title">{if g.correct { "✓ Right" } else { "✗ Not quite" }}</p>
                        {expected}
                        {explain}
                    </div>
                }
            });
            summary.into_any()
        }
    };
    view! {
        <div class="question" data-question=i.to_string()>
            <p class="prompt"><span class="q-num">{format!("{}.", i + 1)}</span>{doc::ticked(&q.prompt)}</p>
            {is_multi.then(|| view! { <p class="hint muted">"Pick every right answer."</p> })}
            {input}
            {footer}
        </div>
    }
    .into_any()
}

/// Records a pick: one choice for single-choice, a toggle for multiple.
fn pick(slot: Slot, choice: usize, multi: bool) {
    slot.picked.update(|p| {
        if !multi {
            *p = vec![choice];
        } else if let Some(k) = p.iter().position(|&x| x == choice) {
            p.remove(k);
        } else {
            p.push(choice);
        }
    })
}

fn unit_label(kind: &QuestionKind) -> Option<AnyView> {
    match kind {
        QuestionKind::Numeric { unit: Some(u), .. } => {
            Some(view! { <span class="unit">{u.clone()}</span> }.into_any())
        }
        _ => None,
    }
}

/// Grades an answer: in a workshop the server grades and records it (its
/// verdict is the one shown); elsewhere, or if the server cannot be
/// reached, the browser grades it with the same core code.
fn check(ctx: Ctx, path: &str, q: &Question, slot: Slot) {
    if slot.grade.with_untracked(Option::is_some) || slot.sending.get_untracked() {
        return;
    }
    let picked = slot.picked.get_untracked();
    let typed = slot.typed.get_untracked();
    if !answer::ready(q, &picked, &typed) {
        return;
    }
    let response = answer::response(q, &picked, &typed);
    let local = q.grade_with(&response, &browser_full_match);
    if ctx.learner.with_untracked(String::is_empty) {
        slot.grade.set(Some(local));
        return;
    }
    // Core's `Response` as JSON, by hand: serde's serializer for it would
    // be the only one of its kind in the download.
    let body = match &response {
        Response::Choices(c) => format!("{{\"choices\":{c:?}}}"),
        Response::Number(n) => format!("{{\"number\":{n}}}"),
        Response::Text(t) => api::json_body("text", t),
    };
    let path = path.to_string();
    slot.sending.set(true);
    leptos::task::spawn_local(async move {
        // The server answers core's whole `Grade`; its verdict is what
        // counts, the explanations are the ones already on the page.
        let mut grade = local;
        match api::post::<Verdict>(&path, &body).await {
            Ok(v) => grade.correct = v.correct,
            Err(e) => {
                web_sys::console::warn_1(&format!("layerlab: answer not recorded: {e}").into())
            }
        }
        slot.grade.set(Some(grade));
        slot.sending.set(false);
    });
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The browser's own `RegExp`, constructed so that a bad pattern is an
    /// error rather than an exception.
    #[wasm_bindgen(js_name = RegExp)]
    type BrowserRegExp;
    #[wasm_bindgen(catch, constructor, js_class = "RegExp")]
    fn new(pattern: &str, flags: &str) -> Result<BrowserRegExp, wasm_bindgen::JsValue>;
    #[wasm_bindgen(method)]
    fn test(this: &BrowserRegExp, text: &str) -> bool;
}

/// Whether `text` matches the whole `accept` pattern, with the browser's
/// regex engine (`u` flag: code points, as regex-lite reads them). The
/// lesson loader keeps patterns to what both engines read alike, so the
/// terminal and the browser grade the same.
fn browser_full_match(pattern: &str, text: &str) -> bool {
    let (ignore_case, rest) = layerlab_core::quiz::split_case_flag(pattern);
    let flags = if ignore_case { "iu" } else { "u" };
    BrowserRegExp::new(&format!("^(?:{rest})$"), flags).is_ok_and(|re| re.test(text))
}
