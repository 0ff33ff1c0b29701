//! A sandbox whose state folder (and binary) live under /tmp, which the
//! sandbox hides behind its own tmpfs, still sees them: a clone in /tmp,
//! or a rootless fallback to the temp folder, must work like /run.
//! Its own test binary: it sets `LAYERLAB_SANDBOX_DIR` for the process.

use layerlab_labs::sandbox::{Owner, Sandbox};
use std::time::Duration;

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: network namespaces and iptables (CI runs as root)"
)]
fn state_and_binary_under_tmp_stay_visible_while_host_tmp_stays_hidden() {
    let dir = std::env::temp_dir().join(format!("layerlab-state-test-{}", std::process::id()));
    // SAFETY: the only test in this binary, before any thread starts.
    unsafe { std::env::set_var("LAYERLAB_SANDBOX_DIR", &dir) };
    let marker = std::env::temp_dir().join(format!("layerlab-host-marker-{}", std::process::id()));
    std::fs::write(&marker, "host").unwrap();

    let sb = Sandbox::create("under-tmp", Owner::Process(std::process::id())).expect("sandbox");
    let exe = std::env::current_exe().unwrap();
    let exe_name = exe.file_name().unwrap().to_string_lossy().into_owned();
    let state = sb.dir.display().to_string();
    let out = sb.run(
        &format!(
            "test -f '{state}/pid' && test -x '{state}/bin/{exe_name}' && echo ok; \
             test -e '{}' && echo leaked",
            marker.display()
        ),
        Duration::from_secs(10),
    );
    sb.destroy();
    let _ = std::fs::remove_file(&marker);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}
