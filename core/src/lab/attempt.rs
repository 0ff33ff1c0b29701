//! Check semantics over time (`eventually`, `consistently`, `once`) as a
//! pure state machine, so every runner (sandbox, cluster, server) agrees.

use super::eval::Verdict;
use super::report::CheckResult;
use super::spec::{Check, Mode};

/// What a runner does after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The check is decided.
    Done,
    /// Observe again (after a change, or within this many milliseconds).
    Again {
        /// Longest wait before the next observation.
        within_ms: u64,
    },
}

/// One check being run: observations so far and the clock.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    check: &'a Check,
    start_ms: u64,
    now_ms: u64,
    attempts: u32,
    last: Option<Verdict>,
    failed_while_holding: bool,
}

/// Pause between polls when nothing signals a change.
pub const POLL_MS: u64 = 100;

impl<'a> Attempt<'a> {
    /// Starts running `check` at `now_ms`.
    pub fn new(check: &'a Check, now_ms: u64) -> Self {
        Attempt {
            check,
            start_ms: now_ms,
            now_ms,
            attempts: 0,
            last: None,
            failed_while_holding: false,
        }
    }

    /// Records a verdict observed at `now_ms` and says what to do next.
    pub fn record(&mut self, verdict: Verdict, now_ms: u64) -> Decision {
        self.attempts += 1;
        self.now_ms = now_ms;
        let elapsed = now_ms.saturating_sub(self.start_ms);
        let passed = verdict.passed;
        self.last = Some(verdict);
        match self.check.mode {
            Mode::Once => Decision::Done,
            Mode::Eventually if passed => Decision::Done,
            Mode::Eventually if elapsed >= self.check.timeout_ms => Decision::Done,
            Mode::Eventually => Decision::Again {
                within_ms: POLL_MS.min(self.check.timeout_ms - elapsed),
            },
            Mode::Consistently { .. } if !passed => {
                self.failed_while_holding = true;
                Decision::Done
            }
            Mode::Consistently { for_ms } if elapsed >= for_ms => Decision::Done,
            Mode::Consistently { for_ms } => Decision::Again {
                within_ms: POLL_MS.min(for_ms - elapsed),
            },
        }
    }

    /// The result, from the last observation.
    pub fn finish(self) -> CheckResult {
        let last = self.last.unwrap_or_default();
        let passed = last.passed && !self.failed_while_holding;
        let duration_ms = self.now_ms.saturating_sub(self.start_ms);
        let mut message = last.message;
        if !passed && self.attempts > 1 {
            message = match self.check.mode {
                Mode::Consistently { for_ms } => format!(
                    "{message} (it must hold for {} s; it broke after {} ms)",
                    for_ms as f64 / 1000.0,
                    duration_ms
                ),
                _ => format!("{message} (still so after {} ms)", duration_ms),
            };
        }
        CheckResult {
            title: self.check.title.clone(),
            kind: self.check.kind.name().to_string(),
            passed,
            points: if passed { self.check.points } else { 0 },
            max_points: self.check.points,
            attempts: self.attempts,
            duration_ms,
            message,
            mismatches: last.mismatches,
            evidence: last.evidence,
            hint: (!passed).then(|| self.check.hint.clone()).flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::spec::{CheckKind, NamespaceCheck};

    fn check(mode: Mode) -> Check {
        Check {
            title: "t".into(),
            kind: CheckKind::Namespace(NamespaceCheck {
                name: "a".into(),
                exists: true,
            }),
            mode,
            timeout_ms: 1000,
            points: 2,
            hint: Some("try harder".into()),
        }
    }
    fn v(passed: bool) -> Verdict {
        Verdict {
            passed,
            message: if passed { "yes" } else { "no" }.into(),
            ..Verdict::default()
        }
    }

    #[test]
    fn eventually_retries_until_the_timeout() {
        let c = check(Mode::Eventually);
        let mut a = Attempt::new(&c, 0);
        assert_eq!(a.record(v(false), 10), Decision::Again { within_ms: 100 });
        assert_eq!(a.record(v(false), 950), Decision::Again { within_ms: 50 });
        assert_eq!(a.record(v(false), 1000), Decision::Done);
        let r = a.finish();
        assert!(!r.passed);
        assert_eq!(
            (r.attempts, r.points, r.hint.as_deref()),
            (3, 0, Some("try harder"))
        );
        assert_eq!(r.message, "no (still so after 1000 ms)");
        let mut a = Attempt::new(&c, 0);
        a.record(v(false), 10);
        assert_eq!(a.record(v(true), 20), Decision::Done);
        let r = a.finish();
        assert_eq!((r.passed, r.points, r.hint), (true, 2, None));
    }

    #[test]
    fn consistently_must_hold_for_the_whole_duration() {
        let c = check(Mode::Consistently { for_ms: 500 });
        let mut a = Attempt::new(&c, 0);
        assert!(matches!(a.record(v(true), 0), Decision::Again { .. }));
        assert_eq!(a.record(v(false), 200), Decision::Done);
        let r = a.finish();
        assert!(!r.passed);
        assert!(r.message.contains("it broke after 200 ms"), "{}", r.message);
        let mut a = Attempt::new(&c, 0);
        a.record(v(true), 0);
        assert_eq!(a.record(v(true), 500), Decision::Done);
        assert!(a.finish().passed);
    }

    #[test]
    fn once_decides_at_once() {
        let c = check(Mode::Once);
        let mut a = Attempt::new(&c, 0);
        assert_eq!(a.record(v(false), 0), Decision::Done);
        assert!(!a.finish().passed);
    }
}
