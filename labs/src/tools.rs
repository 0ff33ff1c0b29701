//! Host tools the labs need, detected up front with the command that
//! installs them.

/// (program, Debian package) for everything a Linux lab may call.
pub const LINUX_LAB_TOOLS: &[(&str, &str)] = &[
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("ip", "iproute2"),
    ("iptables", "iptables"),
    ("iptables-save", "iptables"),
    ("conntrack", "conntrack"),
    ("tcpdump", "tcpdump"),
    ("curl", "curl"),
    ("ping", "iputils-ping"),
];

/// (program, Debian package) for programs that single labs ask for with
/// `tools:`; the install hint names the package.
pub const EXTRA_LAB_TOOLS: &[(&str, &str)] = &[
    ("nft", "nftables"),
    ("bird", "bird2"),
    ("birdc", "bird2"),
    ("haproxy", "haproxy"),
    ("nginx", "nginx-light"),
    ("dnsmasq", "dnsmasq-base"),
    ("tshark", "tshark"),
    ("jq", "jq"),
    ("bridge", "iproute2"),
    ("dig", "bind9-dnsutils"),
    ("getent", "libc-bin"),
    ("/usr/lib/cni/bridge", "containernetworking-plugins"),
    ("/usr/lib/cni/host-local", "containernetworking-plugins"),
    ("/usr/lib/cni/ptp", "containernetworking-plugins"),
    ("/usr/lib/cni/portmap", "containernetworking-plugins"),
];

/// Whether a program is on PATH (or is an existing path).
pub fn have(program: &str) -> bool {
    if program.contains('/') {
        return std::path::Path::new(program).exists();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(Into::into))
        .any(|d| d.join(program).is_file())
}

/// Programs that are not installed, and the packages that bring them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "missing {}: install with `sudo apt-get install -y {}` (Debian/Ubuntu) or your distribution's equivalent",
    programs.join(", "),
    packages.join(" ")
)]
pub struct MissingTools {
    /// The programs not found.
    pub programs: Vec<String>,
    /// Debian packages to install, sorted, once each.
    pub packages: Vec<String>,
}

/// Fails with an install command naming every missing program.
pub fn require(programs: &[&str]) -> Result<(), MissingTools> {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !have(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut pkgs: Vec<&str> = missing
        .iter()
        .map(|m| {
            LINUX_LAB_TOOLS
                .iter()
                .chain(EXTRA_LAB_TOOLS)
                .find(|(p, _)| p == m)
                .map_or(*m, |(_, pkg)| pkg)
        })
        .collect();
    pkgs.sort();
    pkgs.dedup();
    Err(MissingTools {
        programs: missing.iter().map(|m| m.to_string()).collect(),
        packages: pkgs.iter().map(|p| p.to_string()).collect(),
    })
}

/// Every Linux-lab tool that is missing (None when all are there).
pub fn check_linux_lab_tools() -> Option<MissingTools> {
    let all: Vec<&str> = LINUX_LAB_TOOLS.iter().map(|(p, _)| *p).collect();
    require(&all).err()
}

/// Everything a lab needs that is missing: the basic set plus the lab's own
/// `tools:`, naming the packages (None when all are there).
pub fn check_lab_tools(lab: &layerlab_core::lab::Lab) -> Option<MissingTools> {
    let all: Vec<&str> = LINUX_LAB_TOOLS
        .iter()
        .map(|(p, _)| *p)
        .chain(lab.tools.iter().map(String::as_str))
        .collect();
    require(&all).err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_come_with_the_install_command() {
        assert!(have("sh"));
        let e = require(&["sh", "definitely-not-a-tool-xyz"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing definitely-not-a-tool-xyz"), "{e}");
        assert!(
            e.contains("apt-get install -y definitely-not-a-tool-xyz"),
            "{e}"
        );
    }
}
