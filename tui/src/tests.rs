//! State-transition and screen tests over the tiny fixture course.
//!
//! The fixture's "long" lesson has one question of each kind, in this
//! order: single (right: 1), multiple (right: 1 and 2), numeric (77 bytes)
//! and text (SYN-SENT).

use crate::app::{Action, App, Effect, Screen};
use crate::fixtures::{capture, capture_journey, clock, journeys, tiny_course};
use crate::keys::KeyMode;
use crate::screens::journey::{JourneyFocus, JourneyPane, RowKind, Speed};
use crate::screens::quiz::QuizPhase;
use crate::screens::search::HitKind;
use crate::theme::Theme;
use crate::ui;
use layerlab_core::Progress;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use std::time::Duration;

fn app() -> App<'static> {
    App::new(
        tiny_course(),
        Progress::default(),
        Theme::monochrome(),
        clock,
    )
    .with_journeys(journeys())
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

/// Applies actions in order, returning the effects of the last one.
fn press(app: &mut App<'_>, actions: &[Action]) -> Vec<Effect> {
    actions.iter().fold(vec![], |_, a| app.update(*a))
}

fn type_text(app: &mut App<'_>, text: &str) {
    for c in text.chars() {
        app.update(Action::Type(c));
    }
}

/// The long lesson open in the reader, laid out at 80×24.
fn reading_long() -> App<'static> {
    let mut app = app();
    app.update(Action::Open);
    draw(&mut app, 80, 24);
    app
}

/// The long lesson's quiz, at its first question.
fn quiz() -> App<'static> {
    let mut app = reading_long();
    app.update(Action::TakeQuiz);
    assert_eq!(app.screen, Screen::Quiz);
    app
}

/// Whether the question just submitted was graded right.
fn graded_right(app: &App<'_>) -> bool {
    match &app.quiz.as_ref().unwrap().phase {
        QuizPhase::Feedback(grade) => grade.correct,
        other => panic!("expected feedback, got {other:?}"),
    }
}

/// Answers the current question wrongly and moves on to the next one.
fn skip_question(app: &mut App<'_>) {
    match app.mode() {
        KeyMode::QuizChoices => app.update(Action::Pick(2)),
        _ => {
            type_text(app, "1");
            vec![]
        }
    };
    press(app, &[Action::Submit, Action::Submit]);
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
fn the_end_of_a_lesson_says_how_to_take_its_quiz() {
    let mut app = reading_long();
    app.update(Action::Bottom);
    let (t, _) = draw(&mut app, 80, 24);
    assert!(
        screen_text(&t).contains("t: take the quiz (4 questions)"),
        "{}",
        screen_text(&t)
    );
}

#[test]
fn single_choice_right_and_wrong() {
    let mut app = quiz();
    assert_eq!(app.mode(), KeyMode::QuizChoices);
    press(&mut app, &[Action::Pick(0), Action::Submit]);
    assert!(graded_right(&app));

    let mut app = quiz();
    // Enter with nothing picked takes the highlighted radio button.
    press(&mut app, &[Action::Down, Action::Submit]);
    assert!(!graded_right(&app));
    let QuizPhase::Feedback(grade) = &app.quiz.as_ref().unwrap().phase else {
        unreachable!()
    };
    assert!(grade.choices[1].picked && !grade.choices[1].correct);
    assert!(grade.choices[0].correct && !grade.choices[0].picked);
    assert_eq!(app.mode(), KeyMode::QuizFeedback);
    app.update(Action::Submit);
    assert_eq!(app.quiz.as_ref().unwrap().index, 1, "Enter goes on");
}

#[test]
fn multiple_choice_needs_every_right_answer() {
    let mut app = quiz();
    skip_question(&mut app);
    // Space toggles; picking twice unpicks.
    press(
        &mut app,
        &[
            Action::Toggle,
            Action::Down,
            Action::Toggle,
            Action::Pick(2),
            Action::Pick(2),
        ],
    );
    assert_eq!(app.quiz.as_ref().unwrap().picked, vec![0, 1]);
    app.update(Action::Submit);
    assert!(graded_right(&app));

    let mut app = quiz();
    skip_question(&mut app);
    app.update(Action::Submit);
    assert_eq!(
        app.mode(),
        KeyMode::QuizChoices,
        "nothing picked: not submitted"
    );
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("Pick every right answer")
    );
    press(&mut app, &[Action::Pick(0), Action::Submit]);
    assert!(
        !graded_right(&app),
        "one of two right answers is not enough"
    );
}

#[test]
fn numeric_answers_are_typed_and_graded() {
    let mut app = quiz();
    skip_question(&mut app);
    skip_question(&mut app);
    assert_eq!(app.mode(), KeyMode::QuizInput);
    type_text(&mut app, "7x8");
    assert!(app.status.as_deref().unwrap().contains("number"));
    app.update(Action::DeleteChar);
    type_text(&mut app, "7");
    assert_eq!(app.quiz.as_ref().unwrap().input, "77");
    app.update(Action::Submit);
    assert!(graded_right(&app));

    let mut app = quiz();
    skip_question(&mut app);
    skip_question(&mut app);
    type_text(&mut app, "76");
    app.update(Action::Submit);
    assert!(!graded_right(&app));
}

#[test]
fn text_answers_take_every_letter_and_are_graded() {
    let mut app = quiz();
    for _ in 0..3 {
        skip_question(&mut app);
    }
    assert_eq!(app.mode(), KeyMode::QuizInput);
    // `q` is Back elsewhere; here it is just a letter.
    type_text(&mut app, "q");
    assert_eq!(app.screen, Screen::Quiz);
    app.update(Action::DeleteChar);
    type_text(&mut app, " syn_sent ");
    app.update(Action::Submit);
    assert!(graded_right(&app));

    let mut app = quiz();
    for _ in 0..3 {
        skip_question(&mut app);
    }
    type_text(&mut app, "established");
    app.update(Action::Submit);
    assert!(!graded_right(&app));
}

#[test]
fn finishing_the_quiz_records_the_score_and_retry_starts_over() {
    let mut app = quiz();
    // Right, wrong, wrong, right.
    press(&mut app, &[Action::Pick(0), Action::Submit, Action::Submit]);
    skip_question(&mut app);
    skip_question(&mut app);
    type_text(&mut app, "SYN-SENT");
    app.update(Action::Submit);
    assert!(
        app.progress.quiz("long").is_none(),
        "recorded only at the end"
    );
    assert_eq!(app.update(Action::Submit), vec![Effect::SaveProgress]);
    assert_eq!(app.mode(), KeyMode::QuizSummary);
    let record = app.progress.quiz("long").unwrap().clone();
    assert_eq!(
        (
            record.best,
            record.last,
            record.total,
            record.attempts,
            record.last_at
        ),
        (2, 2, 4, 1, clock())
    );
    assert_eq!(
        app.quiz.as_ref().unwrap().results,
        vec![true, false, false, true]
    );

    app.update(Action::Retry);
    let pane = app.quiz.as_ref().unwrap();
    assert_eq!((pane.index, pane.results.len()), (0, 0));
    assert_eq!(pane.phase, QuizPhase::Answering);
    press(&mut app, &[Action::Pick(0), Action::Submit, Action::Submit]);
    press(
        &mut app,
        &[
            Action::Pick(0),
            Action::Pick(1),
            Action::Submit,
            Action::Submit,
        ],
    );
    type_text(&mut app, "77");
    press(&mut app, &[Action::Submit, Action::Submit]);
    type_text(&mut app, "syn-sent");
    assert_eq!(
        press(&mut app, &[Action::Submit, Action::Submit]),
        vec![Effect::SaveProgress]
    );
    let record = app.progress.quiz("long").unwrap();
    assert_eq!((record.best, record.last, record.attempts), (4, 4, 2));

    // The tree shows the new score as soon as the learner is back.
    press(&mut app, &[Action::Back, Action::Back]);
    assert_eq!(app.screen, Screen::Course);
    let (t, _) = draw(&mut app, 80, 24);
    assert!(
        screen_text(&t).contains("✓ 4/4 A long lesson"),
        "{}",
        screen_text(&t)
    );
}

#[test]
fn leaving_the_quiz_midway_records_nothing() {
    let mut app = quiz();
    skip_question(&mut app);
    assert!(app.update(Action::Back).is_empty());
    assert_eq!(app.screen, Screen::Lesson);
    assert!(app.quiz.is_none());
    assert!(app.progress.quiz("long").is_none());
}

#[test]
fn tab_selects_links_and_enter_follows_them_with_a_way_back() {
    let mut app = reading_long();
    app.update(Action::Down);
    app.update(Action::NextLink);
    let link = app
        .reader
        .as_ref()
        .unwrap()
        .selected_link()
        .unwrap()
        .clone();
    assert_eq!(
        (link.lesson.as_str(), link.anchor.as_deref()),
        ("short", None)
    );
    assert!(app.status.as_deref().unwrap().contains("A short lesson"));
    let (t, _) = draw(&mut app, 80, 24);
    // The selected link is drawn reversed.
    let buf = t.backend().buffer();
    let row = link.line() - app.reader.as_ref().unwrap().scroll + 1;
    let reversed = (0..80).any(|x| {
        buf[(x, row as u16)]
            .style()
            .add_modifier
            .contains(ratatui::style::Modifier::REVERSED)
    });
    assert!(reversed, "{}", screen_text(&t));

    // The second link is further down: selecting it scrolls it into view.
    app.update(Action::NextLink);
    let reader = app.reader.as_ref().unwrap();
    let second = reader.selected_link().unwrap().clone();
    assert_eq!(second.anchor.as_deref(), Some("namespaces"));
    assert!((reader.scroll..reader.scroll + reader.page).contains(&second.line()));
    app.update(Action::PrevLink);
    assert_eq!(app.reader.as_ref().unwrap().selected_link(), Some(&link));

    let scroll_before = app.reader.as_ref().unwrap().scroll;
    assert_eq!(app.update(Action::Open), vec![Effect::SaveProgress]);
    assert_eq!(app.open_lesson().unwrap().id, "short");
    assert_eq!(app.history.len(), 1);

    // short links back to long#why-layers: the reader lands on that heading.
    draw(&mut app, 80, 24);
    press(&mut app, &[Action::NextLink, Action::Open]);
    draw(&mut app, 80, 24);
    let reader = app.reader.as_ref().unwrap();
    assert_eq!(reader.lesson_id, "long");
    let (_, rendered) = reader.rendered.as_ref().unwrap();
    assert_eq!(Some(reader.scroll), rendered.anchor_line("why-layers"));

    app.update(Action::PreviousLesson);
    assert_eq!(app.open_lesson().unwrap().id, "short");
    app.update(Action::PreviousLesson);
    assert_eq!(app.open_lesson().unwrap().id, "long");
    draw(&mut app, 80, 24);
    assert_eq!(
        app.reader.as_ref().unwrap().scroll,
        scroll_before,
        "scroll kept"
    );
    app.update(Action::PreviousLesson);
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("No previous lesson")
    );
}

#[test]
fn search_ranks_the_expected_lesson_first() {
    let mut app = app();
    app.update(Action::OpenSearch);
    assert_eq!(app.mode(), KeyMode::Search);
    // Letters are the query, not actions (`q` would quit on the course).
    type_text(&mut app, "shrt");
    assert!(!app.quit);
    let popup = app.search.as_ref().unwrap();
    let best = &app.search_index.entries[popup.hits[0].entry];
    assert_eq!(
        (best.kind, best.lesson.as_str()),
        (HitKind::Lesson, "short")
    );

    let best_for = |app: &mut App<'_>, query: &str| {
        app.search = Some(Default::default());
        type_text(app, query);
        let popup = app.search.as_ref().unwrap();
        popup
            .hits
            .first()
            .map(|h| app.search_index.entries[h.entry].clone())
    };
    let heading = best_for(&mut app, "why lyrs").unwrap();
    assert_eq!(
        (
            heading.kind,
            heading.lesson.as_str(),
            heading.anchor.as_deref()
        ),
        (HitKind::Heading, "long", Some("why-layers"))
    );
    let term = best_for(&mut app, "MTU").unwrap();
    assert_eq!((term.kind, term.lesson.as_str()), (HitKind::Term, "long"));
    // Long texts need the word itself: scattered letters match only short ones.
    assert_eq!(best_for(&mut app, "fwr"), None);
    assert_eq!(
        best_for(&mut app, "firew").unwrap().text,
        "Network namespace"
    );
}

#[test]
fn search_matches_definitions_and_opens_the_lesson_that_teaches_the_term() {
    let mut app = app();
    app.update(Action::OpenSearch);
    type_text(&mut app, "firewall");
    let popup = app.search.as_ref().unwrap();
    let best = &app.search_index.entries[popup.hits[0].entry];
    assert_eq!(
        (best.kind, best.text.as_str()),
        (HitKind::Term, "Network namespace")
    );
    app.update(Action::Open);
    assert!(app.search.is_none());
    assert_eq!(app.open_lesson().unwrap().id, "short");

    // From the reader, a search result is a jump the learner can come back from.
    app.update(Action::OpenSearch);
    type_text(&mut app, "why lyrs");
    app.update(Action::Open);
    assert_eq!(app.open_lesson().unwrap().id, "long");
    app.update(Action::PreviousLesson);
    assert_eq!(app.open_lesson().unwrap().id, "short");

    app.update(Action::OpenSearch);
    app.update(Action::Back);
    assert!(app.search.is_none(), "Esc closes the popup");
    assert_eq!(app.screen, Screen::Lesson);
}

#[test]
fn glossary_terms_open_the_lesson_that_teaches_them() {
    let mut app = app();
    app.update(Action::OpenGlossary);
    assert_eq!(app.screen, Screen::Glossary);
    let terms: Vec<&str> = app
        .course
        .glossary
        .iter()
        .map(|g| g.term.as_str())
        .collect();
    assert_eq!(terms, ["MTU", "Network namespace", "veth pair"]);
    app.update(Action::Down);
    assert_eq!(app.update(Action::Open), vec![Effect::SaveProgress]);
    assert_eq!(app.screen, Screen::Lesson);
    assert_eq!(app.open_lesson().unwrap().id, "short");
    app.update(Action::Back);
    assert_eq!(app.screen, Screen::Course);

    // Esc returns to where the glossary was opened from.
    app.update(Action::OpenGlossary);
    app.update(Action::Back);
    assert_eq!(app.screen, Screen::Course);
    assert!(!app.quit);
}

#[test]
fn help_is_modal_and_lists_every_key_of_the_mode_under_it() {
    let mut app = quiz();
    app.update(Action::ToggleHelp);
    assert_eq!(app.key_mode(), KeyMode::Help);
    let (t, _) = draw(&mut app, 80, 24);
    let text = screen_text(&t);
    for binding in crate::keys::bindings(KeyMode::QuizChoices) {
        assert!(
            text.contains(binding.what),
            "{} missing:\n{text}",
            binding.what
        );
    }
    app.update(Action::Down);
    assert_eq!(
        app.quiz.as_ref().unwrap().cursor,
        0,
        "keys do not leak through help"
    );
    app.update(Action::Back);
    assert!(!app.help);
    assert_eq!(
        app.screen,
        Screen::Quiz,
        "Esc closes help before anything else"
    );
}

/// Draws `app` at 80×24 and 120×40 and snapshots both as `{name}_{size}`.
fn snapshot_both(app: &mut App<'_>, name: &str) {
    for (w, h) in [(80, 24), (120, 40)] {
        let (t, _) = draw(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen_text(&t));
    }
}

#[test]
fn course_screen_snapshots() {
    let mut app = app();
    app.progress.record_quiz("long", 3, 4, clock());
    app.progress.mark_read("long", clock());
    snapshot_both(&mut app, "course");
}

#[test]
fn lesson_screen_snapshots() {
    let mut app = app();
    app.update(Action::Open);
    snapshot_both(&mut app, "lesson");
}

#[test]
fn quiz_question_snapshots() {
    let mut app = quiz();
    press(&mut app, &[Action::Down, Action::Toggle]);
    snapshot_both(&mut app, "quiz_question");
    skip_question(&mut app);
    skip_question(&mut app);
    type_text(&mut app, "77");
    snapshot_both(&mut app, "quiz_input");
}

#[test]
fn quiz_feedback_snapshots() {
    let mut app = quiz();
    press(&mut app, &[Action::Pick(1), Action::Submit]);
    snapshot_both(&mut app, "quiz_feedback");
    press(&mut app, &[Action::Submit]);
    skip_question(&mut app);
    type_text(&mut app, "78");
    app.update(Action::Submit);
    snapshot_both(&mut app, "quiz_feedback_numeric");
}

#[test]
fn quiz_summary_snapshots() {
    let mut app = quiz();
    press(&mut app, &[Action::Pick(0), Action::Submit, Action::Submit]);
    for _ in 0..3 {
        skip_question(&mut app);
    }
    snapshot_both(&mut app, "quiz_summary");
}

#[test]
fn search_popup_snapshots() {
    let mut app = reading_long();
    app.update(Action::OpenSearch);
    type_text(&mut app, "net");
    snapshot_both(&mut app, "search");
}

#[test]
fn glossary_screen_snapshots() {
    let mut app = app();
    app.update(Action::OpenGlossary);
    app.update(Action::Down);
    snapshot_both(&mut app, "glossary");
}

#[test]
fn help_overlay_snapshots() {
    let mut app = reading_long();
    app.update(Action::ToggleHelp);
    snapshot_both(&mut app, "help");
}

// ---- packet journeys ---------------------------------------------------------

/// The short lesson open, which links both fixture journeys.
fn reading_short() -> App<'static> {
    let mut app = app();
    press(&mut app, &[Action::Down, Action::Open]);
    assert_eq!(app.open_lesson().unwrap().id, "short");
    app
}

/// Watching `mini-dnat` from the short lesson.
fn watching_dnat() -> App<'static> {
    let mut app = reading_short();
    press(&mut app, &[Action::OpenJourney, Action::Pick(0)]);
    assert_eq!(app.screen, Screen::Journey);
    app
}

fn pane<'a>(app: &'a App<'_>) -> &'a JourneyPane {
    app.journey.as_ref().expect("a journey is open")
}

/// Selects the field tree row with this path.
fn select(app: &mut App<'_>, path: &str) {
    let p = app.journey.as_mut().unwrap();
    p.selected = p
        .rows
        .iter()
        .position(|r| r.path == path)
        .unwrap_or_else(|| panic!("no row {path}"));
}

fn row<'a>(app: &'a App<'_>, path: &str) -> &'a crate::screens::journey::FieldRow {
    pane(app)
        .rows
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no row {path}"))
}

#[test]
fn p_in_a_lesson_without_journeys_says_so() {
    let mut app = reading_long();
    app.update(Action::OpenJourney);
    assert_eq!(app.screen, Screen::Lesson);
    assert!(app.journey_picker.is_none());
    assert!(app.status.as_deref().unwrap().contains("no packet journey"));
}

#[test]
fn several_journeys_open_a_picker_and_back_returns_to_the_lesson() {
    let mut app = reading_short();
    app.update(Action::OpenJourney);
    assert_eq!(app.mode(), KeyMode::JourneyPicker);
    assert_eq!(app.journey_picker.as_ref().unwrap().choices, vec![0, 1]);
    press(&mut app, &[Action::Down, Action::Down]);
    assert_eq!(
        app.journey_picker.as_ref().unwrap().selected,
        1,
        "stops at the last"
    );
    app.update(Action::Open);
    assert_eq!(app.screen, Screen::Journey);
    assert_eq!(app.mode(), KeyMode::Journey);
    assert_eq!(pane(&app).journey.id, "dns-capture");
    assert!(app.journey_picker.is_none());
    app.update(Action::Back);
    assert_eq!(app.screen, Screen::Lesson);
    assert!(app.journey.is_none());
    assert!(!app.quit);

    // Esc in the picker closes it and leaves the lesson as it was.
    press(&mut app, &[Action::OpenJourney, Action::Back]);
    assert!(app.journey_picker.is_none());
    assert_eq!(app.screen, Screen::Lesson);
}

#[test]
fn a_lesson_naming_a_journey_this_build_lacks_says_so() {
    let mut app = App::new(
        tiny_course(),
        Progress::default(),
        Theme::monochrome(),
        clock,
    );
    press(&mut app, &[Action::Down, Action::Open, Action::OpenJourney]);
    assert_eq!(app.screen, Screen::Lesson);
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("`mini-dnat` is not in this build"),
        "{:?}",
        app.status
    );
}

#[test]
fn next_and_previous_hop_stop_at_the_ends() {
    let mut app = watching_dnat();
    assert_eq!(pane(&app).hop, 0);
    app.update(Action::PrevHop);
    assert_eq!(pane(&app).hop, 0, "no hop before the first");
    press(&mut app, &[Action::NextHop, Action::NextHop]);
    assert_eq!(pane(&app).hop, 2);
    press(
        &mut app,
        &[Action::NextHop, Action::NextHop, Action::NextHop],
    );
    assert_eq!(pane(&app).hop, 3, "no hop after the last");
    app.update(Action::Top);
    assert_eq!(pane(&app).hop, 0);
    app.update(Action::Bottom);
    assert_eq!(pane(&app).hop, 3);
    app.update(Action::PrevHop);
    assert_eq!(pane(&app).hop, 2);
    // The frame shown is the hop's own.
    let ttl = pane(&app)
        .dissection
        .layer("ipv4")
        .unwrap()
        .field("ttl")
        .unwrap();
    assert_eq!(ttl.value, "63");
}

#[test]
fn play_advances_on_tick_and_stops_at_the_last_hop() {
    let mut app = watching_dnat();
    assert_eq!(app.tick_interval(), None, "paused: no ticks wanted");
    app.update(Action::Tick);
    assert_eq!(pane(&app).hop, 0, "a tick while paused does nothing");

    app.update(Action::PlayPause);
    assert_eq!(app.tick_interval(), Some(Duration::from_secs(2)));
    app.update(Action::Tick);
    assert_eq!(pane(&app).hop, 1);
    app.update(Action::Tick);
    assert_eq!(pane(&app).hop, 2);
    assert!(pane(&app).playing);
    app.update(Action::Tick);
    assert_eq!(pane(&app).hop, 3);
    assert!(!pane(&app).playing, "stops at the last hop");
    assert_eq!(app.tick_interval(), None);
    assert!(app.status.as_deref().unwrap().contains("arrived"));

    // Space at the end watches it again from the start.
    app.update(Action::PlayPause);
    assert_eq!((pane(&app).hop, pane(&app).playing), (0, true));
    // Stepping by hand takes over from the player.
    app.update(Action::NextHop);
    assert_eq!((pane(&app).hop, pane(&app).playing), (1, false));
}

#[test]
fn ticks_advance_under_help_but_keys_do_not_leak_through_it() {
    let mut app = watching_dnat();
    press(&mut app, &[Action::PlayPause, Action::ToggleHelp]);
    app.update(Action::NextHop);
    assert_eq!(pane(&app).hop, 0, "help takes the keys");
    app.update(Action::Tick);
    assert_eq!(pane(&app).hop, 1, "the player keeps time");
}

#[test]
fn speed_steps_between_half_and_four_times() {
    let mut app = watching_dnat();
    assert_eq!(pane(&app).speed, Speed::One);
    press(&mut app, &[Action::PlayPause, Action::Faster]);
    assert_eq!(app.tick_interval(), Some(Duration::from_secs(1)));
    press(&mut app, &[Action::Faster, Action::Faster, Action::Faster]);
    assert_eq!(pane(&app).speed, Speed::Four, "4× is the fastest");
    assert_eq!(app.tick_interval(), Some(Duration::from_millis(500)));
    for _ in 0..5 {
        app.update(Action::Slower);
    }
    assert_eq!(pane(&app).speed, Speed::Half, "0.5× is the slowest");
    assert_eq!(app.tick_interval(), Some(Duration::from_secs(4)));
    assert_eq!(
        [Speed::Half, Speed::One, Speed::Two, Speed::Four].map(Speed::label),
        ["0.5×", "1×", "2×", "4×"]
    );
}

#[test]
fn changed_fields_are_marked_with_their_previous_value() {
    let mut app = watching_dnat();
    assert!(
        pane(&app).rows.iter().all(|r| !r.changed),
        "nothing changed at the first hop"
    );
    app.update(Action::NextHop);
    let dst = row(&app, "ipv4.dst");
    assert!(dst.changed);
    assert_eq!(dst.was.as_deref(), Some("203.0.113.1"));
    assert_eq!(row(&app, "tcp.dst_port").was.as_deref(), Some("8080"));
    assert!(!row(&app, "ipv4.ttl").changed);
    assert!(!row(&app, "ipv4.src").changed);
    app.update(Action::NextHop);
    assert_eq!(row(&app, "ipv4.ttl").was.as_deref(), Some("64"));
    assert!(row(&app, "eth.src").changed);
    assert!(
        !row(&app, "ipv4.dst").changed,
        "marks are against the previous hop only"
    );
}

#[test]
fn selecting_a_field_selects_its_bytes_and_survives_a_hop_change() {
    let mut app = watching_dnat();
    let first = pane(&app).selected_row().unwrap().clone();
    assert!(
        matches!(first.kind, RowKind::Field(..)),
        "starts on a field"
    );
    select(&mut app, "ipv4.ttl");
    let p = pane(&app);
    let ttl = p.dissection.layer("ipv4").unwrap().field("ttl").unwrap();
    assert_eq!(p.selected_row().unwrap().range, ttl.range);
    assert_eq!(p.journey.hops[0].frame[ttl.range.start], 64);

    app.update(Action::NextHop);
    assert_eq!(
        pane(&app).selected_row().unwrap().path,
        "ipv4.ttl",
        "kept across hops"
    );
    app.update(Action::Down);
    let next = pane(&app).selected_row().unwrap().path.clone();
    assert_eq!(next, "ipv4.protocol");
    app.update(Action::Up);
    assert_eq!(pane(&app).selected_row().unwrap().path, "ipv4.ttl");
    app.update(Action::Top);
    for _ in 0..200 {
        app.update(Action::Down);
    }
    assert_eq!(
        pane(&app).selected,
        pane(&app).rows.len() - 1,
        "stops at the last row"
    );
}

#[test]
fn the_hex_view_highlights_exactly_the_selected_fields_bytes() {
    let mut app = watching_dnat();
    for path in ["ipv4.ttl", "ipv4.dst", "tcp", "eth.src"] {
        select(&mut app, path);
        let (t, _) = draw(&mut app, 120, 40);
        let buf = t.backend().buffer();
        let range = pane(&app).selected_row().unwrap().range;
        let frame = &pane(&app).journey.hops[0].frame;
        let want: String = frame[range.start..range.end]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // The hex pane is the bottom right; offsets start its lines.
        let mut got = String::new();
        for y in 0..40 {
            let line: String = (44..120)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            if !line.trim_start_matches('│').starts_with("00") {
                continue;
            }
            // Hex digits only, ASCII column excluded (it starts after a gap of two).
            for x in 51..(51 + 16 * 3 + 1) {
                let cell = &buf[(x, y)];
                if cell.style().add_modifier.contains(Modifier::REVERSED) && cell.symbol() != " " {
                    got.push_str(cell.symbol());
                }
            }
        }
        assert_eq!(got, want, "{path}:\n{}", screen_text(&t));
    }
}

#[test]
fn tab_gives_arrows_to_the_hops_the_fields_or_the_bytes() {
    let mut app = watching_dnat();
    assert_eq!(pane(&app).focus, JourneyFocus::Fields);
    app.update(Action::NextPane);
    assert_eq!(pane(&app).focus, JourneyFocus::Hex);
    app.update(Action::Down);
    assert_eq!(pane(&app).hex_scroll, Some(1));
    assert_eq!(pane(&app).hop, 0);
    app.update(Action::NextPane);
    assert_eq!(pane(&app).focus, JourneyFocus::Hops);
    app.update(Action::Down);
    assert_eq!(pane(&app).hop, 1, "↓ in the hop list is the next hop");
    assert_eq!(
        pane(&app).hex_scroll,
        None,
        "a new hop follows the selection again"
    );
    app.update(Action::PrevPane);
    assert_eq!(pane(&app).focus, JourneyFocus::Hex);
}

#[test]
fn the_player_state_and_speed_are_on_screen() {
    let mut app = watching_dnat();
    let (t, _) = draw(&mut app, 80, 24);
    assert!(
        screen_text(&t).contains("paused · 1×"),
        "{}",
        screen_text(&t)
    );
    press(&mut app, &[Action::PlayPause, Action::Faster]);
    let (t, _) = draw(&mut app, 80, 24);
    assert!(
        screen_text(&t).contains("▶ playing 2×"),
        "{}",
        screen_text(&t)
    );
}

#[test]
fn the_packets_place_is_highlighted_in_the_topology() {
    let mut app = watching_dnat();
    app.update(Action::NextHop);
    for (w, h) in [(120, 40), (80, 24), (60, 20)] {
        let (t, _) = draw(&mut app, w, h);
        let text = screen_text(&t);
        let buf = t.backend().buffer();
        // The label of the current node is drawn reversed; no other label is.
        let reversed_rows: Vec<String> = (0..8)
            .map(|y| {
                (0..w)
                    .filter(|&x| {
                        buf[(x, y)]
                            .style()
                            .add_modifier
                            .contains(Modifier::REVERSED)
                    })
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .filter(|s| !s.trim().is_empty())
            .collect();
        assert_eq!(reversed_rows.len(), 1, "{w}x{h}: {reversed_rows:?}\n{text}");
        assert!(
            reversed_rows[0].contains("PREROUTING (nat)"),
            "{w}x{h}: {reversed_rows:?}\n{text}"
        );
    }
}

#[test]
fn no_color_draws_the_journey_with_modifiers_only() {
    let mut app = watching_dnat();
    app.update(Action::NextHop);
    let (t, _) = draw(&mut app, 120, 40);
    let buf = t.backend().buffer();
    let coloured = buf
        .content()
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0, "monochrome uses no colour");
    let marked = buf
        .content()
        .iter()
        .filter(|c| c.modifier.contains(Modifier::UNDERLINED))
        .count();
    assert!(marked > 0, "changed bytes are still marked, by underline");

    app.theme = Theme::colour();
    let (t, _) = draw(&mut app, 120, 40);
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != Color::Reset),
        "the colour theme does colour"
    );
}

#[test]
fn a_capture_replays_as_a_journey_with_a_hop_per_packet() {
    let (journey, note) = layerlab_core::Journey::from_capture_file(
        "capture",
        "http.pcap",
        capture("http.pcap"),
        10_000,
    )
    .unwrap();
    assert_eq!(note, None);
    assert_eq!(journey.title, "http.pcap");
    let packets = layerlab_core::packet::CaptureReader::new(capture("http.pcap"))
        .unwrap()
        .count();
    assert_eq!(journey.hops.len(), packets);
    assert!(journey.nodes.len() >= 2);
    let mut app = App::new(
        tiny_course(),
        Progress::default(),
        Theme::monochrome(),
        clock,
    );
    app.watch(JourneyPane::new(journey), None);
    app.update(Action::Bottom);
    assert_eq!(pane(&app).hop, packets - 1);
    app.update(Action::Back);
    assert!(app.quit, "leaving a replay quits");
}

#[test]
fn journey_view_snapshots() {
    let mut app = watching_dnat();
    press(&mut app, &[Action::NextHop]);
    select(&mut app, "ipv4.dst");
    snapshot_both(&mut app, "journey_dnat");
}

#[test]
fn journey_view_of_a_capture_snapshots() {
    let mut app = App::new(
        tiny_course(),
        Progress::default(),
        Theme::monochrome(),
        clock,
    );
    app.watch(
        JourneyPane::new(capture_journey("vxlan", "vxlan.pcap")),
        None,
    );
    press(&mut app, &[Action::NextHop, Action::Down, Action::Down]);
    snapshot_both(&mut app, "journey_vxlan_capture");
}

#[test]
fn journey_picker_snapshots() {
    let mut app = reading_short();
    app.update(Action::OpenJourney);
    snapshot_both(&mut app, "journey_picker");
}

#[test]
fn journey_help_lists_every_journey_key() {
    let mut app = watching_dnat();
    app.update(Action::ToggleHelp);
    let (t, _) = draw(&mut app, 120, 40);
    let text = screen_text(&t);
    for binding in crate::keys::bindings(KeyMode::Journey) {
        assert!(
            text.contains(binding.what),
            "{} missing:\n{text}",
            binding.what
        );
        assert!(
            text.contains(&binding.keys()),
            "{} missing:\n{text}",
            binding.keys()
        );
    }
    insta::assert_snapshot!("journey_help_120x40", text);
}

#[test]
fn every_embedded_journey_draws_its_current_place_at_every_hop() {
    let embedded = layerlab_lessons::journeys();
    for journey in embedded {
        let mut app = App::new(
            tiny_course(),
            Progress::default(),
            Theme::monochrome(),
            clock,
        );
        app.watch(JourneyPane::new(journey.clone()), None);
        for hop in 0..journey.hops.len() {
            let node = journey
                .nodes
                .iter()
                .find(|n| n.id == journey.hops[hop].at)
                .unwrap();
            for (w, h) in [(80, 24), (120, 40)] {
                let (t, _) = draw(&mut app, w, h);
                let text = screen_text(&t);
                let shown: String = node.label.chars().take(8).collect();
                assert!(
                    text.contains(&shown),
                    "{} hop {} at {w}x{h}: `{shown}` not drawn:\n{text}",
                    journey.id,
                    hop + 1
                );
                if std::env::var_os("LAYERLAB_SHOW_JOURNEYS").is_some() {
                    println!("{text}");
                }
            }
            app.update(Action::NextHop);
        }
    }
}

fn lab_app() -> App<'static> {
    let mut app = app();
    let effects = app.open_lab("handshake");
    assert_eq!(effects, vec![Effect::StartLab("handshake")]);
    app
}

fn step_result(step: usize, passed: &[bool]) -> layerlab_core::lab::StepResult {
    layerlab_core::lab::StepResult {
        step,
        title: "t".into(),
        passed: passed.iter().all(|p| *p),
        checked_at_ms: 0,
        checks: passed
            .iter()
            .map(|&ok| layerlab_core::lab::CheckResult {
                title: "c".into(),
                kind: "interface".into(),
                passed: ok,
                points: u32::from(ok),
                max_points: 1,
                attempts: 1,
                duration_ms: 3,
                message: if ok {
                    "fine".into()
                } else {
                    "`veth-c` in namespace `client` is down: bring it up with `ip -n client link set veth-c up`".into()
                },
                mismatches: if ok {
                    vec![]
                } else {
                    vec![layerlab_core::lab::Mismatch::new("veth-c.state", "UP", "DOWN")]
                },
                evidence: String::new(),
                hint: None,
            })
            .collect(),
    }
}

#[test]
fn a_lab_checks_live_records_passed_steps_and_routes_keys_to_the_shell() {
    use crate::screens::lab::{LabEvent, LabFocus, LabRequest};
    let mut app = lab_app();
    assert_eq!(app.screen, Screen::Lab);
    assert_eq!(app.key_mode(), KeyMode::Lab);
    // No checks before the sandbox is up.
    assert!(app.update(Action::CheckStep).is_empty());
    let effects = app.lab_event(LabEvent::Ready);
    assert!(matches!(
        effects[..],
        [Effect::Lab(LabRequest::Check {
            step: 0,
            quick: true,
            ..
        })]
    ));
    // A failure unlocks the first hint; a pass is recorded once, with a save.
    assert!(
        app.lab_event(LabEvent::Checked(step_result(1, &[false, true])))
            .is_empty()
    );
    assert_eq!(app.lab.as_ref().unwrap().hints_shown(), 1);
    let effects = app.lab_event(LabEvent::Checked(step_result(1, &[true, true])));
    assert_eq!(effects, vec![Effect::SaveProgress]);
    assert!(app.progress.labs["handshake"].steps.contains_key("1"));
    // Tab hands the keys to the shell; letters and Ctrl-C go there; Ctrl-O comes back.
    app.update(Action::FocusShell);
    assert_eq!(app.key_mode(), KeyMode::LabShell);
    let q = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('q'),
        crossterm::event::KeyModifiers::NONE,
    );
    let action = crate::keys::action_for(q, app.key_mode()).unwrap();
    assert_eq!(app.update(action), vec![Effect::ShellInput(b"q".to_vec())]);
    let ctrl_c = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    let action = crate::keys::action_for(ctrl_c, app.key_mode()).unwrap();
    assert_eq!(app.update(action), vec![Effect::ShellInput(vec![3])]);
    assert!(!app.quit);
    let ctrl_o = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('o'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    app.update(crate::keys::action_for(ctrl_o, app.key_mode()).unwrap());
    assert_eq!(app.lab.as_ref().unwrap().focus, LabFocus::Steps);
    // The last step asks a question: the answer goes with its check.
    for _ in 0..10 {
        app.update(Action::NextStep);
    }
    app.update(Action::StartAnswer);
    assert_eq!(app.key_mode(), KeyMode::LabAnswer);
    type_text(&mut app, "43210");
    let effects = app.update(Action::Submit);
    assert!(
        matches!(&effects[..], [Effect::Lab(LabRequest::Check { answer: Some(a), quick: false, .. })] if a == "43210"),
        "{effects:?}"
    );
    // Esc leaves the lab; reopening resumes without restarting the sandbox.
    app.update(Action::Back);
    assert_ne!(app.screen, Screen::Lab);
    assert!(app.open_lab("handshake").is_empty());
    // Kind labs open like sandbox labs (they start by connecting).
    let mut other = self::app();
    assert_eq!(
        other.open_lab("k8s-services"),
        vec![Effect::StartLab("k8s-services")]
    );
    assert_eq!(other.screen, Screen::Lab);
}

/// The tutor's lab panel on a kind lab, against the API server stand-in:
/// it connects, opens a shell whose kubectl is bound to the lab's context,
/// shows the step failing, and turns it green once the pods exist.
#[test]
fn a_kind_lab_opens_in_the_tutor_and_turns_a_step_green() {
    use crate::runner::{Ctx, Msg, apply, handle};
    use crate::screens::lab::LabEvent;
    use layerlab_kube::standin::{StandIn, running_pod};
    use layerlab_labs::run::{Labs, RunOptions};
    use std::sync::Arc;

    let rt = tokio::runtime::Runtime::new().unwrap();
    let standin = rt.block_on(StandIn::start()).expect("stand-in starts");
    let kubeconfig = standin.kubeconfig_file("tui").unwrap();
    let labs = Labs::new(RunOptions {
        context: Some("standin".into()),
        kubeconfig: Some(kubeconfig.clone()),
        runtime: Some(rt.handle().clone()),
        ..RunOptions::default()
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let mut ctx = Ctx::new(None, tx, Arc::new(labs));
    let mut app = self::app();
    let next = |rx: &std::sync::mpsc::Receiver<Msg>| loop {
        match rx.recv_timeout(Duration::from_secs(20)).expect("lab news") {
            Msg::Redraw => continue,
            other => return other,
        }
    };

    let effects = app.open_lab("k8s-pod-network");
    apply(effects, &mut app, &mut ctx);
    let ready = next(&rx);
    assert!(matches!(ready, Msg::LabReady(_)), "{ready:?}");
    handle(ready, &mut app, &mut ctx).unwrap();
    assert_eq!(app.lab.as_ref().unwrap().ready, Some(Ok(())));
    assert!(app.shell.is_some(), "a shell opened on the cluster");

    // The first (quick) check: no pods yet, so the step fails.
    let first = next(&rx);
    let Msg::Lab(LabEvent::Checked(r)) = &first else {
        panic!("{first:?}")
    };
    assert!(!r.passed);
    assert!(
        r.checks[0].passed,
        "the stand-in's nodes own /24s: {:?}",
        r.checks[0]
    );
    assert!(!r.checks[1].passed);
    handle(first, &mut app, &mut ctx).unwrap();
    assert!(!app.progress.step_passed("k8s-pod-network", "1"));

    // The learner's pods appear; the live re-check turns the step green.
    for (name, node, ip) in [
        ("client", "layerlab-worker", "10.244.1.7"),
        ("server", "layerlab-worker2", "10.244.2.9"),
    ] {
        standin.put(running_pod("net", name, node, ip));
    }
    let effects = vec![Effect::Lab(app.lab.as_mut().unwrap().check(true))];
    apply(effects, &mut app, &mut ctx);
    let second = next(&rx);
    let Msg::Lab(LabEvent::Checked(r)) = &second else {
        panic!("{second:?}")
    };
    assert!(r.passed, "{r:?}");
    handle(second, &mut app, &mut ctx).unwrap();
    assert!(app.progress.step_passed("k8s-pod-network", "1"));
    app.shell = None;
    let _ = std::fs::remove_dir_all(kubeconfig.parent().unwrap());
}

#[test]
fn lab_screen_snapshots() {
    use crate::screens::lab::LabEvent;
    let mut app = lab_app();
    snapshot_both(&mut app, "lab_starting");
    app.lab_event(LabEvent::Ready);
    app.update(Action::NextStep);
    app.lab_event(LabEvent::Checked(step_result(2, &[false, true, true])));
    app.update(Action::ToggleSolution);
    snapshot_both(&mut app, "lab_step_failed");
    app.lab_event(LabEvent::Failed(
        "missing tcpdump: install with `sudo apt-get install -y tcpdump`".into(),
    ));
    snapshot_both(&mut app, "lab_sandbox_failed");
}
