//! The renderer-neutral document model of a lesson body, and the markdown
//! parser that builds it.
//!
//! The TUI and the browser both render a [`Document`]; neither sees
//! markdown. That keeps one parsing path and one set of authoring rules.

use crate::diag::FileDiags;
use pulldown_cmark::{
    Alignment, BlockQuoteKind, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A parsed lesson body: a sequence of blocks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Top-level blocks in reading order.
    pub blocks: Vec<Block>,
}

/// A block-level element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// A section heading (level 2–6; the lesson title is level 1).
    Heading {
        /// 1–6.
        level: u8,
        /// Slug usable as an anchor (`lesson:id#anchor`).
        anchor: String,
        /// Heading text.
        content: Vec<Inline>,
    },
    /// A paragraph of inline content.
    Paragraph {
        /// The paragraph's inlines.
        content: Vec<Inline>,
    },
    /// A code block, e.g. a shell session (`console`) or a manifest (`yaml`).
    Code {
        /// Info string language, if any.
        lang: Option<String>,
        /// The code, verbatim, ending without a trailing newline.
        text: String,
    },
    /// An ASCII diagram, to be shown verbatim in a monospace font.
    Diagram {
        /// Optional caption (from a first line `title: ...`).
        title: Option<String>,
        /// The drawing, verbatim.
        text: String,
    },
    /// A bulleted or numbered list; each item is a list of blocks.
    List {
        /// Number of the first item for ordered lists.
        start: Option<u64>,
        /// Items in order.
        items: Vec<Vec<Block>>,
    },
    /// A table with a header row.
    Table {
        /// Column alignments.
        align: Vec<Align>,
        /// Header cells.
        header: Vec<Vec<Inline>>,
        /// Body rows of cells.
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// A callout box: tip, note, warning...
    Admonition {
        /// Which kind of callout.
        kind: Admonition,
        /// Its content.
        blocks: Vec<Block>,
    },
    /// A plain block quote.
    Quote {
        /// Its content.
        blocks: Vec<Block>,
    },
    /// A horizontal rule.
    Rule,
}

/// Column alignment of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    /// Not specified.
    None,
    /// Left aligned.
    Left,
    /// Centred.
    Center,
    /// Right aligned.
    Right,
}

/// Kinds of callout, following GitHub's alert syntax (`> [!TIP]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Admonition {
    /// Useful background.
    Note,
    /// A helpful shortcut.
    Tip,
    /// Something the learner must not miss.
    Important,
    /// Something that commonly goes wrong.
    Warning,
    /// Something that can do damage.
    Caution,
}

impl Admonition {
    /// The label renderers show.
    pub fn label(self) -> &'static str {
        match self {
            Admonition::Note => "Note",
            Admonition::Tip => "Tip",
            Admonition::Important => "Important",
            Admonition::Warning => "Warning",
            Admonition::Caution => "Caution",
        }
    }
}

/// An inline element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inline {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// `inline code`.
    Code {
        /// The code.
        text: String,
    },
    /// *Emphasis*.
    Emphasis {
        /// Emphasised content.
        content: Vec<Inline>,
    },
    /// **Strong** emphasis.
    Strong {
        /// Strong content.
        content: Vec<Inline>,
    },
    /// ~~Struck out~~ text.
    Strikethrough {
        /// Struck content.
        content: Vec<Inline>,
    },
    /// A link to another lesson or to the web.
    Link {
        /// Where it goes.
        target: LinkTarget,
        /// Link text.
        content: Vec<Inline>,
    },
    /// A hard line break.
    LineBreak,
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkTarget {
    /// Another lesson of the course (`lesson:ID` or `lesson:ID#anchor`).
    Lesson {
        /// Lesson id.
        id: String,
        /// Heading anchor inside it.
        anchor: Option<String>,
    },
    /// Anything else: a web page.
    External {
        /// The URL.
        url: String,
    },
}

impl Inline {
    /// The text of an inline run, without markup.
    pub fn plain_text(inlines: &[Inline]) -> String {
        let mut out = String::new();
        push_plain(inlines, &mut out);
        out
    }
}

fn push_plain(inlines: &[Inline], out: &mut String) {
    for i in inlines {
        match i {
            Inline::Text { text } | Inline::Code { text } => out.push_str(text),
            Inline::Emphasis { content }
            | Inline::Strong { content }
            | Inline::Strikethrough { content }
            | Inline::Link { content, .. } => push_plain(content, out),
            Inline::LineBreak => out.push(' '),
        }
    }
}

/// Turns heading text into a URL-safe anchor (`"TCP states"` → `tcp-states`).
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A ```` ```quiz ```` block found in the body, still as TOML source.
#[derive(Debug, Clone)]
pub(crate) struct RawQuiz {
    /// The TOML text.
    pub text: String,
    /// File offset where the TOML starts.
    pub offset: usize,
}

/// A `lesson:` link found in the body, for reference checking.
#[derive(Debug, Clone)]
pub(crate) struct LessonLink {
    pub id: String,
    pub offset: usize,
}

/// What parsing a body yields besides the document.
#[derive(Debug, Default)]
pub(crate) struct BodyExtras {
    pub quizzes: Vec<RawQuiz>,
    pub lesson_links: Vec<LessonLink>,
    /// Words of prose (code, diagrams and quizzes excluded).
    pub words: usize,
}

/// Widest diagram line an 80-column terminal shows with a border.
pub const MAX_DIAGRAM_WIDTH: usize = 78;

enum Container {
    Root,
    Quote(Option<Admonition>),
    List(Option<u64>, Vec<Vec<Block>>),
    Item,
}

enum InlineFrame {
    Emphasis,
    Strong,
    Strikethrough,
    Link(LinkTarget),
    Image,
}

#[derive(Default)]
struct TableBuilder {
    align: Vec<Align>,
    header: Vec<Vec<Inline>>,
    rows: Vec<Vec<Vec<Inline>>>,
    row: Vec<Vec<Inline>>,
}

struct Builder<'d, 'a> {
    diags: &'d mut FileDiags<'a>,
    /// Offset of the body in the file.
    base: usize,
    containers: Vec<(Container, Vec<Block>)>,
    inlines: Vec<(InlineFrame, Vec<Inline>)>,
    /// Inline content of the block being built (paragraph, heading, cell).
    current: Option<Vec<Inline>>,
    code: Option<(Option<String>, String, usize, Range<usize>)>,
    table: Option<TableBuilder>,
    extras: BodyExtras,
}

/// Parses a lesson body that starts at byte `base` of its file.
pub(crate) fn parse_body(
    body: &str,
    base: usize,
    diags: &mut FileDiags<'_>,
) -> (Document, BodyExtras) {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_GFM);
    let mut b = Builder {
        diags,
        base,
        containers: vec![(Container::Root, Vec::new())],
        inlines: Vec::new(),
        current: None,
        code: None,
        table: None,
        extras: BodyExtras::default(),
    };
    for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
        b.event(event, range, body);
    }
    let blocks = b
        .containers
        .pop()
        .map(|(_, blocks)| blocks)
        .unwrap_or_default();
    (Document { blocks }, b.extras)
}

impl Builder<'_, '_> {
    fn push_block(&mut self, block: Block) {
        if let Some((_, blocks)) = self.containers.last_mut() {
            blocks.push(block);
        }
    }

    fn push_inline(&mut self, inline: Inline) {
        if let Some((_, content)) = self.inlines.last_mut() {
            content.push(inline);
        } else if let Some(current) = self.current.as_mut() {
            current.push(inline);
        } else {
            // Tight list items carry text without a paragraph around it.
            self.current = Some(vec![inline]);
        }
    }

    /// Appends text, joining it to a preceding text run: a paragraph's lines
    /// become one `Text` instead of one per line and break.
    fn push_text(&mut self, text: &str) {
        let run = match self.inlines.last_mut() {
            Some((_, content)) => content.last_mut(),
            None => self.current.as_mut().and_then(|c| c.last_mut()),
        };
        match run {
            Some(Inline::Text { text: prev }) => prev.push_str(text),
            _ => self.push_inline(Inline::Text {
                text: text.to_string(),
            }),
        }
    }

    /// Ends an implicit paragraph (tight list item text).
    fn flush_loose_inlines(&mut self) {
        if let Some(content) = self.current.take() {
            self.push_block(Block::Paragraph { content });
        }
    }

    /// Counts runs of non-space bytes that contain a letter or digit (so a
    /// lone `-` or `|` is not a word). A byte loop: this runs on every text event.
    fn count_words(&mut self, text: &str) {
        let mut in_word = false;
        let mut has_alnum = false;
        for &b in text.as_bytes() {
            if b.is_ascii_whitespace() {
                self.extras.words += usize::from(in_word && has_alnum);
                in_word = false;
                has_alnum = false;
            } else {
                in_word = true;
                // Non-ASCII bytes belong to letters in our prose (é, ü).
                has_alnum |= b.is_ascii_alphanumeric() || b >= 0x80;
            }
        }
        self.extras.words += usize::from(in_word && has_alnum);
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>, body: &str) {
        let at = self.base + range.start;
        match event {
            Event::Start(tag) => self.start(tag, range, at),
            Event::End(tag) => self.end(tag, range, body),
            Event::Text(text) => {
                if let Some((_, buf, start, _)) = self.code.as_mut() {
                    if buf.is_empty() {
                        *start = at;
                    }
                    buf.push_str(&text);
                } else {
                    self.count_words(&text);
                    self.push_text(&text);
                }
            }
            Event::Code(text) => {
                self.count_words(&text);
                self.push_inline(Inline::Code {
                    text: text.into_string(),
                });
            }
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.push_inline(Inline::LineBreak),
            Event::Rule => self.push_block(Block::Rule),
            Event::Html(_) | Event::InlineHtml(_) => self.diags.warning(
                at,
                "raw HTML is not rendered by the tutor",
                Some("use markdown instead (admonitions: `> [!NOTE]`)"),
            ),
            Event::TaskListMarker(_)
            | Event::FootnoteReference(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>, at: usize) {
        match tag {
            Tag::Paragraph | Tag::Heading { .. } => {
                self.flush_loose_inlines();
                self.current = Some(Vec::new());
            }
            Tag::BlockQuote(kind) => {
                self.flush_loose_inlines();
                let kind = kind.map(|k| match k {
                    BlockQuoteKind::Note => Admonition::Note,
                    BlockQuoteKind::Tip => Admonition::Tip,
                    BlockQuoteKind::Important => Admonition::Important,
                    BlockQuoteKind::Warning => Admonition::Warning,
                    BlockQuoteKind::Caution => Admonition::Caution,
                });
                self.containers.push((Container::Quote(kind), Vec::new()));
            }
            Tag::CodeBlock(kind) => {
                self.flush_loose_inlines();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split_whitespace()
                        .next()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some((lang, String::new(), at, range));
            }
            Tag::List(start) => {
                self.flush_loose_inlines();
                self.containers
                    .push((Container::List(start, Vec::new()), Vec::new()));
            }
            Tag::Item => self.containers.push((Container::Item, Vec::new())),
            Tag::Table(aligns) => {
                let align = aligns
                    .into_iter()
                    .map(|a| match a {
                        Alignment::None => Align::None,
                        Alignment::Left => Align::Left,
                        Alignment::Center => Align::Center,
                        Alignment::Right => Align::Right,
                    })
                    .collect();
                self.table = Some(TableBuilder {
                    align,
                    ..TableBuilder::default()
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = self.table.as_mut() {
                    t.row.clear();
                }
            }
            Tag::TableCell => self.current = Some(Vec::new()),
            Tag::Emphasis => self.inlines.push((InlineFrame::Emphasis, Vec::new())),
            Tag::Strong => self.inlines.push((InlineFrame::Strong, Vec::new())),
            Tag::Strikethrough => self.inlines.push((InlineFrame::Strikethrough, Vec::new())),
            Tag::Link { dest_url, .. } => {
                let target = link_target(&dest_url);
                match &target {
                    LinkTarget::Lesson { id, .. } => {
                        self.extras.lesson_links.push(LessonLink {
                            id: id.clone(),
                            offset: at,
                        });
                    }
                    LinkTarget::External { url } if url.starts_with('#') || url.is_empty() => {
                        self.diags.warning(
                            at,
                            format!("link `{url}` goes nowhere in the tutor"),
                            Some("link to another lesson with `lesson:ID`, or to a full https:// URL"),
                        );
                    }
                    LinkTarget::External { .. } => {}
                }
                self.inlines.push((InlineFrame::Link(target), Vec::new()));
            }
            Tag::Image { .. } => {
                self.diags.warning(
                    at,
                    "images are not shown in the terminal; only their alt text is",
                    Some("draw it as a ```diagram block instead"),
                );
                self.inlines.push((InlineFrame::Image, Vec::new()));
            }
            Tag::HtmlBlock
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_)
            | Tag::Superscript
            | Tag::Subscript => {}
        }
    }

    fn end(&mut self, tag: TagEnd, range: Range<usize>, body: &str) {
        match tag {
            TagEnd::Paragraph => {
                let content = self.current.take().unwrap_or_default();
                self.push_block(Block::Paragraph { content });
            }
            TagEnd::Heading(level) => {
                let content = self.current.take().unwrap_or_default();
                let level = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                if level == 1 {
                    self.diags.warning(
                        self.base + range.start,
                        "level-1 heading in a lesson body",
                        Some("the title comes from the front matter; use `##` for sections"),
                    );
                }
                let anchor = slugify(&Inline::plain_text(&content));
                self.push_block(Block::Heading {
                    level,
                    anchor,
                    content,
                });
            }
            TagEnd::BlockQuote(_) => {
                self.flush_loose_inlines();
                if let Some((Container::Quote(kind), blocks)) = self.containers.pop() {
                    self.push_block(match kind {
                        Some(kind) => Block::Admonition { kind, blocks },
                        None => Block::Quote { blocks },
                    });
                }
            }
            TagEnd::CodeBlock => self.end_code(body),
            TagEnd::Item => {
                self.flush_loose_inlines();
                if let Some((Container::Item, blocks)) = self.containers.pop()
                    && let Some((Container::List(_, items), _)) = self.containers.last_mut()
                {
                    items.push(blocks);
                }
            }
            TagEnd::List(_) => {
                if let Some((Container::List(start, items), _)) = self.containers.pop() {
                    self.push_block(Block::List { start, items });
                }
            }
            TagEnd::TableCell => {
                let cell = self.current.take().unwrap_or_default();
                if let Some(t) = self.table.as_mut() {
                    t.row.push(cell);
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = self.table.as_mut() {
                    t.header = std::mem::take(&mut t.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = self.table.as_mut() {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(TableBuilder {
                    align,
                    header,
                    rows,
                    ..
                }) = self.table.take()
                {
                    self.push_block(Block::Table {
                        align,
                        header,
                        rows,
                    });
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link
            | TagEnd::Image => {
                if let Some((frame, content)) = self.inlines.pop() {
                    match frame {
                        InlineFrame::Emphasis => self.push_inline(Inline::Emphasis { content }),
                        InlineFrame::Strong => self.push_inline(Inline::Strong { content }),
                        InlineFrame::Strikethrough => {
                            self.push_inline(Inline::Strikethrough { content })
                        }
                        InlineFrame::Link(target) => {
                            self.push_inline(Inline::Link { target, content })
                        }
                        InlineFrame::Image => {
                            for i in content {
                                self.push_inline(i);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn end_code(&mut self, body: &str) {
        let Some((lang, mut text, content_at, range)) = self.code.take() else {
            return;
        };
        let open_at = self.base + range.start;
        let source = &body[range.clone()];
        let fenced = source.starts_with("```")
            || source.starts_with("~~~")
            || source.trim_start().starts_with("```");
        if fenced && !has_closing_fence(source) {
            self.diags.error(
                open_at,
                "code fence is never closed: everything after it is swallowed into one code block",
                Some("close the block with a line of ``` matching the opening fence"),
            );
        }
        if text.ends_with('\n') {
            text.pop();
        }
        match lang.as_deref() {
            Some("quiz") => {
                // The TOML starts on the line after the opening fence.
                let offset = if text.is_empty() { open_at } else { content_at };
                self.extras.quizzes.push(RawQuiz { text, offset });
            }
            Some("diagram") => {
                let (title, drawing) = match text.split_once('\n') {
                    Some((first, rest)) if first.starts_with("title:") => (
                        Some(first["title:".len()..].trim().to_string()),
                        rest.to_string(),
                    ),
                    _ => (None, text),
                };
                self.check_diagram(&drawing, content_at);
                self.push_block(Block::Diagram {
                    title,
                    text: drawing,
                });
            }
            _ => self.push_block(Block::Code { lang, text }),
        }
    }

    fn check_diagram(&mut self, drawing: &str, at: usize) {
        for (i, line) in drawing.lines().enumerate() {
            let width = line.chars().count();
            let line_at = at + drawing.lines().take(i).map(|l| l.len() + 1).sum::<usize>();
            if width > MAX_DIAGRAM_WIDTH {
                self.diags.error(
                    line_at,
                    format!(
                        "diagram line is {width} columns wide; the limit is {MAX_DIAGRAM_WIDTH}"
                    ),
                    Some("narrow the drawing so it fits an 80-column terminal"),
                );
            }
            if !line.is_ascii() {
                self.diags.warning(
                    line_at,
                    "diagram line has non-ASCII characters",
                    Some("use plain ASCII (+ - | > < v ^) so every terminal font lines it up"),
                );
            }
        }
    }
}

fn has_closing_fence(block: &str) -> bool {
    let trimmed = block.trim_end();
    let mut lines = trimmed.lines();
    let open = lines.next().unwrap_or("").trim_start();
    let fence_char = open.chars().next().unwrap_or('`');
    let open_len = open.chars().take_while(|&c| c == fence_char).count();
    match trimmed.lines().last() {
        Some(last) if trimmed.lines().count() > 1 => {
            let last = last.trim();
            last.chars().all(|c| c == fence_char) && last.chars().count() >= open_len
        }
        _ => false,
    }
}

fn link_target(dest: &str) -> LinkTarget {
    match dest.strip_prefix("lesson:") {
        Some(rest) => {
            let (id, anchor) = match rest.split_once('#') {
                Some((id, anchor)) => (id, Some(anchor.to_string())),
                None => (rest, None),
            };
            LinkTarget::Lesson {
                id: id.to_string(),
                anchor,
            }
        }
        None => LinkTarget::External {
            url: dest.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;

    fn parse(src: &str) -> (Document, BodyExtras, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut d = FileDiags::new("t.md", src, &mut out);
        let (doc, extras) = parse_body(src, 0, &mut d);
        (doc, extras, out)
    }

    #[test]
    fn builds_headings_paragraphs_and_inline_markup() {
        let (doc, extras, diags) = parse("## TCP states\n\nA *SYN* is **sent** with `ss -tan`.\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            doc.blocks[0],
            Block::Heading {
                level: 2,
                anchor: "tcp-states".into(),
                content: vec![Inline::Text {
                    text: "TCP states".into()
                }]
            }
        );
        let Block::Paragraph { content } = &doc.blocks[1] else {
            panic!("{:?}", doc.blocks[1])
        };
        assert_eq!(Inline::plain_text(content), "A SYN is sent with ss -tan.");
        assert!(matches!(content[1], Inline::Emphasis { .. }));
        assert!(matches!(content[3], Inline::Strong { .. }));
        assert!(matches!(content[5], Inline::Code { .. }));
        assert_eq!(extras.words, 2 + 7);
    }

    #[test]
    fn tight_list_items_become_paragraphs() {
        let (doc, _, _) = parse("- one\n- two *b*\n\n1. x\n");
        let Block::List { start: None, items } = &doc.blocks[0] else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1][0], Block::Paragraph { content } if content.len() == 2));
        assert!(matches!(&doc.blocks[1], Block::List { start: Some(1), .. }));
    }

    #[test]
    fn admonitions_tables_and_links() {
        let src =
            "> [!TIP]\n> Use `ip -br a`.\n\n| a | b |\n|:--|--:|\n| 1 | [t](lesson:tcp#states) |\n";
        let (doc, extras, _) = parse(src);
        assert!(
            matches!(&doc.blocks[0], Block::Admonition { kind: Admonition::Tip, blocks } if blocks.len() == 1)
        );
        let Block::Table {
            align,
            header,
            rows,
        } = &doc.blocks[1]
        else {
            panic!("{:?}", doc.blocks)
        };
        assert_eq!(align, &vec![Align::Left, Align::Right]);
        assert_eq!(header.len(), 2);
        assert_eq!(rows.len(), 1);
        assert_eq!(extras.lesson_links[0].id, "tcp");
        assert!(matches!(
            &rows[0][1][0],
            Inline::Link { target: LinkTarget::Lesson { anchor: Some(a), .. }, .. } if a == "states"
        ));
    }

    #[test]
    fn quiz_blocks_are_extracted_and_diagrams_kept_verbatim() {
        let src = "```diagram\ntitle: veth\n[a]--[b]\n```\n\n```quiz\nkind = \"single\"\n```\n";
        let (doc, extras, diags) = parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            doc.blocks,
            vec![Block::Diagram {
                title: Some("veth".into()),
                text: "[a]--[b]".into()
            }]
        );
        assert_eq!(extras.quizzes.len(), 1);
        assert_eq!(extras.quizzes[0].text, "kind = \"single\"");
        assert_eq!(
            &src[extras.quizzes[0].offset..extras.quizzes[0].offset + 4],
            "kind"
        );
    }

    #[test]
    fn unterminated_fence_is_an_error_at_the_opening_line() {
        let (_, _, diags) = parse("para\n\n```console\n$ ip a\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!((diags[0].line, diags[0].col), (3, 1));
        assert!(diags[0].message.contains("never closed"));
    }

    #[test]
    fn wide_diagrams_are_errors() {
        let wide = "x".repeat(80);
        let (_, _, diags) = parse(&format!("```diagram\nok\n{wide}\n```\n"));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 3);
    }

    #[test]
    fn slugify_makes_anchors() {
        assert_eq!(slugify("TCP: states & flags!"), "tcp-states-flags");
    }
}
