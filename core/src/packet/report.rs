//! What `layerlab packet summary|show|flows` print, from a streamed capture
//! to any writer: the command line only opens the file (or stdin).
//!
//! Everything here reads packet by packet, so memory stays flat however
//! long the capture (flows grow with the number of conversations only).

use super::capture::{CaptureError, CaptureStream, CapturedPacket};
use super::dissect::{Dissection, dissect};
use super::flows::FlowTable;
use super::names::LinkType;
use super::summary::{Summary, Unknown, summarize_packet};
use serde::Serialize;
use std::io::{self, Read, Write};

/// Where notes for the reader go (stderr in the command line): damage,
/// and each number not understood, once.
pub trait Notes {
    /// One line of note.
    fn note(&mut self, line: &str);
}

impl<F: FnMut(&str)> Notes for F {
    fn note(&mut self, line: &str) {
        self(line)
    }
}

/// Remembers which unknown numbers were already named.
#[derive(Default)]
struct Named(Vec<Unknown>);

impl Named {
    fn check(&mut self, s: &Summary<'_>, notes: &mut dyn Notes) {
        let mut cur = Some(s);
        while let Some(x) = cur {
            if let Some(u) = x.unknown
                && !self.0.contains(&u)
            {
                self.0.push(u);
                notes.note(&match u {
                    Unknown::Link(n) => format!(
                        "link type {n} is not one layerlab reads: its packets are listed by length"
                    ),
                    Unknown::EtherType(n) => format!(
                        "EtherType 0x{n:04x} is not one layerlab reads: those packets are listed by length"
                    ),
                    Unknown::Family(n) => format!(
                        "address family {n} is not one layerlab reads: those packets are listed by length"
                    ),
                });
            }
            cur = x.inner.as_ref().map(|(_, i)| &**i);
        }
    }
}

/// `HH:MM:SS.micro` in UTC, like `TZ=UTC tcpdump`.
pub fn write_time(out: &mut impl Write, ts_nanos: u64) -> io::Result<()> {
    let secs = ts_nanos / 1_000_000_000;
    let micros = (ts_nanos / 1000) % 1_000_000;
    let day = secs % 86_400;
    let (h, m, s) = (day / 3600, day / 60 % 60, day % 60);
    let mut b = *b"00:00:00.000000";
    let two = |b: &mut [u8], v: u64| {
        b[0] = b'0' + (v / 10) as u8;
        b[1] = b'0' + (v % 10) as u8;
    };
    two(&mut b[0..2], h);
    two(&mut b[3..5], m);
    two(&mut b[6..8], s);
    let mut u = micros;
    for i in (9..15).rev() {
        b[i] = b'0' + (u % 10) as u8;
        u /= 10;
    }
    out.write_all(&b)
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    number: usize,
    ts_nanos: u64,
    len: usize,
    orig_len: u32,
    stream: Option<String>,
    summary: &'a str,
}

/// Reports damage and keeps going; returns false so the caller can say the file was not clean.
fn damaged(e: &CaptureError, notes: &mut dyn Notes) -> bool {
    notes.note(&e.to_string());
    false
}

/// One line per packet, like `tcpdump -nn -r`, with TCP/UDP streams numbered.
/// `live`: flush after every packet that was not already followed by more
/// bytes (reading a pipe, a line appears as its packet arrives).
/// Returns false when part of the capture was damaged.
pub fn summary<R: Read>(
    src: &mut CaptureStream<R>,
    json: bool,
    live: bool,
    out: &mut impl Write,
    notes: &mut dyn Notes,
) -> io::Result<bool> {
    let mut flows = FlowTable::for_streams();
    let mut line = String::new();
    let mut ok = true;
    let mut named = Named::default();
    while let Some(p) = src.next_packet() {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                ok = damaged(&e, notes);
                continue;
            }
        };
        let s = summarize_packet(&p);
        named.check(&s, notes);
        let stream = flows.observe(&s, p.ts_nanos).map(|n| {
            let tcp = s.five_tuple().is_some_and(|t| t.0 == 6);
            (if tcp { "tcp" } else { "udp" }, n)
        });
        // One formatted line, one write: cheaper than many small writes to the buffer.
        line.clear();
        {
            use std::fmt::Write as _;
            let _ = write!(line, "{s}");
        }
        if json {
            let rec = SummaryLine {
                number: p.number,
                ts_nanos: p.ts_nanos,
                len: p.data.len(),
                orig_len: p.orig_len,
                stream: stream.map(|(proto, n)| format!("{proto}#{n}")),
                summary: &line,
            };
            serde_json::to_writer(&mut *out, &rec)?;
            out.write_all(b"\n")?;
        } else {
            write_time(out, p.ts_nanos)?;
            match stream {
                Some((proto, n)) => write!(out, " {proto}#{n:<3} ")?,
                None => out.write_all(b"        ")?,
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        if live && !src.has_buffered() {
            out.flush()?;
        }
    }
    Ok(ok)
}

/// TCP and UDP conversations; returns the table and whether the file was clean.
pub fn flow_table<R: Read>(src: &mut CaptureStream<R>, notes: &mut dyn Notes) -> (FlowTable, bool) {
    let mut table = FlowTable::new();
    let mut ok = true;
    while let Some(p) = src.next_packet() {
        match p {
            Ok(p) => {
                table.observe(&summarize_packet(&p), p.ts_nanos);
            }
            Err(e) => ok = damaged(&e, notes),
        }
    }
    (table, ok)
}

/// The flows as a table or JSON.
pub fn write_flows(table: &FlowTable, json: bool, out: &mut impl Write) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, table.flows())?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{:<8} {:<23} {:<23} {:<12} {:>8} {:>10} {:>8} {:>10} {:>10}",
        "stream", "client", "server", "state", "pkts →", "bytes →", "pkts ←", "bytes ←", "rtt"
    )?;
    for f in table.flows() {
        let rtt = f
            .handshake_rtt_ns
            .map_or("-".to_string(), |ns| format!("{:.3} ms", ns as f64 / 1e6));
        let state = serde_json::to_value(f.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<8} {:<23} {:<23} {:<12} {:>8} {:>10} {:>8} {:>10} {:>10}",
            format!("{}#{}", f.protocol, f.stream),
            endpoint(f.client),
            endpoint(f.server),
            state,
            f.packets_to_server,
            f.bytes_to_server,
            f.packets_to_client,
            f.bytes_to_client,
            rtt
        )?;
    }
    Ok(())
}

fn endpoint((ip, port): (std::net::IpAddr, u16)) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        v4 => format!("{v4}:{port}"),
    }
}

/// Packet `number` of a capture, read up to it and no further (its bytes
/// are copied out). `Err(count)`: the capture has only `count` packets.
pub fn find_packet<R: Read>(
    src: &mut CaptureStream<R>,
    number: usize,
    notes: &mut dyn Notes,
) -> Result<(OwnedPacket, bool), usize> {
    let mut count = 0;
    let mut ok = true;
    while let Some(p) = src.next_packet() {
        match p {
            Ok(p) if p.number == number => return Ok((OwnedPacket::from(&p), ok)),
            Ok(p) => count = p.number,
            Err(e) => ok = damaged(&e, notes),
        }
    }
    Err(count)
}

/// A captured packet with its own bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPacket {
    /// 1-based position in the file.
    pub number: usize,
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// Length on the wire.
    pub orig_len: u32,
    /// Captured bytes.
    pub data: Vec<u8>,
    /// How to read the frame.
    pub link: LinkType,
}

impl From<&CapturedPacket<'_>> for OwnedPacket {
    fn from(p: &CapturedPacket<'_>) -> OwnedPacket {
        OwnedPacket {
            number: p.number,
            ts_nanos: p.ts_nanos,
            orig_len: p.orig_len,
            data: p.data.to_vec(),
            link: p.link,
        }
    }
}

#[derive(Serialize)]
struct ShownPacket<'a> {
    number: usize,
    ts_nanos: u64,
    orig_len: u32,
    link: LinkType,
    dissection: &'a Dissection,
    hex: String,
}

/// The layered field tree and hex dump of one packet (or its JSON).
pub fn write_show(p: &OwnedPacket, json: bool, out: &mut impl Write) -> io::Result<()> {
    let d = dissect(&p.data, p.link);
    if json {
        let shown = ShownPacket {
            number: p.number,
            ts_nanos: p.ts_nanos,
            orig_len: p.orig_len,
            link: p.link,
            dissection: &d,
            hex: hex(&p.data),
        };
        serde_json::to_writer_pretty(&mut *out, &shown)?;
        return writeln!(out);
    }
    write!(
        out,
        "Packet {} · {} bytes captured, {} on the wire · ",
        p.number,
        p.data.len(),
        p.orig_len
    )?;
    write_time(out, p.ts_nanos)?;
    writeln!(out, " UTC\n")?;
    for layer in &d.layers {
        writeln!(
            out,
            "{} — {}  [bytes {}..{}]",
            layer.name, layer.summary, layer.range.start, layer.range.end
        )?;
        let width = layer
            .fields
            .iter()
            .map(|f| f.name.chars().count())
            .max()
            .unwrap_or(0);
        for f in &layer.fields {
            let meaning = f
                .meaning
                .as_deref()
                .map(|m| format!("  ({m})"))
                .unwrap_or_default();
            writeln!(
                out,
                "    {:<width$}  {}{meaning}  [{}..{}]",
                f.name, f.value, f.range.start, f.range.end
            )?;
        }
    }
    if let Some(s) = &d.stopped {
        let cut = (p.data.len() as u64) < u64::from(p.orig_len);
        if cut && s.offset >= p.data.len().saturating_sub(64) {
            writeln!(
                out,
                "\n! captured {} of {} bytes: the capture's snap length cut the packet (stopped in {})",
                p.data.len(),
                p.orig_len,
                s.layer
            )?;
        } else {
            writeln!(
                out,
                "\n! stopped at byte {} in {}: {}",
                s.offset, s.layer, s.reason
            )?;
        }
    }
    writeln!(out)?;
    hex_dump(out, &p.data)
}

/// Offsets, 16 bytes in hex, and printable ASCII, like `xxd`.
pub fn hex_dump(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    for (i, chunk) in data.chunks(16).enumerate() {
        write!(out, "{:04x}  ", i * 16)?;
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => write!(out, "{b:02x} ")?,
                None => write!(out, "   ")?,
            }
            if j == 7 {
                write!(out, " ")?;
            }
        }
        let ascii: String = chunk.iter().map(|&c| super::names::printable(c)).collect();
        writeln!(out, " |{ascii}|")?;
    }
    Ok(())
}

/// Lower-case hex of bytes.
fn hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}
