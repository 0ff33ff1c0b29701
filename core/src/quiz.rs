//! Quiz questions, their authoring format, and grading.
//!
//! Grading is here, once, so the terminal and the browser always agree on
//! what is right and always show the same explanations.

use crate::diag::FileDiags;
use serde::{Deserialize, Serialize};

/// One quiz question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// The question text (may contain inline markdown-ish backticks).
    pub prompt: String,
    /// What kind of answer it takes, with the right answer(s).
    pub kind: QuestionKind,
}

/// A choice in a single- or multiple-choice question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The choice text.
    pub text: String,
    /// Whether picking it is right.
    pub correct: bool,
    /// Why it is right or wrong.
    pub explain: String,
}

/// The kinds of question, each with what grading needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Pick exactly one choice.
    Single {
        /// The choices, exactly one correct.
        choices: Vec<Choice>,
    },
    /// Pick every correct choice and no other.
    Multiple {
        /// The choices, at least one correct.
        choices: Vec<Choice>,
    },
    /// Type a number, accepted within a tolerance.
    Numeric {
        /// The right value.
        answer: f64,
        /// Accepted distance from it.
        tolerance: f64,
        /// Unit shown beside the input.
        unit: Option<String>,
        /// Explanation shown after grading.
        explain: String,
    },
    /// Type a short text, accepted when the whole of it matches a pattern.
    Text {
        /// Regular expression the whole trimmed answer must match.
        accept: String,
        /// Canonical answer shown after grading.
        answer: String,
        /// Explanation shown after grading.
        explain: String,
    },
}

/// A learner's answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Response {
    /// Indices of the choices picked (single or multiple choice).
    Choices(Vec<usize>),
    /// A number.
    Number(f64),
    /// Free text.
    Text(String),
}

/// Feedback on one choice after grading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceGrade {
    /// Whether the learner picked it.
    pub picked: bool,
    /// Whether it is a right answer.
    pub correct: bool,
    /// The author's explanation.
    pub explain: String,
}

/// The result of grading one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// Whether the answer as a whole is right.
    pub correct: bool,
    /// Per-choice feedback (choice questions only).
    pub choices: Vec<ChoiceGrade>,
    /// The right answer, spelled out (numeric and text questions).
    pub expected: Option<String>,
    /// The author's explanation (numeric and text questions).
    pub explain: Option<String>,
}

impl Question {
    /// Grades a response. A response of the wrong shape is simply wrong.
    pub fn grade(&self, response: &Response) -> Grade {
        self.grade_with(response, &|pattern, text| {
            full_match(pattern, text).unwrap_or(false)
        })
    }

    /// [`Question::grade`] with `matches(pattern, text)` deciding whether
    /// a text answer matches its whole `accept` pattern. The browser passes
    /// its own `RegExp` (a regex engine it need not download); patterns are
    /// kept to a subset both read alike ([`portable_pattern`]).
    pub fn grade_with(&self, response: &Response, matches: &dyn Fn(&str, &str) -> bool) -> Grade {
        match (&self.kind, response) {
            (QuestionKind::Single { choices } | QuestionKind::Multiple { choices }, resp) => {
                let picked: &[usize] = match resp {
                    Response::Choices(p) => p,
                    _ => &[],
                };
                let is_single = matches!(self.kind, QuestionKind::Single { .. });
                let grades: Vec<ChoiceGrade> = choices
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ChoiceGrade {
                        picked: picked.contains(&i),
                        correct: c.correct,
                        explain: c.explain.clone(),
                    })
                    .collect();
                let in_range = picked.iter().all(|&i| i < choices.len());
                let exact = grades.iter().all(|g| g.picked == g.correct);
                let correct = in_range && exact && (!is_single || picked.len() == 1);
                Grade {
                    correct,
                    choices: grades,
                    expected: None,
                    explain: None,
                }
            }
            (
                QuestionKind::Numeric {
                    answer,
                    tolerance,
                    unit,
                    explain,
                },
                resp,
            ) => {
                let correct = match resp {
                    Response::Number(x) => x.is_finite() && (x - answer).abs() <= tolerance + 1e-9,
                    Response::Text(t) => t
                        .trim()
                        .parse::<f64>()
                        .is_ok_and(|x| (x - answer).abs() <= tolerance + 1e-9),
                    Response::Choices(_) => false,
                };
                let mut expected = format_number(*answer);
                if *tolerance > 0.0 {
                    expected.push_str(&format!(" ± {}", format_number(*tolerance)));
                }
                if let Some(unit) = unit {
                    expected.push(' ');
                    expected.push_str(unit);
                }
                Grade {
                    correct,
                    choices: Vec::new(),
                    expected: Some(expected),
                    explain: Some(explain.clone()),
                }
            }
            (
                QuestionKind::Text {
                    accept,
                    answer,
                    explain,
                },
                resp,
            ) => {
                let correct = match resp {
                    Response::Text(t) => matches(accept, t.trim()),
                    Response::Number(x) => matches(accept, &format_number(*x)),
                    Response::Choices(_) => false,
                };
                Grade {
                    correct,
                    choices: Vec::new(),
                    expected: Some(answer.clone()),
                    explain: Some(explain.clone()),
                }
            }
        }
    }

    /// Number of choices, for choice questions.
    pub fn choices(&self) -> &[Choice] {
        match &self.kind {
            QuestionKind::Single { choices } | QuestionKind::Multiple { choices } => choices,
            _ => &[],
        }
    }
}

/// Matches `pattern` against the whole of `text`.
fn full_match(pattern: &str, text: &str) -> Result<bool, regex_lite::Error> {
    let re = regex_lite::Regex::new(&format!("^(?:{pattern})$"))?;
    Ok(re.is_match(text))
}

/// A pattern's case-insensitivity (a leading `(?i)`) and the rest.
pub fn split_case_flag(pattern: &str) -> (bool, &str) {
    match pattern.strip_prefix("(?i)") {
        Some(rest) => (true, rest),
        None => (false, pattern),
    }
}

/// Checks that an `accept` pattern stays in the part of regex syntax that
/// regex-lite (the terminal) and JavaScript's `RegExp` with the `u` flag
/// (the browser) read alike: literals, `.`, classes, `\d \w \s`, groups,
/// alternation, repetition, anchors, and a leading `(?i)`.
pub fn portable_pattern(pattern: &str) -> Result<(), String> {
    let (_, rest) = split_case_flag(pattern);
    let unsupported = [
        (
            "(?",
            "inline flags or named groups other than a leading `(?i)`",
        ),
        ("[:", "POSIX classes like `[[:alpha:]]`"),
        ("\\p", "Unicode classes `\\p{..}`"),
        ("\\P", "Unicode classes `\\P{..}`"),
        ("\\A", "`\\A`"),
        ("\\z", "`\\z`"),
        ("\\x{", "`\\x{..}`"),
    ];
    let rest = rest.replace("(?:", "");
    let found = unsupported
        .iter()
        .find(|(needle, _)| rest.contains(needle))
        .map(|(_, what)| *what)
        .or_else(|| class_set_operation(&rest));
    match found {
        Some(what) => Err(format!(
            "{what}: browsers read them differently or not at all"
        )),
        None => Ok(()),
    }
}

/// `&&`, `--` or `~~` inside a character class (set operations in
/// regex-lite's eyes, literals in a browser's), or an escape a browser's
/// `u`-mode `RegExp` refuses (it escapes only syntax characters).
fn class_set_operation(pattern: &str) -> Option<&'static str> {
    let mut in_class = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if "dDwWsSbBnrtfv^$\\.*+?()[]{}|/".contains(e) => {}
                Some('-') if in_class => {}
                _ => {
                    return Some("an escape other than `\\d \\w \\s \\b` or of a syntax character");
                }
            },
            '[' => in_class = true,
            ']' => in_class = false,
            '&' | '-' | '~' if in_class && chars.peek() == Some(&c) => {
                return Some("set operations (`&&`, `--`, `~~`) in a class");
            }
            _ => {}
        }
    }
    None
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A quiz question as authored: every field optional, so we can say
/// precisely which one is missing for which kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    kind: String,
    prompt: Option<String>,
    choices: Option<Vec<RawChoice>>,
    answer: Option<RawAnswer>,
    tolerance: Option<f64>,
    unit: Option<String>,
    accept: Option<String>,
    explain: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    text: String,
    #[serde(default)]
    correct: bool,
    #[serde(default)]
    explain: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAnswer {
    Number(f64),
    Text(String),
}

const QUIZ_HELP: &str = "see docs/lesson-format.md, section \"Quiz questions\"";

/// Parses one ```quiz block (TOML at file offset `at`), reporting problems.
pub(crate) fn parse_question(text: &str, at: usize, diags: &mut FileDiags<'_>) -> Option<Question> {
    let raw: RawQuestion = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            diags.toml_error(at, "quiz question", &e, Some(QUIZ_HELP));
            return None;
        }
    };
    let errors_before = diags.out.len();
    let present = [
        ("choices", raw.choices.is_some()),
        ("answer", raw.answer.is_some()),
        ("tolerance", raw.tolerance.is_some()),
        ("unit", raw.unit.is_some()),
        ("accept", raw.accept.is_some()),
        ("explain", raw.explain.is_some()),
    ];
    let allowed: &[&str] = match raw.kind.as_str() {
        "single" | "multiple" => &["choices"],
        "numeric" => &["answer", "tolerance", "unit", "explain"],
        "text" => &["answer", "accept", "explain"],
        _ => &[
            "choices",
            "answer",
            "tolerance",
            "unit",
            "accept",
            "explain",
        ],
    };
    for (field, _) in present.iter().filter(|(f, p)| *p && !allowed.contains(f)) {
        diags.error(
            at,
            format!("`{field}` does not belong in a `{}` question", raw.kind),
            Some("choice questions explain each [[choices]] entry; numeric and text questions have one explain"),
        );
    }
    let prompt = raw.prompt.unwrap_or_default();
    if prompt.trim().is_empty() {
        diags.error(
            at,
            "quiz question has no `prompt`",
            Some("add prompt = \"...\""),
        );
    }
    let needs_explain = |diags: &mut FileDiags<'_>, explain: &Option<String>| {
        if explain.as_deref().is_none_or(|e| e.trim().is_empty()) {
            diags.error(
                at,
                "quiz answer has an empty explanation",
                Some("add explain = \"why this is the answer\""),
            );
        }
    };
    let kind = match raw.kind.as_str() {
        "single" | "multiple" => {
            let choices = raw.choices.unwrap_or_default();
            if choices.len() < 2 {
                diags.error(
                    at,
                    "a choice question needs at least two [[choices]]",
                    Some(QUIZ_HELP),
                );
            }
            for (i, c) in choices.iter().enumerate() {
                if c.explain.trim().is_empty() {
                    diags.error(
                        at,
                        format!("choice {} (\"{}\") has an empty explanation", i + 1, c.text),
                        Some("every choice says why it is right or wrong: add explain = \"...\""),
                    );
                }
            }
            let correct = choices.iter().filter(|c| c.correct).count();
            let choices: Vec<Choice> = choices
                .into_iter()
                .map(|c| Choice {
                    text: c.text,
                    correct: c.correct,
                    explain: c.explain,
                })
                .collect();
            if raw.kind == "single" {
                if correct != 1 {
                    let what = if correct == 0 {
                        "no correct answer"
                    } else {
                        "more than one correct answer"
                    };
                    diags.error(
                        at,
                        format!(
                            "single-choice question has {what} ({correct} marked correct = true)"
                        ),
                        Some("mark exactly one choice correct = true, or use kind = \"multiple\""),
                    );
                }
                QuestionKind::Single { choices }
            } else {
                if correct == 0 {
                    diags.error(
                        at,
                        "multiple-choice question has no correct answer",
                        Some("mark at least one choice correct = true"),
                    );
                }
                QuestionKind::Multiple { choices }
            }
        }
        "numeric" => {
            needs_explain(diags, &raw.explain);
            let answer = match raw.answer {
                Some(RawAnswer::Number(n)) => n,
                _ => {
                    diags.error(
                        at,
                        "numeric question needs a number `answer`",
                        Some("add answer = 42"),
                    );
                    0.0
                }
            };
            let tolerance = raw.tolerance.unwrap_or(0.0);
            if tolerance < 0.0 {
                diags.error(at, "`tolerance` must not be negative", None);
            }
            QuestionKind::Numeric {
                answer,
                tolerance,
                unit: raw.unit,
                explain: raw.explain.unwrap_or_default(),
            }
        }
        "text" => {
            needs_explain(diags, &raw.explain);
            let answer = match raw.answer {
                Some(RawAnswer::Text(t)) => t,
                Some(RawAnswer::Number(n)) => format_number(n),
                None => {
                    diags.error(
                        at,
                        "text question needs an `answer` (the canonical form shown after grading)",
                        None,
                    );
                    String::new()
                }
            };
            let accept = match raw.accept {
                Some(a) => a,
                None => {
                    diags.error(
                        at,
                        "text question needs an `accept` pattern",
                        Some("add accept = '(?i)^syn[-_ ]?sent$' (a TOML literal string keeps backslashes)"),
                    );
                    String::new()
                }
            };
            match full_match(&accept, &answer) {
                Err(e) => diags.error(
                    at,
                    format!("`accept` is not a valid regular expression: {e}"),
                    None,
                ),
                Ok(false) if !answer.is_empty() => diags.error(
                    at,
                    format!("`accept` does not match the question's own answer \"{answer}\""),
                    Some("the whole trimmed answer must match the pattern"),
                ),
                Ok(_) => {
                    if let Err(why) = portable_pattern(&accept) {
                        diags.error(
                            at,
                            format!("`accept` uses {why}"),
                            Some("keep to literals, classes, groups, alternation, repetition, anchors and a leading (?i)"),
                        );
                    }
                }
            }
            QuestionKind::Text {
                accept,
                answer,
                explain: raw.explain.unwrap_or_default(),
            }
        }
        other => {
            diags.error(
                at,
                format!("unknown quiz kind `{other}`"),
                Some("use kind = \"single\", \"multiple\", \"numeric\" or \"text\""),
            );
            return None;
        }
    };
    (diags.out.len() == errors_before).then_some(Question { prompt, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;

    fn parse(src: &str) -> (Option<Question>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let q = {
            let mut d = FileDiags::new("q.md", src, &mut out);
            parse_question(src, 0, &mut d)
        };
        (q, out)
    }

    const SINGLE: &str = r#"
kind = "single"
prompt = "p"
[[choices]]
text = "a"
explain = "no"
[[choices]]
text = "b"
correct = true
explain = "yes"
"#;

    #[test]
    fn single_choice_grades_with_per_choice_explanations() {
        let (q, d) = parse(SINGLE);
        assert!(d.is_empty(), "{d:?}");
        let q = q.unwrap();
        let g = q.grade(&Response::Choices(vec![1]));
        assert!(g.correct);
        assert_eq!(g.choices[0].explain, "no");
        assert!(!g.choices[0].picked && g.choices[1].picked && g.choices[1].correct);
        assert!(!q.grade(&Response::Choices(vec![0])).correct);
        assert!(!q.grade(&Response::Choices(vec![0, 1])).correct);
        assert!(!q.grade(&Response::Choices(vec![7])).correct);
        assert!(!q.grade(&Response::Text("b".into())).correct);
    }

    #[test]
    fn multiple_choice_needs_exactly_the_correct_set() {
        let src = SINGLE
            .replace("single", "multiple")
            .replace("text = \"a\"", "text = \"a\"\ncorrect = true");
        let (q, d) = parse(&src);
        assert!(d.is_empty(), "{d:?}");
        let q = q.unwrap();
        assert!(q.grade(&Response::Choices(vec![1, 0])).correct);
        assert!(!q.grade(&Response::Choices(vec![1])).correct);
    }

    #[test]
    fn accept_patterns_keep_to_what_browsers_read_alike() {
        for ok in [
            "(?i)^syn[-_ ]?sent$",
            "(?:a|b)c",
            r"(?i)^\s*kubernetes\.io/service-name\s*=\s*web\s*$",
            r"\d{2,3}",
            r"(?i)^\s*(-I|--insert)\s*$",
            r"[\-a]\$\(x\)",
        ] {
            assert_eq!(portable_pattern(ok), Ok(()), "{ok}");
        }
        for (bad, needle) in [
            ("(?P<x>a)", "named groups"),
            ("a(?i)b", "inline flags"),
            ("(?s).", "inline flags"),
            ("[[:alpha:]]", "POSIX"),
            (r"\p{Greek}", "Unicode"),
            (r"\Aabc\z", "A"),
            ("[a-z&&[^x]]", "set operations"),
            ("[a--b]", "set operations"),
            (r"a\-b", "escape"),
            (r"\_", "escape"),
        ] {
            let err = portable_pattern(bad).expect_err(bad);
            assert!(err.contains(needle), "{bad}: {err}");
        }
        assert_eq!(split_case_flag("(?i)^a$"), (true, "^a$"));
        assert_eq!(split_case_flag("^a$"), (false, "^a$"));
    }

    #[test]
    fn grade_with_uses_the_given_pattern_engine() {
        let q = Question {
            prompt: "state?".into(),
            kind: QuestionKind::Text {
                accept: "(?i)syn[-_ ]?sent".into(),
                answer: "SYN-SENT".into(),
                explain: "x".into(),
            },
        };
        let typed = Response::Text(" syn sent ".into());
        assert!(q.grade(&typed).correct);
        let seen = std::cell::RefCell::new(Vec::new());
        let g = q.grade_with(&typed, &|p, t| {
            seen.borrow_mut().push((p.to_string(), t.to_string()));
            false
        });
        assert!(!g.correct, "the engine decides");
        assert_eq!(
            seen.into_inner(),
            vec![("(?i)syn[-_ ]?sent".to_string(), "syn sent".to_string())]
        );
    }

    #[test]
    fn numeric_accepts_within_tolerance_and_text_input() {
        let (q, d) = parse(
            "kind='numeric'\nprompt='ttl?'\nanswer=62\ntolerance=1\nunit='hops'\nexplain='64-2'",
        );
        assert!(d.is_empty(), "{d:?}");
        let q = q.unwrap();
        assert!(q.grade(&Response::Number(63.0)).correct);
        assert!(q.grade(&Response::Text(" 61 ".into())).correct);
        assert!(!q.grade(&Response::Number(64.0)).correct);
        assert!(!q.grade(&Response::Number(f64::NAN)).correct);
        assert_eq!(
            q.grade(&Response::Number(1.0)).expected.as_deref(),
            Some("62 ± 1 hops")
        );
    }

    #[test]
    fn text_matches_the_whole_trimmed_answer() {
        let (q, d) = parse(
            "kind='text'\nprompt='state?'\naccept='(?i)syn[-_ ]?sent'\nanswer='SYN-SENT'\nexplain='x'",
        );
        assert!(d.is_empty(), "{d:?}");
        let q = q.unwrap();
        assert!(q.grade(&Response::Text("  syn_sent ".into())).correct);
        assert!(!q.grade(&Response::Text("not syn-sent".into())).correct);
    }

    #[test]
    fn authoring_mistakes_are_reported() {
        let cases = [
            (SINGLE.replace("correct = true", ""), "no correct answer"),
            (
                SINGLE.replace("text = \"a\"", "text = \"a\"\ncorrect = true"),
                "more than one correct answer",
            ),
            (SINGLE.replace("explain = \"no\"", ""), "empty explanation"),
            (
                "kind='numeric'\nprompt='p'\nanswer=1\n".to_string(),
                "empty explanation",
            ),
            (
                "kind='text'\nprompt='p'\naccept='a'\nanswer='b'\nexplain='e'".to_string(),
                "does not match",
            ),
            (
                "kind='text'\nprompt='p'\naccept='('\nanswer='b'\nexplain='e'".to_string(),
                "not a valid regular",
            ),
            ("kind='essay'\nprompt='p'".to_string(), "unknown quiz kind"),
            (
                SINGLE.replace("prompt = \"p\"", "prompt = \"p\"\nanswer = 3"),
                "does not belong",
            ),
            (
                "kind='single'\nprompt='p'\ncolour=1".to_string(),
                "unknown field",
            ),
            ("kind='single'\nprompt=".to_string(), "quiz question"),
        ];
        for (src, want) in cases {
            let (q, d) = parse(&src);
            assert!(q.is_none(), "{src}");
            assert!(
                d.iter().any(|d| d.message.contains(want)),
                "{src}\nwanted {want}, got {d:?}"
            );
        }
    }
}
