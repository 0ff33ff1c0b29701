//! Human names for numbers on the wire: one place, shared by the
//! dissector, the one-line summaries and the journeys.

use std::fmt::Write as _;

/// Link-layer header type of a capture (pcap `LINKTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Ethernet II (`LINKTYPE_ETHERNET`, 1).
    Ethernet,
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113), from `tcpdump -i any`.
    LinuxSll,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276), what current tcpdump writes for `-i any`.
    LinuxSll2,
    /// Raw IPv4 or IPv6 (`LINKTYPE_RAW`, 101; also the old numbers 12 and 14).
    RawIp,
    /// Raw IPv4 only (`LINKTYPE_IPV4`, 228).
    Ipv4,
    /// Raw IPv6 only (`LINKTYPE_IPV6`, 229).
    Ipv6,
    /// BSD loopback: a 4-byte address family in the writer's byte order (`LINKTYPE_NULL`, 0).
    Null,
    /// OpenBSD loopback: the address family in network byte order (`LINKTYPE_LOOP`, 108).
    Loop,
    /// Linux netfilter log, what `tcpdump -i nflog:N` writes (`LINKTYPE_NFLOG`, 239).
    Nflog,
    /// PPP: a 2-byte protocol, optionally after `ff 03` (`LINKTYPE_PPP`, 9; `PPP_HDLC`, 50).
    Ppp,
    /// Cisco HDLC: address, control, EtherType (`LINKTYPE_C_HDLC`, 104).
    CiscoHdlc,
    /// A link type we do not dissect, with its pcap number.
    Unsupported(u32),
}

impl LinkType {
    /// The pcap link-type number.
    pub fn number(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Ppp => 9,
            LinkType::RawIp => 101,
            LinkType::CiscoHdlc => 104,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Nflog => 239,
            LinkType::LinuxSll2 => 276,
            LinkType::Unsupported(n) => n,
        }
    }

    /// The link type for a pcap number, if we dissect it.
    pub fn from_number(n: u32) -> Option<LinkType> {
        match n {
            0 => Some(LinkType::Null),
            1 => Some(LinkType::Ethernet),
            9 | 50 => Some(LinkType::Ppp),
            101 | 12 | 14 => Some(LinkType::RawIp),
            104 => Some(LinkType::CiscoHdlc),
            108 => Some(LinkType::Loop),
            113 => Some(LinkType::LinuxSll),
            228 => Some(LinkType::Ipv4),
            229 => Some(LinkType::Ipv6),
            239 => Some(LinkType::Nflog),
            276 => Some(LinkType::LinuxSll2),
            _ => None,
        }
    }

    /// A short name, as in tcpdump's "link-type" line.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Null => "NULL (BSD loopback)",
            LinkType::Ethernet => "EN10MB (Ethernet)",
            LinkType::Ppp => "PPP",
            LinkType::RawIp => "RAW (raw IP)",
            LinkType::CiscoHdlc => "C_HDLC (Cisco HDLC)",
            LinkType::Loop => "LOOP (OpenBSD loopback)",
            LinkType::LinuxSll => "LINUX_SLL (Linux cooked v1)",
            LinkType::Ipv4 => "IPV4 (raw IPv4)",
            LinkType::Ipv6 => "IPV6 (raw IPv6)",
            LinkType::Nflog => "NFLOG (Linux netfilter log)",
            LinkType::LinuxSll2 => "LINUX_SLL2 (Linux cooked v2)",
            LinkType::Unsupported(_) => "unsupported",
        }
    }
}

/// Name of an EtherType.
pub fn ether_type(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q VLAN",
        0x88a8 => "802.1ad QinQ",
        0x88cc => "LLDP",
        0x8847 => "MPLS",
        0x8848 => "MPLS multicast",
        0x9100 => "802.1Q VLAN (old QinQ)",
        0x6558 => "transparent Ethernet bridging",
        0x88be => "ERSPAN type II",
        0x22eb => "ERSPAN type III",
        0x8035 => "RARP",
        0x888e => "EAPOL",
        0x8906 => "FCoE",
        0x88f7 => "PTP",
        _ => "unknown",
    }
}

/// Name of an IP protocol number.
pub fn ip_protocol(p: u8) -> &'static str {
    match p {
        0 => "IPv6 hop-by-hop options",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IP-in-IP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6-in-IPv4",
        43 => "IPv6 routing",
        44 => "IPv6 fragment",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        59 => "no next header",
        60 => "IPv6 destination options",
        132 => "SCTP",
        33 => "DCCP",
        89 => "OSPF",
        103 => "PIM",
        112 => "VRRP",
        115 => "L2TP",
        136 => "UDP-Lite",
        137 => "MPLS-in-IP",
        143 => "Ethernet-in-IPv6",
        _ => "unknown",
    }
}

/// Well-known service on a port, for the ports this course meets.
pub fn port_service(port: u16) -> Option<&'static str> {
    Some(match port {
        22 => "ssh",
        53 => "dns",
        67 | 68 => "dhcp",
        80 => "http",
        123 => "ntp",
        179 => "bgp",
        443 => "https",
        2379 | 2380 => "etcd",
        4789 => "vxlan",
        5353 => "mdns",
        6081 => "geneve",
        6443 => "kube-apiserver",
        8080 => "http-alt",
        8472 => "vxlan (linux default)",
        9153 => "coredns metrics",
        10250 => "kubelet",
        10256 => "kube-proxy health",
        _ => return None,
    })
}

/// TCP flags as tcpdump writes them: `S`, `S.`, `P.`, `F.`, `R`.
pub fn tcp_flags_short(flags: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    if flags & 0x10 != 0 {
        s.push('.');
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

/// TCP flags in words: `SYN, ACK`.
pub fn tcp_flags_long(flags: u8) -> String {
    let names = [
        (0x02, "SYN"),
        (0x10, "ACK"),
        (0x08, "PSH"),
        (0x01, "FIN"),
        (0x04, "RST"),
        (0x20, "URG"),
        (0x40, "ECE"),
        (0x80, "CWR"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if set.is_empty() {
        "none".into()
    } else {
        set.join(", ")
    }
}

/// What a TTL or hop limit says about the path: hosts start at 64, 128 or 255.
pub fn ttl_meaning(ttl: u8) -> String {
    if ttl <= 1 {
        return format!("{ttl}: the next router drops it (set on purpose for link-local traffic)");
    }
    let initial = [64u16, 128, 255]
        .into_iter()
        .find(|&i| u16::from(ttl) <= i)
        .unwrap_or(255);
    let hops = initial - u16::from(ttl);
    match hops {
        0 => format!("as sent: hosts start at {initial}"),
        1 => format!("one router hop from {initial}"),
        n => format!("{n} router hops from {initial}"),
    }
}

/// Meaning of an ICMPv4 type and code.
pub fn icmpv4_meaning(t: u8, code: u8) -> String {
    match (t, code) {
        (0, _) => "echo reply".into(),
        (3, c) => format!(
            "destination unreachable: {}",
            match c {
                0 => "network unreachable",
                1 => "host unreachable",
                2 => "protocol unreachable",
                3 => "port unreachable",
                4 => "fragmentation needed and DF set",
                9 | 10 => "administratively prohibited",
                13 => "communication administratively prohibited",
                _ => "other code",
            }
        ),
        (5, _) => "redirect".into(),
        (8, _) => "echo request".into(),
        (11, 0) => "time exceeded: TTL reached 0 in transit".into(),
        (11, _) => "time exceeded: fragment reassembly".into(),
        (12, _) => "parameter problem".into(),
        _ => format!("type {t} code {code}"),
    }
}

/// Meaning of an ICMPv6 type and code.
pub fn icmpv6_meaning(t: u8, code: u8) -> String {
    match (t, code) {
        (1, 4) => "destination unreachable: port unreachable".into(),
        (1, 1) => "destination unreachable: administratively prohibited".into(),
        (1, _) => "destination unreachable".into(),
        (2, _) => "packet too big".into(),
        (3, _) => "time exceeded: hop limit reached 0".into(),
        (4, _) => "parameter problem".into(),
        (128, _) => "echo request".into(),
        (129, _) => "echo reply".into(),
        (130, _) => "multicast listener query".into(),
        (131 | 143, _) => "multicast listener report".into(),
        (132, _) => "multicast listener done".into(),
        (133, _) => "router solicitation".into(),
        (134, _) => "router advertisement".into(),
        (135, _) => "neighbor solicitation".into(),
        (136, _) => "neighbor advertisement".into(),
        _ => format!("type {t} code {code}"),
    }
}

/// A MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn mac(b: &[u8]) -> String {
    let mut s = String::with_capacity(17);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// What kind of destination a MAC address is.
pub fn mac_kind(b: &[u8]) -> &'static str {
    if b.iter().all(|&x| x == 0xff) {
        "broadcast: every host on the segment"
    } else if b.first().is_some_and(|x| x & 1 == 1) {
        "multicast"
    } else {
        "unicast"
    }
}

/// DNS record type name.
pub fn dns_type(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

/// Direction of a packet in a Linux cooked capture.
pub fn sll_packet_type(t: u16) -> &'static str {
    match t {
        0 => "to us",
        1 => "broadcast",
        2 => "multicast",
        3 => "to another host",
        4 => "sent by us",
        _ => "unknown",
    }
}

/// A byte as a hex dump shows it: printable ASCII as itself, anything else as `.`.
pub fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) {
        b as char
    } else {
        '.'
    }
}
