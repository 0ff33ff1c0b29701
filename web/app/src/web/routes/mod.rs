//! One file per client route: `/`, `/lesson/{id}`, `/journey/{id}`,
//! `/glossary`, `/lab/{id}`.

pub mod glossary;
pub mod home;
pub mod journey;
pub mod lab;
pub mod lesson;

use leptos::prelude::*;

/// Any other path.
#[component]
pub fn NotFound() -> impl IntoView {
    super::set_title("Not found");
    view! {
        <article class="page narrow">
            <h1>"Nothing here"</h1>
            <p>"This address is not a page of the course. "<a href="/">"Back to the course"</a>"."</p>
        </article>
    }
}

/// A failed load, with what to do about it.
pub fn load_error(what: &str, message: String) -> AnyView {
    view! {
        <article class="page narrow">
            <div class="admonition caution">
                <p class="admonition-title">{format!("Could not load {what}")}</p>
                <p>{message}</p>
            </div>
            <p><a href="/">"Back to the course"</a></p>
        </article>
    }
    .into_any()
}

/// Placeholder while something loads.
pub fn loading() -> AnyView {
    view! { <div class="loading" aria-busy="true"><span class="spinner"></span>"Loading…"</div> }
        .into_any()
}
