//! A lab shell on a pseudo-terminal: the one place that turns the
//! `std::process::Command` a lab run describes (`LabRun::shell_command`)
//! into a process on a PTY. The tutor's shell pane and the web server's
//! terminals both start their shells here.

use portable_pty::native_pty_system;
pub use portable_pty::{Child, ChildKiller, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::process::Command;

/// A shell running on a pseudo-terminal, with both ends of its I/O.
pub struct Pty {
    /// The PTY's controlling side: resize it here.
    pub master: Box<dyn MasterPty + Send>,
    /// The shell process.
    pub child: Box<dyn Child + Send + Sync>,
    /// What the shell prints (blocking reads; EOF or an error once it is gone).
    pub reader: Box<dyn Read + Send>,
    /// What the shell reads, as if typed.
    pub writer: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Pty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pty")
            .field("pid", &self.child.process_id())
            .finish_non_exhaustive()
    }
}

/// A PTY that could not be set up: what failed, and why.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct PtyError {
    /// What failed (`cannot open a pseudo-terminal`, ...).
    pub what: &'static str,
    /// The cause.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Wraps any library error (portable-pty reports `anyhow::Error`s) with
/// what was being done.
fn err<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
    what: &'static str,
) -> impl FnOnce(E) -> PtyError {
    move |e| PtyError {
        what,
        source: e.into(),
    }
}

/// A window size as the PTY wants it; tiny sizes are raised to 2×10 (a
/// shell on a 0-column terminal misbehaves).
pub fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows: rows.max(2),
        cols: cols.max(10),
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// Converts a `std::process::Command` (how a lab run describes its shell)
/// into what the PTY library spawns: program, arguments, environment
/// changes and working directory.
pub fn builder(cmd: &Command) -> CommandBuilder {
    let mut b = CommandBuilder::new(cmd.get_program());
    for a in cmd.get_args() {
        b.arg(a);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => b.env(k, v),
            None => b.env_remove(k),
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        b.cwd(dir);
    }
    b
}

/// Starts `cmd` on a new PTY of `rows`×`cols`.
pub fn spawn(cmd: &Command, rows: u16, cols: u16) -> Result<Pty, PtyError> {
    let pair = native_pty_system()
        .openpty(size(rows, cols))
        .map_err(err("cannot open a pseudo-terminal"))?;
    let child = pair
        .slave
        .spawn_command(builder(cmd))
        .map_err(err("cannot start the lab shell"))?;
    // Only the child holds the terminal side now, so its exit ends our reads.
    drop(pair.slave);
    let reader = pair
        .master
        .try_clone_reader()
        .map_err(err("cannot read the pseudo-terminal"))?;
    let writer = pair
        .master
        .take_writer()
        .map_err(err("cannot write to the pseudo-terminal"))?;
    Ok(Pty {
        master: pair.master,
        child,
        reader,
        writer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_runs_on_a_pty_with_its_env_and_size() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "test -t 0 && echo tty; echo \"$LL_X\"; stty size"])
            .env("LL_X", "from-env")
            .current_dir("/");
        let mut pty = spawn(&cmd, 7, 33).expect("spawn");
        let mut out = Vec::new();
        // EOF (or EIO on Linux) once the child is gone.
        let _ = pty.reader.read_to_end(&mut out);
        let out = String::from_utf8_lossy(&out);
        assert!(out.contains("tty"), "stdin is a terminal: {out:?}");
        assert!(out.contains("from-env"), "{out:?}");
        assert!(out.contains("7 33"), "{out:?}");
        assert!(pty.child.wait().expect("wait").success());
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let e = spawn(&Command::new("/nonexistent/layerlab-shell"), 24, 80).unwrap_err();
        assert_eq!(e.what, "cannot start the lab shell");
    }
}
