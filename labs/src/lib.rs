//! layerlab's labs: the lab definitions (embedded from `labs/content/`) and
//! the native runner that checks them against a real system.
//!
//! The rules live in `layerlab_core::lab` (format, judgement, reports);
//! this crate does the I/O: a disposable network sandbox per lab
//! ([`sandbox`]), commands with timeouts ([`exec`]), packet captures
//! ([`capture`]), and the loop that observes until a check is decided
//! ([`runner`]). [`run`] is the one way in for every caller: sandbox labs
//! and cluster labs (through `layerlab-kube`) behind one API.

pub mod bridge;
pub mod capture;
pub mod confine;
pub mod exec;
pub mod hello;
pub mod pty;
pub mod run;
pub mod runner;
pub mod sandbox;
pub mod store;
pub mod tools;

use layerlab_core::SourceFile;
use layerlab_core::lab::{Lab, LoadedLabs, load_labs};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Every embedded lab file: (file name, text).
pub static FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/labs.rs"));

/// Parses and validates the embedded labs against the course's chapters.
pub fn load() -> LoadedLabs {
    let files: Vec<SourceFile<'_>> = FILES
        .iter()
        .map(|&(path, text)| SourceFile { path, text })
        .collect();
    load_labs(&files, &chapter_ids())
}

/// The course's chapter ids (labs must name one).
pub fn chapter_ids() -> BTreeSet<String> {
    layerlab_lessons::course()
        .chapters
        .iter()
        .map(|c| c.id.clone())
        .collect()
}

/// The embedded labs, loaded once per process.
pub fn labs() -> &'static [Lab] {
    static LABS: OnceLock<Vec<Lab>> = OnceLock::new();
    LABS.get_or_init(|| load().labs)
}

/// A lab id that names no lab.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no lab `{id}`; labs are: {}", known.join(", "))]
pub struct UnknownLab {
    /// The id asked for.
    pub id: String,
    /// The ids there are.
    pub known: Vec<String>,
}

/// Finds a lab by id, or says which ids exist.
pub fn find(id: &str) -> Result<&'static Lab, UnknownLab> {
    labs()
        .iter()
        .find(|l| l.id == id)
        .ok_or_else(|| UnknownLab {
            id: id.to_string(),
            known: labs().iter().map(|l| l.id.clone()).collect(),
        })
}
