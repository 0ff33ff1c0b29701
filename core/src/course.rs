//! The course model (`Course` → `Chapter` → `Lesson`) and its loader.
//!
//! [`Course::load`] takes the content files as data (path + text) and
//! returns the course together with every diagnostic, so the same code
//! serves the embedded course, `layerlab lint` on an author's folder, and
//! the browser.

use crate::diag::{Diagnostic, FileDiags, Severity};
use crate::doc::{self, Document};
use crate::quiz::{self, Question};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One content file, with its path relative to the content root (`/`-separated).
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    /// e.g. `01-fundamentals/04-tcp.md`.
    pub path: &'a str,
    /// The file's text.
    pub text: &'a str,
}

/// Ids that lessons may refer to but that live outside the lessons tree.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Known lab ids.
    pub labs: BTreeSet<String>,
    /// Known journey ids.
    pub journeys: BTreeSet<String>,
}

/// The whole course.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Course {
    /// Chapters in order.
    pub chapters: Vec<Chapter>,
    /// Glossary terms, sorted case-insensitively.
    pub glossary: Vec<GlossaryEntry>,
}

/// A chapter: a folder of lessons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chapter {
    /// Unique id.
    pub id: String,
    /// Title.
    pub title: String,
    /// One or two sentences for the course tree.
    pub summary: String,
    /// Lessons in order.
    pub lessons: Vec<Lesson>,
}

/// A lesson: text, objectives and a quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// Unique id across the course.
    pub id: String,
    /// Title.
    pub title: String,
    /// Estimated minutes to read and answer the quiz.
    pub minutes: u32,
    /// What the learner will be able to do afterwards.
    pub objectives: Vec<String>,
    /// The labs that practise this lesson, in the order they are offered.
    pub labs: Vec<String>,
    /// Packet journeys to watch with this lesson.
    pub journeys: Vec<String>,
    /// The rendered-neutral body.
    pub body: Document,
    /// Quiz questions in order.
    pub quiz: Vec<Question>,
    /// Prose word count (code, diagrams and quiz excluded).
    pub words: usize,
    /// Source path, relative to the content root.
    pub source: String,
}

/// One glossary term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlossaryEntry {
    /// The term.
    pub term: String,
    /// One-sentence definition.
    pub definition: String,
    /// Id of the lesson that teaches it.
    pub lesson: String,
}

/// A course and everything found wrong while loading it.
#[derive(Debug, Clone, Default)]
pub struct LoadedCourse {
    /// What could be loaded (broken files are left out).
    pub course: Course,
    /// Every problem, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedCourse {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// Course-quality thresholds: below them lint warns.
pub mod standards {
    /// Fewest prose words in a lesson.
    pub const MIN_WORDS: usize = 600;
    /// Most prose words in a lesson.
    pub const MAX_WORDS: usize = 1500;
    /// Fewest quiz questions in a lesson.
    pub const MIN_QUESTIONS: usize = 5;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChapter {
    id: String,
    title: String,
    #[serde(default)]
    summary: String,
}

/// The files of one chapter folder, before parsing.
#[derive(Default)]
struct ChapterFiles<'a> {
    raw: Option<RawChapter>,
    lessons: Vec<(&'a str, SourceFile<'a>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrontMatter {
    id: String,
    title: String,
    minutes: u32,
    objectives: Vec<String>,
    lab: Option<String>,
    #[serde(default)]
    labs: Vec<String>,
    #[serde(default)]
    journeys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlossary {
    #[serde(default)]
    term: Vec<GlossaryEntry>,
}

const FRONT_MATTER_HELP: &str = "start the file with a `+++` line, TOML keys id, title, minutes, objectives (and optional lab or labs, journeys), then a closing `+++` line";

impl Course {
    /// Loads a course from its content files and checks it against the
    /// labs and journeys in `catalog`.
    pub fn load(files: &[SourceFile<'_>], catalog: &Catalog) -> LoadedCourse {
        let mut diagnostics = Vec::new();
        let mut chapters: BTreeMap<&str, ChapterFiles<'_>> = BTreeMap::new();
        let mut glossary_files = Vec::new();

        for file in files {
            if file.path.starts_with(crate::content::JOURNEYS_DIR) {
                continue; // read by content::load_content
            }
            let mut d = FileDiags::new(file.path, file.text, &mut diagnostics);
            let Some((dir, name)) = file
                .path
                .rsplit_once('/')
                .filter(|(dir, _)| !dir.contains('/'))
            else {
                if !is_ignored(file.path) {
                    d.warning(
                        0,
                        "stray file outside a chapter folder",
                        Some("content lives in NN-slug/ chapter folders"),
                    );
                }
                continue;
            };
            if order_prefix(dir).is_none() {
                d.warning(
                    0,
                    format!("chapter folder `{dir}` has no NN- order prefix"),
                    Some("rename it like 01-fundamentals"),
                );
                continue;
            }
            let entry = chapters.entry(dir).or_default();
            match name {
                "chapter.toml" => match toml::from_str::<RawChapter>(file.text) {
                    Ok(raw) => entry.raw = Some(raw),
                    Err(e) => d.toml_error(0, "chapter.toml", &e, Some("keys: id, title, summary")),
                },
                "glossary.toml" => glossary_files.push(*file),
                n if n.ends_with(".md") && order_prefix(n).is_some() => {
                    entry.lessons.push((name, *file))
                }
                n if is_ignored(n) => {}
                _ => d.warning(
                    0,
                    "stray file in a chapter folder",
                    Some("lessons are named NN-slug.md"),
                ),
            }
        }

        // Lesson id → the file that defines it.
        let mut lesson_origins: BTreeMap<String, String> = BTreeMap::new();
        let mut course = Course::default();
        let mut pending_links = Vec::new();
        let mut chapter_ids: BTreeMap<String, String> = BTreeMap::new();
        for (
            dir,
            ChapterFiles {
                raw,
                lessons: mut lesson_files,
            },
        ) in chapters
        {
            let chapter_file = format!("{dir}/chapter.toml");
            let Some(raw) = raw else {
                if !files.iter().any(|f| f.path == chapter_file) {
                    diagnostics.push(Diagnostic {
                        severity: Severity::Error,
                        file: chapter_file,
                        line: 1,
                        col: 1,
                        message: format!("chapter folder `{dir}` has no chapter.toml"),
                        help: Some("add chapter.toml with id, title and summary".into()),
                    });
                }
                continue;
            };
            if let Some(first) = chapter_ids.insert(raw.id.clone(), chapter_file.clone()) {
                push_error(
                    &mut diagnostics,
                    &chapter_file,
                    format!("duplicate chapter id `{}` (also in {first})", raw.id),
                    None,
                );
            }
            lesson_files.sort_by_key(|(name, _)| (order_prefix(name), *name));
            let mut chapter = Chapter {
                id: raw.id,
                title: raw.title,
                summary: raw.summary,
                lessons: Vec::new(),
            };
            for (_, file) in lesson_files {
                let mut d = FileDiags::new(file.path, file.text, &mut diagnostics);
                let Some((lesson, links, id_at)) = parse_lesson(file, &mut d, catalog) else {
                    continue;
                };
                if let Some(first) = lesson_origins.get(&lesson.id) {
                    d.error(
                        id_at,
                        format!(
                            "duplicate lesson id `{}` (first used in {first})",
                            lesson.id
                        ),
                        Some("lesson ids must be unique across the whole course"),
                    );
                    continue;
                }
                lesson_origins.insert(lesson.id.clone(), file.path.to_string());
                pending_links.push((file, links));
                chapter.lessons.push(lesson);
            }
            course.chapters.push(chapter);
        }

        // Links can point forward, so they are checked once every lesson is known.
        for (file, links) in pending_links {
            let mut d = FileDiags::new(file.path, file.text, &mut diagnostics);
            for link in links {
                if !lesson_origins.contains_key(&link.id) {
                    d.error(
                        link.offset,
                        format!("link to unknown lesson `{}`", link.id),
                        Some(&suggest(&link.id, lesson_origins.keys())),
                    );
                }
            }
        }

        let mut seen_terms: BTreeMap<String, String> = BTreeMap::new();
        for file in glossary_files {
            let mut d = FileDiags::new(file.path, file.text, &mut diagnostics);
            let raw: RawGlossary = match toml::from_str(file.text) {
                Ok(raw) => raw,
                Err(e) => {
                    d.toml_error(
                        0,
                        "glossary.toml",
                        &e,
                        Some("entries are [[term]] tables with term, definition, lesson"),
                    );
                    continue;
                }
            };
            for entry in raw.term {
                let errors_before = d.out.len();
                let at = find_offset(file.text, &format!("\"{}\"", entry.term));
                if !lesson_origins.contains_key(&entry.lesson) {
                    d.error(
                        at,
                        format!(
                            "glossary term `{}` points at unknown lesson `{}`",
                            entry.term, entry.lesson
                        ),
                        Some(&suggest(&entry.lesson, lesson_origins.keys())),
                    );
                }
                if entry.definition.trim().is_empty() {
                    d.error(
                        at,
                        format!("glossary term `{}` has no definition", entry.term),
                        None,
                    );
                }
                if let Some(first) =
                    seen_terms.insert(entry.term.to_lowercase(), file.path.to_string())
                {
                    d.error(
                        at,
                        format!(
                            "glossary term `{}` is defined twice (also in {first})",
                            entry.term
                        ),
                        None,
                    );
                }
                if d.out.len() == errors_before {
                    course.glossary.push(entry);
                }
            }
        }
        course.glossary.sort_by_key(|e| e.term.to_lowercase());
        diagnostics.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        LoadedCourse {
            course,
            diagnostics,
        }
    }

    /// Every lesson in course order.
    pub fn lessons(&self) -> impl Iterator<Item = &Lesson> {
        self.chapters.iter().flat_map(|c| c.lessons.iter())
    }

    /// A lesson by id.
    pub fn lesson(&self, id: &str) -> Option<&Lesson> {
        self.lessons().find(|l| l.id == id)
    }

    /// The chapter that holds a lesson.
    pub fn chapter_of(&self, lesson_id: &str) -> Option<&Chapter> {
        self.chapters
            .iter()
            .find(|c| c.lessons.iter().any(|l| l.id == lesson_id))
    }

    /// The lesson after `id` in course order.
    pub fn next_lesson(&self, id: &str) -> Option<&Lesson> {
        let mut it = self.lessons().skip_while(|l| l.id != id);
        it.next()?;
        it.next()
    }
}

fn parse_lesson<'a>(
    file: SourceFile<'a>,
    d: &mut FileDiags<'_>,
    catalog: &Catalog,
) -> Option<(Lesson, Vec<doc::LessonLink>, usize)> {
    let text = file.text;
    let Some((front, front_at, body_at)) = split_front_matter(text) else {
        let msg = if text.trim_start().starts_with("+++") {
            "front matter is never closed"
        } else {
            "lesson has no front matter"
        };
        d.error(0, msg, Some(FRONT_MATTER_HELP));
        return None;
    };
    let raw: RawFrontMatter = match toml::from_str(front) {
        Ok(raw) => raw,
        Err(e) => {
            d.toml_error(front_at, "front matter", &e, Some(FRONT_MATTER_HELP));
            return None;
        }
    };
    let key_at = |key: &str| front_at + find_key(front, key);
    let id_at = key_at("id");
    if !is_kebab(&raw.id) {
        d.error(
            id_at,
            format!("lesson id `{}` is not kebab-case", raw.id),
            Some("use lowercase letters, digits and hyphens"),
        );
    }
    if raw.title.trim().is_empty() {
        d.error(key_at("title"), "lesson has an empty title", None);
    }
    if raw.minutes == 0 {
        d.error(key_at("minutes"), "`minutes` must be at least 1", None);
    }
    if !(2..=5).contains(&raw.objectives.len()) {
        d.error(
            key_at("objectives"),
            format!("a lesson has 2 to 5 objectives, this one has {}", raw.objectives.len()),
            Some("objectives say what the learner can do afterwards: \"Explain ...\", \"Predict ...\""),
        );
    }
    if raw.lab.is_some() && !raw.labs.is_empty() {
        d.error(
            key_at("labs"),
            "give either `lab` or `labs`, not both",
            Some("`labs = [\"a\", \"b\"]` lists every lab of the lesson"),
        );
    }
    let labs: Vec<String> = raw.lab.iter().chain(&raw.labs).cloned().collect();
    for lab in &labs {
        if !catalog.labs.contains(lab) {
            let key = if raw.lab.as_ref() == Some(lab) {
                "lab"
            } else {
                "labs"
            };
            d.error(
                key_at(key),
                format!("unknown lab `{lab}`"),
                Some(&suggest(lab, catalog.labs.iter())),
            );
        }
    }
    for journey in &raw.journeys {
        if !catalog.journeys.contains(journey) {
            d.error(
                key_at("journeys"),
                format!("unknown journey `{journey}`"),
                Some(&suggest(journey, catalog.journeys.iter())),
            );
        }
    }

    let (body, extras) = doc::parse_body(&text[body_at..], body_at, d);
    let mut quiz = Vec::new();
    for raw_q in &extras.quizzes {
        if let Some(q) = quiz::parse_question(&raw_q.text, raw_q.offset, d) {
            quiz.push(q);
        }
    }

    // Course standards: warnings here, enforced as errors by the course test.
    if extras.words < standards::MIN_WORDS || extras.words > standards::MAX_WORDS {
        d.warning(
            body_at,
            format!(
                "lesson has {} word(s) of prose; aim for {} to {}",
                extras.words,
                standards::MIN_WORDS,
                standards::MAX_WORDS
            ),
            None,
        );
    }
    if extras.quizzes.len() < standards::MIN_QUESTIONS {
        d.warning(
            body_at,
            format!(
                "lesson has {} quiz question(s); aim for at least {}",
                extras.quizzes.len(),
                standards::MIN_QUESTIONS
            ),
            None,
        );
    }
    if !body
        .blocks
        .iter()
        .any(|b| matches!(b, doc::Block::Diagram { .. }))
    {
        d.warning(
            body_at,
            "lesson has no ```diagram block",
            Some("every lesson draws at least one diagram"),
        );
    }

    let lesson = Lesson {
        id: raw.id,
        title: raw.title,
        minutes: raw.minutes,
        objectives: raw.objectives,
        labs,
        journeys: raw.journeys,
        body,
        quiz,
        words: extras.words,
        source: file.path.to_string(),
    };
    Some((lesson, extras.lesson_links, id_at))
}

/// Splits `+++`-delimited front matter: (front, its offset, body offset).
fn split_front_matter(text: &str) -> Option<(&str, usize, usize)> {
    let text_no_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - text_no_bom.len();
    let first_end = text_no_bom.find('\n')?;
    if text_no_bom[..first_end].trim_end() != "+++" {
        return None;
    }
    let front_at = bom + first_end + 1;
    let mut pos = front_at;
    for line in text[front_at..].split_inclusive('\n') {
        if line.trim_end() == "+++" {
            return Some((&text[front_at..pos], front_at, pos + line.len()));
        }
        pos += line.len();
    }
    None
}

/// Offset of `key =` at the start of a line in a TOML text, or 0.
fn find_key(toml_text: &str, key: &str) -> usize {
    let mut pos = 0;
    for line in toml_text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return pos + (line.len() - t.len());
        }
        pos += line.len();
    }
    0
}

fn find_offset(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or(0)
}

fn order_prefix(name: &str) -> Option<u32> {
    let (num, rest) = name.split_once('-')?;
    if rest.is_empty() || num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse().ok()
}

fn is_ignored(name: &str) -> bool {
    name.ends_with("README.md") || name.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn push_error(out: &mut Vec<Diagnostic>, file: &str, message: String, help: Option<String>) {
    out.push(Diagnostic {
        severity: Severity::Error,
        file: file.to_string(),
        line: 1,
        col: 1,
        message,
        help,
    });
}

/// "did you mean ...?" from the closest known id, by edit distance.
fn suggest<'a>(wanted: &str, known: impl Iterator<Item = &'a String>) -> String {
    let best = known
        .map(|k| (edit_distance(wanted, k), k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= (wanted.len() / 2).max(2) => format!("did you mean `{k}`?"),
        Some(_) | None => "check the id against the existing ones".to_string(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: &str = "id = \"basics\"\ntitle = \"Basics\"\nsummary = \"s\"\n";

    fn lesson(id: &str, extra_front: &str, body: &str) -> String {
        format!(
            "+++\nid = \"{id}\"\ntitle = \"T {id}\"\nminutes = 5\nobjectives = [\"a\", \"b\"]\n{extra_front}+++\n\n{body}"
        )
    }

    fn load(files: &[(&str, &str)]) -> LoadedCourse {
        let files: Vec<SourceFile<'_>> = files
            .iter()
            .map(|(path, text)| SourceFile { path, text })
            .collect();
        Course::load(&files, &Catalog::default())
    }

    fn errors(loaded: &LoadedCourse) -> Vec<String> {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn loads_chapters_and_lessons_in_prefix_order() {
        let a = lesson("a", "", "See [b](lesson:b).\n");
        let b = lesson("b", "", "Back to [a](lesson:a).\n");
        let loaded = load(&[
            ("02-more/chapter.toml", "id = \"more\"\ntitle = \"More\"\n"),
            ("01-basics/10-b.md", &b),
            ("01-basics/chapter.toml", CHAPTER),
            ("01-basics/02-a.md", &a),
        ]);
        assert!(errors(&loaded).is_empty(), "{:?}", errors(&loaded));
        let c = &loaded.course;
        assert_eq!(
            c.chapters.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["basics", "more"]
        );
        assert_eq!(
            c.lessons().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(c.next_lesson("a").map(|l| l.id.as_str()), Some("b"));
        assert_eq!(c.chapter_of("b").map(|c| c.id.as_str()), Some("basics"));
    }

    #[test]
    fn reports_broken_references_with_positions_and_suggestions() {
        let a = lesson("tcp", "lab = \"handshake\"\n", "See [x](lesson:tpc).\n");
        let loaded = load(&[
            ("01-basics/chapter.toml", CHAPTER),
            ("01-basics/01-a.md", &a),
        ]);
        let errs = errors(&loaded);
        assert!(
            errs.iter()
                .any(|e| e.starts_with("01-basics/01-a.md:6:1: error: unknown lab `handshake`")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(
                |e| e.contains("01-a.md:9:5: error: link to unknown lesson `tpc`")
                    && e.contains("did you mean `tcp`")
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn duplicate_ids_and_unknown_keys_are_errors() {
        let a = lesson("a", "", "x");
        let b = lesson("a", "colour = \"red\"\n", "x");
        let c = lesson("a", "", "x");
        let loaded = load(&[
            ("01-basics/chapter.toml", CHAPTER),
            ("01-basics/01-a.md", &a),
            ("01-basics/02-b.md", &b),
            ("01-basics/03-c.md", &c),
        ]);
        let errs = errors(&loaded);
        assert!(
            errs.iter()
                .any(|e| e.contains("02-b.md:6:1") && e.contains("unknown field `colour`")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("03-c.md:2:1") && e.contains("duplicate lesson id `a`")),
            "{errs:?}"
        );
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_reported() {
        let loaded = load(&[
            ("01-basics/chapter.toml", CHAPTER),
            ("01-basics/01-a.md", "# Just markdown\n"),
            ("01-basics/02-b.md", "+++\nid = \"b\"\n"),
        ]);
        let errs = errors(&loaded);
        assert!(
            errs.iter()
                .any(|e| e.contains("01-a.md:1:1: error: lesson has no front matter")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("02-b.md:1:1: error: front matter is never closed")),
            "{errs:?}"
        );
    }

    #[test]
    fn glossary_terms_point_at_real_lessons() {
        let a = lesson("a", "", "x");
        let gloss = "[[term]]\nterm = \"PDU\"\ndefinition = \"d\"\nlesson = \"a\"\n\n[[term]]\nterm = \"TTL\"\ndefinition = \"d\"\nlesson = \"zzz\"\n";
        let loaded = load(&[
            ("01-basics/chapter.toml", CHAPTER),
            ("01-basics/01-a.md", &a),
            ("01-basics/glossary.toml", gloss),
        ]);
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1, "{errs:?} {:?}", loaded.diagnostics);
        assert!(
            errs[0].contains("glossary.toml:7:8") && errs[0].contains("unknown lesson `zzz`"),
            "{errs:?}"
        );
        assert_eq!(loaded.course.glossary.len(), 1);
    }

    #[test]
    fn content_standards_are_warnings() {
        let a = lesson("a", "", "Too short.\n");
        let loaded = load(&[
            ("01-basics/chapter.toml", CHAPTER),
            ("01-basics/01-a.md", &a),
        ]);
        assert_eq!(loaded.error_count(), 0);
        let warnings: Vec<_> = loaded
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            warnings.iter().any(|w| w.contains("2 word(s) of prose")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("0 quiz question(s)")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("no ```diagram")),
            "{warnings:?}"
        );
    }
}
