//! Any text as a lesson or a journey: diagnostics, never a panic.
#![no_main]
use layerlab_core::{SourceFile, load_content};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let files = [
        SourceFile { path: "01-a/chapter.toml", text: "id = \"a\"\ntitle = \"A\"\n" },
        SourceFile { path: "01-a/01-x.md", text },
        SourceFile { path: "journeys/j.toml", text },
    ];
    let loaded = load_content(&files, &Default::default());
    for d in &loaded.diagnostics {
        assert!(d.line >= 1 && d.col >= 1);
    }
});
