//! `/lesson/{id}`: a lesson rendered from core's `Document`, its journeys,
//! its quiz, and the way on.

use crate::nav;
use crate::web::{Ctx, api, doc, mark, quiz::Quiz, routes, store};
use layerlab_core::Lesson;
use layerlab_core::doc::{Block, Inline};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// The lesson page.
#[component]
pub fn LessonPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let params = use_params_map();
    let location = use_location();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let lesson = api::fetch::<Lesson>(move || format!("/api/lessons/{}", id.get()));

    // Once a lesson is on screen: remember it, go to its top (or the linked
    // section), and leave a mark for the browser test's timing.
    Effect::new(move |_| {
        let Some(Ok(l)) = lesson.get() else {
            return;
        };
        crate::web::set_title(&l.title);
        ctx.progress.update(|p| p.set_last_lesson(&l.id));
        let hash = location.hash.get_untracked();
        request_animation_frame(move || {
            let target = hash
                .strip_prefix('#')
                .filter(|h| !h.is_empty())
                .and_then(|h| document().get_element_by_id(h));
            match target {
                Some(el) => el.scroll_into_view(),
                None => window().scroll_to_with_x_and_y(0.0, 0.0),
            }
            mark("layerlab:lesson-rendered");
            mark_read_if_at_end(ctx, &l.id);
        });
    });
    let scroll = window_event_listener(leptos::ev::scroll, move |_| {
        if let Some(Ok(l)) = lesson.get_untracked() {
            mark_read_if_at_end(ctx, &l.id);
        }
    });
    on_cleanup(move || scroll.remove());

    move || match lesson.get() {
        None => routes::loading(),
        Some(Err(e)) => routes::load_error("this lesson", e),
        Some(Ok(l)) => lesson_view(ctx, l),
    }
}

/// Marks the lesson read once its end is on screen, as the terminal does.
fn mark_read_if_at_end(ctx: Ctx, id: &str) {
    if ctx.progress.with_untracked(|p| p.is_read(id)) {
        return;
    }
    let Some(end) = document().get_element_by_id("lesson-end") else {
        return;
    };
    let height = window()
        .inner_height()
        .ok()
        .and_then(|h| h.as_f64())
        .unwrap_or(0.0);
    if end.get_bounding_client_rect().top() <= height {
        ctx.progress.update(|p| p.mark_read(id, store::now()));
    }
}

fn lesson_view(ctx: Ctx, l: Arc<Lesson>) -> AnyView {
    let outline = ctx.outline.get().and_then(Result::ok);
    let (chapter, prev, next) = match &outline {
        Some(o) => {
            let chapter = o
                .chapters
                .iter()
                .position(|c| c.lessons.iter().any(|x| x.id == l.id))
                .map(|i| (i + 1, o.chapters[i].title.clone()));
            let (p, n) = nav::neighbours(o, &l.id);
            (
                chapter,
                p.map(|p| (p.id.clone(), p.title.clone())),
                n.map(|n| (n.id.clone(), n.title.clone())),
            )
        }
        None => (None, None, None),
    };
    let read = {
        let id = l.id.clone();
        move || ctx.progress.with(|p| p.is_read(&id))
    };
    let objectives = l
        .objectives
        .iter()
        .map(|o| view! { <li>{doc::ticked(o)}</li> })
        .map(IntoAny::into_any)
        .collect_view();
    // Lessons end with the heading their quiz sat under: it titles the quiz
    // here instead of standing alone above the journeys.
    let (body, quiz_title) = match l.body.blocks.split_last() {
        Some((Block::Heading { content, .. }, rest)) if !l.quiz.is_empty() => {
            (rest, Inline::plain_text(content))
        }
        _ => (&l.body.blocks[..], "Check your understanding".to_string()),
    };
    let toc = toc(body, (!l.quiz.is_empty()).then_some(quiz_title.as_str()));
    let journeys = journey_links(ctx, &l.journeys);
    let lab = (!l.labs.is_empty()).then(|| {
        let links = l
            .labs
            .iter()
            .enumerate()
            .map(|(i, lab)| {
                view! {
                    {(i > 0).then_some(", ")}
                    <a href=format!("/lab/{lab}")><code>{lab.clone()}</code></a>
                }
            })
            .collect_view();
        let noun = if l.labs.len() == 1 {
            "the lab "
        } else {
            "the labs "
        };
        view! {
            <aside class="admonition tip">
                <p class="admonition-title">"Lab"</p>
                <p>"Practise this in "{noun}{links}"."</p>
            </aside>
        }
    });
    let questions = l.quiz.len();
    view! {
        <div class="lesson-layout">
            <article class="page lesson" data-lesson=l.id.clone()>
                <header class="lesson-header">
                    {chapter.map(|(n, t)| view! { <p class="eyebrow">{format!("Chapter {n} · {t}")}</p> })}
                    <h1>{l.title.clone()}</h1>
                    <p class="meta">
                        {format!("{} min · {} words · {} quiz questions", l.minutes, l.words, questions)}
                        <span class="read-badge" class:hidden=move || !read()>" · ✓ read"</span>
                    </p>
                    <section class="objectives">
                        <h2 class="objectives-title">"You will be able to"</h2>
                        <ul>{objectives}</ul>
                    </section>
                </header>
                <div class="lesson-body">{doc::blocks(body)}</div>
                {journeys}
                {lab}
                <div id="lesson-end"></div>
                {(questions > 0).then(|| view! { <Quiz lesson=l.clone() title=quiz_title.clone() /> })}
                <nav class="pager" aria-label="Lessons">
                    {prev.map(|(id, t)| view! {
                        <a href=format!("/lesson/{id}") class="pager-prev" rel="prev">
                            <span class="muted">"← Previous (p)"</span><span>{t}</span>
                        </a>
                    })}
                    <span class="spacer"></span>
                    {next.map(|(id, t)| view! {
                        <a href=format!("/lesson/{id}") class="pager-next" rel="next">
                            <span class="muted">"Next (n) →"</span><span>{t}</span>
                        </a>
                    })}
                </nav>
            </article>
            <aside class="toc" aria-label="On this page">
                <p class="toc-title">"On this page"</p>
                <ul>{toc}</ul>
            </aside>
        </div>
    }
    .into_any()
}

/// Section links for the right margin (level-2 headings).
fn toc(blocks: &[Block], quiz_title: Option<&str>) -> AnyView {
    let mut items: Vec<AnyView> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading {
                level: 2,
                anchor,
                content,
            } => {
                let anchor = anchor.clone();
                let text = Inline::plain_text(content);
                Some(
                    view! {
                        <li><a href=format!("#{anchor}") on:click=move |e| jump(e, &anchor)>{text}</a></li>
                    }
                    .into_any(),
                )
            }
            _ => None,
        })
        .collect();
    if let Some(title) = quiz_title {
        let title = title.to_string();
        items.push(
            view! { <li><a href="#quiz" on:click=move |e| jump(e, "quiz")>{title}</a></li> }
                .into_any(),
        );
    }
    items.into_any()
}

/// Scrolls to a section without a route change (the lesson stays put).
fn jump(e: leptos::ev::MouseEvent, id: &str) {
    if let Some(el) = document().get_element_by_id(id) {
        e.prevent_default();
        el.scroll_into_view();
        let _ = window().history().and_then(|h| {
            h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{id}")))
        });
        if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

fn journey_links(ctx: Ctx, ids: &[String]) -> Option<AnyView> {
    if ids.is_empty() {
        return None;
    }
    let known = ctx.journeys.get().and_then(Result::ok);
    let cards = ids
        .iter()
        .map(|id| {
            let info = known
                .as_ref()
                .and_then(|k| k.iter().find(|j| &j.id == id).cloned());
            let title = info.as_ref().map_or(id.clone(), |j| j.title.clone());
            let summary = info.map(|j| j.summary).unwrap_or_default();
            view! {
                <a href=format!("/journey/{id}") class="journey-card compact">
                    <span class="eyebrow">"Packet journey"</span>
                    <h3>{title}</h3>
                    <p>{summary}</p>
                    <span class="card-cta">"Watch it hop by hop →"</span>
                </a>
            }
        })
        .map(IntoAny::into_any)
        .collect_view();
    Some(view! { <section class="lesson-journeys">{cards}</section> }.into_any())
}
