//! Draws the lab screen: instructions and the step checklist on one side,
//! the sandbox shell on the other (stacked on narrow terminals).

use super::lab::{LabFocus, LabScreen};
use crate::render::render_document;
use crate::shell::Shell;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

fn pane<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.focus } else { theme.dim })
        .title(Span::styled(
            title,
            if focused { theme.focus } else { theme.heading },
        ))
}

/// The step's text: instructions, checklist, failure details, hints,
/// solution and answer, as lines for a pane of `width`.
pub fn step_lines(s: &LabScreen, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let step = &s.lab.steps[s.step];
    let mut lines = render_document(&step.document, width, theme);
    lines.push(Line::default());
    let result = s.results[s.step].as_ref();
    let status = if s.checking {
        Span::styled("checking…", theme.partial)
    } else {
        match result {
            Some(r) if r.passed => Span::styled("step passed", theme.good),
            Some(_) => Span::styled("not yet", theme.bad),
            None => Span::styled("not checked yet", theme.dim),
        }
    };
    lines.push(Line::from(vec![
        Span::styled("Checks · ", theme.heading),
        status,
    ]));
    for (i, c) in step.checks.iter().enumerate() {
        let r = result.and_then(|r| r.checks.get(i));
        let (mark, style) = match r {
            Some(r) if r.passed => ("✓", theme.good),
            Some(_) => ("✗", theme.bad),
            None => ("·", theme.dim),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark} "), style),
            Span::styled(c.title.clone(), theme.text),
        ]));
        if let Some(r) = r.filter(|r| !r.passed) {
            lines.push(Line::from(Span::styled(
                format!("     {}", r.message),
                theme.bad,
            )));
            for m in r.mismatches.iter().take(4) {
                lines.push(Line::from(vec![
                    Span::styled(format!("     {}: ", m.path), theme.dim),
                    Span::styled(format!("expected {}", m.expected), theme.good),
                    Span::styled(format!(", observed {}", m.observed), theme.bad),
                ]));
            }
        }
        if let Some(r) = r.filter(|r| r.kind == "capture" || r.kind == "answer")
            && !r.evidence.is_empty()
        {
            for l in r.evidence.lines().take(12) {
                lines.push(Line::from(Span::styled(format!("     {l}"), theme.code)));
            }
        }
    }
    let shown = s.hints_shown() as usize;
    if shown > 0 {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Hints", theme.heading)));
        for h in step.hints.iter().take(shown) {
            lines.push(Line::from(Span::styled(
                format!(" • {}", h.text.trim()),
                theme.text,
            )));
        }
    }
    if s.show_solution {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Solution", theme.heading)));
        for cmd in &step.solution {
            lines.push(Line::from(Span::styled(format!("  $ {cmd}"), theme.code)));
        }
    }
    if let Some(q) = s.asks() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(q.to_string(), theme.heading)));
        let typing = s.focus == LabFocus::Answer;
        let cursor = if typing { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(" answer: ", theme.dim),
            Span::styled(
                format!("{}{cursor}", s.answers[s.step]),
                if typing { theme.focus } else { theme.text },
            ),
            Span::styled(
                if typing {
                    "  (Enter: check)"
                } else {
                    "  (a: type an answer)"
                },
                theme.dim,
            ),
        ]));
    }
    if let Some(note) = &s.note {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(note.clone(), theme.partial)));
    }
    lines
}

/// Draws the lab screen into `area`.
pub fn draw_lab(
    frame: &mut Frame<'_>,
    area: Rect,
    s: &LabScreen,
    shell: Option<&mut Shell>,
    theme: &Theme,
) {
    let wide = area.width >= 110;
    let [left, right] = if wide {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    };
    let passed = s
        .results
        .iter()
        .filter(|r| r.as_ref().is_some_and(|r| r.passed))
        .count();
    let title = format!(
        " Lab: {} · step {}/{} · {} passed ",
        s.lab.title,
        s.step + 1,
        s.lab.steps.len(),
        passed
    );
    let block = pane(title, s.focus != LabFocus::Shell, theme);
    let inner = block.inner(left);
    frame.render_widget(block, left);
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    // Step strip: one mark per step.
    let mut strip = vec![];
    for (i, r) in s.results.iter().enumerate() {
        let style = match r {
            Some(r) if r.passed => theme.good,
            Some(_) => theme.bad,
            None => theme.dim,
        };
        let style = if i == s.step {
            style.patch(theme.selected)
        } else {
            style
        };
        strip.push(Span::styled(format!(" {} ", i + 1), style));
    }
    let step = &s.lab.steps[s.step];
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(strip),
            Line::from(Span::styled(step.title.clone(), theme.title)),
        ]),
        head,
    );
    let lines = step_lines(s, body.width.saturating_sub(1), theme);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((s.scroll, 0)),
        body,
    );

    let focused = s.focus == LabFocus::Shell;
    let title = if focused {
        " Shell in the lab sandbox · Ctrl-O: back to the steps ".to_string()
    } else {
        " Shell in the lab sandbox · Tab: type here ".to_string()
    };
    let block = pane(title, focused, theme);
    let inner = block.inner(right);
    frame.render_widget(block, right);
    match (&s.ready, shell) {
        (Some(Err(why)), _) => frame.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled("The lab sandbox could not start:", theme.bad)),
                Line::from(Span::styled(why.clone(), theme.text)),
            ])
            .wrap(Wrap { trim: false }),
            inner,
        ),
        (_, Some(sh)) => {
            sh.resize(inner.height, inner.width);
            let parser = sh.screen();
            let mut term = tui_term::widget::PseudoTerminal::new(parser.screen());
            if !focused {
                term = term.cursor(tui_term::widget::Cursor::default().visibility(false));
            }
            frame.render_widget(term, inner);
        }
        (_, None) => frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                "starting the lab sandbox…",
                Style::default().patch(theme.dim),
            ))),
            inner,
        ),
    }
}
