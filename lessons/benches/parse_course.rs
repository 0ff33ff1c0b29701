//! How long parsing and validating the whole embedded course takes.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn parse_course(c: &mut Criterion) {
    let files = layerlab_lessons::files();
    let labs = layerlab_lessons::labs();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    eprintln!("course: {} files, {} bytes", files.len(), bytes);
    // What lint and the tests do: parse and check every source file.
    c.bench_function("parse_and_check_course_sources", |b| {
        b.iter(|| layerlab_core::load_content(black_box(&files), &labs))
    });
    // What the tutor and the server do at start-up: read the build-time parse.
    c.bench_function("load_embedded_course", |b| {
        b.iter(layerlab_lessons::load_preparsed)
    });
}

criterion_group!(benches, parse_course);
criterion_main!(benches);
