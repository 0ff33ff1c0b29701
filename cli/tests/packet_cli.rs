//! `layerlab packet ...` on real captures, and our pcap files in tcpdump.

use layerlab_core::packet::{CaptureReader, FrameToWrite, LinkType, write_pcap, write_pcapng};
use std::path::PathBuf;
use std::process::{Command, Output};

fn capture(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/captures");
    root.join(name).display().to_string()
}

fn layerlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args(args)
        .output()
        .expect("run layerlab")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn summary_prints_one_line_per_packet_with_streams() {
    let o = layerlab(&["packet", "summary", &capture("http.pcap")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 17);
    assert!(
        out.contains("tcp#0   IP 10.0.0.1.47622 > 10.0.0.2.80: Flags [S], seq 4163709731"),
        "{out}"
    );
    assert!(out.contains("ARP, Reply 10.0.0.2 is-at"), "{out}");
}

#[test]
fn summary_json_lines_parse() {
    let o = layerlab(&["packet", "summary", "--json", &capture("dns.pcap")]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["number"], 1);
    assert_eq!(lines[2]["stream"], "udp#1");
    assert!(lines[3]["summary"].as_str().unwrap().contains("NXDOMAIN"));
}

#[test]
fn show_prints_the_field_tree_and_hex_dump() {
    let o = layerlab(&["packet", "show", &capture("http.pcap"), "-n", "5"]);
    let out = stdout(&o);
    assert!(o.status.success());
    assert!(
        out.contains(
            "Flags                  SYN  (opening: the client's first handshake segment)  [47..48]"
        ),
        "{out}"
    );
    assert!(out.contains("Maximum segment size   1460"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("0000  ")), "{out}");
    let o = layerlab(&["packet", "show", "--json", &capture("http.pcap"), "-n", "5"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dissection"]["layers"][2]["protocol"], "tcp");
    assert_eq!(v["hex"].as_str().unwrap().len(), 74 * 2);
}

#[test]
fn flows_report_state_bytes_and_rtt() {
    let o = layerlab(&["packet", "flows", "--json", &capture("http.pcap")]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tcp: Vec<&serde_json::Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["protocol"] == "tcp")
        .collect();
    assert_eq!(tcp.len(), 1);
    assert_eq!(tcp[0]["state"], "closed");
    assert_eq!(tcp[0]["bytes_to_server"], 72);
    assert!(tcp[0]["handshake_rtt_ns"].as_u64().unwrap() > 0);
}

#[test]
fn bad_input_gets_a_clear_error_and_exit_code() {
    let o = layerlab(&["packet", "summary", "/no/such.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read capture /no/such.pcap"));
    let not_a_capture = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let o = layerlab(&["packet", "summary", not_a_capture]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a pcap or pcapng file"));
    let o = layerlab(&["packet", "show", &capture("dns.pcap"), "-n", "99"]);
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the capture has 4 packets; there is no packet 99")
    );
    // A capture cut mid-packet: what was read is printed, then the damage, exit 1.
    let bytes = std::fs::read(capture("http.pcap")).unwrap();
    let cut = std::env::temp_dir().join(format!("layerlab-cut-{}.pcap", std::process::id()));
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let o = layerlab(&["packet", "summary", cut.to_str().unwrap()]);
    std::fs::remove_file(&cut).unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o).lines().count(), 16);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("capture is damaged at byte"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn files_we_write_open_in_tcpdump() {
    let tcpdump = Command::new("tcpdump").arg("--version").output();
    assert!(
        tcpdump.is_ok(),
        "tcpdump is not installed: apt-get install tcpdump (.ci/run installs it)"
    );
    let bytes = std::fs::read(capture("http.pcap")).unwrap();
    let packets: Vec<_> = CaptureReader::new(&bytes)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let frames: Vec<FrameToWrite<'_>> = packets
        .iter()
        .map(|p| FrameToWrite {
            ts_nanos: p.ts_nanos,
            data: p.data,
        })
        .collect();
    let dir = std::env::temp_dir();
    for (name, file) in [
        ("pcap", write_pcap(LinkType::Ethernet, &frames)),
        ("pcapng", write_pcapng(LinkType::Ethernet, &frames)),
    ] {
        let path = dir.join(format!("layerlab-{}.{name}", std::process::id()));
        std::fs::write(&path, file).unwrap();
        let ours = Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&path)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let original = Command::new("tcpdump")
            .args(["-nn", "-r", &capture("http.pcap")])
            .env("TZ", "UTC")
            .output()
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(
            ours.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert_eq!(
            stdout(&ours),
            stdout(&original),
            "tcpdump reads our {name} differently"
        );
    }
}

#[test]
fn short_snaplen_and_nflog_captures_read_cleanly() {
    // `tcpdump -s 96`: every big segment is cut; that is normal, not damage.
    let o = layerlab(&["packet", "summary", &capture("snap96.pcap")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.is_empty(), "{err}");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 12, "{out}");
    // Lengths come from the IP header, as tcpdump prints them, not from the 96 bytes kept.
    assert!(out.contains("length 6000"), "{out}");
    let o = layerlab(&["packet", "show", &capture("snap96.pcap"), "-n", "8"]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("96 bytes captured, 6066 on the wire"),
        "{}",
        stdout(&o)
    );
    // NFLOG (link type 239): the logged packets, with the rule's group and prefix.
    let o = layerlab(&["packet", "summary", &capture("nflog.pcap")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.is_empty(), "{err}");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.contains("IP 10.0.0.1 > 10.0.0.2: ICMP echo request"),
        "{out}"
    );
    let o = layerlab(&["packet", "show", &capture("nflog.pcap"), "-n", "1"]);
    assert!(stdout(&o).contains("Log prefix"), "{}", stdout(&o));
    // Two interfaces, two link types (Ethernet and NFLOG) in one pcapng.
    let o = layerlab(&["packet", "summary", &capture("multi.pcapng")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o).lines().count(), 5);
}

#[test]
fn stdin_prints_each_packet_as_it_arrives() {
    use std::io::{BufRead, BufReader, Write};
    let bytes = std::fs::read(capture("http.pcap")).unwrap();
    // Whole file through a pipe: the same lines as from the file.
    let mut child = Command::new(env!("CARGO_BIN_EXE_layerlab"))
        .args(["packet", "summary", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The header and the first packet only.
    let first = 24 + 16 + u32::from_le_bytes(bytes[32..36].try_into().unwrap()) as usize;
    stdin.write_all(&bytes[..first]).unwrap();
    stdin.flush().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // This read returns only if the line was printed while stdin is still open.
    out.read_line(&mut line).unwrap();
    let from_file = stdout(&layerlab(&["packet", "summary", &capture("http.pcap")]));
    assert_eq!(line, from_file.lines().next().unwrap().to_string() + "\n");
    stdin.write_all(&bytes[first..]).unwrap();
    drop(stdin);
    let rest: Vec<String> = out.lines().map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success());
    let mut all = vec![line.trim_end().to_string()];
    all.extend(rest);
    assert_eq!(all.join("\n") + "\n", from_file);
}

#[test]
fn an_unknown_link_type_is_named_with_its_number_once_and_every_packet_gets_a_line() {
    let frame = [0u8; 30];
    let frames = [FrameToWrite {
        ts_nanos: 1_000,
        data: &frame,
    }; 3];
    let path = std::env::temp_dir().join(format!("layerlab-lt147-{}.pcap", std::process::id()));
    std::fs::write(&path, write_pcap(LinkType::Unsupported(147), &frames)).unwrap();
    let o = layerlab(&["packet", "summary", path.to_str().unwrap()]);
    std::fs::remove_file(&path).unwrap();
    assert!(o.status.success());
    let out = stdout(&o);
    assert_eq!(
        out.matches("link type 147 (not read by layerlab), length 30")
            .count(),
        3,
        "{out}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("link type 147").count(), 1, "{err}");
    assert!(!out.contains("truncated"), "{out}");
}
