//! Inside a workshop, the learner's progress lives on the server too:
//! merged both ways with `Progress::merge` whenever it changes, so it
//! follows them to another browser. Outside a workshop nothing is sent.

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
        // Outside a workshop this is a 404, and the app stays local.
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

/// Sends progress; merges in what the server answers (the union with what
/// it already had). Merging is idempotent, so answers arriving out of
/// order lose nothing, and an answer that adds nothing changes nothing.
async fn push(ctx: Ctx, json: String) {
    let path = format!("/api/learners/{}/progress", ctx.learner.get_untracked());
    match api::post::<Progress>(&path, &json).await {
        Ok(server) => {
            let mut merged = ctx.progress.get_untracked();
            merged.merge(&server);
            if ctx.progress.with_untracked(|p| *p != merged) {
                ctx.progress.set(merged);
            }
        }
        Err(e) => web_sys::console::warn_1(&format!("layerlab: progress not synced: {e}").into()),
    }
}
