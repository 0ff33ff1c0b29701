//! Renders core's [`Document`] into styled, wrapped terminal lines.
//!
//! We wrap ourselves (instead of letting `Paragraph` wrap) so that list
//! items keep a hanging indent, diagrams and code never wrap, and the
//! reader knows the exact line count for scrolling and its position bar.

use crate::theme::Theme;
use layerlab_core::doc::{Align, Block, Inline, LinkTarget};
use layerlab_core::{Document, Lesson};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// Widest measure we wrap prose at, even in wide terminals.
pub const MAX_MEASURE: u16 = 100;

/// A lesson rendered for a given width.
#[derive(Debug, Clone, Default)]
pub struct RenderedLesson {
    /// The lines, ready to draw.
    pub lines: Vec<Line<'static>>,
    /// The `lesson:` links, in reading order.
    pub links: Vec<RenderedLink>,
    /// Heading anchors and the line each heading starts on.
    pub anchors: Vec<(String, usize)>,
}

/// A `lesson:` link and where its words landed after wrapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLink {
    /// The lesson it opens.
    pub lesson: String,
    /// The heading it points at, if any.
    pub anchor: Option<String>,
    /// `(line, span)` of each span of the link text, so the reader can
    /// highlight exactly these spans when the link is selected.
    pub spans: Vec<(usize, usize)>,
}

impl RenderedLink {
    /// The line the link starts on.
    pub fn line(&self) -> usize {
        self.spans.first().map_or(0, |(line, _)| *line)
    }
}

impl RenderedLesson {
    /// The line a heading anchor starts on.
    pub fn anchor_line(&self, anchor: &str) -> Option<usize> {
        self.anchors
            .iter()
            .find(|(a, _)| a == anchor)
            .map(|(_, line)| *line)
    }
}

/// Renders a bare document (a lab step's instructions) at a width.
pub fn render_document(
    doc: &layerlab_core::Document,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let width = width.clamp(20, MAX_MEASURE) as usize;
    let mut r = Renderer::new(width, theme);
    r.document(doc);
    r.lines
}

/// Renders the lesson header (title, objectives) and body.
pub fn render_lesson(lesson: &Lesson, width: u16, theme: &Theme) -> RenderedLesson {
    let width = width.clamp(20, MAX_MEASURE) as usize;
    let mut r = Renderer::new(width, theme);
    r.lines
        .push(Line::from(Span::styled(lesson.title.clone(), theme.title)));
    r.lines.push(Line::from(Span::styled(
        format!(
            "{} min · {}",
            lesson.minutes,
            count(lesson.quiz.len(), "question")
        ),
        theme.dim,
    )));
    r.blank();
    r.lines.push(Line::from(Span::styled(
        "You will be able to:",
        theme.heading,
    )));
    for o in &lesson.objectives {
        r.wrap(&[(o.clone(), theme.text, None)], "  • ", "    ");
    }
    r.document(&lesson.body);
    // The quiz is not part of the body, so the end of the text says where it is.
    r.blank();
    r.lines.push(Line::from(Span::styled(
        "─".repeat(r.width.min(40)),
        theme.dim,
    )));
    let hint = if lesson.quiz.is_empty() {
        "End of the lesson. n: next lesson · Esc: back to the course".to_string()
    } else {
        format!(
            "End of the lesson. t: take the quiz ({}) · n: next lesson",
            count(lesson.quiz.len(), "question")
        )
    };
    r.wrap(&[(hint, theme.heading, None)], "", "");
    RenderedLesson {
        lines: r.lines,
        links: r.links,
        anchors: r.anchors,
    }
}

/// `1 question`, `3 questions`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Styled runs of prose in which `backticks` mark code, as quiz prompts
/// and explanations are written.
pub fn prose_runs(text: &str, style: Style, theme: &Theme) -> Vec<(String, Style)> {
    text.split('`')
        .enumerate()
        .filter(|(_, piece)| !piece.is_empty())
        .map(|(i, piece)| {
            // Odd pieces sit between backticks.
            let s = if i % 2 == 1 { theme.inline_code } else { style };
            (piece.to_string(), s)
        })
        .collect()
}

/// Word-wraps styled runs at `width` with first-line and hanging prefixes.
///
/// Each line starts with one span holding its prefix, so callers can
/// restyle the prefix (quiz marks) by replacing the first span.
pub fn wrap_runs(
    runs: &[(String, Style)],
    width: u16,
    first: &str,
    rest: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut r = Renderer::new(width.max(10) as usize, theme);
    let runs: Vec<Run> = runs.iter().map(|(t, s)| (t.clone(), *s, None)).collect();
    r.wrap(&runs, first, rest);
    r.lines
}

/// Word-wraps prose with `backticks` (see [`prose_runs`]).
pub fn wrap_prose(
    text: &str,
    style: Style,
    width: u16,
    first: &str,
    rest: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    wrap_runs(&prose_runs(text, style, theme), width, first, rest, theme)
}

struct Renderer<'t> {
    width: usize,
    theme: &'t Theme,
    lines: Vec<Line<'static>>,
    links: Vec<RenderedLink>,
    anchors: Vec<(String, usize)>,
}

/// Styled text, and the index of the `lesson:` link it belongs to.
type Run = (String, Style, Option<usize>);

impl<'t> Renderer<'t> {
    fn new(width: usize, theme: &'t Theme) -> Renderer<'t> {
        Renderer {
            width,
            theme,
            lines: Vec::new(),
            links: Vec::new(),
            anchors: Vec::new(),
        }
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| !l.spans.is_empty()) {
            self.lines.push(Line::default());
        }
    }

    fn document(&mut self, doc: &Document) {
        for block in &doc.blocks {
            self.block(block, "", "");
        }
    }

    fn block(&mut self, block: &Block, first: &str, rest: &str) {
        let t = self.theme;
        match block {
            Block::Heading {
                level,
                content,
                anchor,
            } => {
                self.blank();
                self.anchors.push((anchor.clone(), self.lines.len()));
                let style = if *level <= 2 {
                    t.heading.add_modifier(Modifier::UNDERLINED)
                } else {
                    t.heading
                };
                let runs = self.inlines(content, style);
                self.wrap(&runs, first, rest);
                self.blank();
            }
            Block::Paragraph { content } => {
                let runs = self.inlines(content, t.text);
                self.wrap(&runs, first, rest);
                if first.is_empty() {
                    self.blank();
                }
            }
            Block::Code { lang, text } => {
                self.blank();
                let label = lang.clone().unwrap_or_default();
                self.lines.push(Line::from(vec![
                    Span::raw(rest.to_string()),
                    Span::styled(format!(" {label}"), t.dim),
                ]));
                for line in text.lines() {
                    let style = if lang.as_deref() == Some("console")
                        && (line.starts_with("$ ") || line.starts_with("# "))
                    {
                        t.prompt
                    } else {
                        t.code
                    };
                    self.lines.push(Line::from(vec![
                        Span::raw(rest.to_string()),
                        Span::styled("│ ", t.dim),
                        Span::styled(line.to_string(), style),
                    ]));
                }
                self.blank();
            }
            Block::Diagram { title, text } => {
                self.blank();
                for line in text.lines() {
                    self.lines.push(Line::from(vec![
                        Span::raw(rest.to_string()),
                        Span::styled(line.to_string(), t.diagram),
                    ]));
                }
                if let Some(title) = title {
                    self.lines.push(Line::from(Span::styled(
                        format!("{rest}  ↑ {title}"),
                        t.dim,
                    )));
                }
                self.blank();
            }
            Block::List { start, items } => {
                for (i, item) in items.iter().enumerate() {
                    let bullet = match start {
                        Some(n) => format!("{}. ", n + i as u64),
                        None => "• ".to_string(),
                    };
                    let item_first = format!("{rest}  {bullet}");
                    let item_rest = format!("{rest}  {}", " ".repeat(bullet.chars().count()));
                    for (j, b) in item.iter().enumerate() {
                        let f = if j == 0 {
                            item_first.as_str()
                        } else {
                            item_rest.as_str()
                        };
                        self.block(b, f, &item_rest);
                    }
                }
                if rest.is_empty() {
                    self.blank();
                }
            }
            Block::Table {
                align,
                header,
                rows,
            } => self.table(align, header, rows, rest),
            Block::Admonition { kind, blocks } => {
                self.blank();
                let bar = format!("{rest}▌ ");
                self.lines.push(Line::from(vec![
                    Span::styled(bar.clone(), t.admonition(*kind)),
                    Span::styled(
                        kind.label().to_string(),
                        t.admonition(*kind).add_modifier(Modifier::BOLD),
                    ),
                ]));
                self.nested(blocks, &bar, t.admonition(*kind));
                self.blank();
            }
            Block::Quote { blocks } => {
                let bar = format!("{rest}│ ");
                self.nested(blocks, &bar, t.dim);
                self.blank();
            }
            Block::Rule => {
                self.lines
                    .push(Line::from(Span::styled("─".repeat(self.width), t.dim)));
            }
        }
    }

    /// Renders blocks with a coloured bar prefix on every line.
    fn nested(&mut self, blocks: &[Block], bar: &str, bar_style: Style) {
        let start = self.lines.len();
        for b in blocks {
            self.block(b, "\u{0}", "\u{0}");
        }
        // Replace the placeholder prefix with the styled bar.
        for (i, line) in self.lines.iter_mut().enumerate().skip(start) {
            if let Some(first) = line.spans.first_mut()
                && first.content.starts_with('\u{0}')
            {
                *first = Span::styled(bar.to_string(), bar_style);
            } else {
                line.spans
                    .insert(0, Span::styled(bar.to_string(), bar_style));
                // Link spans on this line moved one to the right.
                for (l, span) in self.links.iter_mut().flat_map(|k| k.spans.iter_mut()) {
                    if *l == i {
                        *span += 1;
                    }
                }
            }
        }
        while self.lines.last().is_some_and(|l| l.spans.len() == 1) && self.lines.len() > start {
            self.lines.pop();
        }
    }

    fn inlines(&mut self, inlines: &[Inline], base: Style) -> Vec<Run> {
        let mut out = Vec::new();
        self.push_inlines(inlines, base, None, &mut out);
        out
    }

    fn push_inlines(
        &mut self,
        inlines: &[Inline],
        style: Style,
        link: Option<usize>,
        out: &mut Vec<Run>,
    ) {
        let t = self.theme;
        for i in inlines {
            match i {
                Inline::Text { text } => out.push((text.clone(), style, link)),
                Inline::Code { text } => out.push((text.clone(), t.inline_code, link)),
                Inline::Emphasis { content } => {
                    self.push_inlines(content, style.add_modifier(Modifier::ITALIC), link, out)
                }
                Inline::Strong { content } => {
                    self.push_inlines(content, style.add_modifier(Modifier::BOLD), link, out)
                }
                Inline::Strikethrough { content } => self.push_inlines(
                    content,
                    style.add_modifier(Modifier::CROSSED_OUT),
                    link,
                    out,
                ),
                Inline::Link { target, content } => match target {
                    LinkTarget::Lesson { id, anchor } => {
                        self.links.push(RenderedLink {
                            lesson: id.clone(),
                            anchor: anchor.clone(),
                            spans: Vec::new(),
                        });
                        let index = Some(self.links.len() - 1);
                        self.push_inlines(content, t.link, index, out);
                    }
                    LinkTarget::External { url } => {
                        self.push_inlines(content, t.link, link, out);
                        out.push((format!(" <{url}>"), t.dim, link));
                    }
                },
                Inline::LineBreak => out.push(("\n".into(), style, link)),
            }
        }
    }

    /// Word-wraps styled runs at the measure, with first-line and hanging prefixes.
    ///
    /// A space is emitted only where the source had whitespace, so `code`
    /// followed by a comma stays glued to it.
    fn wrap(&mut self, runs: &[Run], first: &str, rest: &str) {
        let mut line: Vec<Span<'static>> = vec![Span::raw(first.to_string())];
        let mut col = first.chars().count();
        let indent = rest.chars().count();
        let mut pending_space = false;
        // The link of the last word placed, so a space inside a link is
        // highlighted with it.
        let mut last_link = None;
        for (text, style, link) in runs {
            for token in tokens(text) {
                match token {
                    Token::Break => {
                        self.lines.push(Line::from(std::mem::take(&mut line)));
                        line.push(Span::raw(rest.to_string()));
                        col = indent;
                        pending_space = false;
                    }
                    Token::Space => pending_space = true,
                    Token::Word(word) => {
                        let w = word.chars().count();
                        let space = usize::from(pending_space && col > indent);
                        if col + space + w > self.width && col > indent {
                            self.lines.push(Line::from(std::mem::take(&mut line)));
                            line.push(Span::raw(rest.to_string()));
                            col = indent;
                        } else if space == 1 {
                            if link.is_some() && *link == last_link {
                                self.mark_link(*link, line.len());
                            }
                            line.push(Span::styled(" ", *style));
                            col += 1;
                        }
                        self.mark_link(*link, line.len());
                        line.push(Span::styled(word.to_string(), *style));
                        col += w;
                        pending_space = false;
                        last_link = *link;
                    }
                }
            }
        }
        self.lines.push(Line::from(line));
    }

    /// Records that span `span` of the line being built belongs to `link`.
    fn mark_link(&mut self, link: Option<usize>, span: usize) {
        if let Some(k) = link {
            let line = self.lines.len();
            self.links[k].spans.push((line, span));
        }
    }

    fn table(
        &mut self,
        align: &[Align],
        header: &[Vec<Inline>],
        rows: &[Vec<Vec<Inline>>],
        rest: &str,
    ) {
        let t = self.theme;
        let cell_text = |c: &Vec<Inline>| Inline::plain_text(c);
        let cols = header
            .len()
            .max(rows.iter().map(Vec::len).max().unwrap_or(0));
        if cols == 0 {
            return;
        }
        let mut widths = vec![1usize; cols];
        for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
            for (i, c) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell_text(c).chars().count());
            }
        }
        // Shrink the widest columns until the table fits the measure.
        let avail = self
            .width
            .saturating_sub(rest.chars().count() + 3 * cols)
            .max(cols * 4);
        while widths.iter().sum::<usize>() > avail {
            let (i, _) = widths
                .iter()
                .enumerate()
                .max_by_key(|(_, w)| **w)
                .unwrap_or((0, &0));
            widths[i] -= 1;
        }
        self.blank();
        let render_row = |row: &[Vec<Inline>], style: Style| -> Vec<Line<'static>> {
            let cells: Vec<Vec<String>> = (0..cols)
                .map(|i| wrap_plain(&row.get(i).map(cell_text).unwrap_or_default(), widths[i]))
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1);
            (0..height)
                .map(|h| {
                    let mut spans = vec![Span::raw(rest.to_string())];
                    for (i, cell) in cells.iter().enumerate() {
                        let s = cell.get(h).cloned().unwrap_or_default();
                        let pad = widths[i].saturating_sub(s.chars().count());
                        let text = match align.get(i) {
                            Some(Align::Right) => format!("{}{s}", " ".repeat(pad)),
                            Some(Align::Center) => {
                                format!("{}{s}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2))
                            }
                            _ => format!("{s}{}", " ".repeat(pad)),
                        };
                        spans.push(Span::styled(text, style));
                        if i + 1 < cols {
                            spans.push(Span::styled(" │ ", t.dim));
                        }
                    }
                    Line::from(spans)
                })
                .collect()
        };
        let head = render_row(header, t.heading);
        self.lines.extend(head);
        let sep: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        self.lines.push(Line::from(Span::styled(
            format!("{rest}{}", sep.join("─┼─")),
            t.dim,
        )));
        for row in rows {
            let lines = render_row(row, t.text);
            self.lines.extend(lines);
        }
        self.blank();
    }
}

enum Token<'a> {
    Word(&'a str),
    Space,
    Break,
}

/// Splits text into words, runs of spaces, and hard line breaks.
fn tokens(text: &str) -> impl Iterator<Item = Token<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let c = rest.chars().next()?;
        if c == '\n' {
            rest = &rest[1..];
            return Some(Token::Break);
        }
        let is_space = c.is_whitespace();
        let end = rest
            .find(|ch: char| ch == '\n' || ch.is_whitespace() != is_space)
            .unwrap_or(rest.len());
        let (tok, tail) = rest.split_at(end);
        rest = tail;
        Some(if is_space {
            Token::Space
        } else {
            Token::Word(tok)
        })
    })
}

/// Wraps plain text at `width` columns, breaking long words.
fn wrap_plain(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let cur = out.last_mut().expect("non-empty");
            let len = cur.chars().count();
            let space = usize::from(len > 0);
            if len + space + word.len() <= width {
                if space == 1 {
                    cur.push(' ');
                }
                cur.extend(word.iter());
                break;
            }
            if len > 0 {
                out.push(String::new());
                continue;
            }
            let (head, tail) = word.split_at(width.min(word.len()));
            cur.extend(head.iter());
            word = tail.to_vec();
            out.push(String::new());
        }
    }
    if out.len() > 1 && out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_plain_breaks_words_and_lines() {
        assert_eq!(wrap_plain("ab cd ef", 5), vec!["ab cd", "ef"]);
        assert_eq!(wrap_plain("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap_plain("", 3), vec![""]);
    }
}
