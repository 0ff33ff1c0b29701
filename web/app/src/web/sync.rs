//! Inside a workshop, the learner's progress lives on the server too:
//! sent whenever it changes and merged there with `Progress::merge`; the
//! merged answer comes back, so progress follows the learner to another
//! browser. Outside a workshop nothing is sent.

use crate::web::{Ctx, api};
use layerlab_core::Progress;
use leptos::prelude::*;
use serde::Deserialize;

/// The part of `GET /api/workshop` the app needs: who is asking.
#[derive(Deserialize)]
struct About {
    you: Option<You>,
}

#[derive(Deserialize)]
struct You {
    role: String,
    #[serde(default)]
    id: String,
}

/// Asks whether this page belongs to a workshop learner; if so, syncs now
/// and after every change of progress.
pub fn start(ctx: Ctx) {
    leptos::task::spawn_local(async move {
        // Outside a workshop the answer is empty (204), and the app stays local.
        let Ok(about) = api::get::<About>("/api/workshop").await else {
            return;
        };
        if let Some(you) = about.you.filter(|y| y.role == "learner") {
            ctx.learner.set(you.id);
            Effect::new(move |_| {
                let json = ctx.progress.with(Progress::to_json);
                leptos::task::spawn_local(push(ctx, json));
            });
        }
    });
}

/// Sends progress; the server answers it merged with what it had (by
/// `Progress::merge`), which replaces ours unless ours changed meanwhile:
/// then the change's own sync brings both back.
async fn push(ctx: Ctx, json: String) {
    let path = format!("/api/learners/{}/progress", ctx.learner.get_untracked());
    // `from_json`, already in the app for local storage, decodes it.
    let answer = api::text(&path, Some(&json)).await;
    match answer.and_then(|t| Progress::from_json(&t).map_err(|e| e.to_string())) {
        Ok(merged) => {
            let unchanged = ctx.progress.with_untracked(|p| p.to_json() == json);
            if unchanged && ctx.progress.with_untracked(|p| *p != merged) {
                ctx.progress.set(merged);
            }
        }
        Err(e) => web_sys::console::warn_1(&format!("layerlab: progress not synced: {e}").into()),
    }
}
