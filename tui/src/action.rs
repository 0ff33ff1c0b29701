//! What a key means: the learner's intents, shared by the key map
//! (`keys`), the screens that own their state, and `App::update`. Kept apart
//! so none of them has to import another for it.

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
    /// Open what is selected: a lesson, a link, a search result, a term's lesson.
    Open,
    /// Go to the next lesson.
    NextLesson,
    /// Leave the current screen.
    Back,
    /// Show or hide the key help.
    ToggleHelp,
    /// Exit the tutor.
    Quit,
    /// Take the quiz of the open lesson.
    TakeQuiz,
    /// Select the next `lesson:` link of the open lesson.
    NextLink,
    /// Select the previous `lesson:` link of the open lesson.
    PrevLink,
    /// Go back to the lesson read before following a link.
    PreviousLesson,
    /// Open the search popup.
    OpenSearch,
    /// Open the glossary.
    OpenGlossary,
    /// Pick or unpick the highlighted choice.
    Toggle,
    /// Pick a choice by its zero-based number.
    Pick(usize),
    /// Type a character into the input in focus.
    Type(char),
    /// Delete the last character of the input in focus.
    DeleteChar,
    /// Submit the answer, or go on after its feedback.
    Submit,
    /// Take the quiz again from the first question.
    Retry,
    /// Watch the open lesson's packet journey (or choose one of several).
    OpenJourney,
    /// Go to the packet's next hop.
    NextHop,
    /// Go to the packet's previous hop.
    PrevHop,
    /// Give the keys to the next pane.
    NextPane,
    /// Give the keys to the previous pane.
    PrevPane,
    /// Start or stop the journey playing on its own.
    PlayPause,
    /// Play faster.
    Faster,
    /// Play slower.
    Slower,
    /// Time for the next animation step; sent by the runner, not by a key.
    Tick,
    /// Work the open lesson's lab.
    OpenLab,
    /// Go to the lab's next step.
    NextStep,
    /// Go to the lab's previous step.
    PrevStep,
    /// Check the current step now.
    CheckStep,
    /// Show one more hint.
    MoreHint,
    /// Show or hide the step's solution.
    ToggleSolution,
    /// Run the step's solution in the sandbox.
    ApplySolution,
    /// Start typing the answer to the step's question.
    StartAnswer,
    /// Destroy the sandbox and start afresh.
    ResetLab,
    /// Give the keys to the lab shell.
    FocusShell,
    /// Take the keys back from the lab shell.
    FocusSteps,
    /// A key typed into the lab shell.
    ShellKey(crossterm::event::KeyEvent),
}
