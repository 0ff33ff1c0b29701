//! The `layerlab` terminal tutor as a library: the `layerlab` binary (the
//! `cli` crate) opens it, and the render benchmark drives the same code the
//! terminal runs.

pub mod action;
pub mod app;
pub mod error;
mod keys;
mod lab_work;
pub mod layout;
mod render;
pub mod runner;
pub mod screens;
pub mod shell;
pub mod theme;
pub mod ui;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
