//! Results of running a lab's checks, and the reports instructors grade
//! from: canonical JSON, JUnit XML and CSV.

use super::matching::Mismatch;
use serde::{Deserialize, Serialize};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's title.
    pub title: String,
    /// Its kind (`interface`, `capture`...).
    pub kind: String,
    /// Whether it passed.
    pub passed: bool,
    /// Points earned (0 unless passed).
    pub points: u32,
    /// Points available.
    pub max_points: u32,
    /// Observations made before the verdict.
    pub attempts: u32,
    /// Wall time spent, in milliseconds.
    pub duration_ms: u64,
    /// What holds, or what is wrong.
    pub message: String,
    /// Expected vs observed, field by field.
    pub mismatches: Vec<Mismatch>,
    /// What decided it.
    pub evidence: String,
    /// The author's hint, on failure.
    pub hint: Option<String>,
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    /// 1-based step number.
    pub step: usize,
    /// Step title.
    pub title: String,
    /// All its checks passed.
    pub passed: bool,
    /// When it was checked (milliseconds since the Unix epoch).
    pub checked_at_ms: u64,
    /// Per check.
    pub checks: Vec<CheckResult>,
}

/// A learner's results on one lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabReport {
    /// Report format version.
    pub version: u32,
    /// Lab id.
    pub lab: String,
    /// Lab title.
    pub title: String,
    /// Who (a name or login; the runner fills in the user).
    pub learner: String,
    /// Steps checked, in order.
    pub steps: Vec<StepResult>,
}

impl LabReport {
    /// The report of `lab` from the results at hand: every step in order,
    /// a step with no result counted as failed with no checks (never run).
    pub fn of(
        lab: &super::Lab,
        learner: impl Into<String>,
        mut result_of: impl FnMut(usize) -> Option<StepResult>,
    ) -> LabReport {
        let steps = lab
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                result_of(i + 1).unwrap_or_else(|| StepResult {
                    step: i + 1,
                    title: s.title.clone(),
                    passed: false,
                    checked_at_ms: 0,
                    checks: Vec::new(),
                })
            })
            .collect();
        LabReport {
            version: 1,
            lab: lab.id.clone(),
            title: lab.title.clone(),
            learner: learner.into(),
            steps,
        }
    }

    /// Points earned.
    pub fn score(&self) -> u32 {
        self.steps.iter().map(StepResult::points).sum()
    }

    /// Points available in the steps checked.
    pub fn max_score(&self) -> u32 {
        self.steps.iter().map(StepResult::max_points).sum()
    }

    /// Canonical JSON (stable field order, pretty-printed).
    pub fn to_json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("a report serializes");
        if let Some(o) = v.as_object_mut() {
            o.insert("score".into(), self.score().into());
            o.insert("max_score".into(), self.max_score().into());
        }
        serde_json::to_string_pretty(&v).expect("a report serializes")
    }

    /// JUnit XML: one test suite per step, one test case per check.
    pub fn to_junit(&self) -> String {
        use quick_junit::{Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new(format!("layerlab lab {}", self.lab));
        for step in &self.steps {
            let mut suite = TestSuite::new(format!("{}. {}", step.step, step.title));
            for c in &step.checks {
                let status = if c.passed {
                    TestCaseStatus::success()
                } else {
                    failure_status(c)
                };
                let mut case = TestCase::new(c.title.clone(), status);
                case.set_classname(format!("{}.{}", self.lab, c.kind));
                case.set_time(std::time::Duration::from_millis(c.duration_ms));
                case.set_system_out(c.evidence.clone());
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        report.to_string().unwrap_or_default()
    }

    /// CSV: one row per check, with a header.
    pub fn to_csv(&self) -> String {
        let rows = self.steps.iter().flat_map(|s| {
            s.checks.iter().map(move |c| {
                vec![
                    self.learner.clone(),
                    self.lab.clone(),
                    s.step.to_string(),
                    s.title.clone(),
                    c.title.clone(),
                    c.kind.clone(),
                    c.passed.to_string(),
                    c.points.to_string(),
                    c.max_points.to_string(),
                    c.attempts.to_string(),
                    c.duration_ms.to_string(),
                    c.message.clone(),
                ]
            })
        });
        csv_text(
            &[
                "learner",
                "lab",
                "step",
                "step_title",
                "check",
                "kind",
                "passed",
                "points",
                "max_points",
                "attempts",
                "duration_ms",
                "message",
            ],
            rows,
        )
    }
}

impl StepResult {
    /// Points earned in this result.
    pub fn points(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }

    /// Points available in the checks run.
    pub fn max_points(&self) -> u32 {
        self.checks.iter().map(|c| c.max_points).sum()
    }
}

/// A CSV document: the header, then the rows, every field quoted as CSV
/// needs (the one writer every report uses).
pub(super) fn csv_text<I, R>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail; a record of the wrong length cannot
    // happen either (every caller builds full rows).
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(row.into_iter().collect::<Vec<_>>());
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A failed check as a JUnit failure: its message, then expected vs
/// observed per field and the hint (XML escaping is quick-junit's).
pub(super) fn failure_status(c: &CheckResult) -> quick_junit::TestCaseStatus {
    use quick_junit::{NonSuccessKind, TestCaseStatus};
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_message(c.message.clone());
    let mut detail = String::new();
    for m in &c.mismatches {
        detail.push_str(&format!(
            "{}: expected {}, observed {}\n",
            m.path, m.expected, m.observed
        ));
    }
    if let Some(h) = &c.hint {
        detail.push_str(&format!("hint: {h}\n"));
    }
    s.set_description(detail);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> LabReport {
        let check = |passed: bool| CheckResult {
            title: "veth-c is up".into(),
            kind: "interface".into(),
            passed,
            points: if passed { 2 } else { 0 },
            max_points: 2,
            attempts: 3,
            duration_ms: 41,
            message: if passed {
                "ok".into()
            } else {
                "`veth-c` in namespace `client` is down, \"really\"".into()
            },
            mismatches: if passed {
                vec![]
            } else {
                vec![Mismatch::new("veth-c.state", "UP", "DOWN")]
            },
            evidence: "client: veth-c (DOWN )".into(),
            hint: Some("ip link set ... up".into()),
        };
        LabReport {
            version: 1,
            lab: "veth".into(),
            title: "Veth".into(),
            learner: "ada".into(),
            steps: vec![StepResult {
                step: 1,
                title: "Wire".into(),
                passed: false,
                checked_at_ms: 1,
                checks: vec![check(true), check(false)],
            }],
        }
    }

    #[test]
    fn reports_carry_score_failures_and_evidence() {
        let r = report();
        assert_eq!((r.score(), r.max_score()), (2, 4));
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["score"], 2);
        assert_eq!(
            json["steps"][0]["checks"][1]["mismatches"][0]["observed"],
            "DOWN"
        );
        let xml = r.to_junit();
        assert!(xml.contains("tests=\"2\""), "{xml}");
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(
            xml.contains("veth-c.state: expected UP, observed DOWN"),
            "{xml}"
        );
        let csv = r.to_csv();
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<_> = rows.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[1][6], "false");
        assert_eq!(
            &rows[1][11],
            "`veth-c` in namespace `client` is down, \"really\""
        );
    }
}
