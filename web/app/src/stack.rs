//! What the journey view shows beside the diagram: the header stack at a
//! hop, with the fields that changed since the previous hop and their old
//! values, and the hex dump with those fields' bytes marked.
//!
//! The changed marks come from the journey itself (`Hop::changed`, computed
//! by core from the frames), so the view can never disagree with the bytes.

use layerlab_core::journey::Journey;
use layerlab_core::packet::{ByteRange, dissect};

/// One field row of the header stack.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRow {
    /// `protocol[#n].key`, as in `Hop::changed` (`ipv4.dst`).
    pub path: String,
    /// Human name.
    pub name: String,
    /// Value now.
    pub value: String,
    /// What it means.
    pub meaning: Option<String>,
    /// Its bytes in the frame.
    pub range: ByteRange,
    /// Whether it differs from the previous hop.
    pub changed: bool,
    /// The previous hop's value, when it changed and existed before.
    pub before: Option<String>,
    /// Whether the change is only a consequence of others (checksums, lengths).
    pub derived: bool,
}

impl FieldRow {
    /// The field's key within its layer (`ttl`).
    pub fn key(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or(&self.path)
    }
}

/// One layer of the header stack.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRow {
    /// `ipv4`, or `ipv4#2` for the inner header of a tunnel.
    pub key: String,
    /// Full protocol name.
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// Its header bytes.
    pub range: ByteRange,
    /// The layer appeared at this hop (encapsulation).
    pub added: bool,
    /// Fields in wire order.
    pub fields: Vec<FieldRow>,
}

/// The header stack at one hop.
#[derive(Debug, Clone, PartialEq)]
pub struct HopStack {
    /// Layers from the outside in.
    pub layers: Vec<LayerRow>,
    /// Layers the previous hop had and this one lost (decapsulation).
    pub removed: Vec<String>,
    /// Where dissection stopped, if it did.
    pub stopped: Option<String>,
    /// Frame length.
    pub len: usize,
}

impl HopStack {
    /// Byte ranges of the fields that changed meaningfully, for the hex view.
    pub fn changed_ranges(&self) -> Vec<ByteRange> {
        let mut out: Vec<ByteRange> = self
            .layers
            .iter()
            .filter(|l| l.added)
            .map(|l| l.range)
            .collect();
        out.extend(
            self.layers
                .iter()
                .flat_map(|l| &l.fields)
                .filter(|f| f.changed && !f.derived)
                .map(|f| f.range),
        );
        out
    }

    /// The paths of fields marked changed (what the browser test reads too).
    pub fn changed_paths(&self) -> Vec<&str> {
        self.layers
            .iter()
            .flat_map(|l| &l.fields)
            .filter(|f| f.changed)
            .map(|f| f.path.as_str())
            .collect()
    }
}

/// Fields that change whenever anything else does (mirrors core's list).
const DERIVED: [&str; 4] = ["checksum", "total_len", "length", "payload_len"];

/// The header stack at `hop`, or `None` past the last hop.
pub fn hop_stack(journey: &Journey, hop: usize) -> Option<HopStack> {
    let h = journey.hops.get(hop)?;
    let now = dissect(&h.frame, h.link);
    let before = hop
        .checked_sub(1)
        .and_then(|p| journey.hops.get(p))
        .map(|p| dissect(&p.frame, p.link));
    let before_paths = before.as_ref().map(|b| b.field_paths()).unwrap_or_default();
    let keys = now.layer_keys();
    let layers = now
        .layers
        .iter()
        .zip(&keys)
        .map(|(l, key)| LayerRow {
            key: key.clone(),
            name: l.name.clone(),
            summary: l.summary.clone(),
            range: l.range,
            added: h.changed.iter().any(|c| c.strip_prefix('+') == Some(key)),
            fields: l
                .fields
                .iter()
                .map(|f| {
                    let path = format!("{key}.{}", f.key);
                    let changed = h.changed.contains(&path);
                    FieldRow {
                        before: changed
                            .then(|| {
                                before_paths
                                    .iter()
                                    .find(|(p, _)| *p == path)
                                    .map(|(_, g)| g.value.clone())
                            })
                            .flatten(),
                        derived: DERIVED.contains(&f.key.as_str()),
                        name: f.name.clone(),
                        value: f.value.clone(),
                        meaning: f.meaning.clone(),
                        range: f.range,
                        changed,
                        path,
                    }
                })
                .collect(),
        })
        .collect();
    Some(HopStack {
        layers,
        removed: h
            .changed
            .iter()
            .filter_map(|c| c.strip_prefix('-').map(str::to_string))
            .collect(),
        stopped: now
            .stopped
            .map(|s| format!("{} at byte {}: {}", s.layer, s.offset, s.reason)),
        len: now.len,
    })
}

/// One line of the hex view.
#[derive(Debug, Clone, PartialEq)]
pub struct HexRow {
    /// Offset of the first byte.
    pub offset: usize,
    /// The bytes, with whether each is marked.
    pub bytes: Vec<(u8, bool)>,
}

/// Bytes per hex row.
pub const HEX_WIDTH: usize = 16;

/// Splits a frame into hex rows, marking bytes inside any of `marks`.
pub fn hex_rows(frame: &[u8], marks: &[ByteRange]) -> Vec<HexRow> {
    frame
        .chunks(HEX_WIDTH)
        .enumerate()
        .map(|(r, chunk)| HexRow {
            offset: r * HEX_WIDTH,
            bytes: chunk
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    let at = r * HEX_WIDTH + i;
                    (b, marks.iter().any(|m| m.contains(at)))
                })
                .collect(),
        })
        .collect()
}

/// Printable ASCII for the hex view's right column.
pub fn ascii(b: u8) -> char {
    if b.is_ascii_graphic() || b == b' ' {
        b as char
    } else {
        '.'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dnat() -> Journey {
        let text = include_str!("../tests/data/mini-dnat.toml");
        let mut diags = Vec::new();
        layerlab_core::journey::load_journey("mini-dnat.toml", text, &mut diags)
            .unwrap_or_else(|| panic!("{diags:#?}"))
    }

    #[test]
    fn the_dnat_hop_marks_the_destination_with_its_old_value() {
        let j = dnat();
        let s = hop_stack(&j, 1).unwrap();
        let dst = s
            .layers
            .iter()
            .flat_map(|l| &l.fields)
            .find(|f| f.path == "ipv4.dst")
            .unwrap();
        assert!(dst.changed && !dst.derived);
        assert_eq!(
            (dst.before.as_deref(), dst.value.as_str()),
            (Some("203.0.113.1"), "10.0.2.2")
        );
        let paths = s.changed_paths();
        assert!(paths.contains(&"tcp.dst_port"), "{paths:?}");
        assert!(!paths.contains(&"ipv4.src"), "{paths:?}");
        // The checksum changed too, but only as a consequence: not marked in hex.
        let sum = s
            .layers
            .iter()
            .flat_map(|l| &l.fields)
            .find(|f| f.path == "ipv4.checksum")
            .unwrap();
        assert!(sum.changed && sum.derived);
        assert!(!s.changed_ranges().contains(&sum.range));
        assert!(s.changed_ranges().contains(&dst.range));
    }

    #[test]
    fn the_first_hop_has_nothing_changed_and_the_end_has_no_stack() {
        let j = dnat();
        let s = hop_stack(&j, 0).unwrap();
        assert!(s.changed_paths().is_empty());
        assert_eq!(s.layers[0].key, "eth");
        assert!(s.stopped.is_none());
        assert!(hop_stack(&j, j.hops.len()).is_none());
    }

    #[test]
    fn encapsulation_numbers_inner_layers_and_decapsulation_lists_what_went() {
        let mut diags = Vec::new();
        let j = layerlab_core::journey::load_journey(
            "vxlan.toml",
            include_str!("../tests/data/vxlan.toml"),
            &mut diags,
        )
        .unwrap_or_else(|| panic!("{diags:#?}"));
        let s = hop_stack(&j, 1).unwrap();
        let keys: Vec<&str> = s.layers.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(
            keys,
            ["eth", "ipv4", "udp", "vxlan", "eth#2", "ipv4#2", "tcp"]
        );
        let layer = |k: &str| s.layers.iter().find(|l| l.key == k).unwrap();
        assert!(layer("vxlan").added && !layer("tcp").added);
        let inner_ttl = layer("ipv4#2").fields.iter().find(|f| f.key() == "ttl");
        assert_eq!(inner_ttl.map(|f| f.value.as_str()), Some("63"));
        let back = hop_stack(&j, 2).unwrap();
        assert_eq!(back.removed, ["eth#2", "ipv4#2", "udp", "vxlan"]);
        assert_eq!(back.layers.len(), 3);
    }

    #[test]
    fn hex_rows_mark_exactly_the_given_bytes() {
        let frame: Vec<u8> = (0..40).collect();
        let rows = hex_rows(&frame, &[ByteRange { start: 14, end: 18 }]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].offset, 32);
        assert_eq!(rows[2].bytes.len(), 8);
        let marked: Vec<usize> = rows
            .iter()
            .flat_map(|r| {
                r.bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, m))| *m)
                    .map(move |(i, _)| r.offset + i)
            })
            .collect();
        assert_eq!(marked, [14, 15, 16, 17]);
        assert_eq!((ascii(b'A'), ascii(0)), ('A', '.'));
    }
}
