//! Keys to actions, one table per mode.
//!
//! The help overlay lists the same tables the key handler reads, so help can
//! never forget or invent a key. Modes where the learner types (answers,
//! search) send letters to the input instead of to actions, which is why
//! help there is on F1 rather than `?`.

use crate::action::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What the keyboard drives; each mode has its own bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// The course tree.
    Course,
    /// Reading a lesson.
    Reader,
    /// Answering a single- or multiple-choice question.
    QuizChoices,
    /// Typing a numeric or text answer.
    QuizInput,
    /// Reading the feedback on an answer.
    QuizFeedback,
    /// The quiz score.
    QuizSummary,
    /// Typing a search query.
    Search,
    /// The glossary.
    Glossary,
    /// Watching a packet journey.
    Journey,
    /// Choosing one of a lesson's journeys.
    JourneyPicker,
    /// Working a lab: the steps have the keys.
    Lab,
    /// Working a lab: the shell has the keys.
    LabShell,
    /// Working a lab: typing the answer to the step's question.
    LabAnswer,
    /// The key help overlay.
    Help,
}

/// A key press a binding answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// This key without Ctrl (Shift is ignored: `G` and `?` arrive with it).
    Key(KeyCode),
    /// Ctrl plus this letter.
    Ctrl(char),
    /// A digit 1–9; the action gets its zero-based index.
    Digit,
    /// Any printable character; the action gets the character.
    Typed,
}

/// One row of a mode's key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The key presses.
    pub triggers: &'static [Trigger],
    /// What they do, as help shows it.
    pub what: &'static str,
    /// The action; for `Digit` and `Typed`, filled in from the key.
    pub action: Action,
}

impl Binding {
    /// The keys as help shows them, made from the triggers so help always
    /// names every key that works.
    pub fn keys(&self) -> String {
        let names: Vec<String> = self.triggers.iter().map(|t| t.name()).collect();
        names.join(" ")
    }
}

impl Trigger {
    /// How a key is written in help.
    pub fn name(self) -> String {
        match self {
            Key(KeyCode::Char(' ')) => "Space".into(),
            Key(KeyCode::Char(ch)) => ch.to_string(),
            Key(Up) => "↑".into(),
            Key(Down) => "↓".into(),
            Key(Left) => "←".into(),
            Key(Right) => "→".into(),
            Key(PageUp) => "PgUp".into(),
            Key(PageDown) => "PgDn".into(),
            Key(BackTab) => "Shift-Tab".into(),
            Key(code) => code.to_string(),
            Ctrl(ch) => format!("Ctrl-{}", ch.to_ascii_uppercase()),
            Digit => "1–9".into(),
            Typed => "any letter".into(),
        }
    }
}

macro_rules! bind {
    ([$($t:expr),+], $what:expr, $action:expr) => {
        Binding { triggers: &[$($t),+], what: $what, action: $action }
    };
}

use KeyCode::{
    BackTab, Backspace, Down, End, Enter, Esc, F, Home, Left, PageDown, PageUp, Right, Tab, Up,
};
use Trigger::{Ctrl, Digit, Key, Typed};

const fn c(ch: char) -> Trigger {
    Key(KeyCode::Char(ch))
}

const QUIT: Binding = bind!([Ctrl('c')], "quit from anywhere", Action::Quit);
const HELP: Binding = bind!([c('?'), Key(F(1))], "this help", Action::ToggleHelp);
// Where letters are typed, `?` is a letter.
const HELP_F1: Binding = bind!([Key(F(1))], "this help", Action::ToggleHelp);

const COURSE: &[Binding] = &[
    bind!([Key(Up), c('k')], "move up", Action::Up),
    bind!([Key(Down), c('j')], "move down", Action::Down),
    bind!(
        [Key(PageUp), c('b'), Ctrl('u')],
        "up ten rows",
        Action::PageUp
    ),
    bind!(
        [Key(PageDown), c(' '), Ctrl('d')],
        "down ten rows",
        Action::PageDown
    ),
    bind!([Key(Home), c('g')], "first row", Action::Top),
    bind!([Key(End), c('G')], "last row", Action::Bottom),
    bind!(
        [Key(Enter), Key(Right), c('l')],
        "read the lesson",
        Action::Open
    ),
    bind!([c('/')], "search the course", Action::OpenSearch),
    bind!([c('d')], "glossary (definitions)", Action::OpenGlossary),
    HELP,
    bind!([c('q'), Key(Esc), Key(Left), c('h')], "quit", Action::Back),
    QUIT,
];

const READER: &[Binding] = &[
    bind!([Key(Up), c('k')], "scroll up", Action::Up),
    bind!([Key(Down), c('j')], "scroll down", Action::Down),
    bind!([Key(PageUp), c('b'), Ctrl('u')], "page up", Action::PageUp),
    bind!(
        [Key(PageDown), c(' '), Ctrl('d')],
        "page down",
        Action::PageDown
    ),
    bind!([Key(Home), c('g')], "top", Action::Top),
    bind!([Key(End), c('G')], "bottom", Action::Bottom),
    bind!([Key(Tab)], "select the next lesson link", Action::NextLink),
    bind!([Key(BackTab)], "select the previous link", Action::PrevLink),
    bind!([Key(Enter)], "follow the selected link", Action::Open),
    bind!(
        [Key(Backspace), c('[')],
        "back to the previous lesson",
        Action::PreviousLesson
    ),
    bind!([c('t')], "take the quiz", Action::TakeQuiz),
    bind!([c('p')], "watch the packet journey", Action::OpenJourney),
    bind!([c('L')], "work the lesson's lab", Action::OpenLab),
    bind!([c('n')], "next lesson", Action::NextLesson),
    bind!([c('/')], "search the course", Action::OpenSearch),
    bind!([c('d')], "glossary (definitions)", Action::OpenGlossary),
    HELP,
    bind!(
        [c('q'), Key(Esc), Key(Left), c('h')],
        "back to the course",
        Action::Back
    ),
    QUIT,
];

const QUIZ_CHOICES: &[Binding] = &[
    bind!([Key(Up), c('k')], "previous choice", Action::Up),
    bind!([Key(Down), c('j')], "next choice", Action::Down),
    bind!([c(' ')], "pick / unpick the choice", Action::Toggle),
    bind!([Digit], "pick choice 1–9", Action::Pick(0)),
    bind!([Key(Enter)], "submit the answer", Action::Submit),
    HELP,
    bind!([c('q'), Key(Esc)], "back to the lesson", Action::Back),
    QUIT,
];

const QUIZ_INPUT: &[Binding] = &[
    bind!([Typed], "type the answer", Action::Type(' ')),
    bind!([Key(Backspace)], "delete a character", Action::DeleteChar),
    bind!([Key(Enter)], "submit the answer", Action::Submit),
    HELP_F1,
    bind!([Key(Esc)], "back to the lesson", Action::Back),
    QUIT,
];

const QUIZ_FEEDBACK: &[Binding] = &[
    bind!(
        [Key(Enter), c(' '), Key(Right), c('n')],
        "next question",
        Action::Submit
    ),
    bind!([Key(Up), c('k')], "scroll up", Action::Up),
    bind!([Key(Down), c('j')], "scroll down", Action::Down),
    HELP,
    bind!([c('q'), Key(Esc)], "back to the lesson", Action::Back),
    QUIT,
];

const QUIZ_SUMMARY: &[Binding] = &[
    bind!([c('r')], "retry the quiz", Action::Retry),
    bind!([Key(Up), c('k')], "scroll up", Action::Up),
    bind!([Key(Down), c('j')], "scroll down", Action::Down),
    HELP,
    bind!(
        [Key(Enter), c('q'), Key(Esc)],
        "back to the lesson",
        Action::Back
    ),
    QUIT,
];

const SEARCH: &[Binding] = &[
    bind!([Typed], "type the query", Action::Type(' ')),
    bind!([Key(Backspace)], "delete a character", Action::DeleteChar),
    bind!([Key(Up), Ctrl('p')], "previous result", Action::Up),
    bind!([Key(Down), Ctrl('n')], "next result", Action::Down),
    bind!([Key(Enter)], "open the result's lesson", Action::Open),
    HELP_F1,
    bind!([Key(Esc)], "close search", Action::Back),
    QUIT,
];

const GLOSSARY: &[Binding] = &[
    bind!([Key(Up), c('k')], "previous term", Action::Up),
    bind!([Key(Down), c('j')], "next term", Action::Down),
    bind!(
        [Key(PageUp), c('b'), Ctrl('u')],
        "up ten terms",
        Action::PageUp
    ),
    bind!(
        [Key(PageDown), c(' '), Ctrl('d')],
        "down ten terms",
        Action::PageDown
    ),
    bind!([Key(Home), c('g')], "first term", Action::Top),
    bind!([Key(End), c('G')], "last term", Action::Bottom),
    bind!(
        [Key(Enter), Key(Right), c('l')],
        "open the lesson that teaches it",
        Action::Open
    ),
    bind!([c('/')], "search the course", Action::OpenSearch),
    HELP,
    bind!([c('q'), Key(Esc), Key(Left), c('h')], "back", Action::Back),
    QUIT,
];

const JOURNEY: &[Binding] = &[
    bind!([Key(Right), c('l')], "next hop", Action::NextHop),
    bind!([Key(Left), c('h')], "previous hop", Action::PrevHop),
    bind!([Key(Home), c('g')], "first hop", Action::Top),
    bind!([Key(End), c('G')], "last hop", Action::Bottom),
    bind!(
        [Key(Up), c('k')],
        "previous field (hop, bytes: in their pane)",
        Action::Up
    ),
    bind!(
        [Key(Down), c('j')],
        "next field (hop, bytes: in their pane)",
        Action::Down
    ),
    bind!([Key(PageUp)], "up ten fields", Action::PageUp),
    bind!([Key(PageDown)], "down ten fields", Action::PageDown),
    bind!(
        [Key(Tab)],
        "next pane: hops, fields, bytes",
        Action::NextPane
    ),
    bind!([Key(BackTab)], "previous pane", Action::PrevPane),
    bind!([c(' ')], "play / pause", Action::PlayPause),
    bind!([c('+'), c('=')], "faster (up to 4×)", Action::Faster),
    bind!([c('-')], "slower (down to 0.5×)", Action::Slower),
    HELP,
    bind!([c('q'), Key(Esc)], "back", Action::Back),
    QUIT,
];

const LAB: &[Binding] = &[
    bind!([Key(Right), c('l')], "next step", Action::NextStep),
    bind!([Key(Left), c('h')], "previous step", Action::PrevStep),
    bind!([Key(Up), c('k')], "scroll up", Action::Up),
    bind!([Key(Down), c('j')], "scroll down", Action::Down),
    bind!([Key(PageUp)], "page up", Action::PageUp),
    bind!([Key(PageDown)], "page down", Action::PageDown),
    bind!(
        [c('c'), Key(Enter)],
        "check the step now",
        Action::CheckStep
    ),
    bind!([c('i')], "one more hint", Action::MoreHint),
    bind!(
        [c('s')],
        "show or hide the solution",
        Action::ToggleSolution
    ),
    bind!(
        [c('x')],
        "apply the solution (skip the step)",
        Action::ApplySolution
    ),
    bind!(
        [c('a')],
        "type the answer to the step's question",
        Action::StartAnswer
    ),
    bind!([c('R')], "reset: a fresh sandbox", Action::ResetLab),
    bind!([Key(Tab)], "type in the shell", Action::FocusShell),
    HELP,
    bind!(
        [c('q'), Key(Esc)],
        "back (the sandbox keeps running)",
        Action::Back
    ),
    QUIT,
];

const LAB_SHELL: &[Binding] = &[
    bind!([Ctrl('o')], "back to the steps", Action::FocusSteps),
    bind!(
        [Typed],
        "every other key goes to the shell (Ctrl-C too)",
        Action::Type(' ')
    ),
];

const LAB_ANSWER: &[Binding] = &[
    bind!([Typed], "type your answer", Action::Type(' ')),
    bind!([Key(Backspace)], "delete a character", Action::DeleteChar),
    bind!([Key(Enter)], "check the answer", Action::Submit),
    HELP_F1,
    bind!([Key(Esc)], "stop typing", Action::Back),
    QUIT,
];

const JOURNEY_PICKER: &[Binding] = &[
    bind!([Key(Up), c('k')], "previous journey", Action::Up),
    bind!([Key(Down), c('j')], "next journey", Action::Down),
    bind!([Digit], "watch journey 1–9", Action::Pick(0)),
    bind!([Key(Enter)], "watch the journey", Action::Open),
    HELP,
    bind!([c('q'), Key(Esc)], "back to the lesson", Action::Back),
    QUIT,
];

const HELP_MODE: &[Binding] = &[
    bind!(
        [c('?'), Key(F(1)), c('q'), Key(Esc)],
        "close help",
        Action::ToggleHelp
    ),
    QUIT,
];

/// The key table of a mode.
pub fn bindings(mode: KeyMode) -> &'static [Binding] {
    match mode {
        KeyMode::Course => COURSE,
        KeyMode::Reader => READER,
        KeyMode::QuizChoices => QUIZ_CHOICES,
        KeyMode::QuizInput => QUIZ_INPUT,
        KeyMode::QuizFeedback => QUIZ_FEEDBACK,
        KeyMode::QuizSummary => QUIZ_SUMMARY,
        KeyMode::Search => SEARCH,
        KeyMode::Glossary => GLOSSARY,
        KeyMode::Journey => JOURNEY,
        KeyMode::JourneyPicker => JOURNEY_PICKER,
        KeyMode::Lab => LAB,
        KeyMode::LabShell => LAB_SHELL,
        KeyMode::LabAnswer => LAB_ANSWER,
        KeyMode::Help => HELP_MODE,
    }
}

/// The few keys the status bar shows for a mode.
pub fn status_hint(mode: KeyMode) -> &'static str {
    match mode {
        KeyMode::Course => "↑↓ move  Enter open  / search  d glossary  ? help  q quit",
        KeyMode::Reader => {
            "↑↓ scroll  Tab link  t quiz  n next  / search  d glossary  ? help  Esc back"
        }
        KeyMode::QuizChoices => "↑↓ move  Space pick  1-9 choose  Enter submit  Esc back  ? help",
        KeyMode::QuizInput => "type your answer  Enter submit  Esc back  F1 help",
        KeyMode::QuizFeedback => "Enter next  ↑↓ scroll  Esc back to the lesson  ? help",
        KeyMode::QuizSummary => "r retry  ↑↓ scroll  Esc back to the lesson  ? help",
        KeyMode::Search => "type to search  ↑↓ choose  Enter open  Esc close  F1 help",
        KeyMode::Glossary => "↑↓ move  Enter open lesson  / search  Esc back  ? help",
        KeyMode::Journey => "←→ hop  ↑↓ field  Tab pane  Space play  +- speed  ? help  Esc back",
        KeyMode::JourneyPicker => "↑↓ choose  Enter watch  1-9 pick  Esc back  ? help",
        KeyMode::Lab => {
            "←→ step  c check  i hint  s solution  a answer  Tab shell  ? help  Esc back"
        }
        KeyMode::LabShell => "typing in the lab shell  Ctrl-O back to the steps",
        KeyMode::LabAnswer => "type your answer  Enter check  Esc stop typing",
        KeyMode::Help => "? or Esc closes help",
    }
}

/// The action a key press means in `mode`, if any.
pub fn action_for(key: KeyEvent, mode: KeyMode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if mode == KeyMode::LabShell {
        // The shell gets every key, Ctrl-C included, but the one way out.
        return Some(if ctrl && key.code == KeyCode::Char('o') {
            Action::FocusSteps
        } else {
            Action::ShellKey(key)
        });
    }
    bindings(mode).iter().find_map(|b| {
        b.triggers.iter().find_map(|t| match (*t, key.code) {
            (Key(code), pressed) if !ctrl && code == pressed => Some(b.action),
            (Ctrl(ch), KeyCode::Char(pressed)) if ctrl && pressed.eq_ignore_ascii_case(&ch) => {
                Some(b.action)
            }
            (Digit, KeyCode::Char(d @ '1'..='9')) if !ctrl && !alt => {
                Some(Action::Pick(d as usize - '1' as usize))
            }
            (Typed, KeyCode::Char(ch)) if !ctrl && !alt => Some(Action::Type(ch)),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_go_into_inputs_but_are_actions_elsewhere() {
        let q = press(KeyCode::Char('q'));
        assert_eq!(action_for(q, KeyMode::QuizInput), Some(Action::Type('q')));
        assert_eq!(action_for(q, KeyMode::Search), Some(Action::Type('q')));
        assert_eq!(action_for(q, KeyMode::Reader), Some(Action::Back));
        let question = press(KeyCode::Char('?'));
        assert_eq!(
            action_for(question, KeyMode::Search),
            Some(Action::Type('?'))
        );
        assert_eq!(
            action_for(press(KeyCode::F(1)), KeyMode::Search),
            Some(Action::ToggleHelp)
        );
    }

    #[test]
    fn digits_pick_choices_and_ctrl_c_quits_everywhere() {
        assert_eq!(
            action_for(press(KeyCode::Char('3')), KeyMode::QuizChoices),
            Some(Action::Pick(2))
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [
            KeyMode::Course,
            KeyMode::Reader,
            KeyMode::QuizChoices,
            KeyMode::QuizInput,
            KeyMode::QuizFeedback,
            KeyMode::QuizSummary,
            KeyMode::Search,
            KeyMode::Glossary,
            KeyMode::Journey,
            KeyMode::JourneyPicker,
            KeyMode::Help,
        ] {
            assert_eq!(action_for(ctrl_c, mode), Some(Action::Quit), "{mode:?}");
        }
    }

    #[test]
    fn journey_keys_step_hops_play_and_change_speed() {
        let j = KeyMode::Journey;
        for (code, want) in [
            (KeyCode::Right, Action::NextHop),
            (KeyCode::Char('l'), Action::NextHop),
            (KeyCode::Left, Action::PrevHop),
            (KeyCode::Char('h'), Action::PrevHop),
            (KeyCode::Home, Action::Top),
            (KeyCode::End, Action::Bottom),
            (KeyCode::Tab, Action::NextPane),
            (KeyCode::Char(' '), Action::PlayPause),
            (KeyCode::Char('-'), Action::Slower),
            (KeyCode::Esc, Action::Back),
        ] {
            assert_eq!(action_for(press(code), j), Some(want), "{code:?}");
        }
        // `+` is typed with Shift on most layouts.
        let plus = KeyEvent::new(KeyCode::Char('+'), KeyModifiers::SHIFT);
        assert_eq!(action_for(plus, j), Some(Action::Faster));
        assert_eq!(
            action_for(press(KeyCode::Char('p')), KeyMode::Reader),
            Some(Action::OpenJourney)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('2')), KeyMode::JourneyPicker),
            Some(Action::Pick(1))
        );
    }

    #[test]
    fn shift_tab_selects_the_previous_link() {
        let back_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            action_for(back_tab, KeyMode::Reader),
            Some(Action::PrevLink)
        );
    }

    #[test]
    fn help_names_keys_as_they_are_written_on_keyboards() {
        let names: Vec<String> = bindings(KeyMode::Reader)
            .iter()
            .map(Binding::keys)
            .collect();
        for want in [
            "↑ k",
            "PgDn Space Ctrl-D",
            "Home g",
            "Shift-Tab",
            "Backspace [",
            "q Esc ← h",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
    }
}
