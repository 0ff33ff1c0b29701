//! `layerlab packet summary|show|flows|replay FILE`: read captures like
//! tcpdump, explain them like a tutor.

use anyhow::{Context, Result, bail};
use layerlab_core::packet::{self, CaptureReader, CapturedPacket, Dissection, FlowTable, LinkType};
use layerlab_core::{Course, Journey, Progress};
use layerlab_tui::app::App;
use layerlab_tui::screens::journey::JourneyPane;
use layerlab_tui::theme::Theme;
use serde::Serialize;
use std::io::{BufWriter, StdoutLock, Write};
use std::path::Path;
use std::sync::OnceLock;

/// Most packets `replay` steps through: a hop per packet is for reading,
/// and a bigger capture is better cut down with `tcpdump -w` first.
pub const MAX_REPLAY_PACKETS: usize = 5000;

/// What to do with a capture.
#[derive(clap::Subcommand)]
pub enum PacketCommand {
    /// One line per packet, like `tcpdump -nn -r`, with TCP/UDP streams numbered.
    Summary {
        /// A pcap or pcapng file.
        file: std::path::PathBuf,
        /// JSON Lines output: one object per packet.
        #[arg(long)]
        json: bool,
    },
    /// The layered field tree and hex dump of one packet.
    Show {
        /// A pcap or pcapng file.
        file: std::path::PathBuf,
        /// Packet number (1-based, as in `summary`).
        #[arg(short = 'n', long = "number", default_value_t = 1)]
        number: usize,
        /// JSON output: the full dissection.
        #[arg(long)]
        json: bool,
    },
    /// TCP and UDP conversations: state, bytes each way, handshake RTT.
    Flows {
        /// A pcap or pcapng file.
        file: std::path::PathBuf,
        /// JSON output: an array of flows.
        #[arg(long)]
        json: bool,
    },
    /// Step through a capture packet by packet in the journey view:
    /// addresses as a diagram, each packet's field tree and bytes.
    Replay {
        /// A pcap or pcapng file.
        file: std::path::PathBuf,
    },
}

/// Runs a packet command; `Ok(false)` when the capture was damaged part-way.
pub fn run(cmd: PacketCommand) -> Result<bool> {
    match cmd {
        PacketCommand::Summary { file, json } => {
            with_stdout(|out| summary(&read(&file)?, json, out))
        }
        PacketCommand::Show { file, number, json } => {
            with_stdout(|out| show(&read(&file)?, number, json, out))
        }
        PacketCommand::Flows { file, json } => with_stdout(|out| flows(&read(&file)?, json, out)),
        PacketCommand::Replay { file } => replay(&file).map(|()| true),
    }
}

/// Runs a printing command on a buffered, locked stdout.
fn with_stdout(
    f: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> Result<bool>,
) -> Result<bool> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let ok = f(&mut out)?;
    out.flush()?;
    Ok(ok)
}

/// `packet replay`: the capture as a journey, in the tutor's journey view.
fn replay(path: &Path) -> Result<()> {
    let bytes = read(path)?;
    let (journey, note) = capture_journey(path, &bytes)?;
    let hops = journey.hops.len();
    // Replay teaches from the capture alone: no course, no progress to save.
    static NO_COURSE: OnceLock<Course> = OnceLock::new();
    let mut app = App::new(
        NO_COURSE.get_or_init(Course::default),
        Progress::default(),
        Theme::from_env(),
        layerlab_labs::store::now,
    );
    app.watch(JourneyPane::new(journey), None);
    app.status = Some(note.unwrap_or_else(|| {
        format!("{hops} packets: → next, Space plays, ? shows every key, q quits.")
    }));
    Ok(layerlab_tui::runner::run_without_saving(app)?)
}

/// The packets of a capture as a journey (one hop per packet), and a note
/// for the learner when not all of it could be shown.
pub fn capture_journey(path: &Path, bytes: &[u8]) -> Result<(Journey, Option<String>)> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Journey::from_capture_file("capture", &name, bytes, MAX_REPLAY_PACKETS)
        .map_err(|e| anyhow::anyhow!("cannot replay {}: {e}", path.display()))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read capture {}", path.display()))
}

fn open(bytes: &[u8]) -> Result<CaptureReader<'_>> {
    CaptureReader::new(bytes).context("cannot read the capture")
}

/// Reports a damaged capture after what could be read was printed.
fn damaged(err: &packet::CaptureError) -> bool {
    eprintln!("layerlab: {err}");
    false
}

/// `HH:MM:SS.micro` in UTC, like `TZ=UTC tcpdump`.
fn write_time(out: &mut impl Write, ts_nanos: u64) -> std::io::Result<()> {
    let secs = ts_nanos / 1_000_000_000;
    let micros = (ts_nanos / 1000) % 1_000_000;
    let day = secs % 86_400;
    write!(
        out,
        "{:02}:{:02}:{:02}.{micros:06}",
        day / 3600,
        day / 60 % 60,
        day % 60
    )
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

fn summary(bytes: &[u8], json: bool, out: &mut impl Write) -> Result<bool> {
    let mut flows = FlowTable::new();
    let mut line = String::new();
    for p in open(bytes)? {
        let p = match p {
            Ok(p) => p,
            Err(e) => return Ok(damaged(&e)),
        };
        let s = packet::summarize(p.data, p.link);
        let stream = flows.observe(&s, p.ts_nanos).map(|n| {
            let proto = if s.five_tuple().is_some_and(|t| t.0 == 6) {
                "tcp"
            } else {
                "udp"
            };
            (proto, n)
        });
        if json {
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(line, "{s}");
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
                Some((proto, n)) => write!(out, " {proto}#{n:<3} {s}")?,
                None => write!(out, "        {s}")?,
            }
            writeln!(out)?;
        }
    }
    Ok(true)
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

fn show(bytes: &[u8], number: usize, json: bool, out: &mut impl Write) -> Result<bool> {
    if number == 0 {
        bail!("packets are numbered from 1");
    }
    let mut count = 0;
    let mut found: Option<CapturedPacket<'_>> = None;
    for p in open(bytes)? {
        match p {
            Ok(p) if p.number == number => {
                found = Some(p);
                break;
            }
            Ok(p) => count = p.number,
            Err(e) => {
                damaged(&e);
                break;
            }
        }
    }
    let Some(p) = found else {
        bail!("the capture has {count} packets; there is no packet {number}")
    };
    let d = packet::dissect(p.data, p.link);
    if json {
        let shown = ShownPacket {
            number,
            ts_nanos: p.ts_nanos,
            orig_len: p.orig_len,
            link: p.link,
            dissection: &d,
            hex: hex::encode(p.data),
        };
        serde_json::to_writer_pretty(&mut *out, &shown)?;
        writeln!(out)?;
        return Ok(true);
    }
    write!(
        out,
        "Packet {number} · {} bytes captured, {} on the wire · ",
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
        writeln!(
            out,
            "\n! stopped at byte {} in {}: {}",
            s.offset, s.layer, s.reason
        )?;
    }
    writeln!(out)?;
    hex_dump(out, p.data)?;
    Ok(true)
}

/// Offsets, 16 bytes in hex, and printable ASCII, like `xxd`.
fn hex_dump(out: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
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
        let ascii: String = chunk
            .iter()
            .map(|&c| {
                if (0x20..0x7f).contains(&c) {
                    c as char
                } else {
                    '.'
                }
            })
            .collect();
        writeln!(out, " |{ascii}|")?;
    }
    Ok(())
}

mod hex {
    /// Lower-case hex of bytes.
    pub fn encode(data: &[u8]) -> String {
        use std::fmt::Write as _;
        data.iter()
            .fold(String::with_capacity(data.len() * 2), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

fn flows(bytes: &[u8], json: bool, out: &mut impl Write) -> Result<bool> {
    let mut table = FlowTable::new();
    let mut ok = true;
    for p in open(bytes)? {
        match p {
            Ok(p) => {
                table.observe(&packet::summarize(p.data, p.link), p.ts_nanos);
            }
            Err(e) => {
                ok = damaged(&e);
                break;
            }
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut *out, table.flows())?;
        writeln!(out)?;
        return Ok(ok);
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
    Ok(ok)
}

fn endpoint((ip, port): (std::net::IpAddr, u16)) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        v4 => format!("{v4}:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::capture_journey;
    use std::path::Path;

    const HTTP: &[u8] = include_bytes!("../../core/tests/captures/http.pcap");

    #[test]
    fn damaged_or_foreign_files_give_clear_errors_not_panics() {
        let path = Path::new("bad.pcap");
        let err = capture_journey(path, b"hello, not a capture at all").unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("cannot replay bad.pcap") && msg.contains("not a pcap"),
            "{msg}"
        );

        let header_only = &HTTP[..24];
        let msg = format!("{:#}", capture_journey(path, header_only).unwrap_err());
        assert!(msg.contains("no packets"), "{msg}");

        // Cut in the middle of a packet: what was read is shown, with a note.
        let cut = &HTTP[..HTTP.len() - 10];
        let (journey, note) = capture_journey(path, cut).unwrap();
        let (all, _) = capture_journey(path, HTTP).unwrap();
        assert_eq!(journey.hops.len(), all.hops.len() - 1);
        let note = note.unwrap();
        assert!(
            note.contains("damaged") && note.contains("showing the"),
            "{note}"
        );
    }
}
