//! Where each place of a journey goes on the SVG diagram.
//!
//! Pure geometry, so it is unit-tested natively against every journey of
//! the course. Nesting follows `Node::parent`: top-level places sit side by
//! side (wrapping into a snake of rows so consecutive places stay
//! neighbours); a place whose children contain further places lays them
//! side by side too, while a place holding only leaves (interfaces, chains,
//! pods) stacks them in a column, which reads like the path down a host's
//! network stack. Places keep the order the author declared them in, which
//! is the physical order (client, veth, bridge, veth, server).

use layerlab_core::journey::{Journey, NodeKind};

/// Height of a one-line leaf box.
const LEAF_H: f64 = 44.0;
/// Height of each further label line.
const LINE_H: f64 = 16.0;
/// Longest label line before wrapping, in characters.
const WRAP: usize = 26;
/// Narrowest leaf box.
const LEAF_MIN_W: f64 = 104.0;
/// Approximate advance of one label character at the diagram's font size.
const CHAR_W: f64 = 7.0;
/// Inner padding of a container.
const PAD: f64 = 14.0;
/// Height of a container's title strip.
const HEADER: f64 = 28.0;
/// Space between siblings.
const GAP: f64 = 30.0;
/// Top-level places per row before wrapping.
const ROW_MAX: usize = 5;
/// Margin around the whole diagram (room for the packet and link labels).
const MARGIN: f64 = 24.0;

/// A point in diagram units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Horizontal, growing rightwards.
    pub x: f64,
    /// Vertical, growing downwards.
    pub y: f64,
}

/// A placed box for one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    /// The node's id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// The label wrapped into lines (leaves; containers show `label` in one line).
    pub lines: Vec<String>,
    /// What it is (drives the style).
    pub kind: NodeKind,
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// Nesting depth (0 for top-level places).
    pub depth: usize,
    /// Whether it contains other nodes (drawn as a frame with a title strip).
    pub container: bool,
}

impl NodeBox {
    /// Where the packet sits when it is at this node: a leaf's centre, or the
    /// middle of a container's title strip (its centre is its children's).
    pub fn anchor(&self) -> Point {
        if self.container {
            Point {
                x: self.x + self.w / 2.0,
                y: self.y + HEADER / 2.0,
            }
        } else {
            Point {
                x: self.x + self.w / 2.0,
                y: self.y + self.h / 2.0,
            }
        }
    }

    /// Whether `other` lies wholly inside this box.
    pub fn contains(&self, other: &NodeBox) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.x + other.w <= self.x + self.w
            && other.y + other.h <= self.y + self.h
    }

    /// Whether the two boxes share any area.
    pub fn overlaps(&self, other: &NodeBox) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// CSS class for a kind of place (`kind-kube-node`).
pub fn kind_class(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Host => "kind-host",
        NodeKind::Namespace => "kind-namespace",
        NodeKind::Pod => "kind-pod",
        NodeKind::KubeNode => "kind-kube-node",
        NodeKind::Interface => "kind-interface",
        NodeKind::Bridge => "kind-bridge",
        NodeKind::Router => "kind-router",
        NodeKind::Netfilter => "kind-netfilter",
        NodeKind::Conntrack => "kind-conntrack",
        NodeKind::KubeProxy => "kind-kube-proxy",
        NodeKind::Tunnel => "kind-tunnel",
        NodeKind::Ingress => "kind-ingress",
        NodeKind::Dns => "kind-dns",
        NodeKind::External => "kind-external",
    }
}

/// A drawn link between two anchors.
#[derive(Debug, Clone, PartialEq)]
pub struct Wire {
    /// Start.
    pub from: Point,
    /// End.
    pub to: Point,
    /// Label, drawn at the middle.
    pub label: String,
}

/// The whole diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Width of the view box.
    pub width: f64,
    /// Height of the view box.
    pub height: f64,
    /// Boxes, parents before their children (so drawing in order nests right).
    pub boxes: Vec<NodeBox>,
    /// Links.
    pub wires: Vec<Wire>,
    /// The packet's position at each hop, in hop order.
    pub stops: Vec<Point>,
}

impl Layout {
    /// The box of a node.
    pub fn node(&self, id: &str) -> Option<&NodeBox> {
        self.boxes.iter().find(|b| b.id == id)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Row,
    Column,
}

/// A node's subtree with its measured size.
struct Tree {
    index: usize,
    children: Vec<Tree>,
    w: f64,
    h: f64,
}

/// Lays out a journey's topology.
pub fn layout(journey: &Journey) -> Layout {
    let nodes = &journey.nodes;
    let children_of = |parent: Option<&str>| -> Vec<usize> {
        (0..nodes.len())
            .filter(|&i| {
                let p = nodes[i].parent.as_deref();
                // A parent that does not exist makes the node top-level.
                match parent {
                    None => p.is_none_or(|p| !nodes.iter().any(|n| n.id == p)),
                    Some(parent) => p == Some(parent),
                }
            })
            .collect()
    };
    fn build(
        index: usize,
        depth: usize,
        nodes: &[layerlab_core::journey::Node],
        children_of: &dyn Fn(Option<&str>) -> Vec<usize>,
    ) -> Tree {
        // Depth guards against a parent cycle, which the loader does not forbid.
        let children: Vec<Tree> = if depth < 8 {
            children_of(Some(&nodes[index].id))
                .into_iter()
                .map(|c| build(c, depth + 1, nodes, children_of))
                .collect()
        } else {
            Vec::new()
        };
        let (w, h) = if children.is_empty() {
            let lines = wrap_label(&nodes[index].label);
            (
                text_width(&lines),
                LEAF_H + LINE_H * (lines.len().saturating_sub(1)) as f64,
            )
        } else {
            let (cw, ch) = stack_size(&children, dir_for(&children));
            let title = text_width(std::slice::from_ref(&nodes[index].label));
            ((cw + 2.0 * PAD).max(title), ch + HEADER + PAD)
        };
        Tree {
            index,
            children,
            w,
            h,
        }
    }
    let roots: Vec<Tree> = children_of(None)
        .into_iter()
        .map(|i| build(i, 0, nodes, &children_of))
        .collect();

    // Top level: rows of at most ROW_MAX, every other row right to left.
    let mut boxes = Vec::new();
    let mut y = MARGIN;
    let mut width: f64 = 0.0;
    let rows: Vec<&[Tree]> = roots.chunks(ROW_MAX).collect();
    let row_widths: Vec<f64> = rows.iter().map(|r| stack_size(r, Dir::Row).0).collect();
    let widest = row_widths.iter().copied().fold(0.0, f64::max);
    for (r, row) in rows.iter().enumerate() {
        let (_, row_h) = stack_size(row, Dir::Row);
        // Rows are centred under the widest one.
        let mut x = MARGIN + (widest - row_widths[r]) / 2.0;
        let ordered: Vec<&Tree> = if r % 2 == 1 {
            row.iter().rev().collect()
        } else {
            row.iter().collect()
        };
        for t in ordered {
            place(t, x, y + (row_h - t.h) / 2.0, 0, nodes, &mut boxes);
            x += t.w + GAP;
        }
        width = width.max(x - GAP + MARGIN);
        y += row_h + GAP * 1.5;
    }
    let height = if rows.is_empty() {
        2.0 * MARGIN
    } else {
        y - GAP * 1.5 + MARGIN
    };

    let anchor = |id: &str| {
        boxes
            .iter()
            .find(|b: &&NodeBox| b.id == id)
            .map(NodeBox::anchor)
    };
    let wires = journey
        .links
        .iter()
        .filter_map(|l| {
            Some(Wire {
                from: anchor(&l.from)?,
                to: anchor(&l.to)?,
                label: l.label.clone(),
            })
        })
        .collect();
    let centre = Point {
        x: width / 2.0,
        y: height / 2.0,
    };
    let stops = journey
        .hops
        .iter()
        .map(|h| anchor(&h.at).unwrap_or(centre))
        .collect();
    Layout {
        width: width.max(2.0 * MARGIN),
        height,
        boxes,
        wires,
        stops,
    }
}

/// Places holding places sit side by side; places holding leaves stack them.
fn dir_for(children: &[Tree]) -> Dir {
    if children.iter().any(|c| !c.children.is_empty()) {
        Dir::Row
    } else {
        Dir::Column
    }
}

/// Wraps a label at spaces into lines of at most [`WRAP`] characters
/// (a longer word keeps its own line).
pub fn wrap_label(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in label.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= WRAP => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn text_width(lines: &[String]) -> f64 {
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (longest as f64 * CHAR_W + 28.0).max(LEAF_MIN_W)
}

fn stack_size<T: std::borrow::Borrow<Tree>>(items: &[T], dir: Dir) -> (f64, f64) {
    let gaps = GAP * items.len().saturating_sub(1) as f64;
    let (mut main, mut cross): (f64, f64) = (gaps, 0.0);
    for t in items {
        let t = t.borrow();
        let (m, c) = match dir {
            Dir::Row => (t.w, t.h),
            Dir::Column => (t.h, t.w),
        };
        main += m;
        cross = cross.max(c);
    }
    match dir {
        Dir::Row => (main, cross),
        Dir::Column => (cross, main),
    }
}

fn place(
    t: &Tree,
    x: f64,
    y: f64,
    depth: usize,
    nodes: &[layerlab_core::journey::Node],
    out: &mut Vec<NodeBox>,
) {
    let n = &nodes[t.index];
    out.push(NodeBox {
        id: n.id.clone(),
        label: n.label.clone(),
        lines: wrap_label(&n.label),
        kind: n.kind,
        x,
        y,
        w: t.w,
        h: t.h,
        depth,
        container: !t.children.is_empty(),
    });
    if t.children.is_empty() {
        return;
    }
    let dir = dir_for(&t.children);
    let (cw, ch) = stack_size(&t.children, dir);
    // Children are centred in the space under the title strip.
    let inner_x = x + (t.w - cw) / 2.0;
    let inner_y = y + HEADER;
    let mut offset = 0.0;
    for c in &t.children {
        let (cx, cy) = match dir {
            Dir::Row => (inner_x + offset, inner_y + (ch - c.h) / 2.0),
            Dir::Column => (inner_x + (cw - c.w) / 2.0, inner_y + offset),
        };
        place(c, cx, cy, depth + 1, nodes, out);
        offset += match dir {
            Dir::Row => c.w,
            Dir::Column => c.h,
        } + GAP;
    }
}

/// Checks the layout's invariants; the tests run it on every journey.
#[cfg(test)]
fn check(journey: &Journey, l: &Layout) -> Result<(), String> {
    if l.boxes.len() != journey.nodes.len() {
        return Err(format!(
            "{} boxes for {} nodes",
            l.boxes.len(),
            journey.nodes.len()
        ));
    }
    for b in &l.boxes {
        if b.x < 0.0 || b.y < 0.0 || b.x + b.w > l.width || b.y + b.h > l.height {
            return Err(format!("{} lies outside the view box", b.id));
        }
        let node = journey.nodes.iter().find(|n| n.id == b.id).unwrap();
        if let Some(p) = l.node(node.parent.as_deref().unwrap_or(""))
            && !p.contains(b)
        {
            return Err(format!("{} is not inside its parent {}", b.id, p.id));
        }
    }
    for (i, a) in l.boxes.iter().enumerate() {
        for b in &l.boxes[i + 1..] {
            let nested = a.contains(b) || b.contains(a);
            if a.overlaps(b) && !nested {
                return Err(format!("{} and {} overlap", a.id, b.id));
            }
        }
    }
    for (i, (hop, stop)) in journey.hops.iter().zip(&l.stops).enumerate() {
        let b = l
            .node(&hop.at)
            .ok_or(format!("hop {i} at unplaced {}", hop.at))?;
        if !(b.x..=b.x + b.w).contains(&stop.x) || !(b.y..=b.y + b.h).contains(&stop.y) {
            return Err(format!("hop {i}'s stop is not on {}", hop.at));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerlab_core::journey::{Hop, Link, Node};
    use layerlab_core::packet::LinkType;

    fn node(id: &str, kind: NodeKind, parent: Option<&str>) -> Node {
        Node {
            id: id.into(),
            label: id.into(),
            kind,
            parent: parent.map(Into::into),
        }
    }

    fn hop(at: &str) -> Hop {
        Hop {
            at: at.into(),
            place: at.into(),
            explain: "x".into(),
            verdict: None,
            frame: vec![],
            link: LinkType::Ethernet,
            changed: vec![],
        }
    }

    fn two_nodes() -> Journey {
        Journey {
            id: "two-nodes".into(),
            title: "t".into(),
            summary: "s".into(),
            nodes: vec![
                node("node-b", NodeKind::KubeNode, None),
                node("node-a", NodeKind::KubeNode, None),
                node("pod-a", NodeKind::Pod, Some("node-a")),
                node("eth0-a", NodeKind::Interface, Some("pod-a")),
                node("cni0-a", NodeKind::Bridge, Some("node-a")),
                node("vxlan-a", NodeKind::Tunnel, Some("node-a")),
                node("vxlan-b", NodeKind::Tunnel, Some("node-b")),
                node("pod-b", NodeKind::Pod, Some("node-b")),
                node("orphan", NodeKind::Dns, Some("nowhere")),
            ],
            links: vec![Link {
                from: "vxlan-a".into(),
                to: "vxlan-b".into(),
                label: "VXLAN 4789".into(),
            }],
            hops: ["eth0-a", "cni0-a", "vxlan-a", "vxlan-b", "pod-b"]
                .into_iter()
                .map(hop)
                .collect(),
        }
    }

    #[test]
    fn nested_nodes_sit_inside_their_parents_without_overlap() {
        let j = two_nodes();
        let l = layout(&j);
        check(&j, &l).unwrap();
        assert!(l.node("node-a").unwrap().container);
        assert!(!l.node("eth0-a").unwrap().container);
        // A missing parent does not lose the node.
        assert_eq!(l.node("orphan").unwrap().depth, 0);
    }

    #[test]
    fn places_keep_the_declared_order_and_leaves_stack_in_a_column() {
        let l = layout(&two_nodes());
        assert!(l.node("node-b").unwrap().x < l.node("node-a").unwrap().x);
        // node-a holds a pod that holds an interface: its children sit in a row.
        let a = |id: &str| l.node(id).unwrap().clone();
        assert!(a("pod-a").x < a("cni0-a").x && a("cni0-a").x < a("vxlan-a").x);
        // node-b holds only leaves: they stack.
        assert!(a("vxlan-b").y < a("pod-b").y);
        assert_eq!(a("vxlan-b").anchor().x, a("pod-b").anchor().x);
    }

    #[test]
    fn long_labels_wrap_at_spaces() {
        assert_eq!(
            wrap_label("KUBE-SEP-F7BHZ7WL3PFYMSRY -> 10.244.1.6:8080"),
            ["KUBE-SEP-F7BHZ7WL3PFYMSRY", "-> 10.244.1.6:8080"]
        );
        assert_eq!(wrap_label("eth0"), ["eth0"]);
        assert_eq!(wrap_label(""), [""]);
        let j = two_nodes();
        let mut long = j.clone();
        long.nodes[3].label = "eth0 of the pod with a rather long name".into();
        let (short_box, long_box) = (
            layout(&j).node("eth0-a").unwrap().clone(),
            layout(&long).node("eth0-a").unwrap().clone(),
        );
        assert_eq!(long_box.lines.len(), 2);
        assert!(long_box.h > short_box.h);
    }

    #[test]
    fn stops_follow_hops_and_wires_join_anchors() {
        let j = two_nodes();
        let l = layout(&j);
        assert_eq!(l.stops.len(), j.hops.len());
        assert_eq!(l.stops[3], l.node("vxlan-b").unwrap().anchor());
        assert_eq!(l.wires.len(), 1);
        assert_eq!(l.wires[0].from, l.node("vxlan-a").unwrap().anchor());
    }

    #[test]
    fn many_top_level_places_wrap_into_a_snake() {
        let mut j = two_nodes();
        j.nodes = (0..8)
            .map(|i| node(&format!("h{i}"), NodeKind::Host, None))
            .collect();
        j.hops = (0..8).map(|i| hop(&format!("h{i}"))).collect();
        j.links.clear();
        let l = layout(&j);
        check(&j, &l).unwrap();
        let b = |i: usize| l.node(&format!("h{i}")).unwrap().clone();
        assert!(b(5).y > b(4).y, "the sixth place starts a second row");
        // The second row runs right to left: h5 sits under h4's end of the row.
        assert!(b(5).x > b(7).x);
    }

    #[test]
    fn every_course_journey_lays_out_cleanly() {
        let journeys = layerlab_lessons::journeys();
        assert!(
            journeys.len() >= 5,
            "the course has {} journeys",
            journeys.len()
        );
        for j in journeys {
            let l = layout(j);
            check(j, &l).unwrap_or_else(|e| panic!("{}: {e}", j.id));
            // The diagram must stay readable when scaled to a laptop's panel.
            eprintln!("{}: {:.0} x {:.0}", j.id, l.width, l.height);
            assert!(
                l.width <= 1400.0 && l.height <= 1400.0,
                "{} is {:.0} x {:.0} units: split it or nest places",
                j.id,
                l.width,
                l.height
            );
        }
    }
}
