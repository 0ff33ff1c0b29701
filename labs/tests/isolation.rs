//! The sandbox, for real: a lab killed halfway leaves the host's network
//! identical and its sandbox is swept; typical learner mistakes get
//! messages that name them. (Every lab's fail → solve → pass run is in
//! `cli/tests/linux_labs.rs`, where the real `layerlab` binary is on PATH.)
//!
//! Needs root (network namespaces, iptables). CI runs as root; elsewhere the
//! tests are listed as ignored, with the reason.

use layerlab_core::lab::{
    Check, CheckKind, InterfaceCheck, IptablesCheck, Mode, NamespaceCheck, SysctlCheck,
};
use layerlab_labs::runner;
use layerlab_labs::sandbox::{Owner, Sandbox};
use std::process::Command;
use support::host_network;

mod support;
use std::sync::Mutex;

/// The host-state snapshot and the labs must not interleave.
static HOST: Mutex<()> = Mutex::new(());

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: network namespaces and iptables (CI runs as root)"
)]
fn a_lab_killed_midway_leaves_the_host_alone_and_its_sandbox_is_swept() {
    let _host = HOST.lock().unwrap_or_else(|e| e.into_inner());
    let before = host_network();
    // A child process owns a sandbox, builds some network in it, and is
    // killed with SIGKILL halfway through.
    let exe = env!("CARGO_BIN_EXE_sandbox-owner");
    let mut child = Command::new(exe)
        .arg("test-killed")
        .spawn()
        .expect("spawn owner");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Sandbox::find("test-killed").is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sb = Sandbox::find("test-killed").expect("the owner started a sandbox");
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(before, host_network(), "the killed lab changed the host");
    let swept = layerlab_labs::sandbox::sweep_stale();
    assert!(swept.contains(&"test-killed".to_string()), "{swept:?}");
    assert!(!std::path::Path::new(&format!("/proc/{}", sb.pid)).exists());
    assert!(Sandbox::find("test-killed").is_none());
    assert_eq!(before, host_network());
}

fn check(kind: CheckKind) -> Check {
    Check {
        title: "t".into(),
        kind,
        mode: Mode::Once,
        timeout_ms: 1000,
        points: 1,
        hint: None,
    }
}

fn message(sb: &Sandbox, kind: CheckKind) -> String {
    let r = runner::run_check(sb, &check(kind), None, None);
    assert!(!r.passed, "the mistake went unnoticed: {}", r.message);
    r.message
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: network namespaces and iptables (CI runs as root)"
)]
fn typical_mistakes_are_named() {
    let sb = Sandbox::create("test-mistakes", Owner::Process(std::process::id())).expect("sandbox");
    let setup = [
        "ip netns add client",
        "ip netns add server",
        "ip netns add router",
        // Mistake: the client's end created in the server namespace.
        "ip link add veth-c netns server type veth peer name veth-s netns server",
        // Mistake: /16 instead of /24, and the link left down.
        "ip -n server addr add 10.0.0.2/16 dev veth-s",
        // Mistake: DNAT in OUTPUT instead of PREROUTING.
        "ip netns exec router iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80",
        // Mistake: ip_forward left at 0 in the router (the default).
    ];
    runner::run_commands(&sb, &setup.map(String::from)).expect("setup");
    let iface = |name: &str, ns: &str| InterfaceCheck {
        name: name.into(),
        netns: Some(ns.into()),
        up: None,
        addresses: vec![],
        link_type: None,
        peer: None,
        master: None,
    };
    let m = message(&sb, CheckKind::Interface(iface("veth-c", "client")));
    assert!(
        m.contains("wrong namespace") && m.contains("namespace `server`"),
        "{m}"
    );
    let m = message(
        &sb,
        CheckKind::Interface(InterfaceCheck {
            up: Some(true),
            ..iface("veth-s", "server")
        }),
    );
    assert!(m.contains("is down"), "{m}");
    let m = message(
        &sb,
        CheckKind::Interface(InterfaceCheck {
            addresses: vec!["10.0.0.2/24".into()],
            ..iface("veth-s", "server")
        }),
    );
    assert!(m.contains("prefix length is wrong"), "{m}");
    let m = message(
        &sb,
        CheckKind::Iptables(IptablesCheck {
            netns: Some("router".into()),
            table: "nat".into(),
            chain: "PREROUTING".into(),
            target: Some("DNAT".into()),
            matches: Some("-p tcp --dport 8080".into()),
            comment: None,
            to: None,
        }),
    );
    assert!(
        m.contains("is in chain OUTPUT, but the step needs one in PREROUTING"),
        "{m}"
    );
    let m = message(
        &sb,
        CheckKind::Sysctl(SysctlCheck {
            netns: Some("router".into()),
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        }),
    );
    assert!(m.contains("forwarding is off"), "{m}");
    let m = message(
        &sb,
        CheckKind::Namespace(NamespaceCheck {
            name: "clinet".into(),
            exists: true,
        }),
    );
    assert!(
        m.contains("namespaces are: client, router, server") || m.contains("namespaces are:"),
        "{m}"
    );
    sb.destroy();
}
