//! End to end: drives the real `layerlab` binary in tmux as a learner would,
//! then restarts it and checks the progress survived, on screen and on disk.
//!
//! Every wait polls `capture-pane` with a deadline instead of sleeping a
//! fixed time, so the test is quick on a fast machine and patient on a slow
//! one. The tmux server runs on its own socket and is killed by a guard, so
//! a failing run leaves nothing behind.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long any one thing may take to show up on screen.
const TIMEOUT: Duration = Duration::from_secs(10);
const SESSION: &str = "layerlab";

/// A private tmux server and a fresh data folder, both removed on drop.
struct Tmux {
    socket: String,
    /// The socket file, which tmux leaves behind when its server exits.
    socket_path: Option<PathBuf>,
    data_dir: PathBuf,
}

impl Tmux {
    fn new() -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            _ => panic!(
                "tmux is not installed, and this end-to-end test needs it: install it \
                 (e.g. `apt-get install tmux` or `brew install tmux`); CI installs it via .ci/run"
            ),
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let data_dir =
            std::env::temp_dir().join(format!("layerlab-e2e-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&data_dir).expect("create the data folder");
        Tmux {
            socket: format!("layerlab-test-{}", std::process::id()),
            socket_path: None,
            data_dir,
        }
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Starts the tutor in a 100×30 window.
    fn start(&mut self) {
        let command = format!(
            "env LAYERLAB_DATA_DIR='{}' '{}'",
            self.data_dir.display(),
            env!("CARGO_BIN_EXE_layerlab")
        );
        let out = self.tmux(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-s",
            SESSION,
            &command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = self.tmux(&["display-message", "-p", "#{socket_path}"]);
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !path.is_empty() {
            self.socket_path = Some(PathBuf::from(path));
        }
    }

    /// Sends keys in tmux's notation (`Enter`, `C-c`, `j`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend(keys);
        let out = self.tmux(&args);
        assert!(
            out.status.success(),
            "send-keys {keys:?} failed (did layerlab exit?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn screen(&self) -> Option<String> {
        let out = self.tmux(&["capture-pane", "-p", "-t", SESSION]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Polls the screen until `ready` holds on two captures in a row that
    /// are the same, so a frame caught half drawn is never parsed; fails
    /// with the last screen.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        let mut last: Option<String> = None;
        while Instant::now() < deadline {
            let screen = self.screen();
            match (&screen, &last) {
                (Some(now), Some(before)) if now == before && ready(now) => return now.clone(),
                (None, _) => break, // The session is gone.
                _ => {}
            }
            last = screen;
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out after {TIMEOUT:?} waiting for {what}; last screen:\n{}",
            last.as_deref().unwrap_or("(no session: layerlab exited)")
        );
    }

    /// Waits for the tutor to exit and its session to close.
    fn wait_exit(&self) {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if !self.tmux(&["has-session", "-t", SESSION]).status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "layerlab did not exit; screen:\n{}",
            self.screen().unwrap_or_default()
        );
    }

    fn progress_json(&self) -> String {
        let path = self.data_dir.join("progress.json");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The number after `prefix` on the screen, e.g. `Question 1 of 7` → 7.
fn number_after(screen: &str, prefix: &str) -> Option<u32> {
    let rest = &screen[screen.find(prefix)? + prefix.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The reading position shown on the lesson's bottom border (` 37% `).
fn percent(screen: &str) -> Option<u32> {
    let bottom = screen.lines().rev().find(|l| l.starts_with('└'))?;
    let end = bottom.find("% ")?;
    let start = bottom[..end].rfind(' ')? + 1;
    bottom[start..end].parse().ok()
}

#[test]
fn a_learner_reads_takes_a_quiz_quits_and_finds_the_progress_kept() {
    let mut tmux = Tmux::new();
    tmux.start();
    tmux.wait_for("the course screen", |s| {
        s.contains("Course") && s.contains("? help")
    });

    // Open the first lesson and scroll.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the lesson", |s| percent(s).is_some());
    let start = percent(&screen).unwrap();
    tmux.keys(&["j", "j", "j", "NPage"]);
    tmux.wait_for("the lesson to scroll", |s| {
        percent(s).is_some_and(|p| p > start)
    });

    // Take the whole quiz: pick choice 1, or type "1" into an input.
    tmux.keys(&["t"]);
    let screen = tmux.wait_for("the first question", |s| s.contains("Question 1 of "));
    let total = number_after(&screen, "Question 1 of ").unwrap();
    let title_line = screen.lines().next().unwrap_or_default();
    let title = title_line
        .split("Quiz · ")
        .nth(1)
        .map(|t| t.trim_end_matches(['─', '┐', ' ']).to_string())
        .unwrap_or_default();
    assert!(!title.is_empty(), "no lesson title in {title_line:?}");
    for n in 1..=total {
        tmux.keys(&["1", "Enter"]);
        tmux.wait_for("the feedback", |s| {
            s.contains(&format!("Question {n} of {total} · ✓ Right"))
                || s.contains(&format!("Question {n} of {total} · ✗ Not quite"))
        });
        tmux.keys(&["Enter"]);
        if n < total {
            tmux.wait_for("the next question", |s| {
                s.contains(&format!("Question {} of {total}", n + 1))
            });
        }
    }
    let screen = tmux.wait_for("the summary", |s| {
        s.contains("Quiz finished: ") && s.contains("Quiz score saved")
    });
    let right = number_after(&screen, "Quiz finished: ").unwrap();
    let json = tmux.progress_json();
    for want in [
        format!("\"best\": {right}"),
        format!("\"total\": {total}"),
        "\"attempts\": 1".to_string(),
        "\"last_lesson\": \"".to_string(),
    ] {
        assert!(
            json.contains(&want),
            "{want} missing from progress.json:\n{json}"
        );
    }

    tmux.keys(&["C-c"]);
    tmux.wait_exit();

    // Restart: the tree shows the score, and the tutor resumes at the lesson.
    tmux.start();
    let mark = format!("{right}/{total} ");
    let screen = tmux.wait_for("the score in the course tree", |s| s.contains(&mark));
    let short_title: String = title.chars().take(20).collect();
    assert!(
        screen.contains(&short_title),
        "not resumed at “{title}”:\n{screen}"
    );
    tmux.keys(&["Enter"]);
    tmux.wait_for("the score on the lesson", |s| {
        s.contains(&format!("quiz best {right}/{total}"))
    });
    tmux.keys(&["C-c"]);
    tmux.wait_exit();
    let json = tmux.progress_json();
    assert!(
        json.contains(&format!("\"best\": {right}")) && json.contains("\"attempts\": 1"),
        "the quiz record changed after a restart:\n{json}"
    );
}
