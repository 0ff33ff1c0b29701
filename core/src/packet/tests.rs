//! Packet engine tests: frames built with etherparse, and real captures
//! recorded in network namespaces by `core/tests/captures/record.sh`.

use super::*;
use etherparse::{PacketBuilder, TcpOptionElement};

const HTTP: &[u8] = include_bytes!("../../tests/captures/http.pcap");
const HTTP_ANY: &[u8] = include_bytes!("../../tests/captures/http-any.pcap");
const DNS: &[u8] = include_bytes!("../../tests/captures/dns.pcap");
const VXLAN: &[u8] = include_bytes!("../../tests/captures/vxlan.pcap");

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

fn syn() -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(43210, 80, 1000, 64240)
        .syn()
        .options(&[
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(7, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ])
        .unwrap();
    let mut out = Vec::new();
    b.write(&mut out, &[]).unwrap();
    out
}

fn field<'a>(d: &'a Dissection, path: &str) -> &'a Field {
    let paths = d.field_paths();
    let found = paths.iter().find(|(p, _)| p == path).map(|(_, f)| *f);
    found.unwrap_or_else(|| {
        panic!(
            "no field {path} in {:?}",
            paths.iter().map(|(p, _)| p).collect::<Vec<_>>()
        )
    })
}

fn protocols(d: &Dissection) -> Vec<&str> {
    d.layers.iter().map(|l| l.protocol.as_str()).collect()
}

fn packets(bytes: &[u8]) -> Vec<CapturedPacket<'_>> {
    CaptureReader::new(bytes)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn tcp_syn_fields_meanings_and_byte_ranges() {
    let frame = syn();
    let d = dissect(&frame, LinkType::Ethernet);
    assert_eq!(d.stopped, None);
    assert_eq!(protocols(&d), ["eth", "ipv4", "tcp"]);
    assert_eq!(field(&d, "eth.type").meaning.as_deref(), Some("IPv4"));
    let ttl = field(&d, "ipv4.ttl");
    assert_eq!(
        (ttl.value.as_str(), ttl.range),
        ("64", ByteRange { start: 22, end: 23 })
    );
    assert_eq!(frame[22], 64);
    assert_eq!(
        field(&d, "ipv4.checksum").meaning.as_deref(),
        Some("correct")
    );
    assert_eq!(
        field(&d, "tcp.checksum").meaning.as_deref(),
        Some("correct")
    );
    let flags = field(&d, "tcp.flags");
    assert_eq!(flags.value, "SYN");
    assert_eq!(flags.range, ByteRange { start: 47, end: 48 });
    assert_eq!(field(&d, "tcp.opt_mss").value, "1460");
    assert_eq!(
        field(&d, "tcp.opt_wscale").meaning.as_deref(),
        Some("multiply windows by 2^7 = 128")
    );
    assert_eq!(field(&d, "tcp.opt_ts").value, "val 7 ecr 0");
    assert!(field(&d, "tcp.opt_sack_ok").range.start >= 54);
    assert!(
        d.layer("tcp")
            .unwrap()
            .summary
            .starts_with("43210 → 80 [S] seq 1000 win 64240")
    );
}

#[test]
fn ttl_meaning_counts_router_hops() {
    let mut frame = syn();
    frame[22] = 63;
    let d = dissect(&frame, LinkType::Ethernet);
    assert_eq!(
        field(&d, "ipv4.ttl").meaning.as_deref(),
        Some("one router hop from 64")
    );
    assert!(
        field(&d, "ipv4.checksum")
            .meaning
            .as_deref()
            .unwrap()
            .starts_with("wrong: should be 0x")
    );
}

#[test]
fn bad_tcp_checksum_is_reported_with_the_right_value() {
    let mut frame = syn();
    let good = u16::from_be_bytes([frame[50], frame[51]]);
    frame[50] ^= 0xff;
    let d = dissect(&frame, LinkType::Ethernet);
    let verdict = field(&d, "tcp.checksum").meaning.clone().unwrap();
    assert_eq!(
        verdict,
        format!(
            "wrong: should be 0x{good:04x} (corrupted, or left for the NIC by checksum offload)"
        )
    );
}

#[test]
fn every_truncation_stops_cleanly_and_says_where() {
    let frame = syn();
    for cut in 0..frame.len() {
        let d = dissect(&frame[..cut], LinkType::Ethernet);
        let stopped = d
            .stopped
            .as_ref()
            .unwrap_or_else(|| panic!("cut at {cut}: no stop reported"));
        assert!(
            stopped.offset <= cut,
            "cut at {cut}: stop offset {} beyond data",
            stopped.offset
        );
        let expected_layer = match cut {
            0..14 => "Ethernet II",
            14..34 => "IPv4",
            _ => "IPv4", // IP total length says more bytes were sent than captured
        };
        assert_eq!(stopped.layer, expected_layer, "cut at {cut}: {stopped:?}");
    }
    // A cut inside the TCP header with a consistent IP length is a TCP stop.
    let mut short = frame.clone();
    short.truncate(14 + 20 + 10);
    short[16..18].copy_from_slice(&30u16.to_be_bytes());
    let d = dissect(&short, LinkType::Ethernet);
    assert_eq!(d.stopped.as_ref().unwrap().layer, "TCP");
    assert_eq!(d.stopped.as_ref().unwrap().offset, 34);
}

#[test]
fn vlan_arp_and_icmp_echo() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .single_vlan(etherparse::VlanId::try_new(100).unwrap())
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .icmpv4_echo_request(7, 3)
        .write(&mut out, b"ping")
        .unwrap();
    let d = dissect(&out, LinkType::Ethernet);
    assert_eq!(protocols(&d), ["eth", "vlan", "ipv4", "icmp", "payload"]);
    assert_eq!(field(&d, "vlan.vid").value, "100");
    assert_eq!(
        field(&d, "icmp.type").meaning.as_deref(),
        Some("echo request")
    );
    assert_eq!(
        field(&d, "icmp.checksum").meaning.as_deref(),
        Some("correct")
    );
    assert_eq!(
        summarize(&out, LinkType::Ethernet).to_string(),
        "vlan 100, IP 10.0.0.1 > 10.0.0.2: ICMP echo request, ttl 64"
    );

    let packets = packets(HTTP);
    let arp = packets
        .iter()
        .find(|p| dissect(p.data, p.link).layer("arp").is_some())
        .unwrap();
    let d = dissect(arp.data, arp.link);
    assert_eq!(
        d.layer("arp").unwrap().summary,
        "who has 10.0.0.2? tell 10.0.0.1"
    );
    assert_eq!(
        field(&d, "eth.dst").meaning.as_deref(),
        Some("broadcast: every host on the segment")
    );
    assert_eq!(
        summarize(arp.data, arp.link).to_string(),
        "ARP, Request who-has 10.0.0.2 tell 10.0.0.1"
    );
}

#[test]
fn icmp_time_exceeded_quotes_the_original_packet() {
    let original = syn();
    let quoted = &original[14..14 + 28];
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_B, MAC_A)
        .ipv4([10, 0, 1, 254], [10, 0, 0, 1], 64)
        .icmpv4(etherparse::Icmpv4Type::TimeExceeded(
            etherparse::icmpv4::TimeExceededCode::TtlExceededInTransit,
        ))
        .write(&mut out, quoted)
        .unwrap();
    let d = dissect(&out, LinkType::Ethernet);
    assert_eq!(protocols(&d)[..4], ["eth", "ipv4", "icmp", "ipv4"]);
    assert_eq!(
        field(&d, "icmp.type").meaning.as_deref(),
        Some("time exceeded: TTL reached 0 in transit")
    );
    assert_eq!(field(&d, "ipv4#2.dst").value, "10.0.0.2");
}

#[test]
fn real_http_capture_dissects_every_packet_and_finds_the_request() {
    let packets = packets(HTTP);
    assert_eq!(packets.len(), 17);
    let mut saw_get = false;
    let mut saw_200 = false;
    for p in &packets {
        let d = dissect(p.data, p.link);
        assert_eq!(d.stopped, None, "packet {}: {:?}", p.number, d.stopped);
        for (path, f) in d.field_paths() {
            assert!(
                f.range.end <= p.data.len(),
                "packet {} field {path} beyond the frame",
                p.number
            );
            if path == "ipv4.checksum" {
                assert_eq!(
                    f.meaning.as_deref(),
                    Some("correct"),
                    "packet {} {path}",
                    p.number
                );
            }
            // veth leaves TCP checksums to "hardware" (CHECKSUM_PARTIAL), so
            // a capture taken on it shows them unfinished; we must say so.
            if path == "tcp.checksum" {
                let verdict = f.meaning.as_deref().unwrap();
                assert!(
                    verdict == "correct" || verdict.contains("checksum offload"),
                    "packet {}: {verdict}",
                    p.number
                );
            }
        }
        if let Some(h) = d.layer("http") {
            saw_get |= h.summary == "GET / HTTP/1.1";
            saw_200 |= h.summary == "HTTP/1.0 200 OK";
        }
    }
    assert!(saw_get && saw_200);
    // IPv6 multicast listener report with a hop-by-hop options header.
    let d = dissect(packets[0].data, packets[0].link);
    assert_eq!(protocols(&d), ["eth", "ipv6", "ipv6_ext", "icmpv6"]);
}

#[test]
fn summaries_match_tcpdump_for_the_handshake() {
    // tcpdump -nn -r http.pcap, lines 5-7, without the options list.
    let packets = packets(HTTP);
    let lines: Vec<String> = packets
        .iter()
        .map(|p| summarize(p.data, p.link).to_string())
        .collect();
    assert!(
        lines[4].starts_with(
            "IP 10.0.0.1.47622 > 10.0.0.2.80: Flags [S], seq 4163709731, win 64240, length 0"
        ),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with(
            "IP 10.0.0.2.80 > 10.0.0.1.47622: Flags [S.], seq 4224816015, ack 4163709732, win 65160"
        ),
        "{}",
        lines[5]
    );
    assert!(
        lines[7].contains("length 72: HTTP: GET / HTTP/1.1"),
        "{}",
        lines[7]
    );
}

#[test]
fn linux_cooked_capture_from_any_interface() {
    let packets = packets(HTTP_ANY);
    assert!(
        packets.iter().all(|p| p.link == LinkType::LinuxSll2),
        "tcpdump -i any writes SLL2"
    );
    let d = dissect(packets[0].data, packets[0].link);
    assert_eq!(d.stopped, None);
    assert_eq!(protocols(&d), ["sll", "ipv4", "tcp"]);
    assert_eq!(
        field(&d, "sll.packet_type").meaning.as_deref(),
        Some("sent by us")
    );
    // The same frame as SLL v1 (etherparse's reader): 16-byte header, protocol last.
    let v2 = packets[0].data;
    let mut v1 = vec![0, 4, 0, 1, 0, 6];
    v1.extend_from_slice(&v2[12..20]);
    v1.extend_from_slice(&v2[0..2]);
    v1.extend_from_slice(&v2[20..]);
    let d1 = dissect(&v1, LinkType::LinuxSll);
    assert_eq!(protocols(&d1), ["sll", "ipv4", "tcp"]);
    assert_eq!(
        summarize(&v1, LinkType::LinuxSll).to_string(),
        summarize(v2, LinkType::LinuxSll2).to_string()
    );
    assert!(
        summarize(packets[0].data, packets[0].link)
            .to_string()
            .contains("Flags [S]")
    );
}

#[test]
fn dns_query_answer_and_nxdomain() {
    let packets = packets(DNS);
    let summaries: Vec<String> = packets
        .iter()
        .map(|p| summarize(p.data, p.link).to_string())
        .collect();
    assert!(
        summaries[0].contains("DNS query 0x")
            && summaries[0].contains("A web.default.svc.cluster.local"),
        "{}",
        summaries[0]
    );
    assert!(
        summaries[1].ends_with("A web.default.svc.cluster.local: A 10.96.0.42, ttl 64"),
        "{}",
        summaries[1]
    );
    assert!(summaries[3].contains("NXDOMAIN"), "{}", summaries[3]);
    let d = dissect(packets[1].data, packets[1].link);
    let answer = d.layer("dns").unwrap().field("answer").unwrap();
    assert_eq!(answer.value, "web.default.svc.cluster.local A 10.96.0.42");
}

#[test]
fn vxlan_capture_shows_outer_and_inner_headers() {
    let packets = packets(VXLAN);
    let icmp = packets
        .iter()
        .find(|p| dissect(p.data, p.link).nth("icmp", 0).is_some())
        .unwrap();
    let d = dissect(icmp.data, icmp.link);
    assert_eq!(
        protocols(&d),
        [
            "eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "icmp", "payload"
        ]
    );
    assert_eq!(field(&d, "vxlan.vni").value, "42");
    assert_eq!(field(&d, "ipv4.dst").value, "10.0.0.2");
    assert_eq!(field(&d, "ipv4#2.dst").value, "192.168.42.2");
    let line = summarize(icmp.data, icmp.link).to_string();
    assert!(line.starts_with("IP 10.0.0.1."), "{line}");
    assert!(
        line.contains(
            " > 10.0.0.2.4789: VXLAN, vni 42: IP 192.168.42.1 > 192.168.42.2: ICMP echo request"
        ),
        "{line}"
    );
}

#[test]
fn vxlan_in_vxlan_is_followed_recursively() {
    let inner = {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
            .udp(5000, 6000)
            .write(&mut v, b"hi")
            .unwrap();
        v
    };
    let wrap = |frame: &[u8], vni: u8, net: u8| {
        let mut payload = vec![0x08, 0, 0, 0, 0, 0, vni, 0];
        payload.extend_from_slice(frame);
        let mut v = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4([10, net, 0, 1], [10, net, 0, 2], 64)
            .udp(40000, 4789)
            .write(&mut v, &payload)
            .unwrap();
        v
    };
    let twice = wrap(&wrap(&inner, 7, 1), 9, 2);
    let d = dissect(&twice, LinkType::Ethernet);
    assert_eq!(d.stopped, None);
    assert_eq!(d.layers.iter().filter(|l| l.protocol == "vxlan").count(), 2);
    assert_eq!(field(&d, "vxlan.vni").value, "9");
    assert_eq!(field(&d, "vxlan#2.vni").value, "7");
    assert_eq!(field(&d, "ipv4#3.src").value, "192.168.0.1");
    let line = summarize(&twice, LinkType::Ethernet).to_string();
    assert!(line.contains("vni 9: IP 10.1.0.1.40000 > 10.1.0.2.4789: VXLAN, vni 7: IP 192.168.0.1.5000 > 192.168.0.2.6000: UDP, length 2"), "{line}");
}

#[test]
fn flows_follow_the_http_connection() {
    let mut table = FlowTable::new();
    let packets = packets(HTTP);
    let streams: Vec<Option<usize>> = packets
        .iter()
        .map(|p| table.observe(&summarize(p.data, p.link), p.ts_nanos))
        .collect();
    assert_eq!(streams[4], Some(0));
    let tcp: Vec<&Flow> = table
        .flows()
        .iter()
        .filter(|f| f.protocol == "tcp")
        .collect();
    assert_eq!(tcp.len(), 1);
    let f = tcp[0];
    assert_eq!(f.client.1, 47622);
    assert_eq!(f.server.1, 80);
    assert_eq!(f.state, FlowState::Closed);
    assert_eq!(f.bytes_to_server, 72);
    assert_eq!(f.bytes_to_client, 185 + 20);
    let rtt = f.handshake_rtt_ns.unwrap();
    assert!(rtt > 0 && rtt < 1_000_000, "handshake rtt {rtt} ns");
}

#[test]
fn pcap_and_pcapng_round_trip_with_timestamps() {
    let original = packets(HTTP);
    let frames: Vec<FrameToWrite<'_>> = original
        .iter()
        .map(|p| FrameToWrite {
            ts_nanos: p.ts_nanos,
            data: p.data,
        })
        .collect();
    for (bytes, format) in [
        (write_pcap(LinkType::Ethernet, &frames), CaptureFormat::Pcap),
        (
            write_pcapng(LinkType::Ethernet, &frames),
            CaptureFormat::PcapNg,
        ),
    ] {
        let reader = CaptureReader::new(&bytes).unwrap();
        assert_eq!(reader.format, format);
        let back: Vec<CapturedPacket<'_>> = reader.map(Result::unwrap).collect();
        assert_eq!(back.len(), original.len());
        for (a, b) in original.iter().zip(&back) {
            assert_eq!(a.data, b.data);
            assert_eq!(a.ts_nanos / 1000, b.ts_nanos / 1000, "{format:?}");
        }
    }
}

#[test]
fn damaged_captures_are_errors_not_panics() {
    assert!(matches!(
        CaptureReader::new(b"hello world"),
        Err(CaptureError::NotACapture(_))
    ));
    assert!(matches!(
        CaptureReader::new(b""),
        Err(CaptureError::NotACapture(_))
    ));
    // Cut in the middle of the 3rd packet: two packets, then an error naming packet 3.
    let cut = 24
        + 2 * 16
        + packets(HTTP)[..2]
            .iter()
            .map(|p| p.data.len())
            .sum::<usize>()
        + 10;
    let results: Vec<_> = CaptureReader::new(&HTTP[..cut]).unwrap().collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    let Err(CaptureError::Damaged { packet, offset, .. }) = &results[2] else {
        panic!("{:?}", results[2])
    };
    assert_eq!((*packet, *offset), (3, (cut - 10) as u64));
}

#[test]
fn random_bytes_never_panic() {
    // A deterministic xorshift stream: cheap coverage here, cargo fuzz goes further.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let base = syn();
    for i in 0..20_000 {
        let mut frame = base.clone();
        for _ in 0..(1 + i % 6) {
            let pos = (next() as usize) % frame.len();
            frame[pos] = next() as u8;
        }
        frame.truncate((next() as usize) % (frame.len() + 1));
        for link in [
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::RawIp,
        ] {
            let d = dissect(&frame, link);
            for l in &d.layers {
                assert!(l.range.start <= l.range.end.max(l.range.start));
            }
            let _ = summarize(&frame, link).to_string();
        }
        let _ = CaptureReader::new(&frame).map(|r| r.count());
    }
}

#[test]
fn http_header_with_invalid_utf8_keeps_its_byte_range_inside_the_frame() {
    // Found by cargo fuzz: the range was measured on the lossily decoded text.
    let payload = b"GET / HTTP/1.1\r\nX-Bad: \xff\xfe\xfd\r\n\r\n";
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1, 80, 1, 100)
        .write(&mut frame, payload)
        .unwrap();
    let d = dissect(&frame, LinkType::Ethernet);
    let h = d.layer("http").unwrap().field("header").unwrap();
    assert_eq!(
        h.range.end - h.range.start,
        10,
        "\"X-Bad: \" plus three bytes"
    );
    assert!(h.range.end <= frame.len());
}
