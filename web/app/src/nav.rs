//! Course navigation on plain types: lesson order, progress marks and
//! glossary search. The views only render what these return.

use layerlab_core::progress::Progress;
use layerlab_core::{CourseOutline, GlossaryEntry, LessonOutline};

/// How far a learner got in a lesson, as the course tree shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonMark {
    /// Not opened to the end, quiz not taken.
    New,
    /// Read, quiz not taken.
    Read,
    /// Quiz taken with some wrong answers (best of `total`).
    Partial {
        /// Best number right.
        best: u32,
        /// Questions.
        total: u32,
    },
    /// Quiz answered fully right.
    Mastered {
        /// Questions.
        total: u32,
    },
}

impl LessonMark {
    /// The mark for a lesson, with the same rules as the terminal tutor.
    pub fn of(progress: &Progress, lesson: &str) -> LessonMark {
        match (progress.is_read(lesson), progress.quiz(lesson)) {
            (_, Some(q)) if q.best == q.total => LessonMark::Mastered { total: q.total },
            (_, Some(q)) => LessonMark::Partial {
                best: q.best,
                total: q.total,
            },
            (true, None) => LessonMark::Read,
            (false, None) => LessonMark::New,
        }
    }

    /// Short text for the tree: `✓ 6/6`, `◐ 4/6`, `✓`, `·`.
    pub fn badge(self) -> String {
        match self {
            LessonMark::New => "·".into(),
            LessonMark::Read => "✓".into(),
            LessonMark::Partial { best, total } => format!("◐ {best}/{total}"),
            LessonMark::Mastered { total } => format!("✓ {total}/{total}"),
        }
    }

    /// CSS class for the mark's colour.
    pub fn class(self) -> &'static str {
        match self {
            LessonMark::New => "mark-new",
            LessonMark::Read | LessonMark::Mastered { .. } => "mark-done",
            LessonMark::Partial { .. } => "mark-partial",
        }
    }

    /// Whether the lesson counts as done for chapter progress.
    pub fn done(self) -> bool {
        !matches!(self, LessonMark::New)
    }
}

/// Every lesson in course order.
pub fn lessons(outline: &CourseOutline) -> impl Iterator<Item = &LessonOutline> {
    outline.chapters.iter().flat_map(|c| c.lessons.iter())
}

/// The lessons before and after `id` in course order.
pub fn neighbours<'a>(
    outline: &'a CourseOutline,
    id: &str,
) -> (Option<&'a LessonOutline>, Option<&'a LessonOutline>) {
    let all: Vec<&LessonOutline> = lessons(outline).collect();
    match all.iter().position(|l| l.id == id) {
        Some(i) => (i.checked_sub(1).map(|p| all[p]), all.get(i + 1).copied()),
        None => (None, None),
    }
}

/// Lessons done and lessons in total, for a chapter or (with `None`) the course.
pub fn done_count(
    outline: &CourseOutline,
    progress: &Progress,
    chapter: Option<&str>,
) -> (usize, usize) {
    let in_scope = outline
        .chapters
        .iter()
        .filter(|c| chapter.is_none_or(|id| c.id == id))
        .flat_map(|c| c.lessons.iter());
    in_scope.fold((0, 0), |(done, total), l| {
        (
            done + usize::from(LessonMark::of(progress, &l.id).done()),
            total + 1,
        )
    })
}

/// Where "continue" leads: the last lesson opened, else the first not done.
pub fn resume_target<'a>(
    outline: &'a CourseOutline,
    progress: &Progress,
) -> Option<&'a LessonOutline> {
    let last = progress
        .last_lesson
        .as_deref()
        .and_then(|id| lessons(outline).find(|l| l.id == id));
    last.or_else(|| lessons(outline).find(|l| !LessonMark::of(progress, &l.id).done()))
        .or_else(|| lessons(outline).next())
}

/// Title of a lesson, for links and breadcrumbs.
pub fn lesson_title<'a>(outline: &'a CourseOutline, id: &str) -> Option<&'a str> {
    lessons(outline)
        .find(|l| l.id == id)
        .map(|l| l.title.as_str())
}

/// Glossary entries matching every word of `query` in term or definition,
/// terms that start with the query first; an empty query matches all.
pub fn search_glossary<'a>(entries: &'a [GlossaryEntry], query: &str) -> Vec<&'a GlossaryEntry> {
    // ASCII folding is enough for an English glossary, and keeps Unicode
    // case tables out of the browser download.
    let words: Vec<String> = query
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let mut hits: Vec<(u8, usize, &GlossaryEntry)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let term = e.term.to_ascii_lowercase();
            let def = e.definition.to_ascii_lowercase();
            if !words.iter().all(|w| term.contains(w) || def.contains(w)) {
                return None;
            }
            let q = words.join(" ");
            let rank = if term == q {
                0
            } else if term.starts_with(&q) {
                1
            } else if words.iter().all(|w| term.contains(w)) {
                2
            } else {
                3
            };
            Some((rank, i, e))
        })
        .collect();
    // Entries keep their alphabetical order within a rank.
    hits.sort_unstable_by_key(|&(rank, i, _)| (rank, i));
    hits.into_iter().map(|(_, _, e)| e).collect()
}

/// Splits text with `backtick` spans into (is_code, text) runs.
pub fn code_spans(text: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        if open > 0 {
            out.push((false, &rest[..open]));
        }
        out.push((true, &rest[open + 1..open + 1 + len]));
        rest = &rest[open + 2 + len..];
    }
    if !rest.is_empty() {
        out.push((false, rest));
    }
    out
}

/// One line of a shell session in a lesson's `console` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleLine<'a> {
    /// A command: its prompt (`$ `, `# `, `root@pod:/# `) and the command.
    Command(&'a str, &'a str),
    /// The continuation of a command whose previous line ended in `\`.
    Continued(&'a str),
    /// What the command printed.
    Output(&'a str),
}

/// Tells commands from output in a shell session, so the page can style them apart.
pub fn console_lines(text: &str) -> Vec<ConsoleLine<'_>> {
    let mut out = Vec::new();
    let mut continuing = false;
    for line in text.lines() {
        let parsed = if continuing {
            ConsoleLine::Continued(line)
        } else {
            match split_prompt(line) {
                Some((p, rest)) => ConsoleLine::Command(p, rest),
                None => ConsoleLine::Output(line),
            }
        };
        continuing = !matches!(parsed, ConsoleLine::Output(_)) && line.ends_with('\\');
        out.push(parsed);
    }
    out
}

fn split_prompt(line: &str) -> Option<(&str, &str)> {
    for p in ["$ ", "# "] {
        if let Some(rest) = line.strip_prefix(p) {
            return Some((p, rest));
        }
    }
    // `root@pod:/# cmd`, `user@host:~$ cmd`: one word with @ or : before the prompt.
    ["$ ", "# "].iter().find_map(|p| {
        let i = line.find(p)?;
        let head = &line[..i];
        (i < 40 && !head.contains(' ') && head.contains(['@', ':']))
            .then(|| (&line[..i + 2], &line[i + 2..]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerlab_core::progress::Timestamp;

    fn outline() -> CourseOutline {
        layerlab_lessons::course().outline()
    }

    #[test]
    fn neighbours_cross_chapter_boundaries() {
        let o = outline();
        let first_of_second = &o.chapters[1].lessons[0];
        let last_of_first = o.chapters[0].lessons.last().unwrap();
        let (prev, next) = neighbours(&o, &first_of_second.id);
        assert_eq!(prev.map(|l| &l.id), Some(&last_of_first.id));
        assert_eq!(next.map(|l| &l.id), Some(&o.chapters[1].lessons[1].id));
        let first = &o.chapters[0].lessons[0];
        assert!(neighbours(&o, &first.id).0.is_none());
        assert_eq!(neighbours(&o, "no-such-lesson"), (None, None));
    }

    #[test]
    fn marks_follow_the_terminal_rules_and_count_towards_chapters() {
        let o = outline();
        let ch = &o.chapters[0];
        let (a, b) = (&ch.lessons[0].id, &ch.lessons[1].id);
        let mut p = Progress::default();
        assert_eq!(LessonMark::of(&p, a), LessonMark::New);
        p.mark_read(a, Timestamp(1));
        assert_eq!(LessonMark::of(&p, a).badge(), "✓");
        p.record_quiz(b, 2, 5, Timestamp(2));
        assert_eq!(LessonMark::of(&p, b).badge(), "◐ 2/5");
        p.record_quiz(b, 5, 5, Timestamp(3));
        assert_eq!(LessonMark::of(&p, b).badge(), "✓ 5/5");
        assert_eq!(done_count(&o, &p, Some(&ch.id)), (2, ch.lessons.len()));
        let total: usize = o.chapters.iter().map(|c| c.lessons.len()).sum();
        assert_eq!(done_count(&o, &p, None), (2, total));
    }

    #[test]
    fn resume_prefers_the_last_lesson_then_the_first_not_done() {
        let o = outline();
        let mut p = Progress::default();
        assert_eq!(
            resume_target(&o, &p).unwrap().id,
            o.chapters[0].lessons[0].id
        );
        p.mark_read(&o.chapters[0].lessons[0].id, Timestamp(1));
        assert_eq!(
            resume_target(&o, &p).unwrap().id,
            o.chapters[0].lessons[1].id
        );
        p.set_last_lesson(&o.chapters[2].lessons[0].id);
        assert_eq!(
            resume_target(&o, &p).unwrap().id,
            o.chapters[2].lessons[0].id
        );
    }

    #[test]
    fn glossary_search_ranks_term_matches_before_definition_matches() {
        let entry = |term: &str, definition: &str| GlossaryEntry {
            term: term.into(),
            definition: definition.into(),
            lesson: "l".into(),
        };
        let entries = [
            entry("bridge", "A virtual switch joining interfaces."),
            entry("conntrack", "Kernel table of flows; undoes NAT on replies."),
            entry("DNAT", "Rewriting a packet's destination address."),
            entry(
                "veth",
                "A pair of interfaces, like a cable; one end often on a bridge.",
            ),
        ];
        let terms = |q: &str| -> Vec<&str> {
            search_glossary(&entries, q)
                .iter()
                .map(|e| e.term.as_str())
                .collect()
        };
        assert_eq!(terms("bridge"), ["bridge", "veth"]);
        assert_eq!(terms("dnat"), ["DNAT"]);
        assert_eq!(terms("nat replies"), ["conntrack"]);
        assert_eq!(terms("  ").len(), 4);
        assert!(terms("quic").is_empty());
        // The real glossary is searchable too.
        let real = &outline().glossary;
        let first = &real[0].term;
        assert_eq!(search_glossary(real, first)[0].term, *first);
    }

    #[test]
    fn console_sessions_split_prompts_continuations_and_output() {
        let text = "# tcpdump -nn \\\n    'tcp port 80'\nIP 10.0.0.1 > 10.0.0.2\nroot@pod:/# ip -br a\n$ echo \"a # b\"";
        assert_eq!(
            console_lines(text),
            [
                ConsoleLine::Command("# ", "tcpdump -nn \\"),
                ConsoleLine::Continued("    'tcp port 80'"),
                ConsoleLine::Output("IP 10.0.0.1 > 10.0.0.2"),
                ConsoleLine::Command("root@pod:/# ", "ip -br a"),
                ConsoleLine::Command("$ ", "echo \"a # b\""),
            ]
        );
        // Output that merely contains a hash is not a prompt.
        assert_eq!(
            console_lines("lo  UNKNOWN # ok"),
            [ConsoleLine::Output("lo  UNKNOWN # ok")]
        );
    }

    #[test]
    fn code_spans_split_on_backtick_pairs_only() {
        assert_eq!(
            code_spans("Run `ip link` then `ss -t`."),
            [
                (false, "Run "),
                (true, "ip link"),
                (false, " then "),
                (true, "ss -t"),
                (false, ".")
            ]
        );
        assert_eq!(code_spans("a ` lone"), [(false, "a ` lone")]);
        assert_eq!(code_spans("`x`"), [(true, "x")]);
    }
}
