//! Drawing the packet journey view: the topology with the packet's place
//! highlighted, the hops, the frame's field tree with changes marked, and
//! the bytes with the selected field highlighted.
//!
//! Wide terminals (100×30 and up) get every pane; smaller ones stack the
//! topology, the current hop and the frame, drop the hop list, and fall back
//! to a one-line path when the box diagram does not fit.

use crate::app::App;
use crate::layout::centered;
use crate::render::wrap_prose;
use crate::screens::journey::{FieldRow, JourneyFocus, JourneyPane, RowKind};
use crate::theme::Theme;
use layerlab_core::Journey;
use layerlab_core::packet::ByteRange;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Longest node label drawn in a box.
const MAX_LABEL: usize = 18;
/// Longest link label drawn between boxes.
const MAX_LINK_LABEL: usize = 10;
/// Width of the hop column in wide layouts.
const HOPS_WIDTH: u16 = 44;

/// Draws the journey view into `area`.
pub fn draw_journey(frame: &mut Frame<'_>, area: Rect, app: &mut App<'_>) {
    let t = app.theme.clone();
    let Some(pane) = app.journey.as_mut() else {
        return;
    };
    let wide = area.width >= 100 && area.height >= 30;
    let inner_width = area.width.saturating_sub(2) as usize;
    let max_diagram = if wide {
        (area.height / 3).saturating_sub(2) as usize
    } else {
        4
    };
    // The richest drawing that fits: wires labelled, then plain, then one line.
    let mut diagram = topology(&pane.journey, pane.hop, inner_width, true, &t);
    if diagram.len() > max_diagram {
        diagram = topology(&pane.journey, pane.hop, inner_width, false, &t);
    }
    if diagram.len() > max_diagram {
        diagram = vec![path_line(&pane.journey, pane.hop, inner_width, &t)];
    }
    let [top, rest] = Layout::vertical([
        Constraint::Length(diagram.len() as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(area);
    let player = if pane.playing {
        format!(" ▶ playing {} ", pane.speed.label())
    } else {
        format!(" paused · {} ", pane.speed.label())
    };
    let topo = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Journey · {} ", pane.journey.title))
        .title(Line::from(player).right_aligned());
    let topo_inner = topo.inner(top);
    frame.render_widget(topo, top);
    frame.render_widget(Paragraph::new(diagram), topo_inner);

    if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Length(HOPS_WIDTH), Constraint::Min(20)]).areas(rest);
        let hop_lines = hop_detail(pane, left.width.saturating_sub(4), &t);
        // The list takes what it needs when the explanation still fits;
        // otherwise the two share the column.
        let list_need = pane.hop_count() as u16 + 2;
        let detail_need = hop_lines.len() as u16 + 2;
        let list_height = if list_need + detail_need <= left.height {
            list_need
        } else {
            left.height
                .saturating_sub(detail_need)
                .max(left.height / 2)
                .max(3)
        };
        let [list_area, hop_area] =
            Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(left);
        draw_hop_list(frame, list_area, pane, &t);
        draw_hop(frame, hop_area, pane, hop_lines, &t, false);
        let hex_height = hex_height(pane, right.width, right.height / 2);
        let [fields_area, hex_area] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(hex_height)]).areas(right);
        draw_fields(frame, fields_area, pane, &t, 3);
        draw_hex(frame, hex_area, pane, &t);
    } else {
        let mut hop_lines = hop_detail(pane, area.width.saturating_sub(4), &t);
        // The changed list is in the field tree too; here room is short.
        hop_lines.truncate(4);
        let hop_height = (hop_lines.len() as u16 + 2).min(rest.height / 3).max(3);
        let [hop_area, frame_area] =
            Layout::vertical([Constraint::Length(hop_height), Constraint::Min(3)]).areas(rest);
        draw_hop(frame, hop_area, pane, hop_lines, &t, true);
        let hex_width = 31;
        if frame_area.width >= 64 {
            let [fields_area, hex_area] =
                Layout::horizontal([Constraint::Min(20), Constraint::Length(hex_width)])
                    .areas(frame_area);
            draw_fields(frame, fields_area, pane, &t, 2);
            draw_hex(frame, hex_area, pane, &t);
        } else if pane.focus == JourneyFocus::Hex {
            draw_hex(frame, frame_area, pane, &t);
        } else {
            draw_fields(frame, frame_area, pane, &t, 2);
        }
    }
}

fn pane_block<'a>(title: String, focused: bool, t: &Theme) -> Block<'a> {
    let block = Block::default().borders(Borders::ALL).title(title);
    if focused {
        block.border_style(t.focus)
    } else {
        block
    }
}

/// Truncates to `max` display columns, marking the cut with `…`.
fn clip(s: &str, max: usize) -> String {
    if Span::raw(s).width() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for ch in s.chars() {
        if Span::raw(out.as_str()).width() + 2 > max {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

fn width_of(s: &str) -> usize {
    Span::raw(s).width()
}

// ---- topology --------------------------------------------------------------

/// Nodes drawn as boxes, in the order the wires join them, starting from
/// the packet's first place and preferring at forks the branch the packet
/// takes first. A container (a
/// Kubernetes node holding pods) the packet never stops at becomes a
/// caption over its children instead of a box.
fn box_order(j: &Journey) -> Vec<usize> {
    let n = j.nodes.len();
    let first_visit: Vec<usize> = j
        .nodes
        .iter()
        .map(|node| {
            j.hops
                .iter()
                .position(|h| h.at == node.id)
                .unwrap_or(usize::MAX)
        })
        .collect();
    let is_box: Vec<bool> = (0..n)
        .map(|i| {
            let is_parent = j
                .nodes
                .iter()
                .any(|c| c.parent.as_deref() == Some(&j.nodes[i].id));
            first_visit[i] != usize::MAX || !is_parent
        })
        .collect();
    let neighbours: Vec<Vec<usize>> = (0..n)
        .map(|a| {
            let mut v: Vec<usize> = (0..n)
                .filter(|&b| b != a && is_box[b] && linked(j, a, b).is_some())
                .collect();
            v.sort_by_key(|&b| (first_visit[b], b));
            v
        })
        .collect();
    // Each group of wired places is walked depth first from the place the
    // packet reaches first, so the drawing reads in the packet's direction.
    let mut starts: Vec<usize> = (0..n).filter(|&i| is_box[i]).collect();
    starts.sort_by_key(|&i| (first_visit[i], i));
    let mut order = Vec::new();
    let mut placed = vec![false; n];
    for start in starts {
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if placed[i] {
                continue;
            }
            placed[i] = true;
            order.push(i);
            // Pushed in reverse so the preferred neighbour is taken next.
            stack.extend(neighbours[i].iter().rev().filter(|&&b| !placed[b]));
        }
    }
    order
}

fn linked(j: &Journey, a: usize, b: usize) -> Option<&str> {
    let (a, b) = (&j.nodes[a].id, &j.nodes[b].id);
    j.links
        .iter()
        .find(|l| (&l.from == a && &l.to == b) || (&l.from == b && &l.to == a))
        .map(|l| l.label.as_str())
}

/// How a node is drawn: the packet is here, has been here, or not yet.
fn node_style(j: &Journey, hop: usize, node: usize, t: &Theme) -> (bool, Style) {
    let id = &j.nodes[node].id;
    let visited = j.hops.iter().take(hop + 1).any(|h| &h.at == id);
    let current = j.hops.get(hop).is_some_and(|h| &h.at == id);
    match (current, visited) {
        (true, _) => (true, t.focus),
        (false, true) => (false, t.text),
        (false, false) => (false, t.dim),
    }
}

/// The box diagram: rows of boxes joined by their links, captions for the
/// containers above. Links between boxes that are not neighbours in the
/// drawing are listed under it.
fn topology(
    j: &Journey,
    hop: usize,
    width: usize,
    link_labels: bool,
    t: &Theme,
) -> Vec<Line<'static>> {
    let order = box_order(j);
    if order.is_empty() {
        return vec![Line::from(Span::styled(
            "No places in this journey.",
            t.dim,
        ))];
    }
    // Pack boxes into rows that fit.
    struct Item {
        node: usize,
        lead: String,
        label: String,
    }
    let mut rows: Vec<Vec<Item>> = vec![Vec::new()];
    let mut x = 0;
    let mut drawn_links: Vec<(usize, usize)> = Vec::new();
    for (k, &node) in order.iter().enumerate() {
        let label = clip(&j.nodes[node].label, MAX_LABEL);
        let prev = k.checked_sub(1).map(|p| order[p]);
        let link = prev.and_then(|p| linked(j, p, node));
        let connector = match link {
            Some(l) if link_labels && !l.is_empty() => format!("─ {} ─", clip(l, MAX_LINK_LABEL)),
            Some(_) => "───".to_string(),
            None => "   ".to_string(),
        };
        let box_w = width_of(&label) + 4;
        let Some(row) = rows.last_mut() else { break };
        let lead = if row.is_empty() {
            String::new()
        } else {
            connector.clone()
        };
        if !row.is_empty() && x + width_of(&lead) + box_w > width {
            // Continue on a new row; an arrow shows the wire goes on.
            let lead = if link.is_some() { "→─" } else { "" }.to_string();
            x = width_of(&lead) + box_w;
            rows.push(vec![Item { node, lead, label }]);
        } else {
            x += width_of(&lead) + box_w;
            row.push(Item { node, lead, label });
        }
        if let (Some(p), Some(_)) = (prev, link) {
            drawn_links.push((p, node));
        }
    }
    let mut lines = Vec::new();
    // Rows whose wire goes on to the next row (it starts with an arrow).
    let continues: Vec<bool> = (0..rows.len())
        .map(|r| rows.get(r + 1).is_some_and(|next| !next[0].lead.is_empty()))
        .collect();
    for (r, row) in rows.into_iter().enumerate() {
        let continues = continues[r];
        let has_parent = row.iter().any(|i| j.nodes[i.node].parent.is_some());
        let mut caption: Vec<Span<'static>> = Vec::new();
        let mut top: Vec<Span<'static>> = Vec::new();
        let mut mid: Vec<Span<'static>> = Vec::new();
        let mut bottom: Vec<Span<'static>> = Vec::new();
        // Runs of neighbours with the same container share one caption.
        let mut k = 0;
        while k < row.len() {
            let parent = j.nodes[row[k].node].parent.clone();
            let mut end = k + 1;
            while end < row.len() && j.nodes[row[end].node].parent == parent {
                end += 1;
            }
            let lead_w = width_of(&row[k].lead);
            let span_w: usize = (k..end)
                .map(|i| {
                    width_of(&row[i].label) + 4 + if i > k { width_of(&row[i].lead) } else { 0 }
                })
                .sum();
            caption.push(Span::raw(" ".repeat(lead_w)));
            let text = match parent
                .as_deref()
                .and_then(|p| j.nodes.iter().find(|n| n.id == p))
            {
                Some(p) => {
                    let name = clip(&p.label, span_w.saturating_sub(2));
                    let fill = span_w.saturating_sub(width_of(&name) + 1);
                    format!("{name} {}", "┄".repeat(fill))
                }
                None => " ".repeat(span_w),
            };
            caption.push(Span::styled(text, t.dim));
            k = end;
        }
        for item in &row {
            let (is_current, style) = node_style(j, hop, item.node, t);
            let inner = width_of(&item.label) + 2;
            let (h, v, corners) = if is_current {
                ("━", "┃", ["┏", "┓", "┗", "┛"])
            } else {
                ("─", "│", ["┌", "┐", "└", "┘"])
            };
            let blank = " ".repeat(width_of(&item.lead));
            let link_style = if item.lead.trim().is_empty() {
                t.dim
            } else {
                t.diagram
            };
            top.push(Span::raw(blank.clone()));
            top.push(Span::styled(
                format!("{}{}{}", corners[0], h.repeat(inner), corners[1]),
                style,
            ));
            mid.push(Span::styled(item.lead.clone(), link_style));
            mid.push(Span::styled(v.to_string(), style));
            let label_style = if is_current { t.selected } else { style };
            mid.push(Span::styled(format!(" {} ", item.label), label_style));
            mid.push(Span::styled(v.to_string(), style));
            bottom.push(Span::raw(blank));
            bottom.push(Span::styled(
                format!("{}{}{}", corners[2], h.repeat(inner), corners[3]),
                style,
            ));
        }
        if continues {
            mid.push(Span::styled("─→", t.diagram));
        }
        if has_parent {
            lines.push(Line::from(caption));
        }
        lines.push(Line::from(top));
        lines.push(Line::from(mid));
        lines.push(Line::from(bottom));
    }
    // Wires the rows could not draw (a reply path, a side branch).
    for l in &j.links {
        let ends = (
            j.nodes.iter().position(|n| n.id == l.from),
            j.nodes.iter().position(|n| n.id == l.to),
        );
        let (Some(a), Some(b)) = ends else { continue };
        if drawn_links.contains(&(a, b)) || drawn_links.contains(&(b, a)) {
            continue;
        }
        let label = if l.label.is_empty() {
            String::new()
        } else {
            format!("  ({})", l.label)
        };
        lines.push(Line::from(Span::styled(
            clip(
                &format!(
                    "  also wired: {} ── {}{label}",
                    j.nodes[a].label, j.nodes[b].label
                ),
                width,
            ),
            t.dim,
        )));
    }
    lines
}

/// One line for small terminals: `client ─ router ─ [backend]`, scrolled so
/// the packet's place is in view.
fn path_line(j: &Journey, hop: usize, width: usize, t: &Theme) -> Line<'static> {
    let order = box_order(j);
    let mut segments: Vec<(String, Style)> = Vec::new();
    let mut current_end = 0;
    for (k, &node) in order.iter().enumerate() {
        if k > 0 {
            let sep = if linked(j, order[k - 1], node).is_some() {
                " ─ "
            } else {
                "   "
            };
            segments.push((sep.to_string(), t.diagram));
        }
        let (is_current, style) = node_style(j, hop, node, t);
        let label = clip(&j.nodes[node].label, MAX_LABEL);
        if is_current {
            segments.push((format!("[{label}]"), t.selected));
            current_end = segments.len();
        } else {
            segments.push((label, style));
        }
    }
    // Drop whole segments from the left until the current place fits.
    let widths: Vec<usize> = segments.iter().map(|(s, _)| width_of(s)).collect();
    let mut start = 0;
    while start < current_end && widths[start..current_end].iter().sum::<usize>() + 2 > width {
        start += 1;
    }
    let mut spans = Vec::new();
    if start > 0 {
        spans.push(Span::styled("… ", t.dim));
    }
    spans.extend(
        segments
            .into_iter()
            .skip(start)
            .map(|(s, st)| Span::styled(s, st)),
    );
    Line::from(spans)
}

// ---- hops -------------------------------------------------------------------

fn verdict_style(verdict: &str, t: &Theme) -> Style {
    let v = verdict.to_ascii_lowercase();
    if ["drop", "reject", "refuse", "unreachable", "timeout", "lost"]
        .iter()
        .any(|w| v.contains(w))
    {
        t.bad
    } else {
        t.good
    }
}

/// The current hop: where, what became of it, why, and what changed.
fn hop_detail(pane: &JourneyPane, width: u16, t: &Theme) -> Vec<Line<'static>> {
    let Some(h) = pane.journey.hops.get(pane.hop) else {
        return vec![Line::from(Span::styled("This journey has no hops.", t.dim))];
    };
    let mut head = vec![Span::styled(h.place.clone(), t.heading)];
    if let Some(v) = &h.verdict {
        head.push(Span::raw("  → "));
        head.push(Span::styled(v.clone(), verdict_style(v, t)));
    }
    let mut lines = vec![Line::from(head)];
    lines.extend(wrap_prose(&h.explain, t.text, width, "", "", t));
    let shown: Vec<&str> = h
        .changed
        .iter()
        .map(String::as_str)
        .filter(|c| !is_derived(c))
        .collect();
    if !shown.is_empty() {
        let derived = h.changed.len() - shown.len();
        let more = if derived > 0 {
            format!(" (and {derived} lengths and checksums)")
        } else {
            String::new()
        };
        let text = format!("Changed: {}{more}", shown.join(", "));
        lines.extend(wrap_prose(&text, t.dim, width, "", "  ", t));
    }
    lines
}

/// Fields that follow from others (checksums, lengths): listed apart.
fn is_derived(path: &str) -> bool {
    path.rsplit('.')
        .next()
        .is_some_and(|k| ["checksum", "total_len", "length", "payload_len"].contains(&k))
}

fn draw_hop(
    frame: &mut Frame<'_>,
    area: Rect,
    pane: &JourneyPane,
    lines: Vec<Line<'static>>,
    t: &Theme,
    with_timeline: bool,
) {
    let node = pane
        .journey
        .hops
        .get(pane.hop)
        .and_then(|h| pane.journey.nodes.iter().find(|n| n.id == h.at))
        .map_or(String::new(), |n| format!(" · {}", n.label));
    let mut title = format!(" Hop {} of {}{node} ", pane.hop + 1, pane.hop_count());
    // A dot per hop, when they fit: where the packet is in its trip.
    let dots = pane.hop_count() * 2;
    if with_timeline && title.chars().count() + dots + 4 < area.width as usize {
        let strip: String = (0..pane.hop_count())
            .map(|i| match i.cmp(&pane.hop) {
                std::cmp::Ordering::Less => "● ",
                std::cmp::Ordering::Equal => "◉ ",
                std::cmp::Ordering::Greater => "○ ",
            })
            .collect();
        title.push_str(&format!(" {}", strip));
    }
    let block = pane_block(title, with_timeline && pane.focus == JourneyFocus::Hops, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text_area = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text_area);
}

fn draw_hop_list(frame: &mut Frame<'_>, area: Rect, pane: &JourneyPane, t: &Theme) {
    let block = pane_block(
        format!(" Hops · {} of {} ", pane.hop + 1, pane.hop_count()),
        pane.focus == JourneyFocus::Hops,
        t,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let width = inner.width as usize;
    // Keep the current hop near the middle as the packet moves.
    let offset = pane
        .hop
        .saturating_sub(height / 2)
        .min(pane.hop_count().saturating_sub(height));
    let number_w = pane.hop_count().to_string().len();
    let lines: Vec<Line<'_>> = pane
        .journey
        .hops
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, h)| {
            let node = pane
                .journey
                .nodes
                .iter()
                .find(|n| n.id == h.at)
                .map_or(h.at.as_str(), |n| n.label.as_str());
            let marker = if i == pane.hop { "▸" } else { " " };
            let text = clip(
                &format!("{marker}{:>number_w$} {node} · {}", i + 1, h.place),
                width,
            );
            let padded = format!("{text:<width$}");
            let style = match i.cmp(&pane.hop) {
                std::cmp::Ordering::Equal => t.selected,
                std::cmp::Ordering::Less => t.text,
                std::cmp::Ordering::Greater => t.dim,
            };
            Line::from(Span::styled(padded, style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

// ---- field tree ---------------------------------------------------------------

fn draw_fields(frame: &mut Frame<'_>, area: Rect, pane: &mut JourneyPane, t: &Theme, detail: u16) {
    let any_changed = pane.rows.iter().any(|r| r.changed);
    let legend = if any_changed && pane.hop > 0 {
        " · • changed"
    } else {
        ""
    };
    let block = pane_block(
        format!(" Frame · {} bytes{legend} ", pane.dissection.len),
        pane.focus == JourneyFocus::Fields,
        t,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width.saturating_sub(1) as usize;
    let detail_lines = match pane.selected_row() {
        Some(row) => {
            let mut l = wrap_prose(&row_detail(pane, row), t.text, width as u16, "", "", t);
            l.truncate(detail as usize);
            l
        }
        None => vec![],
    };
    let [list_area, detail_area] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(detail_lines.len() as u16),
    ])
    .areas(inner);
    let list_area = Rect {
        x: list_area.x + 1,
        width: list_area.width.saturating_sub(1),
        ..list_area
    };
    let detail_area = Rect {
        x: detail_area.x + 1,
        width: detail_area.width.saturating_sub(1),
        ..detail_area
    };
    let height = list_area.height as usize;
    if pane.selected < pane.field_offset {
        pane.field_offset = pane.selected;
    } else if height > 0 && pane.selected >= pane.field_offset + height {
        pane.field_offset = pane.selected + 1 - height;
    }
    pane.field_offset = pane
        .field_offset
        .min(pane.rows.len().saturating_sub(height));
    let name_w = pane
        .dissection
        .layers
        .iter()
        .flat_map(|l| &l.fields)
        .map(|f| width_of(&f.name))
        .max()
        .unwrap_or(0)
        .min(20);
    let lines: Vec<Line<'_>> = pane
        .rows
        .iter()
        .enumerate()
        .skip(pane.field_offset)
        .take(height)
        .map(|(i, row)| field_line(pane, row, i == pane.selected, name_w, width, t))
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("No frame at this hop.", t.dim)),
            list_area,
        );
    }
    frame.render_widget(Paragraph::new(lines), list_area);
    frame.render_widget(Paragraph::new(detail_lines), detail_area);
}

fn field_line(
    pane: &JourneyPane,
    row: &FieldRow,
    selected: bool,
    name_w: usize,
    width: usize,
    t: &Theme,
) -> Line<'static> {
    let d = &pane.dissection;
    let mut spans: Vec<Span<'static>> = match row.kind {
        RowKind::Layer(li) => {
            let layer = &d.layers[li];
            let mark = if row.changed { "+" } else { "▾" };
            vec![
                Span::styled(format!("{mark} {}", layer.name), t.heading),
                Span::styled(format!("  {}", layer.summary), t.dim),
            ]
        }
        RowKind::Field(li, fi) => {
            let f = &d.layers[li].fields[fi];
            let mark = if row.changed { "•" } else { " " };
            let name = clip(&f.name, name_w);
            let mut s = vec![
                Span::styled(format!("  {mark} "), t.matched),
                Span::raw(format!("{name:<name_w$}  ")),
                Span::styled(
                    f.value.clone(),
                    if row.changed { t.matched } else { t.text },
                ),
            ];
            if let Some(was) = &row.was {
                // Only whole: the foot of the pane has it in full anyway.
                let was = format!("  was {was}");
                let used: usize = s.iter().map(Span::width).sum();
                if used + width_of(&was) <= width {
                    s.push(Span::styled(was, t.dim));
                }
            }
            s
        }
        RowKind::Stopped => {
            let reason = d.stopped.as_ref().map_or("", |s| s.reason.as_str());
            vec![Span::styled(format!("! unread: {reason}"), t.bad)]
        }
    };
    let mut line = Line::from(std::mem::take(&mut spans));
    let used = line.width();
    if selected {
        if used < width {
            line.spans.push(Span::raw(" ".repeat(width - used)));
        }
        for s in &mut line.spans {
            s.style = s.style.patch(t.selected);
        }
    }
    line
}

fn bytes_text(r: ByteRange) -> String {
    match r.end.saturating_sub(r.start) {
        0 => format!("no bytes (at offset {})", r.start),
        1 => format!("byte {}", r.start),
        n => format!("bytes {}–{} ({n})", r.start, r.end - 1),
    }
}

/// A sentence about the selected row for the foot of the field tree.
fn row_detail(pane: &JourneyPane, row: &FieldRow) -> String {
    let d = &pane.dissection;
    match row.kind {
        RowKind::Layer(li) => {
            let l = &d.layers[li];
            let added = if row.changed {
                " Added at this hop."
            } else {
                ""
            };
            format!("{}: {}, {}.{added}", l.name, l.summary, bytes_text(l.range))
        }
        RowKind::Field(li, fi) => {
            let f = &d.layers[li].fields[fi];
            let meaning = f
                .meaning
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let was = row
                .was
                .as_deref()
                .map(|w| format!(" Was {w}."))
                .unwrap_or_default();
            format!(
                "{} = `{}`{meaning}. {}.{was}",
                f.name,
                f.value,
                capitalize(&bytes_text(f.range))
            )
        }
        RowKind::Stopped => match &d.stopped {
            Some(s) => format!(
                "Dissection stopped at byte {} in {}: {}.",
                s.offset, s.layer, s.reason
            ),
            None => String::new(),
        },
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---- hex --------------------------------------------------------------------

/// Bytes per line and whether the ASCII column fits, for an inner width.
fn hex_shape(width: u16) -> (usize, bool) {
    match width {
        73.. => (16, true),
        55.. => (16, false),
        40.. => (8, true),
        29.. => (8, false),
        _ => (4, false),
    }
}

/// Height for the hex pane: the whole frame if it fits in `max`.
fn hex_height(pane: &JourneyPane, width: u16, max: u16) -> u16 {
    let (per_line, _) = hex_shape(width.saturating_sub(2));
    let lines = pane.dissection.len.div_ceil(per_line).max(1) as u16;
    (lines + 2).min(max.max(4))
}

fn draw_hex(frame: &mut Frame<'_>, area: Rect, pane: &mut JourneyPane, t: &Theme) {
    let selected = pane.selected_row().map(|r| r.range);
    let title = match selected {
        Some(r) => format!(" Hex · {} ", bytes_text(r)),
        None => " Hex ".to_string(),
    };
    let block = pane_block(title, pane.focus == JourneyFocus::Hex, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (per_line, ascii) = hex_shape(inner.width);
    let Some(h) = pane.journey.hops.get(pane.hop) else {
        return;
    };
    let data = &h.frame;
    let total = data.len().div_ceil(per_line);
    let height = inner.height as usize;
    let max_offset = total.saturating_sub(height);
    let offset = match (pane.hex_scroll, selected) {
        (Some(s), _) => {
            let s = s.min(max_offset);
            // Written back so scrolling up after the end responds at once.
            pane.hex_scroll = Some(s);
            s
        }
        (None, Some(r)) if r.end > r.start => {
            let first = r.start / per_line;
            let last = (r.end - 1) / per_line;
            if last < height {
                0
            } else if last - first < height {
                last + 1 - height
            } else {
                first
            }
        }
        _ => 0,
    }
    .min(max_offset);
    let changed: Vec<ByteRange> = pane
        .rows
        .iter()
        .filter(|r| r.changed && pane.hop > 0)
        .map(|r| r.range)
        .collect();
    let style_of = |i: usize| -> Style {
        if selected.is_some_and(|r| r.contains(i)) {
            t.selected
        } else if changed.iter().any(|r| r.contains(i)) {
            t.matched
        } else {
            t.text
        }
    };
    let lines: Vec<Line<'_>> = (offset..total)
        .take(height)
        .map(|line| {
            let start = line * per_line;
            let end = (start + per_line).min(data.len());
            let mut spans = vec![Span::styled(format!("{start:04x}  "), t.dim)];
            for (i, b) in data.iter().enumerate().take(end).skip(start) {
                spans.push(Span::styled(format!("{b:02x}"), style_of(i)));
                if i + 1 < end {
                    // The gap is part of the highlight when both sides are.
                    let gap = if per_line == 16 && i - start == 7 {
                        "  "
                    } else {
                        " "
                    };
                    let gap_style = if style_of(i) == style_of(i + 1) {
                        style_of(i)
                    } else {
                        t.text
                    };
                    spans.push(Span::styled(gap, gap_style));
                }
            }
            if ascii {
                let pad = per_line - (end - start);
                let pad_w = pad * 3 + usize::from(per_line == 16 && end - start <= 8);
                spans.push(Span::raw(format!("{}  ", " ".repeat(pad_w))));
                for (i, &b) in data.iter().enumerate().take(end).skip(start) {
                    let c = layerlab_core::packet::names::printable(b);
                    spans.push(Span::styled(c.to_string(), style_of(i)));
                }
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

// ---- picker -----------------------------------------------------------------

/// Draws the journey picker over the lesson.
pub fn draw_picker(frame: &mut Frame<'_>, area: Rect, app: &App<'_>) {
    let Some(picker) = app.journey_picker.as_ref() else {
        return;
    };
    let t = &app.theme;
    let width = area.width.saturating_sub(4).min(72);
    let inner_w = width.saturating_sub(4) as usize;
    let mut lines = Vec::new();
    for (k, &j) in picker.choices.iter().enumerate() {
        let Some(journey) = app.journeys.get(j) else {
            continue;
        };
        let chosen = k == picker.selected;
        let head = clip(&format!("{} {}", k + 1, journey.title), inner_w);
        lines.push(Line::from(Span::styled(
            format!("{head:<inner_w$}"),
            if chosen { t.selected } else { t.heading },
        )));
        lines.push(Line::from(Span::styled(
            clip(&format!("  {}", journey.summary), inner_w),
            t.dim,
        )));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Enter: watch it   Esc: back to the lesson",
        t.dim,
    )));
    let rect = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus)
        .title(" Packet journeys of this lesson ");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let text_area = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text_area);
}
