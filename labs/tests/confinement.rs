//! Confined sandboxes (the workshop's, one per learner per lab), attacked
//! from inside: every attack runs as the learner would, from a command in
//! the sandbox's shell, and must fail there while the host and other
//! sandboxes carry on. (The labs themselves inside a confined sandbox are
//! run in `cli/tests/linux_labs.rs`, where the `layerlab` binary exists.)
//!
//! Needs root (it starts sandboxes as another uid and makes cgroups). CI
//! runs as root; elsewhere the tests are listed as ignored, with the reason.

use layerlab_labs::confine::{Confine, Limits};
use layerlab_labs::sandbox::{Owner, Sandbox};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

const T: Duration = Duration::from_secs(20);

fn confine() -> Confine {
    Confine {
        limits: Limits {
            memory_bytes: 128 << 20,
            pids: 64,
            cpu_weight: 50,
            scratch_bytes: 16 << 20,
        },
        ..Confine::default()
    }
}

/// A confined sandbox owned by this test process.
fn sandbox(key: &str, conf: &Confine) -> Sandbox {
    Sandbox::create_confined(key, Owner::Process(std::process::id()), conf)
        .unwrap_or_else(|e| panic!("confined sandbox {key}: {e}"))
}

/// Runs a script in the sandbox; (exit, stdout + stderr).
fn run(sb: &Sandbox, script: &str) -> (i32, String) {
    let o = sb.run(script, T);
    (o.exit, format!("{}{}", o.stdout, o.stderr))
}

/// A second, fresh sandbox still works after an attack.
fn another_still_works(name: &str) {
    let sb = sandbox(&format!("after-{name}/check"), &confine());
    let (exit, out) = run(
        &sb,
        "ip link set lo up && ping -c1 -W1 127.0.0.1 >/dev/null && echo ok",
    );
    assert_eq!(
        (exit, out.trim()),
        (0, "ok"),
        "a new sandbox after `{name}`"
    );
    sb.destroy();
}

fn status_uid(pid: u32) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("Uid:"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn everything_in_the_sandbox_runs_as_the_unprivileged_uid_and_shadow_is_unreadable() {
    let sb = sandbox("learner-uid/shadow", &confine());
    // Root inside...
    assert_eq!(run(&sb, "id -u").1.trim(), "0");
    // ...but the host file system judges it as nobody.
    let (exit, out) = run(&sb, "head -1 /etc/shadow");
    assert_ne!(exit, 0, "read /etc/shadow: {out}");
    assert!(out.contains("Permission denied"), "{out}");
    let (exit, out) = run(&sb, "ls /root/.. >/dev/null && cat /proc/1/root/etc/shadow");
    assert_ne!(exit, 0, "{out}");
    // Every process in its cgroup (bwrap's init, the holder, an entered
    // command, and outside its PID namespace the outer bwrap and nsenter's
    // waiting parent) has host uid 65534 in all four uid slots.
    let mut cmd = sb.command(&["sleep", "3"]);
    let mut child = cmd.spawn().expect("enter");
    std::thread::sleep(Duration::from_millis(500));
    let ns = |pid: u32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let pids = sb.confined.as_ref().unwrap().cgroups.pids();
    let inside: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|&p| ns(p) == ns(sb.pid))
        .collect();
    assert!(
        inside.len() >= 3,
        "bwrap's init, the holder and sleep: {inside:?} of {pids:?}"
    );
    assert!(
        pids.len() >= inside.len() + 2,
        "the outer bwrap and nsenter: {pids:?}"
    );
    for pid in pids {
        if let Some(uid) = status_uid(pid) {
            assert_eq!(uid, "65534 65534 65534 65534", "pid {pid}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    sb.destroy();
    another_still_works("shadow");
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn the_host_file_system_is_read_only_and_writes_land_in_private_scratch() {
    let sb = sandbox("learner-w/usr", &confine());
    let marker = format!("layerlab-confine-{}", std::process::id());
    for target in [
        format!("/usr/{marker}"),
        format!("/etc/{marker}"),
        format!("/var/lib/{marker}"),
    ] {
        let (exit, out) = run(&sb, &format!("touch {target}"));
        assert_ne!(exit, 0, "wrote {target}: {out}");
        assert!(!Path::new(&target).exists());
    }
    let (exit, out) = run(&sb, "echo x >> /etc/passwd");
    assert_ne!(exit, 0, "{out}");
    // /root and /tmp are writable, but private: the host's stay untouched.
    let (exit, out) = run(
        &sb,
        &format!("touch /root/{marker} /tmp/{marker} && echo ok"),
    );
    assert_eq!((exit, out.trim()), (0, "ok"));
    assert!(!Path::new(&format!("/root/{marker}")).exists());
    assert!(!Path::new(&format!("/tmp/{marker}")).exists());
    sb.destroy();
    another_still_works("usr");
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn another_learners_scratch_and_the_servers_data_are_invisible() {
    // A fake server data dir, readable by anyone on the host's terms, so
    // only the confinement can hide it.
    let data = PathBuf::from(format!(
        "/var/lib/layerlab-test-data-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(data.join("learners")).unwrap();
    std::fs::write(data.join("learners/ada.json"), "{\"secret\":1}").unwrap();
    let meta = std::fs::metadata(data.join("learners/ada.json")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(
        meta.permissions().mode() & 0o004,
        0,
        "world-readable on the host"
    );
    let mut conf = confine();
    conf.hide.push(data.clone());
    let ada = sandbox("learner-ada/router", &conf);
    let bob = sandbox("learner-bob/router", &conf);
    let (exit, _) = run(
        &ada,
        "echo ada-secret > /tmp/notes && echo ada-secret > /root/notes",
    );
    assert_eq!(exit, 0);
    // Ada sees her own notes; Bob sees none of them.
    assert_eq!(run(&ada, "cat /tmp/notes").1.trim(), "ada-secret");
    let (exit, out) = run(&bob, "cat /tmp/notes /root/notes");
    assert_ne!(exit, 0, "{out}");
    assert!(!out.contains("ada-secret"), "{out}");
    // Nor Ada's state folder (captures), nor the server's data.
    let ada_dir = ada.dir.display().to_string();
    let (exit, out) = run(&bob, &format!("ls {ada_dir}"));
    assert_ne!(exit, 0, "{out}");
    let (exit, out) = run(&bob, &format!("cat {}/learners/ada.json", data.display()));
    assert_ne!(exit, 0, "read the server's data: {out}");
    // The state root shows only Bob's own folder.
    let root = bob.dir.parent().unwrap().display().to_string();
    let (_, out) = run(&bob, &format!("ls {root}"));
    assert_eq!(out.trim(), bob.dir.file_name().unwrap().to_string_lossy());
    // Bob's own state folder is read-only to him.
    let (exit, _) = run(&bob, &format!("touch {}/x", bob.dir.display()));
    assert_ne!(exit, 0);
    ada.destroy();
    bob.destroy();
    let _ = std::fs::remove_dir_all(&data);
    another_still_works("scratch");
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn host_processes_cannot_be_seen_or_killed_even_with_the_same_uid() {
    // One host sleep as root, one as nobody (the sandbox's own host uid).
    let mut as_root = Command::new("sleep").arg("120").spawn().unwrap();
    let mut as_nobody = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "sleep",
            "120",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sb = sandbox("learner-k/kill", &confine());
    for child in [&as_root, &as_nobody] {
        let pid = child.id();
        let (exit, out) = run(&sb, &format!("kill -9 {pid}"));
        assert_ne!(exit, 0, "kill {pid}: {out}");
        let (_, out) = run(
            &sb,
            &format!("ls /proc/{pid}/cmdline 2>&1; ps -e -o pid=,args="),
        );
        assert!(out.contains("No such file"), "{out}");
        assert!(!out.contains("sleep 120"), "a host sleep is visible: {out}");
    }
    let (_, out) = run(&sb, "kill -9 -1; echo done");
    assert!(out.contains("done") || out.is_empty(), "{out}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(as_root.try_wait().unwrap().is_none(), "the root sleep died");
    assert!(
        as_nobody.try_wait().unwrap().is_none(),
        "the nobody sleep died"
    );
    let _ = as_root.kill();
    let _ = as_nobody.kill();
    let _ = as_root.wait();
    let _ = as_nobody.wait();
    sb.destroy();
    another_still_works("kill");
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn neither_the_hosts_loopback_nor_another_learners_network_is_reachable() {
    let before = support::host_network();
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    host.set_nonblocking(true).unwrap();
    let port = host.local_addr().unwrap().port();
    // The same connect works on the host itself, so a failure inside means
    // the sandbox's own network, not a broken command.
    let on_host = support::sh(&format!(
        "timeout 3 bash -c 'echo > /dev/tcp/127.0.0.1/{port}' && echo open"
    ));
    assert_eq!(on_host.trim(), "open");
    let _ = host.accept();
    let sb = sandbox("learner-n/net", &confine());
    let (exit, out) = run(
        &sb,
        &format!("timeout 3 bash -c 'echo > /dev/tcp/127.0.0.1/{port}'"),
    );
    assert_ne!(exit, 0, "reached the host's loopback: {out}");
    assert!(host.accept().is_err(), "the host listener got a connection");
    // Another learner listens on their own loopback; it works there, not here.
    let other = sandbox("learner-o/net", &confine());
    let listen = "perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => \"127.0.0.1:7777\", Listen => 5, ReuseAddr => 1) or die \"listen: $!\"; while (my $c = $s->accept) { print $c \"hi\\n\"; close $c }' >/dev/null 2>&1 &";
    run(&other, listen);
    let probe = "for i in $(seq 30); do { read -t 1 x < /dev/tcp/127.0.0.1/7777; } 2>/dev/null && echo \"$x\" && exit 0; sleep 0.1; done; exit 1";
    assert_eq!(
        run(&other, probe).1.trim(),
        "hi",
        "the listener works in its own sandbox"
    );
    let (exit, out) = run(
        &sb,
        "timeout 3 bash -c 'read x < /dev/tcp/127.0.0.1/7777 && echo $x'",
    );
    assert_ne!(exit, 0, "reached another learner: {out}");
    // No route anywhere else either: only loopback exists.
    let (_, out) = run(&sb, "ip -o link show | wc -l");
    assert_eq!(out.trim(), "1");
    // What it builds stays in its own network namespace.
    let (exit, out) = run(
        &sb,
        "ip link add ll-a type veth peer name ll-b && iptables -A INPUT -j DROP && sysctl -qw net.ipv4.ip_forward=1",
    );
    assert_eq!(exit, 0, "{out}");
    assert_eq!(
        before,
        support::host_network(),
        "the host's network changed"
    );
    sb.destroy();
    other.destroy();
    another_still_works("net");
}

fn pids_refused(sb: &Sandbox) -> u64 {
    let c = sb.confined.as_ref().unwrap();
    c.cgroups
        .dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("pids.events")).ok())
        .flat_map(|t| t.lines().map(String::from).collect::<Vec<_>>())
        .filter_map(|l| {
            l.strip_prefix("max ")
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .sum()
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn a_fork_bomb_is_bounded_by_the_pids_limit() {
    let conf = confine();
    let bomb_box = sandbox("learner-f/bomb", &conf);
    let other = sandbox("learner-g/bomb", &conf);
    let b = bomb_box.clone();
    let bomb = std::thread::spawn(move || {
        b.run(
            "bomb() { bomb | bomb & }; bomb; sleep 6",
            Duration::from_secs(4),
        )
    });
    let mut most = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        most = most.max(bomb_box.confined.as_ref().unwrap().cgroups.pids().len());
        std::thread::sleep(Duration::from_millis(50));
    }
    // While it rages, another sandbox and the host still start processes.
    assert_eq!(run(&other, "echo ok").1.trim(), "ok");
    assert_eq!(support::sh("echo ok").trim(), "ok");
    let _ = bomb.join();
    assert!(
        most <= conf.limits.pids as usize,
        "{most} processes, limit {}",
        conf.limits.pids
    );
    assert!(pids_refused(&bomb_box) > 0, "the bomb never hit the limit");
    bomb_box.destroy();
    assert!(
        bomb_box
            .confined
            .as_ref()
            .unwrap()
            .cgroups
            .dirs
            .iter()
            .all(|d| !d.exists()),
        "cgroups left behind"
    );
    other.destroy();
    another_still_works("bomb");
}

fn oom_kills(sb: &Sandbox) -> u64 {
    let d = &sb.confined.as_ref().unwrap().cgroups.dirs[0];
    ["memory.oom_control", "memory.events"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(d.join(f)).ok())
        .flat_map(|t| t.lines().map(String::from).collect::<Vec<_>>())
        .filter_map(|l| {
            l.strip_prefix("oom_kill ")
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .sum()
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn a_4_gib_allocation_is_killed_by_the_memory_limit() {
    let conf = confine();
    let sb = sandbox("learner-m/mem", &conf);
    // `tail` keeps the whole newline-free stream in memory.
    let (exit, out) = run(&sb, "head -c 4G /dev/zero | tail | wc -c");
    assert_ne!(out.trim(), "4294967296", "4 GiB held without a kill: {out}");
    assert!(
        oom_kills(&sb) > 0,
        "no OOM kill counted (exit {exit}): {out}"
    );
    let usage = sb
        .confined
        .as_ref()
        .unwrap()
        .cgroups
        .memory_usage()
        .unwrap();
    assert!(usage <= conf.limits.memory_bytes, "{usage}");
    // The sandbox itself survives its process being killed.
    assert_eq!(run(&sb, "echo ok").1.trim(), "ok");
    sb.destroy();
    another_still_works("mem");
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn filling_the_scratch_stops_at_its_size() {
    let conf = confine();
    let sb = sandbox("learner-s/fill", &conf);
    for dir in ["/tmp", "/root", "/var/tmp"] {
        let (exit, out) = run(&sb, &format!("head -c 1G /dev/zero > {dir}/big"));
        assert!(
            out.contains("No space left on device"),
            "{dir}: exit {exit}: {out}"
        );
        let size: u64 = sb
            .run(&format!("stat -c %s {dir}/big"), T)
            .stdout
            .trim()
            .parse()
            .unwrap();
        assert!(size <= conf.limits.scratch_bytes, "{dir}: {size}");
        run(&sb, &format!("rm {dir}/big"));
    }
    sb.destroy();
    another_still_works("fill");
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn confined_sandboxes_are_found_destroyed_and_swept_like_the_others() {
    let sb = sandbox("learner-x/find", &confine());
    let found = Sandbox::find("learner-x/find").expect("found by key");
    assert_eq!(found.pid, sb.pid);
    assert_eq!(found.confined, sb.confined);
    assert!(
        layerlab_labs::sandbox::list()
            .iter()
            .any(|s| s.lab == "learner-x/find")
    );
    sb.destroy();
    assert!(Sandbox::find("learner-x/find").is_none());
    assert!(!Path::new(&format!("/proc/{}", sb.pid)).exists());
    // An owner that is gone: the next sweep removes the sandbox and its cgroups.
    let mut gone = Command::new("true").spawn().unwrap();
    let owner = gone.id();
    gone.wait().unwrap();
    let stale =
        Sandbox::create_confined("learner-x/stale", Owner::Process(owner), &confine()).unwrap();
    let swept = layerlab_labs::sandbox::sweep_stale();
    assert!(
        swept.iter().any(|s| s.contains("learner-x+stale")),
        "{swept:?}"
    );
    assert!(!Path::new(&format!("/proc/{}", stale.pid)).exists());
    for d in &stale.confined.as_ref().unwrap().cgroups.dirs {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn the_lab_run_api_starts_confined_sandboxes_per_learner() {
    use layerlab_labs::run::{Confinement, Labs, RunOptions};
    let lab = layerlab_labs::labs()
        .iter()
        .find(|l| l.id == "router")
        .expect("router lab");
    let labs_for = |learner: &str| {
        Labs::new(RunOptions {
            owner: Owner::Process(std::process::id()),
            confine: Some(Confinement {
                learner: learner.into(),
                confine: confine(),
            }),
            ..RunOptions::default()
        })
    };
    let (ada, bob) = (labs_for("api-ada"), labs_for("api-bob"));
    let run_a = ada.start(lab).expect("ada's run");
    let run_b = bob.start(lab).expect("bob's run");
    assert_eq!(run_a.info().rootless, Some(true));
    let sa = Sandbox::find("api-ada/router").expect("keyed by learner and lab");
    let sb = Sandbox::find("api-bob/router").expect("a second learner, same lab");
    assert!(sa.confined.is_some() && sb.confined.is_some());
    assert_ne!(sa.pid, sb.pid);
    // What Ada builds, Bob does not see.
    let out = run_a.run_command("ip netns add ada-only && ip netns list", T);
    assert!(out.stdout.contains("ada-only"), "{out:?}");
    let out = run_b.run_command("ip netns list", T);
    assert!(!out.stdout.contains("ada-only"), "{out:?}");
    assert_eq!(run_a.run_command("head -1 /etc/shadow", T).exit, 1);
    assert!(ada.stop(lab).unwrap());
    assert!(bob.stop(lab).unwrap());
    assert!(Sandbox::find("api-ada/router").is_none());
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn tcpdump_works_and_a_uid_range_lets_it_drop_to_its_own_user() {
    let capture = "ip link set lo up; (sleep 0.5; ping -c1 127.0.0.1 >/dev/null) & timeout 3 tcpdump ZFLAG -i lo -nn -c 1 icmp 2>&1";
    // Only root mapped: `-Z root` (as the labs' checks use) works, and plain
    // `tcpdump` too, through the shim that keeps it root of the namespace.
    let sb = sandbox("learner-t/tcpdump", &confine());
    for flag in ["-Z root", ""] {
        let (exit, out) = run(&sb, &capture.replace("ZFLAG", flag));
        assert_eq!(exit, 0, "tcpdump {flag}: {out}");
        assert!(out.contains("ICMP echo request"), "{out}");
    }
    // The real binary, bypassing the shim, cannot drop to its own user.
    let (exit, out) = run(
        &sb,
        "$(command -v -p tcpdump || echo /usr/bin/tcpdump) -i lo -c 1 2>&1",
    );
    assert_ne!(exit, 0, "{out}");
    assert!(out.contains("Couldn't change to 'tcpdump'"), "{out}");
    sb.destroy();
    // A range of 65536 ids: plain tcpdump drops to user tcpdump inside,
    // which is 3000000 + its uid outside.
    let conf = Confine {
        uid: 3_000_000,
        ids: 65536,
        ..confine()
    };
    let sb = sandbox("learner-t/range", &conf);
    let (exit, out) = run(&sb, &capture.replace("ZFLAG", ""));
    assert_eq!(exit, 0, "{out}");
    assert!(out.contains("ICMP echo request"), "{out}");
    let (exit, out) = run(&sb, "head -1 /etc/shadow");
    assert_ne!(exit, 0, "{out}");
    sb.destroy();
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: starts sandboxes as another uid and makes cgroups (CI runs as root)"
)]
fn the_learners_shell_runs_confined_without_the_servers_environment() {
    use std::io::Write;
    // The test runs under cargo, so this process has CARGO_* variables:
    // none may reach the sandbox (a server's secrets would go the same way).
    assert!(std::env::vars().any(|(k, _)| k.starts_with("CARGO")));
    let sb = sandbox("learner-sh/shell", &confine());
    let mut child = sb
        .shell_command()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("shell");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"echo uid=$(id -u); cat /proc/self/environ /proc/1/environ | tr '\\0' '\\n'; head -1 /etc/shadow; exit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("uid=0"), "{text}");
    assert!(
        text.contains("layerlab sandbox for lab"),
        "the banner: {text}"
    );
    assert!(text.contains("Permission denied"), "{text}");
    assert!(
        !text.contains("CARGO"),
        "the server's environment leaked: {text}"
    );
    sb.destroy();
}
