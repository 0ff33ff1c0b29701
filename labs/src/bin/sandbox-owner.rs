//! Test helper: owns a sandbox, builds some network in it, and waits to be
//! killed (the isolation test kills it with SIGKILL halfway through).

use layerlab_labs::sandbox::{Owner, Sandbox};
use std::time::Duration;

fn main() {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "test-owner".into());
    let sb = Sandbox::create(&name, Owner::Process(std::process::id())).expect("sandbox");
    for cmd in [
        "ip netns add a",
        "ip link add va netns a type veth peer name vb",
        "ip link add br-test type bridge",
        "ip link set vb master br-test",
        "iptables -t nat -A POSTROUTING -j MASQUERADE",
        "sysctl -w net.ipv4.ip_forward=1",
        "ip netns exec a sleep 600 &",
    ] {
        sb.run(cmd, Duration::from_secs(10));
    }
    std::thread::sleep(Duration::from_secs(600));
}
