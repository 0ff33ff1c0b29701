//! Terminals in the browser: a lab's shell on a PTY, attached to a page
//! over a WebSocket (`GET /api/labs/{id}/terminal`, protocol in
//! `docs/web-api.md`).
//!
//! A session (PTY, shell, scrollback) outlives its socket: a page that
//! reconnects gets the scrollback replayed, then live output, from the same
//! shell. Three threads serve a session: a reader that always drains the
//! PTY into a bounded ring (so a client that never reads neither blocks
//! the shell nor grows memory), a writer that feeds input, and a waiter
//! that notices the shell's exit. Sockets only ever read from the ring.

use crate::error::ApiError;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use layerlab_labs::pty::{self, Pty};
use layerlab_labs::pty::{ChildKiller, MasterPty};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info};

/// Output kept per session and replayed to a page that (re)attaches.
pub const SCROLLBACK: usize = 64 * 1024;
/// Largest message a client may send (a paste is sent in one message).
pub const FRAME_LIMIT: usize = 64 * 1024;
/// Most live sessions per server; more are refused with a 503.
pub const MAX_SESSIONS: usize = 512;
/// Longest one send to a page may take before the socket is dropped (the
/// shell keeps running; the page may reconnect).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest terminal accepted in a resize, in columns or rows.
pub const MAX_DIMENSION: u16 = 1000;
/// Input messages queued for a shell that is not reading.
const INPUT_QUEUE: usize = 16;
/// Output frames sent in a row before input gets its turn.
const FRAMES_PER_TURN: usize = 4;
/// Longest the exit waiter waits for the shell's last output.
const LAST_OUTPUT: Duration = Duration::from_millis(500);

type Sessions = Arc<Mutex<HashMap<String, Arc<Session>>>>;

/// The live terminal sessions of a server, by key (a lab id; `learner/lab`
/// in a workshop).
#[derive(Default)]
pub struct Terminals {
    sessions: Sessions,
}

impl std::fmt::Debug for Terminals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminals")
            .field("sessions", &lock(&self.sessions).len())
            .finish()
    }
}

/// A session a page is about to attach to (see [`upgrade`]).
#[derive(Debug)]
pub struct Terminal(Arc<Session>);

impl Terminal {
    /// The shell's process id.
    pub fn pid(&self) -> Option<u32> {
        self.0.pid
    }
}

impl Terminals {
    /// No sessions yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live session under `key`, or a new one running the command
    /// `start` gives (called only when a shell must be started).
    pub async fn open<F, Fut>(&self, key: &str, start: F) -> Result<Terminal, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Command, ApiError>>,
    {
        if let Some(s) = self.live(key) {
            return Ok(Terminal(s));
        }
        if self.len() >= MAX_SESSIONS {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "this server has {MAX_SESSIONS} terminals open, its most; close one and retry"
                ),
            ));
        }
        let cmd = start().await?;
        let sessions = self.sessions.clone();
        let owned_key = key.to_string();
        let session =
            tokio::task::spawn_blocking(move || Session::start(owned_key, &cmd, sessions))
                .await
                .map_err(|_| internal())??;
        let mut map = lock(&self.sessions);
        // Two pages may have started a shell at once: the first one wins.
        if let Some(s) = map.get(key).filter(|s| s.gone().is_none()) {
            session.end("a second shell started at the same moment");
            return Ok(Terminal(s.clone()));
        }
        if session.gone().is_some() {
            // It ended before it was listed, so its waiter found nothing to
            // remove: do not list a dead shell.
            return Ok(Terminal(session));
        }
        map.insert(key.to_string(), session.clone());
        info!(key, pid = ?session.pid, "terminal started");
        Ok(Terminal(session))
    }

    /// Ends the session under `key` (its lab was stopped, reset or
    /// reclaimed): its shell is killed and its page told why.
    pub fn close(&self, key: &str) -> bool {
        let removed = lock(&self.sessions).remove(key);
        match removed {
            Some(s) => {
                s.end("the lab's sandbox was stopped or reset");
                true
            }
            None => false,
        }
    }

    /// How long since input last came to the live session under `key`.
    pub fn idle_for(&self, key: &str) -> Option<Duration> {
        self.live(key)
            .map(|s| s.typed.lock().unwrap_or_else(|e| e.into_inner()).elapsed())
    }

    fn live(&self, key: &str) -> Option<Arc<Session>> {
        lock(&self.sessions)
            .get(key)
            .filter(|s| s.gone().is_none())
            .cloned()
    }
}

/// One shell on a PTY and what it printed.
struct Session {
    key: String,
    pid: Option<u32>,
    out: Mutex<Output>,
    /// Bumped on new output, exit and (re)attach; sockets wait on it.
    changed: watch::Sender<u64>,
    input: mpsc::Sender<Vec<u8>>,
    /// When the page last sent input (a workshop's idle reclaim asks).
    typed: Mutex<std::time::Instant>,
    master: Mutex<Box<dyn MasterPty + Send>>,
    killer: Mutex<Box<dyn ChildKiller + Send + Sync>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("key", &self.key)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// The ring of recent output and the session's state.
#[derive(Default)]
struct Output {
    ring: VecDeque<u8>,
    /// Bytes the shell ever printed: the ring holds `total - ring.len()..total`.
    total: u64,
    /// Why the shell is gone, once it is.
    gone: Option<String>,
    /// Which attach is current; an older socket sees it was replaced.
    attach: u64,
}

impl Output {
    fn push(&mut self, bytes: &[u8]) {
        self.ring.extend(bytes);
        let over = self.ring.len().saturating_sub(SCROLLBACK);
        self.ring.drain(..over);
        self.total += bytes.len() as u64;
    }

    /// Up to `max` bytes from position `from` (skipping what the ring has
    /// already dropped), and the position after them.
    fn read_from(&self, from: u64, max: usize) -> (Vec<u8>, u64) {
        let start = self.total - self.ring.len() as u64;
        let from = from.max(start);
        let skip = usize::try_from(from - start).unwrap_or(usize::MAX);
        let bytes: Vec<u8> = self.ring.iter().skip(skip).take(max).copied().collect();
        let next = from + bytes.len() as u64;
        (bytes, next)
    }
}

impl Session {
    /// Starts `cmd` on a new PTY with its reader, writer and exit waiter.
    fn start(key: String, cmd: &Command, sessions: Sessions) -> Result<Arc<Session>, ApiError> {
        let Pty {
            master,
            mut child,
            mut reader,
            mut writer,
        } = pty::spawn(cmd, 24, 80).map_err(|e| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("no terminal: {e}"))
        })?;
        let (input, mut input_rx) = mpsc::channel::<Vec<u8>>(INPUT_QUEUE);
        let session = Arc::new(Session {
            key,
            pid: child.process_id(),
            out: Mutex::new(Output::default()),
            changed: watch::Sender::new(0),
            input,
            typed: Mutex::new(std::time::Instant::now()),
            master: Mutex::new(master),
            killer: Mutex::new(child.clone_killer()),
        });
        let thread = |name: &str| std::thread::Builder::new().name(format!("layerlab-term-{name}"));
        let spawn_failed = |e: std::io::Error| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no terminal: cannot start a thread: {e}"),
            )
        };

        let (drained, drained_rx) = std::sync::mpsc::channel::<()>();
        let s = session.clone();
        let reader_thread = thread("read").spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            // EOF, or EIO once the last holder of the terminal side is gone.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                lock(&s.out).push(&buf[..n]);
                s.bump();
            }
            let _ = drained.send(());
        });
        if let Err(e) = reader_thread {
            let _ = child.kill();
            return Err(spawn_failed(e));
        }
        // Ends when the session (holding the sender) is gone or the shell is.
        let _ = thread("write").spawn(move || {
            while let Some(bytes) = input_rx.blocking_recv() {
                if writer
                    .write_all(&bytes)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
        let s = session.clone();
        let waiter = thread("wait").spawn(move || {
            let why = match child.wait() {
                Ok(st) if st.signal().is_some() => {
                    format!("the shell was ended ({st}): the lab's sandbox may have been stopped or reset")
                }
                Ok(st) => format!("the shell exited (status {})", st.exit_code()),
                Err(e) => format!("the shell is gone: {e}"),
            };
            // Its last words (`exit`, an error) before the goodbye; a job
            // left running in the background may keep the PTY open, so
            // not for long.
            let _ = drained_rx.recv_timeout(LAST_OUTPUT);
            s.finish(why);
            let mut map = lock(&sessions);
            if map.get(&s.key).is_some_and(|m| Arc::ptr_eq(m, &s)) {
                map.remove(&s.key);
            }
        });
        if let Err(e) = waiter {
            session.end("no exit waiter");
            return Err(spawn_failed(e));
        }
        Ok(session)
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn gone(&self) -> Option<String> {
        lock(&self.out).gone.clone()
    }

    /// Marks the shell gone (the first reason stays) and wakes its page.
    fn finish(&self, why: String) {
        lock(&self.out).gone.get_or_insert(why);
        self.bump();
    }

    /// Kills the shell, saying why.
    fn end(&self, why: &str) {
        self.finish(why.to_string());
        let _ = lock(&self.killer).kill();
    }

    fn resize(&self, rows: u16, cols: u16) {
        let _ = lock(&self.master).resize(pty::size(rows, cols));
    }
}

/// A control message from the page (text frames).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum Control {
    Resize { cols: u16, rows: u16 },
}

/// Accepts the WebSocket and attaches it to `terminal`, replacing any page
/// attached before.
pub fn upgrade(ws: WebSocketUpgrade, terminal: Terminal) -> Response {
    // The library's own cap sits above ours, so ours (with a clear close
    // reason) is what clients normally meet.
    ws.max_message_size(2 * FRAME_LIMIT)
        .max_frame_size(2 * FRAME_LIMIT)
        .on_upgrade(move |socket| attach(socket, terminal.0))
}

/// How a socket's life ended.
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The peer left or stalled: just drop the connection.
    Drop,
}

async fn attach(mut socket: WebSocket, s: Arc<Session>) {
    let mut changed = s.changed.subscribe();
    let me = {
        let mut out = lock(&s.out);
        out.attach += 1;
        out.attach
    };
    s.bump();
    debug!(key = %s.key, attach = me, "terminal attached");
    let end = serve(&mut socket, &s, &mut changed, me).await;
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(clip(&reason, 123)),
        };
        let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    }
    debug!(key = %s.key, attach = me, "terminal detached");
}

/// Replays the scrollback, then forwards output and input until the shell
/// is gone, another page attaches, or the page leaves.
async fn serve(
    socket: &mut WebSocket,
    s: &Session,
    changed: &mut watch::Receiver<u64>,
    me: u64,
) -> End {
    let mut sent = 0u64;
    loop {
        changed.borrow_and_update();
        for _ in 0..FRAMES_PER_TURN {
            let (bytes, next, gone, current) = {
                let out = lock(&s.out);
                let (bytes, next) = out.read_from(sent, FRAME_LIMIT);
                (bytes, next, out.gone.clone(), out.attach)
            };
            if current != me {
                let _ = send(socket, Message::Text(r#"{"type":"replaced"}"#.into())).await;
                return End::Close(1000, "another page opened this terminal".into());
            }
            if bytes.is_empty() {
                if let Some(why) = gone {
                    let msg = serde_json::json!({"type": "gone", "reason": why}).to_string();
                    let _ = send(socket, Message::Text(msg.into())).await;
                    return End::Close(1000, "the shell is gone".into());
                }
                break;
            }
            sent = next;
            if !send(socket, Message::Binary(bytes.into())).await {
                return End::Drop;
            }
        }
        tokio::select! {
            _ = changed.changed() => {}
            msg = socket.recv() => match msg {
                None | Some(Ok(Message::Close(_))) => return End::Drop,
                Some(Err(e)) => return End::Close(1009, format!("bad message: {e}")),
                Some(Ok(Message::Binary(b))) => {
                    if b.len() > FRAME_LIMIT {
                        return End::Close(1009, format!("input over {FRAME_LIMIT} bytes in one message"));
                    }
                    // Waits while the shell is not reading: the page's input
                    // then backs up in its own socket, not here.
                    *s.typed.lock().unwrap_or_else(|e| e.into_inner()) = std::time::Instant::now();
                    let _ = s.input.send(b.to_vec()).await;
                }
                Some(Ok(Message::Text(t))) => {
                    if t.len() > 1024 {
                        return End::Close(1009, "control message over 1024 bytes".into());
                    }
                    match serde_json::from_str::<Control>(&t) {
                        Ok(Control::Resize { cols, rows })
                            if (1..=MAX_DIMENSION).contains(&cols)
                                && (1..=MAX_DIMENSION).contains(&rows) =>
                        {
                            s.resize(rows, cols);
                        }
                        Ok(Control::Resize { cols, rows }) => {
                            return End::Close(
                                1007,
                                format!("resize to {cols}x{rows}: columns and rows must be 1 to {MAX_DIMENSION}"),
                            );
                        }
                        Err(e) => {
                            return End::Close(1007, format!("bad control message: {e}"));
                        }
                    }
                }
                Some(Ok(_)) => {} // ping and pong: answered by the library
            },
        }
    }
}

/// Sends with a deadline; false when the page did not take it in time.
async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(msg)).await,
        Ok(Ok(()))
    )
}

/// At most `max` bytes of `s`, cut at a character boundary (close reasons
/// are limited to 123 bytes).
fn clip(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn internal() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_latest_output_and_positions() {
        let mut out = Output::default();
        out.push(&vec![b'a'; SCROLLBACK]);
        out.push(b"xyz");
        assert_eq!(out.ring.len(), SCROLLBACK);
        assert_eq!(out.total, SCROLLBACK as u64 + 3);
        // A reader far behind skips what was dropped.
        let (bytes, next) = out.read_from(0, SCROLLBACK);
        assert_eq!(bytes.len(), SCROLLBACK);
        assert_eq!(&bytes[SCROLLBACK - 3..], b"xyz");
        assert_eq!(next, out.total);
        let (bytes, next) = out.read_from(out.total - 2, 10);
        assert_eq!(bytes, b"yz");
        assert_eq!(next, out.total);
        assert!(out.read_from(out.total, 10).0.is_empty());
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sessions without a socket or a sandbox (any user): one per key,
    /// output in the ring, an exit noticed and forgotten, close kills.
    #[tokio::test]
    async fn sessions_are_kept_by_key_until_their_shell_goes() {
        let terms = Terminals::new();
        let a = terms
            .open("a", || async {
                Ok(sh("echo ready-$((40+2)); exec sleep 30"))
            })
            .await
            .unwrap();
        let again = terms
            .open("a", || async { panic!("a live session is reused") })
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&a.0, &again.0));
        let s = a.0.clone();
        wait_for("output", || {
            String::from_utf8_lossy(&lock(&s.out).read_from(0, SCROLLBACK).0).contains("ready-42")
        })
        .await;

        let b = terms
            .open("b", || async { Ok(sh("exit 3")) })
            .await
            .unwrap();
        let s = b.0.clone();
        wait_for("exit", || s.gone().is_some()).await;
        assert!(s.gone().unwrap().contains("status 3"), "{:?}", s.gone());
        wait_for("removal", || terms.len() == 1).await;

        assert!(terms.close("a"));
        assert!(!terms.close("a"));
        assert!(a.0.gone().unwrap().contains("stopped or reset"));
        assert!(terms.is_empty());
        let proc = format!("/proc/{}", a.pid().expect("a pid"));
        wait_for("the shell's end", || !std::path::Path::new(&proc).exists()).await;
    }

    #[test]
    fn close_reasons_are_cut_at_a_character() {
        assert_eq!(clip("ééé", 3), "é");
        assert_eq!(clip("abc", 123), "abc");
    }

    #[test]
    fn control_messages_parse_strictly() {
        assert!(matches!(
            serde_json::from_str::<Control>(r#"{"type":"resize","cols":80,"rows":24}"#),
            Ok(Control::Resize { cols: 80, rows: 24 })
        ));
        for bad in [
            r#"{"type":"resize","cols":-1,"rows":24}"#,
            r#"{"type":"resize","cols":80}"#,
            r#"{"type":"nope"}"#,
            "not json",
        ] {
            assert!(serde_json::from_str::<Control>(bad).is_err(), "{bad}");
        }
    }
}
