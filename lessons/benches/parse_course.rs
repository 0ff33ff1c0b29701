//! How long parsing and validating the whole embedded course takes.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn parse_course(c: &mut Criterion) {
    let files = layerlab_lessons::files();
    let catalog = layerlab_lessons::catalog();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    eprintln!("course: {} files, {} bytes", files.len(), bytes);
    c.bench_function("load_embedded_course", |b| {
        b.iter(|| layerlab_core::Course::load(black_box(&files), &catalog))
    });
}

criterion_group!(benches, parse_course);
criterion_main!(benches);
