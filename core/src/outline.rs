//! The course without lesson bodies: what a course tree or a browser's first
//! request needs, small enough to fetch at once (bodies come per lesson).

use crate::course::{Course, GlossaryEntry};
use serde::{Deserialize, Serialize};

/// The course tree: chapters, lesson headers and the glossary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseOutline {
    /// Chapters in order.
    pub chapters: Vec<ChapterOutline>,
    /// Glossary terms, sorted case-insensitively.
    pub glossary: Vec<GlossaryEntry>,
}

/// A chapter's header and its lessons' headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChapterOutline {
    /// Unique id.
    pub id: String,
    /// Title.
    pub title: String,
    /// One or two sentences.
    pub summary: String,
    /// Lessons in order.
    pub lessons: Vec<LessonOutline>,
}

/// A lesson's header, without its body and quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonOutline {
    /// Unique id across the course.
    pub id: String,
    /// Title.
    pub title: String,
    /// Estimated minutes.
    pub minutes: u32,
    /// Learning objectives.
    pub objectives: Vec<String>,
    /// The labs that practise this lesson.
    pub labs: Vec<String>,
    /// Journeys to watch with this lesson.
    pub journeys: Vec<String>,
    /// Number of quiz questions (for progress marks).
    pub questions: usize,
}

impl Course {
    /// The course tree without lesson bodies.
    pub fn outline(&self) -> CourseOutline {
        CourseOutline {
            chapters: self
                .chapters
                .iter()
                .map(|c| ChapterOutline {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    summary: c.summary.clone(),
                    lessons: c
                        .lessons
                        .iter()
                        .map(|l| LessonOutline {
                            id: l.id.clone(),
                            title: l.title.clone(),
                            minutes: l.minutes,
                            objectives: l.objectives.clone(),
                            labs: l.labs.clone(),
                            journeys: l.journeys.clone(),
                            questions: l.quiz.len(),
                        })
                        .collect(),
                })
                .collect(),
            glossary: self.glossary.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Catalog, Course, SourceFile};

    #[test]
    fn outline_keeps_headers_and_counts_questions() {
        let chapter = "id = \"c1\"\ntitle = \"One\"\nsummary = \"S.\"\n";
        let lesson = "+++\nid = \"l1\"\ntitle = \"First\"\nminutes = 5\nobjectives = [\"Know it\"]\n+++\n\n# First\n\nText.\n\n```quiz\n[[question]]\nprompt = \"Two?\"\nkind = \"numeric\"\nanswer = 2\nexplanation = \"Because.\"\n```\n";
        let files = [
            SourceFile {
                path: "01-c/chapter.toml",
                text: chapter,
            },
            SourceFile {
                path: "01-c/01-first.md",
                text: lesson,
            },
        ];
        let loaded = Course::load(&files, &Catalog::default());
        let outline = loaded.course.outline();
        assert_eq!(outline.chapters.len(), 1, "{:?}", loaded.diagnostics);
        let l = &outline.chapters[0].lessons[0];
        assert_eq!((l.id.as_str(), l.minutes), ("l1", 5));
        assert_eq!(l.questions, loaded.course.chapters[0].lessons[0].quiz.len());
    }
}
