//! One-line packet summaries, like `tcpdump -nn`, without building the
//! field tree: this is the hot path of `layerlab packet summary` over
//! captures of millions of packets, so it borrows from the frame and
//! allocates nothing until it is written out (a tunnel's inner packet is
//! the one exception: it is boxed).
//!
//! The link layer, tunnels and transport headers are walked here by hand
//! (they are a few fixed fields each); etherparse reads IPv4/IPv6 with their
//! extension headers.

use super::capture::CapturedPacket;
use super::names::{self, LinkType};
use super::{dns, http};
use etherparse::LaxIpSlice;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network layer of a frame, as far as a summary needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// Nothing readable at layer 3 (see [`Summary::unknown`] and [`Summary::error`]).
    None,
    /// An ARP request or reply.
    Arp {
        /// 1 request, 2 reply.
        op: u16,
        /// Sender IPv4.
        spa: [u8; 4],
        /// Target IPv4.
        tpa: [u8; 4],
        /// Sender MAC.
        sha: [u8; 6],
    },
    /// An IPv4 or IPv6 packet.
    Ip {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// TTL or hop limit.
        ttl: u8,
        /// Transport protocol number (after IPv6 extension headers).
        proto: u8,
        /// A non-first fragment (no transport header).
        fragment: bool,
    },
}

/// The transport layer of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// None or unreadable.
    None,
    /// A TCP segment.
    Tcp {
        /// Source port.
        sp: u16,
        /// Destination port.
        dp: u16,
        /// Flags byte.
        flags: u8,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Window.
        win: u16,
        /// Payload length, from the IP header (as tcpdump counts it, also when the capture cut it short).
        len: usize,
    },
    /// A UDP datagram.
    Udp {
        /// Source port.
        sp: u16,
        /// Destination port.
        dp: u16,
        /// Payload length, from the UDP header.
        len: usize,
    },
    /// ICMPv4.
    Icmp {
        /// Type.
        t: u8,
        /// Code.
        code: u8,
    },
    /// ICMPv6.
    Icmpv6 {
        /// Type.
        t: u8,
        /// Code.
        code: u8,
    },
    /// SCTP (ports only: chunks are not read).
    Sctp {
        /// Source port.
        sp: u16,
        /// Destination port.
        dp: u16,
    },
    /// DCCP.
    Dccp {
        /// Source port.
        sp: u16,
        /// Destination port.
        dp: u16,
        /// Packet type (0 Request … 9 SyncAck).
        kind: u8,
    },
}

/// How an inner packet is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tunnel {
    /// VXLAN (UDP 4789/8472) with its network identifier.
    Vxlan {
        /// VXLAN network identifier.
        vni: u32,
    },
    /// GENEVE (UDP 6081).
    Geneve {
        /// Virtual network identifier.
        vni: u32,
        /// Bytes of options.
        options: usize,
        /// Protocol of the inner packet (EtherType).
        proto: u16,
    },
    /// GRE (IP protocol 47).
    Gre {
        /// Version (0 for plain GRE, 1 for PPTP).
        version: u8,
        /// Protocol of the inner packet (EtherType).
        proto: u16,
        /// Key, when present.
        key: Option<u32>,
        /// GRE payload length.
        len: usize,
    },
    /// ERSPAN mirrored frames inside GRE.
    Erspan {
        /// 2 or 3.
        version: u8,
        /// Mirroring session.
        session: u16,
    },
    /// IPv4 or IPv6 directly inside IPv4/IPv6 (IP protocol 4 or 41).
    IpInIp,
}

/// A number the reader does not understand, named in the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// A pcap link type layerlab does not read.
    Link(u32),
    /// An EtherType (or PPP / address-family protocol) layerlab does not read.
    EtherType(u16),
    /// An address family in a loopback or NFLOG header.
    Family(u32),
}

/// A frame summarised for one line of output and for flow tracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary<'a> {
    /// Captured length.
    pub len: usize,
    /// Length on the wire when the capture kept less (a snap length).
    pub wire_len: Option<u32>,
    /// Outer VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Outermost MPLS label, if labelled: `(label, labels in the stack)`.
    pub mpls: Option<(u32, u8)>,
    /// Network layer.
    pub net: Net,
    /// Transport layer.
    pub transport: Transport,
    /// Application bytes (for DNS/HTTP/WireGuard/ICMPv6 descriptions).
    pub app: &'a [u8],
    /// A tunnel and the summary of the packet inside it.
    pub inner: Option<(Tunnel, Box<Summary<'a>>)>,
    /// What could not be read, with its number.
    pub unknown: Option<Unknown>,
    /// Why the frame could not be read further, if it could not.
    pub error: Option<&'static str>,
}

impl<'a> Summary<'a> {
    fn empty(len: usize) -> Summary<'a> {
        Summary {
            len,
            wire_len: None,
            vlan: None,
            mpls: None,
            net: Net::None,
            transport: Transport::None,
            app: &[],
            inner: None,
            unknown: None,
            error: None,
        }
    }

    /// The innermost packet: through every tunnel.
    pub fn innermost(&self) -> &Summary<'a> {
        match &self.inner {
            Some((_, inner)) => inner.innermost(),
            None => self,
        }
    }

    /// The TCP/UDP 5-tuple `(proto, src, sport, dst, dport)` of the innermost packet.
    pub fn five_tuple(&self) -> Option<(u8, IpAddr, u16, IpAddr, u16)> {
        let s = self.innermost();
        let Net::Ip { src, dst, .. } = s.net else {
            return None;
        };
        match s.transport {
            Transport::Tcp { sp, dp, .. } => Some((6, src, sp, dst, dp)),
            Transport::Udp { sp, dp, .. } => Some((17, src, sp, dst, dp)),
            _ => None,
        }
    }
}

/// Summarises a frame. Never panics.
pub fn summarize(frame: &[u8], link: LinkType) -> Summary<'_> {
    let mut s = Summary::empty(frame.len());
    s.link(frame, link, 0);
    s
}

/// Summarises a captured packet, knowing how much of it the capture cut off.
pub fn summarize_packet<'a>(p: &CapturedPacket<'a>) -> Summary<'a> {
    let mut s = summarize(p.data, p.link);
    if p.is_cut() {
        s.wire_len = Some(p.orig_len);
    }
    s
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Most tunnels followed inside one another.
const MAX_DEPTH: u8 = 8;

impl<'a> Summary<'a> {
    fn link(&mut self, frame: &'a [u8], link: LinkType, depth: u8) {
        const TRUNC: &str = "truncated link-layer header";
        match link {
            LinkType::Ethernet => self.ethernet(frame, depth),
            LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => self.ip(frame, depth),
            LinkType::LinuxSll => match be16(frame, 14) {
                Some(et) => self.ether_type(et, &frame[16..], depth),
                None => self.error = Some(TRUNC),
            },
            LinkType::LinuxSll2 => match (be16(frame, 0), frame.get(20..)) {
                (Some(et), Some(rest)) => self.ether_type(et, rest, depth),
                _ => self.error = Some(TRUNC),
            },
            LinkType::Null | LinkType::Loop => {
                let Some(b) = frame.get(..4) else {
                    return self.error = Some(TRUNC);
                };
                let raw = [b[0], b[1], b[2], b[3]];
                // NULL is in the writer's byte order: a family is small, so
                // whichever order gives a small number is the right one.
                let family = if link == LinkType::Loop || b[0] == 0 && b[1] == 0 {
                    u32::from_be_bytes(raw)
                } else {
                    u32::from_le_bytes(raw)
                };
                match family {
                    // AF_INET; AF_INET6 on the BSDs, macOS and Linux.
                    2 | 24 | 28 | 30 | 10 => self.ip(&frame[4..], depth),
                    f => self.unknown = Some(Unknown::Family(f)),
                }
            }
            LinkType::Nflog => self.nflog(frame, depth),
            LinkType::Ppp => {
                let rest = match frame {
                    [0xff, 0x03, rest @ ..] => rest,
                    rest => rest,
                };
                match be16(rest, 0) {
                    Some(0x0021) => self.ip(&rest[2..], depth),
                    Some(0x0057) => self.ip(&rest[2..], depth),
                    Some(0x0281) => self.mpls(&rest[2..], depth),
                    Some(p) => self.unknown = Some(Unknown::EtherType(p)),
                    None => self.error = Some(TRUNC),
                }
            }
            LinkType::CiscoHdlc => match be16(frame, 2) {
                Some(et) => self.ether_type(et, &frame[4..], depth),
                None => self.error = Some(TRUNC),
            },
            LinkType::Unsupported(n) => self.unknown = Some(Unknown::Link(n)),
        }
    }

    fn ethernet(&mut self, frame: &'a [u8], depth: u8) {
        match be16(frame, 12) {
            Some(et) if frame.len() >= 14 => self.ether_type(et, &frame[14..], depth),
            _ => self.error = Some("truncated link-layer header"),
        }
    }

    /// NFLOG: a 4-byte header, then type-length-value attributes in host
    /// byte order; attribute 9 holds the packet.
    fn nflog(&mut self, frame: &'a [u8], depth: u8) {
        let Some(&family) = frame.first().filter(|_| frame.len() >= 4) else {
            return self.error = Some("truncated NFLOG header");
        };
        let mut o = 4;
        while o + 4 <= frame.len() {
            let len = u16::from_le_bytes([frame[o], frame[o + 1]]) as usize;
            let kind = u16::from_le_bytes([frame[o + 2], frame[o + 3]]);
            if len < 4 {
                break;
            }
            if kind == 9 {
                let end = (o + len).min(frame.len());
                return match family {
                    2 | 10 => self.ip(&frame[o + 4..end], depth),
                    f => self.unknown = Some(Unknown::Family(u32::from(f))),
                };
            }
            o += len.div_ceil(4) * 4;
        }
        self.error = Some("NFLOG record without a packet");
    }

    fn ether_type(&mut self, et: u16, data: &'a [u8], depth: u8) {
        match et {
            0x0800 | 0x86dd => self.ip(data, depth),
            0x0806 => self.arp(data),
            0x8100 | 0x88a8 | 0x9100 => match be16(data, 2) {
                Some(inner) => {
                    if self.vlan.is_none() {
                        self.vlan = Some(u16::from_be_bytes([data[0], data[1]]) & 0x0fff);
                    }
                    if depth < MAX_DEPTH {
                        self.ether_type(inner, &data[4..], depth + 1);
                    }
                }
                None => self.error = Some("truncated VLAN tag"),
            },
            0x8847 | 0x8848 => self.mpls(data, depth),
            0x6558 => self.ethernet(data, depth),
            _ => self.unknown = Some(Unknown::EtherType(et)),
        }
    }

    fn mpls(&mut self, data: &'a [u8], depth: u8) {
        let mut o = 0;
        let mut labels = 0u8;
        loop {
            let Some(entry) = be32(data, o) else {
                return self.error = Some("truncated MPLS label stack");
            };
            if labels == 0 {
                self.mpls = Some((entry >> 12, 1));
            }
            labels = labels.saturating_add(1);
            o += 4;
            if entry & 0x100 != 0 {
                break;
            }
        }
        if let Some(m) = &mut self.mpls {
            m.1 = labels;
        }
        // No protocol field under the stack: the first nibble tells IPv4 from IPv6.
        match data.get(o).map(|b| b >> 4) {
            Some(4 | 6) => self.ip(&data[o..], depth),
            Some(_) => self.error = Some("MPLS payload is neither IPv4 nor IPv6"),
            None => self.error = Some("MPLS label stack without payload"),
        }
    }

    fn arp(&mut self, a: &'a [u8]) {
        // Ethernet/IPv4 ARP: hardware and protocol sizes 6 and 4.
        if a.len() < 28 || a[4] != 6 || a[5] != 4 {
            self.error = Some("ARP for other than Ethernet and IPv4, or truncated");
            return;
        }
        let four = |x: &[u8]| <[u8; 4]>::try_from(x).unwrap_or([0; 4]);
        self.net = Net::Arp {
            op: u16::from_be_bytes([a[6], a[7]]),
            sha: <[u8; 6]>::try_from(&a[8..14]).unwrap_or([0; 6]),
            spa: four(&a[14..18]),
            tpa: four(&a[24..28]),
        };
    }

    fn ip(&mut self, data: &'a [u8], depth: u8) {
        let Ok((ip, _ext_err)) = LaxIpSlice::from_slice(data) else {
            self.error = Some("truncated or malformed network header");
            return;
        };
        let pl = ip.payload();
        let off = pl.payload.as_ptr() as usize - data.as_ptr() as usize;
        // What the IP header says follows, as tcpdump counts it, even where
        // the capture kept less.
        let declared = match &ip {
            LaxIpSlice::Ipv4(v4) => {
                let total = usize::from(v4.header().total_len());
                if total >= off {
                    total - off
                } else {
                    pl.payload.len()
                }
            }
            LaxIpSlice::Ipv6(v6) if v6.header().payload_length() > 0 => {
                (40 + usize::from(v6.header().payload_length())).saturating_sub(off)
            }
            _ => pl.payload.len(),
        };
        // A non-first fragment has no transport header to read.
        let (ttl, fragment) = match &ip {
            LaxIpSlice::Ipv4(v4) => (
                v4.header().ttl(),
                v4.header().fragments_offset().value() > 0,
            ),
            LaxIpSlice::Ipv6(v6) => (
                v6.header().hop_limit(),
                pl.fragmented && ipv6_later_fragment(data),
            ),
        };
        let proto = pl.ip_number.0;
        self.net = Net::Ip {
            src: ip.source_addr(),
            dst: ip.destination_addr(),
            ttl,
            proto,
            fragment,
        };
        if fragment {
            return;
        }
        self.transport_layer(proto, pl.payload, declared, depth);
    }

    fn transport_layer(&mut self, proto: u8, t: &'a [u8], declared: usize, depth: u8) {
        const TRUNC: &str = "truncated transport header";
        match proto {
            6 => {
                let Some(hlen) = t.get(12).map(|b| usize::from(b >> 4) * 4) else {
                    return self.error = Some(TRUNC);
                };
                if t.len() < 20 {
                    return self.error = Some(TRUNC);
                }
                self.transport = Transport::Tcp {
                    sp: u16::from_be_bytes([t[0], t[1]]),
                    dp: u16::from_be_bytes([t[2], t[3]]),
                    seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                    ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
                    flags: t[13],
                    win: u16::from_be_bytes([t[14], t[15]]),
                    len: declared.saturating_sub(hlen),
                };
                self.app = t.get(hlen.max(20)..).unwrap_or(&[]);
            }
            17 | 136 => {
                if t.len() < 8 {
                    return self.error = Some(TRUNC);
                }
                let (sp, dp) = (
                    u16::from_be_bytes([t[0], t[1]]),
                    u16::from_be_bytes([t[2], t[3]]),
                );
                let ulen = usize::from(u16::from_be_bytes([t[4], t[5]]));
                self.transport = Transport::Udp {
                    sp,
                    dp,
                    len: if ulen >= 8 {
                        ulen - 8
                    } else {
                        declared.saturating_sub(8)
                    },
                };
                self.app = &t[8..];
                if depth < MAX_DEPTH {
                    self.udp_tunnel(sp, dp, depth);
                }
            }
            1 | 58 => {
                if t.len() < 2 {
                    return self.error = Some(TRUNC);
                }
                self.transport = if proto == 1 {
                    Transport::Icmp {
                        t: t[0],
                        code: t[1],
                    }
                } else {
                    Transport::Icmpv6 {
                        t: t[0],
                        code: t[1],
                    }
                };
                self.app = t.get(4..).unwrap_or(&[]);
            }
            132 => match (be16(t, 0), be16(t, 2)) {
                (Some(sp), Some(dp)) => {
                    self.transport = Transport::Sctp { sp, dp };
                    self.app = t.get(12..).unwrap_or(&[]);
                }
                _ => self.error = Some(TRUNC),
            },
            33 => match (be16(t, 0), be16(t, 2), t.get(8)) {
                (Some(sp), Some(dp), Some(b)) => {
                    self.transport = Transport::Dccp {
                        sp,
                        dp,
                        kind: (b >> 1) & 0x0f,
                    }
                }
                _ => self.error = Some(TRUNC),
            },
            4 | 41 if depth < MAX_DEPTH => {
                let mut inner = Summary::empty(t.len());
                inner.ip(t, depth + 1);
                self.inner = Some((Tunnel::IpInIp, Box::new(inner)));
            }
            47 if depth < MAX_DEPTH => self.gre(t, declared, depth),
            _ => {}
        }
    }

    fn gre(&mut self, g: &'a [u8], declared: usize, depth: u8) {
        let (Some(flags), Some(proto)) = (be16(g, 0), be16(g, 2)) else {
            return self.error = Some("truncated GRE header");
        };
        let version = (flags & 7) as u8;
        let mut o = 4;
        if flags & 0x8000 != 0 {
            o += 4; // checksum + reserved
        }
        let key = if flags & 0x2000 != 0 {
            o += 4;
            be32(g, o - 4)
        } else {
            None
        };
        if flags & 0x1000 != 0 {
            o += 4; // sequence number
        }
        if version == 1 && flags & 0x0080 != 0 {
            o += 4; // PPTP acknowledgment number
        }
        let Some(payload) = g.get(o..) else {
            return self.error = Some("truncated GRE header");
        };
        let mut inner = Summary::empty(payload.len());
        let tunnel = match proto {
            // ERSPAN type II (8-byte header) and III (12 bytes, more with the O flag).
            0x88be | 0x22eb => {
                let v3 = proto == 0x22eb;
                let hdr = if v3 && payload.get(11).is_some_and(|b| b & 1 != 0) {
                    20
                } else if v3 {
                    12
                } else {
                    8
                };
                let session = be16(payload, 2).unwrap_or(0) & 0x03ff;
                match payload.get(hdr..) {
                    Some(frame) => inner.ethernet(frame, depth + 1),
                    None => inner.error = Some("truncated ERSPAN header"),
                }
                Tunnel::Erspan {
                    version: if v3 { 3 } else { 2 },
                    session,
                }
            }
            0x880b => {
                // PPTP carries PPP.
                inner.link(payload, LinkType::Ppp, depth + 1);
                Tunnel::Gre {
                    version,
                    proto,
                    key,
                    len: declared.saturating_sub(o),
                }
            }
            _ => {
                inner.ether_type(proto, payload, depth + 1);
                Tunnel::Gre {
                    version,
                    proto,
                    key,
                    len: declared.saturating_sub(o),
                }
            }
        };
        self.inner = Some((tunnel, Box::new(inner)));
    }

    fn udp_tunnel(&mut self, sp: u16, dp: u16, depth: u8) {
        let app = self.app;
        let port = |p: u16| sp == p || dp == p;
        if (port(4789) || port(8472)) && app.len() >= 8 && app[0] & 0x08 != 0 {
            let vni = u32::from_be_bytes([0, app[4], app[5], app[6]]);
            let mut inner = Summary::empty(app.len() - 8);
            inner.ethernet(&app[8..], depth + 1);
            self.inner = Some((Tunnel::Vxlan { vni }, Box::new(inner)));
        } else if port(6081) && app.len() >= 8 && app[0] >> 6 == 0 {
            let options = usize::from(app[0] & 0x3f) * 4;
            let proto = u16::from_be_bytes([app[2], app[3]]);
            let vni = u32::from_be_bytes([0, app[4], app[5], app[6]]);
            let Some(payload) = app.get(8 + options..) else {
                return self.error = Some("truncated GENEVE options");
            };
            let mut inner = Summary::empty(payload.len());
            inner.ether_type(proto, payload, depth + 1);
            self.inner = Some((
                Tunnel::Geneve {
                    vni,
                    options,
                    proto,
                },
                Box::new(inner),
            ));
        }
    }
}

/// Whether an IPv6 packet's fragment header says it is not the first
/// fragment. Walked here: iterating etherparse's lax extension slice hit an
/// out-of-bounds read in etherparse 0.21 under cargo fuzz.
fn ipv6_later_fragment(data: &[u8]) -> bool {
    let mut next = data.get(6).copied();
    let mut o = 40;
    for _ in 0..8 {
        let len = match next {
            Some(0 | 43 | 60) => data.get(o + 1).map(|l| (usize::from(*l) + 1) * 8),
            Some(51) => data.get(o + 1).map(|l| (usize::from(*l) + 2) * 4),
            Some(44) => return be16(data, o + 2).is_some_and(|v| v >> 3 != 0),
            _ => return false,
        };
        let Some(len) = len else { return false };
        next = data.get(o).copied();
        o += len;
    }
    false
}

/// An address, written without the formatter's padding machinery (the
/// summary of millions of packets spends much of its time here).
struct Addr(IpAddr);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => {
                let mut buf = [0u8; 15];
                let mut n = 0;
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        buf[n] = b'.';
                        n += 1;
                    }
                    if o >= 100 {
                        buf[n] = b'0' + o / 100;
                        n += 1;
                    }
                    if o >= 10 {
                        buf[n] = b'0' + o / 10 % 10;
                        n += 1;
                    }
                    buf[n] = b'0' + o % 10;
                    n += 1;
                }
                // Only ASCII digits and dots were written.
                f.write_str(std::str::from_utf8(&buf[..n]).unwrap_or("?"))
            }
            IpAddr::V6(v6) => fmt::Display::fmt(&v6, f),
        }
    }
}

struct Endpoint(IpAddr, u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", Addr(self.0), self.1)
    }
}

/// TCP flags as tcpdump writes them (`S.`, `P.`, `F.`), without allocating.
struct Flags(u8);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 8];
        let mut n = 0;
        for (bit, c) in [
            (0x01, b'F'),
            (0x02, b'S'),
            (0x04, b'R'),
            (0x08, b'P'),
            (0x20, b'U'),
            (0x40, b'E'),
            (0x80, b'W'),
            (0x10, b'.'),
        ] {
            if self.0 & bit != 0 {
                buf[n] = c;
                n += 1;
            }
        }
        if n == 0 {
            return f.write_str("none");
        }
        f.write_str(std::str::from_utf8(&buf[..n]).unwrap_or("?"))
    }
}

/// WireGuard message type from its first 4 bytes (type, then three zero bytes).
fn wireguard(app: &[u8]) -> Option<&'static str> {
    let kind = match app {
        [1, 0, 0, 0, ..] if app.len() == 148 => "handshake initiation",
        [2, 0, 0, 0, ..] if app.len() == 92 => "handshake response",
        [3, 0, 0, 0, ..] if app.len() == 64 => "cookie reply",
        [4, 0, 0, 0, ..] if app.len() >= 32 => "transport data",
        _ => return None,
    };
    Some(kind)
}

fn dccp_type(kind: u8) -> &'static str {
    match kind {
        0 => "Request",
        1 => "Response",
        2 => "Data",
        3 => "Ack",
        4 => "DataAck",
        5 => "CloseReq",
        6 => "Close",
        7 => "Reset",
        8 => "Sync",
        9 => "SyncAck",
        _ => "Invalid",
    }
}

fn ip_proto_name(f: &mut fmt::Formatter<'_>, proto: u8) -> fmt::Result {
    match names::ip_protocol(proto) {
        "unknown" => write!(f, "ip-proto-{proto}"),
        n => f.write_str(n),
    }
}

impl fmt::Display for Summary<'_> {
    /// tcpdump `-nn` style: `IP 10.0.0.1.43210 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(vid) = self.vlan {
            write!(f, "vlan {vid}, ")?;
        }
        if let Some((label, n)) = self.mpls {
            write!(f, "MPLS (label {label}")?;
            if n > 1 {
                write!(f, ", {n} labels")?;
            }
            f.write_str(") ")?;
        }
        match self.net {
            Net::None => match self.unknown {
                Some(Unknown::Link(n)) => write!(
                    f,
                    "link type {n} (not read by layerlab), length {}",
                    self.len
                )?,
                Some(Unknown::EtherType(et)) => {
                    let name = names::ether_type(et);
                    write!(f, "ethertype 0x{et:04x}")?;
                    if name != "unknown" {
                        write!(f, " ({name})")?;
                    }
                    write!(f, " (not read by layerlab), length {}", self.len)?;
                }
                Some(Unknown::Family(n)) => write!(
                    f,
                    "address family {n} (not read by layerlab), length {}",
                    self.len
                )?,
                None => f.write_str(self.error.unwrap_or("unknown frame"))?,
            },
            Net::Arp { op, spa, tpa, sha } => {
                let (s, t) = (Ipv4Addr::from(spa), Ipv4Addr::from(tpa));
                match op {
                    1 => write!(f, "ARP, Request who-has {t} tell {s}")?,
                    2 => write!(f, "ARP, Reply {s} is-at {}", names::mac(&sha))?,
                    o => write!(f, "ARP, operation {o}")?,
                }
            }
            Net::Ip {
                src,
                dst,
                ttl,
                proto,
                fragment,
            } => {
                let ip = if src.is_ipv4() { "IP" } else { "IP6" };
                match self.transport {
                    Transport::Tcp {
                        sp,
                        dp,
                        flags,
                        seq,
                        ack,
                        win,
                        len,
                    } => {
                        write!(
                            f,
                            "{ip} {} > {}: Flags [{}], seq {seq}",
                            Endpoint(src, sp),
                            Endpoint(dst, dp),
                            Flags(flags)
                        )?;
                        if flags & 0x10 != 0 {
                            write!(f, ", ack {ack}")?;
                        }
                        write!(f, ", win {win}, length {len}")?;
                        if let Some(line) = http::first_line(self.app) {
                            write!(f, ": HTTP: {line}")?;
                        }
                    }
                    Transport::Udp { sp, dp, len } => {
                        write!(f, "{ip} {} > {}: ", Endpoint(src, sp), Endpoint(dst, dp))?;
                        if let Some((tunnel, inner)) = &self.inner {
                            match tunnel {
                                Tunnel::Geneve { vni, options, .. } => {
                                    write!(f, "Geneve, vni 0x{vni:x}")?;
                                    if *options > 0 {
                                        write!(f, ", options [{options} bytes]")?;
                                    }
                                    write!(f, ": {inner}")?;
                                }
                                Tunnel::Vxlan { vni } => write!(f, "VXLAN, vni {vni}: {inner}")?,
                                _ => write!(f, "{inner}")?,
                            }
                        } else if let Some(m) = [sp, dp]
                            .iter()
                            .any(|p| *p == 53 || *p == 5353)
                            .then(|| dns::parse(self.app))
                            .flatten()
                        {
                            write!(f, "DNS {}", m.summary())?;
                        } else if let Some(w) = wireguard(self.app) {
                            write!(f, "WireGuard {w}, UDP, length {len}")?;
                        } else {
                            write!(f, "UDP, length {len}")?;
                        }
                    }
                    Transport::Sctp { sp, dp } => {
                        write!(
                            f,
                            "{ip} {} > {}: sctp",
                            Endpoint(src, sp),
                            Endpoint(dst, dp)
                        )?;
                        if let Some(&chunk) = self.app.first() {
                            write!(f, " (chunk type {chunk})")?;
                        }
                    }
                    Transport::Dccp { sp, dp, kind } => write!(
                        f,
                        "{ip} {} > {}: DCCP-{}",
                        Endpoint(src, sp),
                        Endpoint(dst, dp),
                        dccp_type(kind)
                    )?,
                    Transport::Icmp { t, code } => {
                        write!(
                            f,
                            "{ip} {} > {}: ICMP {}",
                            Addr(src),
                            Addr(dst),
                            names::icmpv4_meaning(t, code)
                        )?;
                    }
                    Transport::Icmpv6 { t, code } => {
                        write!(
                            f,
                            "{ip} {src} > {dst}: ICMP6 {}",
                            names::icmpv6_meaning(t, code)
                        )?;
                        // Neighbor discovery names the address it is about.
                        if let (135 | 136, Some(target)) = (t, self.app.get(4..20)) {
                            let target =
                                Ipv6Addr::from(<[u8; 16]>::try_from(target).unwrap_or([0; 16]));
                            let word = if t == 135 { "who has" } else { "tgt is" };
                            write!(f, ", {word} {target}")?;
                        }
                    }
                    Transport::None if fragment => {
                        write!(f, "{ip} {} > {}: fragment, proto ", Addr(src), Addr(dst))?;
                        ip_proto_name(f, proto)?;
                    }
                    Transport::None => {
                        write!(f, "{ip} {} > {}: ", Addr(src), Addr(dst))?;
                        match &self.inner {
                            Some((
                                Tunnel::Gre {
                                    version,
                                    proto,
                                    key,
                                    len,
                                },
                                inner,
                            )) => {
                                write!(f, "GREv{version}")?;
                                if let Some(k) = key {
                                    write!(f, ", key=0x{k:x}")?;
                                }
                                write!(
                                    f,
                                    ", proto {} (0x{proto:04x}), length {len}: {inner}",
                                    names::ether_type(*proto)
                                )?;
                            }
                            Some((Tunnel::Erspan { version, session }, inner)) => {
                                write!(
                                    f,
                                    "GREv0, ERSPAN type {}, session {session}: {inner}",
                                    if *version == 3 { "III" } else { "II" }
                                )?;
                            }
                            Some((_, inner)) => write!(f, "{inner}")?,
                            None => ip_proto_name(f, proto)?,
                        }
                        match (self.error, self.wire_len) {
                            // A snap length cut it: normal, and not an error in the packet.
                            (Some(_), Some(wire)) => {
                                write!(f, " [captured {} of {wire} bytes]", self.len)?
                            }
                            (Some(e), None) => write!(f, " [{e}]")?,
                            _ => {}
                        }
                    }
                }
                write!(f, ", ttl {ttl}")?;
                return Ok(());
            }
        }
        if let (Some(wire), Some(_)) = (self.wire_len, self.error) {
            write!(f, " [captured {} of {wire} bytes]", self.len)?;
        }
        Ok(())
    }
}
