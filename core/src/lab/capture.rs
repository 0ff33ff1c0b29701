//! Captured packets as records that checks can match and CEL can read.

use crate::packet::{CaptureReader, dissect, names, summarize};
use serde_json::{Map, Value};

/// One packet as a check sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketRecord {
    /// Fields: `n`, `len`, `proto` (`tcp`, `udp`, `icmp`, `arp`...), `src`,
    /// `dst`, `src_port`, `dst_port`, `flags` (tcpdump style: `S`, `S.`,
    /// `.`, `P.`, `F.`), `ttl`, `payload_len`, plus every dissected layer
    /// under its protocol key (`tcp.window`, `ipv4.id`; numbers as numbers),
    /// repeated layers as `ipv4#2`, `eth#2` (a tunnel's inner headers).
    pub json: Value,
    /// The tcpdump-style one-line summary.
    pub line: String,
}

/// The packets of one capture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureSet {
    /// Packets in capture order.
    pub records: Vec<PacketRecord>,
}

impl CaptureSet {
    /// The records as a JSON list (the `packets` CEL variable).
    pub fn json(&self) -> Value {
        Value::Array(self.records.iter().map(|r| r.json.clone()).collect())
    }

    /// One numbered line per packet.
    pub fn evidence(&self) -> String {
        let mut s = String::new();
        for (i, r) in self.records.iter().enumerate() {
            s.push_str(&format!("{:>3} {}\n", i + 1, r.line));
        }
        if s.is_empty() {
            s.push_str("(no packets)");
        }
        s
    }
}

fn number_or_text(v: &str) -> Value {
    match v.parse::<u64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::String(v.to_string()),
    }
}

/// Reads a pcap/pcapng into records; an unreadable file is an error, a
/// damaged tail keeps the packets before it.
pub fn packet_records(pcap: &[u8]) -> Result<CaptureSet, String> {
    let mut reader = CaptureReader::new(pcap).map_err(|e| e.to_string())?;
    let mut set = CaptureSet::default();
    for next in reader.by_ref() {
        let Ok(p) = next else { break };
        let d = dissect(p.data, p.link);
        let mut obj = Map::new();
        obj.insert("n".into(), Value::from(p.number));
        obj.insert("len".into(), Value::from(p.orig_len));
        // The first layer of each protocol keeps the plain key (for tunnels,
        // the outer headers describe where the packet was captured); repeats
        // get `#n` keys (`ipv4#2` is a tunnel's inner IP header).
        for (layer, key) in d.layers.iter().zip(d.layer_keys()) {
            let fields: Map<String, Value> = layer
                .fields
                .iter()
                .map(|f| (f.key.clone(), number_or_text(&f.value)))
                .collect();
            obj.insert(key, Value::Object(fields));
        }
        let ip = d.layer("ipv4").or_else(|| d.layer("ipv6"));
        let field = |l: Option<&crate::packet::Layer>, k: &str| {
            l.and_then(|l| l.fields.iter().find(|f| f.key == k))
                .map(|f| number_or_text(&f.value))
        };
        let proto = ["tcp", "udp", "icmp", "icmpv6", "arp"]
            .into_iter()
            .find(|p| d.layer(p).is_some())
            .unwrap_or("other");
        obj.insert("proto".into(), Value::from(proto));
        for (k, v) in [
            ("src", field(ip, "src")),
            ("dst", field(ip, "dst")),
            ("ttl", field(ip, "ttl").or_else(|| field(ip, "hop_limit"))),
        ] {
            obj.insert(k.into(), v.unwrap_or(Value::Null));
        }
        let l4 = d.layer("tcp").or_else(|| d.layer("udp"));
        obj.insert(
            "src_port".into(),
            field(l4, "src_port").unwrap_or(Value::Null),
        );
        obj.insert(
            "dst_port".into(),
            field(l4, "dst_port").unwrap_or(Value::Null),
        );
        let flags = d
            .layer("tcp")
            .and_then(|t| p.data.get(t.range.start + 13))
            .map(|&b| Value::from(names::tcp_flags_short(b)))
            .unwrap_or(Value::Null);
        obj.insert("flags".into(), flags);
        let payload = d
            .layers
            .iter()
            .rev()
            .find(|l| matches!(l.protocol.as_str(), "tcp" | "udp"))
            .map(|l| p.data.len().saturating_sub(l.range.end))
            .unwrap_or(0);
        obj.insert("payload_len".into(), Value::from(payload));
        set.records.push(PacketRecord {
            json: Value::Object(obj),
            line: summarize(p.data, p.link).to_string(),
        });
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_http_capture_becomes_records() {
        let pcap = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/captures/http.pcap"
        ))
        .unwrap();
        let set = packet_records(&pcap).unwrap();
        let syn = set
            .records
            .iter()
            .find(|r| r.json["flags"] == "S")
            .expect("a SYN");
        assert_eq!(syn.json["proto"], "tcp");
        assert!(
            syn.json["src_port"].as_u64().unwrap() > 1024,
            "{}",
            syn.json
        );
        assert!(syn.json["tcp"]["window"].is_u64(), "{}", syn.json);
        assert!(set.records.iter().any(|r| r.json["flags"] == "S."));
        assert!(set.evidence().lines().count() == set.records.len());
        assert!(packet_records(b"nope").is_err());
    }

    #[test]
    fn a_tunnel_keeps_its_outer_headers_first_and_its_inner_ones_numbered() {
        let pcap = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/captures/vxlan.pcap"
        ))
        .unwrap();
        let set = packet_records(&pcap).unwrap();
        let p = set
            .records
            .iter()
            .find(|r| r.json.get("vxlan").is_some() && r.json.get("icmp").is_some())
            .expect("a ping inside VXLAN");
        // Outer addresses describe the wire; the pod's packet is ipv4#2.
        assert_eq!(p.json["dst"], "10.0.0.2", "{}", p.json);
        assert_eq!(p.json["vxlan"]["vni"], 42);
        assert_eq!(p.json["ipv4#2"]["dst"], "192.168.42.2", "{}", p.json);
        assert!(p.json["eth#2"].is_object(), "{}", p.json);
        let outer = p.json["ipv4"]["total_len"].as_u64().unwrap();
        let inner = p.json["ipv4#2"]["total_len"].as_u64().unwrap();
        assert_eq!(outer - inner, 50);
    }
}
