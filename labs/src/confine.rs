//! Confinement for shared machines (the workshop server): each learner's lab
//! sandbox runs as an unprivileged host uid inside its own user namespace
//! (root inside, nobody outside), sees the host file system read-only, has
//! small private tmpfs scratch areas, and sits in its own cgroup with memory,
//! PID and CPU limits. bubblewrap builds the namespaces and mounts;
//! `setpriv` drops the host uid first; the kernel's cgroups bound resources.
//!
//! The pieces here are the policy (what is hidden, how much is allowed) and
//! the cgroup bookkeeping; [`crate::sandbox::Sandbox::create_confined`]
//! starts and enters the sandbox. See `docs/threat-model.md`.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Resource limits of one confined sandbox (its cgroup and scratch tmpfs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Memory (RAM, page cache and tmpfs pages together), bytes; no swap.
    pub memory_bytes: u64,
    /// Most processes and threads at once.
    pub pids: u32,
    /// CPU share under contention; 100 is an ordinary process's share.
    pub cpu_weight: u32,
    /// Size of each writable scratch tmpfs (`/tmp`, `/var/tmp`, `/root`), bytes.
    pub scratch_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            pids: 256,
            cpu_weight: 100,
            scratch_bytes: 64 << 20,
        }
    }
}

/// How a confined sandbox is made: host uid, limits, folders to hide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confine {
    /// Host uid (and gid) the sandbox runs as; root inside maps to it.
    pub uid: u32,
    /// How many uids/gids are mapped from `uid` on (1: only root inside).
    /// A per-learner range (say 65536 from 1000000 + n * 65536) lets tools
    /// drop to their own users inside (plain `tcpdump` becomes user
    /// `tcpdump`); the range must belong to no one else on the host.
    pub ids: u32,
    /// Resource limits.
    pub limits: Limits,
    /// Host folders covered by an empty tmpfs inside (the server's data dir);
    /// ones that do not exist are skipped.
    pub hide: Vec<PathBuf>,
}

impl Default for Confine {
    fn default() -> Self {
        Confine {
            uid: 65534,
            ids: 1,
            limits: Limits::default(),
            hide: ["/home", "/srv", "/mnt", "/media", "/var/lib/layerlab"]
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        }
    }
}

/// A sandbox key (`learner-ada/router`) as one safe folder and cgroup name:
/// letters, digits and `-` stay, `/` becomes `+`, anything else `_XX` (hex),
/// so different keys never share a folder and `..` cannot appear.
pub fn folder_name(key: &str) -> Result<String, String> {
    if key.is_empty() {
        return Err("empty sandbox key".into());
    }
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => out.push(b as char),
            b'/' => out.push('+'),
            _ => out.push_str(&format!("_{b:02x}")),
        }
    }
    if out.len() > 200 {
        return Err(format!(
            "sandbox key `{key}` is too long (over 200 bytes as a folder name)"
        ));
    }
    Ok(out)
}

/// The key a folder name stands for (the inverse of [`folder_name`]).
pub fn key_of(folder: &str) -> String {
    let b = folder.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b'/'),
            b'_' if i + 3 <= b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'_'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The bubblewrap arguments (after `bwrap`) for a confined holder whose
/// state folder is `dir`, with `exe_dir` bound at `dir/bin`.
pub fn bwrap_args(
    conf: &Confine,
    dir: &Path,
    exe_dir: &Path,
    state_root: &Path,
    holder: &str,
) -> Vec<String> {
    let s = |p: &Path| p.display().to_string();
    let size = conf.limits.scratch_bytes.to_string();
    // No `--unshare-user`: bwrap runs as root of a user namespace the
    // caller made (see `Sandbox::create_confined`), so setgroups(2) is
    // allowed there and tools that call initgroups (tcpdump -Z) work.
    let mut a: Vec<String> = [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "lab",
        "--new-session",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        // The host's cgroup tree names other learners' sandboxes.
        "--tmpfs",
        "/sys/fs/cgroup",
        "--tmpfs",
        "/run",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    // Writable scratch, each size-limited (and charged to the cgroup).
    for p in ["/tmp", "/var/tmp", "/root"] {
        a.extend(["--size".into(), size.clone(), "--tmpfs".into(), p.into()]);
    }
    // Every sandbox's state (and so other learners' captures) is hidden;
    // this sandbox's own folder comes back read-only below.
    a.extend(["--tmpfs".into(), s(state_root)]);
    for h in &conf.hide {
        if h.is_dir() && h != Path::new("/") {
            a.extend(["--tmpfs".into(), s(h)]);
        }
    }
    a.extend(["--ro-bind".into(), s(dir), s(dir)]);
    a.extend(["--ro-bind".into(), s(exe_dir), s(&dir.join("bin"))]);
    // Capabilities count only inside the user namespace: over its own
    // network, mounts and processes, never over the host's.
    a.extend(["--cap-add", "ALL", "--chdir", "/", "bash", "-c", holder].map(String::from));
    a
}

/// Which cgroup layout the machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Separate hierarchies per controller (memory, pids, cpu).
    V1,
    /// One unified hierarchy.
    V2,
}

/// The controllers a confined sandbox needs.
const CONTROLLERS: [&str; 3] = ["memory", "pids", "cpu"];

/// The cgroup(s) of one confined sandbox: one folder per controller on
/// cgroup v1, one folder on v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroups {
    /// The folders, memory first.
    pub dirs: Vec<PathBuf>,
}

fn mounts() -> Vec<(String, PathBuf, String)> {
    // "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0"
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| (f[2].to_string(), PathBuf::from(f[1]), f[3].to_string()))
        })
        .collect()
}

/// This process's own cgroup path for a v1 controller (or v2 when `None`).
fn own_path(controller: Option<&str>) -> String {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or("/"));
        let hit = match controller {
            Some(c) => ctrls.split(',').any(|x| x == c),
            None => ctrls.is_empty(),
        };
        if hit {
            return path.to_string();
        }
    }
    "/".into()
}

/// Where sandbox cgroups go, relative to a hierarchy's root:
/// `LAYERLAB_CGROUP_PARENT` if set, else below this process's own cgroup
/// on v1 (so the sandboxes also count against the server's own limits)
/// and `/layerlab` on v2 (v2 forbids controllers below a cgroup that
/// holds processes).
fn parent(layout: Layout, controller: Option<&str>) -> PathBuf {
    if let Some(p) = std::env::var_os("LAYERLAB_CGROUP_PARENT") {
        return PathBuf::from(p);
    }
    match layout {
        Layout::V1 => PathBuf::from(own_path(controller)).join("layerlab"),
        Layout::V2 => PathBuf::from("/layerlab"),
    }
}

fn rel(p: &Path) -> &Path {
    p.strip_prefix("/").unwrap_or(p)
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value)
        .map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()))
}

impl Cgroups {
    /// Makes the sandbox's cgroup(s) named `name` and sets the limits.
    pub fn create(name: &str, limits: &Limits) -> Result<Cgroups, String> {
        let all = mounts();
        let v1: Vec<(String, PathBuf)> = CONTROLLERS
            .iter()
            .filter_map(|c| {
                all.iter()
                    .find(|(t, _, opts)| t == "cgroup" && opts.split(',').any(|o| o == *c))
                    .map(|(_, m, _)| (c.to_string(), m.clone()))
            })
            .collect();
        if v1.len() == CONTROLLERS.len() {
            let mut dirs = Vec::new();
            for (c, mount) in &v1 {
                let dir = mount.join(rel(&parent(Layout::V1, Some(c)))).join(name);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot make cgroup {}: {e}", dir.display()))?;
                dirs.push(dir);
            }
            let cg = Cgroups { dirs };
            cg.limit_v1(limits).inspect_err(|_| cg.remove())?;
            return Ok(cg);
        }
        let Some((_, mount, _)) = all.iter().find(|(t, _, _)| t == "cgroup2") else {
            return Err(
                "no cgroup memory, pids and cpu controllers are mounted (v1) and no cgroup2 either"
                    .into(),
            );
        };
        let parent = mount.join(rel(&parent(Layout::V2, None)));
        std::fs::create_dir_all(&parent)
            .map_err(|e| format!("cannot make cgroup {}: {e}", parent.display()))?;
        // Controllers must be enabled on every level from the root down.
        let mut level = mount.clone();
        for part in rel(parent.strip_prefix(mount).unwrap_or(Path::new(""))).components() {
            write(&level.join("cgroup.subtree_control"), "+memory +pids +cpu")?;
            level = level.join(part);
        }
        write(&parent.join("cgroup.subtree_control"), "+memory +pids +cpu")?;
        let dir = parent.join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot make cgroup {}: {e}", dir.display()))?;
        let cg = Cgroups { dirs: vec![dir] };
        cg.limit_v2(limits).inspect_err(|_| cg.remove())?;
        Ok(cg)
    }

    fn layout(&self) -> Layout {
        if self.dirs.len() == 1 {
            Layout::V2
        } else {
            Layout::V1
        }
    }

    fn limit_v1(&self, l: &Limits) -> Result<(), String> {
        let mem = &self.dirs[0];
        write(
            &mem.join("memory.limit_in_bytes"),
            &l.memory_bytes.to_string(),
        )?;
        // Without swap accounting the file is absent; with it, no swap.
        let memsw = mem.join("memory.memsw.limit_in_bytes");
        if memsw.exists() {
            write(&memsw, &l.memory_bytes.to_string())?;
        }
        write(&self.dirs[1].join("pids.max"), &l.pids.to_string())?;
        let shares = (u64::from(l.cpu_weight) * 1024 / 100).max(2);
        write(&self.dirs[2].join("cpu.shares"), &shares.to_string())
    }

    fn limit_v2(&self, l: &Limits) -> Result<(), String> {
        let d = &self.dirs[0];
        write(&d.join("memory.max"), &l.memory_bytes.to_string())?;
        let swap = d.join("memory.swap.max");
        if swap.exists() {
            write(&swap, "0")?;
        }
        write(&d.join("pids.max"), &l.pids.to_string())?;
        write(
            &d.join("cpu.weight"),
            &l.cpu_weight.clamp(1, 10000).to_string(),
        )
    }

    /// The `cgroup.procs` files a process writes `0` to, to join.
    pub fn procs_files(&self) -> Vec<CString> {
        self.dirs
            .iter()
            .filter_map(|d| CString::new(d.join("cgroup.procs").display().to_string()).ok())
            .collect()
    }

    /// Memory in use now (RAM, page cache, tmpfs), bytes.
    pub fn memory_usage(&self) -> Option<u64> {
        let file = match self.layout() {
            Layout::V1 => "memory.usage_in_bytes",
            Layout::V2 => "memory.current",
        };
        std::fs::read_to_string(self.dirs[0].join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Processes in the cgroup now.
    pub fn pids(&self) -> Vec<u32> {
        let dir = match self.layout() {
            Layout::V1 => &self.dirs[1],
            Layout::V2 => &self.dirs[0],
        };
        std::fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Kills whatever is left in the cgroup(s) and removes them.
    pub fn remove(&self) {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            for d in &self.dirs {
                for pid in std::fs::read_to_string(d.join("cgroup.procs"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok())
                {
                    // SAFETY: kill(2) takes plain integers; the PID is a
                    // member of this sandbox's own cgroup.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            let left: Vec<&PathBuf> = self
                .dirs
                .iter()
                .filter(|d| d.exists() && std::fs::remove_dir(d).is_err())
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Saved as one folder per line in the sandbox's state folder.
    pub fn to_text(&self) -> String {
        self.dirs
            .iter()
            .map(|d| d.display().to_string() + "\n")
            .collect()
    }

    /// Read back from [`Cgroups::to_text`]; only folders under a cgroup
    /// mount count (the state file must not name arbitrary folders to remove).
    pub fn from_text(text: &str) -> Option<Cgroups> {
        let dirs: Vec<PathBuf> = text
            .lines()
            .map(PathBuf::from)
            .filter(|d| {
                d.starts_with("/sys/fs/cgroup") && !d.components().any(|c| c.as_os_str() == "..")
            })
            .collect();
        (!dirs.is_empty()).then_some(Cgroups { dirs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_distinct_safe_folder_names() {
        assert_eq!(folder_name("router").unwrap(), "router");
        assert_eq!(
            folder_name("learner-ada/router").unwrap(),
            "learner-ada+router"
        );
        assert_eq!(folder_name("../x").unwrap(), "_2e_2e+x");
        assert_ne!(folder_name("a_2fb").unwrap(), folder_name("a/b").unwrap());
        assert_ne!(folder_name("a+b").unwrap(), folder_name("a/b").unwrap());
        assert!(folder_name("").is_err());
        for k in ["learner-ada/router", "a_b.c/d e", "router", "x_"] {
            assert_eq!(key_of(&folder_name(k).unwrap()), k);
        }
        assert!(folder_name(&"x".repeat(300)).is_err());
    }

    #[test]
    fn the_state_file_cannot_name_folders_outside_the_cgroup_tree() {
        assert!(Cgroups::from_text("/etc\n/sys/fs/cgroup/../../etc\n").is_none());
        let cg = Cgroups::from_text("/sys/fs/cgroup/memory/layerlab/a\n").unwrap();
        assert_eq!(cg.dirs.len(), 1);
    }

    #[test]
    fn the_holder_sees_its_own_state_read_only_and_no_one_elses() {
        let conf = Confine {
            hide: vec![PathBuf::from("/")],
            ..Confine::default()
        };
        let a = bwrap_args(
            &conf,
            Path::new("/run/ll/s/a"),
            Path::new("/opt/bin"),
            Path::new("/run/ll/s"),
            "true",
        );
        let at = |w: &[&str]| a.windows(w.len()).position(|x| x == w);
        let root = at(&["--tmpfs", "/run/ll/s"]).expect("state root hidden");
        let own = at(&["--ro-bind", "/run/ll/s/a", "/run/ll/s/a"]).expect("own folder");
        assert!(root < own, "the own folder must be mounted after the cover");
        assert!(at(&["--tmpfs", "/"]).is_none(), "/ is never hidden");
        assert!(at(&["--size", "67108864", "--tmpfs", "/tmp"]).is_some());
        assert!(!a.iter().any(|x| x == "--die-with-parent"));
    }
}
