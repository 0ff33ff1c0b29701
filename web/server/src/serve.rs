//! Running the server: options, the accept loop (with a connection cap and
//! a header-read timeout, which `axum::serve` does not set), graceful
//! shutdown on Ctrl-C or SIGTERM, logging setup, and a health probe for
//! container `HEALTHCHECK`s.

use crate::{AppState, LabEngine, router};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

/// How `layerlab serve` listens and behaves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind; loopback unless told otherwise, so a workshop
    /// server is exposed only on purpose.
    pub bind: IpAddr,
    /// TCP port (0 picks a free one).
    pub port: u16,
    /// The kube context for kind labs; `None` uses `kind-layerlab`.
    pub context: Option<String>,
    /// Whether lab runs (sandboxes, checks, console) are allowed.
    pub labs: bool,
    /// Log as JSON lines instead of human-readable text.
    pub log_json: bool,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send its request headers within this time
    /// (slow-loris protection; also closes idle keep-alive connections).
    pub header_read_timeout: Duration,
    /// On shutdown, how long open requests may take to finish.
    pub shutdown_grace: Duration,
    /// Where learners' progress is kept (`None`: only in their browsers).
    pub learners: Option<std::path::PathBuf>,
    /// Run a workshop from this file (`--workshop`): learners join with a
    /// code, each gets confined sandboxes.
    pub workshop: Option<std::path::PathBuf>,
    /// The workshop's data folder (roster, session key, progress).
    pub data: std::path::PathBuf,
    /// Host uid learners' sandboxes run as (root only inside them).
    pub sandbox_uid: u32,
}

/// Port used when none is given.
pub const DEFAULT_PORT: u16 = 8080;

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            context: None,
            labs: true,
            log_json: false,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            learners: None,
            workshop: None,
            data: std::path::PathBuf::from("/var/lib/layerlab"),
            sandbox_uid: 65534,
        }
    }
}

impl ServeOptions {
    /// The address to reach the server at from this machine (a wildcard
    /// bind is reached through loopback).
    pub fn local_addr(&self) -> SocketAddr {
        let ip = match self.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.port)
    }
}

/// Sets up `tracing` output on stderr, filtered by `RUST_LOG` (default
/// `info`; `RUST_LOG=info,tower_http=debug` logs every request). Does
/// nothing if a subscriber is already set.
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // An error only means a subscriber exists already (tests, embedding).
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Why the server stopped or a health probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Socket trouble talking to `addr` (connect, read, write).
    #[error("{what} {addr}: {source}")]
    Io {
        /// What was being done (`cannot connect to`, `no answer from`).
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A server answered, but not healthy.
    #[error("{addr} answered {answer}")]
    Unhealthy {
        /// The address.
        addr: SocketAddr,
        /// What it said.
        answer: String,
    },
    /// The accept loop's limiter or a shutdown task failed.
    #[error("the server stopped: {0}")]
    Stopped(String),
    /// The workshop could not be opened.
    #[error(transparent)]
    Workshop(#[from] crate::workshop::WorkshopError),
}

/// Runs the server on the embedded course until Ctrl-C or SIGTERM.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    init_tracing(opts.log_json);
    let started = Instant::now();
    let mut state = AppState::embedded();
    let workshop = open_workshop(&opts)?;
    let learners = workshop.as_ref().map(|w| {
        let mut confine = layerlab_labs::confine::Confine {
            uid: opts.sandbox_uid,
            ..Default::default()
        };
        // Learners must never see the roster, keys or others' progress.
        confine.hide.push(w.data.clone());
        crate::labs::LearnerRuns {
            confine,
            spaces: w.data.join("cluster"),
            book: Some(w.book.clone()),
        }
    });
    state.labs = Arc::new(LabEngine::for_server(
        opts.labs,
        opts.bind,
        opts.context.clone(),
        learners,
    ));
    if let Some(w) = workshop {
        let idle = w.plan.idle;
        state = state.with_workshop(w);
        spawn_reclaimer(state.labs.clone(), state.terminals.clone(), idle);
    } else if opts.bind.is_loopback() {
        state.allowed_hosts = Some(["localhost", "127.0.0.1", "[::1]"].map(String::from).into());
    } else if opts.labs {
        warn!(
            bind = %opts.bind,
            "labs are off: the server is reachable from the network, and a lab sandbox would run anyone's commands as this server's user"
        );
    }
    if let Some(dir) = opts.learners.as_ref().filter(|_| state.workshop.is_none()) {
        info!(dir = %dir.display(), "keeping learners' progress");
        state.learners = Some(Arc::new(crate::learners::Learners::new(dir.clone())));
    }
    let engine = state.labs.clone();
    let app_built = state.assets.iter().any(|a| a.path == "index.html");
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr, source })?;
    info!(
        address = %local,
        url = %format!("http://{}/", ServeOptions { port: local.port(), ..opts.clone() }.local_addr()),
        app_built,
        context = opts.context.as_deref().unwrap_or(layerlab_kube::KIND_CONTEXT),
        labs = opts.labs,
        startup_ms = started.elapsed().as_secs_f64() * 1e3,
        "layerlab serve is listening"
    );
    if !app_built {
        warn!("the web app is not built: run `cargo xtask web` (the API works meanwhile)");
    }
    if let Some(w) = &state.workshop {
        // A wildcard bind is reached by this machine's name or address,
        // which only the instructor knows; say so instead of a loopback URL
        // no learner could open.
        let base = if opts.bind.is_unspecified() {
            format!("http://THIS-HOST:{}", local.port())
        } else {
            format!("http://{local}")
        };
        // Printed, not only logged: the instructor needs these lines.
        eprintln!(
            "\nWorkshop \"{}\": {} learners joined so far, labs: {}\n  learners join at   {base}/join  with code  {}\n  instructor sign-in {base}/instructor?token={}{}\n",
            w.plan.title,
            w.roster().len(),
            w.plan.labs.join(", "),
            w.plan.join_code,
            w.instructor_token(),
            if opts.bind.is_unspecified() {
                "\n  (THIS-HOST: this machine's name or address as learners reach it)"
            } else {
                ""
            }
        );
    }
    let served = run(listener, router(state), &opts, shutdown_signal()).await;
    tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .map_err(|e| ServeError::Stopped(e.to_string()))?;
    served
}

/// Opens the workshop of `opts`, if it runs one; its sandboxes are
/// confined, which needs root to switch uids and make cgroups.
fn open_workshop(opts: &ServeOptions) -> Result<Option<crate::workshop::Workshop>, ServeError> {
    let Some(file) = &opts.workshop else {
        return Ok(None);
    };
    let plan =
        crate::workshop::Plan::load(file, layerlab_lessons::course(), layerlab_labs::labs())?;
    let w = crate::workshop::Workshop::open(plan, &opts.data)?;
    reachable_by_sandboxes(&layerlab_labs::sandbox::state_root(), opts.sandbox_uid)?;
    // Sandboxes of a previous run of this server (its process is gone)
    // are removed now: a restart sweeps, learners start fresh sandboxes.
    let swept = layerlab_labs::sandbox::sweep_stale();
    if !swept.is_empty() {
        info!(
            count = swept.len(),
            "removed sandboxes left by a previous run"
        );
    }
    Ok(Some(w))
}

/// Learners' sandboxes run as `uid` and read their own state folder:
/// every folder above it must let others through, or each start fails with
/// a bare "Permission denied" from bubblewrap. Said once, at start.
fn reachable_by_sandboxes(root: &std::path::Path, uid: u32) -> Result<(), ServeError> {
    use std::os::unix::fs::MetadataExt;
    for dir in root.ancestors().filter(|d| d.exists()) {
        let meta =
            std::fs::metadata(dir).map_err(|source| crate::workshop::WorkshopError::Data {
                path: dir.into(),
                source,
            })?;
        if meta.mode() & 0o001 == 0 && meta.uid() != uid {
            return Err(crate::workshop::WorkshopError::Data {
                path: dir.into(),
                source: std::io::Error::other(format!(
                    "learners' sandboxes run as uid {uid} and cannot pass this folder to reach their \
                     state under {}: `chmod o+x {}`, or point LAYERLAB_SANDBOX_DIR elsewhere",
                    root.display(),
                    dir.display()
                )),
            }
            .into());
        }
    }
    Ok(())
}

/// Every half minute, removes sandboxes idle for longer than `idle`.
/// Typing in a lab's terminal counts as using it.
fn spawn_reclaimer(
    engine: Arc<LabEngine>,
    terminals: Arc<crate::terminal::Terminals>,
    idle: Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30).min(idle));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (engine, terms) = (engine.clone(), terminals.clone());
            let _ = tokio::task::spawn_blocking(move || {
                let key = |seat: Option<&str>, lab: &layerlab_core::lab::Lab| {
                    crate::api::terminal_key(seat, lab)
                };
                let removed = engine.reclaim_idle(idle, |seat, lab| {
                    terms.idle_for(&key(seat, lab)).is_some_and(|t| t < idle)
                });
                for (seat, lab) in removed {
                    if let Ok(lab) = layerlab_labs::find(lab) {
                        terms.close(&key(seat.as_deref(), lab));
                    }
                }
            })
            .await;
        }
    });
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// requests finish for up to `opts.shutdown_grace`.
pub async fn run(
    listener: TcpListener,
    app: Router,
    opts: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(64 * 1024);
    // hyper-util's GracefulShutdown cannot watch a connection that may be
    // upgraded (the terminal's WebSocket), so shutdown is signalled here and
    // open connections are counted by the permits they hold.
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let max = opts.max_connections.max(1);
    let permits = Arc::new(Semaphore::new(max));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.map_err(|_| ServeError::Stopped("connection limiter closed".into()))?,
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead
                    // of spinning; the error is the client's or transient.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small JSON responses should not wait for Nagle.
        let _ = stream.set_nodelay(true);
        // Handlers that rate-limit by client (joining) read the address.
        let app = app
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(remote)));
        let conn = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
            .with_upgrades();
        let mut close = closing_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let done = tokio::select! {
                done = conn.as_mut() => done,
                _ = close.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = done {
                debug!(%remote, error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    info!(
        connections = max - permits.available_permits(),
        "shutting down: finishing open requests"
    );
    let _ = closing.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    tokio::select! {
        _ = permits.acquire_many(all) => info!("all connections closed, bye"),
        () = tokio::time::sleep(opts.shutdown_grace) => warn!(
            grace_s = opts.shutdown_grace.as_secs_f64(),
            "gave up waiting for open connections"
        ),
    }
    Ok(())
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `docker stop`
/// and Kubernetes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => info!("Ctrl-C received"),
        () = term => info!("SIGTERM received"),
    }
}

/// Asks a running server at `addr` for `/api/health` and succeeds if it
/// answers 200 with status ok. Blocking and dependency-free, so a container
/// image needs no curl for its `HEALTHCHECK`.
pub fn probe(addr: SocketAddr, timeout: Duration) -> Result<(), ServeError> {
    let io = |what| move |source| ServeError::Io { what, addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(io("cannot connect to"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .and_then(|()| {
            write!(
                stream,
                "GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            )
        })
        .map_err(io("cannot ask"))?;
    let mut response = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut response)
        .map_err(io("no answer from"))?;
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or("");
    let unhealthy = |answer: String| Err(ServeError::Unhealthy { addr, answer });
    if !status_line.starts_with("HTTP/1.1 200") {
        return unhealthy(format!("{status_line:?}"));
    }
    if !text.contains(r#""status":"ok""#) {
        return unhealthy("200 without status ok".into());
    }
    Ok(())
}
