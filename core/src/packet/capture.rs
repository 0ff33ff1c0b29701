//! pcap and pcapng files: read leniently, like libpcap reads them, from
//! bytes in memory or streamed from any [`std::io::Read`]; written with
//! pcap-file.
//!
//! The reader is our own because pcap-file refuses legal captures that
//! tcpdump reads (records longer than the header's snap length, short snap
//! lengths, odd timestamp fields) and stops at the first damaged record.
//! Here a damaged record is reported with its byte offset and reading goes on
//! from the next record that looks sound.

use super::names::LinkType;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::{DataLink, TsResolution};
use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;
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

impl CapturedPacket<'_> {
    /// True when the capture kept fewer bytes than were on the wire (a snap length).
    pub fn is_cut(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

/// File format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// Why a capture, or part of it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Neither pcap nor pcapng.
    #[error("not a pcap or pcapng file ({0})")]
    NotACapture(String),
    /// Damaged in the middle: packets before it were read, reading goes on
    /// after it where a sound record can be found.
    #[error("capture is damaged at byte {offset}, reading packet {packet}: {reason}")]
    Damaged {
        /// 1-based packet number being read.
        packet: usize,
        /// Byte offset in the file.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// The source of a streamed capture failed.
    #[error("cannot read the capture: {0}")]
    Read(String),
}

/// Largest record libpcap accepts for ordinary link types (`MAXIMUM_SNAPLEN`).
const MAX_SNAPLEN: u32 = 262_144;
/// Largest block we accept in pcapng (libpcap's limit is 16 MiB).
const MAX_BLOCK: u32 = 16 << 20;

/// pcapng timestamp units: ticks are 10^-n or 2^-n seconds.
#[derive(Clone, Copy, Debug)]
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

#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    res: Tsresol,
    offset_s: i64,
    snaplen: u32,
}

#[derive(Debug)]
enum Kind {
    Pcap {
        big: bool,
        nanos: bool,
        link: LinkType,
        limit: u32,
        rec_len: usize,
    },
    Ng {
        big: bool,
        ifaces: Vec<Iface>,
    },
}

/// What the next bytes hold.
enum Event {
    Packet {
        consumed: usize,
        ts_nanos: u64,
        orig_len: u32,
        data: Range<usize>,
        link: LinkType,
    },
    Skip(usize),
    NeedMore,
    /// `skip`: the damaged record's length is known, so reading goes on after it.
    Damaged {
        reason: String,
        skip: Option<usize>,
    },
}

/// Record-level parser shared by the in-memory and the streaming reader.
#[derive(Debug)]
struct Parser {
    kind: Kind,
    number: usize,
    last_sec: Option<u64>,
}

fn u32_at(b: &[u8], at: usize, big: bool) -> u32 {
    let x = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    }
}

fn u16_at(b: &[u8], at: usize, big: bool) -> u16 {
    let x = [b[at], b[at + 1]];
    if big {
        u16::from_be_bytes(x)
    } else {
        u16::from_le_bytes(x)
    }
}

fn link_of(n: u32) -> LinkType {
    LinkType::from_number(n).unwrap_or(LinkType::Unsupported(n))
}

const NG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

impl Parser {
    /// Reads the file header. `Ok(None)`: more bytes are needed.
    fn open(
        head: &[u8],
        eof: bool,
    ) -> Result<Option<(Parser, usize, CaptureFormat)>, CaptureError> {
        if head.len() < 4 {
            if !eof {
                return Ok(None);
            }
            return Err(CaptureError::NotACapture(format!(
                "{} bytes is too short for a header",
                head.len()
            )));
        }
        if head[..4] == NG_MAGIC {
            let p = Parser {
                kind: Kind::Ng {
                    big: false,
                    ifaces: Vec::new(),
                },
                number: 0,
                last_sec: None,
            };
            return Ok(Some((p, 0, CaptureFormat::PcapNg)));
        }
        let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let (big, nanos, rec_len) = match magic {
            0xa1b2_c3d4 => (false, false, 16),
            0xd4c3_b2a1 => (true, false, 16),
            0xa1b2_3c4d => (false, true, 16),
            0x4d3c_b2a1 => (true, true, 16),
            // Kuznetzov's modified pcap: 8 more bytes per record header.
            0xa1b2_cd34 => (false, false, 24),
            0x34cd_b2a1 => (true, false, 24),
            _ => {
                return Err(CaptureError::NotACapture(format!(
                    "unknown magic number 0x{magic:08x}"
                )));
            }
        };
        if head.len() < 24 {
            if !eof {
                return Ok(None);
            }
            return Err(CaptureError::NotACapture(format!(
                "the pcap header needs 24 bytes, the file has {}",
                head.len()
            )));
        }
        let snaplen = u32_at(head, 16, big);
        // The top bits of the link type carry FCS flags; libpcap keeps the low 16.
        let link = link_of(u32_at(head, 20, big) & 0xffff);
        let p = Parser {
            kind: Kind::Pcap {
                big,
                nanos,
                link,
                limit: snaplen.clamp(MAX_SNAPLEN, MAX_BLOCK),
                rec_len,
            },
            number: 0,
            last_sec: None,
        };
        Ok(Some((p, 24, CaptureFormat::Pcap)))
    }

    fn parse(&mut self, buf: &[u8], eof: bool) -> Event {
        let short = |what: &str, need: usize| {
            if eof {
                Event::Damaged {
                    reason: format!(
                        "the file ends inside {what} ({} of {need} bytes there)",
                        buf.len()
                    ),
                    skip: Some(buf.len()),
                }
            } else {
                Event::NeedMore
            }
        };
        match &mut self.kind {
            Kind::Pcap {
                big,
                nanos,
                link,
                limit,
                rec_len,
            } => {
                let (big, rec_len) = (*big, *rec_len);
                if buf.len() < rec_len {
                    return short("a packet header", rec_len);
                }
                let sec = u32_at(buf, 0, big);
                let frac = u32_at(buf, 4, big);
                let incl = u32_at(buf, 8, big);
                let orig = u32_at(buf, 12, big);
                if incl > *limit {
                    return Event::Damaged {
                        reason: format!(
                            "the record says {incl} bytes were captured, more than any capture holds ({})",
                            *limit
                        ),
                        skip: None,
                    };
                }
                let end = rec_len + incl as usize;
                if buf.len() < end {
                    return short("a packet", end);
                }
                let frac_ns = if *nanos {
                    u64::from(frac)
                } else {
                    u64::from(frac) * 1000
                };
                self.number += 1;
                self.last_sec = Some(u64::from(sec));
                Event::Packet {
                    consumed: end,
                    ts_nanos: u64::from(sec) * 1_000_000_000 + frac_ns,
                    orig_len: orig,
                    data: rec_len..end,
                    link: *link,
                }
            }
            Kind::Ng { big, ifaces } => {
                if buf.len() < 12 {
                    return short("a block header", 12);
                }
                let is_shb = buf[..4] == NG_MAGIC;
                if is_shb {
                    // The byte-order magic decides how this section is read.
                    match u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]) {
                        0x1a2b_3c4d => *big = false,
                        0x4d3c_2b1a => *big = true,
                        m => {
                            return Event::Damaged {
                                reason: format!("section header with byte-order magic 0x{m:08x}"),
                                skip: None,
                            };
                        }
                    }
                }
                let big = *big;
                let btype = u32_at(buf, 0, big);
                let len = u32_at(buf, 4, big);
                if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
                    return Event::Damaged {
                        reason: format!("block of type 0x{btype:x} says it is {len} bytes long"),
                        skip: None,
                    };
                }
                let len = len as usize;
                if buf.len() < len {
                    return short("a block", len);
                }
                let trailer = u32_at(buf, len - 4, big) as usize;
                if trailer != len {
                    return Event::Damaged {
                        reason: format!(
                            "block of type 0x{btype:x} starts with length {len} but ends with {trailer}"
                        ),
                        skip: None,
                    };
                }
                let body = &buf[8..len - 4];
                let bad = |reason: String| Event::Damaged {
                    reason,
                    skip: Some(len),
                };
                match btype {
                    0x0a0d_0d0a => {
                        ifaces.clear();
                        Event::Skip(len)
                    }
                    1 => {
                        if body.len() < 8 {
                            return bad("interface description block too short".into());
                        }
                        let mut iface = Iface {
                            link: link_of(u32::from(u16_at(body, 0, big))),
                            res: Tsresol(6),
                            offset_s: 0,
                            snaplen: u32_at(body, 4, big),
                        };
                        let mut o = 8;
                        while o + 4 <= body.len() {
                            let code = u16_at(body, o, big);
                            let olen = usize::from(u16_at(body, o + 2, big));
                            let Some(v) = body.get(o + 4..o + 4 + olen) else {
                                break;
                            };
                            match (code, olen) {
                                (0, _) => break,
                                (9, 1) => iface.res = Tsresol(v[0]),
                                (14, 8) => {
                                    let x: [u8; 8] = v.try_into().unwrap_or([0; 8]);
                                    iface.offset_s = if big {
                                        i64::from_be_bytes(x)
                                    } else {
                                        i64::from_le_bytes(x)
                                    };
                                }
                                _ => {}
                            }
                            o += 4 + olen.div_ceil(4) * 4;
                        }
                        ifaces.push(iface);
                        Event::Skip(len)
                    }
                    // Enhanced (6) and obsolete (2) packet blocks.
                    6 | 2 => {
                        if body.len() < 20 {
                            return bad("packet block too short for its header".into());
                        }
                        let id = if btype == 6 {
                            u32_at(body, 0, big)
                        } else {
                            u32::from(u16_at(body, 0, big))
                        };
                        let ticks = (u64::from(u32_at(body, 4, big)) << 32)
                            | u64::from(u32_at(body, 8, big));
                        let caplen = u32_at(body, 12, big) as usize;
                        let orig = u32_at(body, 16, big);
                        if 20 + caplen > body.len() {
                            return bad(format!(
                                "packet block of {len} bytes says it holds {caplen} captured bytes"
                            ));
                        }
                        let Some(iface) = ifaces.get(id as usize) else {
                            return bad(format!(
                                "packet names interface {id}, which no interface description block declared"
                            ));
                        };
                        let secs = iface.offset_s.saturating_mul(1_000_000_000);
                        let ts = (iface.res.nanos(ticks) as i64).saturating_add(secs).max(0) as u64;
                        self.number += 1;
                        self.last_sec = Some(ts / 1_000_000_000);
                        Event::Packet {
                            consumed: len,
                            ts_nanos: ts,
                            orig_len: orig,
                            data: 28..28 + caplen,
                            link: iface.link,
                        }
                    }
                    3 => {
                        let Some(iface) = ifaces.first() else {
                            return bad("simple packet before any interface description".into());
                        };
                        if body.len() < 4 {
                            return bad("simple packet block too short".into());
                        }
                        let orig = u32_at(body, 0, big);
                        let mut caplen = (orig as usize).min(body.len() - 4);
                        if iface.snaplen > 0 {
                            caplen = caplen.min(iface.snaplen as usize);
                        }
                        self.number += 1;
                        Event::Packet {
                            consumed: len,
                            ts_nanos: 0,
                            orig_len: orig,
                            data: 12..12 + caplen,
                            link: iface.link,
                        }
                    }
                    // Name resolution, statistics, custom, secrets, unknown: nothing to show.
                    _ => Event::Skip(len),
                }
            }
        }
    }

    /// Looks for the next record that looks sound after damage at `buf[0]`.
    /// Returns how many bytes to drop, and whether a record starts there
    /// (false: none in `buf`; at end of file everything is dropped).
    /// `first`: `buf[0]` is the damaged record itself (else a place not yet tried).
    fn resync(&self, buf: &[u8], eof: bool, first: bool) -> (usize, bool) {
        let step = match self.kind {
            Kind::Pcap { .. } => 1,
            Kind::Ng { .. } => 4,
        };
        let mut at = if first { step } else { 0 };
        while at < buf.len() {
            match self.plausible(&buf[at..], eof) {
                Some(true) => return (at, true),
                Some(false) => at += step,
                None => return (at, false),
            }
        }
        (buf.len(), false)
    }

    /// Whether a whole, sound-looking record sits at `b[0]` and a sound
    /// record header follows it (or the file ends right after it).
    /// `None`: too few bytes to tell yet. Decisions depend only on bytes up
    /// to what they need, so the in-memory and the streamed reader agree.
    fn plausible(&self, b: &[u8], eof: bool) -> Option<bool> {
        let wait = || if eof { Some(false) } else { None };
        let len = match self.header_len(b) {
            None => return wait(),
            Some(None) => return Some(false),
            Some(Some(len)) => len,
        };
        if b.len() < len {
            return wait();
        }
        if matches!(self.kind, Kind::Ng { big, .. } if u32_at(b, len - 4, big) as usize != len) {
            return Some(false);
        }
        let rest = &b[len..];
        if rest.is_empty() && eof {
            return Some(true);
        }
        match self.header_len(rest) {
            None => wait(),
            Some(next) => Some(next.is_some()),
        }
    }

    /// The length of the record whose header is at `b[0]`, if the header
    /// looks sound (`Some(None)`: it does not; `None`: too few bytes).
    fn header_len(&self, b: &[u8]) -> Option<Option<usize>> {
        match &self.kind {
            Kind::Pcap {
                big,
                nanos,
                limit,
                rec_len,
                ..
            } => {
                if b.len() < *rec_len {
                    return None;
                }
                let sec = u64::from(u32_at(b, 0, *big));
                let frac = u32_at(b, 4, *big);
                let incl = u32_at(b, 8, *big);
                let orig = u32_at(b, 12, *big);
                let frac_ok = frac < if *nanos { 1_000_000_000 } else { 1_000_000 };
                let near = self.last_sec.is_none_or(|l| sec.abs_diff(l) <= 86_400);
                let ok = frac_ok && near && incl <= *limit && incl <= orig && orig <= MAX_BLOCK;
                Some(ok.then_some(rec_len + incl as usize))
            }
            Kind::Ng { big, .. } => {
                if b.len() < 8 {
                    return None;
                }
                let btype = u32_at(b, 0, *big);
                let len = u32_at(b, 4, *big);
                let known = matches!(btype, 1..=6 | 0x0a0d_0d0a | 0x0bad | 0x40000bad | 10);
                let ok = known && len >= 12 && len.is_multiple_of(4) && len <= MAX_BLOCK;
                Some(ok.then_some(len as usize))
            }
        }
    }
}

/// Iterates over the packets of a pcap or pcapng file held in memory.
/// Damaged records come as errors and reading goes on after them.
pub struct CaptureReader<'a> {
    whole: &'a [u8],
    pos: usize,
    parser: Parser,
    resyncing: bool,
    /// Which format the file is.
    pub format: CaptureFormat,
}

impl<'a> CaptureReader<'a> {
    /// Opens a capture from its bytes.
    pub fn new(bytes: &'a [u8]) -> Result<CaptureReader<'a>, CaptureError> {
        let Some((parser, pos, format)) = Parser::open(bytes, true)? else {
            return Err(CaptureError::NotACapture("too short".into()));
        };
        Ok(CaptureReader {
            whole: bytes,
            pos,
            parser,
            resyncing: false,
            format,
        })
    }
}

impl<'a> Iterator for CaptureReader<'a> {
    type Item = Result<CapturedPacket<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let buf = &self.whole[self.pos..];
            if buf.is_empty() {
                return None;
            }
            if self.resyncing {
                let (skip, found) = self.parser.resync(buf, true, true);
                self.pos += skip;
                self.resyncing = false;
                if !found {
                    self.pos = self.whole.len();
                }
                continue;
            }
            match self.parser.parse(buf, true) {
                Event::NeedMore => return None,
                Event::Skip(n) => self.pos += n,
                Event::Packet {
                    consumed,
                    ts_nanos,
                    orig_len,
                    data,
                    link,
                } => {
                    let start = self.pos;
                    self.pos += consumed;
                    return Some(Ok(CapturedPacket {
                        number: self.parser.number,
                        ts_nanos,
                        orig_len,
                        data: &self.whole[start + data.start..start + data.end],
                        link,
                    }));
                }
                Event::Damaged { reason, skip } => {
                    let offset = self.pos as u64;
                    match skip {
                        Some(n) => self.pos += n,
                        None => self.resyncing = true,
                    }
                    return Some(Err(CaptureError::Damaged {
                        packet: self.parser.number + 1,
                        offset,
                        reason,
                    }));
                }
            }
        }
    }
}

/// Reads a capture from any byte source in constant memory (a buffer of
/// about one record and a read size), handing each packet out as soon as
/// its bytes have arrived: a pipe from `tcpdump -w -` prints live.
pub struct CaptureStream<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
    done: bool,
    resyncing: bool,
    resync_first: bool,
    parser: Parser,
    /// Which format the capture is.
    pub format: CaptureFormat,
}

/// Bytes asked of the source per read.
const READ_SIZE: usize = 256 << 10;

impl<R: Read> CaptureStream<R> {
    /// Reads the file header from `src`.
    pub fn new(mut src: R) -> Result<CaptureStream<R>, CaptureError> {
        let mut buf = vec![0; READ_SIZE];
        let mut end = 0;
        loop {
            let eof = match read_some(&mut src, &mut buf[end..]) {
                Ok(0) => true,
                Ok(n) => {
                    end += n;
                    false
                }
                Err(e) => return Err(CaptureError::Read(e.to_string())),
            };
            if let Some((parser, start, format)) = Parser::open(&buf[..end], eof)? {
                return Ok(CaptureStream {
                    src,
                    buf,
                    start,
                    end,
                    offset: start as u64,
                    eof: false,
                    done: false,
                    resyncing: false,
                    resync_first: false,
                    parser,
                    format,
                });
            }
            if eof {
                return Err(CaptureError::NotACapture("too short".into()));
            }
        }
    }

    /// Whether bytes already read are waiting to be parsed (a caller
    /// showing packets live flushes its output when there are none).
    pub fn has_buffered(&self) -> bool {
        self.end > self.start
    }

    /// Reads more from the source, keeping unparsed bytes.
    fn fill(&mut self) -> Result<(), CaptureError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // One record is bigger than the buffer: grow to hold it.
            self.buf.resize(self.buf.len() * 2, 0);
        }
        match read_some(&mut self.src, &mut self.buf[self.end..]) {
            Ok(0) => self.eof = true,
            Ok(n) => self.end += n,
            Err(e) => return Err(CaptureError::Read(e.to_string())),
        }
        Ok(())
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// The next packet, an error for a damaged record, or `None` at the end.
    pub fn next_packet(&mut self) -> Option<Result<CapturedPacket<'_>, CaptureError>> {
        loop {
            if self.done {
                return None;
            }
            if self.start == self.end {
                if self.eof {
                    return None;
                }
                if let Err(e) = self.fill() {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            let eof = self.eof;
            if self.resyncing {
                let first = self.resync_first;
                let (skip, found) = self
                    .parser
                    .resync(&self.buf[self.start..self.end], eof, first);
                self.advance(skip);
                self.resync_first = false;
                if found {
                    self.resyncing = false;
                } else if eof {
                    self.done = true;
                } else if let Err(e) = self.fill() {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            match self.parser.parse(&self.buf[self.start..self.end], eof) {
                Event::NeedMore => {
                    if let Err(e) = self.fill() {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                Event::Skip(n) => self.advance(n),
                Event::Packet {
                    consumed,
                    ts_nanos,
                    orig_len,
                    data,
                    link,
                } => {
                    let s = self.start;
                    self.advance(consumed);
                    return Some(Ok(CapturedPacket {
                        number: self.parser.number,
                        ts_nanos,
                        orig_len,
                        data: &self.buf[s + data.start..s + data.end],
                        link,
                    }));
                }
                Event::Damaged { reason, skip } => {
                    let offset = self.offset;
                    match skip {
                        Some(n) => self.advance(n),
                        None => {
                            self.resyncing = true;
                            self.resync_first = true;
                        }
                    }
                    return Some(Err(CaptureError::Damaged {
                        packet: self.parser.number + 1,
                        offset,
                        reason,
                    }));
                }
            }
        }
    }
}

fn read_some(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r,
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
