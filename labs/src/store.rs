//! Progress on disk, the one store for the tutor, `layerlab lab check`
//! and the server's learners: `$XDG_DATA_HOME/layerlab/progress.json`, or
//! any file path.
//!
//! Saves are atomic (temp file, fsync, rename, fsync of the folder), so a
//! crash or `kill -9` at any instant leaves either the old or the new file,
//! never a torn one. The tutor's [`ProgressStore::load`] moves a file that
//! cannot be read aside (and says where); the server's
//! [`ProgressStore::read`] refuses it and leaves it for a person to repair.
//!
//! It lives here, beside the lab runner, because this is the lowest crate
//! with I/O that the tutor, the command line and the server all use.

use layerlab_core::Progress;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Environment variable that overrides the data folder (tests, portable installs).
pub const DATA_DIR_ENV: &str = "LAYERLAB_DATA_DIR";

/// Where progress lives and how it is read and written.
#[derive(Debug, Clone)]
pub struct ProgressStore {
    path: PathBuf,
}

/// Why progress could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No data folder could be found.
    #[error("cannot find a data directory: set HOME, XDG_DATA_HOME or LAYERLAB_DATA_DIR")]
    NoDataDir,
    /// Reading, writing or renaming failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done (`cannot read`, `cannot save progress to`).
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is there but is not progress (never overwritten by `read`).
    #[error("{}: {reason}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}

/// What loading found.
#[derive(Debug)]
pub enum Loaded {
    /// The saved progress.
    Saved(Progress),
    /// No progress saved yet.
    Fresh(Progress),
    /// The file was unreadable: it was moved aside and we start fresh.
    MovedAside {
        /// Fresh progress.
        progress: Progress,
        /// Message for the learner: what happened, where the old file is.
        message: String,
    },
}

impl Loaded {
    /// The progress to use, whatever happened.
    pub fn progress(self) -> Progress {
        match self {
            Loaded::Saved(p) | Loaded::Fresh(p) | Loaded::MovedAside { progress: p, .. } => p,
        }
    }
}

impl ProgressStore {
    /// The store at the default location (`LAYERLAB_DATA_DIR`, else the XDG data dir).
    pub fn default_location() -> Result<ProgressStore> {
        let dir = match std::env::var_os(DATA_DIR_ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => dirs::data_dir()
                .ok_or(StoreError::NoDataDir)?
                .join("layerlab"),
        };
        Ok(ProgressStore::at(dir.join("progress.json")))
    }

    /// A store at an explicit file path.
    pub fn at(path: impl Into<PathBuf>) -> ProgressStore {
        ProgressStore { path: path.into() }
    }

    /// The progress file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads progress strictly: none saved yet is empty progress, a damaged
    /// file is an error and is left untouched.
    pub fn read(&self) -> Result<Progress> {
        let text = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::default()),
            Err(e) => return Err(io("cannot read", &self.path)(e)),
        };
        String::from_utf8(text)
            .map_err(|_| "it is not UTF-8 text".to_string())
            .and_then(|t| Progress::from_json(&t).map_err(|e| e.to_string()))
            .map_err(|reason| StoreError::Damaged {
                path: self.path.clone(),
                reason,
            })
    }

    /// Loads progress, moving an unreadable file aside.
    pub fn load(&self) -> Result<Loaded> {
        self.remove_stale_temp_files();
        if !self.path.exists() {
            return Ok(Loaded::Fresh(Progress::default()));
        }
        match self.read() {
            Ok(p) => Ok(Loaded::Saved(p)),
            Err(StoreError::Damaged { reason, .. }) => {
                let aside = self
                    .path
                    .with_extension(format!("json.unreadable-{}", now_secs()));
                fs::rename(&self.path, &aside)
                    .map_err(io("cannot move an unreadable file aside:", &self.path))?;
                Ok(Loaded::MovedAside {
                    progress: Progress::default(),
                    message: format!(
                        "Your progress file could not be read ({reason}). It was kept as {} and you start afresh.",
                        aside.display()
                    ),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Saves progress atomically.
    pub fn save(&self, progress: &Progress) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        }
        write_atomically(&self.path, progress.to_json().as_bytes())
            .map_err(io("cannot save progress to", &self.path))
    }

    /// Temp files left by a process killed mid-save are garbage: the real file
    /// was never replaced by them.
    fn remove_stale_temp_files(&self) {
        let (Some(dir), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return;
        };
        let prefix = format!("{}.tmp-", name.to_string_lossy());
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or
/// the new one, never a mix: a unique temp file beside it, fsync, rename,
/// fsync of the folder (which makes the rename itself durable).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Unique per write, so two threads writing at once never share one.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!("{name}.tmp-{}-{n}", std::process::id()));
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Now, as core's timestamp.
pub fn now() -> layerlab_core::Timestamp {
    layerlab_core::Timestamp(now_secs())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerlab_core::Timestamp;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("layerlab-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A progress big enough that writing it takes a while, with a counter.
    fn progress_with_counter(n: u32) -> Progress {
        let mut p = Progress::default();
        for i in 0..2000 {
            p.mark_read(&format!("lesson-{i:04}"), Timestamp(u64::from(n)));
        }
        p.record_quiz("counter", n, u32::MAX, Timestamp(u64::from(n)));
        p
    }

    impl ProgressStore {
        /// Reads without moving anything aside or deleting temp files: the
        /// watcher must not disturb the process it watches.
        fn load_quietly(&self) -> Progress {
            fs::read_to_string(&self.path)
                .ok()
                .and_then(|t| Progress::from_json(&t).ok())
                .unwrap_or_default()
        }
    }

    fn counter(p: &Progress) -> u32 {
        p.quiz("counter").map_or(0, |q| q.best)
    }

    #[test]
    fn save_then_load_round_trips_and_missing_file_is_fresh() {
        let dir = temp_dir("roundtrip");
        let store = ProgressStore::at(dir.join("sub/progress.json"));
        assert!(matches!(store.load().unwrap(), Loaded::Fresh(_)));
        let p = progress_with_counter(7);
        store.save(&p).unwrap();
        let Loaded::Saved(back) = store.load().unwrap() else {
            panic!("not saved")
        };
        assert_eq!(back, p);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unreadable_file_is_moved_aside_with_a_message() {
        let dir = temp_dir("corrupt");
        let store = ProgressStore::at(dir.join("progress.json"));
        fs::write(store.path(), "{\"version\": 1, \"lessons\": {").unwrap();
        let Loaded::MovedAside { progress, message } = store.load().unwrap() else {
            panic!("not moved aside")
        };
        assert!(progress.lessons.is_empty());
        assert!(
            message.contains("could not be read") && message.contains("unreadable-"),
            "{message}"
        );
        let kept: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(
            kept[0]
                .to_string_lossy()
                .starts_with("progress.json.unreadable-")
        );
        assert_eq!(
            fs::read_to_string(dir.join(&kept[0])).unwrap(),
            "{\"version\": 1, \"lessons\": {"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn crash_between_write_and_rename_keeps_previous_progress() {
        let dir = temp_dir("halfway");
        let store = ProgressStore::at(dir.join("progress.json"));
        store.save(&progress_with_counter(1)).unwrap();
        // What a process killed before its rename leaves behind: a torn temp file.
        let torn = progress_with_counter(2).to_json();
        fs::write(dir.join("progress.json.tmp-99999"), &torn[..torn.len() / 2]).unwrap();
        let Loaded::Saved(p) = store.load().unwrap() else {
            panic!("previous progress lost")
        };
        assert_eq!(counter(&p), 1);
        assert!(
            !dir.join("progress.json.tmp-99999").exists(),
            "stale temp file not cleaned"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    /// Run by `kill_9_mid_save_never_loses_or_corrupts_progress` in a child process.
    #[test]
    #[ignore = "helper: the child process that the kill -9 test kills while saving"]
    fn child_saves_in_a_loop() {
        let Some(path) = std::env::var_os("LAYERLAB_CRASH_CHILD") else {
            return;
        };
        let store = ProgressStore::at(PathBuf::from(path));
        let mut n = counter(&store.load().unwrap().progress());
        loop {
            n += 1;
            store.save(&progress_with_counter(n)).unwrap();
        }
    }

    #[test]
    fn kill_9_mid_save_never_loses_or_corrupts_progress() {
        let dir = temp_dir("kill9");
        let path = dir.join("progress.json");
        let exe = std::env::current_exe().unwrap();
        let mut last = 0;
        for round in 0..15u64 {
            let mut child = Command::new(&exe)
                .args([
                    "--exact",
                    "store::tests::child_saves_in_a_loop",
                    "--ignored",
                    "--nocapture",
                ])
                .env("LAYERLAB_CRASH_CHILD", &path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Wait for the first save of this round (a loaded machine can be slow to
            // start the child), then vary the moment of death across rounds.
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while counter(&ProgressStore::at(&path).load_quietly()) <= last
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(round * 7));
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let loaded = ProgressStore::at(&path).load().unwrap();
            let Loaded::Saved(p) = loaded else {
                panic!("round {round}: progress lost or corrupt: {loaded:?}")
            };
            let n = counter(&p);
            assert!(
                n >= last,
                "round {round}: progress went back from {last} to {n}"
            );
            assert_eq!(p.lessons.len(), 2001, "round {round}: torn progress");
            last = n;
        }
        assert!(last > 0, "the child never saved: the test proved nothing");
        fs::remove_dir_all(dir).unwrap();
    }
}
