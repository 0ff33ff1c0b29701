//! The tutor's state and its pure transitions.
//!
//! Keys become [`Action`]s (`keys.rs`), actions change [`App`] here and
//! return [`Effect`]s for the runner to carry out (saving progress), and
//! `ui.rs` draws the state. Nothing here touches the terminal or the disk,
//! so every transition is testable. Screens and popups own their state in
//! `screens/`; this file routes actions to the one in focus and acts on
//! what it reports.

pub use crate::action::Action;
use crate::keys::KeyMode;
use crate::screens::glossary::{GlossaryOutcome, GlossaryPane};
use crate::screens::journey::{JourneyOutcome, JourneyPane, JourneyPicker, PickerOutcome};
use crate::screens::lab::{LabEvent, LabFocus, LabRequest, LabScreen};
use crate::screens::quiz::{QuizOutcome, QuizPane, QuizPhase};
use crate::screens::reader::Reader;
use crate::screens::search::{SearchIndex, SearchOutcome, SearchPopup};
use crate::theme::Theme;
use layerlab_core::{Course, Journey, Lesson, Progress, Timestamp};
use std::time::Duration;

/// Lessons remembered for going back after following links.
const MAX_HISTORY: usize = 50;

/// Something the runner must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write progress to disk.
    SaveProgress,
    /// Start (or reuse) the lab's sandbox and its shell.
    StartLab(&'static str),
    /// Check, solve or reset in the open lab's sandbox.
    Lab(LabRequest),
    /// Bytes for the lab shell.
    ShellInput(Vec<u8>),
}

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The chapter/lesson tree with a preview.
    Course,
    /// Reading a lesson.
    Lesson,
    /// Taking the open lesson's quiz.
    Quiz,
    /// Browsing the glossary.
    Glossary,
    /// Watching a packet journey.
    Journey,
    /// Working a lab.
    Lab,
}

/// A row of the course tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Chapter index.
    Chapter(usize),
    /// Chapter and lesson index.
    Lesson(usize, usize),
}

/// A lesson left by following a link, to come back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// Lesson id.
    pub lesson_id: String,
    /// Where the learner had scrolled to.
    pub scroll: usize,
}

/// The whole tutor state.
pub struct App<'c> {
    /// The course being taught.
    pub course: &'c Course,
    /// The learner's progress.
    pub progress: Progress,
    /// Styles.
    pub theme: Theme,
    /// Current screen.
    pub screen: Screen,
    /// Flattened course tree.
    pub rows: Vec<Row>,
    /// Selected tree row.
    pub selected: usize,
    /// The open lesson, if any.
    pub reader: Option<Reader>,
    /// Lessons to go back to, most recent last.
    pub history: Vec<Visit>,
    /// The quiz being taken, if any.
    pub quiz: Option<QuizPane>,
    /// The glossary's selection.
    pub glossary: GlossaryPane,
    /// The screen the glossary returns to.
    pub glossary_return: Screen,
    /// The search popup, when open.
    pub search: Option<SearchPopup>,
    /// Packet journeys lessons can open.
    pub journeys: &'c [Journey],
    /// The journey being watched, if any.
    pub journey: Option<JourneyPane>,
    /// Choosing among the open lesson's journeys, when it has several.
    pub journey_picker: Option<JourneyPicker>,
    /// Where leaving the journey goes; `None` quits (`packet replay`).
    pub journey_return: Option<Screen>,
    /// What search looks through.
    pub search_index: SearchIndex,
    /// The lab being worked, if any.
    pub lab: Option<LabScreen>,
    /// The screen leaving the lab returns to.
    pub lab_return: Screen,
    /// The lab's shell, once the runner has started it.
    pub shell: Option<crate::shell::Shell>,
    /// Whether the key help overlay is shown.
    pub help: bool,
    /// A one-line message for the status bar.
    pub status: Option<String>,
    /// Set when the learner asked to quit.
    pub quit: bool,
    /// The clock, passed in so tests are deterministic.
    pub now: fn() -> Timestamp,
}

impl<'c> App<'c> {
    /// A tutor over `course`, resuming at the learner's last lesson.
    pub fn new(
        course: &'c Course,
        progress: Progress,
        theme: Theme,
        now: fn() -> Timestamp,
    ) -> App<'c> {
        let mut rows = Vec::new();
        for (ci, ch) in course.chapters.iter().enumerate() {
            rows.push(Row::Chapter(ci));
            rows.extend((0..ch.lessons.len()).map(|li| Row::Lesson(ci, li)));
        }
        let mut app = App {
            course,
            progress,
            theme,
            screen: Screen::Course,
            rows,
            selected: 0,
            reader: None,
            history: Vec::new(),
            quiz: None,
            glossary: GlossaryPane::default(),
            glossary_return: Screen::Course,
            search: None,
            journeys: &[],
            journey: None,
            journey_picker: None,
            journey_return: None,
            search_index: SearchIndex::new(course),
            lab: None,
            lab_return: Screen::Course,
            shell: None,
            help: false,
            status: None,
            quit: false,
            now,
        };
        let resume = app.progress.last_lesson.clone();
        match resume.and_then(|id| app.row_of(&id)) {
            Some(row) => app.selected = row,
            None => {
                app.selected = app
                    .rows
                    .iter()
                    .position(|r| matches!(r, Row::Lesson(..)))
                    .unwrap_or(0)
            }
        }
        app
    }

    /// The same tutor, with packet journeys for lessons to open.
    pub fn with_journeys(mut self, journeys: &'c [Journey]) -> App<'c> {
        self.journeys = journeys;
        self
    }

    /// Shows a journey; leaving it returns to `back_to`, or quits if `None`.
    pub fn watch(&mut self, pane: JourneyPane, back_to: Option<Screen>) {
        self.journey = Some(pane);
        self.journey_picker = None;
        self.journey_return = back_to;
        self.screen = Screen::Journey;
    }

    /// How soon the runner should send [`Action::Tick`]: only while
    /// something animates, so an idle tutor sleeps until a key arrives.
    pub fn tick_interval(&self) -> Option<Duration> {
        match self.screen {
            Screen::Journey => self.journey.as_ref().and_then(JourneyPane::tick_interval),
            _ => None,
        }
    }

    fn row_of(&self, lesson_id: &str) -> Option<usize> {
        self.rows
            .iter()
            .position(|r| self.lesson_at(*r).is_some_and(|l| l.id == lesson_id))
    }

    /// The lesson a tree row stands for.
    pub fn lesson_at(&self, row: Row) -> Option<&'c Lesson> {
        match row {
            Row::Lesson(c, l) => self.course.chapters.get(c)?.lessons.get(l),
            Row::Chapter(_) => None,
        }
    }

    /// The lesson under the tree cursor.
    pub fn selected_lesson(&self) -> Option<&'c Lesson> {
        self.rows
            .get(self.selected)
            .and_then(|r| self.lesson_at(*r))
    }

    /// The lesson open in the reader.
    pub fn open_lesson(&self) -> Option<&'c Lesson> {
        self.reader
            .as_ref()
            .and_then(|r| self.course.lesson(&r.lesson_id))
    }

    /// What the keyboard drives right now, ignoring the help overlay.
    pub fn mode(&self) -> KeyMode {
        if self.search.is_some() {
            return KeyMode::Search;
        }
        if self.journey_picker.is_some() {
            return KeyMode::JourneyPicker;
        }
        match self.screen {
            Screen::Journey => KeyMode::Journey,
            Screen::Lab => match self.lab.as_ref().map(|l| l.focus) {
                Some(LabFocus::Shell) => KeyMode::LabShell,
                Some(LabFocus::Answer) => KeyMode::LabAnswer,
                _ => KeyMode::Lab,
            },
            Screen::Course => KeyMode::Course,
            Screen::Lesson => KeyMode::Reader,
            Screen::Glossary => KeyMode::Glossary,
            Screen::Quiz => match self.quiz.as_ref().map(|q| &q.phase) {
                Some(QuizPhase::Feedback(_)) => KeyMode::QuizFeedback,
                Some(QuizPhase::Summary) | None => KeyMode::QuizSummary,
                Some(QuizPhase::Answering) => {
                    let question = self.quiz.as_ref().and_then(|q| {
                        self.course
                            .lesson(&q.lesson_id)
                            .and_then(|l| l.quiz.get(q.index))
                    });
                    match question {
                        Some(q) if q.choices().is_empty() => KeyMode::QuizInput,
                        _ => KeyMode::QuizChoices,
                    }
                }
            },
        }
    }

    /// The key mode, with the help overlay taking all keys when shown.
    pub fn key_mode(&self) -> KeyMode {
        if self.help {
            KeyMode::Help
        } else {
            self.mode()
        }
    }

    /// Applies an action; returns what the runner must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Quit {
            self.quit = true;
            return vec![];
        }
        if action == Action::Tick {
            // The player keeps time even under the help overlay.
            return self.update_journey(action);
        }
        if self.help {
            // Help is modal: it only closes.
            if matches!(action, Action::ToggleHelp | Action::Back) {
                self.help = false;
            }
            return vec![];
        }
        if action == Action::ToggleHelp {
            self.help = true;
            return vec![];
        }
        if self.search.is_some() {
            return self.update_search(action);
        }
        if self.journey_picker.is_some() {
            return self.update_picker(action);
        }
        match (self.screen, action) {
            (Screen::Course | Screen::Lesson | Screen::Glossary, Action::OpenSearch) => {
                self.search = Some(SearchPopup::default());
                vec![]
            }
            (Screen::Course | Screen::Lesson, Action::OpenGlossary) => {
                self.glossary_return = self.screen;
                self.screen = Screen::Glossary;
                vec![]
            }
            (Screen::Course, _) => self.update_course(action),
            (Screen::Lesson, _) => self.update_lesson(action),
            (Screen::Quiz, _) => self.update_quiz(action),
            (Screen::Glossary, _) => self.update_glossary(action),
            (Screen::Journey, _) => self.update_journey(action),
            (Screen::Lab, _) => self.update_lab(action),
        }
    }

    /// Opens a lab by id (from a lesson's link).
    pub fn open_lab(&mut self, id: &str) -> Vec<Effect> {
        let Ok(lab) = layerlab_labs::find(id) else {
            self.status = Some(format!("The lab `{id}` is not part of this build."));
            return vec![];
        };
        if self.lab.as_ref().is_some_and(|l| l.lab.id == id) {
            self.lab_return = self.screen;
            self.screen = Screen::Lab;
            return vec![];
        }
        let passed: Vec<usize> = self
            .progress
            .labs
            .get(id)
            .map(|p| p.steps.keys().filter_map(|k| k.parse().ok()).collect())
            .unwrap_or_default();
        self.shell = None;
        self.lab = Some(LabScreen::new(lab, &passed));
        self.lab_return = self.screen;
        self.screen = Screen::Lab;
        vec![Effect::StartLab(&lab.id)]
    }

    fn update_lab(&mut self, action: Action) -> Vec<Effect> {
        let Some(lab) = self.lab.as_mut() else {
            self.screen = self.lab_return;
            return vec![];
        };
        match (lab.focus, action) {
            (LabFocus::Shell, Action::FocusSteps) => lab.focus = LabFocus::Steps,
            (LabFocus::Shell, Action::ShellKey(key)) => {
                return vec![Effect::ShellInput(crate::shell::key_bytes(key))];
            }
            (LabFocus::Answer, Action::Type(c)) => lab.answers[lab.step].push(c),
            (LabFocus::Answer, Action::DeleteChar) => {
                lab.answers[lab.step].pop();
            }
            (LabFocus::Answer, Action::Submit) => {
                lab.focus = LabFocus::Steps;
                return vec![Effect::Lab(lab.check(false))];
            }
            (LabFocus::Answer, Action::Back) => lab.focus = LabFocus::Steps,
            (_, Action::NextStep) => lab.next_step(),
            (_, Action::PrevStep) => lab.prev_step(),
            (_, Action::Up) => lab.scroll = lab.scroll.saturating_sub(1),
            (_, Action::Down) => lab.scroll = lab.scroll.saturating_add(1),
            (_, Action::PageUp) => lab.scroll = lab.scroll.saturating_sub(10),
            (_, Action::PageDown) => lab.scroll = lab.scroll.saturating_add(10),
            (_, Action::CheckStep) if lab.ready == Some(Ok(())) && !lab.checking => {
                return vec![Effect::Lab(lab.check(false))];
            }
            (_, Action::CheckStep) => {
                self.status = Some("Wait for the sandbox (or the running check).".into());
            }
            (_, Action::MoreHint) => lab.more_hint(),
            (_, Action::ToggleSolution) => lab.show_solution = !lab.show_solution,
            (_, Action::ApplySolution) if lab.ready == Some(Ok(())) && !lab.checking => {
                lab.checking = true;
                lab.show_solution = true;
                return vec![Effect::Lab(LabRequest::Solve { step: lab.step })];
            }
            (_, Action::StartAnswer) if lab.asks().is_some() => lab.focus = LabFocus::Answer,
            (_, Action::StartAnswer) => {
                self.status = Some("This step asks no question.".into());
            }
            (_, Action::ResetLab) => {
                lab.ready = None;
                lab.results.iter_mut().for_each(|r| *r = None);
                self.shell = None;
                return vec![Effect::Lab(LabRequest::Reset)];
            }
            (_, Action::FocusShell) => lab.focus = LabFocus::Shell,
            (_, Action::Back) => self.screen = self.lab_return,
            _ => {}
        }
        vec![]
    }

    /// Takes in what the runner reports about the lab.
    pub fn lab_event(&mut self, event: LabEvent) -> Vec<Effect> {
        let Some(lab) = self.lab.as_mut() else {
            return vec![];
        };
        match event {
            LabEvent::Ready => {
                lab.ready = Some(Ok(()));
                lab.note = None;
                return vec![Effect::Lab(lab.check(true))];
            }
            LabEvent::Failed(why) => lab.ready = Some(Err(why)),
            LabEvent::SolveFailed(why) => {
                lab.checking = false;
                lab.note = Some(format!("The solution did not apply: {why}"));
            }
            LabEvent::Checked(result) => {
                let step = result.step;
                if lab.checked(result) {
                    let id = lab.lab.id.clone();
                    self.progress
                        .record_step(&id, &step.to_string(), true, (self.now)());
                    if self.lab.as_ref().is_some_and(|l| l.step + 1 == step) {
                        self.status = Some(format!("Step {step} passed."));
                    }
                    return vec![Effect::SaveProgress];
                }
            }
        }
        vec![]
    }

    fn update_course(&mut self, action: Action) -> Vec<Effect> {
        let last = self.rows.len().saturating_sub(1);
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open => {
                if let Some(lesson) = self.selected_lesson() {
                    return self.open(&lesson.id.clone());
                }
                // On a chapter row, Enter jumps into its first lesson.
                if let Some(Row::Chapter(c)) = self.rows.get(self.selected).copied()
                    && let Some(first) = self.course.chapters[c].lessons.first()
                {
                    return self.open(&first.id.clone());
                }
            }
            Action::Back => self.quit = true,
            _ => {}
        }
        vec![]
    }

    /// Opens a lesson afresh (from the tree): the link history starts over.
    fn open(&mut self, lesson_id: &str) -> Vec<Effect> {
        self.history.clear();
        self.show_lesson(lesson_id, 0, None)
    }

    /// Opens a lesson from the reader, remembering where the learner was.
    fn follow(&mut self, lesson_id: &str, anchor: Option<String>) -> Vec<Effect> {
        if let Some(r) = self
            .reader
            .as_ref()
            .filter(|_| self.screen == Screen::Lesson)
        {
            self.history.push(Visit {
                lesson_id: r.lesson_id.clone(),
                scroll: r.scroll,
            });
            if self.history.len() > MAX_HISTORY {
                self.history.remove(0);
            }
        } else {
            self.history.clear();
        }
        self.show_lesson(lesson_id, 0, anchor)
    }

    fn show_lesson(
        &mut self,
        lesson_id: &str,
        scroll: usize,
        anchor: Option<String>,
    ) -> Vec<Effect> {
        self.reader = Some(Reader::new(lesson_id, scroll, anchor));
        self.screen = Screen::Lesson;
        self.quiz = None;
        if let Some(row) = self.row_of(lesson_id) {
            self.selected = row;
        }
        self.progress.set_last_lesson(lesson_id);
        vec![Effect::SaveProgress]
    }

    fn update_lesson(&mut self, action: Action) -> Vec<Effect> {
        let Some(lesson) = self.open_lesson() else {
            self.screen = Screen::Course;
            return vec![];
        };
        let Some(reader) = self.reader.as_mut() else {
            return vec![];
        };
        match action {
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => reader.scroll_by(action),
            Action::Back => {
                self.screen = Screen::Course;
                return vec![];
            }
            Action::NextLesson => {
                if let Some(next) = self.course.next_lesson(&lesson.id) {
                    return self.show_lesson(&next.id.clone(), 0, None);
                }
                self.status = Some("This is the last lesson of the course.".into());
                return vec![];
            }
            Action::OpenJourney => {
                self.open_journeys(lesson);
                return vec![];
            }
            Action::OpenLab => {
                // With several labs, the first one not finished yet.
                let next = lesson
                    .labs
                    .iter()
                    .find(|id| {
                        layerlab_labs::find(id).is_ok_and(|lab| {
                            !(1..=lab.steps.len())
                                .all(|n| self.progress.step_passed(id, &n.to_string()))
                        })
                    })
                    .or(lesson.labs.first())
                    .cloned();
                return match next {
                    Some(id) => self.open_lab(&id),
                    None => {
                        self.status = Some("This lesson has no lab; its chapter's labs are linked from other lessons.".into());
                        vec![]
                    }
                };
            }
            Action::TakeQuiz => {
                if lesson.quiz.is_empty() {
                    self.status = Some("This lesson has no quiz.".into());
                } else {
                    self.quiz = Some(QuizPane::new(&lesson.id));
                    self.screen = Screen::Quiz;
                }
                return vec![];
            }
            Action::NextLink | Action::PrevLink => {
                let link = reader.cycle_link(action == Action::NextLink);
                self.status = Some(match link {
                    Some(link) => {
                        let title = self
                            .course
                            .lesson(&link.lesson)
                            .map_or(link.lesson.as_str(), |l| l.title.as_str());
                        format!("Enter: open “{title}”")
                    }
                    None => "This lesson links to no other lesson.".into(),
                });
            }
            Action::Open => {
                let target = reader
                    .selected_link()
                    .map(|l| (l.lesson.clone(), l.anchor.clone()));
                match target {
                    Some((id, anchor)) if self.course.lesson(&id).is_some() => {
                        return self.follow(&id, anchor);
                    }
                    Some((id, _)) => {
                        self.status = Some(format!("No lesson `{id}` in this course."))
                    }
                    None => {
                        self.status =
                            Some("Press Tab to select a link, then Enter to follow it.".into())
                    }
                }
            }
            Action::PreviousLesson => match self.history.pop() {
                Some(visit) => return self.show_lesson(&visit.lesson_id, visit.scroll, None),
                None => {
                    self.status = Some("No previous lesson: Esc goes back to the course.".into())
                }
            },
            _ => {}
        }
        self.mark_read_at_end()
    }

    /// Reaching the last page of a lesson marks it read.
    fn mark_read_at_end(&mut self) -> Vec<Effect> {
        let Some(reader) = self.reader.as_ref() else {
            return vec![];
        };
        if reader.at_end() && !self.progress.is_read(&reader.lesson_id) {
            let id = reader.lesson_id.clone();
            self.progress.mark_read(&id, (self.now)());
            self.status = Some("Lesson marked as read.".into());
            return vec![Effect::SaveProgress];
        }
        vec![]
    }

    /// Renders the open lesson for `width` (cached) and records the page height.
    pub fn layout_reader(&mut self, width: u16, page: usize) -> Vec<Effect> {
        let Some(lesson) = self.open_lesson() else {
            return vec![];
        };
        let Some(reader) = self.reader.as_mut() else {
            return vec![];
        };
        reader.layout(lesson, width, page, &self.theme);
        // A lesson shorter than one screen is read as soon as it is shown.
        self.mark_read_at_end()
    }

    fn update_quiz(&mut self, action: Action) -> Vec<Effect> {
        let Some(quiz) = self.quiz.as_mut() else {
            self.screen = Screen::Lesson;
            return vec![];
        };
        let questions = self
            .course
            .lesson(&quiz.lesson_id)
            .map_or(&[][..], |l| &l.quiz[..]);
        match quiz.update(questions, action) {
            QuizOutcome::Stay => vec![],
            QuizOutcome::Status(msg) => {
                self.status = Some(msg);
                vec![]
            }
            QuizOutcome::Leave => {
                self.quiz = None;
                self.screen = Screen::Lesson;
                vec![]
            }
            QuizOutcome::Finished { right, total } => {
                let id = quiz.lesson_id.clone();
                self.progress.record_quiz(&id, right, total, (self.now)());
                self.status = Some(format!("Quiz score saved: {right}/{total}."));
                vec![Effect::SaveProgress]
            }
        }
    }

    /// `p` in a lesson: its one journey, a picker for several, or a message.
    fn open_journeys(&mut self, lesson: &Lesson) {
        let choices: Vec<usize> = lesson
            .journeys
            .iter()
            .filter_map(|id| self.journeys.iter().position(|j| &j.id == id))
            .collect();
        match choices.as_slice() {
            [] if lesson.journeys.is_empty() => {
                self.status = Some("This lesson has no packet journey.".into());
            }
            [] => {
                self.status = Some(format!(
                    "This lesson's journey `{}` is not in this build.",
                    lesson.journeys[0]
                ));
            }
            [one] => {
                let pane = JourneyPane::new(self.journeys[*one].clone());
                self.watch(pane, Some(Screen::Lesson));
            }
            _ => {
                self.journey_picker = Some(JourneyPicker {
                    choices,
                    selected: 0,
                });
            }
        }
    }

    fn update_picker(&mut self, action: Action) -> Vec<Effect> {
        let Some(picker) = self.journey_picker.as_mut() else {
            return vec![];
        };
        match picker.update(action) {
            PickerOutcome::Stay => {}
            PickerOutcome::Close => self.journey_picker = None,
            PickerOutcome::Open(j) => {
                if let Some(journey) = self.journeys.get(j) {
                    let pane = JourneyPane::new(journey.clone());
                    self.watch(pane, Some(self.screen));
                }
            }
        }
        vec![]
    }

    fn update_journey(&mut self, action: Action) -> Vec<Effect> {
        if self.screen != Screen::Journey {
            return vec![];
        }
        let Some(pane) = self.journey.as_mut() else {
            self.screen = Screen::Course;
            return vec![];
        };
        match pane.update(action) {
            JourneyOutcome::Stay => {}
            JourneyOutcome::Status(msg) => self.status = Some(msg),
            JourneyOutcome::Leave => {
                self.journey = None;
                match self.journey_return {
                    Some(screen) => self.screen = screen,
                    None => self.quit = true,
                }
            }
        }
        vec![]
    }

    fn update_glossary(&mut self, action: Action) -> Vec<Effect> {
        match self.glossary.update(&self.course.glossary, action) {
            GlossaryOutcome::Stay => vec![],
            GlossaryOutcome::Leave => {
                self.screen = match (self.glossary_return, &self.reader) {
                    (Screen::Lesson, Some(_)) => Screen::Lesson,
                    _ => Screen::Course,
                };
                vec![]
            }
            GlossaryOutcome::Open(id) => {
                // Back from the lesson returns to the one read before the glossary.
                let came_from_reader = self.glossary_return == Screen::Lesson;
                self.screen = self.glossary_return;
                if came_from_reader {
                    self.follow(&id, None)
                } else {
                    self.open(&id)
                }
            }
        }
    }

    fn update_search(&mut self, action: Action) -> Vec<Effect> {
        let Some(popup) = self.search.as_mut() else {
            return vec![];
        };
        match popup.update(&self.search_index, action) {
            SearchOutcome::Stay => vec![],
            SearchOutcome::Close => {
                self.search = None;
                vec![]
            }
            SearchOutcome::Open { lesson, anchor } => {
                self.search = None;
                if self.screen == Screen::Glossary {
                    self.screen = self.glossary_return;
                }
                if self.screen == Screen::Lesson {
                    self.follow(&lesson, anchor)
                } else {
                    self.history.clear();
                    self.show_lesson(&lesson, 0, anchor)
                }
            }
        }
    }
}
