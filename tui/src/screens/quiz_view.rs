//! Drawing the quiz: a question, the feedback on an answer, the summary.
//!
//! Lines are built first and then scrolled, so a long explanation never
//! gets cut at 80×24: the learner scrolls it like a lesson.

use crate::app::App;
use crate::layout::measure_area;
use crate::render::{prose_runs, wrap_prose, wrap_runs};
use crate::screens::quiz::{QuizPane, QuizPhase};
use crate::theme::Theme;
use layerlab_core::progress::QuizRecord;
use layerlab_core::{Grade, Lesson, Question, QuestionKind};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// The lines of the quiz screen and what must stay in view.
struct QuizLines {
    lines: Vec<Line<'static>>,
    /// Lines that must be visible (the highlighted choice, the input).
    focus: Option<(usize, usize)>,
    /// Where the text cursor goes: line and column.
    cursor: Option<(usize, u16)>,
}

impl QuizLines {
    fn new() -> QuizLines {
        QuizLines {
            lines: Vec::new(),
            focus: None,
            cursor: None,
        }
    }

    fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    fn push(&mut self, spans: Vec<Span<'static>>) {
        self.lines.push(Line::from(spans));
    }
}

/// Draws the quiz of the app's open quiz pane.
pub fn draw_quiz(frame: &mut Frame<'_>, area: Rect, app: &mut App<'_>) {
    let theme = app.theme.clone();
    let Some(pane) = app.quiz.as_mut() else {
        return;
    };
    let Some(lesson) = app.course.lesson(&pane.lesson_id) else {
        return;
    };
    let record = app.progress.quiz(&lesson.id).cloned();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(format!(" Quiz · {} ", lesson.title));
    let text_area = measure_area(block.inner(area));
    let width = text_area.width;
    let content = match (&pane.phase, lesson.quiz.get(pane.index)) {
        (QuizPhase::Summary, _) | (_, None) => {
            summary(pane, lesson, record.as_ref(), width, &theme)
        }
        (QuizPhase::Answering, Some(q)) => question(pane, q, lesson, width, &theme),
        (QuizPhase::Feedback(grade), Some(q)) => feedback(pane, q, grade, lesson, width, &theme),
    };

    let page = text_area.height as usize;
    let total = content.lines.len();
    if let Some((first, last)) = content.focus {
        if first < pane.scroll {
            pane.scroll = first;
        } else if last >= pane.scroll + page {
            pane.scroll = (last + 1).saturating_sub(page).min(first);
        }
    }
    pane.scroll = pane.scroll.min(total.saturating_sub(page));
    let more = if pane.scroll + page < total {
        " ↓ more "
    } else {
        ""
    };
    frame.render_widget(block.title_bottom(Line::from(more).right_aligned()), area);
    let visible: Vec<Line<'_>> = content
        .lines
        .into_iter()
        .skip(pane.scroll)
        .take(page)
        .collect();
    frame.render_widget(Paragraph::new(visible), text_area);
    if let Some((line, col)) = content.cursor
        && let Some(row) = line.checked_sub(pane.scroll).filter(|r| *r < page)
    {
        frame.set_cursor_position(Position::new(
            (text_area.x + col).min(text_area.right().saturating_sub(1)),
            text_area.y + row as u16,
        ));
    }
}

/// "Question 2 of 5 · pick one", then the wrapped prompt.
fn header(
    q: &mut QuizLines,
    pane: &QuizPane,
    question: &Question,
    lesson: &Lesson,
    verdict: Option<bool>,
    width: u16,
    t: &Theme,
) {
    let what = match &question.kind {
        QuestionKind::Single { .. } => "pick one".to_string(),
        QuestionKind::Multiple { .. } => "pick every right answer".to_string(),
        QuestionKind::Numeric { unit: Some(u), .. } => format!("type a number ({u})"),
        QuestionKind::Numeric { .. } => "type a number".to_string(),
        QuestionKind::Text { .. } => "type the answer".to_string(),
    };
    let mut spans = vec![Span::styled(
        format!("Question {} of {} · ", pane.index + 1, lesson.quiz.len()),
        t.dim,
    )];
    spans.push(match verdict {
        Some(true) => Span::styled("✓ Right", t.good),
        Some(false) => Span::styled("✗ Not quite", t.bad),
        None => Span::styled(what, t.dim),
    });
    q.push(spans);
    q.blank();
    q.lines
        .extend(wrap_prose(&question.prompt, t.title, width, "", "", t));
    q.blank();
}

/// A choice's box: radio buttons for single choice, checkboxes for multiple.
fn choice_box(question: &Question, picked: bool) -> &'static str {
    match (&question.kind, picked) {
        (QuestionKind::Single { .. }, true) => "(•)",
        (QuestionKind::Single { .. }, false) => "( )",
        (_, true) => "[x]",
        (_, false) => "[ ]",
    }
}

fn question(
    pane: &QuizPane,
    question: &Question,
    lesson: &Lesson,
    width: u16,
    t: &Theme,
) -> QuizLines {
    let mut q = QuizLines::new();
    header(&mut q, pane, question, lesson, None, width, t);
    let choices = question.choices();
    for (i, choice) in choices.iter().enumerate() {
        let here = i == pane.cursor;
        let first = format!(
            "{} {} {}. ",
            if here { "▸" } else { " " },
            choice_box(question, pane.picked.contains(&i)),
            i + 1
        );
        let rest = " ".repeat(first.chars().count());
        let start = q.lines.len();
        let mut lines = wrap_prose(&choice.text, t.text, width, &first, &rest, t);
        if here {
            for line in &mut lines {
                for span in line.spans.iter_mut().skip(1) {
                    span.style = span.style.patch(t.selected);
                }
            }
        }
        q.lines.extend(lines);
        if here {
            q.focus = Some((start, q.lines.len() - 1));
        }
    }
    if choices.is_empty() {
        let label = "Your answer: ";
        let unit = match &question.kind {
            QuestionKind::Numeric { unit: Some(u), .. } => format!(" {u}"),
            _ => String::new(),
        };
        let line = q.lines.len();
        q.cursor = Some((
            line,
            (label.chars().count() + pane.input.chars().count()) as u16,
        ));
        q.focus = Some((line, line));
        q.push(vec![
            Span::styled(label, t.heading),
            Span::styled(pane.input.clone(), t.text),
            // A drawn block cursor too, for terminals that hide the real one.
            Span::styled(" ", t.selected),
            Span::styled(unit, t.dim),
        ]);
    }
    q.blank();
    let hint = if choices.is_empty() {
        "Enter: submit the answer"
    } else {
        "Space or 1–9: pick · Enter: submit"
    };
    q.push(vec![Span::styled(hint, t.dim)]);
    q
}

fn feedback(
    pane: &QuizPane,
    question: &Question,
    grade: &Grade,
    lesson: &Lesson,
    width: u16,
    t: &Theme,
) -> QuizLines {
    let mut q = QuizLines::new();
    header(
        &mut q,
        pane,
        question,
        lesson,
        Some(grade.correct),
        width,
        t,
    );
    for (i, (choice, g)) in question.choices().iter().zip(&grade.choices).enumerate() {
        let (mark, mark_style) = match (g.correct, g.picked) {
            (true, _) => ("✓", t.good),
            (false, true) => ("✗", t.bad),
            (false, false) => (" ", t.text),
        };
        let first = format!(" {} {}. ", choice_box(question, g.picked), i + 1);
        let rest = " ".repeat(first.chars().count() + 1);
        let mut lines = wrap_prose(&choice.text, t.text, width, &first, &rest, t);
        if let Some(line) = lines.first_mut() {
            line.spans
                .splice(0..1, [Span::styled(mark, mark_style), Span::raw(first)]);
        }
        q.lines.extend(lines);
        let (tag, tag_style) = match (g.correct, g.picked) {
            (true, true) => ("Your pick, right. ", t.good),
            (false, true) => ("Your pick, wrong. ", t.bad),
            (true, false) => ("Right answer, not picked. ", t.bad),
            (false, false) => ("", t.text),
        };
        let mut runs = vec![(tag.to_string(), tag_style)];
        runs.extend(prose_runs(&g.explain, t.dim, t));
        q.lines.extend(wrap_runs(&runs, width, &rest, &rest, t));
    }
    if question.choices().is_empty() {
        q.push(vec![
            Span::styled("Your answer:  ", t.heading),
            Span::styled(
                pane.input.trim().to_string(),
                if grade.correct { t.good } else { t.bad },
            ),
        ]);
        if let Some(expected) = &grade.expected {
            q.push(vec![
                Span::styled("Right answer: ", t.heading),
                Span::styled(expected.clone(), t.good),
            ]);
        }
        if let Some(explain) = &grade.explain {
            q.blank();
            q.lines
                .extend(wrap_prose(explain, t.text, width, "", "", t));
        }
    }
    q.blank();
    let next = if pane.index + 1 < lesson.quiz.len() {
        "Enter: next question"
    } else {
        "Enter: see your score"
    };
    q.push(vec![Span::styled(next, t.dim)]);
    q
}

fn summary(
    pane: &QuizPane,
    lesson: &Lesson,
    record: Option<&QuizRecord>,
    width: u16,
    t: &Theme,
) -> QuizLines {
    let mut q = QuizLines::new();
    let total = lesson.quiz.len();
    let right = pane.right();
    let style = if right == total { t.good } else { t.title };
    q.push(vec![Span::styled(
        format!("Quiz finished: {right}/{total} right"),
        style,
    )]);
    if let Some(r) = record {
        let attempts = crate::render::count(r.attempts as usize, "attempt");
        q.push(vec![Span::styled(
            format!("Best {}/{} · {attempts}", r.best, r.total),
            t.dim,
        )]);
    }
    q.blank();
    let prompt_width = (width as usize).saturating_sub(7);
    for (i, question) in lesson.quiz.iter().enumerate() {
        let (mark, style) = match pane.results.get(i) {
            Some(true) => ("✓", t.good),
            Some(false) => ("✗", t.bad),
            None => ("·", t.dim),
        };
        q.push(vec![
            Span::styled(format!(" {mark} "), style),
            Span::styled(format!("{}. ", i + 1), t.dim),
            Span::raw(truncate(
                &question.prompt.replace('`', ""),
                prompt_width.saturating_sub(3),
            )),
        ]);
    }
    q.blank();
    q.push(vec![Span::styled(
        "r: retry the quiz · Esc: back to the lesson",
        t.dim,
    )]);
    q
}

/// Cuts `text` to `width` characters, ending with `…` when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
