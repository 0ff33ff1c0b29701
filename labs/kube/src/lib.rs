//! layerlab's Kubernetes labs (chapters 4–5): the kind cluster they run on
//! (`layerlab cluster up | status | down`), and a watch-driven runner that
//! observes `resource`, `exec`, `node`, `http` and `capture` checks through
//! the Kubernetes API, node containers and the network, then hands the
//! observations to `layerlab_core::lab` to judge.
//!
//! ```no_run
//! # async fn demo(lab: &layerlab_core::lab::Lab) -> layerlab_kube::Result<()> {
//! use layerlab_kube::{ConnectOptions, KubeLabs};
//! let labs = KubeLabs::connect(&ConnectOptions::default()).await?;
//! let step = labs.run_step(lab, 0, &[]).await;
//! println!("step 1 passed: {}", step.passed);
//! # Ok(()) }
//! ```

pub mod capture;
pub mod client;
pub mod cluster;
mod error;
pub mod learner_space;
mod observe;
pub mod proxy;
mod runner;
#[cfg(feature = "standin")]
pub mod standin;
mod watch;

pub use client::{ConnectOptions, Connection, KIND_CONTEXT, connect};
pub use error::{Error, Result};
pub use observe::NodeShell;
pub use runner::{CheckOutcome, KubeLabs, run_check};

/// The labs' solution manifests: (path relative to `labs/`, e.g.
/// `manifests/k8s-netpol/default-deny.yaml`, text). Step commands name them
/// by these paths.
pub static MANIFESTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/manifests.rs"));

/// Writes [`MANIFESTS`] under `dir` (as `dir/manifests/...`), so step
/// commands can run with `dir` as their working directory.
pub fn write_manifests(dir: &std::path::Path) -> std::io::Result<()> {
    for (rel, text) in MANIFESTS {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}
