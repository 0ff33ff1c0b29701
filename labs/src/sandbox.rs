//! The lab sandbox: a private "host" for one lab, invisible to the real one.
//!
//! A holder process is started with new PID, network and mount namespaces
//! (`unshare --pid --fork --mount-proc --net --mount --propagation private`)
//! and tmpfs over `/run/netns` and `/tmp`, so the namespaces, veths, bridges,
//! routes, iptables rules and conntrack entries a learner creates inside
//! exist only there. Everything run in the sandbox enters those namespaces
//! with `nsenter`; killing the holder (PID 1 of the sandbox) kills every
//! process inside and frees every namespace. Without root, a user namespace
//! (`--user --map-root-user`) is added where the kernel allows it.
//!
//! Each sandbox has a state folder holding the holder's PID and its owner's
//! PID; a sandbox whose owner died (the tutor crashed) is stale and removed
//! the next time any sandbox is started.
//!
//! On a shared machine (the workshop server) [`Sandbox::create_confined`]
//! starts a *confined* sandbox instead: an unprivileged host uid inside a
//! user namespace, the host file system read-only, private scratch, and a
//! cgroup with memory, PID and CPU limits (see [`crate::confine`]).

use crate::confine::{Cgroups, Confine};
use crate::exec;
use layerlab_core::lab::CommandOutput;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running sandbox.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The lab it belongs to.
    pub lab: String,
    /// PID (in the host's view) of the sandbox's PID 1.
    pub pid: u32,
    /// Its state folder (captures are kept here too).
    pub dir: PathBuf,
    /// Whether it runs inside a user namespace (no real root).
    pub rootless: bool,
    /// Set for a confined sandbox: its host uid and cgroups.
    pub confined: Option<Confined>,
}

/// What marks a confined sandbox: who it runs as on the host, its cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confined {
    /// Host uid that root inside maps to.
    pub uid: u32,
    /// Its cgroup(s).
    pub cgroups: Cgroups,
}

/// Why a sandbox could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A required program is missing.
    #[error(transparent)]
    MissingTools(#[from] crate::tools::MissingTools),
    /// The kernel or permissions refused.
    #[error("cannot create the lab sandbox: {0}")]
    Create(String),
    /// Not started.
    #[error("the sandbox for `{0}` is not running; start it with `layerlab lab start {0}`")]
    NotRunning(String),
    /// File system trouble in the state folder.
    #[error("sandbox state in {path}: {source}")]
    State {
        /// Folder.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// Who owns a sandbox: a process that removes it when it exits, or nobody
/// (started by `layerlab lab start`, removed by `lab stop`/`reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Persistent until stopped.
    Nobody,
    /// Removed when this process is gone.
    Process(u32),
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// The folder under which sandbox state lives.
pub fn state_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("LAYERLAB_SANDBOX_DIR") {
        return PathBuf::from(dir);
    }
    if is_root() {
        PathBuf::from("/run/layerlab/sandboxes")
    } else {
        dirs::runtime_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("layerlab/sandboxes")
    }
}

fn alive(pid: u32) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A holder is ours if its command line carries the name we gave it.
fn is_holder(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("layerlab-sandbox"))
        .unwrap_or(false)
}

impl Sandbox {
    /// The running sandbox of a lab (or confined key), if there is one.
    pub fn find(lab: &str) -> Option<Sandbox> {
        let dir = state_root().join(crate::confine::folder_name(lab).ok()?);
        let pid = read_pid(&dir.join("pid"))?;
        let confined = read_confined(&dir);
        (alive(pid) && is_holder(pid)).then(|| Sandbox {
            lab: lab.to_string(),
            pid,
            rootless: confined.is_some() || dir.join("rootless").exists(),
            dir,
            confined,
        })
    }

    /// The lab's sandbox, started if needed (stale ones are swept first).
    pub fn ensure(lab: &str, owner: Owner) -> Result<Sandbox, SandboxError> {
        sweep_stale();
        match Sandbox::find(lab) {
            Some(s) => Ok(s),
            None => Sandbox::create(lab, owner),
        }
    }

    /// Starts a fresh sandbox (an old one of the same lab is removed).
    pub fn create(lab: &str, owner: Owner) -> Result<Sandbox, SandboxError> {
        crate::tools::require(&["unshare", "nsenter", "ip"])?;
        if let Some(old) = Sandbox::find(lab) {
            old.destroy();
        }
        // The same folder `find` looks in (identical for ids of letters,
        // digits and `-`, which every lab id is).
        let folder = crate::confine::folder_name(lab).map_err(SandboxError::Create)?;
        let dir = state_root().join(folder);
        let state = |source| SandboxError::State {
            path: dir.display().to_string(),
            source,
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(state)?;
        let rootless = !is_root();
        // `layerlab` must stay reachable inside even if it lives under /tmp
        // (which the sandbox hides behind its own): bind its folder into
        // the state folder first, and put that on PATH.
        let exe_dir = exe_dir().unwrap_or_else(|| PathBuf::from("/usr/local/bin"));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).map_err(state)?;
        let q = |p: &Path| layerlab_core::lab::shell_quote(&p.display().to_string());
        // The state folder and the binary's folder may live under /tmp,
        // which the private tmpfs hides: hold both open first, then mount
        // them back at the same paths through their descriptors.
        let keep = format!(
            "exec 8<{exe} 9<{state} \
             && mkdir -p /run/netns && mount -t tmpfs -o mode=0755 layerlab-netns /run/netns \
             && mount -t tmpfs -o mode=1777 layerlab-tmp /tmp \
             && mkdir -p {state} && mount --no-canonicalize --bind /proc/self/fd/9 {state} \
             && mount --no-canonicalize --bind /proc/self/fd/8 {bin} && exec 8<&- 9<&- && ",
            exe = q(&exe_dir),
            state = q(&dir),
            bin = q(&bin),
        );
        // `exec -a` names PID 1 so we can recognise our holders later; it is a
        // shell loop rather than a bare sleep so orphans get reaped.
        let inner = keep
            + "ip link set lo up && echo ready \
                     && exec -a layerlab-sandbox bash -c 'while :; do sleep 3600 & wait $!; done'";
        let mut cmd = Command::new("unshare");
        if rootless {
            cmd.args(["--user", "--map-root-user"]);
        }
        cmd.args([
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "--net",
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            &inner,
        ]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own session: Ctrl-C in the terminal that started it must not
        // kill a sandbox meant to outlive this command.
        // SAFETY: the hook runs in the forked child before exec and calls
        // only setsid(2), which is async-signal-safe and allocates nothing.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| SandboxError::Create(format!("cannot run unshare: {e}")))?;
        let unshare_pid = child.id();
        // Wait for "ready" (or failure) without blocking forever.
        let mut stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 16];
            let n = stdout.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        });
        let ready = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        if !ready.starts_with("ready") {
            let _ = child.kill();
            let out = exec::wait(child, Duration::from_secs(1));
            let why = out.stderr.trim().to_string();
            let advice = if rootless {
                " (rootless sandboxes need unprivileged user namespaces: \
                 `sysctl kernel.unprivileged_userns_clone=1`, or run as root)"
            } else {
                ""
            };
            return Err(SandboxError::Create(format!(
                "{}{advice}",
                if why.is_empty() {
                    "the sandbox did not start".into()
                } else {
                    why
                }
            )));
        }
        // The holder is unshare's child: PID 1 inside.
        let pid = children(unshare_pid)
            .into_iter()
            .next()
            .ok_or_else(|| SandboxError::Create("the sandbox's first process vanished".into()))?;
        // The unshare process is reaped by nobody if we exit; detach it.
        std::mem::forget(child);
        std::fs::write(dir.join("pid"), pid.to_string()).map_err(state)?;
        let owner_pid = match owner {
            Owner::Nobody => 0,
            Owner::Process(p) => p,
        };
        std::fs::write(dir.join("owner"), owner_pid.to_string()).map_err(state)?;
        if rootless {
            std::fs::write(dir.join("rootless"), "").map_err(state)?;
        }
        Ok(Sandbox {
            lab: lab.to_string(),
            pid,
            dir,
            rootless,
            confined: None,
        })
    }

    /// The confined sandbox of `key` (`learner-ada/router`), started if
    /// needed (stale ones are swept first).
    pub fn ensure_confined(
        key: &str,
        owner: Owner,
        conf: &Confine,
    ) -> Result<Sandbox, SandboxError> {
        sweep_stale();
        match Sandbox::find(key) {
            Some(s) if s.confined.is_some() => Ok(s),
            _ => Sandbox::create_confined(key, owner, conf),
        }
    }

    /// Starts a fresh *confined* sandbox for `key` (an old one is removed):
    /// bubblewrap as host uid `conf.uid` (root only inside its user
    /// namespace), the host file system read-only, size-limited tmpfs
    /// scratch, other sandboxes' state and `conf.hide` covered, and a cgroup
    /// with `conf.limits`. The holder outlives the caller (no
    /// die-with-parent): the owner rules and [`sweep_stale`] end it.
    pub fn create_confined(
        key: &str,
        owner: Owner,
        conf: &Confine,
    ) -> Result<Sandbox, SandboxError> {
        crate::tools::require(&["bwrap", "setpriv", "unshare", "nsenter", "ip"])?;
        if !is_root() {
            return Err(SandboxError::Create(
                "confined sandboxes are for a server running as root (it switches uids \
                 and makes cgroups); without root, use a plain sandbox"
                    .into(),
            ));
        }
        let folder = crate::confine::folder_name(key).map_err(SandboxError::Create)?;
        if let Some(old) = Sandbox::find(key) {
            old.destroy();
        }
        let root = state_root();
        let dir = root.join(&folder);
        let state = |source| SandboxError::State {
            path: dir.display().to_string(),
            source,
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).map_err(state)?;
        {
            use std::os::unix::fs::PermissionsExt;
            // Root-owned and read-only for the sandbox's uid: it may read its
            // bashrc, never plant files the server later reads.
            for d in [&root, &dir, &dir.join("bin")] {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
                    .map_err(state)?;
            }
        }
        if conf.ids <= 1 {
            write_shims(&dir).map_err(state)?;
        }
        let exe_dir = exe_dir().unwrap_or_else(|| PathBuf::from("/usr/local/bin"));
        let cgroups = Cgroups::create(&folder, &conf.limits).map_err(SandboxError::Create)?;
        // bwrap's own PID 1 reaps orphans; the named holder just waits.
        let holder = "echo ready && exec -a layerlab-sandbox sleep infinity";
        let uid = conf.uid.to_string();
        // 1. Drop to the unprivileged uid, then make a user namespace
        //    (`unshare --user`) and wait on stdin.
        // 2. We, root outside, write its uid/gid maps (root inside = `uid`
        //    outside). A map written by a privileged process leaves
        //    setgroups(2) allowed, which tcpdump needs; bubblewrap's own
        //    unprivileged user namespace would deny it.
        // 3. Then bwrap makes the other namespaces and mounts, as root of
        //    that user namespace: capabilities there, none on the host.
        let mut cmd = as_uid(conf.uid);
        cmd.args(["unshare", "--user", "--", "bash", "-c"])
            .arg("echo ns && read -r go && [ \"$go\" = go ] && exec bwrap \"$@\"")
            .arg("layerlab-sandbox")
            .args(crate::confine::bwrap_args(
                conf, &dir, &exe_dir, &root, holder,
            ))
            .env_clear()
            .env("PATH", confined_path(&dir))
            .env("HOME", "/root")
            .env("LAYERLAB_LAB", key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // No no_new_privs here: bwrap must gain its capabilities inside the
        // new user namespace when it is executed (it sets no_new_privs itself).
        join_cgroups_before_exec(&mut cmd, cgroups.procs_files(), true, false);
        let fail = |why: String| {
            cgroups.remove();
            let _ = std::fs::remove_dir_all(&dir);
            SandboxError::Create(why)
        };
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Err(fail(format!("cannot run setpriv/unshare/bwrap: {e}"))),
        };
        let spawned = child.id();
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let done = line == "ready";
                if tx.send(line).is_err() || done {
                    break;
                }
            }
        });
        // Root inside is `uid`; with `ids` > 1 the ids after it too (so a
        // tool can drop to its own user, as plain `tcpdump` does).
        let map = format!("0 {uid} {}\n", conf.ids.max(1));
        let wait_for = |want: &str| {
            rx.recv_timeout(Duration::from_secs(10))
                .is_ok_and(|l| l == want)
        };
        let mapped = wait_for("ns")
            && std::fs::write(format!("/proc/{spawned}/uid_map"), &map).is_ok()
            && std::fs::write(format!("/proc/{spawned}/gid_map"), &map).is_ok()
            && {
                use std::io::Write;
                let mut stdin = child.stdin.take().expect("piped");
                stdin.write_all(b"go\n").is_ok()
            };
        if !mapped || !wait_for("ready") {
            let _ = child.kill();
            let out = exec::wait(child, Duration::from_secs(1));
            let why = out.stderr.trim();
            // The usual cause: unprivileged user namespaces are switched off
            // (Debian's sysctl, Ubuntu's AppArmor restriction).
            let advice = if why.contains("unshare failed") {
                " (the sandbox's uid must be allowed to make a user namespace: \
                 `sysctl kernel.unprivileged_userns_clone=1`, or on Ubuntu \
                 `sysctl kernel.apparmor_restrict_unprivileged_userns=0`)"
            } else {
                ""
            };
            return Err(fail(format!(
                "the confined sandbox did not start: {}{advice}",
                if why.is_empty() {
                    "no reason given"
                } else {
                    why
                }
            )));
        }
        // The outer bwrap's child is PID 1 of the sandbox's PID namespace.
        let Some(pid) = children(spawned).into_iter().next() else {
            let _ = child.kill();
            return Err(fail("the sandbox's first process vanished".into()));
        };
        // Reap the outer bwrap when the sandbox ends, so a long-running
        // server collects no zombies (a small stack: it only waits).
        let _ = std::thread::Builder::new()
            .name("sandbox-reaper".into())
            .stack_size(32 * 1024)
            .spawn(move || {
                let _ = child.wait();
            });
        let owner_pid = match owner {
            Owner::Nobody => 0,
            Owner::Process(p) => p,
        };
        let write = |name: &str, text: String| std::fs::write(dir.join(name), text);
        write("pid", pid.to_string())
            .and_then(|_| write("owner", owner_pid.to_string()))
            .and_then(|_| write("confined", uid.clone()))
            .and_then(|_| write("cgroups", cgroups.to_text()))
            .map_err(state)?;
        Ok(Sandbox {
            lab: key.to_string(),
            pid,
            dir,
            rootless: true,
            confined: Some(Confined {
                uid: conf.uid,
                cgroups,
            }),
        })
    }

    /// Enters a confined sandbox *as its mapped uid*: `setpriv` drops to
    /// `conf.uid` first, and `nsenter -U` (without `--preserve-credentials`)
    /// switches to uid 0 inside, which is that uid on the host, so host
    /// files are judged as that uid, never as the server's root. The command joins the sandbox's cgroup before
    /// it starts, with no_new_privs set, and inherits none of the server's
    /// environment.
    fn confined_command(&self, c: &Confined, argv: &[&str]) -> Command {
        // nsenter itself runs as the sandbox's uid (which owns the user
        // namespace, so it may enter), so not even its waiting parent, left
        // outside the PID namespace, is host root.
        let mut cmd = as_uid(c.uid);
        cmd.arg("nsenter").arg("-t").arg(self.pid.to_string());
        cmd.args(["-U", "-n", "-m", "-p", "-i", "-u", "-r", "--wd=/", "--"]);
        cmd.args(argv);
        cmd.env_clear()
            .env("PATH", confined_path(&self.dir))
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .env("LAYERLAB_LAB", &self.lab);
        join_cgroups_before_exec(&mut cmd, c.cgroups.procs_files(), false, true);
        cmd
    }

    /// A command that runs `argv` inside the sandbox.
    pub fn command(&self, argv: &[&str]) -> Command {
        if let Some(c) = &self.confined {
            return self.confined_command(c, argv);
        }
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t").arg(self.pid.to_string());
        if self.rootless {
            cmd.args(["-U", "--preserve-credentials"]);
        }
        cmd.args(["-n", "-m", "-p", "--wd=/", "--"]);
        cmd.args(argv);
        cmd.env("PATH", sandbox_path(&self.dir));
        cmd.env("LAYERLAB_LAB", &self.lab);
        cmd
    }

    /// Runs a shell script inside the sandbox with a deadline.
    pub fn run(&self, script: &str, timeout: Duration) -> CommandOutput {
        exec::run(self.command(&["bash", "-c", script]), timeout)
    }

    /// The learner's interactive shell in the sandbox (a prompt naming the lab).
    pub fn shell_command(&self) -> Command {
        let rc = self.dir.join("bashrc");
        let _ = std::fs::write(
            &rc,
            format!(
                "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc\n\
                 PS1='\\[\\e[1;36m\\][lab {}]\\[\\e[0m\\] \\w # '\n\
                 echo 'layerlab sandbox for lab {}: a private network host; `exit` leaves it (it keeps running).'\n",
                self.lab, self.lab
            ),
        );
        let rc = rc.display().to_string();
        let mut cmd = self.command(&["bash", "--rcfile", &rc, "-i"]);
        cmd.env(
            "TERM",
            std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
        );
        cmd
    }

    /// Kills everything in the sandbox and removes its state.
    pub fn destroy(&self) {
        destroy_pid(self.pid);
        if let Some(c) = &self.confined {
            c.cgroups.remove();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn read_confined(dir: &Path) -> Option<Confined> {
    let uid = std::fs::read_to_string(dir.join("confined"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cgroups = Cgroups::from_text(&std::fs::read_to_string(dir.join("cgroups")).ok()?)?;
    Some(Confined { uid, cgroups })
}

/// Makes `cmd`'s process join the cgroups (and set no_new_privs) between
/// fork and exec, so nothing it starts runs outside the limits; if joining
/// fails the command fails to start rather than run unconfined.
fn join_cgroups_before_exec(
    cmd: &mut Command,
    procs: Vec<std::ffi::CString>,
    new_session: bool,
    no_new_privs: bool,
) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs in the forked child before exec and only makes
    // async-signal-safe system calls (open, write, close, prctl, setsid) on
    // C strings prepared before the fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if new_session {
                libc::setsid();
            }
            for p in &procs {
                let fd = libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let n = libc::write(fd, b"0".as_ptr().cast(), 1);
                let err = std::io::Error::last_os_error();
                libc::close(fd);
                if n != 1 {
                    return Err(err);
                }
            }
            if no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `setpriv` to `uid` (and its group), with no supplementary groups and no
/// inheritable capabilities: what follows runs as that unprivileged user.
fn as_uid(uid: u32) -> Command {
    let id = uid.to_string();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid",
        &id,
        "--regid",
        &id,
        "--clear-groups",
        "--inh-caps=-all",
    ]);
    cmd
}

/// PATH inside the sandbox: our own binary's folder first, so
/// `layerlab hello-server` works without installing anything.
fn sandbox_path(state: &Path) -> String {
    let mut parts = vec![state.join("bin").display().to_string()];
    parts.push("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    parts.join(":")
}

/// PATH inside a confined sandbox: the binary's folder, then the shims.
fn confined_path(state: &Path) -> String {
    let system = sandbox_path(state);
    let (bin, rest) = system.split_once(':').unwrap_or((&system, ""));
    format!("{bin}:{}:{rest}", state.join("shims").display())
}

/// With only root mapped inside, plain `tcpdump` fails: it drops to user
/// `tcpdump`, who does not exist in the user namespace. The shim keeps it
/// root of the namespace (`-Z root`), which on the host is the sandbox's
/// unprivileged uid anyway. Written by the server, read-only inside.
fn write_shims(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let shims = dir.join("shims");
    std::fs::create_dir_all(&shims)?;
    let real = [
        "/usr/bin/tcpdump",
        "/usr/sbin/tcpdump",
        "/bin/tcpdump",
        "/sbin/tcpdump",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    if let Some(real) = real {
        let shim = shims.join("tcpdump");
        std::fs::write(&shim, format!("#!/bin/sh\nexec {real} -Z root \"$@\"\n"))?;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))?;
    }
    std::fs::set_permissions(&shims, std::fs::Permissions::from_mode(0o755))
}

/// The folder of the `layerlab` binary. LAYERLAB_EXE names it when the
/// caller is not it (the server, or tests driving the library).
fn exe_dir() -> Option<PathBuf> {
    let exe = std::env::var_os("LAYERLAB_EXE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())?;
    exe.parent().map(Path::to_path_buf)
}

fn children(pid: u32) -> Vec<u32> {
    // Retry briefly: the fork may not be visible yet.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let list =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let kids: Vec<u32> = list
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if !kids.is_empty() || Instant::now() > deadline {
            return kids;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn destroy_pid(pid: u32) {
    if !(alive(pid) && is_holder(pid)) {
        return;
    }
    // SIGKILL to PID 1 of a PID namespace kills every process in it.
    // SAFETY: kill(2) takes plain integers and touches no memory; the PID
    // was just checked to be our sandbox holder.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Removes sandboxes whose owner process is gone (a crashed tutor) and
/// state folders whose holder is gone. Returns the labs swept.
pub fn sweep_stale() -> Vec<String> {
    let mut swept = Vec::new();
    let Ok(entries) = std::fs::read_dir(state_root()) else {
        return swept;
    };
    for e in entries.flatten() {
        let dir = e.path();
        let lab = e.file_name().to_string_lossy().into_owned();
        let pid = read_pid(&dir.join("pid")).unwrap_or(0);
        // A sandbox being created has no PID file yet: not stale while young.
        if pid == 0 && is_young(&dir) {
            continue;
        }
        let owner = read_pid(&dir.join("owner")).unwrap_or(0);
        let holder_ok = alive(pid) && is_holder(pid);
        let owner_gone = owner != 0 && !alive(owner);
        if !holder_ok || owner_gone {
            if holder_ok {
                destroy_pid(pid);
            }
            if let Some(c) = read_confined(&dir) {
                c.cgroups.remove();
            }
            let _ = std::fs::remove_dir_all(&dir);
            swept.push(lab);
        }
    }
    swept
}

/// Whether a folder was made in the last minute (longer than a sandbox
/// takes to start).
fn is_young(dir: &Path) -> bool {
    std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < Duration::from_secs(60))
}

/// Every running sandbox.
pub fn list() -> Vec<Sandbox> {
    let Ok(entries) = std::fs::read_dir(state_root()) else {
        return Vec::new();
    };
    let mut out: Vec<Sandbox> = entries
        .flatten()
        .filter_map(|e| Sandbox::find(&crate::confine::key_of(&e.file_name().to_string_lossy())))
        .collect();
    out.sort_by(|a, b| a.lab.cmp(&b.lab));
    out
}
