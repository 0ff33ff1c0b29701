//! `layerlab`: the terminal tutor and its command line.

mod app;
mod keys;
mod lint;
mod packet_cli;
mod render;
mod runner;
mod screens;
mod store;
mod theme;
mod ui;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Learn Kubernetes networking from the wire up.
#[derive(Parser)]
#[command(name = "layerlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the tutor (the default).
    Tutor,
    /// Check a lessons tree for authoring errors (the embedded course by default).
    Lint {
        /// A lessons content folder, e.g. lessons/content.
        path: Option<PathBuf>,
    },
    /// Read packet captures (pcap, pcapng): summaries, field trees, conversations.
    #[command(subcommand)]
    Packet(packet_cli::PacketCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None | Some(Command::Tutor) => tutor().map(|()| true),
        Some(Command::Lint { path }) => lint::run(path.as_deref()),
        Some(Command::Packet(cmd)) => packet_cli::run(cmd),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("layerlab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn tutor() -> Result<()> {
    let store = store::ProgressStore::default_location()?;
    let loaded = store.load()?;
    let notice = match &loaded {
        store::Loaded::MovedAside { message, .. } => Some(message.clone()),
        _ => None,
    };
    let course = layerlab_lessons::course();
    let mut app = app::App::new(
        course,
        loaded.progress(),
        theme::Theme::from_env(),
        store::now,
    );
    app.status = notice;
    runner::run(app, &store)
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
