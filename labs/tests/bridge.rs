//! The bridge into a sandbox's network namespace (root only): from inside a
//! fresh network namespace only the bridged port leads out, to exactly one
//! address; when the namespace's holder exits, the bridge lets go of it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
#[cfg_attr(not(as_root), ignore = "needs root: joins another network namespace")]
fn a_bridge_leads_from_inside_a_namespace_to_one_address() {
    // Outside: a tiny server that answers one line.
    let outside = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = outside.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in outside.incoming().flatten() {
            let mut w = conn.try_clone().unwrap();
            let mut line = String::new();
            let _ = BufReader::new(conn).read_line(&mut line);
            let _ = write!(w, "outside heard {line}");
        }
    });
    // The "sandbox": a process alone in a new network namespace.
    let mut holder = Command::new("unshare")
        .args(["--net", "sh", "-c", "ip link set lo up; exec sleep 60"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = holder.id();
    std::thread::sleep(Duration::from_millis(200));
    let inside = |script: &str| {
        Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-n", "bash", "-c", script])
            .output()
            .unwrap()
    };
    // Before the bridge nothing leads out.
    let probe = format!("exec 3<>/dev/tcp/127.0.0.1/{}", target.port());
    assert!(!inside(&probe).status.success());

    layerlab_labs::bridge::open(pid, 6443, target).unwrap();
    let out = inside("exec 3<>/dev/tcp/127.0.0.1/6443; echo hello >&3; head -1 <&3");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "outside heard hello\n"
    );
    // Still only that one port, and only on loopback.
    assert!(!inside(&probe).status.success());

    // The holder exits: the bridge stops listening (its thread ends).
    holder.kill().unwrap();
    holder.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let bridges = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|c| c.starts_with(&format!("bridge-{pid}")))
            })
            .count()
    };
    while bridges() > 0 {
        assert!(Instant::now() < deadline, "the bridge outlived its sandbox");
        std::thread::sleep(Duration::from_millis(100));
    }
}
