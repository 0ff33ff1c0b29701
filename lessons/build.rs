//! Embeds every file under `content/` as `(relative path, text)` pairs.
//!
//! Generating `include_str!` lines (instead of reading files into the build
//! script's output) keeps cargo's change tracking per file, and the
//! directory-level `rerun-if-changed` catches added and removed files.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let ok = path
            .extension()
            .is_some_and(|e| e == "md" || e == "toml" || e == "yaml");
        if !ok || rel.split('/').any(|part| part.starts_with('.')) {
            continue;
        }
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("content.rs");
    std::fs::write(out, code).expect("write content.rs");
}
