//! pcap and pcapng files, read from bytes and written to bytes (pcap-file 2).
//!
//! Reading borrows the packets from the file's bytes, so summarising a
//! capture of millions of packets copies none of them.

use super::names::LinkType;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapParser, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgParser, PcapNgWriter};
use pcap_file::{DataLink, TsResolution};
use std::borrow::Cow;
use std::time::Duration;

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapturedPacket<'a> {
    /// 1-based position in the file.
    pub number: usize,
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// Length on the wire (may exceed the captured bytes).
    pub orig_len: u32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// How to read the frame.
    pub link: LinkType,
}

/// File format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// Why a capture could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Neither pcap nor pcapng.
    #[error("not a pcap or pcapng file ({0})")]
    NotACapture(String),
    /// Damaged in the middle: packets before it were read.
    #[error("capture is damaged at byte {offset}, reading packet {packet}: {reason}")]
    Damaged {
        /// 1-based packet number being read.
        packet: usize,
        /// Byte offset in the file.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
}

enum Inner {
    Pcap {
        parser: PcapParser,
        link: LinkType,
    },
    PcapNg {
        parser: PcapNgParser,
        interfaces: Vec<(LinkType, Tsresol)>,
    },
    Done,
}

/// pcapng timestamp units: ticks are 10^-n or 2^-n seconds.
#[derive(Clone, Copy)]
struct Tsresol(u8);

impl Tsresol {
    fn nanos(self, ticks: u64) -> u64 {
        let n = u32::from(self.0 & 0x7f);
        if self.0 & 0x80 != 0 {
            ((u128::from(ticks) * 1_000_000_000) >> n.min(127)) as u64
        } else if n <= 9 {
            ticks.saturating_mul(10u64.pow(9 - n))
        } else {
            ticks / 10u64.pow((n - 9).min(19))
        }
    }
}

/// Iterates over the packets of a pcap or pcapng file held in memory.
pub struct CaptureReader<'a> {
    whole: &'a [u8],
    rest: &'a [u8],
    inner: Inner,
    number: usize,
    /// Which format the file is.
    pub format: CaptureFormat,
}

fn link_of(datalink: DataLink) -> LinkType {
    let n = u32::from(datalink);
    LinkType::from_number(n).unwrap_or(LinkType::Unsupported(n))
}

impl<'a> CaptureReader<'a> {
    /// Opens a capture from its bytes.
    pub fn new(bytes: &'a [u8]) -> Result<CaptureReader<'a>, CaptureError> {
        if bytes.len() < 4 {
            return Err(CaptureError::NotACapture(format!(
                "{} bytes is too short for a header",
                bytes.len()
            )));
        }
        if bytes[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            let (rest, parser) =
                PcapNgParser::new(bytes).map_err(|e| CaptureError::NotACapture(e.to_string()))?;
            return Ok(CaptureReader {
                whole: bytes,
                rest,
                inner: Inner::PcapNg {
                    parser,
                    interfaces: Vec::new(),
                },
                number: 0,
                format: CaptureFormat::PcapNg,
            });
        }
        let (rest, parser) =
            PcapParser::new(bytes).map_err(|e| CaptureError::NotACapture(e.to_string()))?;
        let link = link_of(parser.header().datalink);
        Ok(CaptureReader {
            whole: bytes,
            rest,
            inner: Inner::Pcap { parser, link },
            number: 0,
            format: CaptureFormat::Pcap,
        })
    }

    fn damaged(&mut self, reason: String) -> Option<Result<CapturedPacket<'a>, CaptureError>> {
        self.inner = Inner::Done;
        let offset = self.whole.len() - self.rest.len();
        Some(Err(CaptureError::Damaged {
            packet: self.number + 1,
            offset,
            reason,
        }))
    }
}

impl<'a> Iterator for CaptureReader<'a> {
    type Item = Result<CapturedPacket<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            match &mut self.inner {
                Inner::Done => return None,
                Inner::Pcap { parser, link } => {
                    let link = *link;
                    return match parser.next_packet(self.rest) {
                        Ok((rest, p)) => {
                            self.rest = rest;
                            self.number += 1;
                            let data = match p.data {
                                Cow::Borrowed(d) => d,
                                Cow::Owned(_) => {
                                    return self.damaged("packet data not borrowed".into());
                                }
                            };
                            Some(Ok(CapturedPacket {
                                number: self.number,
                                ts_nanos: p.timestamp.as_nanos() as u64,
                                orig_len: p.orig_len,
                                data,
                                link,
                            }))
                        }
                        Err(e) => self.damaged(e.to_string()),
                    };
                }
                Inner::PcapNg { parser, interfaces } => {
                    let (rest, block) = match parser.next_block(self.rest) {
                        Ok(x) => x,
                        Err(e) => return self.damaged(e.to_string()),
                    };
                    let packet = match block {
                        Block::SectionHeader(_) => {
                            interfaces.clear();
                            None
                        }
                        Block::InterfaceDescription(idb) => {
                            let res = idb
                                .options
                                .iter()
                                .find_map(|o| match o {
                                    InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
                                    _ => None,
                                })
                                .unwrap_or(6);
                            interfaces.push((link_of(idb.linktype), Tsresol(res)));
                            None
                        }
                        Block::EnhancedPacket(epb) => {
                            let Some(&(link, res)) = interfaces.get(epb.interface_id as usize)
                            else {
                                let id = epb.interface_id;
                                return self.damaged(format!(
                                    "packet names interface {id}, which was never described"
                                ));
                            };
                            let Cow::Borrowed(data) = epb.data else {
                                return self.damaged("packet data not borrowed".into());
                            };
                            // pcap-file hands over the raw tick count as nanoseconds.
                            let ticks = epb.timestamp.as_nanos() as u64;
                            Some((res.nanos(ticks), epb.original_len, data, link))
                        }
                        Block::SimplePacket(spb) => {
                            let Some(&(link, _)) = interfaces.first() else {
                                return self.damaged(
                                    "simple packet before any interface description".into(),
                                );
                            };
                            let Cow::Borrowed(data) = spb.data else {
                                return self.damaged("packet data not borrowed".into());
                            };
                            Some((0, spb.original_len, data, link))
                        }
                        _ => None,
                    };
                    self.rest = rest;
                    if let Some((ts_nanos, orig_len, data, link)) = packet {
                        self.number += 1;
                        return Some(Ok(CapturedPacket {
                            number: self.number,
                            ts_nanos,
                            orig_len,
                            data,
                            link,
                        }));
                    }
                }
            }
        }
    }
}

/// A frame to write into a capture.
#[derive(Debug, Clone, Copy)]
pub struct FrameToWrite<'a> {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// The frame.
    pub data: &'a [u8],
}

/// Writes frames as a classic pcap file (microsecond timestamps: every tool reads them).
pub fn write_pcap(link: LinkType, frames: &[FrameToWrite<'_>]) -> Vec<u8> {
    let header = PcapHeader {
        datalink: DataLink::from(link.number()),
        snaplen: 262_144,
        ts_resolution: TsResolution::MicroSecond,
        ..PcapHeader::default()
    };
    let mut out = Vec::with_capacity(24 + frames.iter().map(|f| f.data.len() + 16).sum::<usize>());
    // Writing into a Vec cannot fail; a failure here would be a bug in pcap-file.
    if let Ok(mut w) = PcapWriter::with_header(&mut out, header) {
        for f in frames {
            let ts = Duration::from_nanos(f.ts_nanos / 1000 * 1000);
            let _ = w.write_packet(&PcapPacket::new(ts, f.data.len() as u32, f.data));
        }
    }
    out
}

/// Writes frames as a pcapng file with one interface and nanosecond timestamps.
pub fn write_pcapng(link: LinkType, frames: &[FrameToWrite<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(mut w) = PcapNgWriter::new(&mut out) {
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::from(link.number()),
            snaplen: 262_144,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        };
        let _ = w.write_pcapng_block(idb);
        for f in frames {
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::from_nanos(f.ts_nanos),
                original_len: f.data.len() as u32,
                data: Cow::Borrowed(f.data),
                options: vec![],
            };
            let _ = w.write_pcapng_block(epb);
        }
    }
    out
}
