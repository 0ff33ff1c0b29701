//! Prerequisites for a kind cluster, each with the exact advice to fix it.

use std::path::PathBuf;
use std::process::Command;

/// The kind release the embedded configs are written for.
pub const KIND_VERSION: &str = "v0.30.0";

/// The memory a three-node cluster with a CNI and an ingress controller
/// needs to run comfortably.
pub const MIN_MEMORY_MIB: u64 = 4096;

/// Finds a program on `PATH`.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// One prerequisite's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked (`docker`, `kind`, `memory`).
    pub what: &'static str,
    /// Whether it is fine.
    pub ok: bool,
    /// What was found, or how to fix it.
    pub detail: String,
}

/// The container CLI kind will use and whether its daemon answers.
fn container_runtime() -> Finding {
    let podman = std::env::var("KIND_EXPERIMENTAL_PROVIDER").as_deref() == Ok("podman");
    let program = if podman { "podman" } else { "docker" };
    if on_path(program).is_none() {
        let detail = if podman {
            "podman not found: install it (Debian/Ubuntu: `sudo apt-get install podman`; Fedora: `sudo dnf install podman`)".to_string()
        } else {
            "docker not found: install Docker Engine (https://docs.docker.com/engine/install/; Debian/Ubuntu: `sudo apt-get install docker.io` then `sudo usermod -aG docker $USER` and log in again), or use Podman with `export KIND_EXPERIMENTAL_PROVIDER=podman`".to_string()
        };
        return Finding {
            what: "container runtime",
            ok: false,
            detail,
        };
    }
    let out = Command::new(program)
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    match out {
        Ok(o) if o.status.success() => Finding {
            what: "container runtime",
            ok: true,
            detail: format!("{program} {}", String::from_utf8_lossy(&o.stdout).trim()),
        },
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no answer");
            let advice = if err.contains("permission denied") {
                format!(
                    "add yourself to the {program} group: `sudo usermod -aG {program} $USER`, then log in again"
                )
            } else {
                format!("start the daemon: `sudo systemctl start {program}`")
            };
            Finding {
                what: "container runtime",
                ok: false,
                detail: format!(
                    "{program} is installed but its daemon does not answer ({first}); {advice}"
                ),
            }
        }
        Err(e) => Finding {
            what: "container runtime",
            ok: false,
            detail: format!("cannot run {program}: {e}"),
        },
    }
}

fn kind() -> Finding {
    match Command::new("kind").arg("version").output() {
        Ok(o) if o.status.success() => Finding {
            what: "kind",
            ok: true,
            detail: String::from_utf8_lossy(&o.stdout).trim().to_string(),
        },
        _ => Finding {
            what: "kind",
            ok: false,
            detail: format!(
                "kind not found: install {KIND_VERSION} with `go install sigs.k8s.io/kind@{KIND_VERSION}`, or download https://kind.sigs.k8s.io/dl/{KIND_VERSION}/kind-linux-amd64 (kind-darwin-arm64 on Apple silicon) to a folder on your PATH as `kind` and `chmod +x` it"
            ),
        },
    }
}

fn kubectl() -> Finding {
    match on_path("kubectl") {
        Some(p) => Finding {
            what: "kubectl",
            ok: true,
            detail: p.display().to_string(),
        },
        None => Finding {
            what: "kubectl",
            ok: false,
            detail: "kubectl not found (the labs are done with it): install it from https://kubernetes.io/docs/tasks/tools/ (Debian/Ubuntu: `sudo snap install kubectl --classic`)".into(),
        },
    }
}

/// `MemAvailable` from `/proc/meminfo`, in MiB.
pub fn available_memory_mib(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb / 1024)
}

fn memory() -> Finding {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    match available_memory_mib(&text) {
        Some(mib) if mib >= MIN_MEMORY_MIB => Finding {
            what: "memory",
            ok: true,
            detail: format!("{mib} MiB available"),
        },
        Some(mib) => Finding {
            what: "memory",
            ok: false,
            detail: format!(
                "only {mib} MiB available; a three-node cluster needs about {MIN_MEMORY_MIB} MiB: close other programs (or give Docker Desktop's VM more memory)"
            ),
        },
        // Not Linux: Docker Desktop's VM sets the limit; do not guess.
        None => Finding {
            what: "memory",
            ok: true,
            detail: "not measured on this OS".into(),
        },
    }
}

/// Every prerequisite, in the order to fix them.
pub fn check_all() -> Vec<Finding> {
    vec![container_runtime(), kind(), kubectl(), memory()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_memory_is_read_from_meminfo() {
        let text = "MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   16777216 kB\n";
        assert_eq!(available_memory_mib(text), Some(16384));
        assert_eq!(available_memory_mib("MemTotal: 1 kB"), None);
    }

    #[test]
    fn missing_programs_are_not_found_on_path() {
        assert!(on_path("sh").is_some());
        assert!(on_path("layerlab-no-such-program").is_none());
    }
}
