//! The quiz pane: one question at a time, feedback, then a summary.
//!
//! Grading is core's (`Question::grade`), so the explanations and the
//! verdict are the same the browser shows; this file only tracks what the
//! learner has picked or typed and where in the quiz they are.

use crate::action::Action;
use layerlab_core::{Grade, Question, QuestionKind, Response};

/// Where the learner is in the current question.
#[derive(Debug, Clone, PartialEq)]
pub enum QuizPhase {
    /// Picking or typing an answer.
    Answering,
    /// Reading the grade of the submitted answer.
    Feedback(Grade),
    /// All questions answered: the score.
    Summary,
}

/// What the app must do after a quiz action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizOutcome {
    /// Nothing beyond the pane's own change.
    Stay,
    /// Tell the learner something in the status bar.
    Status(String),
    /// Close the quiz and go back to the lesson.
    Leave,
    /// The last question was answered: record the score.
    Finished {
        /// Questions answered right.
        right: u32,
        /// Questions in the quiz.
        total: u32,
    },
}

/// The state of a quiz being taken.
#[derive(Debug, Clone, PartialEq)]
pub struct QuizPane {
    /// The lesson whose quiz this is.
    pub lesson_id: String,
    /// The current question.
    pub index: usize,
    /// The highlighted choice.
    pub cursor: usize,
    /// Picked choices, ascending.
    pub picked: Vec<usize>,
    /// Typed answer for numeric and text questions.
    pub input: String,
    /// Answering, feedback or summary.
    pub phase: QuizPhase,
    /// Whether each answered question was right, in order.
    pub results: Vec<bool>,
    /// First visible line of the feedback or summary.
    pub scroll: usize,
}

impl QuizPane {
    /// A fresh attempt at a lesson's quiz.
    pub fn new(lesson_id: &str) -> QuizPane {
        QuizPane {
            lesson_id: lesson_id.to_string(),
            index: 0,
            cursor: 0,
            picked: Vec::new(),
            input: String::new(),
            phase: QuizPhase::Answering,
            results: Vec::new(),
            scroll: 0,
        }
    }

    /// Questions answered right so far.
    pub fn right(&self) -> usize {
        self.results.iter().filter(|r| **r).count()
    }

    /// Applies an action to the quiz over `questions`.
    pub fn update(&mut self, questions: &[Question], action: Action) -> QuizOutcome {
        if action == Action::Back {
            return QuizOutcome::Leave;
        }
        let Some(question) = questions.get(self.index) else {
            return QuizOutcome::Leave;
        };
        match (&self.phase, action) {
            (QuizPhase::Answering, _) => self.answer(question, action),
            (QuizPhase::Feedback(_), Action::Submit) => self.next(questions.len()),
            (QuizPhase::Summary, Action::Retry) => {
                *self = QuizPane::new(&self.lesson_id);
                QuizOutcome::Stay
            }
            (_, Action::Up) => {
                self.scroll = self.scroll.saturating_sub(1);
                QuizOutcome::Stay
            }
            (_, Action::Down) => {
                // Clamped to the content when drawn.
                self.scroll += 1;
                QuizOutcome::Stay
            }
            _ => QuizOutcome::Stay,
        }
    }

    fn answer(&mut self, question: &Question, action: Action) -> QuizOutcome {
        let choices = question.choices().len();
        let single = matches!(question.kind, QuestionKind::Single { .. });
        match action {
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::Down => self.cursor = (self.cursor + 1).min(choices.saturating_sub(1)),
            Action::Toggle if choices > 0 => self.pick(self.cursor, single),
            Action::Pick(i) if i < choices => {
                self.cursor = i;
                self.pick(i, single);
            }
            Action::Pick(i) if choices > 0 => {
                return QuizOutcome::Status(format!("There is no choice {}.", i + 1));
            }
            Action::Type(c) => return self.type_char(question, c),
            Action::DeleteChar => {
                self.input.pop();
            }
            Action::Submit => return self.submit(question),
            _ => {}
        }
        QuizOutcome::Stay
    }

    /// Radio buttons replace the pick; checkboxes toggle it.
    fn pick(&mut self, i: usize, single: bool) {
        if single {
            self.picked = vec![i];
        } else if let Some(at) = self.picked.iter().position(|p| *p == i) {
            self.picked.remove(at);
        } else {
            self.picked.push(i);
            self.picked.sort_unstable();
        }
    }

    fn type_char(&mut self, question: &Question, c: char) -> QuizOutcome {
        match question.kind {
            QuestionKind::Numeric { .. } if !(c.is_ascii_digit() || "+-.eE".contains(c)) => {
                QuizOutcome::Status("This answer is a number: digits, '.', '-'.".into())
            }
            QuestionKind::Numeric { .. } | QuestionKind::Text { .. } => {
                self.input.push(c);
                QuizOutcome::Stay
            }
            _ => QuizOutcome::Stay,
        }
    }

    fn submit(&mut self, question: &Question) -> QuizOutcome {
        let response = match &question.kind {
            QuestionKind::Single { .. } if self.picked.is_empty() => {
                // Enter on a highlighted radio button means "this one".
                Response::Choices(vec![self.cursor])
            }
            QuestionKind::Multiple { .. } if self.picked.is_empty() => {
                return QuizOutcome::Status(
                    "Pick every right answer with Space (or 1–9), then press Enter.".into(),
                );
            }
            QuestionKind::Single { .. } | QuestionKind::Multiple { .. } => {
                Response::Choices(self.picked.clone())
            }
            _ if self.input.trim().is_empty() => {
                return QuizOutcome::Status("Type an answer, then press Enter.".into());
            }
            QuestionKind::Numeric { .. } => match self.input.trim().parse::<f64>() {
                Ok(x) => Response::Number(x),
                Err(_) => {
                    return QuizOutcome::Status(format!(
                        "\"{}\" is not a number; fix it with Backspace.",
                        self.input.trim()
                    ));
                }
            },
            QuestionKind::Text { .. } => Response::Text(self.input.clone()),
        };
        if let Response::Choices(picked) = &response {
            self.picked = picked.clone();
        }
        let grade = question.grade(&response);
        self.results.push(grade.correct);
        self.phase = QuizPhase::Feedback(grade);
        self.scroll = 0;
        QuizOutcome::Stay
    }

    fn next(&mut self, total: usize) -> QuizOutcome {
        self.scroll = 0;
        if self.index + 1 < total {
            self.index += 1;
            self.cursor = 0;
            self.picked.clear();
            self.input.clear();
            self.phase = QuizPhase::Answering;
            return QuizOutcome::Stay;
        }
        self.phase = QuizPhase::Summary;
        QuizOutcome::Finished {
            right: self.right() as u32,
            total: total as u32,
        }
    }
}
