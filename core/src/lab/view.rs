//! What a learner may see of a lab before doing it: the steps, their
//! instructions, hints and solutions, but not the expected answers (those
//! stay with whoever runs the checks). The web API sends it; the browser app
//! reads it with this same type.

use super::spec::{CheckKind, Hint, Lab, Needs};
use crate::doc::Document;
use serde::{Deserialize, Serialize};

/// A lab as shown to a learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabView {
    /// Lab id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Chapter id.
    pub chapter: String,
    /// Where it runs.
    pub needs: Needs,
    /// One or two sentences.
    pub summary: String,
    /// Steps, in order.
    pub steps: Vec<StepView>,
}

/// One step as shown to a learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    /// Title.
    pub title: String,
    /// Instructions in the document model.
    pub document: Document,
    /// Hints, each unlocked after some failed checks.
    pub hints: Vec<Hint>,
    /// Commands that solve the step (shown on request).
    pub solution: Vec<String>,
    /// What will be checked.
    pub checks: Vec<CheckView>,
    /// The question to answer, for prediction steps.
    pub question: Option<String>,
}

/// One check as listed before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    /// Title.
    pub title: String,
    /// Kind name (`interface`, `capture`...).
    pub kind: String,
    /// Points it is worth.
    pub points: u32,
}

impl LabView {
    /// The learner's view of `lab`.
    pub fn of(lab: &Lab) -> LabView {
        LabView {
            id: lab.id.clone(),
            title: lab.title.clone(),
            chapter: lab.chapter.clone(),
            needs: lab.needs,
            summary: lab.summary.clone(),
            steps: lab
                .steps
                .iter()
                .map(|s| StepView {
                    title: s.title.clone(),
                    document: s.document.clone(),
                    hints: s.hints.clone(),
                    solution: s.solution.clone(),
                    checks: s
                        .checks
                        .iter()
                        .map(|c| CheckView {
                            title: c.title.clone(),
                            kind: c.kind.name().to_string(),
                            points: c.points,
                        })
                        .collect(),
                    question: s.checks.iter().find_map(|c| match &c.kind {
                        CheckKind::Answer(a) => Some(a.prompt.clone()),
                        _ => None,
                    }),
                })
                .collect(),
        }
    }

    /// Hints of step `index` (0-based) earned after `failed` failed checks.
    pub fn hints_after(&self, index: usize, failed: u32) -> impl Iterator<Item = &Hint> {
        self.steps
            .get(index)
            .into_iter()
            .flat_map(move |s| s.hints.iter().filter(move |h| h.after <= failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = r#"
id: demo
title: Demo
chapter: linux
needs: sandbox
summary: A demo.
steps:
  - title: Make it
    instructions: Run `ip netns add red`.
    solution: [ip netns add red]
    hints:
      - Look at ip netns.
      - after: 2
        text: ip netns add red
    checks:
      - title: red exists
        namespace: { name: red }
  - title: Predict
    instructions: How many?
    solution: ["true"]
    checks:
      - title: your answer
        answer:
          prompt: How many namespaces?
          run: ip netns list | wc -l
          expected: stdout.trim()
"#;

    fn lab() -> Lab {
        let chapters = ["linux".to_string()].into_iter().collect();
        let loaded = crate::lab::load_labs(
            &[crate::SourceFile {
                path: "demo.yaml",
                text: LAB,
            }],
            &chapters,
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.labs.into_iter().next().expect("one lab")
    }

    #[test]
    fn the_view_keeps_what_a_learner_sees_and_hides_expected_answers() {
        let view = LabView::of(&lab());
        assert_eq!(view.steps.len(), 2);
        assert_eq!(view.steps[0].solution, vec!["ip netns add red"]);
        assert_eq!(view.steps[0].checks[0].kind, "namespace");
        assert_eq!(view.steps[0].question, None);
        assert_eq!(
            view.steps[1].question.as_deref(),
            Some("How many namespaces?")
        );
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("wc -l"), "the probe leaked: {json}");
        assert!(!json.contains("stdout.trim"), "the expected answer leaked");
        let back: LabView = serde_json::from_str(&json).unwrap();
        assert_eq!(back, view);
    }

    #[test]
    fn hints_unlock_with_failures() {
        let view = LabView::of(&lab());
        assert_eq!(view.hints_after(0, 0).count(), 1);
        assert_eq!(view.hints_after(0, 2).count(), 2);
        assert_eq!(view.hints_after(9, 2).count(), 0);
    }
}
