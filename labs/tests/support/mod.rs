//! Helpers for the tests that change real network state (root only): the
//! host's network as text, to show a lab left it as it was. Shared by
//! `labs/tests/isolation.rs` and `cli/tests/linux_labs.rs`.
//!
//! Those tests are ignored, with the reason, when the build is not root's:
//! each crate's build script sets `cfg(as_root)` for root (CI builds as root).

use std::process::Command;

/// Why a root-only test was ignored.
#[allow(dead_code)]
pub const NEEDS_ROOT: &str = "needs root: network namespaces and iptables (CI runs as root)";

/// What a bash script prints on standard output.
pub fn sh(script: &str) -> String {
    let o = Command::new("bash")
        .args(["-c", script])
        .output()
        .expect("bash");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Everything a lab could disturb on the host, normalised.
pub fn host_network() -> String {
    sh(
        "ip -o link show | sed 's/^[0-9]*: //' | cut -d' ' -f1,2,3 | sort; \
        echo ---; ip route show table all | sort; \
        echo ---; ip -6 route show | sort; \
        echo ---; iptables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//' ; \
        echo ---; ip netns list; \
        echo ---; sysctl -n net.ipv4.ip_forward",
    )
}
