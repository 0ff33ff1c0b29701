//! Peer agreement on real captures (recorded by `captures/record.sh` and
//! `captures/record-world.sh`): packet by packet, the one-line summary names
//! the same endpoints and protocol as `tcpdump -nn -r` and the same capture
//! time; every field value layerlab shows that tshark also has is equal to
//! `tshark`'s. Without tcpdump or tshark these tests say so and pass, except
//! under CI (`CI` set), where .ci/run installs both and a missing tool fails.

use layerlab_core::packet::report::write_time;
use layerlab_core::packet::{CaptureReader, dissect, summarize_packet};
use regex_lite::Regex;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/captures")
        .join(name)
}

/// Whether a peer tool is here; prints why a test is skipped when not.
fn have(tool: &str) -> bool {
    if Command::new(tool).arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is missing in CI: .ci/run installs it (apt-get install {tool})"
    );
    eprintln!(
        "SKIPPED: {tool} is not installed (apt-get install {tool}); peer agreement not checked"
    );
    false
}

/// Captures tcpdump reads, and how many packets each has.
const TCPDUMP_CAPTURES: &[(&str, usize)] = &[
    ("http.pcap", 17),
    ("http-any.pcap", 13),
    ("dns.pcap", 4),
    ("vxlan.pcap", 12),
    ("snap96.pcap", 12),
    ("nano.pcap", 4),
    ("nflog.pcap", 3),
    ("ipv6.pcap", 0),
    ("tunnels.pcap", 0),
];

/// `(line, endpoints, protocol)` of one packet's summary, tcpdump's or ours.
fn shape(line: &str) -> (Vec<String>, String) {
    static PAIR: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let pair = PAIR.get_or_init(|| Regex::new(r"\b(IP6?) (\S+) > (\S+?):(?: |$)").unwrap());
    let mut ends = Vec::new();
    let mut tail = line;
    for c in pair.captures_iter(line) {
        ends.push(format!("{} {} > {}", &c[1], &c[2], &c[3]));
        tail = &line[c.get(0).unwrap().end()..];
    }
    let arp = Regex::new(r"ARP, (Request who-has \S+ tell [0-9.]+|Reply [0-9.]+ is-at [0-9a-f:]+)")
        .unwrap();
    if let Some(c) = arp.captures(line) {
        ends.push(c[1].to_string());
        return (ends, "arp".into());
    }
    if let Some(c) = Regex::new(r"ethertype .*?0x([0-9a-f]{4})")
        .unwrap()
        .captures(line)
    {
        return (ends, format!("ethertype 0x{}", &c[1]));
    }
    let tail = tail.trim_start_matches("HBH ");
    let tail = Regex::new(r"^frag \(0\|\d+\) ").unwrap().replace(tail, "");
    let class = if tail.starts_with("Flags [") {
        "tcp"
    } else if tail.starts_with("ICMP6") {
        "icmp6"
    } else if tail.starts_with("ICMP") {
        "icmp"
    } else if tail.starts_with("sctp") {
        "sctp"
    } else if tail.starts_with("DCCP") {
        "dccp"
    } else if tail.starts_with("frag (") || tail.starts_with("fragment") {
        "fragment"
    } else if ends.last().is_some_and(|e| {
        e.rsplit(' ').next().is_some_and(|d| {
            d.rsplit('.')
                .next()
                .is_some_and(|p| p.parse::<u16>().is_ok())
                && d.contains('.')
        })
    }) && !tail.starts_with("GRE")
    {
        // Ports on the last pair and no other protocol word: UDP and what rides on it (DNS, WireGuard).
        "udp"
    } else {
        tail.split([' ', ',']).next().unwrap_or("")
    };
    (ends, class.to_string())
}

/// tcpdump's lines for a capture, one per packet (continuation lines joined).
fn tcpdump_lines(name: &str) -> Vec<String> {
    let out = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(path(name))
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tcpdump cannot read {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = Vec::new();
    let time = Regex::new(r"^\d\d:\d\d:\d\d\.\d{6} ").unwrap();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        match lines.last_mut() {
            // tcpdump starts a tunnel's inner frame on a line of its own (VXLAN).
            Some(last) if !time.is_match(l) => {
                if !l.trim_start().starts_with("0x") {
                    last.push(' ');
                    last.push_str(l.trim());
                }
            }
            _ => lines.push(l.to_string()),
        }
    }
    lines
}

#[test]
fn summaries_name_the_same_endpoints_protocol_and_time_as_tcpdump() {
    if !have("tcpdump") {
        return;
    }
    let mut compared = 0;
    for &(name, expect) in TCPDUMP_CAPTURES {
        let bytes = std::fs::read(path(name)).unwrap();
        let theirs = tcpdump_lines(name);
        let ours: Vec<_> = CaptureReader::new(&bytes)
            .unwrap()
            .map(|p| p.unwrap_or_else(|e| panic!("{name}: {e}")))
            .collect();
        if expect > 0 {
            assert_eq!(ours.len(), expect, "{name}");
        }
        assert_eq!(ours.len(), theirs.len(), "{name}: packet count");
        for (p, t) in ours.iter().zip(&theirs) {
            let line = summarize_packet(p).to_string();
            let mut time = Vec::new();
            write_time(&mut time, p.ts_nanos).unwrap();
            assert!(
                t.starts_with(std::str::from_utf8(&time).unwrap()),
                "{name} #{}: time differs\n tcpdump: {t}\n ours:    {}",
                p.number,
                String::from_utf8_lossy(&time)
            );
            let (mut te, tc) = shape(&t[16..]);
            let (oe, oc) = shape(&line);
            if t.ends_with("gre-proto-0x88be") {
                // On purpose: tcpdump stops at ERSPAN inside GRE; we read the mirrored frame too.
                assert!(line.contains("ERSPAN type II"), "{line}");
                te.extend(oe.iter().skip(te.len()).cloned());
                assert_eq!(
                    te, oe,
                    "{name} #{}\n tcpdump: {t}\n ours:    {line}",
                    p.number
                );
                compared += 1;
                continue;
            }
            assert_eq!(
                (&te, &tc),
                (&oe, &oc),
                "{name} #{}\n tcpdump: {t}\n ours:    {line}",
                p.number
            );
            compared += 1;
        }
    }
    assert!(compared > 80, "only {compared} packets compared");
}

/// Our (layer, field key) → tshark field, for every field both show.
const FIELDS: &[(&str, &str, &str)] = &[
    ("eth", "src", "eth.src"),
    ("eth", "dst", "eth.dst"),
    ("eth", "type", "eth.type"),
    ("vlan", "vid", "vlan.id"),
    ("vlan", "pcp", "vlan.priority"),
    // tshark names an 802.1ad (QinQ) outer tag apart; we show it as the first VLAN tag.
    ("-", "-", "ieee8021ad.id"),
    ("-", "-", "ieee8021ad.priority"),
    ("arp", "op", "arp.opcode"),
    ("arp", "spa", "arp.src.proto_ipv4"),
    ("arp", "tpa", "arp.dst.proto_ipv4"),
    ("arp", "sha", "arp.src.hw_mac"),
    ("ipv4", "src", "ip.src"),
    ("ipv4", "dst", "ip.dst"),
    ("ipv4", "ttl", "ip.ttl"),
    ("ipv4", "protocol", "ip.proto"),
    ("ipv4", "total_len", "ip.len"),
    ("ipv4", "checksum", "ip.checksum"),
    ("ipv6", "src", "ipv6.src"),
    ("ipv6", "dst", "ipv6.dst"),
    ("ipv6", "hop_limit", "ipv6.hlim"),
    ("ipv6", "payload_len", "ipv6.plen"),
    ("tcp", "src_port", "tcp.srcport"),
    ("tcp", "dst_port", "tcp.dstport"),
    ("tcp", "seq", "tcp.seq_raw"),
    ("tcp", "ack", "tcp.ack_raw"),
    ("tcp", "window", "tcp.window_size_value"),
    ("tcp", "checksum", "tcp.checksum"),
    ("udp", "src_port", "udp.srcport"),
    ("udp", "dst_port", "udp.dstport"),
    ("udp", "length", "udp.length"),
    ("icmp", "type", "icmp.type"),
    ("icmp", "code", "icmp.code"),
    ("icmpv6", "type", "icmpv6.type"),
    ("icmpv6", "code", "icmpv6.code"),
    ("vxlan", "vni", "vxlan.vni"),
    ("gre", "proto", "gre.proto"),
    ("gre", "key", "gre.key"),
    ("erspan", "session_id", "erspan.spanid"),
    ("erspan", "vlan", "erspan.vlan"),
    ("geneve", "vni", "geneve.vni"),
    ("geneve", "proto", "geneve.proto_type"),
    ("sctp", "srcport", "sctp.srcport"),
    ("sctp", "dstport", "sctp.dstport"),
    ("sctp", "verification_tag", "sctp.verification_tag"),
    ("dccp", "srcport", "dccp.srcport"),
    ("dccp", "dstport", "dccp.dstport"),
    ("dccp", "type", "dccp.type"),
    ("mpls", "label", "mpls.label"),
    ("mpls", "ttl", "mpls.ttl"),
    ("mpls", "tc", "mpls.exp"),
    ("nflog", "family", "nflog.family"),
    ("nflog", "group", "nflog.res_id"),
    ("nflog", "prefix", "nflog.prefix"),
];

/// Numbers compare as numbers (`0x0800` = `2048`), the rest as lower-case text.
fn norm(v: &str) -> String {
    let v = v.trim();
    let n = match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse::<u64>().ok(),
    };
    n.map_or_else(|| v.to_lowercase(), |n| n.to_string())
}

#[test]
fn field_values_equal_tsharks() {
    if !have("tshark") {
        return;
    }
    let mut names: Vec<&str> = TCPDUMP_CAPTURES.iter().map(|c| c.0).collect();
    // tcpdump refuses this one (libpcap wants one link type per file); tshark reads it.
    names.push("multi.pcapng");
    let mut compared = 0;
    for name in names {
        let mut args = vec![
            "-r".to_string(),
            path(name).display().to_string(),
            "-T".into(),
            "fields".into(),
        ];
        for (_, _, f) in FIELDS {
            args.extend(["-e".to_string(), (*f).to_string()]);
        }
        // We show each packet as captured: no reassembly on tshark's side either.
        args.extend(
            [
                "-o",
                "ip.defragment:FALSE",
                "-o",
                "ipv6.defragment:FALSE",
                "-o",
                "tcp.desegment_tcp_streams:FALSE",
            ]
            .map(String::from),
        );
        args.extend(
            [
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=|",
                "-E",
                "separator=\t",
            ]
            .map(String::from),
        );
        let out = Command::new("tshark")
            .args(&args)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tshark on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let rows: Vec<&str> = text.lines().collect();
        let bytes = std::fs::read(path(name)).unwrap();
        let ours: Vec<_> = CaptureReader::new(&bytes)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(ours.len(), rows.len(), "{name}: packet count");
        for (p, row) in ours.iter().zip(rows) {
            let cols: Vec<&str> = row.split('\t').collect();
            let d = dissect(p.data, p.link);
            let mut mine: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for layer in &d.layers {
                for f in &layer.fields {
                    if let Some((_, _, t)) = FIELDS
                        .iter()
                        .find(|(l, k, _)| *l == layer.protocol && *k == f.key)
                    {
                        mine.entry(t).or_default().push(norm(&f.value));
                    }
                }
            }
            let column = |field: &str| -> Vec<String> {
                FIELDS
                    .iter()
                    .position(|x| x.2 == field)
                    .and_then(|i| cols.get(i))
                    .filter(|c| !c.is_empty())
                    .map(|c| c.split('|').map(norm).collect())
                    .unwrap_or_default()
            };
            for (_, _, t) in FIELDS {
                let mut theirs = column(t);
                if let Some(rest) = t.strip_prefix("vlan.") {
                    let mut outer = column(&format!("ieee8021ad.{rest}"));
                    outer.append(&mut theirs);
                    theirs = outer;
                }
                let ours = mine.remove(t).unwrap_or_default();
                // Compare what we show: tshark may go deeper (quoted headers it reads and we do not).
                for (k, v) in ours.iter().enumerate() {
                    assert_eq!(
                        Some(v),
                        theirs.get(k),
                        "{name} #{} {t} occurrence {k}: ours {ours:?}, tshark {theirs:?}",
                        p.number
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 500, "only {compared} values compared");
}
