//! Packet journeys: a topology and the hops one packet (and its reply)
//! makes through it, with the real frame bytes at every hop.
//!
//! Journeys are authored as TOML. Each hop describes its packet as a
//! layered spec that inherits everything from the previous hop, so an
//! author writes only what changes (a DNAT rewrites `ip.dst`; a router
//! lowers `ip.ttl` and swaps `eth`). Frames are built with etherparse's
//! `PacketBuilder` (valid checksums), and which fields changed is computed
//! by diffing the dissections of consecutive frames: the marks can never
//! disagree with the bytes. The author's own list of changes is checked
//! against that diff, so an explanation can't silently go stale.

use crate::diag::{Diagnostic, FileDiags};
use crate::packet::{self, Dissection, LinkType};
use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, PacketBuilder, TcpOptionElement,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// A journey, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journey {
    /// Unique id (`dnat-conntrack`).
    pub id: String,
    /// Title.
    pub title: String,
    /// What the learner will see, in a sentence or two.
    pub summary: String,
    /// Places the packet passes.
    pub nodes: Vec<Node>,
    /// Wires and paths between places.
    pub links: Vec<Link>,
    /// The packet's stops, in order.
    pub hops: Vec<Hop>,
}

/// A place in the topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Id, referenced by links and hops.
    pub id: String,
    /// Label shown on the diagram.
    pub label: String,
    /// What it is.
    pub kind: NodeKind,
    /// The node that contains it (a pod's namespace inside a node).
    #[serde(default)]
    pub parent: Option<String>,
}

/// Kinds of place, which renderers draw differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A machine (or a network namespace playing one).
    Host,
    /// A network namespace.
    Namespace,
    /// A Kubernetes pod.
    Pod,
    /// A Kubernetes node.
    KubeNode,
    /// A network interface.
    Interface,
    /// A Linux bridge.
    Bridge,
    /// A router or the routing decision.
    Router,
    /// A netfilter hook or chain.
    Netfilter,
    /// The connection tracking table.
    Conntrack,
    /// kube-proxy's rules.
    KubeProxy,
    /// A tunnel endpoint (VXLAN).
    Tunnel,
    /// An ingress controller or gateway.
    Ingress,
    /// A DNS server.
    Dns,
    /// Anything outside the cluster.
    External,
}

/// A wire or path between two nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// From node id.
    pub from: String,
    /// To node id.
    pub to: String,
    /// Label (`veth`, `VXLAN 4789`).
    #[serde(default)]
    pub label: String,
}

/// One stop of the packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// Node id where the packet is.
    pub at: String,
    /// Exactly where: `eth0 of client`, `PREROUTING (nat)`, `conntrack`.
    pub place: String,
    /// Why the packet is here and what happened to it, in a sentence or two.
    pub explain: String,
    /// What became of it: `forwarded`, `delivered`, `dropped`...
    #[serde(default)]
    pub verdict: Option<String>,
    /// The frame as it is at this point.
    pub frame: Vec<u8>,
    /// How to read the frame.
    pub link: LinkType,
    /// Field paths (`ipv4.dst`) that differ from the previous hop's frame,
    /// plus `+layer`/`-layer` when a header was added or removed.
    pub changed: Vec<String>,
}

impl Journey {
    /// Dissects the frame at a hop.
    pub fn dissect(&self, hop: usize) -> Option<Dissection> {
        self.hops
            .get(hop)
            .map(|h| packet::dissect(&h.frame, h.link))
    }

    /// A capture file (pcap or pcapng bytes) as a journey of at most `max`
    /// hops, with a note for the learner when not all of it is shown (cut
    /// short or damaged). The error says why nothing can be shown.
    pub fn from_capture_file(
        id: &str,
        name: &str,
        bytes: &[u8],
        max: usize,
    ) -> Result<(Journey, Option<String>), String> {
        let reader = packet::CaptureReader::new(bytes).map_err(|e| e.to_string())?;
        let mut packets = Vec::new();
        let mut total = 0;
        let mut note = None;
        for p in reader {
            match p {
                Ok(p) => {
                    total += 1;
                    if packets.len() < max {
                        packets.push(p);
                    }
                }
                Err(e) if packets.is_empty() => return Err(e.to_string()),
                Err(e) => {
                    note = Some(format!(
                        "The {e}; showing the {} packets before it.",
                        packets.len()
                    ));
                    break;
                }
            }
        }
        if packets.is_empty() {
            return Err("the capture has no packets".to_string());
        }
        if total > packets.len() {
            note = Some(format!(
                "Showing the first {} of {total} packets: cut the capture down to see the rest.",
                packets.len()
            ));
        }
        Ok((Journey::from_capture(id, name, &packets), note))
    }

    /// Builds a journey from captured frames: one hop per packet, a node per address.
    pub fn from_capture(id: &str, title: &str, packets: &[packet::CapturedPacket<'_>]) -> Journey {
        let mut nodes: Vec<Node> = Vec::new();
        let mut links: Vec<Link> = Vec::new();
        let mut hops = Vec::new();
        let mut previous: Option<Dissection> = None;
        for p in packets {
            let s = packet::summarize(p.data, p.link);
            let (src, dst) = match s.net {
                packet::summary::Net::Ip { src, dst, .. } => (src.to_string(), dst.to_string()),
                packet::summary::Net::Arp { spa, tpa, .. } => {
                    (IpAddr::from(spa).to_string(), IpAddr::from(tpa).to_string())
                }
                packet::summary::Net::None => ("?".to_string(), "?".to_string()),
            };
            for addr in [&src, &dst] {
                if !nodes.iter().any(|n| &n.id == addr) {
                    nodes.push(Node {
                        id: addr.clone(),
                        label: addr.clone(),
                        kind: NodeKind::Host,
                        parent: None,
                    });
                }
            }
            if !links
                .iter()
                .any(|l| (l.from == src && l.to == dst) || (l.from == dst && l.to == src))
            {
                links.push(Link {
                    from: src.clone(),
                    to: dst.clone(),
                    label: String::new(),
                });
            }
            let d = packet::dissect(p.data, p.link);
            let changed = previous
                .as_ref()
                .map(|prev| diff(prev, &d))
                .unwrap_or_default();
            hops.push(Hop {
                at: src.clone(),
                place: format!("packet {} in the capture", p.number),
                explain: s.to_string(),
                verdict: None,
                frame: p.data.to_vec(),
                link: p.link,
                changed,
            });
            previous = Some(d);
        }
        Journey {
            id: id.into(),
            title: title.into(),
            summary: format!("{} captured packets", hops.len()),
            nodes,
            links,
            hops,
        }
    }
}

/// Field paths that differ between two dissections, and layers added or removed.
pub fn diff(before: &Dissection, after: &Dissection) -> Vec<String> {
    let a = before.field_paths();
    let b = after.field_paths();
    let mut out = Vec::new();
    let layers = |d: &Dissection| -> BTreeSet<String> { d.layer_keys().into_iter().collect() };
    let (la, lb) = (layers(before), layers(after));
    out.extend(lb.difference(&la).map(|l| format!("+{l}")));
    out.extend(la.difference(&lb).map(|l| format!("-{l}")));
    // Repeated keys (TCP options, HTTP headers) compare by occurrence.
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (path, f) in &b {
        let count = seen.entry(path.as_str()).or_default();
        let nth = *count;
        *count += 1;
        let Some(layer) = path.split('.').next() else {
            continue;
        };
        if !la.contains(layer) {
            continue;
        }
        let old = a
            .iter()
            .filter(|(p, _)| p == path)
            .nth(nth)
            .map(|(_, g)| &g.value);
        if old != Some(&f.value) && !out.contains(path) {
            out.push(path.clone());
        }
    }
    out
}

// ---- authoring format -----------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJourney {
    id: String,
    title: String,
    summary: String,
    #[serde(default, rename = "node")]
    nodes: Vec<Node>,
    #[serde(default, rename = "link")]
    links: Vec<Link>,
    #[serde(rename = "hop")]
    hops: Vec<RawHop>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHop {
    at: String,
    place: String,
    explain: String,
    #[serde(default)]
    verdict: Option<String>,
    /// Overrides on top of the previous hop's packet (the whole packet on the first hop).
    #[serde(default)]
    packet: Option<toml::Table>,
    /// Layers to take away from the previous hop's packet (`vxlan` when a tunnel ends).
    #[serde(default)]
    remove: Vec<String>,
    /// Start again from a named hop's packet instead of the previous one (replies).
    #[serde(default)]
    from: Option<String>,
    /// Name for this hop's packet, for a later `from`.
    #[serde(default)]
    name: Option<String>,
    /// What the author says changed; checked against the real diff.
    #[serde(default)]
    changes: Vec<String>,
}

/// The packet of a hop, as the author describes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameSpec {
    eth: Option<EthSpec>,
    vlan: Option<u16>,
    arp: Option<ArpSpec>,
    ip: Option<IpSpec>,
    tcp: Option<TcpSpec>,
    udp: Option<UdpSpec>,
    icmp: Option<IcmpSpec>,
    /// Application bytes: text, with `\r\n` written as TOML escapes.
    payload: Option<String>,
    dns: Option<DnsSpec>,
    /// Encapsulate everything above in VXLAN.
    vxlan: Option<VxlanSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EthSpec {
    src: String,
    dst: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArpSpec {
    op: String,
    sender_mac: String,
    sender_ip: String,
    target_mac: String,
    target_ip: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IpSpec {
    src: String,
    dst: String,
    #[serde(default = "default_ttl")]
    ttl: u8,
}

fn default_ttl() -> u8 {
    64
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TcpSpec {
    src_port: u16,
    dst_port: u16,
    #[serde(default)]
    seq: u32,
    #[serde(default)]
    ack: Option<u32>,
    /// Any of `S`, `F`, `R`, `P` (ACK is set by `ack`).
    #[serde(default)]
    flags: String,
    #[serde(default = "default_window")]
    window: u16,
    #[serde(default)]
    mss: Option<u16>,
}

fn default_window() -> u16 {
    64240
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UdpSpec {
    src_port: u16,
    dst_port: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IcmpSpec {
    /// `echo-request`, `echo-reply`, `port-unreachable`, `time-exceeded`.
    kind: String,
    #[serde(default)]
    id: u16,
    #[serde(default)]
    seq: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DnsSpec {
    id: u16,
    name: String,
    #[serde(default)]
    response: bool,
    /// The A record in a response.
    #[serde(default)]
    answer: Option<String>,
    /// 3 for NXDOMAIN.
    #[serde(default)]
    rcode: u8,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct VxlanSpec {
    vni: u32,
    eth: EthSpec,
    ip: IpSpec,
    #[serde(default = "default_vxlan_sport")]
    src_port: u16,
}

fn default_vxlan_sport() -> u16 {
    40000
}

/// Noise that changes whenever anything else does, and is not worth a mark on its own.
const DERIVED: [&str; 4] = ["checksum", "total_len", "length", "payload_len"];

fn is_derived(path: &str) -> bool {
    path.rsplit('.')
        .next()
        .is_some_and(|k| DERIVED.contains(&k))
}

/// Parses and builds one journey file; problems go to `out`.
pub fn load_journey(path: &str, text: &str, out: &mut Vec<Diagnostic>) -> Option<Journey> {
    let mut d = FileDiags::new(path, text, out);
    let raw: RawJourney = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            d.toml_error(0, "journey", &e, Some("see docs/journey-format.md"));
            return None;
        }
    };
    let errors_before = d.out.len();
    let at = |needle: &str| text.find(needle).unwrap_or(0);
    let node_ids: BTreeSet<&str> = raw.nodes.iter().map(|n| n.id.as_str()).collect();
    for l in &raw.links {
        for end in [&l.from, &l.to] {
            if !node_ids.contains(end.as_str()) {
                d.error(
                    at(&format!("\"{end}\"")),
                    format!("link names unknown node `{end}`"),
                    Some("declare it as a [[node]] first"),
                );
            }
        }
    }
    for n in &raw.nodes {
        if let Some(p) = &n.parent
            && !node_ids.contains(p.as_str())
        {
            d.error(
                at(&format!("\"{p}\"")),
                format!("node `{}` has unknown parent `{p}`", n.id),
                None,
            );
        }
    }
    if raw.hops.is_empty() {
        d.error(0, "a journey needs at least one [[hop]]", None);
    }

    let mut hops = Vec::new();
    let mut spec_table = toml::Table::new();
    let mut named: Vec<(String, toml::Table)> = Vec::new();
    let mut previous: Option<Dissection> = None;
    // Hops are located by their `place` text for diagnostics.
    for (i, h) in raw.hops.iter().enumerate() {
        let hop_at = at(&format!("place = {:?}", h.place));
        if !node_ids.contains(h.at.as_str()) {
            d.error(
                hop_at,
                format!("hop {} is at unknown node `{}`", i + 1, h.at),
                Some("use a [[node]] id"),
            );
        }
        if h.explain.trim().is_empty() {
            d.error(hop_at, format!("hop {} has no explanation", i + 1), None);
        }
        if let Some(from) = &h.from {
            match named.iter().find(|(n, _)| n == from) {
                Some((_, t)) => spec_table = t.clone(),
                None => d.error(
                    hop_at,
                    format!("hop {} starts from unknown packet `{from}`", i + 1),
                    Some("name an earlier hop with name = \"...\""),
                ),
            }
        }
        for layer in &h.remove {
            if spec_table.remove(layer).is_none() {
                d.error(
                    hop_at,
                    format!(
                        "hop {} removes `{layer}`, which the packet does not have",
                        i + 1
                    ),
                    None,
                );
            }
        }
        if let Some(overrides) = &h.packet {
            merge(&mut spec_table, overrides);
        }
        if let Some(name) = &h.name {
            named.push((name.clone(), spec_table.clone()));
        }
        let spec: FrameSpec = match toml::Value::Table(spec_table.clone()).try_into() {
            Ok(s) => s,
            Err(e) => {
                d.error(
                    hop_at,
                    format!("hop {}: packet: {}", i + 1, e.message()),
                    Some("see docs/journey-format.md"),
                );
                continue;
            }
        };
        let frame = match build(&spec) {
            Ok(f) => f,
            Err(e) => {
                d.error(
                    hop_at,
                    format!("hop {}: cannot build the packet: {e}", i + 1),
                    None,
                );
                continue;
            }
        };
        let dissection = packet::dissect(&frame, LinkType::Ethernet);
        if let Some(s) = &dissection.stopped {
            d.error(
                hop_at,
                format!(
                    "hop {}: the built frame does not dissect cleanly: {} at byte {}: {}",
                    i + 1,
                    s.layer,
                    s.offset,
                    s.reason
                ),
                None,
            );
        }
        let changed = previous
            .as_ref()
            .map(|p| diff(p, &dissection))
            .unwrap_or_default();
        if i > 0 {
            for claim in &h.changes {
                if !changed.contains(claim) {
                    d.error(
                        hop_at,
                        format!("hop {} says `{claim}` changed, but it did not", i + 1),
                        Some(&format!(
                            "the fields that changed are: {}",
                            changed.join(", ")
                        )),
                    );
                }
            }
            for real in changed
                .iter()
                .filter(|c| !is_derived(c) && !h.changes.contains(c))
            {
                d.error(
                    hop_at,
                    format!(
                        "hop {}: `{real}` changed but the hop does not list it in `changes`",
                        i + 1
                    ),
                    Some("list it, and say why in `explain`"),
                );
            }
        }
        hops.push(Hop {
            at: h.at.clone(),
            place: h.place.clone(),
            explain: h.explain.trim().to_string(),
            verdict: h.verdict.clone(),
            frame,
            link: LinkType::Ethernet,
            changed,
        });
        previous = Some(dissection);
    }
    (d.out.len() == errors_before).then_some(Journey {
        id: raw.id,
        title: raw.title,
        summary: raw.summary,
        nodes: raw.nodes,
        links: raw.links,
        hops,
    })
}

/// Deep-merges `overrides` into `base`: tables merge, anything else replaces.
fn merge(base: &mut toml::Table, overrides: &toml::Table) {
    for (k, v) in overrides {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<u8> = s
        .split(':')
        .map(|p| u8::from_str_radix(p, 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bad MAC `{s}`"))?;
    parts
        .try_into()
        .map_err(|_| format!("bad MAC `{s}`: six bytes like 02:00:00:00:00:01"))
}

fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("bad IP address `{s}`"))
}

/// Builds the frame bytes for a spec.
fn build(spec: &FrameSpec) -> Result<Vec<u8>, String> {
    let inner = build_plain(spec)?;
    let Some(vx) = &spec.vxlan else {
        return Ok(inner);
    };
    let mut payload = vec![0x08, 0, 0, 0];
    payload.extend_from_slice(&vx.vni.to_be_bytes()[1..]);
    payload.push(0);
    payload.extend_from_slice(&inner);
    let eth = PacketBuilder::ethernet2(parse_mac(&vx.eth.src)?, parse_mac(&vx.eth.dst)?);
    let step = match (parse_ip(&vx.ip.src)?, parse_ip(&vx.ip.dst)?) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), vx.ip.ttl),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), vx.ip.ttl),
        _ => return Err("vxlan: ip.src and ip.dst must be the same family".into()),
    };
    let mut out = Vec::new();
    step.udp(vx.src_port, 4789)
        .write(&mut out, &payload)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn build_plain(spec: &FrameSpec) -> Result<Vec<u8>, String> {
    let eth = spec
        .eth
        .as_ref()
        .ok_or("every packet needs eth = { src, dst }")?;
    let base = PacketBuilder::ethernet2(parse_mac(&eth.src)?, parse_mac(&eth.dst)?);
    let mut out = Vec::new();
    if let Some(a) = &spec.arp {
        let op = match a.op.as_str() {
            "request" => ArpOperation::REQUEST,
            "reply" => ArpOperation::REPLY,
            o => return Err(format!("arp.op `{o}`: use request or reply")),
        };
        let (IpAddr::V4(s), IpAddr::V4(t)) = (parse_ip(&a.sender_ip)?, parse_ip(&a.target_ip)?)
        else {
            return Err("ARP carries IPv4 addresses".into());
        };
        let pkt = ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            op,
            &parse_mac(&a.sender_mac)?,
            &s.octets(),
            &parse_mac(&a.target_mac)?,
            &t.octets(),
        )
        .map_err(|e| e.to_string())?;
        let step = match spec.vlan {
            Some(v) => base
                .single_vlan(etherparse::VlanId::try_new(v).map_err(|e| e.to_string())?)
                .arp(pkt),
            None => base.arp(pkt),
        };
        step.write(&mut out).map_err(|e| e.to_string())?;
        return Ok(out);
    }
    let ip = spec
        .ip
        .as_ref()
        .ok_or("a packet needs ip = { src, dst } (or arp)")?;
    let step = match spec.vlan {
        Some(v) => {
            let vlan = base.single_vlan(etherparse::VlanId::try_new(v).map_err(|e| e.to_string())?);
            match (parse_ip(&ip.src)?, parse_ip(&ip.dst)?) {
                (IpAddr::V4(s), IpAddr::V4(d)) => vlan.ipv4(s.octets(), d.octets(), ip.ttl),
                (IpAddr::V6(s), IpAddr::V6(d)) => vlan.ipv6(s.octets(), d.octets(), ip.ttl),
                _ => return Err("ip.src and ip.dst must be the same family".into()),
            }
        }
        None => match (parse_ip(&ip.src)?, parse_ip(&ip.dst)?) {
            (IpAddr::V4(s), IpAddr::V4(d)) => base.ipv4(s.octets(), d.octets(), ip.ttl),
            (IpAddr::V6(s), IpAddr::V6(d)) => base.ipv6(s.octets(), d.octets(), ip.ttl),
            _ => return Err("ip.src and ip.dst must be the same family".into()),
        },
    };
    let payload: Vec<u8> = match (&spec.dns, &spec.payload) {
        (Some(dns), _) => dns_message(dns)?,
        (None, Some(p)) => p.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let layers = [spec.tcp.is_some(), spec.udp.is_some(), spec.icmp.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if layers != 1 {
        return Err("a packet has exactly one of tcp, udp or icmp".into());
    }
    if let Some(t) = &spec.tcp {
        let mut s = step.tcp(t.src_port, t.dst_port, t.seq, t.window);
        for c in t.flags.chars() {
            s = match c {
                'S' => s.syn(),
                'F' => s.fin(),
                'R' => s.rst(),
                'P' => s.psh(),
                '.' | 'A' => s,
                other => {
                    return Err(format!(
                        "tcp.flags: unknown flag `{other}` (use S, F, R, P; ack = N sets ACK)"
                    ));
                }
            };
        }
        if let Some(ack) = t.ack {
            s = s.ack(ack);
        }
        if let Some(mss) = t.mss {
            s = s
                .options(&[TcpOptionElement::MaximumSegmentSize(mss)])
                .map_err(|e| e.to_string())?;
        }
        s.write(&mut out, &payload).map_err(|e| e.to_string())?;
    } else if let Some(u) = &spec.udp {
        step.udp(u.src_port, u.dst_port)
            .write(&mut out, &payload)
            .map_err(|e| e.to_string())?;
    } else if let Some(i) = &spec.icmp {
        use etherparse::Icmpv4Type as T;
        let kind = match i.kind.as_str() {
            "echo-request" => T::EchoRequest(etherparse::IcmpEchoHeader {
                id: i.id,
                seq: i.seq,
            }),
            "echo-reply" => T::EchoReply(etherparse::IcmpEchoHeader {
                id: i.id,
                seq: i.seq,
            }),
            "port-unreachable" => {
                T::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::Port)
            }
            "time-exceeded" => {
                T::TimeExceeded(etherparse::icmpv4::TimeExceededCode::TtlExceededInTransit)
            }
            o => {
                return Err(format!(
                    "icmp.kind `{o}`: use echo-request, echo-reply, port-unreachable or time-exceeded"
                ));
            }
        };
        step.icmpv4(kind)
            .write(&mut out, &payload)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn dns_message(d: &DnsSpec) -> Result<Vec<u8>, String> {
    let mut m = d.id.to_be_bytes().to_vec();
    let flags: u16 = if d.response {
        0x8180 | u16::from(d.rcode & 0xf)
    } else {
        0x0100
    };
    m.extend_from_slice(&flags.to_be_bytes());
    let answers = u16::from(d.answer.is_some() && d.response);
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(&answers.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    for label in d.name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "dns.name `{}` has an empty or too long label",
                d.name
            ));
        }
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let (true, Some(a)) = (d.response, &d.answer) {
        let IpAddr::V4(addr) = parse_ip(a)? else {
            return Err("dns.answer is an IPv4 address".into());
        };
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
        m.extend_from_slice(&addr.octets());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DNAT: &str = r#"
id = "mini-dnat"
title = "A DNAT in one step"
summary = "The router rewrites the destination."

[[node]]
id = "client"
label = "client"
kind = "namespace"

[[node]]
id = "router"
label = "router"
kind = "router"

[[link]]
from = "client"
to = "router"
label = "veth"

[[hop]]
at = "client"
place = "eth0 of client"
explain = "The client sends a SYN to the router's public address."
name = "syn"
[hop.packet]
eth = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02" }
ip = { src = "10.0.1.2", dst = "203.0.113.1", ttl = 64 }
tcp = { src_port = 43210, dst_port = 8080, seq = 1000, flags = "S", mss = 1460 }

[[hop]]
at = "router"
place = "PREROUTING (nat): DNAT"
explain = "The DNAT rule rewrites the destination to the backend."
changes = ["ipv4.dst", "tcp.dst_port"]
[hop.packet]
ip = { dst = "10.0.2.2" }
tcp = { dst_port = 80 }

[[hop]]
at = "router"
place = "FORWARD, then out of eth1"
explain = "Routed: TTL drops by one and the frame gets new MACs."
changes = ["eth.src", "eth.dst", "ipv4.ttl"]
[hop.packet]
eth = { src = "02:00:00:00:00:03", dst = "02:00:00:00:00:04" }
ip = { ttl = 63 }
"#;

    #[test]
    fn builds_frames_that_dissect_and_marks_what_changed() {
        let mut diags = Vec::new();
        let j = load_journey("j.toml", DNAT, &mut diags).unwrap_or_else(|| panic!("{diags:#?}"));
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(j.hops.len(), 3);
        let d1 = j.dissect(1).unwrap();
        assert_eq!(
            d1.layer("ipv4").unwrap().field("dst").unwrap().value,
            "10.0.2.2"
        );
        assert_eq!(
            d1.layer("tcp")
                .unwrap()
                .field("checksum")
                .unwrap()
                .meaning
                .as_deref(),
            Some("correct")
        );
        assert_eq!(
            j.hops[1].changed,
            ["ipv4.checksum", "ipv4.dst", "tcp.dst_port", "tcp.checksum"]
        );
        assert!(j.hops[2].changed.contains(&"ipv4.ttl".to_string()));
        assert!(j.hops[0].changed.is_empty());
    }

    #[test]
    fn wrong_change_claims_are_errors() {
        let bad = DNAT.replace(
            "changes = [\"ipv4.dst\", \"tcp.dst_port\"]",
            "changes = [\"ipv4.dst\", \"ipv4.src\"]",
        );
        let mut diags = Vec::new();
        assert!(load_journey("j.toml", &bad, &mut diags).is_none());
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("says `ipv4.src` changed, but it did not")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("`tcp.dst_port` changed but the hop does not list it")),
            "{msgs:?}"
        );
        assert!(
            diags.iter().all(|d| d.line > 1),
            "positions point at the hop: {diags:?}"
        );
    }

    #[test]
    fn unknown_nodes_and_bad_packets_are_errors() {
        let bad = DNAT
            .replace(
                "at = \"router\"\nplace = \"PREROUTING",
                "at = \"ruoter\"\nplace = \"PREROUTING",
            )
            .replace("10.0.2.2", "10.0.2");
        let mut diags = Vec::new();
        assert!(load_journey("j.toml", &bad, &mut diags).is_none());
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("unknown node `ruoter`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("bad IP address `10.0.2`")),
            "{msgs:?}"
        );
    }

    #[test]
    fn vxlan_is_added_and_removed_with_marks() {
        let src = r#"
id = "vx"
title = "t"
summary = "s"
[[node]]
id = "a"
label = "a"
kind = "pod"
[[hop]]
at = "a"
place = "pod eth0"
explain = "Pod to pod."
[hop.packet]
eth = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02" }
ip = { src = "10.244.1.5", dst = "10.244.2.7" }
icmp = { kind = "echo-request", id = 1, seq = 1 }
[[hop]]
at = "a"
place = "flannel.1"
explain = "Wrapped for the trip across nodes."
changes = ["+udp", "+vxlan", "+eth#2", "+ipv4#2", "eth.src", "eth.dst", "ipv4.src", "ipv4.dst", "ipv4.protocol"]
[hop.packet.vxlan]
vni = 1
eth = { src = "02:00:00:00:01:01", dst = "02:00:00:00:02:02" }
ip = { src = "172.18.0.2", dst = "172.18.0.3" }
[[hop]]
at = "a"
place = "other node's flannel.1"
explain = "Unwrapped."
remove = ["vxlan"]
changes = ["-udp", "-vxlan", "-eth#2", "-ipv4#2", "eth.src", "eth.dst", "ipv4.src", "ipv4.dst", "ipv4.protocol"]
"#;
        let mut diags = Vec::new();
        let j = load_journey("vx.toml", src, &mut diags);
        let msgs: Vec<String> = diags
            .iter()
            .map(|d| format!("{}: {:?}", d.message, d.help))
            .collect();
        let j = j.unwrap_or_else(|| panic!("{msgs:#?}"));
        let d = j.dissect(1).unwrap();
        assert_eq!(d.layer("vxlan").unwrap().field("vni").unwrap().value, "1");
        assert_eq!(
            d.nth("ipv4", 1).unwrap().field("dst").unwrap().value,
            "10.244.2.7"
        );
        assert!(j.dissect(2).unwrap().layer("vxlan").is_none());
    }
}
