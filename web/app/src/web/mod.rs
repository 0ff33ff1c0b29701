//! The browser half: the app shell, routes and shared state.

mod api;
mod doc;
mod player;
mod quiz;
mod routes;
mod store;
mod sync;

use crate::keys::{self, KeyAction};
use crate::nav::{self, LessonMark};
use layerlab_core::{CourseOutline, Progress};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{NavigateOptions, path};
use wasm_bindgen::prelude::*;

pub use api::JourneyInfo;

/// State every page can read.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The course tree (`/api/course`).
    pub outline: api::Fetched<CourseOutline>,
    /// The journeys the server has (`/api/journeys`).
    pub journeys: api::Fetched<Vec<JourneyInfo>>,
    /// The learner's progress, saved to localStorage on every change.
    pub progress: RwSignal<Progress>,
    /// Whether the key help is open.
    pub help: RwSignal<bool>,
    /// Whether the page is dark.
    pub dark: RwSignal<bool>,
    /// Whether the course drawer is open (narrow screens).
    pub drawer: RwSignal<bool>,
    /// In a workshop, the joined learner's id (empty elsewhere): then
    /// progress syncs with the server and quizzes are graded there.
    pub learner: RwSignal<String>,
}

/// Entry point, called by the wasm-bindgen glue once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// The app: shared state, then the router.
#[component]
fn App() -> impl IntoView {
    let progress = RwSignal::new(store::load_progress());
    Effect::new(move |_| progress.with(store::save_progress));
    let ctx = Ctx {
        outline: api::fetch(|| "/api/course".to_string()),
        journeys: api::fetch(|| "/api/journeys".to_string()),
        progress,
        help: RwSignal::new(false),
        dark: RwSignal::new(store::is_dark()),
        drawer: RwSignal::new(false),
        learner: RwSignal::new(String::new()),
    };
    provide_context(ctx);
    sync::start(ctx);
    view! {
        <Router>
            <Shell>
                <Routes fallback=routes::NotFound>
                    <Route path=path!("/") view=routes::home::HomePage />
                    <Route path=path!("/lesson/:id") view=routes::lesson::LessonPage />
                    <Route path=path!("/journey/:id") view=routes::journey::JourneyPage />
                    <Route path=path!("/glossary") view=routes::glossary::GlossaryPage />
                    <Route path=path!("/lab/:id") view=routes::lab::LabPage />
                    <Route path=path!("/lab/:id/capture/:step/:check") view=routes::journey::CapturePage />
                </Routes>
            </Shell>
        </Router>
    }
}

/// The page frame: top bar, course tree, help overlay and global keys.
#[component]
fn Shell(children: Children) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let location = use_location();
    let navigate = use_navigate();
    // Navigating closes the drawer on narrow screens.
    Effect::new(move |_| {
        location.pathname.track();
        ctx.drawer.set(false);
    });
    let keydown = window_event_listener(leptos::ev::keydown, move |e| {
        if typing_in_a_field(&e) {
            if e.key() == "Escape"
                && let Some(el) = document().active_element()
                && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = el.blur();
            }
            return;
        }
        let path = location.pathname.get_untracked();
        let modified = e.ctrl_key() || e.alt_key() || e.meta_key();
        let Some(action) = keys::action(&e.key(), keys::page_of(&path), modified) else {
            return;
        };
        let go = |to: &str| navigate(to, NavigateOptions::default());
        match action {
            KeyAction::ToggleHelp => ctx.help.update(|h| *h = !*h),
            KeyAction::Close => ctx.help.set(false),
            KeyAction::Glossary => {
                e.prevent_default();
                go("/glossary");
                focus_later("glossary-search");
            }
            KeyAction::Home => go("/"),
            KeyAction::ToggleTheme => toggle_theme(ctx),
            KeyAction::NextLesson | KeyAction::PreviousLesson => {
                let id = path.trim_start_matches("/lesson/");
                if let Some(Ok(outline)) = ctx.outline.get_untracked() {
                    let (prev, next) = nav::neighbours(&outline, id);
                    let to = if action == KeyAction::NextLesson {
                        next
                    } else {
                        prev
                    };
                    if let Some(l) = to {
                        go(&format!("/lesson/{}", l.id));
                    }
                }
            }
            KeyAction::Quiz => {
                if let Some(el) = document().get_element_by_id("quiz") {
                    el.scroll_into_view();
                }
            }
            // The journey page listens for its own keys.
            KeyAction::PlayPause
            | KeyAction::StepForward
            | KeyAction::StepBack
            | KeyAction::Faster
            | KeyAction::Slower
            | KeyAction::Restart => {}
        }
    });
    on_cleanup(move || keydown.remove());

    view! {
        <header class="topbar">
            <button
                class="icon-button drawer-toggle"
                aria-label="Course contents"
                on:click=move |_| ctx.drawer.update(|d| *d = !*d)
            >
                "☰"
            </button>
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true">"▚"</span>
                "layerlab"
            </a>
            <nav class="topnav" aria-label="Main">
                <a href="/">"Course"</a>
                <a href="/glossary">"Glossary"</a>
            </nav>
            <span class="spacer"></span>
            <CourseMeter />
            <button
                class="icon-button"
                title="Keyboard shortcuts (?)"
                aria-label="Keyboard shortcuts"
                on:click=move |_| ctx.help.update(|h| *h = !*h)
            >
                "?"
            </button>
            <button
                class="icon-button theme-toggle"
                title="Light or dark (t)"
                aria-label="Switch between light and dark theme"
                on:click=move |_| toggle_theme(ctx)
            >
                {move || if ctx.dark.get() { "☀" } else { "☾" }}
            </button>
        </header>
        <div class="layout" class:drawer-open=move || ctx.drawer.get()>
            <aside class="sidebar" aria-label="Course contents">
                <CourseTree />
            </aside>
            <div class="scrim" on:click=move |_| ctx.drawer.set(false)></div>
            <main class="main" id="main">
                {children()}
            </main>
        </div>
        <HelpOverlay />
    }
}

/// Whether a key went to a text field (then it is typing, not a command).
fn typing_in_a_field(e: &web_sys::KeyboardEvent) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                && el.get_attribute("type").as_deref() != Some("radio")
                && el.get_attribute("type").as_deref() != Some("checkbox")
        })
}

/// Focuses an element once the next route has rendered it.
fn focus_later(id: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

fn toggle_theme(ctx: Ctx) {
    let dark = !ctx.dark.get_untracked();
    store::set_theme(if dark { "dark" } else { "light" });
    ctx.dark.set(dark);
}

/// "12 of 39 lessons" in the top bar.
#[component]
fn CourseMeter() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let outline = ctx.outline.get()?.ok()?;
        let (done, total) = ctx.progress.with(|p| nav::done_count(&outline, p, None));
        let pct = (done * 100).checked_div(total).unwrap_or(0);
        Some(view! {
            <div class="meter" title=format!("{done} of {total} lessons done")>
                <div class="meter-bar"><div class="meter-fill" style:width=format!("{pct}%")></div></div>
                <span class="meter-text">{format!("{done}/{total}")}</span>
            </div>
        })
    }
}

/// The course tree with progress marks.
#[component]
fn CourseTree() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let location = use_location();
    move || match ctx.outline.get() {
        None => view! { <p class="muted tree-loading">"Loading the course…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(outline)) => {
            let current = location.pathname.get();
            let chapters = outline
                .chapters
                .iter()
                .enumerate()
                .map(|(ci, c)| {
                    let (done, total) = ctx.progress.with(|p| nav::done_count(&outline, p, Some(&c.id)));
                    let lessons = c
                        .lessons
                        .iter()
                        .map(|l| {
                            let href = format!("/lesson/{}", l.id);
                            let active = current == href;
                            let mark = ctx.progress.with(|p| LessonMark::of(p, &l.id));
                            let title = l.title.clone();
                            view! {
                                <li class:active=active>
                                    <a href=href.clone() aria-current=active.then_some("page")>
                                        <span class=format!("mark {}", mark.class())>{mark.badge()}</span>
                                        <span class="tree-title">{title}</span>
                                    </a>
                                </li>
                            }
                        })
                        .map(IntoAny::into_any).collect_view();
                    view! {
                        <section class="tree-chapter">
                            <h3>
                                <span class="chapter-num">{ci + 1}</span>
                                <span class="chapter-title">{c.title.clone()}</span>
                                <span class="chapter-count">{format!("{done}/{total}")}</span>
                            </h3>
                            <ul>{lessons}</ul>
                        </section>
                    }
                })
                .map(IntoAny::into_any).collect_view();
            view! { <nav class="tree">{chapters}</nav> }.into_any()
        }
    }
}

/// The key help, built from the same table the keys are read from.
#[component]
fn HelpOverlay() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let location = use_location();
    move || {
        ctx.help.get().then(|| {
            let page = keys::page_of(&location.pathname.get());
            let rows = keys::help(page)
                .map(|b| view! { <tr><td><kbd>{b.label}</kbd></td><td>{b.what}</td></tr> })
                .map(IntoAny::into_any).collect_view();
            view! {
                <div class="overlay" on:click=move |_| ctx.help.set(false)>
                    <div class="dialog" role="dialog" aria-label="Keyboard shortcuts" on:click=|e| e.stop_propagation()>
                        <h2>"Keyboard shortcuts"</h2>
                        <table class="keys">{rows}</table>
                        <p class="muted">"Tab moves between links and buttons; Enter follows them. Alt+← goes back."</p>
                    </div>
                </div>
            }
        })
    }
}

/// The performance mark the browser test reads to time a lesson's first render.
pub fn mark(name: &str) {
    if let Some(p) = window().performance() {
        let _ = p.mark(name);
    }
}

/// Sets the tab title.
pub fn set_title(title: &str) {
    document().set_title(&format!("{title} · layerlab"));
}
