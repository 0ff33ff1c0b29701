//! One-line packet summaries, like `tcpdump -nn`, without building the
//! field tree: this is the hot path of `layerlab packet summary` over
//! captures of millions of packets, so it borrows from the frame and
//! allocates nothing until it is written out.

use super::names::{self, LinkType};
use super::{dns, http};
use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use std::fmt;
use std::net::IpAddr;

/// The network layer of a frame, as far as a summary needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// Nothing readable at layer 3.
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
        /// Transport protocol number.
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
        /// Payload length.
        len: usize,
    },
    /// A UDP datagram.
    Udp {
        /// Source port.
        sp: u16,
        /// Destination port.
        dp: u16,
        /// Payload length.
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
}

/// A frame summarised for one line of output and for flow tracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary<'a> {
    /// Captured length.
    pub len: usize,
    /// Outer VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Network layer.
    pub net: Net,
    /// Transport layer.
    pub transport: Transport,
    /// Application bytes (for DNS/HTTP descriptions).
    pub app: &'a [u8],
    /// For VXLAN: the VNI and the inner frame's summary.
    pub inner: Option<(u32, Box<Summary<'a>>)>,
    /// Why the frame could not be read further, if it could not.
    pub error: Option<&'static str>,
}

impl Summary<'_> {
    /// The TCP/UDP 5-tuple `(proto, src, sport, dst, dport)` of the innermost packet.
    pub fn five_tuple(&self) -> Option<(u8, IpAddr, u16, IpAddr, u16)> {
        if let Some((_, inner)) = &self.inner {
            return inner.five_tuple();
        }
        let Net::Ip { src, dst, .. } = self.net else {
            return None;
        };
        match self.transport {
            Transport::Tcp { sp, dp, .. } => Some((6, src, sp, dst, dp)),
            Transport::Udp { sp, dp, .. } => Some((17, src, sp, dst, dp)),
            _ => None,
        }
    }
}

/// Summarises a frame. Never panics.
pub fn summarize(frame: &[u8], link: LinkType) -> Summary<'_> {
    summarize_depth(frame, link, 0)
}

fn summarize_depth(frame: &[u8], link: LinkType, depth: u8) -> Summary<'_> {
    let mut s = Summary {
        len: frame.len(),
        vlan: None,
        net: Net::None,
        transport: Transport::None,
        app: &[],
        inner: None,
        error: None,
    };
    let parsed = match link {
        LinkType::Ethernet => LaxSlicedPacket::from_ethernet(frame).ok(),
        LinkType::RawIp => LaxSlicedPacket::from_ip(frame).ok(),
        LinkType::LinuxSll2 => (frame.len() >= 20).then(|| {
            let et = u16::from_be_bytes([frame[0], frame[1]]);
            LaxSlicedPacket::from_ether_type(etherparse::EtherType(et), &frame[20..])
        }),
        LinkType::Unsupported(_) => None,
        LinkType::LinuxSll => (frame.len() >= 16).then(|| {
            let et = u16::from_be_bytes([frame[14], frame[15]]);
            LaxSlicedPacket::from_ether_type(etherparse::EtherType(et), &frame[16..])
        }),
    };
    let Some(p) = parsed else {
        s.error = Some("truncated link-layer header");
        return s;
    };
    if let Some(etherparse::LaxLinkExtSlice::Vlan(v)) = p.link_exts.first() {
        s.vlan = Some(v.vlan_identifier().value());
    }
    match &p.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            s.net = Net::Ip {
                src: IpAddr::from(h.source()),
                dst: IpAddr::from(h.destination()),
                ttl: h.ttl(),
                proto: h.protocol().0,
                fragment: h.fragments_offset().value() > 0,
            };
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            s.net = Net::Ip {
                src: IpAddr::from(h.source()),
                dst: IpAddr::from(h.destination()),
                ttl: h.hop_limit(),
                proto: ip.payload().ip_number.0,
                fragment: ip.payload().fragmented && ip.payload().payload.is_empty(),
            };
        }
        Some(LaxNetSlice::Arp(a)) => {
            let four = |x: &[u8]| <[u8; 4]>::try_from(x).unwrap_or([0; 4]);
            s.net = Net::Arp {
                op: a.operation().0,
                spa: four(a.sender_protocol_addr()),
                tpa: four(a.target_protocol_addr()),
                sha: <[u8; 6]>::try_from(a.sender_hw_addr()).unwrap_or([0; 6]),
            };
        }
        None => {}
    }
    match &p.transport {
        Some(TransportSlice::Tcp(t)) => {
            s.transport = Transport::Tcp {
                sp: t.source_port(),
                dp: t.destination_port(),
                flags: t.header_slice()[13],
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                win: t.window_size(),
                len: t.payload().len(),
            };
            s.app = t.payload();
        }
        Some(TransportSlice::Udp(u)) => {
            let (sp, dp) = (u.source_port(), u.destination_port());
            s.transport = Transport::Udp {
                sp,
                dp,
                len: u.payload().len(),
            };
            s.app = u.payload();
            let vxlan_port = [4789, 8472].contains(&dp) || [4789, 8472].contains(&sp);
            if vxlan_port && depth < 8 && s.app.len() >= 8 && s.app[0] & 0x08 != 0 {
                let vni = u32::from_be_bytes([0, s.app[4], s.app[5], s.app[6]]);
                s.inner = Some((
                    vni,
                    Box::new(summarize_depth(&s.app[8..], LinkType::Ethernet, depth + 1)),
                ));
            }
        }
        Some(TransportSlice::Icmpv4(i)) => {
            s.transport = Transport::Icmp {
                t: i.type_u8(),
                code: i.code_u8(),
            }
        }
        Some(TransportSlice::Icmpv6(i)) => {
            s.transport = Transport::Icmpv6 {
                t: i.type_u8(),
                code: i.code_u8(),
            }
        }
        Some(TransportSlice::Igmp(_)) | None => {}
    }
    if p.stop_err.is_some() && s.transport == Transport::None && !matches!(s.net, Net::Arp { .. }) {
        s.error = Some(if s.net == Net::None {
            "truncated or malformed network header"
        } else {
            "truncated transport header"
        });
    }
    s
}

struct Endpoint(IpAddr, u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl fmt::Display for Summary<'_> {
    /// tcpdump `-nn` style: `IP 10.0.0.1.43210 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(vid) = self.vlan {
            write!(f, "vlan {vid}, ")?;
        }
        match self.net {
            Net::None => write!(f, "{}", self.error.unwrap_or("unknown frame"))?,
            Net::Arp { op, spa, tpa, sha } => {
                let (s, t) = (std::net::Ipv4Addr::from(spa), std::net::Ipv4Addr::from(tpa));
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
                            names::tcp_flags_short(flags)
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
                        if let Some((vni, inner)) = &self.inner {
                            write!(f, "VXLAN, vni {vni}: {inner}")?;
                        } else if let Some(m) = [sp, dp]
                            .iter()
                            .any(|p| *p == 53 || *p == 5353)
                            .then(|| dns::parse(self.app))
                            .flatten()
                        {
                            write!(f, "DNS {}", m.summary())?;
                        } else {
                            write!(f, "UDP, length {len}")?;
                        }
                    }
                    Transport::Icmp { t, code } => {
                        write!(
                            f,
                            "{ip} {src} > {dst}: ICMP {}",
                            names::icmpv4_meaning(t, code)
                        )?;
                    }
                    Transport::Icmpv6 { t, code } => {
                        write!(
                            f,
                            "{ip} {src} > {dst}: ICMP6 {}",
                            names::icmpv6_meaning(t, code)
                        )?;
                    }
                    Transport::None if fragment => write!(
                        f,
                        "{ip} {src} > {dst}: fragment, proto {}",
                        names::ip_protocol(proto)
                    )?,
                    Transport::None => {
                        write!(f, "{ip} {src} > {dst}: {}", names::ip_protocol(proto))?;
                        if let Some(e) = self.error {
                            write!(f, " [{e}]")?;
                        }
                    }
                }
                write!(f, ", ttl {ttl}")?;
            }
        }
        Ok(())
    }
}
