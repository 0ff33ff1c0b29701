//! `/`: the course at a glance, where to continue, and the packet journeys.

use crate::nav::{self, LessonMark};
use crate::web::{Ctx, routes};
use leptos::prelude::*;

/// The course overview.
#[component]
pub fn HomePage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    crate::web::set_title("Kubernetes networking from the wire up");
    let course = move || match ctx.outline.get() {
        None => routes::loading(),
        Some(Err(e)) => routes::load_error("the course", e),
        Some(Ok(outline)) => {
            let progress = ctx.progress.get();
            let (done, total) = nav::done_count(&outline, &progress, None);
            let resume = nav::resume_target(&outline, &progress).map(|l| {
                let verb = if done == 0 { "Start" } else { "Continue" };
                let text = format!("{verb}: {} →", l.title);
                view! {
                    <a href=format!("/lesson/{}", l.id) class="button primary resume">
                        {text}
                    </a>
                }
            });
            let chapters = outline
                .chapters
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let (cd, ct) = nav::done_count(&outline, &progress, Some(&c.id));
                    let lessons = c
                        .lessons
                        .iter()
                        .map(|l| {
                            let mark = LessonMark::of(&progress, &l.id);
                            let title = l.title.clone();
                            let minutes = format!("{} min", l.minutes);
                            view! {
                                <li>
                                    <a href=format!("/lesson/{}", l.id)>
                                        <span class=format!("mark {}", mark.class())>{mark.badge()}</span>
                                        <span>{title}</span>
                                        <span class="muted minutes">{minutes}</span>
                                    </a>
                                </li>
                            }
                        })
                        .map(IntoAny::into_any).collect_view();
                    view! {
                        <section class="chapter-card">
                            <header>
                                <span class="chapter-num big">{i + 1}</span>
                                <div>
                                    <h2>{c.title.clone()}</h2>
                                    <p class="muted">{c.summary.clone()}</p>
                                </div>
                                <span class="chapter-count">{format!("{cd}/{ct}")}</span>
                            </header>
                            <ol class="lesson-list">{lessons}</ol>
                        </section>
                    }
                })
                .map(IntoAny::into_any).collect_view();
            view! {
                <section class="hero">
                    <h1>"Kubernetes networking, from the wire up"</h1>
                    <p class="lede">
                        "Start at what a layer is, read real captures of TCP handshakes, veth pairs, bridges, iptables and conntrack, then climb to CNI, kube-proxy, Services, DNS, NetworkPolicy and Ingress — until “why did my Ingress return 404?” has an answer you can reason about."
                    </p>
                    <div class="hero-actions">
                        {resume}
                        <span class="muted">{format!("{done} of {total} lessons done · progress stays in this browser")}</span>
                    </div>
                </section>
                <div class="chapters">{chapters}</div>
            }
            .into_any()
        }
    };
    view! {
        <div class="page wide">
            {course}
            <JourneyList />
        </div>
    }
}

/// Cards for the server's journeys.
#[component]
fn JourneyList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let cards = move || match ctx.journeys.get() {
        None => routes::loading(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(list)) => list
            .iter()
            .map(|j| {
                let (title, summary) = (j.title.clone(), j.summary.clone());
                view! {
                    <a href=format!("/journey/{}", j.id) class="journey-card">
                        <h3>{title}</h3>
                        <p>{summary}</p>
                        <span class="card-cta">"Watch the packet →"</span>
                    </a>
                }
            })
            .map(IntoAny::into_any)
            .collect_view()
            .into_any(),
    };
    view! {
        <section class="journeys" id="journeys">
            <h2>"Packet journeys"</h2>
            <p class="muted">"Follow one packet hop by hop: every header at every stop, with what changed highlighted."</p>
            <div class="journey-grid">{cards}</div>
        </section>
    }
}
