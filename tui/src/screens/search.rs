//! The search popup: one query over lesson titles, objectives, headings
//! and glossary terms, ranked by a small fuzzy scorer.
//!
//! Short texts (titles, headings, terms) match as a subsequence, so `hndshk`
//! finds "handshake". Long texts (objectives, definitions) only match each
//! query word as a substring: as a subsequence, three letters would match
//! almost every sentence and bury the useful hits.

use crate::action::Action;
use layerlab_core::{Block, Course, Inline};

/// Texts up to this many characters match as a subsequence.
const SHORT_TEXT: usize = 40;
/// Results kept for display.
const MAX_HITS: usize = 50;

/// What a search entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// A lesson title.
    Lesson,
    /// A glossary term (its definition is the detail).
    Term,
    /// A section heading of a lesson.
    Heading,
    /// A learning objective of a lesson.
    Objective,
}

impl HitKind {
    /// The label shown before a result.
    pub fn label(self) -> &'static str {
        match self {
            HitKind::Lesson => "lesson",
            HitKind::Term => "term",
            HitKind::Heading => "section",
            HitKind::Objective => "goal",
        }
    }

    /// Titles beat terms beat headings beat objectives when scores tie.
    fn bonus(self) -> i32 {
        match self {
            HitKind::Lesson => 20,
            HitKind::Term => 15,
            HitKind::Heading => 10,
            HitKind::Objective => 0,
        }
    }
}

/// One searchable text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchEntry {
    /// What it is.
    pub kind: HitKind,
    /// The text shown and matched first.
    pub text: String,
    /// Secondary text also matched: a term's definition, a heading's lesson title.
    pub detail: String,
    /// The lesson it opens.
    pub lesson: String,
    /// The heading it opens at, for headings.
    pub anchor: Option<String>,
}

/// Everything searchable in a course, built once.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// Entries in course order.
    pub entries: Vec<SearchEntry>,
}

/// A ranked match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// Index into [`SearchIndex::entries`].
    pub entry: usize,
    /// Higher is better.
    pub score: i32,
    /// Character positions of `text` that matched, to highlight.
    pub positions: Vec<usize>,
}

impl SearchIndex {
    /// Indexes titles, objectives, headings and the glossary of `course`.
    pub fn new(course: &Course) -> SearchIndex {
        let mut entries = Vec::new();
        for lesson in course.lessons() {
            let entry = |kind, text: &str, anchor: Option<&String>| SearchEntry {
                kind,
                text: text.to_string(),
                detail: lesson.title.clone(),
                lesson: lesson.id.clone(),
                anchor: anchor.cloned(),
            };
            entries.push(SearchEntry {
                detail: String::new(),
                ..entry(HitKind::Lesson, &lesson.title, None)
            });
            for o in &lesson.objectives {
                entries.push(entry(HitKind::Objective, o, None));
            }
            for block in &lesson.body.blocks {
                if let Block::Heading {
                    anchor, content, ..
                } = block
                {
                    let text = Inline::plain_text(content);
                    entries.push(entry(HitKind::Heading, &text, Some(anchor)));
                }
            }
        }
        for g in &course.glossary {
            entries.push(SearchEntry {
                kind: HitKind::Term,
                text: g.term.clone(),
                detail: g.definition.clone(),
                lesson: g.lesson.clone(),
                anchor: None,
            });
        }
        SearchIndex { entries }
    }

    /// The entries matching every word of `query`, best first.
    pub fn search(&self, query: &str) -> Vec<SearchHit> {
        let words: Vec<Vec<char>> = query
            .split_whitespace()
            .map(|w| w.to_lowercase().chars().collect())
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<SearchHit> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let text: Vec<char> = e.text.to_lowercase().chars().collect();
                let detail: Vec<char> = e.detail.to_lowercase().chars().collect();
                let mut score = e.kind.bonus() - (text.len() / 16) as i32;
                let mut positions = Vec::new();
                for w in &words {
                    let in_text = fuzzy_score(w, &text);
                    // A match in the detail counts for half: it is context.
                    let in_detail = fuzzy_score(w, &detail).map(|(s, _)| s / 2);
                    match in_text {
                        Some((s, p)) if in_detail.is_none_or(|d| s >= d) => {
                            score += s;
                            positions.extend(p);
                        }
                        _ => score += in_detail?,
                    }
                }
                positions.sort_unstable();
                positions.dedup();
                Some(SearchHit {
                    entry: i,
                    score,
                    positions,
                })
            })
            .collect();
        // Stable: equal scores keep course order.
        hits.sort_by_key(|h| std::cmp::Reverse(h.score));
        hits.truncate(MAX_HITS);
        hits
    }
}

/// Scores `needle` (lower-case) against `hay` (lower-case): the best of
/// greedy matches starting at each occurrence of its first character.
///
/// Every matched character scores, more at the start of a word and right
/// after the previous match; gaps cost. Long texts take contiguous matches
/// only (see the module docs). Returns the score and matched positions.
pub fn fuzzy_score(needle: &[char], hay: &[char]) -> Option<(i32, Vec<usize>)> {
    let first = *needle.first()?;
    let contiguous = hay.len() > SHORT_TEXT;
    let word_start = |p: usize| p == 0 || !hay[p - 1].is_alphanumeric();
    let mut best: Option<(i32, Vec<usize>)> = None;
    for start in (0..hay.len()).filter(|&i| hay[i] == first) {
        let positions: Vec<usize> = if contiguous {
            if !hay[start..].starts_with(needle) {
                continue;
            }
            (start..start + needle.len()).collect()
        } else {
            let mut positions = vec![start];
            for &c in &needle[1..] {
                let from = positions[positions.len() - 1] + 1;
                match hay[from..].iter().position(|h| *h == c) {
                    Some(k) => positions.push(from + k),
                    None => break,
                }
            }
            if positions.len() < needle.len() {
                continue;
            }
            positions
        };
        // A late start costs a little: "handshake" should still find
        // "Three-way handshake".
        let mut score = -(start.min(10) as i32) / 2;
        for (n, &p) in positions.iter().enumerate() {
            let gap = if n == 0 { 0 } else { p - positions[n - 1] - 1 };
            score += 10;
            if n > 0 && gap == 0 {
                score += 6;
            } else {
                // Each jump costs, and more when it lands mid-word: a
                // scattered match is rarely what the learner meant.
                score -= if n > 0 { 3 + gap.min(7) as i32 } else { 0 };
                score += if word_start(p) { 8 } else { -4 };
            }
        }
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, positions));
        }
    }
    best
}

/// What the app must do after a search action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchOutcome {
    /// Keep the popup open.
    Stay,
    /// Close the popup.
    Close,
    /// Close the popup and open a lesson, at a heading if given.
    Open {
        /// Lesson id.
        lesson: String,
        /// Heading anchor.
        anchor: Option<String>,
    },
}

/// The open search popup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPopup {
    /// What the learner typed.
    pub query: String,
    /// Ranked results for the query.
    pub hits: Vec<SearchHit>,
    /// The highlighted result.
    pub selected: usize,
}

impl SearchPopup {
    /// Applies an action, re-ranking when the query changes.
    pub fn update(&mut self, index: &SearchIndex, action: Action) -> SearchOutcome {
        match action {
            Action::Type(c) => self.query.push(c),
            Action::DeleteChar => {
                self.query.pop();
            }
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                return SearchOutcome::Stay;
            }
            Action::Down => {
                self.selected = (self.selected + 1).min(self.hits.len().saturating_sub(1));
                return SearchOutcome::Stay;
            }
            Action::Back => return SearchOutcome::Close,
            Action::Open => {
                return match self.hits.get(self.selected) {
                    Some(hit) => {
                        let e = &index.entries[hit.entry];
                        SearchOutcome::Open {
                            lesson: e.lesson.clone(),
                            anchor: e.anchor.clone(),
                        }
                    }
                    None => SearchOutcome::Stay,
                };
            }
            _ => return SearchOutcome::Stay,
        }
        self.hits = index.search(&self.query);
        self.selected = 0;
        SearchOutcome::Stay
    }
}
