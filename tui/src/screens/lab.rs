//! The lab screen's state: which step, which pane has the keys, the last
//! check results, hints earned, the solution shown or not, and the answer
//! being typed. The sandbox and the shell are I/O: the runner owns them and
//! reports back with [`LabEvent`]s.

use layerlab_core::lab::{Lab, StepResult};

/// Which pane takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabFocus {
    /// Instructions and checklist: keys drive the lab.
    Steps,
    /// The shell: keys go to the sandbox's bash (Ctrl-O comes back).
    Shell,
    /// Typing an answer to the step's question.
    Answer,
}

/// What happened outside the UI.
#[derive(Debug, Clone)]
pub enum LabEvent {
    /// The sandbox is up (and the shell started).
    Ready,
    /// The sandbox could not start: why.
    Failed(String),
    /// A step was checked.
    Checked(StepResult),
    /// Applying a solution failed.
    SolveFailed(String),
}

/// What the lab asks the runner to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabRequest {
    /// Check a step (0-based), with the learner's answer; `quick` observes
    /// each check once (the live background re-check).
    Check {
        /// Step index.
        step: usize,
        /// The learner's answer, if the step asks a question.
        answer: Option<String>,
        /// Observe once instead of waiting for `eventually`.
        quick: bool,
    },
    /// Apply a step's solution in the sandbox, then check it.
    Solve {
        /// Step index.
        step: usize,
    },
    /// Destroy the sandbox and start a fresh one.
    Reset,
}

/// The lab screen.
#[derive(Debug, Clone)]
pub struct LabScreen {
    /// The lab.
    pub lab: &'static Lab,
    /// Current step (0-based).
    pub step: usize,
    /// Pane with the keys.
    pub focus: LabFocus,
    /// Last result per step.
    pub results: Vec<Option<StepResult>>,
    /// Failed checks per step (hints unlock with them).
    pub failures: Vec<u32>,
    /// Extra hints asked for per step.
    pub hints_asked: Vec<u32>,
    /// Whether the solution of the current step is shown.
    pub show_solution: bool,
    /// Answers per step.
    pub answers: Vec<String>,
    /// A check is running.
    pub checking: bool,
    /// Sandbox state: None while starting, Some(Err) if it failed.
    pub ready: Option<Result<(), String>>,
    /// Instructions scroll offset.
    pub scroll: u16,
    /// Last message for the learner (solution failed, reset done).
    pub note: Option<String>,
}

impl LabScreen {
    /// Opens a lab at its first unfinished step (`passed` lists passed steps, 1-based).
    pub fn new(lab: &'static Lab, passed: &[usize]) -> LabScreen {
        let n = lab.steps.len();
        let step = (0..n).find(|i| !passed.contains(&(i + 1))).unwrap_or(0);
        LabScreen {
            lab,
            step,
            focus: LabFocus::Steps,
            results: vec![None; n],
            failures: vec![0; n],
            hints_asked: vec![0; n],
            show_solution: false,
            answers: vec![String::new(); n],
            checking: false,
            ready: None,
            scroll: 0,
            note: None,
        }
    }

    /// Whether the current step asks a question.
    pub fn asks(&self) -> Option<&str> {
        self.lab.steps[self.step]
            .checks
            .iter()
            .find_map(|c| match &c.kind {
                layerlab_core::lab::CheckKind::Answer(a) => Some(a.prompt.as_str()),
                _ => None,
            })
    }

    fn answer(&self) -> Option<String> {
        let a = self.answers[self.step].trim();
        (!a.is_empty()).then(|| a.to_string())
    }

    /// A check request for the current step.
    pub fn check(&mut self, quick: bool) -> LabRequest {
        self.checking = true;
        LabRequest::Check {
            step: self.step,
            answer: self.answer(),
            quick,
        }
    }

    /// Moves to the next step.
    pub fn next_step(&mut self) {
        if self.step + 1 < self.lab.steps.len() {
            self.step += 1;
            self.show_solution = false;
            self.scroll = 0;
        }
    }

    /// Moves to the previous step.
    pub fn prev_step(&mut self) {
        if self.step > 0 {
            self.step -= 1;
            self.show_solution = false;
            self.scroll = 0;
        }
    }

    /// Asks for one more hint than the failures have earned.
    pub fn more_hint(&mut self) {
        let total = self.lab.steps[self.step].hints.len() as u32;
        if self.hints_shown() < total {
            self.hints_asked[self.step] += 1;
        }
    }

    /// Hints shown for the current step.
    pub fn hints_shown(&self) -> u32 {
        let step = &self.lab.steps[self.step];
        let earned = if self.failures[self.step] > 0 {
            step.hints_after(self.failures[self.step] - 1).count() as u32
        } else {
            0
        };
        (earned + self.hints_asked[self.step]).min(step.hints.len() as u32)
    }

    /// Takes a result in; returns whether the step just passed (to record
    /// progress and move on).
    pub fn checked(&mut self, r: StepResult) -> bool {
        let i = r.step.saturating_sub(1).min(self.results.len() - 1);
        self.checking = false;
        let newly = r.passed && !self.results[i].as_ref().is_some_and(|p| p.passed);
        if !r.passed {
            self.failures[i] += 1;
        }
        self.results[i] = Some(r);
        newly
    }

    /// Steps passed so far (1-based).
    pub fn passed_steps(&self) -> Vec<usize> {
        self.results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.as_ref().is_some_and(|r| r.passed))
            .map(|(i, _)| i + 1)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerlab_core::lab::CheckResult;

    fn lab() -> &'static Lab {
        layerlab_labs::find("handshake").expect("embedded lab")
    }

    fn result(step: usize, passed: bool) -> StepResult {
        StepResult {
            step,
            title: "t".into(),
            passed,
            checked_at_ms: 0,
            checks: vec![CheckResult {
                title: "c".into(),
                kind: "namespace".into(),
                passed,
                points: u32::from(passed),
                max_points: 1,
                attempts: 1,
                duration_ms: 1,
                message: "m".into(),
                mismatches: vec![],
                evidence: String::new(),
                hint: None,
            }],
        }
    }

    #[test]
    fn resumes_at_the_first_unfinished_step_and_moves_within_bounds() {
        let mut s = LabScreen::new(lab(), &[1, 2]);
        assert_eq!(s.step, 2);
        s.prev_step();
        s.prev_step();
        s.prev_step();
        assert_eq!(s.step, 0);
        for _ in 0..10 {
            s.next_step();
        }
        assert_eq!(s.step, lab().steps.len() - 1);
    }

    #[test]
    fn failures_unlock_hints_and_a_pass_is_reported_once() {
        let mut s = LabScreen::new(lab(), &[]);
        s.step = 1; // two hints, the second after 2 failures
        assert_eq!(s.hints_shown(), 0);
        assert!(!s.checked(result(2, false)));
        assert_eq!(s.hints_shown(), 1);
        s.checked(result(2, false));
        s.checked(result(2, false));
        assert_eq!(s.hints_shown(), 2);
        s.more_hint();
        assert_eq!(s.hints_shown(), 2, "no more hints than the step has");
        assert!(s.checked(result(2, true)));
        assert!(!s.checked(result(2, true)), "already passed");
        assert_eq!(s.passed_steps(), vec![2]);
    }

    #[test]
    fn the_answer_goes_with_the_check() {
        let mut s = LabScreen::new(lab(), &[]);
        s.step = lab().steps.len() - 1;
        assert!(s.asks().is_some());
        s.answers[s.step] = " 43210 ".into();
        assert_eq!(
            s.check(false),
            LabRequest::Check {
                step: s.step,
                answer: Some("43210".into()),
                quick: false
            }
        );
        assert!(s.checking);
    }
}
