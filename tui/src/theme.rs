//! Colours that read on dark and light terminals, and none under `NO_COLOR`.
//!
//! Only the 16 ANSI colours are used, so the terminal's own palette (tuned
//! by the user for their background) decides the exact shades.

use layerlab_core::Admonition;
use ratatui::style::{Color, Modifier, Style};

/// Every style the tutor draws with.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Lesson titles.
    pub title: Style,
    /// Section headings.
    pub heading: Style,
    /// Body text.
    pub text: Style,
    /// Secondary text: captions, hints, borders.
    pub dim: Style,
    /// `inline code`.
    pub inline_code: Style,
    /// Code block lines.
    pub code: Style,
    /// Shell prompt lines in console blocks.
    pub prompt: Style,
    /// ASCII diagrams.
    pub diagram: Style,
    /// Links.
    pub link: Style,
    /// The selected row of a list.
    pub selected: Style,
    /// Success marks.
    pub good: Style,
    /// Partially done marks.
    pub partial: Style,
    /// Wrong answers.
    pub bad: Style,
    /// Characters a search query matched.
    pub matched: Style,
    /// Focused pane border.
    pub focus: Style,
    colour: bool,
}

impl Theme {
    /// Chooses colour or monochrome from the environment (`NO_COLOR`).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if no_color {
            Theme::monochrome()
        } else {
            Theme::colour()
        }
    }

    /// The default ANSI-colour theme.
    pub fn colour() -> Theme {
        Theme {
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            heading: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
            text: Style::new(),
            dim: Style::new().add_modifier(Modifier::DIM),
            inline_code: Style::new().fg(Color::Magenta),
            code: Style::new().fg(Color::Green),
            prompt: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            diagram: Style::new().fg(Color::Cyan),
            link: Style::new()
                .fg(Color::Blue)
                .add_modifier(Modifier::UNDERLINED),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            good: Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            partial: Style::new().fg(Color::Yellow),
            bad: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            matched: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            focus: Style::new().fg(Color::Cyan),
            colour: true,
        }
    }

    /// Modifiers only: for `NO_COLOR` and for snapshot tests.
    pub fn monochrome() -> Theme {
        let plain = Style::new();
        Theme {
            title: plain.add_modifier(Modifier::BOLD),
            heading: plain.add_modifier(Modifier::BOLD),
            text: plain,
            dim: plain.add_modifier(Modifier::DIM),
            inline_code: plain,
            code: plain,
            prompt: plain.add_modifier(Modifier::BOLD),
            diagram: plain,
            link: plain.add_modifier(Modifier::UNDERLINED),
            selected: plain.add_modifier(Modifier::REVERSED),
            good: plain.add_modifier(Modifier::BOLD),
            partial: plain,
            bad: plain.add_modifier(Modifier::BOLD),
            matched: plain.add_modifier(Modifier::UNDERLINED),
            focus: plain.add_modifier(Modifier::BOLD),
            colour: false,
        }
    }

    /// The bar colour of a callout.
    pub fn admonition(&self, kind: Admonition) -> Style {
        if !self.colour {
            return Style::new().add_modifier(Modifier::BOLD);
        }
        let c = match kind {
            Admonition::Note => Color::Blue,
            Admonition::Tip => Color::Green,
            Admonition::Important => Color::Magenta,
            Admonition::Warning => Color::Yellow,
            Admonition::Caution => Color::Red,
        };
        Style::new().fg(c)
    }
}
