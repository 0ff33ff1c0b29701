//! DNS messages (RFC 1035): enough to show a query and its answers.

use super::dissect::{ByteRange, Layer, LayerBuilder};
use super::names;
use std::fmt::Write as _;

/// A question or answer record, with where it sits in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name, dotted.
    pub name: String,
    /// Record type number.
    pub rtype: u16,
    /// TTL (answers only).
    pub ttl: Option<u32>,
    /// Rendered data (answers only): an address, a name...
    pub data: Option<String>,
    /// Bytes of the record inside the message.
    pub range: ByteRange,
}

/// A parsed DNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// Query (false) or response (true).
    pub response: bool,
    /// Response code (0 = NOERROR, 3 = NXDOMAIN).
    pub rcode: u8,
    /// The raw flags word.
    pub flags: u16,
    /// Questions.
    pub questions: Vec<DnsRecord>,
    /// Answer records.
    pub answers: Vec<DnsRecord>,
}

impl DnsMessage {
    /// A tcpdump-like one-line description.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let q = self.questions.first();
        let qdesc = q
            .map(|q| format!("{} {}", names::dns_type(q.rtype), q.name))
            .unwrap_or_default();
        if self.response {
            let _ = write!(s, "response 0x{:04x} {qdesc}", self.id);
            match self.rcode {
                0 => {
                    let answers: Vec<String> =
                        self.answers.iter().filter_map(|a| a.data.clone()).collect();
                    if answers.is_empty() {
                        s.push_str(": no answers");
                    } else {
                        let _ = write!(s, ": {}", answers.join(", "));
                    }
                }
                3 => s.push_str(": NXDOMAIN (no such name)"),
                2 => s.push_str(": SERVFAIL"),
                5 => s.push_str(": REFUSED"),
                r => {
                    let _ = write!(s, ": rcode {r}");
                }
            }
        } else {
            let _ = write!(s, "query 0x{:04x} {qdesc}", self.id);
        }
        s
    }
}

fn u16_at(d: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]))
}

/// Reads a possibly compressed name at `i`; returns it and the offset after it.
fn read_name(d: &[u8], mut i: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut after = None;
    for _ in 0..128 {
        let len = *d.get(i)?;
        match len {
            0 => {
                if name.is_empty() {
                    name.push('.');
                }
                return Some((name, after.unwrap_or(i + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let ptr = usize::from(u16_at(d, i)? & 0x3fff);
                after.get_or_insert(i + 2);
                // Pointers must go backwards, which also rules out loops.
                if ptr >= i {
                    return None;
                }
                i = ptr;
            }
            l if l < 64 => {
                let label = d.get(i + 1..i + 1 + usize::from(l))?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.extend(
                    label
                        .iter()
                        .map(|&c| if c.is_ascii_graphic() { c as char } else { '?' }),
                );
                i += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
    None
}

/// Parses a DNS message; `None` if it is not one.
pub fn parse(d: &[u8]) -> Option<DnsMessage> {
    if d.len() < 12 {
        return None;
    }
    let flags = u16_at(d, 2)?;
    let (qd, an) = (u16_at(d, 4)?, u16_at(d, 6)?);
    if qd > 32 || an > 256 || (flags >> 11) & 0xf > 5 {
        return None;
    }
    let mut i = 12;
    let mut questions = Vec::new();
    for _ in 0..qd {
        let (name, next) = read_name(d, i)?;
        let rtype = u16_at(d, next)?;
        u16_at(d, next + 2)?;
        questions.push(DnsRecord {
            name,
            rtype,
            ttl: None,
            data: None,
            range: ByteRange {
                start: i,
                end: next + 4,
            },
        });
        i = next + 4;
    }
    let mut answers = Vec::new();
    for _ in 0..an {
        let (name, next) = read_name(d, i)?;
        let rtype = u16_at(d, next)?;
        let ttl = u32::from_be_bytes(d.get(next + 4..next + 8)?.try_into().ok()?);
        let rdlen = usize::from(u16_at(d, next + 8)?);
        let rd_at = next + 10;
        let rdata = d.get(rd_at..rd_at + rdlen)?;
        let data = match (rtype, rdlen) {
            (1, 4) => format!("{}.{}.{}.{}", rdata[0], rdata[1], rdata[2], rdata[3]),
            (28, 16) => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(rdata).ok()?).to_string(),
            (5 | 2 | 12, _) => read_name(d, rd_at).map_or_else(|| "?".into(), |(n, _)| n),
            (33, l) if l > 6 => {
                let (prio, weight, port) =
                    (u16_at(rdata, 0)?, u16_at(rdata, 2)?, u16_at(rdata, 4)?);
                let target = read_name(d, rd_at + 6).map_or_else(|| "?".into(), |(n, _)| n);
                format!("{prio} {weight} {port} {target}")
            }
            _ => format!("{rdlen} bytes"),
        };
        answers.push(DnsRecord {
            name,
            rtype,
            ttl: Some(ttl),
            data: Some(format!("{} {data}", names::dns_type(rtype))),
            range: ByteRange {
                start: i,
                end: rd_at + rdlen,
            },
        });
        i = rd_at + rdlen;
    }
    Some(DnsMessage {
        id: u16_at(d, 0)?,
        response: flags & 0x8000 != 0,
        rcode: (flags & 0xf) as u8,
        flags,
        questions,
        answers,
    })
}

/// Adds a DNS layer for the message at file offset `off`; `Err` if it is not DNS.
pub(super) fn dissect(d: &[u8], off: usize, layers: &mut Vec<Layer>) -> Result<(), ()> {
    let m = parse(d).ok_or(())?;
    let mut b = LayerBuilder::new("dns", "Domain Name System", off);
    b.field(
        "id",
        "Transaction ID",
        off,
        2,
        format!("0x{:04x}", m.id),
        Some("matches a response to its query".into()),
    );
    let kind = if m.response { "response" } else { "query" };
    let mut flag_words = vec![kind.to_string()];
    if m.flags & 0x0100 != 0 {
        flag_words.push("recursion desired".into());
    }
    if m.flags & 0x0080 != 0 {
        flag_words.push("recursion available".into());
    }
    if m.flags & 0x0400 != 0 {
        flag_words.push("authoritative".into());
    }
    if m.flags & 0x0200 != 0 {
        flag_words.push("truncated: retry over TCP".into());
    }
    b.field(
        "flags",
        "Flags",
        off + 2,
        2,
        format!("0x{:04x}", m.flags),
        Some(flag_words.join(", ")),
    );
    if m.response {
        let rcode = match m.rcode {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN: the name does not exist",
            5 => "REFUSED",
            _ => "other",
        };
        b.field(
            "rcode",
            "Response code",
            off + 3,
            1,
            m.rcode.to_string(),
            Some(rcode.into()),
        );
    }
    b.field(
        "qdcount",
        "Questions",
        off + 4,
        2,
        m.questions.len().to_string(),
        None,
    );
    b.field(
        "ancount",
        "Answers",
        off + 6,
        2,
        m.answers.len().to_string(),
        None,
    );
    for q in &m.questions {
        let len = q.range.end - q.range.start;
        b.field(
            "question",
            "Question",
            off + q.range.start,
            len,
            format!("{} {}", q.name, names::dns_type(q.rtype)),
            None,
        );
    }
    for a in &m.answers {
        let len = a.range.end - a.range.start;
        let ttl = a.ttl.map(|t| format!("cache for {t} s"));
        b.field(
            "answer",
            "Answer",
            off + a.range.start,
            len,
            format!("{} {}", a.name, a.data.clone().unwrap_or_default()),
            ttl,
        );
    }
    layers.push(b.finish(off + d.len(), m.summary()));
    Ok(())
}
