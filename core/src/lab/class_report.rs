//! A whole class's results: learners × labs × steps, each step with its
//! latest result and how many attempts led there, and the exports an
//! instructor takes away (CSV per step, CSV per learner, JSON, JUnit XML).
//!
//! Pure: the server's gradebook reads the history and hands it to
//! [`ClassReport::build`]; CSV quoting and JUnit failures are the ones
//! [`LabReport`](super::LabReport) uses.

use super::Lab;
use super::report::{StepResult, csv_text, failure_status};
use serde::{Deserialize, Serialize};

/// Version of the class report's JSON.
pub const CLASS_REPORT_VERSION: u32 = 1;

/// What the record holds of one learner's attempts at one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepHistory {
    /// Attempts recorded (check runs of this step).
    pub attempts: u32,
    /// When it was first checked (milliseconds since the Unix epoch).
    pub first_checked_ms: u64,
    /// When it was last checked.
    pub last_checked_ms: u64,
    /// The last attempt's result.
    pub latest: StepResult,
}

/// A class's results, learners in the order given, labs and steps in the
/// labs' order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassReport {
    /// Format version ([`CLASS_REPORT_VERSION`]).
    pub version: u32,
    /// One entry per learner.
    pub learners: Vec<LearnerResults>,
}

/// One learner's results on every lab of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerResults {
    /// The server's id for them.
    pub id: String,
    /// Their display name.
    pub name: String,
    /// Per lab, in the report's order.
    pub labs: Vec<LabResults>,
    /// Quizzes answered on the server, by lesson id.
    #[serde(default)]
    pub quizzes: Vec<QuizResults>,
    /// Lessons read (as the learner's browser reported them).
    #[serde(default)]
    pub lessons_read: u32,
}

/// One learner's answers to one lesson's quiz, as the server graded them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizResults {
    /// Lesson id.
    pub lesson: String,
    /// Questions answered at least once.
    pub answered: u32,
    /// Questions whose latest answer was right.
    pub right: u32,
    /// Answers sent, retries included.
    pub answers: u32,
}

/// One learner's results on one lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabResults {
    /// Lab id.
    pub lab: String,
    /// Lab title.
    pub title: String,
    /// Every step of the lab, checked or not.
    pub steps: Vec<StepRecord>,
}

/// One learner's standing on one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based step number.
    pub step: usize,
    /// Step title (the lab's, as built).
    pub title: String,
    /// Whether the latest attempt passed.
    pub passed: bool,
    /// Attempts recorded (0: never checked).
    pub attempts: u32,
    /// First attempt (ms since the Unix epoch), if any.
    pub first_checked_ms: Option<u64>,
    /// Latest attempt, if any.
    pub last_checked_ms: Option<u64>,
    /// Points of the latest attempt.
    pub points: u32,
    /// Points the step is worth (its checks' points, from the lab).
    pub max_points: u32,
    /// The latest attempt's full result (checks, messages, mismatches,
    /// evidence), if any.
    pub latest: Option<StepResult>,
}

/// The files an instructor takes away: what `layerlab workshop export`
/// writes and the dashboard downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per learner × step ([`ClassReport::to_csv`]).
    Csv,
    /// One row per learner ([`ClassReport::to_summary_csv`]).
    SummaryCsv,
    /// The whole report ([`ClassReport::to_json`]).
    Json,
    /// JUnit XML ([`ClassReport::to_junit`]).
    Junit,
}

impl ExportFormat {
    /// Every format, with the name it goes by (`csv`, `summary-csv`, …).
    pub const ALL: [(&'static str, ExportFormat); 4] = [
        ("csv", ExportFormat::Csv),
        ("summary-csv", ExportFormat::SummaryCsv),
        ("json", ExportFormat::Json),
        ("junit", ExportFormat::Junit),
    ];

    /// The format named `name`, if any.
    pub fn parse(name: &str) -> Option<ExportFormat> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// Its MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::SummaryCsv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
            ExportFormat::Junit => "application/xml",
        }
    }

    /// Its usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::SummaryCsv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Junit => "xml",
        }
    }
}

impl ClassReport {
    /// The report as a file of `format` (JSON ends with a newline).
    pub fn export(&self, format: ExportFormat) -> String {
        match format {
            ExportFormat::Csv => self.to_csv(),
            ExportFormat::SummaryCsv => self.to_summary_csv(),
            ExportFormat::Json => self.to_json() + "\n",
            ExportFormat::Junit => self.to_junit(),
        }
    }

    /// The report of `labs` for `learners` (id, name), asking `history`
    /// for what is recorded of each learner × lab id × step (1-based).
    pub fn build<L>(
        labs: &[Lab],
        learners: L,
        mut history: impl FnMut(&str, &str, usize) -> Option<StepHistory>,
    ) -> ClassReport
    where
        L: IntoIterator<Item = (String, String)>,
    {
        let learners = learners
            .into_iter()
            .map(|(id, name)| {
                let labs = labs
                    .iter()
                    .map(|lab| LabResults {
                        lab: lab.id.clone(),
                        title: lab.title.clone(),
                        steps: lab
                            .steps
                            .iter()
                            .enumerate()
                            .map(|(i, s)| {
                                let max_points = s.checks.iter().map(|c| c.points).sum();
                                let h = history(&id, &lab.id, i + 1);
                                StepRecord {
                                    step: i + 1,
                                    title: s.title.clone(),
                                    passed: h.as_ref().is_some_and(|h| h.latest.passed),
                                    attempts: h.as_ref().map_or(0, |h| h.attempts),
                                    first_checked_ms: h.as_ref().map(|h| h.first_checked_ms),
                                    last_checked_ms: h.as_ref().map(|h| h.last_checked_ms),
                                    points: h.as_ref().map_or(0, |h| h.latest.points()),
                                    max_points,
                                    latest: h.map(|h| h.latest),
                                }
                            })
                            .collect(),
                    })
                    .collect();
                LearnerResults {
                    id,
                    name,
                    labs,
                    quizzes: Vec::new(),
                    lessons_read: 0,
                }
            })
            .collect();
        ClassReport {
            version: CLASS_REPORT_VERSION,
            learners,
        }
    }

    /// Pretty JSON, every step with its latest full result.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a class report serializes")
    }

    /// CSV, one row per learner × step (never-checked steps included, with
    /// 0 attempts and empty times).
    pub fn to_csv(&self) -> String {
        let rows = self.learners.iter().flat_map(|l| {
            l.labs.iter().flat_map(move |lab| {
                lab.steps.iter().map(move |s| {
                    vec![
                        l.id.clone(),
                        l.name.clone(),
                        lab.lab.clone(),
                        s.step.to_string(),
                        s.title.clone(),
                        s.passed.to_string(),
                        s.attempts.to_string(),
                        s.first_checked_ms.map(rfc3339).unwrap_or_default(),
                        s.last_checked_ms.map(rfc3339).unwrap_or_default(),
                        s.points.to_string(),
                        s.max_points.to_string(),
                    ]
                })
            })
        });
        csv_text(
            &[
                "learner",
                "name",
                "lab",
                "step",
                "step_title",
                "passed",
                "attempts",
                "first_checked",
                "last_checked",
                "points",
                "max_points",
            ],
            rows,
        )
    }

    /// CSV, one row per learner: steps passed of all steps in the report,
    /// points of points available, attempts made; quiz questions answered
    /// right (latest answer) of those answered; lessons read.
    pub fn to_summary_csv(&self) -> String {
        let rows = self.learners.iter().map(|l| {
            let steps = || l.labs.iter().flat_map(|lab| &lab.steps);
            vec![
                l.id.clone(),
                l.name.clone(),
                steps().filter(|s| s.passed).count().to_string(),
                steps().count().to_string(),
                steps().map(|s| s.points).sum::<u32>().to_string(),
                steps().map(|s| s.max_points).sum::<u32>().to_string(),
                steps().map(|s| s.attempts).sum::<u32>().to_string(),
                l.quizzes.iter().map(|q| q.right).sum::<u32>().to_string(),
                l.quizzes
                    .iter()
                    .map(|q| q.answered)
                    .sum::<u32>()
                    .to_string(),
                l.lessons_read.to_string(),
            ]
        });
        csv_text(
            &[
                "learner",
                "name",
                "steps_passed",
                "steps_total",
                "points",
                "max_points",
                "attempts",
                "quiz_right",
                "quiz_answered",
                "lessons_read",
            ],
            rows,
        )
    }

    /// JUnit XML: a test suite per learner × lab, a test case per step.
    /// A failed step carries the last failing check of its latest attempt
    /// (message, expected vs observed, hint); a step never checked is
    /// skipped.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new("layerlab class");
        for l in &self.learners {
            for lab in &l.labs {
                let mut suite = TestSuite::new(format!("{} ({}): {}", l.name, l.id, lab.lab));
                for s in &lab.steps {
                    let status = match &s.latest {
                        None => {
                            let mut st = TestCaseStatus::skipped();
                            st.set_message("not checked");
                            st
                        }
                        Some(r) if r.passed => TestCaseStatus::success(),
                        Some(r) => match r.checks.iter().rev().find(|c| !c.passed) {
                            Some(c) => failure_status(c),
                            // Failed with no failing check: a run that
                            // stopped before deciding any.
                            None => {
                                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                                st.set_message("no check decided");
                                st
                            }
                        },
                    };
                    let mut case = TestCase::new(format!("{}. {}", s.step, s.title), status);
                    case.set_classname(format!("{}.{}", l.id, lab.lab));
                    if let Some(r) = &s.latest {
                        case.set_time(std::time::Duration::from_millis(
                            r.checks.iter().map(|c| c.duration_ms).sum(),
                        ));
                    }
                    case.set_system_out(format!(
                        "attempts: {}, points: {}/{}",
                        s.attempts, s.points, s.max_points
                    ));
                    suite.add_test_case(case);
                }
                report.add_test_suite(suite);
            }
        }
        report.to_string().unwrap_or_default()
    }
}

/// Milliseconds since the epoch as RFC 3339 UTC (what spreadsheets read).
fn rfc3339(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(|| ms.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFile;
    use crate::lab::{CheckResult, Mismatch, load_labs};

    const LAB: &str = r#"
id: veth
title: Veth pair
chapter: linux
needs: sandbox
summary: Wire two namespaces.
steps:
  - title: Wire, "quoted"
    instructions: Make a pair.
    solution: [ip netns add client, ip netns add server]
    checks:
      - title: veth-c is up
        points: 2
        namespace: { name: client }
      - title: veth-s is up
        namespace: { name: server }
  - title: Ping
    instructions: Ping it.
    solution: [ip netns add client]
    checks:
      - title: ping works
        host: { run: "ip netns list", expect: { stdout: client } }
"#;

    fn lab() -> Lab {
        let chapters = ["linux".to_string()].into_iter().collect();
        let loaded = load_labs(
            &[SourceFile {
                path: "veth.yaml",
                text: LAB,
            }],
            &chapters,
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.labs.into_iter().next().unwrap()
    }

    fn check(title: &str, passed: bool, points: u32) -> CheckResult {
        CheckResult {
            title: title.into(),
            kind: "interface".into(),
            passed,
            points: if passed { points } else { 0 },
            max_points: points,
            attempts: 1,
            duration_ms: 40,
            message: if passed {
                "ok".into()
            } else {
                format!("{title}: <down> & \"off\"")
            },
            mismatches: if passed {
                vec![]
            } else {
                vec![Mismatch::new("state", "UP", "DOWN")]
            },
            evidence: "veth-c DOWN".into(),
            hint: None,
        }
    }

    fn report() -> ClassReport {
        let lab = lab();
        ClassReport::build(
            std::slice::from_ref(&lab),
            [
                ("l-1".to_string(), "Ada, \"the\" first".to_string()),
                ("l-2".to_string(), "Bo".to_string()),
            ],
            |learner, lab, step| {
                assert_eq!(lab, "veth");
                match (learner, step) {
                    ("l-1", 1) => Some(StepHistory {
                        attempts: 3,
                        first_checked_ms: 1_765_000_000_000,
                        last_checked_ms: 1_765_000_090_500,
                        latest: StepResult {
                            step: 1,
                            title: "Wire, \"quoted\"".into(),
                            passed: true,
                            checked_at_ms: 1_765_000_090_500,
                            checks: vec![
                                check("veth-c is up", true, 2),
                                check("veth-s is up", true, 1),
                            ],
                        },
                    }),
                    ("l-2", 1) => Some(StepHistory {
                        attempts: 1,
                        first_checked_ms: 1_765_000_010_000,
                        last_checked_ms: 1_765_000_010_000,
                        latest: StepResult {
                            step: 1,
                            title: "Wire, \"quoted\"".into(),
                            passed: false,
                            checked_at_ms: 1_765_000_010_000,
                            checks: vec![
                                check("veth-c is up", false, 2),
                                check("veth-s is up", false, 1),
                            ],
                        },
                    }),
                    _ => None,
                }
            },
        )
    }

    #[test]
    fn csv_has_a_row_per_learner_and_step() {
        assert_eq!(
            report().to_csv(),
            "learner,name,lab,step,step_title,passed,attempts,first_checked,last_checked,points,max_points\n\
             l-1,\"Ada, \"\"the\"\" first\",veth,1,\"Wire, \"\"quoted\"\"\",true,3,2025-12-06T05:46:40Z,2025-12-06T05:48:10.5Z,3,3\n\
             l-1,\"Ada, \"\"the\"\" first\",veth,2,Ping,false,0,,,0,1\n\
             l-2,Bo,veth,1,\"Wire, \"\"quoted\"\"\",false,1,2025-12-06T05:46:50Z,2025-12-06T05:46:50Z,0,3\n\
             l-2,Bo,veth,2,Ping,false,0,,,0,1\n"
        );
    }

    #[test]
    fn summary_csv_has_a_row_per_learner() {
        let mut r = report();
        r.learners[0].quizzes = vec![
            QuizResults {
                lesson: "tcp".into(),
                answered: 3,
                right: 2,
                answers: 5,
            },
            QuizResults {
                lesson: "udp".into(),
                answered: 1,
                right: 1,
                answers: 1,
            },
        ];
        r.learners[0].lessons_read = 4;
        assert_eq!(
            r.to_summary_csv(),
            "learner,name,steps_passed,steps_total,points,max_points,attempts,quiz_right,quiz_answered,lessons_read\n\
             l-1,\"Ada, \"\"the\"\" first\",1,2,3,4,3,3,4,4\n\
             l-2,Bo,0,2,0,4,1,0,0,0\n"
        );
    }

    #[test]
    fn json_round_trips_with_the_evidence() {
        let r = report();
        let json = r.to_json();
        let back: ClassReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let failed = &v["learners"][1]["labs"][0]["steps"][0];
        assert_eq!(failed["attempts"], 1);
        assert_eq!(
            failed["latest"]["checks"][0]["mismatches"][0]["observed"],
            "DOWN"
        );
        assert_eq!(
            v["learners"][0]["labs"][0]["steps"][1]["latest"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn junit_has_a_suite_per_learner_and_lab_and_the_last_failure() {
        let xml = report().to_junit();
        insta::assert_snapshot!(xml);
    }
}
