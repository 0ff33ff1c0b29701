//! Any bytes as a capture, read two ways: from memory and streamed in
//! chunks of a size the input picks. Neither may panic, and both must hand
//! out the same packets and the same damage reports at the same offsets.
#![no_main]
use layerlab_core::packet::{CaptureReader, CaptureStream, summarize_packet};
use libfuzzer_sys::fuzz_target;
use std::io::Read;

/// Hands out at most `step` bytes per read.
struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&step, data)) = input.split_first() else {
        return;
    };
    let whole: Option<Vec<_>> = CaptureReader::new(data).ok().map(|r| {
        r.take(2000)
            .map(|p| p.map(|p| (p.number, p.ts_nanos, p.orig_len, p.data.to_vec(), p.link)))
            .collect()
    });
    let src = Chunks {
        data,
        step: usize::from(step).max(1),
    };
    let streamed: Option<Vec<_>> = CaptureStream::new(src).ok().map(|mut s| {
        let mut out = Vec::new();
        while let Some(p) = s.next_packet() {
            if out.len() == 2000 {
                break;
            }
            if let Ok(p) = &p {
                let _ = summarize_packet(p).to_string();
            }
            out.push(p.map(|p| (p.number, p.ts_nanos, p.orig_len, p.data.to_vec(), p.link)));
        }
        out
    });
    assert_eq!(whole, streamed);
});
