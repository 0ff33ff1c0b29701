//! Link layers beyond Ethernet and SLL (loopback, NFLOG, PPP, Cisco HDLC),
//! MPLS, and the tunnels and transports the summary also follows: GRE
//! (with ERSPAN), GENEVE, SCTP and DCCP.

use super::{LayerBuilder, MAX_DEPTH, Walker};
use crate::packet::names::{self, LinkType};

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn family_name(f: u32) -> &'static str {
    match f {
        2 => "IPv4",
        10 | 24 | 28 | 30 => "IPv6",
        _ => "unknown",
    }
}

impl Walker<'_> {
    /// BSD/OpenBSD loopback: a 4-byte address family.
    pub(super) fn loopback(&mut self, off: usize, end: usize, link: LinkType) {
        let raw = self.bytes(off, end);
        if raw.len() < 4 {
            return self.stop(off, "Loopback", "the header needs 4 bytes");
        }
        let b = [raw[0], raw[1], raw[2], raw[3]];
        let be = link == LinkType::Loop || b[0] == 0 && b[1] == 0;
        let family = if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        let mut lb = LayerBuilder::new("null", "Loopback", off);
        let order = if be { "big-endian" } else { "little-endian" };
        lb.field(
            "family",
            "Address family",
            off,
            4,
            family.to_string(),
            Some(format!("{} ({order})", family_name(family))),
        );
        self.push(lb, off + 4, family_name(family).to_string());
        match family_name(family) {
            "IPv4" | "IPv6" => self.raw_ip(off + 4, end, 0),
            _ => self.stop(
                off,
                "Loopback",
                format!("address family {family} is not one layerlab reads"),
            ),
        }
    }

    /// NFLOG: family, version, group, then TLVs in host byte order (little-endian here).
    pub(super) fn nflog(&mut self, off: usize, end: usize) {
        let raw = self.bytes(off, end);
        if raw.len() < 4 {
            return self.stop(off, "NFLOG", "the header needs 4 bytes");
        }
        let family = raw[0];
        let mut lb = LayerBuilder::new("nflog", "Linux netfilter log (NFLOG)", off);
        lb.field(
            "family",
            "Address family",
            off,
            1,
            family.to_string(),
            Some(family_name(u32::from(family)).into()),
        );
        lb.field("version", "Version", off + 1, 1, raw[1].to_string(), None);
        let group = be16(raw, 2);
        lb.field(
            "group",
            "Group",
            off + 2,
            2,
            group.to_string(),
            Some("the --nflog-group of the rule that logged it".into()),
        );
        let mut o = 4;
        let mut payload = None;
        while o + 4 <= raw.len() {
            let len = usize::from(u16::from_le_bytes([raw[o], raw[o + 1]]));
            let kind = u16::from_le_bytes([raw[o + 2], raw[o + 3]]);
            if len < 4 {
                break;
            }
            let value = &raw[(o + 4).min(raw.len())..(o + len).min(raw.len())];
            match kind {
                10 => {
                    let prefix = String::from_utf8_lossy(value)
                        .trim_end_matches('\0')
                        .to_string();
                    lb.field(
                        "prefix",
                        "Log prefix",
                        off + o + 4,
                        value.len(),
                        prefix,
                        Some("--nflog-prefix of the rule".into()),
                    );
                }
                9 => {
                    payload = Some((off + o + 4, off + (o + len).min(raw.len())));
                    break;
                }
                _ => {}
            }
            o += len.div_ceil(4) * 4;
        }
        let Some((start, stop)) = payload else {
            self.push(lb, off + raw.len(), format!("group {group}, no packet"));
            return;
        };
        self.push(
            lb,
            start,
            format!("group {group}, {}", family_name(u32::from(family))),
        );
        self.raw_ip(start, stop, 0);
    }

    /// PPP (with or without the `ff 03` address and control bytes).
    pub(super) fn ppp(&mut self, off: usize, end: usize) {
        let raw = self.bytes(off, end);
        let skip = if raw.starts_with(&[0xff, 0x03]) { 2 } else { 0 };
        if raw.len() < skip + 2 {
            return self.stop(
                off,
                "PPP",
                "the header needs 2 bytes after address and control",
            );
        }
        let proto = be16(raw, skip);
        let mut lb = LayerBuilder::new("ppp", "Point-to-Point Protocol", off);
        let name = match proto {
            0x0021 => "IPv4",
            0x0057 => "IPv6",
            0x0281 => "MPLS",
            0xc021 => "LCP",
            0x8021 => "IPCP",
            _ => "unknown",
        };
        lb.field(
            "protocol",
            "Protocol",
            off + skip,
            2,
            format!("0x{proto:04x}"),
            Some(name.into()),
        );
        self.push(lb, off + skip + 2, name.to_string());
        let at = off + skip + 2;
        match proto {
            0x0021 | 0x0057 => self.raw_ip(at, end, 0),
            0x0281 => self.mpls(at, end, 0),
            _ => self.payload(at, end, &format!("PPP protocol 0x{proto:04x} payload")),
        }
    }

    /// Cisco HDLC: address, control, EtherType.
    pub(super) fn chdlc(&mut self, off: usize, end: usize) {
        let raw = self.bytes(off, end);
        if raw.len() < 4 {
            return self.stop(off, "Cisco HDLC", "the header needs 4 bytes");
        }
        let et = be16(raw, 2);
        let mut lb = LayerBuilder::new("chdlc", "Cisco HDLC", off);
        lb.field(
            "address",
            "Address",
            off,
            1,
            format!("0x{:02x}", raw[0]),
            Some(
                if raw[0] == 0x8f {
                    "broadcast"
                } else {
                    "unicast"
                }
                .into(),
            ),
        );
        lb.field(
            "protocol",
            "Protocol",
            off + 2,
            2,
            format!("0x{et:04x}"),
            Some(names::ether_type(et).into()),
        );
        self.push(lb, off + 4, names::ether_type(et).to_string());
        self.ether_payload(et, off + 4, end, 0);
    }

    /// An MPLS label stack, then IPv4 or IPv6 told by the first nibble.
    pub(super) fn mpls(&mut self, off: usize, end: usize, depth: u8) {
        let mut o = off;
        loop {
            let raw = self.bytes(o, end);
            if raw.len() < 4 {
                return self.stop(o, "MPLS", "truncated: a label stack entry needs 4 bytes");
            }
            let entry = be32(raw, 0);
            let (label, tc, bottom, ttl) = (
                entry >> 12,
                (entry >> 9) & 7,
                entry & 0x100 != 0,
                entry & 0xff,
            );
            let mut lb = LayerBuilder::new("mpls", "MPLS label", o);
            lb.field(
                "label",
                "Label",
                o,
                3,
                label.to_string(),
                Some(
                    match label {
                        0 => "IPv4 explicit null",
                        2 => "IPv6 explicit null",
                        3 => "implicit null",
                        _ => "chosen by the router that pushed it",
                    }
                    .into(),
                ),
            );
            lb.field("tc", "Traffic class", o + 2, 1, tc.to_string(), None);
            lb.field(
                "bottom",
                "Bottom of stack",
                o + 2,
                1,
                u8::from(bottom).to_string(),
                Some(
                    if bottom {
                        "last label: the packet follows"
                    } else {
                        "another label follows"
                    }
                    .into(),
                ),
            );
            lb.field("ttl", "TTL", o + 3, 1, ttl.to_string(), None);
            self.push(lb, o + 4, format!("label {label}, ttl {ttl}"));
            o += 4;
            if bottom {
                break;
            }
        }
        if depth < MAX_DEPTH {
            self.raw_ip(o, end, depth + 1);
        }
    }

    /// GRE (RFC 2784/2890), and ERSPAN type II/III inside it.
    pub(super) fn gre(&mut self, off: usize, end: usize, depth: u8) {
        let raw = self.bytes(off, end);
        if raw.len() < 4 {
            return self.stop(off, "GRE", "truncated: the header needs 4 bytes");
        }
        let flags = be16(raw, 0);
        let proto = be16(raw, 2);
        let version = flags & 7;
        let mut lb = LayerBuilder::new("gre", "Generic Routing Encapsulation", off);
        lb.field(
            "flags_and_version",
            "Flags and version",
            off,
            2,
            format!("0x{flags:04x}"),
            Some(format!(
                "version {version}{}{}{}",
                if flags & 0x8000 != 0 {
                    ", checksum present"
                } else {
                    ""
                },
                if flags & 0x2000 != 0 {
                    ", key present"
                } else {
                    ""
                },
                if flags & 0x1000 != 0 {
                    ", sequence number present"
                } else {
                    ""
                },
            )),
        );
        lb.field(
            "proto",
            "Protocol type",
            off + 2,
            2,
            format!("0x{proto:04x}"),
            Some(names::ether_type(proto).into()),
        );
        let mut o = 4;
        for (bit, key, name) in [
            (0x8000, "checksum", "Checksum"),
            (0x2000, "key", "Key"),
            (0x1000, "sequence_number", "Sequence number"),
        ] {
            if flags & bit == 0 {
                continue;
            }
            if raw.len() < o + 4 {
                return self.stop(
                    off + o,
                    "GRE",
                    format!("truncated: the {key} needs 4 bytes"),
                );
            }
            let v = if bit == 0x8000 {
                format!("0x{:04x}", be16(raw, o))
            } else {
                be32(raw, o).to_string()
            };
            lb.field(
                key,
                name,
                off + o,
                if bit == 0x8000 { 2 } else { 4 },
                v,
                None,
            );
            o += 4;
        }
        self.push(
            lb,
            off + o,
            format!("GREv{version}, {}", names::ether_type(proto)),
        );
        if depth >= MAX_DEPTH {
            return;
        }
        match proto {
            0x88be | 0x22eb => self.erspan(off + o, end, proto == 0x22eb, depth),
            0x6558 => self.ethernet(off + o, end, depth + 1),
            0x0800 | 0x86dd => self.raw_ip(off + o, end, depth + 1),
            0x8847 => self.mpls(off + o, end, depth + 1),
            _ => self.payload(
                off + o,
                end,
                &format!("GRE payload (protocol 0x{proto:04x})"),
            ),
        }
    }

    fn erspan(&mut self, off: usize, end: usize, v3: bool, depth: u8) {
        let raw = self.bytes(off, end);
        let hlen = if v3 { 12 } else { 8 };
        if raw.len() < hlen {
            return self.stop(
                off,
                "ERSPAN",
                format!("truncated: the header needs {hlen} bytes"),
            );
        }
        let hlen = if v3 && raw[11] & 1 != 0 { 20 } else { hlen };
        let vlan = be16(raw, 0) & 0x0fff;
        let session = be16(raw, 2) & 0x03ff;
        let mut lb = LayerBuilder::new(
            "erspan",
            if v3 {
                "ERSPAN type III"
            } else {
                "ERSPAN type II"
            },
            off,
        );
        lb.field(
            "version",
            "Version",
            off,
            1,
            (raw[0] >> 4).to_string(),
            None,
        );
        lb.field("vlan", "Original VLAN", off, 2, vlan.to_string(), None);
        lb.field(
            "session_id",
            "Session ID",
            off + 2,
            2,
            session.to_string(),
            Some("the mirroring session on the switch that sent it".into()),
        );
        self.push(
            lb,
            (off + hlen).min(end),
            format!("session {session}, mirrored frame follows"),
        );
        self.ethernet(off + hlen, end, depth + 1);
    }

    /// GENEVE (RFC 8926): fixed header, options, inner frame.
    pub(super) fn geneve(&mut self, off: usize, end: usize, depth: u8) {
        let raw = self.bytes(off, end);
        if raw.len() < 8 {
            return self.stop(off, "GENEVE", "truncated: the header needs 8 bytes");
        }
        let opt_len = usize::from(raw[0] & 0x3f) * 4;
        let proto = be16(raw, 2);
        let vni = u32::from_be_bytes([0, raw[4], raw[5], raw[6]]);
        let mut lb = LayerBuilder::new(
            "geneve",
            "Generic Network Virtualization Encapsulation",
            off,
        );
        lb.field(
            "version",
            "Version",
            off,
            1,
            (raw[0] >> 6).to_string(),
            None,
        );
        lb.field(
            "options_len",
            "Options length",
            off,
            1,
            opt_len.to_string(),
            Some("bytes of options after the fixed header".into()),
        );
        lb.field(
            "oam",
            "OAM",
            off + 1,
            1,
            u8::from(raw[1] & 0x80 != 0).to_string(),
            Some("1: a control packet, not tenant traffic".into()),
        );
        lb.field(
            "proto",
            "Protocol type",
            off + 2,
            2,
            format!("0x{proto:04x}"),
            Some(names::ether_type(proto).into()),
        );
        lb.field(
            "vni",
            "Virtual network identifier",
            off + 4,
            3,
            vni.to_string(),
            Some("which overlay network the inner frame belongs to".into()),
        );
        let mut o = 8;
        while o + 4 <= (8 + opt_len).min(raw.len()) {
            let class = be16(raw, o);
            let otype = raw[o + 2];
            let len = usize::from(raw[o + 3] & 0x1f) * 4;
            lb.field(
                "option",
                "Option",
                off + o,
                (4 + len).min(raw.len() - o),
                format!("class 0x{class:04x} type 0x{otype:02x}, {len} bytes of data"),
                Some(
                    if otype & 0x80 != 0 {
                        "critical: a receiver that does not know it drops the packet"
                    } else {
                        "may be ignored by a receiver that does not know it"
                    }
                    .into(),
                ),
            );
            o += 4 + len;
        }
        if raw.len() < 8 + opt_len {
            self.push(lb, off + raw.len(), format!("VNI {vni}"));
            return self.stop(off + raw.len(), "GENEVE", "truncated inside the options");
        }
        self.push(
            lb,
            off + 8 + opt_len,
            format!("VNI {vni}, {}", names::ether_type(proto)),
        );
        let at = off + 8 + opt_len;
        match proto {
            0x6558 => self.ethernet(at, end, depth + 1),
            0x0800 | 0x86dd => self.raw_ip(at, end, depth + 1),
            _ => self.payload(at, end, &format!("GENEVE payload (protocol 0x{proto:04x})")),
        }
    }

    /// SCTP common header (RFC 9260) and the first chunk's type.
    pub(super) fn sctp(&mut self, off: usize, end: usize) {
        let raw = self.bytes(off, end);
        if raw.len() < 12 {
            return self.stop(off, "SCTP", "truncated: the common header needs 12 bytes");
        }
        let (sp, dp) = (be16(raw, 0), be16(raw, 2));
        let mut lb = LayerBuilder::new("sctp", "Stream Control Transmission Protocol", off);
        lb.field("srcport", "Source port", off, 2, sp.to_string(), None);
        lb.field(
            "dstport",
            "Destination port",
            off + 2,
            2,
            dp.to_string(),
            None,
        );
        lb.field(
            "verification_tag",
            "Verification tag",
            off + 4,
            4,
            format!("0x{:08x}", be32(raw, 4)),
            Some("0 only in INIT; then the peer's tag, so strays are dropped".into()),
        );
        lb.field(
            "checksum",
            "Checksum (CRC32c)",
            off + 8,
            4,
            format!("0x{:08x}", be32(raw, 8)),
            None,
        );
        if let Some(&chunk) = raw.get(12) {
            let name = match chunk {
                0 => "DATA",
                1 => "INIT",
                2 => "INIT ACK",
                3 => "SACK",
                4 => "HEARTBEAT",
                5 => "HEARTBEAT ACK",
                6 => "ABORT",
                7 => "SHUTDOWN",
                8 => "SHUTDOWN ACK",
                10 => "COOKIE ECHO",
                11 => "COOKIE ACK",
                14 => "SHUTDOWN COMPLETE",
                _ => "other",
            };
            lb.field(
                "chunk_type",
                "First chunk type",
                off + 12,
                1,
                chunk.to_string(),
                Some(name.into()),
            );
        }
        self.push(lb, end.min(self.data.len()), format!("{sp} → {dp}"));
    }

    /// DCCP generic header (RFC 4340): ports and packet type.
    pub(super) fn dccp(&mut self, off: usize, end: usize) {
        let raw = self.bytes(off, end);
        if raw.len() < 12 {
            return self.stop(off, "DCCP", "truncated: the generic header needs 12 bytes");
        }
        let (sp, dp) = (be16(raw, 0), be16(raw, 2));
        let kind = (raw[8] >> 1) & 0x0f;
        let mut lb = LayerBuilder::new("dccp", "Datagram Congestion Control Protocol", off);
        lb.field("srcport", "Source port", off, 2, sp.to_string(), None);
        lb.field(
            "dstport",
            "Destination port",
            off + 2,
            2,
            dp.to_string(),
            None,
        );
        lb.field(
            "data_offset",
            "Data offset",
            off + 4,
            1,
            (usize::from(raw[4]) * 4).to_string(),
            Some("header length in bytes".into()),
        );
        let name = [
            "Request", "Response", "Data", "Ack", "DataAck", "CloseReq", "Close", "Reset", "Sync",
            "SyncAck",
        ]
        .get(usize::from(kind))
        .copied()
        .unwrap_or("reserved");
        lb.field(
            "type",
            "Packet type",
            off + 8,
            1,
            kind.to_string(),
            Some(name.into()),
        );
        self.push(
            lb,
            (off + usize::from(raw[4]) * 4).min(end).max(off + 12),
            format!("{sp} → {dp}, {name}"),
        );
    }
}
