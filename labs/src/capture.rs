//! Packet captures inside a sandbox namespace, with tcpdump writing pcap to
//! a pipe while the check's trigger command runs.

use crate::exec;
use crate::sandbox::Sandbox;
use layerlab_core::lab::{CaptureCheck, Observation};
use std::io::Read;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use layerlab_core::lab::shell_quote as quote;

/// Captures as the check describes; the pcap is also saved to `keep`.
pub fn capture(sb: &Sandbox, c: &CaptureCheck, keep: Option<&std::path::Path>) -> Observation {
    let ns = c
        .netns
        .as_deref()
        .map(|n| format!("ip netns exec {} ", quote(n)))
        .unwrap_or_default();
    let filter = c.filter.as_deref().map(quote).unwrap_or_default();
    // `timeout -s INT` ends the window inside the sandbox the way Ctrl-C
    // would (tcpdump flushes and exits); -U writes each packet at once and
    // --immediate-mode hands it over at once (without it the kernel holds
    // packets for up to a second, and every capture check waits that long);
    // `-Z root` keeps tcpdump from switching to its own user, which a
    // rootless (user-namespace) sandbox cannot do.
    let script = format!(
        "exec {ns}timeout -s INT {:.3} tcpdump --immediate-mode -Z root -i {} -nn -U -s 262144 -c {} -w - {filter}",
        c.window_ms as f64 / 1000.0,
        quote(&c.interface),
        c.count
    );
    let mut cmd = sb.command(&["bash", "-c", &script]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Observation::Failed(format!("cannot start tcpdump: {e}")),
    };
    // tcpdump says "listening on" on stderr once packets can be seen.
    let mut stderr = child.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut all = String::new();
        let mut buf = [0u8; 1024];
        loop {
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.push_str(&String::from_utf8_lossy(&buf[..n]));
                    let _ = tx.send(all.clone());
                }
            }
        }
    });
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut said = String::new();
    while !said.contains("listening on") {
        match rx.recv_timeout(Duration::from_secs(3).saturating_sub(start.elapsed())) {
            Ok(s) => said = s,
            Err(_) => break,
        }
        if said.contains("tcpdump:") && !said.contains("listening on") && said.contains("rror") {
            break;
        }
    }
    if !said.contains("listening on") {
        let _ = child.kill();
        let _ = child.wait();
        let why = said.trim();
        return Observation::Failed(if why.is_empty() {
            "tcpdump did not start listening within 3 s".into()
        } else {
            format!("tcpdump could not capture: {why}")
        });
    }
    let trigger = c
        .trigger
        .as_deref()
        .map(|t| sb.run(t, Duration::from_millis(c.window_ms.max(1000))));
    // tcpdump stops itself at the packet count or the window's end.
    let _ = exec::wait_quietly(&mut child, Duration::from_millis(c.window_ms + 3000));
    let pcap = reader.join().unwrap_or_default();
    if let Some(path) = keep {
        let _ = std::fs::write(path, &pcap);
    }
    if pcap.len() < 24 {
        return Observation::Failed("tcpdump wrote no capture file".into());
    }
    Observation::Packets { pcap, trigger }
}
