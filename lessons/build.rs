//! Embeds the lessons tree twice:
//! - every file under `content/` as `(relative path, text)` pairs, for
//!   `layerlab lint` and the tests, which parse and check the sources;
//! - the course and journeys already parsed (postcard), so the tutor and the
//!   server start without parsing 600 KB of markdown and TOML.
//!
//! Generating `include_str!` lines keeps cargo's change tracking per file,
//! and the directory-level `rerun-if-changed` catches added and removed files.
use layerlab_core::{SourceFile, load_content};
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
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    let mut code = String::from("&[\n");
    let mut texts = Vec::new();
    for path in paths {
        let rel = path
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let ok = path.extension().is_some_and(|e| e == "md" || e == "toml");
        if !ok || rel.split('/').any(|part| part.starts_with('.')) {
            continue;
        }
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
        // A file that is not UTF-8 is left for lint to report.
        if let Ok(text) = std::fs::read_to_string(&path) {
            texts.push((rel, text));
        }
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("content.rs"), code).expect("write content.rs");

    // Lab ids, read from the lab files' `id:` lines (the labs crate depends
    // on this one, so it cannot be asked), so lesson → lab links resolve.
    let labs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs/content");
    println!("cargo:rerun-if-changed={}", labs_dir.display());
    let mut lab_ids: Vec<String> = std::fs::read_dir(&labs_dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("id:")
                    .map(|id| id.trim().trim_matches('"').to_string())
            })
        })
        .collect();
    lab_ids.sort();
    std::fs::write(out.join("lab_ids.rs"), format!("&{lab_ids:?}\n")).expect("write lab_ids.rs");
    let lab_set: std::collections::BTreeSet<String> = lab_ids.into_iter().collect();

    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .map(|(path, text)| SourceFile { path, text })
        .collect();
    let loaded = load_content(&files, &lab_set);
    let bytes =
        postcard::to_stdvec(&(&loaded.course, &loaded.journeys)).expect("serialize the course");
    std::fs::write(out.join("content.postcard"), bytes).expect("write content.postcard");
}
