//! What one frame of the tutor costs, drawn into a 120×40 `TestBackend`:
//! the longest lesson (redrawn, scrolled, and laid out afresh) and the
//! packet journey view stepping through hops. The goal is ≤ 2 ms a frame.
use criterion::{Criterion, criterion_group, criterion_main};
use layerlab_core::{Progress, Timestamp};
use layerlab_tui::app::{Action, App, Row};
use layerlab_tui::screens::journey::JourneyPane;
use layerlab_tui::theme::Theme;
use layerlab_tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

fn clock() -> Timestamp {
    Timestamp(1_700_000_000)
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("a test terminal")
}

fn frame(terminal: &mut Terminal<TestBackend>, app: &mut App<'_>) {
    terminal
        .draw(|f| {
            black_box(ui::draw(f, app));
        })
        .expect("drawing into a test backend");
}

/// The tutor with the course's longest lesson (by words) open.
fn reading_longest() -> App<'static> {
    let course = layerlab_lessons::course();
    let mut app = App::new(course, Progress::default(), Theme::colour(), clock)
        .with_journeys(layerlab_lessons::journeys());
    let longest = course
        .chapters
        .iter()
        .flat_map(|c| &c.lessons)
        .max_by_key(|l| l.words)
        .expect("the course has lessons");
    eprintln!("longest lesson: {} ({} words)", longest.id, longest.words);
    app.selected = app
        .rows
        .iter()
        .position(|r| {
            matches!(r, Row::Lesson(..)) && app.lesson_at(*r).is_some_and(|l| l.id == longest.id)
        })
        .expect("the longest lesson has a row");
    app.update(Action::Open);
    app
}

fn render(c: &mut Criterion) {
    let mut term = terminal();
    let mut app = reading_longest();
    frame(&mut term, &mut app);
    c.bench_function("lesson_redraw_120x40", |b| {
        b.iter(|| frame(&mut term, &mut app))
    });

    // Scrolling a line: the common case while reading.
    let mut scrolled = 0;
    c.bench_function("lesson_scroll_line_120x40", |b| {
        b.iter(|| {
            let at_end = app.reader.as_ref().is_some_and(|r| {
                r.rendered
                    .as_ref()
                    .is_some_and(|(_, lines)| r.scroll + r.page >= lines.lines.len())
            });
            app.update(if at_end { Action::Top } else { Action::Down });
            scrolled += 1;
            frame(&mut term, &mut app)
        })
    });
    eprintln!("scrolled {scrolled} lines");

    // Opening the lesson: markdown document to wrapped lines, then the frame.
    c.bench_function("lesson_open_first_frame_120x40", |b| {
        b.iter(|| {
            app.update(Action::Back);
            app.update(Action::Open);
            frame(&mut term, &mut app)
        })
    });

    // The journey view: each step dissects two frames and redraws every pane.
    let journeys = layerlab_lessons::journeys();
    let Some(journey) = journeys.iter().max_by_key(|j| j.hops.len()) else {
        eprintln!("no embedded journeys: journey bench skipped");
        return;
    };
    eprintln!("journey: {} ({} hops)", journey.id, journey.hops.len());
    let mut app = App::new(
        layerlab_lessons::course(),
        Progress::default(),
        Theme::colour(),
        clock,
    );
    app.watch(JourneyPane::new(journey.clone()), None);
    let last = journey.hops.len() - 1;
    c.bench_function("journey_step_hop_120x40", |b| {
        b.iter(|| {
            let at_end = app.journey.as_ref().is_some_and(|p| p.hop == last);
            app.update(if at_end { Action::Top } else { Action::NextHop });
            frame(&mut term, &mut app)
        })
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
