//! Keyboard bindings per page: key → action, and the same table feeds the
//! help overlay, so the help can never list a key that does nothing.

/// Where a key press happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// A lesson.
    Lesson,
    /// A packet journey.
    Journey,
    /// Anything else.
    Other,
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Show or hide the key help.
    ToggleHelp,
    /// Close the help overlay.
    Close,
    /// Open the glossary and focus its search.
    Glossary,
    /// Go to the course overview.
    Home,
    /// Switch between light and dark.
    ToggleTheme,
    /// Next lesson in course order.
    NextLesson,
    /// Previous lesson in course order.
    PreviousLesson,
    /// Jump to the lesson's quiz.
    Quiz,
    /// Play or pause the journey.
    PlayPause,
    /// Move the packet one hop on.
    StepForward,
    /// Move the packet one hop back.
    StepBack,
    /// Play faster.
    Faster,
    /// Play slower.
    Slower,
    /// Back to the first hop.
    Restart,
}

/// A key binding.
pub struct Binding {
    /// `KeyboardEvent.key` values that trigger it.
    pub keys: &'static [&'static str],
    /// How the help shows the keys.
    pub label: &'static str,
    /// What it does, for the help.
    pub what: &'static str,
    /// Where it applies (`None`: everywhere).
    pub page: Option<Page>,
    /// The action.
    pub action: KeyAction,
}

/// Every binding; page-specific ones first so they win over global ones.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[" ", "k"],
        label: "Space / k",
        what: "play or pause",
        page: Some(Page::Journey),
        action: KeyAction::PlayPause,
    },
    Binding {
        keys: &["ArrowRight", "l"],
        label: "→ / l",
        what: "next hop",
        page: Some(Page::Journey),
        action: KeyAction::StepForward,
    },
    Binding {
        keys: &["ArrowLeft", "j"],
        label: "← / j",
        what: "previous hop",
        page: Some(Page::Journey),
        action: KeyAction::StepBack,
    },
    Binding {
        keys: &["+", "="],
        label: "+",
        what: "faster",
        page: Some(Page::Journey),
        action: KeyAction::Faster,
    },
    Binding {
        keys: &["-"],
        label: "−",
        what: "slower",
        page: Some(Page::Journey),
        action: KeyAction::Slower,
    },
    Binding {
        keys: &["0", "Home"],
        label: "0 / Home",
        what: "back to the first hop",
        page: Some(Page::Journey),
        action: KeyAction::Restart,
    },
    Binding {
        keys: &["n"],
        label: "n",
        what: "next lesson",
        page: Some(Page::Lesson),
        action: KeyAction::NextLesson,
    },
    Binding {
        keys: &["p"],
        label: "p",
        what: "previous lesson",
        page: Some(Page::Lesson),
        action: KeyAction::PreviousLesson,
    },
    Binding {
        keys: &["q"],
        label: "q",
        what: "jump to the quiz",
        page: Some(Page::Lesson),
        action: KeyAction::Quiz,
    },
    Binding {
        keys: &["/"],
        label: "/",
        what: "search the glossary",
        page: None,
        action: KeyAction::Glossary,
    },
    Binding {
        keys: &["c"],
        label: "c",
        what: "course overview",
        page: None,
        action: KeyAction::Home,
    },
    Binding {
        keys: &["t"],
        label: "t",
        what: "light or dark theme",
        page: None,
        action: KeyAction::ToggleTheme,
    },
    Binding {
        keys: &["?"],
        label: "?",
        what: "show these keys",
        page: None,
        action: KeyAction::ToggleHelp,
    },
    Binding {
        keys: &["Escape"],
        label: "Esc",
        what: "close this help",
        page: None,
        action: KeyAction::Close,
    },
];

/// The action for a key on a page. Keys with Ctrl, Alt or Meta are the
/// browser's (back, find, copy...) and never ours.
pub fn action(key: &str, page: Page, modified: bool) -> Option<KeyAction> {
    if modified {
        return None;
    }
    BINDINGS
        .iter()
        .filter(|b| b.page.is_none_or(|p| p == page))
        .find(|b| b.keys.contains(&key))
        .map(|b| b.action)
}

/// The bindings that work on a page, for the help overlay.
pub fn help(page: Page) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| b.page.is_none_or(|p| p == page))
}

/// Which page a path is.
pub fn page_of(path: &str) -> Page {
    if path.starts_with("/lesson/") {
        Page::Lesson
    } else if path.starts_with("/journey/") {
        Page::Journey
    } else {
        Page::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_apply_only_on_their_page() {
        assert_eq!(
            action(" ", Page::Journey, false),
            Some(KeyAction::PlayPause)
        );
        assert_eq!(action(" ", Page::Lesson, false), None);
        assert_eq!(
            action("n", Page::Lesson, false),
            Some(KeyAction::NextLesson)
        );
        assert_eq!(action("n", Page::Journey, false), None);
        assert_eq!(action("?", Page::Other, false), Some(KeyAction::ToggleHelp));
    }

    #[test]
    fn modified_keys_are_left_to_the_browser() {
        assert_eq!(action("t", Page::Other, true), None);
        assert_eq!(action("ArrowLeft", Page::Journey, true), None);
    }

    #[test]
    fn help_lists_each_action_of_a_page_once_and_no_key_is_bound_twice() {
        for page in [Page::Lesson, Page::Journey, Page::Other] {
            let mut seen = Vec::new();
            for b in help(page) {
                assert!(!seen.contains(&b.action), "{:?} twice", b.action);
                seen.push(b.action);
                for k in b.keys {
                    assert_eq!(action(k, page, false), Some(b.action), "{k} on {page:?}");
                }
            }
        }
        assert_eq!(page_of("/lesson/tcp"), Page::Lesson);
        assert_eq!(page_of("/journey/dnat"), Page::Journey);
        assert_eq!(page_of("/glossary"), Page::Other);
    }
}
