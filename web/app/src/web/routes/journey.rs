//! `/journey/{id}`: the packet animated over an SVG topology, with the
//! header stack and hex dump of the frame at the current hop beside it.

use crate::keys::{self, KeyAction, Page};
use crate::stack::{self, HopStack};
use crate::topology::{self, Layout, NodeBox};
use crate::web::player::{PACKET_ID, Player, SPEEDS};
use crate::web::{Ctx, api, routes};
use layerlab_core::Journey;
use layerlab_core::packet::ByteRange;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// The journey page.
#[component]
pub fn JourneyPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let journey = api::fetch::<Journey>(move || format!("/api/journeys/{}", id.get()));
    move || match journey.get() {
        None => routes::loading(),
        Some(Err(e)) => routes::load_error("this journey", e),
        Some(Ok(j)) => view! { <JourneyView journey=j /> }.into_any(),
    }
}

/// `/lab/{id}/capture/{step}/{check}`: the packets a lab's capture check
/// recorded, animated like an authored journey.
#[component]
pub fn CapturePage() -> impl IntoView {
    let params = use_params_map();
    let path = Memo::new(move |_| {
        let p = params.read();
        let get = |k: &str| p.get(k).unwrap_or_default();
        format!(
            "/api/labs/{}/steps/{}/checks/{}/journey",
            get("id"),
            get("step"),
            get("check")
        )
    });
    let journey = api::fetch::<Journey>(move || path.get());
    move || match journey.get() {
        None => routes::loading(),
        Some(Err(e)) => routes::load_error("this capture", e),
        Some(Ok(j)) => view! { <JourneyView journey=j /> }.into_any(),
    }
}

/// Lessons that point at a journey, for "read about it" links.
fn lessons_for(ctx: Ctx, journey: &str) -> Vec<(String, String)> {
    ctx.outline
        .get()
        .and_then(Result::ok)
        .map(|o| {
            crate::nav::lessons(&o)
                .filter(|l| l.journeys.iter().any(|j| j == journey))
                .map(|l| (l.id.clone(), l.title.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[component]
fn JourneyView(journey: Arc<Journey>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    crate::web::set_title(&journey.title);
    let layout = Arc::new(topology::layout(&journey));
    let player = Player::new(layout.stops.clone());
    let hops = journey.hops.len();
    let stack = {
        let journey = journey.clone();
        Memo::new(move |_| stack::hop_stack(&journey, player.current.get()))
    };
    let selected = RwSignal::new(None::<ByteRange>);
    Effect::new(move |_| {
        player.current.track();
        selected.set(None);
    });

    let keydown = window_event_listener(leptos::ev::keydown, move |e| {
        if e.default_prevented() || focus_takes_key(&e) {
            return;
        }
        let modified = e.ctrl_key() || e.alt_key() || e.meta_key();
        let Some(action) = keys::action(&e.key(), Page::Journey, modified) else {
            return;
        };
        match action {
            KeyAction::PlayPause => player.toggle(),
            KeyAction::StepForward => player.step(1),
            KeyAction::StepBack => player.step(-1),
            KeyAction::Faster => player.nudge_speed(true),
            KeyAction::Slower => player.nudge_speed(false),
            KeyAction::Restart => player.go_to(0),
            _ => return,
        }
        e.prevent_default();
    });
    on_cleanup(move || keydown.remove());

    let read_about = lessons_for(ctx, &journey.id)
        .into_iter()
        .map(|(id, title)| view! { <a href=format!("/lesson/{id}")>{title}</a> })
        .map(IntoAny::into_any)
        .collect_view();
    let hop_list = journey
        .hops
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let verdict = h.verdict.clone();
            let place = h.place.clone();
            view! {
                <li
                    class:current=move || player.current.get() == i
                    class:past={move || player.current.get() > i}
                >
                    <button class="hop-button" on:click=move |_| player.go_to(i)>
                        <span class="hop-num">{i + 1}</span>
                        <span class="hop-place">{place}</span>
                        {verdict.map(verdict_tag)}
                    </button>
                </li>
            }
        })
        .map(IntoAny::into_any)
        .collect_view();

    let current_hop = {
        let journey = journey.clone();
        move || {
            let i = player.current.get();
            let h = &journey.hops[i.min(hops - 1)];
            view! {
                <div class="hop-card" aria-live="polite">
                    <p class="eyebrow">{format!("Hop {} of {hops}", i + 1)}</p>
                    <h2>
                        {h.place.clone()}
                        {h.verdict.clone().map(verdict_tag)}
                    </h2>
                    <p>{crate::web::doc::ticked(&h.explain)}</p>
                </div>
            }
        }
    };

    let frame_of = {
        let journey = journey.clone();
        move |i: usize| {
            journey
                .hops
                .get(i)
                .map(|h| h.frame.clone())
                .unwrap_or_default()
        }
    };

    view! {
        <div
            class="page journey"
            data-journey=journey.id.clone()
            data-hop=move || player.current.get().to_string()
            data-hops=hops.to_string()
            data-playing=move || player.playing.get().to_string()
        >
            <header class="journey-header">
                <p class="eyebrow">"Packet journey"</p>
                <h1>{journey.title.clone()}</h1>
                <p class="lede">{journey.summary.clone()}</p>
                <p class="muted read-about">
                    {(!read_about.is_empty()).then_some("Read about it: ")}
                    {read_about}
                </p>
            </header>
            <div class="journey-grid-2">
                <section class="stage" aria-label="Topology">
                    <Controls player=player hops=hops />
                    <Diagram layout=layout.clone() journey=journey.clone() player=player />
                    {current_hop}
                    <ol class="hop-list">{hop_list}</ol>
                </section>
                <section class="inspector" aria-label="Headers at this hop">
                    {move || stack.get().map(|s| view! { <HeaderStack stack=s selected=selected /> })}
                    {move || stack.get().map(|s| hex_view(&frame_of(player.current.get()), &s, selected))}
                </section>
            </div>
        </div>
    }
}

/// Whether the focused element handles this key itself (typing, or a
/// button's own Space/Enter).
fn focus_takes_key(e: &web_sys::KeyboardEvent) -> bool {
    let Some(el) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    match el.tag_name().as_str() {
        "INPUT" | "TEXTAREA" | "SELECT" => true,
        "BUTTON" | "A" => matches!(e.key().as_str(), " " | "Enter"),
        _ => false,
    }
}

fn verdict_tag(v: String) -> impl IntoView {
    let class = format!("verdict-tag {}", verdict_class(&v));
    view! { <span class=class>{v}</span> }
}

fn verdict_class(v: &str) -> &'static str {
    let v = v.to_ascii_lowercase();
    if v.contains("drop") || v.contains("reject") || v.contains("blocked") {
        "bad"
    } else if v.contains("deliver") || v.contains("accept") || v.contains("answer") {
        "good"
    } else if v.contains("rewr") || v.contains("nat") || v.contains("encap") || v.contains("decap")
    {
        "change"
    } else {
        "neutral"
    }
}

#[component]
fn Controls(player: Player, hops: usize) -> impl IntoView {
    let at_end = move || player.current.get() + 1 >= hops;
    view! {
        <div class="controls" role="toolbar" aria-label="Playback">
            <button class="icon-button" title="First hop (0)" aria-label="First hop" on:click=move |_| player.go_to(0)>{icon("M5 4v16M19 4 8 12l11 8z")}</button>
            <button class="icon-button" title="Previous hop (←)" aria-label="Previous hop" id="step-back"
                prop:disabled=move || player.current.get() == 0
                on:click=move |_| player.step(-1)>{icon("M16 4 6 12l10 8z")}</button>
            <button class="button primary play" id="play" on:click=move |_| player.toggle()>
                {move || if player.playing.get() { "❚❚ Pause" } else if at_end() { "↻ Replay" } else { "▶ Play" }}
            </button>
            <button class="icon-button" title="Next hop (→)" aria-label="Next hop" id="step-forward"
                prop:disabled=at_end
                on:click=move |_| player.step(1)>{icon("M8 4l10 8-10 8z")}</button>
            <div class="speed" role="group" aria-label="Speed">
                {SPEEDS.iter().map(|&s| view! {
                    <button
                        class="speed-button"
                        class:active=move || player.speed.get() == s
                        data-speed=speed_label(s)
                        on:click=move |_| player.set_speed(s)
                    >{speed_label(s)}"×"</button>
                }).map(IntoAny::into_any).collect_view()}
            </div>
            <div class="progress-track" aria-hidden="true">
                <div class="progress-fill" style:width=move || format!("{}%", player.current.get() * 100 / (hops.max(2) - 1))></div>
            </div>
        </div>
    }
}

#[component]
fn Diagram(layout: Arc<Layout>, journey: Arc<Journey>, player: Player) -> impl IntoView {
    let view_box = format!("0 0 {} {}", px(layout.width), px(layout.height));
    let at = {
        let journey = journey.clone();
        move || journey.hops.get(player.current.get()).map(|h| h.at.clone())
    };
    let visited = {
        let journey = journey.clone();
        Memo::new(move |_| {
            journey.hops[..=player
                .current
                .get()
                .min(journey.hops.len().saturating_sub(1))]
                .iter()
                .map(|h| h.at.clone())
                .collect::<Vec<_>>()
        })
    };
    // Frames first, then the paths, then the places the paths lead to, so
    // lines pass under labels instead of crossing them.
    let boxes = |containers: bool| {
        layout
            .boxes
            .iter()
            .filter(|b| b.container == containers)
            .map(|b| node_view(b, at.clone(), visited))
            .collect_view()
    };
    let (frames, leaves) = (boxes(true), boxes(false));
    let wires = layout
        .wires
        .iter()
        .map(|w| {
            let (mx, my) = ((w.from.x + w.to.x) / 2.0, (w.from.y + w.to.y) / 2.0);
            view! {
                <g class="wire">
                    <line x1=w.from.x y1=w.from.y x2=w.to.x y2=w.to.y />
                    {(!w.label.is_empty()).then(|| view! { <text x=px(mx) y=px(my - 5.0) text-anchor="middle">{w.label.clone()}</text> })}
                </g>
            }
        })
        .map(IntoAny::into_any).collect_view();
    let stops = layout
        .stops
        .iter()
        .enumerate()
        .map(|(i, p)| view! { <circle class="stop" data-stop=i.to_string() cx=px(p.x) cy=px(p.y) r="3" /> })
        .map(IntoAny::into_any)
        .collect_view();
    let trail = {
        let layout = layout.clone();
        move || {
            let upto = player.current.get();
            layout
                .stops
                .iter()
                .take(upto + 1)
                .map(|p| format!("{},{}", px(p.x), px(p.y)))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let route = layout
        .stops
        .iter()
        .map(|p| format!("{},{}", px(p.x), px(p.y)))
        .collect::<Vec<_>>()
        .join(" ");
    let packet_at = move || {
        let p = player.stop(player.current.get());
        format!("translate({} {})", px(p.x), px(p.y))
    };
    let verdict = {
        let journey = journey.clone();
        move || {
            journey
                .hops
                .get(player.current.get())
                .and_then(|h| h.verdict.as_deref())
                .map(verdict_class)
                .unwrap_or("neutral")
        }
    };
    view! {
        <div class="diagram-wrap">
            <svg class="topology" viewBox=view_box preserveAspectRatio="xMidYMid meet" role="img"
                aria-label=format!("Topology of {}", journey.title)>
                <defs>
                    <radialGradient id="packet-glow">
                        <stop offset="0%" stop-color="var(--packet)" stop-opacity="0.55" />
                        <stop offset="100%" stop-color="var(--packet)" stop-opacity="0" />
                    </radialGradient>
                </defs>
                {frames}
                <g class="wires">{wires}</g>
                <polyline class="route" points=route />
                <polyline class="trail" points=trail />
                <g class="stops">{stops}</g>
                {leaves}
                <g id=PACKET_ID class=move || format!("packet {}", verdict()) transform=packet_at>
                    <circle class="packet-glow" r="18" fill="url(#packet-glow)" />
                    <rect class="packet-body" x="-9" y="-6.5" width="18" height="13" rx="3" />
                    <path class="packet-flap" d="M-9 -6.5 L0 1 L9 -6.5" />
                </g>
            </svg>
        </div>
    }
}

/// A small filled icon from one SVG path (24×24), in the text colour.
fn icon(d: &'static str) -> impl IntoView {
    view! { <svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d=d /></svg> }
}

/// A speed as the buttons show it (no float formatting in the download).
fn speed_label(s: f64) -> &'static str {
    match s {
        x if x < 1.0 => "0.5",
        x if x < 2.0 => "1",
        x if x < 4.0 => "2",
        _ => "4",
    }
}

/// Diagram units as whole numbers: exact enough, and keeps float formatting
/// code out of the download.
fn px(v: f64) -> i64 {
    v.round() as i64
}

fn node_view(
    b: &NodeBox,
    at: impl Fn() -> Option<String> + Send + Sync + 'static,
    visited: Memo<Vec<String>>,
) -> AnyView {
    let kind_class = topology::kind_class(b.kind);
    let kind = kind_class.trim_start_matches("kind-");
    let id = b.id.clone();
    let is_at = {
        let id = id.clone();
        move || at().as_deref() == Some(id.as_str())
    };
    let was_visited = {
        let id = id.clone();
        move || visited.with(|v| v.contains(&id))
    };
    let class = format!(
        "node {kind_class} {}",
        if b.container { "container" } else { "leaf" }
    );
    if b.container {
        view! {
            <g class=class data-node=id class:at=is_at class:visited=was_visited>
                <title>{format!("{} ({kind})", b.label)}</title>
                <rect x=px(b.x) y=px(b.y) width=px(b.w) height=px(b.h) rx="10" />
                <text class="container-label" x=px(b.x + 12.0) y=px(b.y + 18.0)>{b.label.clone()}</text>
            </g>
        }
        .into_any()
    } else {
        let n = b.lines.len() as f64;
        let first_y = b.y + b.h / 2.0 - (n - 1.0) * 8.0 + 4.5;
        let lines = b
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| view! { <tspan x=px(b.x + b.w / 2.0) y=px(first_y + 16.0 * i as f64)>{l.clone()}</tspan> })
            .map(IntoAny::into_any).collect_view();
        view! {
            <g class=class data-node=id class:at=is_at class:visited=was_visited>
                <title>{format!("{} ({kind})", b.label)}</title>
                <rect x=px(b.x) y=px(b.y) width=px(b.w) height=px(b.h) rx="8" />
                <rect class="kind-stripe" x=px(b.x) y=px(b.y + 8.0) width="4" height=px(b.h - 16.0) rx="2" />
                <text class="leaf-label" text-anchor="middle">{lines}</text>
            </g>
        }
        .into_any()
    }
}

#[component]
fn HeaderStack(stack: HopStack, selected: RwSignal<Option<ByteRange>>) -> impl IntoView {
    let removed = (!stack.removed.is_empty()).then(|| {
        view! {
            <p class="removed">{format!("Removed at this hop: {}", stack.removed.join(", "))}</p>
        }
    });
    let layers = stack
        .layers
        .iter()
        .map(|l| {
            let fields = l
                .fields
                .iter()
                .map(|f| {
                    let range = f.range;
                    let class = match (f.changed, f.derived) {
                        (true, false) => "field changed",
                        (true, true) => "field changed derived",
                        _ => "field",
                    };
                    view! {
                        <tr
                            class=class
                            data-path=f.path.clone()
                            class:selected=move || selected.get() == Some(range)
                            on:mouseenter=move |_| selected.set(Some(range))
                            on:mouseleave=move |_| selected.set(None)
                            on:click=move |_| selected.set(Some(range))
                        >
                            <th scope="row">{f.name.clone()}</th>
                            <td class="value">
                                <span class="now">{f.value.clone()}</span>
                                {f.before.clone().map(|b| view! { <span class="before">{b}</span> })}
                            </td>
                            <td class="meaning">{f.meaning.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                })
                .map(IntoAny::into_any).collect_view();
            view! {
                <details class="layer" class:added=l.added open=true data-layer=l.key.clone()>
                    <summary>
                        <span class="layer-key">{l.key.clone()}</span>
                        <span class="layer-summary">{l.summary.clone()}</span>
                        {l.added.then(|| view! { <span class="verdict-tag change">"new header"</span> })}
                    </summary>
                    <table class="fields">{fields}</table>
                </details>
            }
        })
        .map(IntoAny::into_any).collect_view();
    let stopped = stack
        .stopped
        .clone()
        .map(|s| view! { <p class="error">{format!("Dissection stopped: {s}")}</p> });
    view! {
        <div class="header-stack">
            <h2 class="panel-title">"Headers" <span class="muted">{format!("{} bytes", stack.len)}</span></h2>
            {removed}
            {layers}
            {stopped}
        </div>
    }
}

fn hex_view(frame: &[u8], stack: &HopStack, selected: RwSignal<Option<ByteRange>>) -> AnyView {
    let marks = stack.changed_ranges();
    let rows = stack::hex_rows(frame, &marks)
        .into_iter()
        .map(|row| {
            let offset = row.offset;
            let bytes = row
                .bytes
                .iter()
                .enumerate()
                .map(|(i, &(b, marked))| {
                    let at = offset + i;
                    view! {
                        <span
                            class="byte"
                            class:marked=marked
                            class:selected=move || selected.get().is_some_and(|r| r.contains(at))
                        >{format!("{b:02x}")}</span>
                    }
                })
                .map(IntoAny::into_any)
                .collect_view();
            let ascii: String = row.bytes.iter().map(|&(b, _)| stack::ascii(b)).collect();
            view! {
                <div class="hex-row">
                    <span class="hex-offset">{format!("{offset:04x}")}</span>
                    <span class="hex-bytes">{bytes}</span>
                    <span class="hex-ascii">{ascii}</span>
                </div>
            }
        })
        .map(IntoAny::into_any)
        .collect_view();
    view! {
        <div class="hex">
            <h2 class="panel-title">"Bytes" <span class="muted">"changed fields marked; hover a field to find it"</span></h2>
            <div class="hex-dump">{rows}</div>
        </div>
    }
    .into_any()
}
