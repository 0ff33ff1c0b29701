//! `layerlab packet summary|show|flows|replay FILE`: read captures like
//! tcpdump, explain them like a tutor.

use anyhow::{Context, Result, bail};
use layerlab_core::packet::{CaptureStream, report};
use layerlab_core::{Course, Journey, Progress};
use layerlab_tui::app::App;
use layerlab_tui::screens::journey::JourneyPane;
use layerlab_tui::theme::Theme;
use std::io::{BufWriter, Read, StdoutLock, Write};
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
        /// A pcap or pcapng file; `-` reads stdin and prints each packet as it arrives.
        file: std::path::PathBuf,
        /// JSON Lines output: one object per packet.
        #[arg(long)]
        json: bool,
    },
    /// The layered field tree and hex dump of one packet.
    Show {
        /// A pcap or pcapng file, or `-` for stdin.
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
        /// A pcap or pcapng file, or `-` for stdin.
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
    let mut notes = |line: &str| eprintln!("layerlab: {line}");
    match cmd {
        PacketCommand::Summary { file, json } => {
            let live = file.as_os_str() == "-";
            let mut src = open(&file)?;
            with_stdout(|out| Ok(report::summary(&mut src, json, live, out, &mut notes)?))
        }
        PacketCommand::Show { file, number, json } => {
            if number == 0 {
                bail!("packets are numbered from 1");
            }
            let mut src = open(&file)?;
            let (p, ok) = report::find_packet(&mut src, number, &mut notes).map_err(|count| {
                anyhow::anyhow!("the capture has {count} packets; there is no packet {number}")
            })?;
            with_stdout(|out| {
                report::write_show(&p, json, out)?;
                Ok(ok)
            })
        }
        PacketCommand::Flows { file, json } => {
            let mut src = open(&file)?;
            let (table, ok) = report::flow_table(&mut src, &mut notes);
            with_stdout(|out| {
                report::write_flows(&table, json, out)?;
                Ok(ok)
            })
        }
        PacketCommand::Replay { file } => replay(&file).map(|()| true),
    }
}

/// Opens a capture file, or stdin for `-`, as a stream.
fn open(path: &Path) -> Result<CaptureStream<Box<dyn Read>>> {
    let src: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path)
                .with_context(|| format!("cannot read capture {}", path.display()))?,
        )
    };
    CaptureStream::new(src).context("cannot read the capture")
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
