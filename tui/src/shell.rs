//! The lab's shell pane: a real PTY running bash inside the lab sandbox,
//! its output parsed by a vt100 emulator that the view draws.

use crate::error::{Result, TuiError};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use portable_pty::{Child, MasterPty, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// A running shell and the screen it has drawn so far.
pub struct Shell {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    size: (u16, u16),
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell").field("size", &self.size).finish()
    }
}

impl Shell {
    /// Starts `cmd` on a new PTY of `rows`×`cols`; `on_output` is called
    /// (from a reader thread) whenever the screen changed or the shell ended.
    pub fn spawn(
        cmd: &std::process::Command,
        rows: u16,
        cols: u16,
        on_output: impl Fn(bool) + Send + 'static,
    ) -> Result<Shell> {
        let size = layerlab_labs::pty::size(rows, cols);
        let pty = layerlab_labs::pty::spawn(cmd, rows, cols).map_err(|e| TuiError::Start {
            what: e.what,
            source: e.source,
        })?;
        let mut reader = pty.reader;
        let writer = pty.writer;
        let parser = Arc::new(Mutex::new(vt100::Parser::new(size.rows, size.cols, 2000)));
        let p = parser.clone();
        std::thread::Builder::new()
            .name("layerlab-shell".into())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            p.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .process(&buf[..n]);
                            on_output(false);
                        }
                    }
                }
                on_output(true);
            })
            .map_err(|e| shell_error("cannot start the shell reader", e))?;
        Ok(Shell {
            parser,
            writer,
            master: pty.master,
            child: pty.child,
            size: (size.rows, size.cols),
        })
    }

    /// Sends bytes to the shell as if typed.
    pub fn write(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
        let _ = self.writer.flush();
    }

    /// Follows the pane's size.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        let (rows, cols) = (rows.max(2), cols.max(10));
        if (rows, cols) == self.size {
            return;
        }
        self.size = (rows, cols);
        let _ = self.master.resize(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        });
        self.parser
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .screen_mut()
            .set_size(rows, cols);
    }

    /// The emulated screen, to draw.
    pub fn screen(&self) -> MutexGuard<'_, vt100::Parser> {
        self.parser.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the shell has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The bytes a terminal sends for a key.
pub fn key_bytes(key: KeyEvent) -> Vec<u8> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let mut out = Vec::new();
    if alt {
        out.push(0x1b);
    }
    match key.code {
        KeyCode::Char(c) if ctrl => {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() {
                out.push(c as u8 - b'a' + 1);
            } else if c == ' ' {
                out.push(0);
            }
        }
        KeyCode::Char(c) => {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
        KeyCode::Enter => out.push(b'\r'),
        KeyCode::Backspace => out.push(0x7f),
        KeyCode::Tab => out.push(b'\t'),
        KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Esc => out.push(0x1b),
        KeyCode::Up => out.extend_from_slice(b"\x1b[A"),
        KeyCode::Down => out.extend_from_slice(b"\x1b[B"),
        KeyCode::Right => out.extend_from_slice(b"\x1b[C"),
        KeyCode::Left => out.extend_from_slice(b"\x1b[D"),
        KeyCode::Home => out.extend_from_slice(b"\x1b[H"),
        KeyCode::End => out.extend_from_slice(b"\x1b[F"),
        KeyCode::Delete => out.extend_from_slice(b"\x1b[3~"),
        KeyCode::PageUp => out.extend_from_slice(b"\x1b[5~"),
        KeyCode::PageDown => out.extend_from_slice(b"\x1b[6~"),
        _ => {}
    }
    out
}

fn shell_error(
    what: &'static str,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> TuiError {
    TuiError::Start {
        what,
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_real_pty_runs_a_shell_and_its_screen_is_readable() {
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["--norc", "--noprofile", "-i"]);
        cmd.env("PS1", "$ ");
        let (tx, rx) = mpsc::channel();
        let mut sh = Shell::spawn(&cmd, 10, 60, move |done| {
            let _ = tx.send(done);
        })
        .expect("spawn");
        for b in "echo $((6*7))\r".chars() {
            sh.write(&key_bytes(KeyEvent::new(
                KeyCode::Char(b),
                KeyModifiers::NONE,
            )));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sh.screen().screen().contents().contains("\n42") {
            assert!(
                Instant::now() < deadline,
                "{}",
                sh.screen().screen().contents()
            );
            let _ = rx.recv_timeout(Duration::from_millis(100));
        }
        // Wait for the next prompt: a Ctrl-D that lands while bash is still
        // between commands (or redrawing after the resize) can be lost.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sh
            .screen()
            .screen()
            .contents()
            .trim_end()
            .ends_with("42\n$")
        {
            assert!(
                Instant::now() < deadline,
                "no prompt after the command: {}",
                sh.screen().screen().contents()
            );
            let _ = rx.recv_timeout(Duration::from_millis(20));
        }
        sh.resize(20, 80);
        assert_eq!(sh.screen().screen().size(), (20, 80));
        // Ctrl-D on an empty line ends bash; pressed again if the first one
        // raced the resize's redraw, as a person would.
        let mut exited = false;
        for _ in 0..3 {
            sh.write(&key_bytes(KeyEvent::new(
                KeyCode::Char('d'),
                KeyModifiers::CONTROL,
            )));
            let deadline = Instant::now() + Duration::from_secs(2);
            while !sh.exited() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if sh.exited() {
                exited = true;
                break;
            }
        }
        assert!(
            exited,
            "shell did not exit on Ctrl-D: {}",
            sh.screen().screen().contents()
        );
    }

    #[test]
    fn keys_become_terminal_bytes() {
        let k = |c, m| key_bytes(KeyEvent::new(c, m));
        assert_eq!(k(KeyCode::Char('c'), KeyModifiers::CONTROL), vec![3]);
        assert_eq!(k(KeyCode::Up, KeyModifiers::NONE), b"\x1b[A".to_vec());
        assert_eq!(
            k(KeyCode::Char('é'), KeyModifiers::NONE),
            "é".as_bytes().to_vec()
        );
        assert_eq!(k(KeyCode::Char('b'), KeyModifiers::ALT), vec![0x1b, b'b']);
    }
}
