//! The packet engine: dissect frames, read and write captures, follow
//! conversations. Shared by the TUI, the browser and the lab checks.

pub mod capture;
pub mod dissect;
pub mod dns;
pub mod flows;
pub mod http;
pub mod names;
pub mod report;
pub mod summary;

pub use capture::{
    CaptureError, CaptureFormat, CaptureReader, CaptureStream, CapturedPacket, FrameToWrite,
    write_pcap, write_pcapng,
};
pub use dissect::{ByteRange, Dissection, Field, Layer, Stopped, dissect};
pub use flows::{Flow, FlowState, FlowTable};
pub use names::LinkType;
pub use summary::{Summary, summarize, summarize_packet};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_reader;
