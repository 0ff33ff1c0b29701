//! One file per screen or popup. Each owns its state and its pure
//! transitions; `app.rs` routes actions to the one in focus and turns what
//! it reports (open a lesson, quiz finished) into app-level changes.

pub mod glossary;
pub mod journey;
pub mod journey_view;
pub mod lab;
pub mod lab_view;
pub mod quiz;
pub mod quiz_view;
pub mod reader;
pub mod search;
pub mod search_view;
