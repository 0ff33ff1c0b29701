//! `layerlab serve --workshop` as a process (root only): a learner joins
//! and starts a confined sandbox; the server is killed with SIGKILL; the
//! next server on the same data folder keeps the learner signed in, sweeps
//! the orphaned sandbox, and starts a fresh one; SIGTERM then removes it.
//! Requests go through curl, a client we did not write.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args(["serve", "--port", &port.to_string(), "--workshop"])
        .arg(dir.join("plan.toml"))
        .arg("--data")
        .arg(dir.join("data"))
        .env("LAYERLAB_SANDBOX_DIR", dir.join("sandboxes"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run layerlab serve");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while layerlab_server::probe(addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, port }
}

/// curl with the cookie jar; answers (status, body).
fn curl(s: &Server, jar: &Path, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method])
        .arg("-b")
        .arg(jar)
        .arg("-c")
        .arg(jar);
    if let Some(b) = body {
        cmd.args(["-H", "content-type: application/json", "--data", b]);
    }
    let out = cmd
        .arg(format!("http://127.0.0.1:{}{path}", s.port))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn sandboxes(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("sandboxes"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn holder_alive(sandbox: &Path) -> bool {
    let pid: i32 = std::fs::read_to_string(sandbox.join("pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    // SAFETY: kill with signal 0 only asks whether the process exists.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: confined sandboxes switch uids and make cgroups (CI runs as root)"
)]
fn a_restart_keeps_learners_signed_in_and_sweeps_orphaned_sandboxes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Sandboxes run as an unprivileged uid: their state folder must be reachable.
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.join("plan.toml"),
        "title = \"Restart drill\"\nlabs = [\"router\"]\njoin_code = \"RESTART-DRILL-1\"\n",
    )
    .unwrap();
    let jar = dir.join("cookies.txt");
    let port = free_port();

    let mut first = start(dir, port);
    let (status, body) = curl(
        &first,
        &jar,
        "POST",
        "/api/workshop/join",
        Some(r#"{"code":"restart-drill-1","name":"Ada"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = curl(&first, &jar, "POST", "/api/labs/router/start", None);
    assert_eq!(status, 200, "{body}");
    let before = sandboxes(dir);
    assert_eq!(before.len(), 1, "{before:?}");
    assert!(holder_alive(&before[0]));

    // SIGKILL: no shutdown, the sandbox's holder is orphaned.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(holder_alive(&before[0]), "the holder outlives its server");

    let mut second = start(dir, port);
    assert!(
        !before[0].exists(),
        "the restarted server swept the orphaned sandbox"
    );
    let (status, body) = curl(&second, &jar, "GET", "/api/workshop", None);
    assert_eq!(status, 200);
    assert!(body.contains(r#""name":"Ada""#), "still signed in: {body}");
    let (status, body) = curl(&second, &jar, "GET", "/api/labs/router/status", None);
    assert_eq!(status, 200);
    assert!(body.contains(r#""running":false"#), "{body}");
    let (status, body) = curl(&second, &jar, "POST", "/api/labs/router/start", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(sandboxes(dir).len(), 1);

    // SIGTERM: a clean stop removes the sandboxes it started.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(second.child.id() as i32, libc::SIGTERM) };
    let status = second.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(sandboxes(dir).is_empty(), "{:?}", sandboxes(dir));
}

#[test]
fn a_workshop_whose_sandboxes_could_not_reach_their_state_says_so_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::write(
        dir.join("plan.toml"),
        "title = \"x\"\nlabs = [\"router\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args(["serve", "--port", &free_port().to_string(), "--workshop"])
        .arg(dir.join("plan.toml"))
        .arg("--data")
        .arg(dir.join("data"))
        .env("LAYERLAB_SANDBOX_DIR", dir.join("sandboxes"))
        .output()
        .expect("run layerlab serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot pass this folder")
            && err.contains(&format!("chmod o+x {}", dir.display())),
        "{err}"
    );
}
