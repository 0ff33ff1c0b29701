//! The lesson reader's state: scrolling, and selecting `lesson:` links.

use crate::action::Action;
use crate::render::{RenderedLesson, RenderedLink, render_lesson};
use crate::theme::Theme;
use layerlab_core::Lesson;

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
    /// The selected `lesson:` link, an index into the rendered links.
    pub link: Option<usize>,
    /// A heading to scroll to once the lesson is laid out (links with `#anchor`).
    pub pending_anchor: Option<String>,
}

impl Reader {
    /// A reader at `scroll` in a lesson, heading for `anchor` if given.
    pub fn new(lesson_id: &str, scroll: usize, anchor: Option<String>) -> Reader {
        Reader {
            lesson_id: lesson_id.to_string(),
            scroll,
            page: 20,
            rendered: None,
            link: None,
            pending_anchor: anchor,
        }
    }

    fn lines(&self) -> Option<usize> {
        self.rendered.as_ref().map(|(_, r)| r.lines.len())
    }

    /// Scrolls for a movement action; other actions are ignored.
    pub fn scroll_by(&mut self, action: Action) {
        // Before the first layout we do not know the length; allow anything.
        let max = self
            .lines()
            .map_or(usize::MAX, |n| n.saturating_sub(self.page));
        let step = self.page.saturating_sub(2).max(1);
        self.scroll = match action {
            Action::Up => self.scroll.saturating_sub(1),
            Action::Down => self.scroll + 1,
            Action::PageUp => self.scroll.saturating_sub(step),
            Action::PageDown => self.scroll + step,
            Action::Top => 0,
            Action::Bottom => max,
            _ => self.scroll,
        }
        .min(max);
    }

    /// Whether the last line is on screen.
    pub fn at_end(&self) -> bool {
        self.lines().is_some_and(|n| self.scroll + self.page >= n)
    }

    /// Renders for `width` (cached), records the page height, and scrolls
    /// to a pending anchor.
    pub fn layout(&mut self, lesson: &Lesson, width: u16, page: usize, theme: &Theme) {
        self.page = page.max(1);
        if self.rendered.as_ref().is_none_or(|(w, _)| *w != width) {
            self.rendered = Some((width, render_lesson(lesson, width, theme)));
        }
        let Some((_, rendered)) = self.rendered.as_ref() else {
            return;
        };
        if let Some(anchor) = self.pending_anchor.take()
            && let Some(line) = rendered.anchor_line(&anchor)
        {
            self.scroll = line;
        }
        self.scroll = self
            .scroll
            .min(rendered.lines.len().saturating_sub(self.page));
    }

    /// The selected link.
    pub fn selected_link(&self) -> Option<&RenderedLink> {
        let (_, rendered) = self.rendered.as_ref()?;
        rendered.links.get(self.link?)
    }

    /// Selects the next (or previous) link and scrolls it into view.
    ///
    /// With no link selected, or the selected one scrolled away, the first
    /// link on screen (or the last, going backwards) is chosen, so Tab acts
    /// on what the learner is looking at.
    pub fn cycle_link(&mut self, forward: bool) -> Option<&RenderedLink> {
        let (_, rendered) = self.rendered.as_ref()?;
        let links = &rendered.links;
        if links.is_empty() {
            return None;
        }
        let (top, bottom) = (self.scroll, self.scroll + self.page);
        let on_screen = |i: usize| (top..bottom).contains(&links[i].line());
        let next = match self.link.filter(|&i| on_screen(i)) {
            Some(i) if forward => (i + 1) % links.len(),
            Some(i) => (i + links.len() - 1) % links.len(),
            None if forward => links.iter().position(|l| l.line() >= top).unwrap_or(0),
            None => links
                .iter()
                .rposition(|l| l.line() < bottom)
                .unwrap_or(links.len() - 1),
        };
        self.link = Some(next);
        let line = links[next].line();
        if line < top {
            self.scroll = line;
        } else if line >= bottom {
            self.scroll = line + 1 - self.page;
        }
        rendered.links.get(next)
    }
}
