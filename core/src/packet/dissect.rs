//! The full dissector: every layer, every field with its meaning and the
//! exact bytes it occupies, for the field tree and the hex view.
//!
//! etherparse reads the headers; this module adds what it lacks: byte
//! ranges, meanings, checksum verdicts, VXLAN, DNS and HTTP, and an exact
//! account of where and why dissection stopped on damaged input.

use super::names::{self, LinkType};
use etherparse::checksum::Sum16BitWords;
use etherparse::{
    ArpPacketSlice, Ethernet2HeaderSlice, Icmpv4Slice, Icmpv6Slice, Ipv4HeaderSlice,
    Ipv6FragmentHeaderSlice, Ipv6HeaderSlice, Ipv6RawExtHeaderSlice, LinuxSllHeaderSlice,
    SingleVlanHeaderSlice, TcpHeaderSlice, UdpHeaderSlice,
};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

mod links;

/// Whether this build reads the rarer link types, tunnels and transports
/// (NULL/LOOP, NFLOG, PPP, Cisco HDLC, MPLS, GRE/ERSPAN, GENEVE, SCTP,
/// DCCP): the browser app leaves them out to stay within its download
/// budget; every other build has them.
const FULL: bool = cfg!(feature = "full-dissect");

/// Deepest nesting of encapsulations we follow (VXLAN in VXLAN, ICMP quotes).
const MAX_DEPTH: u8 = 8;

/// A half-open range of byte offsets into the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl ByteRange {
    fn new(start: usize, len: usize) -> ByteRange {
        ByteRange {
            start,
            end: start + len,
        }
    }

    /// Whether a byte offset is inside.
    pub fn contains(&self, offset: usize) -> bool {
        (self.start..self.end).contains(&offset)
    }
}

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Stable machine name within its layer (`ttl`, `src`, `flags`).
    pub key: String,
    /// Human name (`Time to live`).
    pub name: String,
    /// The value as shown (`63`, `10.0.0.2`, `0x0800`).
    pub value: String,
    /// What the value means (`one router hop from 64`).
    pub meaning: Option<String>,
    /// The bytes it occupies (bit fields share their bytes).
    pub range: ByteRange,
}

/// One protocol layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Short protocol key (`eth`, `vlan`, `sll`, `arp`, `ipv4`, `ipv6`, `tcp`,
    /// `udp`, `icmp`, `icmpv6`, `vxlan`, `dns`, `http`, `payload`).
    pub protocol: String,
    /// Full name (`Internet Protocol version 4`).
    pub name: String,
    /// One-line summary of this layer.
    pub summary: String,
    /// The bytes of this layer's header (payload excluded, except for leaf layers).
    pub range: ByteRange,
    /// Fields in wire order.
    pub fields: Vec<Field>,
}

impl Layer {
    /// A field by key.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// Where and why dissection stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stopped {
    /// Byte offset where the unreadable part starts.
    pub offset: usize,
    /// The layer that could not be read.
    pub layer: String,
    /// Why.
    pub reason: String,
}

/// A dissected frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dissection {
    /// Captured length.
    pub len: usize,
    /// Layers from the outside in.
    pub layers: Vec<Layer>,
    /// Set when the frame could not be read to the end.
    pub stopped: Option<Stopped>,
}

impl Dissection {
    /// The first layer of a protocol.
    pub fn layer(&self, protocol: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.protocol == protocol)
    }

    /// The n-th (0-based) layer of a protocol: `nth("ipv4", 1)` is the inner IP of a tunnel.
    pub fn nth(&self, protocol: &str, n: usize) -> Option<&Layer> {
        self.layers.iter().filter(|l| l.protocol == protocol).nth(n)
    }

    /// Each layer's key: its protocol, with `#n` counting repeats from 1
    /// (`eth`, `ipv4`, `udp`, `vxlan`, `eth#2`, `ipv4#2`...).
    pub fn layer_keys(&self) -> Vec<String> {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        self.layers
            .iter()
            .map(|l| {
                let n = match seen.iter_mut().find(|(p, _)| *p == l.protocol) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        seen.push((&l.protocol, 1));
                        1
                    }
                };
                if n == 1 {
                    l.protocol.clone()
                } else {
                    format!("{}#{n}", l.protocol)
                }
            })
            .collect()
    }

    /// Every field as `(path, field)` where path is `protocol[#n].key`,
    /// `#n` counting repeated layers from 1 (so `ipv4.ttl`, `ipv4#2.ttl`).
    pub fn field_paths(&self) -> Vec<(String, &Field)> {
        let mut out = Vec::new();
        for (l, prefix) in self.layers.iter().zip(self.layer_keys()) {
            for f in &l.fields {
                out.push((format!("{prefix}.{}", f.key), f));
            }
        }
        out
    }
}

/// Dissects one frame of the given link type. Never panics; damaged input
/// yields the layers read so far and a [`Stopped`].
pub fn dissect(frame: &[u8], link: LinkType) -> Dissection {
    let mut w = Walker {
        data: frame,
        layers: Vec::new(),
        stopped: None,
    };
    match link {
        LinkType::Ethernet => w.ethernet(0, frame.len(), 0),
        LinkType::LinuxSll => w.sll(0, frame.len()),
        LinkType::LinuxSll2 => w.sll2(0, frame.len()),
        LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => w.raw_ip(0, frame.len(), 0),
        LinkType::Null | LinkType::Loop if FULL => w.loopback(0, frame.len(), link),
        LinkType::Nflog if FULL => w.nflog(0, frame.len()),
        LinkType::Ppp if FULL => w.ppp(0, frame.len()),
        LinkType::CiscoHdlc if FULL => w.chdlc(0, frame.len()),
        LinkType::Unsupported(n) => w.stop(
            0,
            "link layer",
            format!("link type {n} is not one layerlab reads"),
        ),
        other => w.stop(
            0,
            "link layer",
            format!("{other:?} frames are read by the full dissector, not this build"),
        ),
    }
    Dissection {
        len: frame.len(),
        layers: w.layers,
        stopped: w.stopped,
    }
}

/// IP addresses for the TCP/UDP/ICMPv6 pseudo-header checksum.
#[derive(Clone, Copy)]
enum Pseudo {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

/// Builds one layer field by field.
pub(super) struct LayerBuilder {
    layer: Layer,
}

impl LayerBuilder {
    pub(super) fn new(protocol: &str, name: &str, start: usize) -> LayerBuilder {
        LayerBuilder {
            layer: Layer {
                protocol: protocol.into(),
                name: name.into(),
                summary: String::new(),
                range: ByteRange::new(start, 0),
                fields: Vec::new(),
            },
        }
    }

    pub(super) fn field(
        &mut self,
        key: &str,
        name: &str,
        start: usize,
        len: usize,
        value: impl Into<String>,
        meaning: Option<String>,
    ) {
        self.layer.fields.push(Field {
            key: key.into(),
            name: name.into(),
            value: value.into(),
            meaning,
            range: ByteRange::new(start, len),
        });
    }
}

impl LayerBuilder {
    /// Finishes the layer at byte `end` with its summary.
    pub(super) fn finish(mut self, end: usize, summary: String) -> Layer {
        self.layer.range.end = end;
        self.layer.summary = summary;
        self.layer
    }
}

struct Walker<'a> {
    data: &'a [u8],
    layers: Vec<Layer>,
    stopped: Option<Stopped>,
}

impl<'a> Walker<'a> {
    fn push(&mut self, b: LayerBuilder, end: usize, summary: String) {
        self.layers.push(b.finish(end, summary));
    }

    fn stop(&mut self, offset: usize, layer: &str, reason: impl Into<String>) {
        if self.stopped.is_none() {
            self.stopped = Some(Stopped {
                offset,
                layer: layer.into(),
                reason: reason.into(),
            });
        }
    }

    fn bytes(&self, off: usize, end: usize) -> &'a [u8] {
        self.data.get(off..end.min(self.data.len())).unwrap_or(&[])
    }

    fn ethernet(&mut self, off: usize, end: usize, depth: u8) {
        let Ok(eth) = Ethernet2HeaderSlice::from_slice(self.bytes(off, end)) else {
            let have = end.saturating_sub(off);
            return self.stop(
                off,
                "Ethernet II",
                format!("only {have} bytes left; an Ethernet header needs 14"),
            );
        };
        let mut b = LayerBuilder::new("eth", "Ethernet II", off);
        let (dst, src, et) = (eth.destination(), eth.source(), eth.ether_type().0);
        b.field(
            "dst",
            "Destination MAC",
            off,
            6,
            names::mac(&dst),
            Some(names::mac_kind(&dst).into()),
        );
        b.field("src", "Source MAC", off + 6, 6, names::mac(&src), None);
        b.field(
            "type",
            "EtherType",
            off + 12,
            2,
            format!("0x{et:04x}"),
            Some(names::ether_type(et).into()),
        );
        let summary = format!(
            "{} → {}, {}",
            names::mac(&src),
            names::mac(&dst),
            names::ether_type(et)
        );
        self.push(b, off + 14, summary);
        self.ether_payload(et, off + 14, end, depth);
    }

    fn ether_payload(&mut self, et: u16, off: usize, end: usize, depth: u8) {
        match et {
            0x8100 | 0x88a8 => self.vlan(off, end, depth),
            0x0800 => self.ipv4(off, end, depth),
            0x86dd => self.ipv6(off, end, depth),
            0x0806 => self.arp(off, end),
            0x8847 | 0x8848 if FULL && depth < MAX_DEPTH => self.mpls(off, end, depth),
            0x6558 if depth < MAX_DEPTH => self.ethernet(off, end, depth + 1),
            _ => self.payload(off, end, &format!("EtherType 0x{et:04x} payload")),
        }
    }

    fn vlan(&mut self, off: usize, end: usize, depth: u8) {
        let Ok(v) = SingleVlanHeaderSlice::from_slice(self.bytes(off, end)) else {
            return self.stop(
                off,
                "802.1Q VLAN tag",
                "truncated: a VLAN tag needs 4 bytes",
            );
        };
        let mut b = LayerBuilder::new("vlan", "802.1Q VLAN tag", off);
        let (pcp, vid, et) = (
            v.priority_code_point().value(),
            v.vlan_identifier().value(),
            v.ether_type().0,
        );
        b.field(
            "pcp",
            "Priority",
            off,
            1,
            pcp.to_string(),
            Some("802.1p class of service (0 = best effort)".into()),
        );
        b.field(
            "dei",
            "Drop eligible",
            off,
            1,
            v.drop_eligible_indicator().to_string(),
            None,
        );
        b.field(
            "vid",
            "VLAN ID",
            off,
            2,
            vid.to_string(),
            Some(format!("the frame belongs to VLAN {vid}")),
        );
        b.field(
            "type",
            "EtherType",
            off + 2,
            2,
            format!("0x{et:04x}"),
            Some(names::ether_type(et).into()),
        );
        self.push(b, off + 4, format!("VLAN {vid}, {}", names::ether_type(et)));
        self.ether_payload(et, off + 4, end, depth);
    }

    fn sll(&mut self, off: usize, end: usize) {
        let s = match LinuxSllHeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(s) => s,
            Err(e) => return self.stop(off, "Linux cooked capture", e.to_string()),
        };
        let mut b = LayerBuilder::new("sll", "Linux cooked capture (SLL)", off);
        let raw = s.slice();
        let ptype = u16::from_be_bytes([raw[0], raw[1]]);
        let direction = names::sll_packet_type(ptype);
        b.field(
            "packet_type",
            "Packet type",
            off,
            2,
            ptype.to_string(),
            Some(direction.into()),
        );
        b.field(
            "hatype",
            "Link-layer address type",
            off + 2,
            2,
            u16::from_be_bytes([raw[2], raw[3]]).to_string(),
            None,
        );
        let alen = usize::from(u16::from_be_bytes([raw[4], raw[5]]).min(8));
        b.field(
            "addr",
            "Source address",
            off + 6,
            8,
            names::mac(&raw[6..6 + alen]),
            None,
        );
        let proto = u16::from_be_bytes([raw[14], raw[15]]);
        b.field(
            "protocol",
            "Protocol",
            off + 14,
            2,
            format!("0x{proto:04x}"),
            Some(names::ether_type(proto).into()),
        );
        self.push(
            b,
            off + 16,
            format!("{direction}, {}", names::ether_type(proto)),
        );
        self.ether_payload(proto, off + 16, end, 0);
    }

    /// SLL2: etherparse reads only v1, so the 20-byte v2 header is read here.
    fn sll2(&mut self, off: usize, end: usize) {
        let raw = self.bytes(off, end);
        if raw.len() < 20 {
            return self.stop(
                off,
                "Linux cooked capture v2",
                format!("only {} bytes; the header needs 20", raw.len()),
            );
        }
        let mut b = LayerBuilder::new("sll", "Linux cooked capture v2 (SLL2)", off);
        let proto = u16::from_be_bytes([raw[0], raw[1]]);
        b.field(
            "protocol",
            "Protocol",
            off,
            2,
            format!("0x{proto:04x}"),
            Some(names::ether_type(proto).into()),
        );
        let ifindex = u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]);
        b.field(
            "ifindex",
            "Interface index",
            off + 4,
            4,
            ifindex.to_string(),
            Some("as in `ip link` on the capturing host".into()),
        );
        b.field(
            "hatype",
            "Link-layer address type",
            off + 8,
            2,
            u16::from_be_bytes([raw[8], raw[9]]).to_string(),
            None,
        );
        let direction = names::sll_packet_type(u16::from(raw[10]));
        b.field(
            "packet_type",
            "Packet type",
            off + 10,
            1,
            raw[10].to_string(),
            Some(direction.into()),
        );
        let alen = usize::from(raw[11].min(8));
        b.field(
            "addr",
            "Source address",
            off + 12,
            8,
            names::mac(&raw[12..12 + alen]),
            None,
        );
        self.push(
            b,
            off + 20,
            format!(
                "{direction} on interface {ifindex}, {}",
                names::ether_type(proto)
            ),
        );
        self.ether_payload(proto, off + 20, end, 0);
    }

    fn raw_ip(&mut self, off: usize, end: usize, depth: u8) {
        match self.bytes(off, end).first().map(|b| b >> 4) {
            Some(4) => self.ipv4(off, end, depth),
            Some(6) => self.ipv6(off, end, depth),
            Some(v) => self.stop(off, "IP", format!("version nibble is {v}, not 4 or 6")),
            None => self.stop(off, "IP", "no bytes left for an IP header"),
        }
    }

    fn arp(&mut self, off: usize, end: usize) {
        let a = match ArpPacketSlice::from_slice(self.bytes(off, end)) {
            Ok(a) => a,
            Err(e) => return self.stop(off, "ARP", e.to_string()),
        };
        let mut b = LayerBuilder::new("arp", "Address Resolution Protocol", off);
        let (hl, pl) = (
            usize::from(a.hw_addr_size()),
            usize::from(a.proto_addr_size()),
        );
        let op = a.operation().0;
        let op_name = match op {
            1 => "request",
            2 => "reply",
            _ => "other",
        };
        b.field(
            "htype",
            "Hardware type",
            off,
            2,
            a.hw_addr_type().0.to_string(),
            Some("1 = Ethernet".into()),
        );
        b.field(
            "ptype",
            "Protocol type",
            off + 2,
            2,
            format!("0x{:04x}", a.proto_addr_type().0),
            None,
        );
        b.field(
            "hlen",
            "Hardware address length",
            off + 4,
            1,
            hl.to_string(),
            None,
        );
        b.field(
            "plen",
            "Protocol address length",
            off + 5,
            1,
            pl.to_string(),
            None,
        );
        b.field(
            "op",
            "Operation",
            off + 6,
            2,
            op.to_string(),
            Some(op_name.into()),
        );
        let ip = |x: &[u8]| {
            if x.len() == 4 {
                format!("{}.{}.{}.{}", x[0], x[1], x[2], x[3])
            } else {
                names::mac(x)
            }
        };
        let mut at = off + 8;
        let (sha, spa, tha, tpa) = (
            a.sender_hw_addr(),
            a.sender_protocol_addr(),
            a.target_hw_addr(),
            a.target_protocol_addr(),
        );
        b.field("sha", "Sender MAC", at, hl, names::mac(sha), None);
        at += hl;
        b.field("spa", "Sender IP", at, pl, ip(spa), None);
        at += pl;
        let tha_meaning =
            (op == 1).then(|| "unknown yet: that is what the request asks".to_string());
        b.field("tha", "Target MAC", at, hl, names::mac(tha), tha_meaning);
        at += hl;
        b.field("tpa", "Target IP", at, pl, ip(tpa), None);
        at += pl;
        let summary = match op {
            1 => format!("who has {}? tell {}", ip(tpa), ip(spa)),
            2 => format!("{} is at {}", ip(spa), names::mac(sha)),
            _ => format!("operation {op}"),
        };
        self.push(b, at, summary);
    }

    fn ipv4(&mut self, off: usize, end: usize, depth: u8) {
        let h = match Ipv4HeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(h) => h,
            Err(e) => return self.stop(off, "IPv4", e.to_string()),
        };
        let hl = h.slice().len();
        let mut b = LayerBuilder::new("ipv4", "Internet Protocol version 4", off);
        b.field("version", "Version", off, 1, "4", None);
        b.field(
            "ihl",
            "Header length",
            off,
            1,
            format!("{} bytes", hl),
            (hl > 20).then(|| "options present".into()),
        );
        b.field(
            "dscp",
            "DSCP",
            off + 1,
            1,
            h.dcp().value().to_string(),
            None,
        );
        b.field("ecn", "ECN", off + 1, 1, h.ecn().value().to_string(), None);
        let total = usize::from(h.total_len());
        b.field(
            "total_len",
            "Total length",
            off + 2,
            2,
            total.to_string(),
            Some("header + payload, in bytes".into()),
        );
        b.field(
            "id",
            "Identification",
            off + 4,
            2,
            format!("0x{:04x}", h.identification()),
            None,
        );
        let frag_off = usize::from(h.fragments_offset().value()) * 8;
        let mut flags = Vec::new();
        if h.dont_fragment() {
            flags.push("DF: don't fragment");
        }
        if h.more_fragments() {
            flags.push("MF: more fragments follow");
        }
        let flags_value = match (h.dont_fragment(), h.more_fragments()) {
            (true, true) => "DF, MF",
            (true, false) => "DF",
            (false, true) => "MF",
            (false, false) => "none",
        };
        b.field(
            "flags",
            "Flags",
            off + 6,
            1,
            flags_value,
            (!flags.is_empty()).then(|| flags.join("; ")),
        );
        b.field(
            "frag_offset",
            "Fragment offset",
            off + 6,
            2,
            frag_off.to_string(),
            (frag_off > 0).then(|| {
                format!("this fragment carries bytes from {frag_off} of the original payload")
            }),
        );
        b.field(
            "ttl",
            "Time to live",
            off + 8,
            1,
            h.ttl().to_string(),
            Some(names::ttl_meaning(h.ttl())),
        );
        let proto = h.protocol().0;
        b.field(
            "protocol",
            "Protocol",
            off + 9,
            1,
            proto.to_string(),
            Some(names::ip_protocol(proto).into()),
        );
        let expected = Sum16BitWords::new()
            .add_slice(&h.slice()[..10])
            .add_slice(&h.slice()[12..])
            .ones_complement()
            .to_be();
        b.field(
            "checksum",
            "Header checksum",
            off + 10,
            2,
            format!("0x{:04x}", h.header_checksum()),
            Some(checksum_verdict(h.header_checksum(), expected)),
        );
        let (src, dst) = (h.source(), h.destination());
        b.field(
            "src",
            "Source address",
            off + 12,
            4,
            h.source_addr().to_string(),
            None,
        );
        b.field(
            "dst",
            "Destination address",
            off + 16,
            4,
            h.destination_addr().to_string(),
            None,
        );
        if hl > 20 {
            ipv4_options(&mut b, h.options(), off + 20);
        }
        let summary = format!(
            "{} → {}, TTL {}, {}",
            h.source_addr(),
            h.destination_addr(),
            h.ttl(),
            names::ip_protocol(proto)
        );
        self.push(b, off + hl, summary);

        if total < hl {
            return self.stop(
                off + 2,
                "IPv4",
                format!("total length {total} is shorter than the {hl}-byte header"),
            );
        }
        let ip_end = (off + total).min(end);
        if off + total > end {
            // Snap length cut the packet: read what was captured.
            self.stop(
                end,
                "IPv4",
                format!("captured {} of {total} bytes (snap length)", end - off),
            );
        } else if ip_end < end {
            self.payload(ip_end, end, "Ethernet padding");
            // Keep the padding layer after the transport layers.
            let pad = self.layers.pop();
            self.ip_payload(
                proto,
                off + hl,
                ip_end,
                Pseudo::V4(src, dst),
                frag_off > 0,
                h.more_fragments(),
                depth,
            );
            self.layers.extend(pad);
            return;
        }
        self.ip_payload(
            proto,
            off + hl,
            ip_end,
            Pseudo::V4(src, dst),
            frag_off > 0,
            h.more_fragments(),
            depth,
        );
    }

    fn ipv6(&mut self, off: usize, end: usize, depth: u8) {
        let h = match Ipv6HeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(h) => h,
            Err(e) => return self.stop(off, "IPv6", e.to_string()),
        };
        let mut b = LayerBuilder::new("ipv6", "Internet Protocol version 6", off);
        b.field("version", "Version", off, 1, "6", None);
        b.field(
            "traffic_class",
            "Traffic class",
            off,
            2,
            format!("0x{:02x}", h.traffic_class()),
            None,
        );
        b.field(
            "flow_label",
            "Flow label",
            off + 1,
            3,
            format!("0x{:05x}", h.flow_label().value()),
            None,
        );
        let plen = usize::from(h.payload_length());
        b.field(
            "payload_len",
            "Payload length",
            off + 4,
            2,
            plen.to_string(),
            Some("bytes after this 40-byte header".into()),
        );
        let mut next = h.next_header().0;
        b.field(
            "next_header",
            "Next header",
            off + 6,
            1,
            next.to_string(),
            Some(names::ip_protocol(next).into()),
        );
        b.field(
            "hop_limit",
            "Hop limit",
            off + 7,
            1,
            h.hop_limit().to_string(),
            Some(names::ttl_meaning(h.hop_limit())),
        );
        b.field(
            "src",
            "Source address",
            off + 8,
            16,
            h.source_addr().to_string(),
            None,
        );
        b.field(
            "dst",
            "Destination address",
            off + 24,
            16,
            h.destination_addr().to_string(),
            None,
        );
        let summary = format!(
            "{} → {}, hop limit {}",
            h.source_addr(),
            h.destination_addr(),
            h.hop_limit()
        );
        let pseudo = Pseudo::V6(h.source(), h.destination());
        self.push(b, off + 40, summary);
        let ip_end = (off + 40 + plen).min(end);
        if off + 40 + plen > end {
            self.stop(
                end,
                "IPv6",
                format!(
                    "captured {} of {} bytes (snap length)",
                    end - off,
                    40 + plen
                ),
            );
        }
        let mut at = off + 40;
        let mut fragment = false;
        let mut more = false;
        // Extension headers chain through `next header` until a transport protocol.
        for _ in 0..16 {
            match next {
                0 | 43 | 60 => {
                    let Ok(x) = Ipv6RawExtHeaderSlice::from_slice(self.bytes(at, ip_end)) else {
                        return self.stop(
                            at,
                            names::ip_protocol(next),
                            "truncated extension header",
                        );
                    };
                    let len = x.slice().len();
                    let mut b = LayerBuilder::new("ipv6_ext", names::ip_protocol(next), at);
                    let n = x.next_header().0;
                    b.field(
                        "next_header",
                        "Next header",
                        at,
                        1,
                        n.to_string(),
                        Some(names::ip_protocol(n).into()),
                    );
                    b.field("len", "Length", at + 1, 1, format!("{len} bytes"), None);
                    if next == 43 && len >= 4 {
                        let s = x.slice();
                        b.field(
                            "routing_type",
                            "Routing type",
                            at + 2,
                            1,
                            s[2].to_string(),
                            None,
                        );
                        b.field(
                            "segments_left",
                            "Segments left",
                            at + 3,
                            1,
                            s[3].to_string(),
                            None,
                        );
                    }
                    self.push(b, at + len, names::ip_protocol(next).to_string());
                    at += len;
                    next = n;
                }
                44 => {
                    let Ok(x) = Ipv6FragmentHeaderSlice::from_slice(self.bytes(at, ip_end)) else {
                        return self.stop(at, "IPv6 fragment header", "truncated: needs 8 bytes");
                    };
                    let mut b = LayerBuilder::new("ipv6_frag", "IPv6 fragment header", at);
                    let n = x.next_header().0;
                    let fo = usize::from(x.fragment_offset().value()) * 8;
                    b.field(
                        "next_header",
                        "Next header",
                        at,
                        1,
                        n.to_string(),
                        Some(names::ip_protocol(n).into()),
                    );
                    b.field(
                        "frag_offset",
                        "Fragment offset",
                        at + 2,
                        2,
                        fo.to_string(),
                        None,
                    );
                    b.field(
                        "more",
                        "More fragments",
                        at + 3,
                        1,
                        x.more_fragments().to_string(),
                        None,
                    );
                    b.field(
                        "id",
                        "Identification",
                        at + 4,
                        4,
                        format!("0x{:08x}", x.identification()),
                        None,
                    );
                    self.push(b, at + 8, format!("fragment at offset {fo}"));
                    fragment = fo > 0;
                    more = x.more_fragments();
                    at += 8;
                    next = n;
                }
                _ => break,
            }
        }
        self.ip_payload(next, at, ip_end, pseudo, fragment, more, depth);
    }

    #[allow(clippy::too_many_arguments)]
    fn ip_payload(
        &mut self,
        proto: u8,
        off: usize,
        end: usize,
        pseudo: Pseudo,
        later_fragment: bool,
        more: bool,
        depth: u8,
    ) {
        if off >= end && proto != 59 {
            if off > end {
                self.stop(
                    end,
                    names::ip_protocol(proto),
                    "no bytes left for the payload",
                );
            }
            return;
        }
        if later_fragment {
            return self.payload(off, end, "IP fragment data (reassembly needed to read it)");
        }
        // A first fragment holds the transport header, but its checksum covers data we don't have.
        let whole = !more && self.stopped.is_none();
        match proto {
            6 => self.tcp(off, end, pseudo, whole, depth),
            17 => self.udp(off, end, pseudo, whole, depth),
            1 => self.icmpv4(off, end, depth),
            58 => self.icmpv6(off, end, pseudo, whole, depth),
            4 if depth < MAX_DEPTH => self.ipv4(off, end, depth + 1),
            41 if depth < MAX_DEPTH => self.ipv6(off, end, depth + 1),
            47 if FULL && depth < MAX_DEPTH => self.gre(off, end, depth),
            132 if FULL => self.sctp(off, end),
            33 if FULL => self.dccp(off, end),
            59 => {}
            _ => self.payload(off, end, &format!("{} payload", names::ip_protocol(proto))),
        }
    }

    fn tcp(&mut self, off: usize, end: usize, pseudo: Pseudo, whole: bool, depth: u8) {
        let t = match TcpHeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(t) => t,
            Err(e) => return self.stop(off, "TCP", e.to_string()),
        };
        let hl = t.slice().len();
        let mut b = LayerBuilder::new("tcp", "Transmission Control Protocol", off);
        let (sp, dp) = (t.source_port(), t.destination_port());
        b.field(
            "src_port",
            "Source port",
            off,
            2,
            sp.to_string(),
            names::port_service(sp).map(Into::into),
        );
        b.field(
            "dst_port",
            "Destination port",
            off + 2,
            2,
            dp.to_string(),
            names::port_service(dp).map(Into::into),
        );
        b.field(
            "seq",
            "Sequence number",
            off + 4,
            4,
            t.sequence_number().to_string(),
            None,
        );
        let ack_meaning = t
            .ack()
            .then(|| "the next byte the sender expects from its peer".to_string());
        b.field(
            "ack",
            "Acknowledgment number",
            off + 8,
            4,
            t.acknowledgment_number().to_string(),
            ack_meaning,
        );
        b.field(
            "data_offset",
            "Header length",
            off + 12,
            1,
            format!("{hl} bytes"),
            None,
        );
        let flags = t.slice()[13];
        b.field(
            "flags",
            "Flags",
            off + 13,
            1,
            names::tcp_flags_long(flags),
            Some(tcp_flags_meaning(flags)),
        );
        b.field(
            "window",
            "Window",
            off + 14,
            2,
            t.window_size().to_string(),
            Some("bytes the sender can still receive (before scaling)".into()),
        );
        let payload = self.bytes(off + hl, end);
        let verdict = whole.then(|| {
            let expected = transport_checksum(pseudo, 6, t.slice(), 16, payload);
            checksum_verdict(t.checksum(), expected)
        });
        b.field(
            "checksum",
            "Checksum",
            off + 16,
            2,
            format!("0x{:04x}", t.checksum()),
            verdict,
        );
        b.field(
            "urgent",
            "Urgent pointer",
            off + 18,
            2,
            t.urgent_pointer().to_string(),
            None,
        );
        let mut opts = Vec::new();
        if hl > 20 {
            tcp_options(&mut b, &t.slice()[20..], off + 20, &mut opts);
        }
        let plen = end.saturating_sub(off + hl);
        let mut summary = format!(
            "{sp} → {dp} [{}] seq {} win {}",
            names::tcp_flags_short(flags),
            t.sequence_number(),
            t.window_size()
        );
        if t.ack() {
            let _ = write!(summary, " ack {}", t.acknowledgment_number());
        }
        if !opts.is_empty() {
            let _ = write!(summary, " <{}>", opts.join(","));
        }
        let _ = write!(summary, ", {plen} bytes of data");
        self.push(b, off + hl, summary);
        if plen > 0 {
            self.app_payload(off + hl, end, sp, dp, true, depth);
        }
    }

    fn udp(&mut self, off: usize, end: usize, pseudo: Pseudo, whole: bool, depth: u8) {
        let u = match UdpHeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(u) => u,
            Err(e) => return self.stop(off, "UDP", e.to_string()),
        };
        let mut b = LayerBuilder::new("udp", "User Datagram Protocol", off);
        let (sp, dp) = (u.source_port(), u.destination_port());
        b.field(
            "src_port",
            "Source port",
            off,
            2,
            sp.to_string(),
            names::port_service(sp).map(Into::into),
        );
        b.field(
            "dst_port",
            "Destination port",
            off + 2,
            2,
            dp.to_string(),
            names::port_service(dp).map(Into::into),
        );
        let len = usize::from(u.length());
        b.field(
            "length",
            "Length",
            off + 4,
            2,
            len.to_string(),
            Some("UDP header + data, in bytes".into()),
        );
        let payload = self.bytes(off + 8, end);
        let verdict = if u.checksum() == 0 && matches!(pseudo, Pseudo::V4(..)) {
            Some("0: no checksum (allowed for UDP over IPv4)".to_string())
        } else {
            whole.then(|| {
                let expected = transport_checksum(pseudo, 17, u.slice(), 6, payload);
                checksum_verdict(u.checksum(), if expected == 0 { 0xffff } else { expected })
            })
        };
        b.field(
            "checksum",
            "Checksum",
            off + 6,
            2,
            format!("0x{:04x}", u.checksum()),
            verdict,
        );
        self.push(
            b,
            off + 8,
            format!("{sp} → {dp}, {} bytes of data", len.saturating_sub(8)),
        );
        if len < 8 {
            return self.stop(
                off + 4,
                "UDP",
                format!("length field {len} is shorter than the 8-byte header"),
            );
        }
        let udp_end = (off + len).min(end);
        if udp_end > off + 8 {
            self.app_payload(off + 8, udp_end, sp, dp, false, depth);
        }
    }

    fn app_payload(&mut self, off: usize, end: usize, sp: u16, dp: u16, tcp: bool, depth: u8) {
        let data = self.bytes(off, end);
        let port = |p: u16| sp == p || dp == p;
        if !tcp
            && (port(4789) || port(8472))
            && depth < MAX_DEPTH
            && data.len() >= 8
            && data[0] & 0x08 != 0
        {
            return self.vxlan(off, end, depth);
        }
        if FULL && !tcp && port(6081) && depth < MAX_DEPTH && data.len() >= 8 && data[0] >> 6 == 0 {
            return self.geneve(off, end, depth);
        }
        if port(53) || port(5353) {
            let dns_off = if tcp { off + 2 } else { off };
            if super::dns::dissect(self.bytes(dns_off, end), dns_off, &mut self.layers).is_ok() {
                return;
            }
        }
        if let Some(http) = super::http::dissect(data, off) {
            self.layers.push(http);
            return;
        }
        self.payload(off, end, "Payload");
    }

    fn vxlan(&mut self, off: usize, end: usize, depth: u8) {
        let d = self.bytes(off, off + 8);
        let mut b = LayerBuilder::new("vxlan", "Virtual eXtensible LAN (RFC 7348)", off);
        b.field(
            "flags",
            "Flags",
            off,
            1,
            format!("0x{:02x}", d[0]),
            Some("I flag set: the VNI is valid".into()),
        );
        let vni = u32::from_be_bytes([0, d[4], d[5], d[6]]);
        b.field(
            "vni",
            "VXLAN network identifier",
            off + 4,
            3,
            vni.to_string(),
            Some("which overlay network the inner frame belongs to".into()),
        );
        self.push(
            b,
            off + 8,
            format!("VNI {vni}, inner Ethernet frame follows"),
        );
        self.ethernet(off + 8, end, depth + 1);
    }

    fn icmpv4(&mut self, off: usize, end: usize, depth: u8) {
        let i = match Icmpv4Slice::from_slice(self.bytes(off, end)) {
            Ok(i) => i,
            Err(e) => return self.stop(off, "ICMP", e.to_string()),
        };
        let (t, c) = (i.type_u8(), i.code_u8());
        let mut b = LayerBuilder::new("icmp", "Internet Control Message Protocol", off);
        let meaning = names::icmpv4_meaning(t, c);
        b.field("type", "Type", off, 1, t.to_string(), Some(meaning.clone()));
        b.field("code", "Code", off + 1, 1, c.to_string(), None);
        let all = i.slice();
        let expected = Sum16BitWords::new()
            .add_slice(&all[..2])
            .add_slice(&all[4..])
            .ones_complement()
            .to_be();
        b.field(
            "checksum",
            "Checksum",
            off + 2,
            2,
            format!("0x{:04x}", i.checksum()),
            Some(checksum_verdict(i.checksum(), expected)),
        );
        let r = i.bytes5to8();
        let mut summary = meaning;
        match t {
            0 | 8 => {
                let (id, seq) = (
                    u16::from_be_bytes([r[0], r[1]]),
                    u16::from_be_bytes([r[2], r[3]]),
                );
                b.field("id", "Identifier", off + 4, 2, id.to_string(), None);
                b.field("seq", "Sequence number", off + 6, 2, seq.to_string(), None);
                let _ = write!(summary, ", id {id}, seq {seq}");
            }
            3 if c == 4 => {
                let mtu = u16::from_be_bytes([r[2], r[3]]);
                b.field(
                    "mtu",
                    "Next-hop MTU",
                    off + 6,
                    2,
                    mtu.to_string(),
                    Some("the largest packet the next link carries".into()),
                );
                let _ = write!(summary, ", mtu {mtu}");
            }
            _ => {}
        }
        self.push(b, off + 8, summary);
        // Errors quote the offending packet's IP header and first 8 bytes.
        if matches!(t, 3 | 11 | 12) && depth < MAX_DEPTH && end > off + 8 {
            self.ipv4(off + 8, end, depth + 1);
        } else if end > off + 8 {
            self.payload(off + 8, end, "ICMP data");
        }
    }

    fn icmpv6(&mut self, off: usize, end: usize, pseudo: Pseudo, whole: bool, depth: u8) {
        let i = match Icmpv6Slice::from_slice(self.bytes(off, end)) {
            Ok(i) => i,
            Err(e) => return self.stop(off, "ICMPv6", e.to_string()),
        };
        let (t, c) = (i.type_u8(), i.code_u8());
        let mut b = LayerBuilder::new("icmpv6", "Internet Control Message Protocol for IPv6", off);
        let meaning = names::icmpv6_meaning(t, c);
        b.field("type", "Type", off, 1, t.to_string(), Some(meaning.clone()));
        b.field("code", "Code", off + 1, 1, c.to_string(), None);
        let verdict = whole.then(|| {
            let expected = transport_checksum(pseudo, 58, &i.slice()[..4], 2, &i.slice()[4..]);
            checksum_verdict(i.checksum(), expected)
        });
        b.field(
            "checksum",
            "Checksum",
            off + 2,
            2,
            format!("0x{:04x}", i.checksum()),
            verdict,
        );
        let mut summary = meaning;
        let body = i.slice();
        if matches!(t, 135 | 136) && body.len() >= 24 {
            let target =
                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&body[8..24]).unwrap_or([0; 16]));
            b.field(
                "target",
                "Target address",
                off + 8,
                16,
                target.to_string(),
                None,
            );
            let _ = write!(summary, " for {target}");
        }
        if t == 2 {
            let r = i.bytes5to8();
            let mtu = u32::from_be_bytes(r);
            b.field("mtu", "MTU", off + 4, 4, mtu.to_string(), None);
        }
        self.push(b, off + 8.min(body.len()), summary);
        if matches!(t, 1..=4) && depth < MAX_DEPTH && end > off + 8 {
            self.ipv6(off + 8, end, depth + 1);
        }
    }

    fn payload(&mut self, off: usize, end: usize, what: &str) {
        let end = end.min(self.data.len());
        if off >= end {
            return;
        }
        let mut b = LayerBuilder::new("payload", what, off);
        let data = self.bytes(off, end);
        let preview: String = data.iter().take(32).map(|&c| names::printable(c)).collect();
        b.field(
            "data",
            "Data",
            off,
            end - off,
            format!("{} bytes", end - off),
            Some(format!("\"{preview}\"")),
        );
        self.push(b, end, format!("{} bytes", end - off));
    }
}

fn tcp_flags_meaning(flags: u8) -> String {
    let syn = flags & 0x02 != 0;
    let ack = flags & 0x10 != 0;
    let fin = flags & 0x01 != 0;
    let rst = flags & 0x04 != 0;
    match (syn, ack, fin, rst) {
        (true, false, _, _) => "opening: the client's first handshake segment".into(),
        (true, true, _, _) => "the server accepts: second handshake segment".into(),
        (_, _, _, true) => "reset: abort the connection at once".into(),
        (_, _, true, _) => "this side has no more data to send".into(),
        (false, true, false, false) if flags & 0x08 != 0 => {
            "data, pushed to the application".into()
        }
        (false, true, false, false) => "acknowledgment".into(),
        _ => "unusual combination".into(),
    }
}

fn checksum_verdict(found: u16, expected: u16) -> String {
    if found == expected {
        "correct".into()
    } else {
        format!(
            "wrong: should be 0x{expected:04x} (corrupted, or left for the NIC by checksum offload)"
        )
    }
}

/// Checksum of a TCP/UDP/ICMPv6 segment over its pseudo-header, skipping
/// the 2-byte checksum field at `ck` inside `header`.
fn transport_checksum(pseudo: Pseudo, proto: u8, header: &[u8], ck: usize, payload: &[u8]) -> u16 {
    let len = (header.len() + payload.len()) as u32;
    let mut sum = match pseudo {
        Pseudo::V4(s, d) => Sum16BitWords::new()
            .add_4bytes(s)
            .add_4bytes(d)
            .add_2bytes([0, proto])
            .add_2bytes([(len >> 8) as u8, len as u8]),
        Pseudo::V6(s, d) => Sum16BitWords::new()
            .add_16bytes(s)
            .add_16bytes(d)
            .add_4bytes(len.to_be_bytes())
            .add_4bytes([0, 0, 0, proto]),
    };
    sum = sum
        .add_slice(&header[..ck])
        .add_slice(&header[ck + 2..])
        .add_slice(payload);
    sum.ones_complement().to_be()
}

fn ipv4_options(b: &mut LayerBuilder, opts: &[u8], start: usize) {
    let mut i = 0;
    while i < opts.len() {
        let kind = opts[i];
        let (len, name) = match kind {
            0 => (1, "End of option list"),
            1 => (1, "No operation (padding)"),
            _ => {
                let len = usize::from(*opts.get(i + 1).unwrap_or(&2)).max(2);
                let name = match kind {
                    7 => "Record route",
                    68 => "Timestamp",
                    130 => "Security",
                    131 => "Loose source route",
                    137 => "Strict source route",
                    148 => "Router alert",
                    _ => "Unknown option",
                };
                (len, name)
            }
        };
        let len = len.min(opts.len() - i);
        b.field(
            "option",
            "Option",
            start + i,
            len,
            kind.to_string(),
            Some(name.into()),
        );
        if kind == 0 {
            break;
        }
        i += len;
    }
}

/// Adds TCP option fields with their exact bytes; `short` collects tcpdump-style names.
fn tcp_options(b: &mut LayerBuilder, opts: &[u8], start: usize, short: &mut Vec<String>) {
    let mut i = 0;
    while i < opts.len() {
        let kind = opts[i];
        if kind == 0 {
            b.field("opt_eol", "End of options", start + i, 1, "0", None);
            break;
        }
        if kind == 1 {
            b.field(
                "opt_nop",
                "No operation",
                start + i,
                1,
                "1",
                Some("padding to align the next option".into()),
            );
            short.push("nop".into());
            i += 1;
            continue;
        }
        let Some(&len) = opts.get(i + 1) else { break };
        let len = usize::from(len);
        if len < 2 || i + len > opts.len() {
            b.field(
                "opt_bad",
                "Malformed option",
                start + i,
                opts.len() - i,
                kind.to_string(),
                Some(format!("length {len} does not fit")),
            );
            break;
        }
        let v = &opts[i + 2..i + len];
        let (key, name, value, meaning) = match (kind, v.len()) {
            (2, 2) => {
                let mss = u16::from_be_bytes([v[0], v[1]]);
                short.push(format!("mss {mss}"));
                (
                    "opt_mss",
                    "Maximum segment size",
                    mss.to_string(),
                    "largest segment payload the sender accepts".to_string(),
                )
            }
            (3, 1) => {
                short.push(format!("wscale {}", v[0]));
                (
                    "opt_wscale",
                    "Window scale",
                    v[0].to_string(),
                    format!("multiply windows by 2^{} = {}", v[0], 1u64 << v[0].min(30)),
                )
            }
            (4, 0) => {
                short.push("sackOK".into());
                (
                    "opt_sack_ok",
                    "SACK permitted",
                    String::new(),
                    "selective acknowledgments may be used".to_string(),
                )
            }
            (5, n) => {
                let blocks: Vec<String> = v
                    .chunks_exact(8)
                    .map(|c| {
                        format!(
                            "{}-{}",
                            u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                            u32::from_be_bytes([c[4], c[5], c[6], c[7]])
                        )
                    })
                    .collect();
                short.push(format!("sack {}", n / 8));
                (
                    "opt_sack",
                    "SACK blocks",
                    blocks.join(" "),
                    "ranges received beyond the acknowledgment".to_string(),
                )
            }
            (8, 8) => {
                let val = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                let ecr = u32::from_be_bytes([v[4], v[5], v[6], v[7]]);
                short.push(format!("TS val {val} ecr {ecr}"));
                (
                    "opt_ts",
                    "Timestamps",
                    format!("val {val} ecr {ecr}"),
                    "for RTT measurement and wrapped-sequence protection (RFC 7323)".to_string(),
                )
            }
            _ => (
                "opt_other",
                "Option",
                format!("kind {kind}"),
                format!("{len} bytes"),
            ),
        };
        b.field(key, name, start + i, len, value, Some(meaning));
        i += len;
    }
}
