//! The tutor's state and its pure transitions.
//!
//! Keys become [`Action`]s (`keys.rs`), actions change [`App`] here and
//! return [`Effect`]s for the runner to carry out (saving progress), and
//! `ui.rs` draws the state. Nothing here touches the terminal or the disk,
//! so every transition is testable.

use crate::render::{RenderedLesson, render_lesson};
use crate::theme::Theme;
use layerlab_core::{Course, Lesson, Progress, Timestamp};

/// A user intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Move the selection or scroll up one line.
    Up,
    /// Move the selection or scroll down one line.
    Down,
    /// Scroll up a page.
    PageUp,
    /// Scroll down a page.
    PageDown,
    /// Go to the first line or row.
    Top,
    /// Go to the last line or row.
    Bottom,
    /// Open the selected lesson.
    Open,
    /// Go to the next lesson.
    NextLesson,
    /// Leave the current screen.
    Back,
    /// Show or hide the key help.
    ToggleHelp,
    /// Exit the tutor.
    Quit,
}

/// Something the runner must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write progress to disk.
    SaveProgress,
}

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The chapter/lesson tree with a preview.
    Course,
    /// Reading a lesson.
    Lesson,
}

/// A row of the course tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Chapter index.
    Chapter(usize),
    /// Chapter and lesson index.
    Lesson(usize, usize),
}

/// The lesson being read.
#[derive(Debug, Clone)]
pub struct Reader {
    /// Lesson id.
    pub lesson_id: String,
    /// First visible line.
    pub scroll: usize,
    /// Lines per page, updated at each draw.
    pub page: usize,
    /// Cached rendering and the width it was made for.
    pub rendered: Option<(u16, RenderedLesson)>,
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

    /// Applies an action; returns what the runner must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Quit {
            self.quit = true;
            return vec![];
        }
        if action == Action::ToggleHelp {
            self.help = !self.help;
            return vec![];
        }
        if self.help && action == Action::Back {
            self.help = false;
            return vec![];
        }
        match self.screen {
            Screen::Course => self.update_course(action),
            Screen::Lesson => self.update_lesson(action),
        }
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

    fn open(&mut self, lesson_id: &str) -> Vec<Effect> {
        self.reader = Some(Reader {
            lesson_id: lesson_id.to_string(),
            scroll: 0,
            page: 20,
            rendered: None,
        });
        self.screen = Screen::Lesson;
        if let Some(row) = self.row_of(lesson_id) {
            self.selected = row;
        }
        self.progress.set_last_lesson(lesson_id);
        vec![Effect::SaveProgress]
    }

    fn update_lesson(&mut self, action: Action) -> Vec<Effect> {
        let Some(reader) = self.reader.as_mut() else {
            self.screen = Screen::Course;
            return vec![];
        };
        let total = reader
            .rendered
            .as_ref()
            .map_or(usize::MAX, |(_, r)| r.lines.len());
        let max_scroll = total.saturating_sub(reader.page);
        match action {
            Action::Up => reader.scroll = reader.scroll.saturating_sub(1),
            Action::Down => reader.scroll = (reader.scroll + 1).min(max_scroll),
            Action::PageUp => {
                reader.scroll = reader
                    .scroll
                    .saturating_sub(reader.page.saturating_sub(2).max(1))
            }
            Action::PageDown => {
                reader.scroll =
                    (reader.scroll + reader.page.saturating_sub(2).max(1)).min(max_scroll)
            }
            Action::Top => reader.scroll = 0,
            Action::Bottom => reader.scroll = max_scroll,
            Action::Back => {
                self.screen = Screen::Course;
                return vec![];
            }
            Action::NextLesson => {
                let id = reader.lesson_id.clone();
                if let Some(next) = self.course.next_lesson(&id) {
                    return self.open(&next.id.clone());
                }
                self.status = Some("This is the last lesson of the course.".into());
                return vec![];
            }
            _ => {}
        }
        self.mark_read_at_end()
    }

    /// Reaching the last page of a lesson marks it read.
    fn mark_read_at_end(&mut self) -> Vec<Effect> {
        let Some(reader) = self.reader.as_ref() else {
            return vec![];
        };
        let Some((_, rendered)) = reader.rendered.as_ref() else {
            return vec![];
        };
        let at_end = reader.scroll + reader.page >= rendered.lines.len();
        if at_end && !self.progress.is_read(&reader.lesson_id) {
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
        let theme = self.theme.clone();
        let Some(reader) = self.reader.as_mut() else {
            return vec![];
        };
        reader.page = page.max(1);
        if reader.rendered.as_ref().is_none_or(|(w, _)| *w != width) {
            reader.rendered = Some((width, render_lesson(lesson, width, &theme)));
        }
        let total = reader.rendered.as_ref().map_or(0, |(_, r)| r.lines.len());
        reader.scroll = reader.scroll.min(total.saturating_sub(reader.page));
        // A lesson shorter than one screen is read as soon as it is shown.
        self.mark_read_at_end()
    }
}
