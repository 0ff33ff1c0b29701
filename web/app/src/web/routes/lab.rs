//! `/lab/{id}`: a lab's steps, shown only when the server offers labs.

use crate::web::api;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::Deserialize;

/// What the page needs of `GET /api/labs/{id}` until the lab panel exists.
#[derive(Deserialize)]
struct LabHeader {
    #[serde(default)]
    title: String,
}

/// The lab page. Until the server's labs API answers, it says so plainly
/// instead of showing a lab that cannot run.
#[component]
pub fn LabPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let lab = api::fetch::<LabHeader>(move || format!("/api/labs/{}", id()));
    crate::web::set_title("Lab");
    move || {
        let body = match lab.get() {
            None => crate::web::routes::loading(),
            Some(Ok(lab)) => {
                let title = if lab.title.is_empty() { "Lab".to_string() } else { lab.title.clone() };
                view! {
                    <h1>{title}</h1>
                    <p class="muted">"Run this lab from the terminal with "<code>{format!("layerlab lab {}", id())}</code>"; its live checklist comes to the browser with the lab API."</p>
                }
                .into_any()
            }
            Some(Err(e)) => view! {
                <h1>{format!("Lab {}", id())}</h1>
                <div class="admonition note">
                    <p class="admonition-title">"Labs are not available here yet"</p>
                    <p>{format!("The server answered: {e}")}</p>
                    <p>"Labs run in a network sandbox on the machine that serves this page; start them from the terminal tutor."</p>
                </div>
                <p><a href="/">"Back to the course"</a></p>
            }
            .into_any(),
        };
        view! { <article class="page narrow">{body}</article> }
    }
}
