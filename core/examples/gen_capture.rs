//! Writes a large, realistic capture for benchmarks:
//! `cargo run --release -p layerlab-core --example gen_capture -- OUT.pcap [PACKETS]`.
//!
//! The mix: HTTP-like TCP connections (handshake, request, response,
//! teardown), DNS queries and answers over UDP, ICMP echo, ARP, and TCP
//! carried inside VXLAN, all with valid checksums (etherparse builds them).

use etherparse::{ArpHardwareId, ArpOperation, ArpPacket, EtherType, PacketBuilder};
use layerlab_core::packet::{FrameToWrite, LinkType, write_pcap};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_capture OUT.pcap [PACKETS]");
    let total: usize = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("PACKETS is a number"));
    let mut frames: Vec<Vec<u8>> = Vec::with_capacity(total);
    let mac = |n: u32| [0x02, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8, 1];
    let ip = |n: u32| [10, 244, (n >> 8) as u8, n as u8];
    let mut n: u32 = 0;
    let request = b"GET /index.html HTTP/1.1\r\nHost: web.default.svc.cluster.local\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
    let response = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 512\r\n\r\n".as_slice(),
        &[b'x'; 512],
    ]
    .concat();
    while frames.len() < total {
        n = n.wrapping_add(1);
        let (c, s) = (n % 4000, 4000 + n % 50);
        let port = 32768 + (n % 28000) as u16;
        let mut push = |b: PacketBuilderStep, payload: &[u8]| {
            let mut v = Vec::with_capacity(b.size(payload.len()));
            b.write(&mut v, payload).expect("write frame");
            frames.push(v);
        };
        type PacketBuilderStep = etherparse::PacketBuilderStep<etherparse::TcpHeader>;
        let tcp = |from_client: bool, seq: u32| {
            let (sm, dm, si, di, sp, dp) = if from_client {
                (mac(c), mac(s), ip(c), ip(s), port, 80)
            } else {
                (mac(s), mac(c), ip(s), ip(c), 80, port)
            };
            PacketBuilder::ethernet2(sm, dm)
                .ipv4(si, di, 64)
                .tcp(sp, dp, seq, 64240)
        };
        // One HTTP connection: 10 packets.
        push(tcp(true, 1000).syn(), &[]);
        push(tcp(false, 5000).syn().ack(1001), &[]);
        push(tcp(true, 1001).ack(5001), &[]);
        push(tcp(true, 1001).ack(5001).psh(), request);
        push(tcp(false, 5001).ack(1001 + request.len() as u32), &[]);
        push(
            tcp(false, 5001).ack(1001 + request.len() as u32).psh(),
            &response,
        );
        push(
            tcp(true, 1001 + request.len() as u32).ack(5001 + response.len() as u32),
            &[],
        );
        push(
            tcp(true, 1001 + request.len() as u32)
                .ack(5001 + response.len() as u32)
                .fin(),
            &[],
        );
        push(
            tcp(false, 5001 + response.len() as u32)
                .ack(1002 + request.len() as u32)
                .fin(),
            &[],
        );
        push(
            tcp(true, 1002 + request.len() as u32).ack(5002 + response.len() as u32),
            &[],
        );
        let mut raw = |b: Vec<u8>| frames.push(b);
        // DNS query and answer.
        let q = dns_query(n as u16, "web.default.svc.cluster.local");
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(c), mac(1))
            .ipv4(ip(c), [10, 96, 0, 10], 64)
            .udp(port, 53)
            .write(&mut v, &q)
            .unwrap();
        raw(v);
        let a = dns_answer(&q, [10, 96, (n >> 8) as u8, n as u8]);
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(1), mac(c))
            .ipv4([10, 96, 0, 10], ip(c), 64)
            .udp(53, port)
            .write(&mut v, &a)
            .unwrap();
        raw(v);
        // ICMP echo request and reply.
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(c), mac(s))
            .ipv4(ip(c), ip(s), 64)
            .icmpv4_echo_request(1, n as u16)
            .write(&mut v, &[0x55; 56])
            .unwrap();
        raw(v);
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(s), mac(c))
            .ipv4(ip(s), ip(c), 63)
            .icmpv4_echo_reply(1, n as u16)
            .write(&mut v, &[0x55; 56])
            .unwrap();
        raw(v);
        // ARP request.
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
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(c), [0xff; 6])
            .arp(arp)
            .write(&mut v)
            .unwrap();
        raw(v);
        // Pod-to-pod TCP across nodes inside VXLAN (VNI 1).
        let mut inner = Vec::new();
        PacketBuilder::ethernet2(mac(c), mac(s))
            .ipv4(ip(c), ip(s), 63)
            .tcp(port, 8080, 7, 64240)
            .ack(9)
            .psh()
            .write(&mut inner, request)
            .unwrap();
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        vx.extend_from_slice(&inner);
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(100), mac(101))
            .ipv4([172, 18, 0, 2], [172, 18, 0, 3], 64)
            .udp(40000 + (n % 1000) as u16, 4789)
            .write(&mut v, &vx)
            .unwrap();
        raw(v);
    }
    frames.truncate(total);
    let start = 1_764_000_000_000_000_000u64;
    let refs: Vec<FrameToWrite<'_>> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| FrameToWrite {
            ts_nanos: start + i as u64 * 10_000,
            data: f,
        })
        .collect();
    let bytes = write_pcap(LinkType::Ethernet, &refs);
    std::fs::write(&out, &bytes).expect("write capture");
    eprintln!(
        "wrote {} packets, {} bytes, to {out}",
        refs.len(),
        bytes.len()
    );
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

fn dns_answer(query: &[u8], addr: [u8; 4]) -> Vec<u8> {
    let mut m = query.to_vec();
    m[2] = 0x81;
    m[3] = 0x80;
    m[7] = 1;
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
    m.extend_from_slice(&addr);
    m
}
