//! Any bytes as a pcap/pcapng file: read every packet or stop with an error, never panic.
#![no_main]
use layerlab_core::packet::{CaptureReader, FlowTable, dissect, summarize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = CaptureReader::new(data) else { return };
    let mut flows = FlowTable::new();
    for p in reader.take(1000) {
        let Ok(p) = p else { break };
        let s = summarize(p.data, p.link);
        flows.observe(&s, p.ts_nanos);
        let _ = dissect(p.data, p.link);
    }
});
