//! The capture reader on legal captures that strict readers refuse, on
//! damage (reported, then read past), and streamed a byte at a time.

use super::*;

const HTTP: &[u8] = include_bytes!("../../tests/captures/http.pcap");
const SNAP96: &[u8] = include_bytes!("../../tests/captures/snap96.pcap");
const MULTI: &[u8] = include_bytes!("../../tests/captures/multi.pcapng");
const NFLOG: &[u8] = include_bytes!("../../tests/captures/nflog.pcap");

fn pcap_header(magic: u32, snaplen: u32, link: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend(magic.to_le_bytes());
    h.extend(2u16.to_le_bytes());
    h.extend(4u16.to_le_bytes());
    h.extend([0; 8]);
    h.extend(snaplen.to_le_bytes());
    h.extend(link.to_le_bytes());
    h
}

fn record(out: &mut Vec<u8>, sec: u32, frac: u32, data: &[u8], orig: u32) {
    for v in [sec, frac, data.len() as u32, orig] {
        out.extend(v.to_le_bytes());
    }
    out.extend(data);
}

fn all(bytes: &[u8]) -> Vec<Result<CapturedPacket<'_>, CaptureError>> {
    CaptureReader::new(bytes).unwrap().collect()
}

#[test]
fn records_longer_than_the_header_snaplen_and_odd_nanoseconds_are_read() {
    let frame = [0x45u8; 100];
    let mut f = pcap_header(0xa1b2_3c4d, 64, 101);
    record(&mut f, 10, 1_500_000_000, &frame, 100); // nanoseconds past one second
    record(&mut f, 11, 5, &frame[..60], 1500);
    let got = all(&f);
    assert_eq!(got.len(), 2);
    let p = got[0].as_ref().unwrap();
    assert_eq!((p.data.len(), p.ts_nanos), (100, 11_500_000_000));
    let q = got[1].as_ref().unwrap();
    assert!(q.is_cut() && q.orig_len == 1500 && q.link == LinkType::RawIp);
}

#[test]
fn short_snaplen_capture_is_clean_and_cut_packets_say_so() {
    let got = all(SNAP96);
    assert!(got.iter().all(Result::is_ok));
    let cut: Vec<_> = got
        .iter()
        .map(|p| p.as_ref().unwrap())
        .filter(|p| p.is_cut())
        .collect();
    assert!(!cut.is_empty());
    let s = summarize_packet(cut[0]).to_string();
    assert!(!s.contains("damaged") && !s.contains("truncated"), "{s}");
}

#[test]
fn pcapng_with_two_link_types_and_an_nflog_pcap_are_read() {
    let links: Vec<LinkType> = all(MULTI).into_iter().map(|p| p.unwrap().link).collect();
    assert!(
        links.contains(&LinkType::Ethernet) && links.contains(&LinkType::Nflog),
        "{links:?}"
    );
    for p in all(NFLOG) {
        let s = summarize_packet(&p.unwrap()).to_string();
        assert!(
            s.starts_with("IP 10.0.0.1") && s.contains(" > 10.0.0.2"),
            "{s}"
        );
    }
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len().div_ceil(4) * 4;
    let mut b = Vec::new();
    b.extend(kind.to_le_bytes());
    b.extend((len as u32).to_le_bytes());
    b.extend(body);
    b.resize(len - 4, 0);
    b.extend((len as u32).to_le_bytes());
    b
}

fn epb(iface: u32, ticks: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for v in [
        iface,
        (ticks >> 32) as u32,
        ticks as u32,
        data.len() as u32,
        data.len() as u32,
    ] {
        body.extend(v.to_le_bytes());
    }
    body.extend(data);
    block(6, &body)
}

#[test]
fn pcapng_unknown_blocks_are_skipped_and_each_interface_keeps_its_units() {
    let mut f = block(
        0x0a0d_0d0a,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    // Interface 0: Ethernet, microseconds (default). Interface 1: raw IP, nanoseconds.
    f.extend(block(1, &[1, 0, 0, 0, 0, 0, 4, 0]));
    f.extend(block(
        1,
        &[101, 0, 0, 0, 0, 0, 4, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
    ));
    f.extend(block(0x0bad_cafe, b"custom or future block"));
    f.extend(epb(1, 2_000_000_123, &[0x45; 20]));
    f.extend(block(5, &[0; 12])); // interface statistics
    f.extend(epb(0, 3_000_000, &[0; 60]));
    let got: Vec<_> = all(&f).into_iter().map(Result::unwrap).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].link, got[0].ts_nanos),
        (LinkType::RawIp, 2_000_000_123)
    );
    assert_eq!(
        (got[1].link, got[1].ts_nanos),
        (LinkType::Ethernet, 3_000_000_000)
    );
    assert_eq!(got[1].number, 2);
}

#[test]
fn damage_is_reported_once_with_its_offset_and_reading_goes_on() {
    // Packet 5's header claims 16 MiB: impossible, so damaged; the reader finds packet 6.
    let good: Vec<_> = all(HTTP).into_iter().map(Result::unwrap).collect();
    let mut off = 24;
    for p in &good[..4] {
        off += 16 + p.data.len();
    }
    let mut bad = HTTP.to_vec();
    bad[off + 8..off + 12].copy_from_slice(&(16u32 << 20).to_le_bytes());
    let got = all(&bad);
    let errs: Vec<_> = got.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let CaptureError::Damaged { packet, offset, .. } = errs[0] else {
        panic!()
    };
    assert_eq!((*packet, *offset), (5, off as u64));
    let ok: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), good.len() - 1);
    assert_eq!(ok.last().unwrap().data, good.last().unwrap().data);
    // pcapng: a block whose trailing length disagrees is skipped the same way.
    let mut f = block(
        0x0a0d_0d0a,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    f.extend(block(1, &[1, 0, 0, 0, 0, 0, 4, 0]));
    f.extend(epb(0, 1, &[1; 60]));
    let at = f.len();
    let mut broken = epb(0, 2, &[2; 60]);
    let n = broken.len();
    broken[n - 4] ^= 0x55;
    f.extend(broken);
    f.extend(epb(0, 3, &[3; 60]));
    let got = all(&f);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(matches!(got[1], Err(CaptureError::Damaged { offset, .. }) if offset == at as u64));
    assert_eq!(got[2].as_ref().unwrap().data, &[3; 60]);
}

/// A source that hands out one byte per read, like a slow pipe.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((&b, rest)) = self.0.split_first() else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        buf[0] = b;
        self.0 = rest;
        Ok(1)
    }
}

#[test]
fn streaming_a_byte_at_a_time_gives_the_same_packets() {
    for bytes in [HTTP, MULTI, SNAP96] {
        let want: Vec<_> = all(bytes)
            .into_iter()
            .map(|p| p.unwrap().data.to_vec())
            .collect();
        let mut s = CaptureStream::new(Trickle(bytes)).unwrap();
        let mut got = Vec::new();
        while let Some(p) = s.next_packet() {
            got.push(p.unwrap().data.to_vec());
        }
        assert_eq!(got, want);
    }
    // Cut mid-packet: the packets before, then the damage.
    let mut s = CaptureStream::new(Trickle(&HTTP[..HTTP.len() - 7])).unwrap();
    let mut last = None;
    while let Some(p) = s.next_packet() {
        last = Some(p.map(|p| p.number));
    }
    assert!(
        matches!(last, Some(Err(CaptureError::Damaged { .. }))),
        "{last:?}"
    );
}

#[test]
fn streamed_and_in_memory_readers_agree_on_damaged_files() {
    let good: Vec<_> = all(HTTP).into_iter().map(Result::unwrap).collect();
    let mut off = 24;
    for p in &good[..6] {
        off += 16 + p.data.len();
    }
    for (at, value) in [(off + 8, 0x00ff_ffffu32), (off, 0xffff_ffff), (off + 12, 3)] {
        let mut bad = HTTP.to_vec();
        bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let describe =
            |r: Result<CapturedPacket<'_>, CaptureError>| r.map(|p| (p.number, p.data.to_vec()));
        let want: Vec<_> = all(&bad).into_iter().map(describe).collect();
        let mut s = CaptureStream::new(Trickle(&bad)).unwrap();
        let mut got = Vec::new();
        while let Some(p) = s.next_packet() {
            got.push(describe(p));
        }
        assert_eq!(got, want, "damage at {at}");
    }
}

#[test]
fn a_packet_cut_inside_its_tcp_header_says_how_much_was_captured() {
    let whole: Vec<_> = all(HTTP).into_iter().map(Result::unwrap).collect();
    let syn = whole
        .iter()
        .find(|p| p.data.len() > 60 && p.data[47] == 0x02)
        .unwrap();
    let mut f = pcap_header(0xa1b2_c3d4, 40, 1);
    record(&mut f, 1, 0, &syn.data[..40], syn.data.len() as u32);
    let got = all(&f);
    let p = got[0].as_ref().unwrap();
    let line = summarize_packet(p).to_string();
    assert!(
        line.contains(&format!("[captured 40 of {} bytes]", syn.data.len()))
            && !line.contains("truncated"),
        "{line}"
    );
    // Without knowing the wire length, the same bytes are a truncated header.
    assert!(
        summarize(p.data, p.link)
            .to_string()
            .contains("truncated transport header")
    );
}

#[test]
fn fuzz_finds_stay_fixed() {
    // The streamed reader once gave up a resync that needed more bytes than
    // it had, and once accepted a record whose successor the file cut short.
    for input in [
        &include_bytes!("../../fuzz/corpus/stream/regress-resync-lookahead")[..],
        &include_bytes!("../../fuzz/corpus/stream/regress-resync-next-header")[..],
    ] {
        let data = &input[1..];
        let want: Vec<_> = all(data)
            .into_iter()
            .map(|r| r.map(|p| p.data.to_vec()))
            .collect();
        let mut s = CaptureStream::new(Trickle(data)).unwrap();
        let mut got = Vec::new();
        while let Some(p) = s.next_packet() {
            got.push(p.map(|p| p.data.to_vec()));
        }
        assert_eq!(got, want);
    }
    // IPv6 extension headers cut short: iterating etherparse's lax slice read out of bounds.
    let input = include_bytes!("../../fuzz/corpus/dissect/regress-ipv6-ext-iter");
    let (&selector, frame) = input.split_first().unwrap();
    let links = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Nflog,
        LinkType::Ppp,
        LinkType::CiscoHdlc,
    ];
    if let Some(&link) = links.get(usize::from(selector % 12)) {
        let _ = summarize(frame, link).to_string();
        let _ = dissect(frame, link);
    }
    for p in CaptureReader::new(include_bytes!(
        "../../fuzz/corpus/capture/regress-ipv6-ext-iter.pcap"
    ))
    .into_iter()
    .flatten()
    .flatten()
    {
        let _ = summarize_packet(&p).to_string();
    }
}
