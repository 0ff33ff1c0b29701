//! Any bytes, any link type: dissect and summarise without panicking, and
//! every field's byte range stays inside the frame.
#![no_main]
use layerlab_core::packet::{LinkType, dissect, summarize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = match selector % 12 {
        0 => LinkType::Ethernet,
        1 => LinkType::LinuxSll,
        2 => LinkType::LinuxSll2,
        3 => LinkType::RawIp,
        4 => LinkType::Ipv4,
        5 => LinkType::Ipv6,
        6 => LinkType::Null,
        7 => LinkType::Loop,
        8 => LinkType::Nflog,
        9 => LinkType::Ppp,
        10 => LinkType::CiscoHdlc,
        _ => LinkType::Unsupported(u32::from(selector)),
    };
    let d = dissect(frame, link);
    for (path, f) in d.field_paths() {
        assert!(
            f.range.start <= f.range.end && f.range.end <= frame.len(),
            "{path} {:?} beyond {}",
            f.range,
            frame.len()
        );
    }
    let _ = summarize(frame, link).to_string();
});
