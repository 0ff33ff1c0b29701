//! Drawing: state in, frame out.

use crate::app::{App, Effect, Row, Screen};
use crate::keys::{self, KeyMode};
use crate::layout::{centered, measure_area};
use crate::render::count;
use crate::screens::glossary::draw_glossary;
use crate::screens::journey_view::{draw_journey, draw_picker};
use crate::screens::quiz_view::draw_quiz;
use crate::screens::search_view::draw_search;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph, Wrap};

/// Draws the whole tutor; returns effects that layout implied.
pub fn draw(frame: &mut Frame<'_>, app: &mut App<'_>) -> Vec<Effect> {
    let [main, status] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let effects = match app.screen {
        Screen::Course => {
            draw_course(frame, main, app);
            vec![]
        }
        Screen::Lesson => draw_lesson(frame, main, app),
        Screen::Quiz => {
            draw_quiz(frame, main, app);
            vec![]
        }
        Screen::Glossary => {
            draw_glossary(frame, main, &app.glossary, app.course, &app.theme);
            vec![]
        }
        Screen::Journey => {
            draw_journey(frame, main, app);
            vec![]
        }
        Screen::Lab => {
            if let Some(lab) = &app.lab {
                crate::screens::lab_view::draw_lab(
                    frame,
                    main,
                    lab,
                    app.shell.as_mut(),
                    &app.theme,
                );
            }
            vec![]
        }
    };
    if app.search.is_some() {
        draw_search(frame, main, app);
    }
    if app.journey_picker.is_some() {
        draw_picker(frame, main, app);
    }
    draw_status(frame, status, app);
    if app.help {
        draw_help(frame, main, app);
    }
    effects
}

fn lesson_mark(app: &App<'_>, id: &str) -> (String, Style) {
    let t = &app.theme;
    match (app.progress.is_read(id), app.progress.quiz(id)) {
        (_, Some(q)) if q.best == q.total => (format!("✓ {}/{}", q.best, q.total), t.good),
        (_, Some(q)) => (format!("◐ {}/{}", q.best, q.total), t.partial),
        (true, None) => ("✓".to_string(), t.good),
        (false, None) => ("·".to_string(), t.dim),
    }
}

fn draw_course(frame: &mut Frame<'_>, area: Rect, app: &App<'_>) {
    let t = &app.theme;
    let tree_width = if area.width >= 100 {
        44
    } else {
        area.width * 45 / 100
    };
    let [tree_area, preview_area] =
        Layout::horizontal([Constraint::Length(tree_width), Constraint::Min(20)]).areas(area);
    let items: Vec<ListItem<'_>> = app
        .rows
        .iter()
        .map(|row| match *row {
            Row::Chapter(c) => {
                let ch = &app.course.chapters[c];
                let read = ch
                    .lessons
                    .iter()
                    .filter(|l| app.progress.is_read(&l.id))
                    .count();
                ListItem::new(Line::from(vec![
                    Span::styled(format!("{}. {}", c + 1, ch.title), t.heading),
                    Span::styled(format!("  {read}/{}", ch.lessons.len()), t.dim),
                ]))
            }
            Row::Lesson(c, l) => {
                let lesson = &app.course.chapters[c].lessons[l];
                let (mark, style) = lesson_mark(app, &lesson.id);
                ListItem::new(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(format!("{mark:<6}"), style),
                    Span::raw(lesson.title.clone()),
                ]))
            }
        })
        .collect();
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.focus)
                .title(" Course "),
        )
        .highlight_style(t.selected);
    let mut state = ListState::default().with_selected(Some(app.selected));
    frame.render_stateful_widget(list, tree_area, &mut state);

    let mut lines = Vec::new();
    if let Some(lesson) = app.selected_lesson() {
        lines.push(Line::from(Span::styled(lesson.title.clone(), t.title)));
        lines.push(Line::from(Span::styled(
            format!(
                "{} min · {} · {} words",
                lesson.minutes,
                count(lesson.quiz.len(), "quiz question"),
                lesson.words
            ),
            t.dim,
        )));
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("You will be able to:", t.heading)));
        for o in &lesson.objectives {
            lines.push(Line::from(format!("  • {o}")));
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Enter: read this lesson", t.dim)));
    } else if let Some(Row::Chapter(c)) = app.rows.get(app.selected) {
        let ch = &app.course.chapters[*c];
        lines.push(Line::from(Span::styled(ch.title.clone(), t.title)));
        lines.push(Line::default());
        lines.push(Line::from(ch.summary.clone()));
        lines.push(Line::default());
        let minutes: u32 = ch.lessons.iter().map(|l| l.minutes).sum();
        lines.push(Line::from(Span::styled(
            format!("{} lessons · about {minutes} min", ch.lessons.len()),
            t.dim,
        )));
    } else {
        lines.push(Line::from("The course is empty."));
    }
    let preview = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::default().borders(Borders::ALL).title(" Preview "));
    frame.render_widget(preview, preview_area);
}

fn draw_lesson(frame: &mut Frame<'_>, area: Rect, app: &mut App<'_>) -> Vec<Effect> {
    let t = app.theme.clone();
    let block = Block::default().borders(Borders::ALL).border_style(t.focus);
    // Centre a readable measure in wide terminals.
    let text_area = measure_area(block.inner(area));
    let effects = app.layout_reader(text_area.width, text_area.height as usize);
    let (Some(reader), Some(lesson)) = (app.reader.as_ref(), app.open_lesson()) else {
        return effects;
    };
    let Some((_, rendered)) = reader.rendered.as_ref() else {
        return effects;
    };
    let total = rendered.lines.len();
    let pct = if total <= reader.page {
        100
    } else {
        (reader.scroll + reader.page).min(total) * 100 / total
    };
    let chapter = app
        .course
        .chapter_of(&lesson.id)
        .map_or("", |c| c.title.as_str());
    let mut block = block
        .title(format!(" {chapter} › {} ", lesson.title))
        .title_bottom(Line::from(format!(" {pct}% ")).right_aligned());
    // The score is here too, so a finished quiz shows on return at once.
    if let Some(q) = app.progress.quiz(&lesson.id) {
        block = block.title_bottom(format!(" quiz best {}/{} ", q.best, q.total));
    }
    if !lesson.journeys.is_empty() {
        block = block.title_bottom(" p: watch the packet journey ");
    }
    frame.render_widget(block, area);
    let mut visible: Vec<Line<'_>> = rendered
        .lines
        .iter()
        .skip(reader.scroll)
        .take(reader.page)
        .cloned()
        .collect();
    if let Some(link) = reader.selected_link() {
        for &(line, span) in &link.spans {
            if let Some(s) = line
                .checked_sub(reader.scroll)
                .and_then(|l| visible.get_mut(l))
                .and_then(|l| l.spans.get_mut(span))
            {
                s.style = s.style.patch(t.selected);
            }
        }
    }
    frame.render_widget(Paragraph::new(visible), text_area);
    effects
}

fn draw_status(frame: &mut Frame<'_>, area: Rect, app: &App<'_>) {
    let t = &app.theme;
    let keys = keys::status_hint(app.key_mode());
    // A message goes first: it is news, the keys are always the same.
    let spans = match &app.status {
        Some(msg) => vec![
            Span::styled(msg.clone(), t.heading),
            Span::raw(" │ "),
            Span::styled(keys, t.dim),
        ],
        None => vec![Span::styled(keys, t.dim)],
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_help(frame: &mut Frame<'_>, area: Rect, app: &App<'_>) {
    let t = &app.theme;
    let mode = app.mode();
    let rows = keys::bindings(mode);
    let key_width = rows
        .iter()
        .map(|b| b.keys().chars().count())
        .max()
        .unwrap_or(0);
    let what_width = rows
        .iter()
        .map(|b| b.what.chars().count())
        .max()
        .unwrap_or(0);
    let width = (key_width + what_width + 6) as u16;
    let popup = centered(area, width, rows.len() as u16 + 2);
    let lines: Vec<Line<'_>> = rows
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:>key_width$}  ", b.keys()), t.heading),
                Span::raw(b.what),
            ])
        })
        .collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.focus)
                .title(format!(" Keys · {} ", mode_name(mode))),
        ),
        popup,
    );
}

fn mode_name(mode: KeyMode) -> &'static str {
    match mode {
        KeyMode::Course => "course",
        KeyMode::Reader => "lesson",
        KeyMode::QuizChoices | KeyMode::QuizInput => "quiz question",
        KeyMode::QuizFeedback => "quiz answer",
        KeyMode::QuizSummary => "quiz score",
        KeyMode::Search => "search",
        KeyMode::Glossary => "glossary",
        KeyMode::Journey => "packet journey",
        KeyMode::JourneyPicker => "journeys",
        KeyMode::Lab => "lab",
        KeyMode::LabShell => "lab shell",
        KeyMode::LabAnswer => "lab answer",
        KeyMode::Help => "help",
    }
}
