//! State-transition and screen tests over the tiny fixture course.

use crate::app::{Action, App, Effect, Screen};
use crate::fixtures::{clock, tiny_course};
use crate::theme::Theme;
use crate::ui;
use layerlab_core::Progress;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> App<'static> {
    App::new(
        tiny_course(),
        Progress::default(),
        Theme::monochrome(),
        clock,
    )
}

fn draw(app: &mut App<'_>, w: u16, h: u16) -> (Terminal<TestBackend>, Vec<Effect>) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut effects = Vec::new();
    terminal.draw(|f| effects = ui::draw(f, app)).unwrap();
    (terminal, effects)
}

fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn starts_on_the_first_lesson_and_moves_through_the_tree() {
    let mut app = app();
    assert_eq!(app.selected_lesson().unwrap().id, "long");
    app.update(Action::Down);
    assert_eq!(app.selected_lesson().unwrap().id, "short");
    app.update(Action::Down);
    assert_eq!(
        app.selected_lesson().unwrap().id,
        "short",
        "stays on the last row"
    );
    app.update(Action::Top);
    assert!(app.selected_lesson().is_none(), "row 0 is the chapter");
}

#[test]
fn resumes_at_the_last_lesson_opened() {
    let mut progress = Progress::default();
    progress.set_last_lesson("short");
    let app = App::new(tiny_course(), progress, Theme::monochrome(), clock);
    assert_eq!(app.selected_lesson().unwrap().id, "short");
}

#[test]
fn opening_a_lesson_saves_where_the_learner_is() {
    let mut app = app();
    assert_eq!(app.update(Action::Open), vec![Effect::SaveProgress]);
    assert_eq!(app.screen, Screen::Lesson);
    assert_eq!(app.progress.last_lesson.as_deref(), Some("long"));
    app.update(Action::Back);
    assert_eq!(app.screen, Screen::Course);
    assert!(!app.quit);
    app.update(Action::Back);
    assert!(app.quit, "Esc on the course screen quits");
}

#[test]
fn scrolling_to_the_end_marks_the_lesson_read_once() {
    let mut app = app();
    app.update(Action::Open);
    let (_, effects) = draw(&mut app, 80, 24);
    assert!(effects.is_empty(), "a long lesson is not read on opening");
    assert!(!app.progress.is_read("long"));
    app.update(Action::Down);
    assert_eq!(app.reader.as_ref().unwrap().scroll, 1);
    assert_eq!(app.update(Action::Bottom), vec![Effect::SaveProgress]);
    assert!(app.progress.is_read("long"));
    assert_eq!(app.progress.lessons["long"].read_at, Some(clock()));
    assert!(app.update(Action::Bottom).is_empty(), "marked once");
}

#[test]
fn a_lesson_shorter_than_the_screen_is_read_when_shown() {
    let mut app = app();
    app.update(Action::Down);
    app.update(Action::Open);
    let (_, effects) = draw(&mut app, 120, 40);
    assert_eq!(effects, vec![Effect::SaveProgress]);
    assert!(app.progress.is_read("short"));
}

#[test]
fn next_lesson_moves_on_and_stops_at_the_end() {
    let mut app = app();
    app.update(Action::Open);
    app.update(Action::NextLesson);
    assert_eq!(app.open_lesson().unwrap().id, "short");
    app.update(Action::NextLesson);
    assert_eq!(app.open_lesson().unwrap().id, "short");
    assert!(app.status.as_deref().unwrap().contains("last lesson"));
}

#[test]
fn course_screen_at_80x24() {
    let mut app = app();
    let (t, _) = draw(&mut app, 80, 24);
    insta::assert_snapshot!("course_80x24", screen_text(&t));
}

#[test]
fn lesson_screen_at_80x24_and_120x40() {
    let mut app = app();
    app.update(Action::Open);
    let (t, _) = draw(&mut app, 80, 24);
    insta::assert_snapshot!("lesson_80x24", screen_text(&t));
    let (t, _) = draw(&mut app, 120, 40);
    insta::assert_snapshot!("lesson_120x40", screen_text(&t));
}

#[test]
fn help_overlay_lists_the_keys() {
    let mut app = app();
    app.update(Action::ToggleHelp);
    let (t, _) = draw(&mut app, 80, 24);
    let text = screen_text(&t);
    assert!(
        text.contains("Keys") && text.contains("read the lesson"),
        "{text}"
    );
    app.update(Action::Back);
    assert!(!app.help);
    assert!(!app.quit, "Esc closes help before anything else");
}
