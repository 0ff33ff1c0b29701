//! `layerlab cluster up | status | down`: the command line over
//! `layerlab_kube::cluster`, which does the work.

use anyhow::Result;
use layerlab_kube::ConnectOptions;
use layerlab_kube::cluster;
use std::io::Write;
use std::path::PathBuf;

/// The cluster commands.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ClusterCommand,
    /// kubeconfig context (default: kind-layerlab); another context points
    /// the labs at an instructor's cluster.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
}

/// `layerlab cluster ...`
#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Create (or repair) the kind cluster `layerlab` for a chapter.
    Up {
        /// 4: Calico for NetworkPolicy; 5: ingress-nginx and LoadBalancers.
        #[arg(long, value_parser = clap::value_parser!(u8).range(4..=5))]
        chapter: Option<u8>,
    },
    /// Show whether the cluster is there and ready.
    Status,
    /// Delete the kind cluster and its LoadBalancer helper.
    Down,
}

/// Runs a cluster command; `Ok(false)` means "done, but not healthy".
pub fn run(args: ClusterArgs) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let opts = ConnectOptions {
        context: args.context.clone(),
        kubeconfig: args.kubeconfig.clone(),
    };
    let mut out = |line: &str| {
        println!("{line}");
        let _ = std::io::stdout().flush();
    };
    Ok(match args.command {
        ClusterCommand::Up { chapter } => rt
            .block_on(cluster::up(&opts, chapter, &mut out))
            .map(|()| true)?,
        ClusterCommand::Status => rt.block_on(cluster::status(&opts, &mut out))?,
        ClusterCommand::Down => cluster::down(&opts, &mut out).map(|()| true)?,
    })
}
