//! The `layerlab` tutor as a library, so the binary stays a thin command
//! line and the render benchmark can drive the same code the terminal runs.

pub mod app;
mod keys;
pub mod lab_cli;
pub mod lint;
pub mod packet_cli;
mod render;
pub mod runner;
pub mod screens;
pub mod shell;
pub mod store;
pub mod theme;
pub mod ui;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
