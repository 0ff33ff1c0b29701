//! The glossary screen: every term with its definition and the lesson
//! that teaches it.

use crate::action::Action;
use crate::render::wrap_prose;
use crate::theme::Theme;
use layerlab_core::Course;
use layerlab_core::GlossaryEntry;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

/// What the app must do after a glossary action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlossaryOutcome {
    /// Nothing beyond the pane's own change.
    Stay,
    /// Leave the glossary.
    Leave,
    /// Open the lesson that teaches the selected term.
    Open(String),
}

/// The glossary's state: just the selected term, kept between visits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlossaryPane {
    /// Index into `course.glossary`.
    pub selected: usize,
}

impl GlossaryPane {
    /// Applies an action to the list of `terms`.
    pub fn update(&mut self, terms: &[GlossaryEntry], action: Action) -> GlossaryOutcome {
        let last = terms.len().saturating_sub(1);
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Back => return GlossaryOutcome::Leave,
            Action::Open => {
                if let Some(entry) = terms.get(self.selected) {
                    return GlossaryOutcome::Open(entry.lesson.clone());
                }
            }
            _ => {}
        }
        GlossaryOutcome::Stay
    }
}

/// Draws the term list and the selected term's definition.
/// Draws the glossary: the terms, and the selected one's meaning and lesson.
pub fn draw_glossary(
    frame: &mut Frame<'_>,
    area: Rect,
    pane: &GlossaryPane,
    course: &Course,
    t: &Theme,
) {
    let glossary = &course.glossary;
    let list_width = if area.width >= 100 {
        36
    } else {
        area.width * 2 / 5
    };
    let [list_area, detail_area] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(20)]).areas(area);
    let items: Vec<ListItem<'_>> = glossary
        .iter()
        .map(|g| ListItem::new(g.term.clone()))
        .collect();
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.focus)
                .title(format!(" Glossary · {} terms ", glossary.len())),
        )
        .highlight_style(t.selected);
    let mut state = ListState::default().with_selected(Some(pane.selected));
    frame.render_stateful_widget(list, list_area, &mut state);

    let block = Block::default().borders(Borders::ALL).title(" Definition ");
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    let width = inner.width.saturating_sub(2);
    let mut lines = Vec::new();
    match glossary.get(pane.selected) {
        Some(entry) => {
            lines.push(Line::from(Span::styled(entry.term.clone(), t.title)));
            lines.push(Line::default());
            lines.extend(wrap_prose(&entry.definition, t.text, width, "", "", t));
            lines.push(Line::default());
            if let Some(lesson) = course.lesson(&entry.lesson) {
                let chapter = course
                    .chapter_of(&lesson.id)
                    .map_or(String::new(), |c| format!("{} › ", c.title));
                let taught = format!("Taught in: {chapter}{}", lesson.title);
                lines.extend(wrap_prose(&taught, t.dim, width, "", "  ", t));
                lines.push(Line::default());
                lines.push(Line::from(Span::styled("Enter: open the lesson", t.dim)));
            }
        }
        None => lines.push(Line::from("The course has no glossary yet.")),
    }
    let text_area = Rect {
        x: inner.x + 1,
        width,
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text_area);
}
