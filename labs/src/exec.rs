//! Running commands with a deadline, capturing their output.

use layerlab_core::lab::CommandOutput;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Runs `cmd` to completion or until `timeout`, then kills it. Output
/// arrives even from a killed command; a command that cannot start becomes
/// exit 127 with the reason on stderr.
pub fn run(mut cmd: Command, timeout: Duration) -> CommandOutput {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return CommandOutput {
                exit: 127,
                stdout: String::new(),
                stderr: format!("cannot start {:?}: {e}", cmd.get_program()),
            };
        }
    };
    wait(child, timeout)
}

/// Waits for a spawned child with piped stdout/stderr.
///
/// Output is collected until the child exits plus a short grace period, not
/// until the pipes close: a command that starts a server in the background
/// (`hello-server &`) leaves a grandchild holding the pipe open.
pub fn wait(mut child: Child, timeout: Duration) -> CommandOutput {
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                // The whole process group, so helpers it started go too.
                // SAFETY: kill(2) takes plain integers and touches no memory;
                // the group is the child's own (it was started as a group leader).
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(1)),
            Err(_) => break None,
        }
    };
    let grace = Instant::now() + Duration::from_millis(200);
    let take = |r: Option<Reader>| -> Vec<u8> {
        let Some(r) = r else { return Vec::new() };
        while !r.done.load(Ordering::Acquire) && Instant::now() < grace {
            thread::sleep(Duration::from_millis(1));
        }
        std::mem::take(&mut *r.buf.lock().unwrap_or_else(|e| e.into_inner()))
    };
    let stdout = take(out);
    let mut stderr = take(err);
    if timed_out {
        stderr.extend_from_slice(
            format!(
                "\n(killed after {} ms without finishing)",
                timeout.as_millis()
            )
            .as_bytes(),
        );
    }
    CommandOutput {
        exit: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

struct Reader {
    buf: Arc<Mutex<Vec<u8>>>,
    done: Arc<AtomicBool>,
}

fn reader(mut r: impl Read + Send + 'static) -> Reader {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let (b, d) = (buf.clone(), done.clone());
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => b
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&chunk[..n]),
            }
        }
        d.store(true, Ordering::Release);
    });
    Reader { buf, done }
}

/// Waits up to `timeout` for a child to exit, killing it after that.
pub fn wait_quietly(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                return child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_exit_codes_and_timeouts() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo out; echo err >&2; exit 3"]);
        let o = run(c, Duration::from_secs(5));
        assert_eq!(
            (o.exit, o.stdout.as_str(), o.stderr.as_str()),
            (3, "out\n", "err\n")
        );
        let mut c = Command::new("sh");
        c.args(["-c", "echo started; exec sleep 10"]);
        let t = Instant::now();
        let o = run(c, Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(o.exit, -1);
        assert!(o.stderr.contains("killed after 200 ms"), "{}", o.stderr);
        assert_eq!(o.stdout, "started\n");
        let o = run(Command::new("/no/such/program"), Duration::from_secs(1));
        assert_eq!(o.exit, 127);
        // A background grandchild keeps the pipe open; we still return.
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 5 & echo done"]);
        let t = Instant::now();
        let o = run(c, Duration::from_secs(5));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!((o.exit, o.stdout.as_str()), (0, "done\n"));
    }
}
