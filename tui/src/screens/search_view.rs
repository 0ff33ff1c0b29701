//! Drawing the search popup: the query, ranked results, and a preview of
//! the highlighted one.

use crate::app::App;
use crate::layout::centered;
use crate::render::wrap_prose;
use crate::screens::search::{HitKind, SearchHit};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Padding, Paragraph};

/// Lines kept under the results for the highlighted one's preview.
const PREVIEW_LINES: u16 = 3;

/// Draws the popup over `area`.
pub fn draw_search(frame: &mut Frame<'_>, area: Rect, app: &App<'_>) {
    let Some(popup) = app.search.as_ref() else {
        return;
    };
    let t = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(96),
        area.height.saturating_sub(2).min(24),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus)
        .padding(Padding::horizontal(1))
        .title(" Search lessons, sections and glossary ");
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let [input_area, count_area, list_area, rule_area, preview_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(PREVIEW_LINES),
    ])
    .areas(inner);

    let prompt = "/ ";
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(prompt, t.heading),
            Span::raw(popup.query.clone()),
            Span::styled(" ", t.selected),
        ])),
        input_area,
    );
    frame.set_cursor_position(Position::new(
        (input_area.x + (prompt.len() + popup.query.chars().count()) as u16)
            .min(input_area.right().saturating_sub(1)),
        input_area.y,
    ));
    let count = match popup.hits.len() {
        _ if popup.query.trim().is_empty() => {
            "Type part of a title, a heading or a term: `tcp`, `hndshk`, `kube proxy`.".into()
        }
        0 => format!("No matches for “{}”.", popup.query.trim()),
        1 => "1 match".into(),
        n => format!("{n} matches"),
    };
    frame.render_widget(Paragraph::new(Span::styled(count, t.dim)), count_area);

    let items: Vec<ListItem<'_>> = popup.hits.iter().map(|hit| result_line(app, hit)).collect();
    let list = List::new(items)
        .highlight_style(t.selected)
        .highlight_symbol("▸ ");
    let mut state =
        ListState::default().with_selected((!popup.hits.is_empty()).then_some(popup.selected));
    frame.render_stateful_widget(list, list_area, &mut state);

    frame.render_widget(
        Paragraph::new(Span::styled("─".repeat(rule_area.width as usize), t.dim)),
        rule_area,
    );
    if let Some(hit) = popup.hits.get(popup.selected) {
        let entry = &app.search_index.entries[hit.entry];
        let lesson_title = app
            .course
            .lesson(&entry.lesson)
            .map_or(entry.lesson.as_str(), |l| l.title.as_str());
        let text = match entry.kind {
            HitKind::Term => format!("{}: {}", entry.text, entry.detail),
            HitKind::Lesson => app.course.lesson(&entry.lesson).map_or(String::new(), |l| {
                format!(
                    "{} min · you will be able to: {}",
                    l.minutes,
                    l.objectives.join("; ")
                )
            }),
            HitKind::Heading => format!("A section of “{lesson_title}”."),
            HitKind::Objective => format!("A goal of “{lesson_title}”: {}", entry.text),
        };
        let mut lines = wrap_prose(&text, t.text, preview_area.width, "", "", t);
        lines.truncate(PREVIEW_LINES as usize);
        frame.render_widget(Paragraph::new(lines), preview_area);
    }
}

/// `section  Three-way handshake  · TCP: a reliable byte stream`, with
/// the matched characters highlighted.
fn result_line<'a>(app: &App<'_>, hit: &SearchHit) -> ListItem<'a> {
    let t = &app.theme;
    let entry = &app.search_index.entries[hit.entry];
    let mut spans = vec![Span::styled(format!("{:<8}", entry.kind.label()), t.dim)];
    for (i, ch) in entry.text.chars().enumerate() {
        let style = if hit.positions.contains(&i) {
            t.matched
        } else {
            t.text
        };
        spans.push(Span::styled(ch.to_string(), style));
    }
    if entry.kind != HitKind::Lesson
        && let Some(lesson) = app.course.lesson(&entry.lesson)
    {
        spans.push(Span::styled(format!("  · {}", lesson.title), t.dim));
    }
    ListItem::new(Line::from(spans))
}
