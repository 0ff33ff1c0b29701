//! `layerlab`: the command line. With no command it opens the terminal
//! tutor (`layerlab-tui`); `serve` runs the web server (`layerlab-server`);
//! `lab`, `packet`, `lint`, `cluster` and `workshop` are the rest.

mod cluster_cli;
mod lab_cli;
mod lint;
mod packet_cli;
mod workshop_cli;

use anyhow::Result;
use clap::{Parser, Subcommand};
use layerlab_labs::run::RunOptions;
use layerlab_labs::store;
use layerlab_tui::{app, runner, theme};
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
    Tutor {
        /// kube context for the Kubernetes labs (default: kind-layerlab).
        #[arg(long)]
        context: Option<String>,
    },
    /// Check a lessons tree for authoring errors (the embedded course by default).
    Lint {
        /// A lessons content folder, e.g. lessons/content.
        path: Option<PathBuf>,
    },
    /// Read packet captures (pcap, pcapng): summaries, field trees, conversations.
    #[command(subcommand)]
    Packet(packet_cli::PacketCommand),
    /// Hands-on labs: a private network sandbox per lab, checked live.
    #[command(subcommand)]
    Lab(lab_cli::LabCommand),
    /// The kind cluster for the Kubernetes labs: up [--chapter 4|5], status, down.
    Cluster(cluster_cli::ClusterArgs),
    /// A workshop's gradebook: export the class's results, back it up.
    #[command(subcommand)]
    Workshop(workshop_cli::WorkshopCommand),
    /// A tiny HTTP server answering "Hello" (used inside lab sandboxes).
    HelloServer {
        /// Address and port to listen on.
        #[arg(long, default_value = "0.0.0.0:8080")]
        listen: String,
        /// Who answers: the reply says `Hello from NAME!` (a pod's name in the Service labs).
        #[arg(long, default_value = "layerlab")]
        name: String,
    },
    /// Serve the web app and its JSON API (see docs/web-api.md).
    Serve {
        /// TCP port.
        #[arg(long, default_value_t = layerlab_server::DEFAULT_PORT)]
        port: u16,
        /// Address to listen on; 0.0.0.0 exposes the server to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// kube context for kind labs (default: kind-layerlab).
        #[arg(long)]
        context: Option<String>,
        /// Serve the course only: no lab sandboxes, checks or console.
        #[arg(long)]
        no_labs: bool,
        /// Keep each learner's progress in DIR/<name>.json, merged with their
        /// browser's (learners open `/?learner=NAME`).
        #[arg(long, value_name = "DIR")]
        learners: Option<std::path::PathBuf>,
        /// Run a workshop from this TOML file (title, chapters, labs, hours,
        /// join code): learners join at /join, each in their own confined
        /// sandboxes; needs root. See docs/workshop-guide.md.
        #[arg(long, value_name = "FILE")]
        workshop: Option<std::path::PathBuf>,
        /// The workshop's data folder: roster, session key, instructor
        /// token, learners' progress (kept across restarts).
        #[arg(long, value_name = "DIR", default_value = "/var/lib/layerlab")]
        data: std::path::PathBuf,
        /// Host uid learners' sandboxes run as (root only inside them).
        #[arg(long, value_name = "UID", default_value_t = 65534)]
        sandbox_uid: u32,
        /// Log JSON lines instead of text (filter with RUST_LOG).
        #[arg(long)]
        log_json: bool,
        /// Only ask a running server at --bind/--port for /api/health:
        /// exit 0 if healthy (for container health checks).
        #[arg(long)]
        health_check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => tutor(None).map(|()| true),
        Some(Command::Tutor { context }) => tutor(context).map(|()| true),
        Some(Command::Lint { path }) => lint::run(path.as_deref()),
        Some(Command::Packet(cmd)) => packet_cli::run(cmd),
        Some(Command::Lab(cmd)) => lab_cli::run(cmd),
        Some(Command::Cluster(args)) => cluster_cli::run(args),
        Some(Command::Workshop(cmd)) => workshop_cli::run(cmd),
        Some(Command::HelloServer { listen, name }) => {
            layerlab_labs::hello::serve_as(&listen, &name)
                .map(|()| true)
                .map_err(|e| anyhow::anyhow!("hello-server on {listen}: {e}"))
        }
        Some(Command::Serve {
            port,
            bind,
            context,
            no_labs,
            learners,
            workshop,
            data,
            sandbox_uid,
            log_json,
            health_check,
        }) => serve(
            layerlab_server::ServeOptions {
                port,
                bind,
                context,
                labs: !no_labs,
                learners,
                workshop,
                data,
                sandbox_uid,
                log_json,
                ..Default::default()
            },
            health_check,
        )
        .map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("layerlab: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// `layerlab serve`: the web server on a multi-threaded runtime, or with
/// `--health-check` a one-shot probe of a running one.
fn serve(opts: layerlab_server::ServeOptions, health_check: bool) -> Result<()> {
    if health_check {
        let addr = opts.local_addr();
        return Ok(layerlab_server::probe(
            addr,
            std::time::Duration::from_secs(3),
        )?);
    }
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(layerlab_server::serve(opts))?)
}

fn tutor(context: Option<String>) -> Result<()> {
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
    )
    .with_journeys(layerlab_lessons::journeys());
    app.status = notice;
    Ok(runner::run(
        app,
        &store,
        RunOptions {
            context,
            ..RunOptions::default()
        },
    )?)
}

/// The error and its causes on one line, each cause once: library errors
/// already name their cause in their message, context added here does not.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
}
