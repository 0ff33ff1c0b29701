//! `/glossary`: every term, searchable, each linked to the lesson that teaches it.

use crate::nav;
use crate::web::{Ctx, routes};
use leptos::prelude::*;

/// The glossary page.
#[component]
pub fn GlossaryPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (query, set_query) = signal(String::new());
    crate::web::set_title("Glossary");
    let results = move || match ctx.outline.get() {
        None => routes::loading(),
        Some(Err(e)) => routes::load_error("the glossary", e),
        Some(Ok(outline)) => {
            let q = query.get();
            let hits = nav::search_glossary(&outline.glossary, &q);
            let count = hits.len();
            let items = hits
                .into_iter()
                .map(|e| {
                    let title = nav::lesson_title(&outline, &e.lesson).unwrap_or(&e.lesson).to_string();
                    view! {
                        <div class="term" id=format!("term-{}", layerlab_core::doc::slugify(&e.term))>
                            <dt>{e.term.clone()}</dt>
                            <dd>
                                <p>{e.definition.clone()}</p>
                                <a href=format!("/lesson/{}", e.lesson) class="term-lesson">{format!("Learn it in “{title}” →")}</a>
                            </dd>
                        </div>
                    }
                })
                .map(IntoAny::into_any).collect_view();
            view! {
                <p class="muted result-count" aria-live="polite">
                    {if q.trim().is_empty() { format!("{count} terms") } else { format!("{count} matching “{}”", q.trim()) }}
                </p>
                <dl class="glossary">{items}</dl>
            }
            .into_any()
        }
    };
    view! {
        <article class="page">
            <h1>"Glossary"</h1>
            <input
                id="glossary-search"
                class="search"
                type="search"
                placeholder="Search terms and definitions…"
                aria-label="Search the glossary"
                autocomplete="off"
                prop:value=query
                on:input=move |e| set_query.set(event_target_value(&e))
            />
            {results}
        </article>
    }
}
