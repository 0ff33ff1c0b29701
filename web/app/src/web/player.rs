//! Moves the packet between hops with the Web Animations API.
//!
//! The browser interpolates every frame (a CSS transform, which it can run
//! off the main thread); Rust only acts once per hop, when an animation
//! finishes. Pausing, resuming and speed map straight onto the animation's
//! own `pause`, `play` and playback rate, so they are exact mid-flight.

use crate::topology::Point;
use crate::web::store;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Time the packet rests at a hop before moving on, at 1×.
pub const DWELL_MS: f64 = 1400.0;
/// Time it takes to travel to the next hop, at 1×.
pub const TRAVEL_MS: f64 = 900.0;
/// Playback speeds offered.
pub const SPEEDS: [f64; 4] = [0.5, 1.0, 2.0, 4.0];

/// The DOM id of the packet's `<g>`.
pub const PACKET_ID: &str = "packet";

struct Running {
    animation: web_sys::Animation,
    // Kept alive while the animation may still call it.
    _on_finish: Closure<dyn FnMut()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.animation.set_onfinish(None);
        self.animation.cancel();
    }
}

/// The journey player's state; copyable, so handlers can hold it.
#[derive(Clone, Copy)]
pub struct Player {
    /// The hop the packet is at (or resting at before moving on).
    pub current: RwSignal<usize>,
    /// Whether it is playing.
    pub playing: RwSignal<bool>,
    /// Playback speed factor.
    pub speed: RwSignal<f64>,
    stops: StoredValue<Vec<Point>>,
    running: StoredValue<Option<Running>, LocalStorage>,
}

impl Player {
    /// A player for a journey whose hops sit at `stops`.
    pub fn new(stops: Vec<Point>) -> Player {
        Player {
            current: RwSignal::new(0),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            stops: StoredValue::new(stops),
            running: StoredValue::new_local(None),
        }
    }

    /// Number of hops.
    pub fn len(&self) -> usize {
        self.stops.with_value(Vec::len)
    }

    /// Where the packet rests at hop `i`.
    pub fn stop(&self, i: usize) -> Point {
        self.stops
            .with_value(|s| s.get(i).or(s.last()).copied())
            .unwrap_or(Point { x: 0.0, y: 0.0 })
    }

    /// Play from where the packet is (from the start once it has arrived).
    pub fn play(&self) {
        if self.current.get_untracked() + 1 >= self.len() {
            self.stop_animation();
            self.current.set(0);
        }
        self.playing.set(true);
        let resumed = self.running.with_value(|r| {
            r.as_ref().is_some_and(|r| {
                r.animation.play_state() == web_sys::AnimationPlayState::Paused
                    && r.animation.play().is_ok()
            })
        });
        if !resumed {
            self.advance();
        }
    }

    /// Pause mid-flight.
    pub fn pause(&self) {
        self.playing.set(false);
        self.running.with_value(|r| {
            if let Some(r) = r {
                let _ = r.animation.pause();
            }
        });
    }

    /// Play or pause.
    pub fn toggle(&self) {
        if self.playing.get_untracked() {
            self.pause()
        } else {
            self.play()
        }
    }

    /// Jump to a hop (stops playing).
    pub fn go_to(&self, hop: usize) {
        self.stop_animation();
        self.playing.set(false);
        self.current.set(hop.min(self.len().saturating_sub(1)));
    }

    /// One hop on or back.
    pub fn step(&self, delta: isize) {
        let now = self.current.get_untracked();
        self.go_to(now.saturating_add_signed(delta));
    }

    /// Change speed, also for the move in flight.
    pub fn set_speed(&self, speed: f64) {
        self.speed.set(speed);
        self.running.with_value(|r| {
            if let Some(r) = r {
                r.animation.update_playback_rate(speed);
            }
        });
    }

    /// A step up or down the speed list.
    pub fn nudge_speed(&self, up: bool) {
        let now = self.speed.get_untracked();
        let i = SPEEDS.iter().position(|&s| s == now).unwrap_or(1);
        let j = if up {
            (i + 1).min(SPEEDS.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        self.set_speed(SPEEDS[j]);
    }

    fn stop_animation(&self) {
        // Dropping `Running` cancels it and detaches its handler.
        self.running.update_value(|r| *r = None);
    }

    /// Rest at the current hop, then move to the next; repeats while playing.
    fn advance(&self) {
        let i = self.current.get_untracked();
        if i + 1 >= self.len() {
            self.playing.set(false);
            return;
        }
        let Some(el) = document().get_element_by_id(PACKET_ID) else {
            return;
        };
        let (from, to) = (self.stop(i), self.stop(i + 1));
        let reduced = store::media_matches("(prefers-reduced-motion: reduce)");
        let frames = keyframes(from, to, reduced);
        let options = js_sys::Object::new();
        // Reduced motion: the packet jumps instead of gliding (still one hop at a time).
        let duration = if reduced { 1.0 } else { TRAVEL_MS };
        for (k, v) in [
            ("delay", JsValue::from_f64(DWELL_MS)),
            ("duration", JsValue::from_f64(duration)),
            ("fill", "both".into()),
            // Reduced motion: a step, so no frame ever shows the packet between hops.
            (
                "easing",
                if reduced {
                    "steps(1, jump-start)"
                } else {
                    "cubic-bezier(.45,.05,.35,1)"
                }
                .into(),
            ),
        ] {
            let _ = js_sys::Reflect::set(&options, &k.into(), &v);
        }
        let animation = animate(&el, &frames, &options);
        animation.update_playback_rate(self.speed.get_untracked());
        let player = *self;
        let on_finish = Closure::<dyn FnMut()>::new(move || {
            player.current.set(i + 1);
            // Not from inside this handler: starting the next move drops the
            // closure that is running. The finished move holds the packet at
            // the hop meanwhile.
            queue_microtask(move || {
                if player.current.get_untracked() != i + 1 {
                    return; // the learner jumped elsewhere meanwhile
                }
                if player.playing.get_untracked() {
                    player.advance();
                } else {
                    player.stop_animation();
                }
            });
        });
        animation.set_onfinish(Some(on_finish.as_ref().unchecked_ref()));
        // Replacing the previous (finished) animation cancels it in the same
        // task, so the packet never flashes back between hops.
        self.running.update_value(|r| {
            *r = Some(Running {
                animation,
                _on_finish: on_finish,
            })
        });
    }
}

#[wasm_bindgen]
extern "C" {
    // `Element.animate(keyframes, options)`: web-sys only offers it behind
    // `web_sys_unstable_apis`, which would change how every crate builds.
    #[wasm_bindgen(extends = web_sys::Element)]
    type Animatable;
    #[wasm_bindgen(method, js_name = animate)]
    fn animate_with(
        this: &Animatable,
        keyframes: &js_sys::Array,
        options: &js_sys::Object,
    ) -> web_sys::Animation;
}

fn animate(
    el: &web_sys::Element,
    keyframes: &js_sys::Array,
    options: &js_sys::Object,
) -> web_sys::Animation {
    el.unchecked_ref::<Animatable>()
        .animate_with(keyframes, options)
}

/// Keyframes from one stop to the next; a hop at the same place pulses.
fn keyframes(from: Point, to: Point, reduced: bool) -> js_sys::Array {
    let frame = |p: Point, scale: f64, offset: Option<f64>| {
        let o = js_sys::Object::new();
        let t = format!("translate({}px, {}px) scale({scale})", p.x, p.y);
        let _ = js_sys::Reflect::set(&o, &"transform".into(), &t.into());
        if let Some(off) = offset {
            let _ = js_sys::Reflect::set(&o, &"offset".into(), &off.into());
        }
        o
    };
    let same = (from.x - to.x).abs() < 0.5 && (from.y - to.y).abs() < 0.5;
    let list = js_sys::Array::new();
    list.push(&frame(from, 1.0, None));
    if same && !reduced {
        list.push(&frame(from, 1.6, Some(0.5)));
    }
    list.push(&frame(to, 1.0, None));
    list
}
