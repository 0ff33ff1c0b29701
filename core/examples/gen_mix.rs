//! Writes a realistic mixed capture for benchmarks, streamed to disk (any
//! size in constant memory):
//! `cargo run --release -p layerlab-core --example gen_mix -- OUT.pcap [PACKETS]`.
//!
//! The mix, per round of 40 packets: an HTTP/1.1 exchange with real TCP
//! options (MSS, SACK, timestamps, window scale) and a response split over
//! full-size and partial segments; a TLS 1.3 connection to 443 (ClientHello,
//! ServerHello + application data, MTU-size records); DNS A and AAAA queries
//! with answers and an NXDOMAIN; ICMP echo; ARP; pod-to-pod TCP inside VXLAN;
//! IPv6 TCP and ICMPv6 neighbour discovery; a QUIC-like UDP 443 burst.
//! 2,000 client address/port pairs cycle (each reused for a new
//! connection later, as ephemeral ports are), so the set of conversations
//! in flight is bounded whatever the packet count, as on a real node.

use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, Icmpv6Type, PacketBuilder,
    PacketBuilderStep, TcpHeader, TcpOptionElement,
};
use std::io::{BufWriter, Write};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_mix OUT.pcap [PACKETS]");
    let total: u64 = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("PACKETS is a number"));
    let file = std::fs::File::create(&out).expect("create output");
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        written: 0,
        total,
        ts: 1_764_000_000_000_000,
        bytes: 24,
    };
    // pcap header: microseconds, snaplen 262144, Ethernet.
    let mut h = Vec::new();
    h.extend(0xa1b2_c3d4u32.to_le_bytes());
    h.extend(2u16.to_le_bytes());
    h.extend(4u16.to_le_bytes());
    h.extend([0; 8]);
    h.extend(262_144u32.to_le_bytes());
    h.extend(1u32.to_le_bytes());
    w.out.write_all(&h).expect("write");
    let mut n: u32 = 0;
    while w.written < total {
        n = n.wrapping_add(1);
        round(&mut w, n);
    }
    w.out.flush().expect("flush");
    eprintln!("wrote {} packets, {} bytes, to {out}", w.written, w.bytes);
}

struct Writer {
    out: BufWriter<std::fs::File>,
    written: u64,
    total: u64,
    ts: u64,
    bytes: u64,
}

impl Writer {
    fn frame(&mut self, data: &[u8]) {
        if self.written >= self.total {
            return;
        }
        // Gaps of 3..40 µs, like a busy node.
        self.ts += 3 + (self.written * 7919) % 37;
        let rec = [
            (self.ts / 1_000_000) as u32,
            (self.ts % 1_000_000) as u32,
            data.len() as u32,
            data.len() as u32,
        ];
        for v in rec {
            self.out.write_all(&v.to_le_bytes()).expect("write");
        }
        self.out.write_all(data).expect("write");
        self.written += 1;
        self.bytes += 16 + data.len() as u64;
    }

    fn build(&mut self, b: PacketBuilderStep<TcpHeader>, payload: &[u8]) {
        let mut v = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut v, payload).expect("frame");
        self.frame(&v);
    }
}

fn mac(n: u32) -> [u8; 6] {
    [0x02, 0x42, (n >> 16) as u8, (n >> 8) as u8, n as u8, 1]
}

fn ip(n: u32) -> [u8; 4] {
    [10, 244, (n >> 8) as u8, n as u8]
}

fn ip6(n: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0xfd, 0x00, 0x10, 0x24]);
    a[12..].copy_from_slice(&n.to_be_bytes());
    a
}

fn round(w: &mut Writer, n: u32) {
    let c = n % 2_000;
    let s = 20_000 + n % 64;
    let port = 32_768 + (n % 2_000) as u16;
    let ts_val = n.wrapping_mul(3);
    let syn_opts = [
        TcpOptionElement::MaximumSegmentSize(1460),
        TcpOptionElement::SelectiveAcknowledgementPermitted,
        TcpOptionElement::Timestamp(ts_val, 0),
        TcpOptionElement::Noop,
        TcpOptionElement::WindowScale(7),
    ];
    let ts_opts = [
        TcpOptionElement::Noop,
        TcpOptionElement::Noop,
        TcpOptionElement::Timestamp(ts_val, ts_val.wrapping_sub(1)),
    ];
    let tcp = |from_client: bool, dport: u16, seq: u32| {
        let (sm, dm, si, di, sp, dp) = if from_client {
            (mac(c), mac(s), ip(c), ip(s), port, dport)
        } else {
            (mac(s), mac(c), ip(s), ip(c), dport, port)
        };
        PacketBuilder::ethernet2(sm, dm)
            .ipv4(si, di, if from_client { 64 } else { 63 })
            .tcp(sp, dp, seq, 502)
    };
    // HTTP/1.1: handshake, request, 3-segment response, teardown (11 packets).
    let req = b"GET /api/v1/items?page=2 HTTP/1.1\r\nHost: web.default.svc.cluster.local\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
    let body_len = 1448 * 2 + 300 + (n % 700) as usize;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body_len
    );
    let mut resp = head.into_bytes();
    resp.resize(resp.len() + body_len, b'{');
    let (cs, ss) = (1_000 + n, 90_000 + n);
    w.build(tcp(true, 80, cs).syn().options(&syn_opts).unwrap(), &[]);
    w.build(
        tcp(false, 80, ss)
            .syn()
            .ack(cs + 1)
            .options(&syn_opts)
            .unwrap(),
        &[],
    );
    w.build(
        tcp(true, 80, cs + 1).ack(ss + 1).options(&ts_opts).unwrap(),
        &[],
    );
    w.build(
        tcp(true, 80, cs + 1)
            .ack(ss + 1)
            .psh()
            .options(&ts_opts)
            .unwrap(),
        req,
    );
    let cdata = cs + 1 + req.len() as u32;
    let mut off = 0;
    while off < resp.len() {
        let seg = (resp.len() - off).min(1448);
        let b = tcp(false, 80, ss + 1 + off as u32).ack(cdata);
        let b = if off + seg == resp.len() { b.psh() } else { b };
        w.build(b.options(&ts_opts).unwrap(), &resp[off..off + seg]);
        off += seg;
    }
    let sdata = ss + 1 + resp.len() as u32;
    w.build(
        tcp(true, 80, cdata).ack(sdata).options(&ts_opts).unwrap(),
        &[],
    );
    w.build(
        tcp(true, 80, cdata)
            .ack(sdata)
            .fin()
            .options(&ts_opts)
            .unwrap(),
        &[],
    );
    w.build(
        tcp(false, 80, sdata)
            .ack(cdata + 1)
            .fin()
            .options(&ts_opts)
            .unwrap(),
        &[],
    );
    w.build(
        tcp(true, 80, cdata + 1)
            .ack(sdata + 1)
            .options(&ts_opts)
            .unwrap(),
        &[],
    );
    // TLS 1.3 to 443: ClientHello, ServerHello+…, app data both ways (9 packets).
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03,
    ];
    hello.resize(261, 0x2a);
    let mut server = vec![0x16, 0x03, 0x03, 0x00, 0x7a, 0x02];
    server.resize(1448, 0x17);
    let mut app = vec![0x17, 0x03, 0x03, 0x05, 0x9b];
    app.resize(1448, 0x99);
    let small = [0x17, 0x03, 0x03, 0x00, 0x35].repeat(12);
    let (cs, ss) = (5_000 + n, 70_000 + n);
    w.build(tcp(true, 443, cs).syn().options(&syn_opts).unwrap(), &[]);
    w.build(
        tcp(false, 443, ss)
            .syn()
            .ack(cs + 1)
            .options(&syn_opts)
            .unwrap(),
        &[],
    );
    w.build(
        tcp(true, 443, cs + 1)
            .ack(ss + 1)
            .options(&ts_opts)
            .unwrap(),
        &[],
    );
    w.build(
        tcp(true, 443, cs + 1)
            .ack(ss + 1)
            .psh()
            .options(&ts_opts)
            .unwrap(),
        &hello,
    );
    w.build(
        tcp(false, 443, ss + 1)
            .ack(cs + 262)
            .options(&ts_opts)
            .unwrap(),
        &server,
    );
    w.build(
        tcp(true, 443, cs + 262)
            .ack(ss + 1449)
            .psh()
            .options(&ts_opts)
            .unwrap(),
        &small,
    );
    for k in 0..2u32 {
        w.build(
            tcp(false, 443, ss + 1449 + k * 1448)
                .ack(cs + 322)
                .options(&ts_opts)
                .unwrap(),
            &app,
        );
    }
    w.build(
        tcp(true, 443, cs + 322)
            .ack(ss + 1449 + 2 * 1448)
            .options(&ts_opts)
            .unwrap(),
        &[],
    );
    // DNS: A and AAAA with answers, one NXDOMAIN (6 packets).
    let dns_server = [10, 96, 0, 10];
    for (k, (name, qtype)) in [
        ("web.default.svc.cluster.local", 1u16),
        ("web.default.svc.cluster.local", 28),
        ("nope.default.svc.cluster.local", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let id = (n as u16).wrapping_add(k as u16);
        let q = dns_query(id, name, qtype);
        let a = dns_answer(&q, qtype, k == 2, n);
        let dport = port.wrapping_add(k as u16);
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(c), mac(1))
            .ipv4(ip(c), dns_server, 64)
            .udp(dport, 53)
            .write(&mut v, &q)
            .unwrap();
        w.frame(&v);
        v.clear();
        PacketBuilder::ethernet2(mac(1), mac(c))
            .ipv4(dns_server, ip(c), 64)
            .udp(53, dport)
            .write(&mut v, &a)
            .unwrap();
        w.frame(&v);
    }
    // ICMP echo (2), ARP (1).
    let mut v = Vec::new();
    PacketBuilder::ethernet2(mac(c), mac(s))
        .ipv4(ip(c), ip(s), 64)
        .icmpv4_echo_request(7, n as u16)
        .write(&mut v, &[0x55; 56])
        .unwrap();
    w.frame(&v);
    v.clear();
    PacketBuilder::ethernet2(mac(s), mac(c))
        .ipv4(ip(s), ip(c), 63)
        .icmpv4_echo_reply(7, n as u16)
        .write(&mut v, &[0x55; 56])
        .unwrap();
    w.frame(&v);
    v.clear();
    let arp = ArpPacket::new(
        ArpHardwareId::ETHERNET,
        EtherType::IPV4,
        ArpOperation::REQUEST,
        &mac(c),
        &ip(c),
        &[0; 6],
        &ip(s),
    )
    .unwrap();
    PacketBuilder::ethernet2(mac(c), [0xff; 6])
        .arp(arp)
        .write(&mut v)
        .unwrap();
    w.frame(&v);
    // Pod-to-pod TCP inside VXLAN (4): request, segments, ack.
    for (k, payload) in [&req[..], &resp[..1448], &resp[1448..1600], &[][..]]
        .into_iter()
        .enumerate()
    {
        let mut inner = Vec::new();
        let to_server = k % 3 == 0;
        let (a, b) = if to_server { (c, s) } else { (s, c) };
        PacketBuilder::ethernet2(mac(a), mac(b))
            .ipv4(ip(a), ip(b), 63)
            .tcp(
                if to_server { port } else { 8080 },
                if to_server { 8080 } else { port },
                7 + k as u32,
                502,
            )
            .ack(9)
            .options(&ts_opts)
            .unwrap()
            .write(&mut inner, payload)
            .unwrap();
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        vx.extend_from_slice(&inner);
        v.clear();
        PacketBuilder::ethernet2(mac(100), mac(101))
            .ipv4([172, 18, 0, 2], [172, 18, 0, 3], 64)
            .udp(40_000 + (n % 1000) as u16, 4789)
            .write(&mut v, &vx)
            .unwrap();
        w.frame(&v);
    }
    // IPv6: TCP handshake + data (4) and neighbour solicitation/advertisement (2).
    let tcp6 = |from_client: bool, seq: u32| {
        let (si, di, sp, dp) = if from_client {
            (ip6(c), ip6(s), port, 8443)
        } else {
            (ip6(s), ip6(c), 8443, port)
        };
        PacketBuilder::ethernet2(mac(c), mac(s))
            .ipv6(si, di, 64)
            .tcp(sp, dp, seq, 502)
    };
    w.build(tcp6(true, 1).syn().options(&syn_opts).unwrap(), &[]);
    w.build(tcp6(false, 1).syn().ack(2).options(&syn_opts).unwrap(), &[]);
    w.build(
        tcp6(true, 2).ack(2).psh().options(&ts_opts).unwrap(),
        &app[..(n % 1200) as usize + 20],
    );
    w.build(tcp6(false, 2).ack(1222).options(&ts_opts).unwrap(), &[]);
    let mut ns = vec![0u8; 4];
    ns.extend_from_slice(&ip6(s));
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&mac(c));
    v.clear();
    PacketBuilder::ethernet2(mac(c), [0x33, 0x33, 0xff, 0, 0, 1])
        .ipv6(
            ip6(c),
            [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1],
            255,
        )
        .icmpv6(Icmpv6Type::Unknown {
            type_u8: 135,
            code_u8: 0,
            bytes5to8: [0; 4],
        })
        .write(&mut v, &ns[4..])
        .unwrap();
    w.frame(&v);
    v.clear();
    PacketBuilder::ethernet2(mac(s), mac(c))
        .ipv6(ip6(s), ip6(c), 255)
        .icmpv6(Icmpv6Type::Unknown {
            type_u8: 136,
            code_u8: 0,
            bytes5to8: [0x60, 0, 0, 0],
        })
        .write(&mut v, &ns[4..20])
        .unwrap();
    w.frame(&v);
    // QUIC-like UDP 443 burst of varied sizes (3).
    for size in [1252usize, 60 + (n % 900) as usize, 33] {
        v.clear();
        PacketBuilder::ethernet2(mac(c), mac(s))
            .ipv4(ip(c), ip(s), 64)
            .udp(port, 443)
            .write(&mut v, &app[..size.min(app.len())])
            .unwrap();
        w.frame(&v);
    }
}

fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m
}

fn dns_answer(query: &[u8], qtype: u16, nxdomain: bool, n: u32) -> Vec<u8> {
    let mut m = query.to_vec();
    m[2] = 0x81;
    m[3] = if nxdomain { 0x83 } else { 0x80 };
    if nxdomain {
        return m;
    }
    m[7] = 1;
    m.extend_from_slice(&[0xc0, 12]);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 0, 0, 30]);
    if qtype == 28 {
        m.extend_from_slice(&[0, 16]);
        m.extend_from_slice(&ip6(n % 2_000));
    } else {
        m.extend_from_slice(&[0, 4, 10, 96, (n >> 8) as u8, n as u8]);
    }
    m
}
