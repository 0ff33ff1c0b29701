//! Turning what the learner entered into a core `Response`; grading itself
//! is `Question::grade`, the same call the terminal tutor makes.

use layerlab_core::quiz::{Question, QuestionKind, Response};

/// The response for a question from the picked choices or the typed text.
pub fn response(question: &Question, picked: &[usize], typed: &str) -> Response {
    match question.kind {
        QuestionKind::Single { .. } | QuestionKind::Multiple { .. } => {
            let mut p = picked.to_vec();
            p.sort_unstable();
            p.dedup();
            Response::Choices(p)
        }
        // Core parses numbers from text, so "1,460" and "1460 bytes" get the
        // same verdict in both front ends.
        QuestionKind::Numeric { .. } | QuestionKind::Text { .. } => Response::Text(typed.into()),
    }
}

/// Whether the learner has entered enough to check the answer.
pub fn ready(question: &Question, picked: &[usize], typed: &str) -> bool {
    match question.kind {
        QuestionKind::Single { .. } | QuestionKind::Multiple { .. } => !picked.is_empty(),
        QuestionKind::Numeric { .. } | QuestionKind::Text { .. } => !typed.trim().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_course_question_grades_its_right_answer_right_through_the_form() {
        let course = layerlab_lessons::course();
        let mut checked = 0;
        for lesson in course.lessons() {
            for q in &lesson.quiz {
                let (picked, typed): (Vec<usize>, String) = match &q.kind {
                    QuestionKind::Single { choices } | QuestionKind::Multiple { choices } => (
                        choices
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.correct)
                            .map(|(i, _)| i)
                            .collect(),
                        String::new(),
                    ),
                    QuestionKind::Numeric { answer, .. } => (vec![], format!(" {answer} ")),
                    QuestionKind::Text { answer, .. } => (vec![], answer.clone()),
                };
                assert!(ready(q, &picked, &typed));
                let g = q.grade(&response(q, &picked, &typed));
                assert!(g.correct, "{}: {}", lesson.id, q.prompt);
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} questions");
    }

    #[test]
    fn nothing_entered_is_not_ready_and_duplicates_collapse() {
        let course = layerlab_lessons::course();
        let q = course
            .lessons()
            .flat_map(|l| &l.quiz)
            .find(|q| matches!(q.kind, QuestionKind::Single { .. }))
            .unwrap();
        assert!(!ready(q, &[], "text is ignored"));
        assert_eq!(response(q, &[1, 0, 1], ""), Response::Choices(vec![0, 1]));
    }
}
