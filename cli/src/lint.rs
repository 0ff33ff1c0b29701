//! `layerlab lint [PATH]`: check a lessons tree and print every diagnostic.

use anyhow::{Context, Result, bail};
use layerlab_core::{Diagnostic, LoadedContent, Severity, SourceFile, load_content};
use std::path::{Path, PathBuf};

/// Lints the embedded course, or the tree at `path`; returns whether it is error-free.
pub fn run(path: Option<&Path>) -> Result<bool> {
    if let Some(p) = path
        && is_labs_dir(p)
    {
        return lint_labs_dir(p);
    }
    let (label, loaded) = match path {
        None => (
            "embedded course".to_string(),
            load_content(&layerlab_lessons::files(), &lab_ids()),
        ),
        Some(p) => (p.display().to_string(), lint_dir(p)?),
    };
    for d in &loaded.diagnostics {
        println!("{d}");
    }
    let errors = loaded.error_count();
    let warnings = loaded.diagnostics.len() - errors;
    let c = &loaded.course;
    let lessons = c.lessons().count();
    let questions: usize = c.lessons().map(|l| l.quiz.len()).sum();
    let words: usize = c.lessons().map(|l| l.words).sum();
    println!(
        "{label}: {} chapters, {lessons} lessons, {words} words, {questions} quiz questions, {} glossary terms, {} journeys; {errors} errors, {warnings} warnings",
        c.chapters.len(),
        c.glossary.len(),
        loaded.journeys.len()
    );
    if path.is_none() {
        let labs = layerlab_labs::load();
        for d in &labs.diagnostics {
            println!("{d}");
        }
        println!(
            "embedded labs: {} labs, {} steps, {} checks; {} errors",
            labs.labs.len(),
            labs.labs.iter().map(|l| l.steps.len()).sum::<usize>(),
            labs.labs
                .iter()
                .flat_map(|l| &l.steps)
                .map(|s| s.checks.len())
                .sum::<usize>(),
            labs.errors()
        );
        return Ok(errors == 0 && labs.errors() == 0);
    }
    Ok(errors == 0)
}

/// Ids of the embedded labs, which lessons may link to.
fn lab_ids() -> std::collections::BTreeSet<String> {
    layerlab_labs::labs().iter().map(|l| l.id.clone()).collect()
}

/// A folder of lab files (`*.yaml`) rather than a lessons tree.
fn is_labs_dir(p: &Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|d| {
        d.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".yaml") || n.ends_with(".yml")
        })
    })
}

/// Lints a folder of lab files against the embedded course's chapters.
fn lint_labs_dir(root: &Path) -> Result<bool> {
    let mut texts = Vec::new();
    for e in
        std::fs::read_dir(root).with_context(|| format!("cannot read folder {}", root.display()))?
    {
        let p = e?.path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            texts.push((name, text));
        }
    }
    texts.sort();
    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .map(|(path, text)| SourceFile { path, text })
        .collect();
    let loaded = layerlab_core::lab::load_labs(&files, &layerlab_labs::chapter_ids());
    for d in &loaded.diagnostics {
        println!("{d}");
    }
    // Kind labs' manifests sit beside the lab files (`labs/manifests`).
    let manifests = root
        .parent()
        .map(|p| p.join("manifests"))
        .filter(|p| p.is_dir())
        .map(|dir| lint_manifests(&dir))
        .transpose()?
        .unwrap_or_default();
    for d in &manifests {
        println!("{d}");
    }
    println!(
        "{}: {} labs; {} errors",
        root.display(),
        loaded.labs.len(),
        loaded.errors() + manifests.len()
    );
    Ok(loaded.errors() == 0 && manifests.is_empty())
}

/// Kind labs' manifests (`DIR/<lab>/*.yaml`) must parse and leave the
/// namespace to the runner: no `metadata.namespace`, no Namespace object
/// (in a workshop they are applied in the learner's own namespace).
fn lint_manifests(dir: &Path) -> Result<Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    for lab in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let lab = lab?.path();
        if lab.is_dir() {
            for f in std::fs::read_dir(&lab)? {
                let f = f?.path();
                if f.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?;
        let at = |needle: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map_or(1, |i| i + 1)
        };
        let diag = |line, message: String, help: &str| Diagnostic {
            severity: Severity::Error,
            file: f.display().to_string(),
            line,
            col: 1,
            message,
            help: Some(help.into()),
        };
        match layerlab_kube::cluster::apply::documents(&text) {
            Err(e) => out.push(diag(
                1,
                e.to_string(),
                "each document needs apiVersion, kind and metadata.name",
            )),
            Ok(docs) => {
                for d in docs {
                    let name = d["metadata"]["name"].as_str().unwrap_or_default();
                    if d["kind"] == "Namespace" {
                        out.push(diag(
                            at("kind: Namespace"),
                            format!("manifest makes namespace `{name}`"),
                            "leave it out: the runner makes the lab's `namespace:` (a learner's own in a workshop)",
                        ));
                    } else if let Some(ns) = d["metadata"]["namespace"].as_str() {
                        out.push(diag(
                            at("namespace:"),
                            format!("{} `{name}` names namespace `{ns}`", d["kind"].as_str().unwrap_or("object")),
                            "leave metadata.namespace out: kubectl's default is the lab's namespace (a learner's own in a workshop)",
                        ));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Reads every file under `root` and loads it as a course.
fn lint_dir(root: &Path) -> Result<LoadedContent> {
    if !root.is_dir() {
        bail!(
            "{} is not a folder: pass the lessons content folder, e.g. lessons/content",
            root.display()
        );
    }
    let mut paths = Vec::new();
    collect(root, &mut paths)?;
    paths.sort();
    let mut texts = Vec::new();
    let mut unreadable = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        if !(rel.ends_with(".md") || rel.ends_with(".toml")) {
            continue;
        }
        let message = match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    texts.push((rel, text));
                    continue;
                }
                Err(e) => format!(
                    "file is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            },
            Err(e) => format!("cannot read file: {e}"),
        };
        unreadable.push(Diagnostic {
            severity: Severity::Error,
            file: rel,
            line: 1,
            col: 1,
            message,
            help: None,
        });
    }
    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .map(|(path, text)| SourceFile { path, text })
        .collect();
    let mut loaded = load_content(&files, &lab_ids());
    loaded.diagnostics.extend(unreadable);
    loaded
        .diagnostics
        .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    Ok(loaded)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?
    {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
