//! layerlab in the browser: the course, quizzes and packet journeys as a
//! client-side Leptos app built to wasm32.
//!
//! The pure parts (diagram layout, header stack, navigation, answers) are
//! plain Rust, compiled and unit-tested natively; everything that touches
//! the DOM is compiled only for wasm32, so the workspace's native builds stay
//! cheap. Lessons arrive as core `Document`s and quizzes are graded by core's
//! `Question::grade`: the browser and the terminal tutor share one parser,
//! one grader and one progress format.

pub mod answer;
pub mod events;
pub mod keys;
pub mod nav;
pub mod stack;
pub mod topology;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use web::start;
