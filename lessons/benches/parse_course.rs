//! How long parsing and validating the whole embedded course takes.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn parse_course(c: &mut Criterion) {
    let files = layerlab_lessons::files();
    let labs = layerlab_lessons::labs();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    eprintln!("course: {} files, {} bytes", files.len(), bytes);
    c.bench_function("load_embedded_course", |b| {
        b.iter(|| layerlab_core::load_content(black_box(&files), &labs))
    });
}

criterion_group!(benches, parse_course);
criterion_main!(benches);
