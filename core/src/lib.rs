//! layerlab-core: the pure heart of layerlab.
//!
//! Everything here takes data in and gives data out: no files, no clock, no
//! network. That is what lets the terminal tutor, the web app (built for
//! `wasm32-unknown-unknown`) and the lab runner share one definition of the
//! course, the quizzes and the learner's progress, so they can never
//! disagree.
#![deny(missing_docs)]

pub mod content;
pub mod course;
pub mod diag;
pub mod doc;
pub mod journey;
pub mod lab;
pub mod outline;
pub mod packet;
pub mod progress;
pub mod quiz;

pub use content::{LoadedContent, load_content};
pub use course::{Catalog, Chapter, Course, GlossaryEntry, Lesson, LoadedCourse, SourceFile};
pub use diag::{Diagnostic, Severity};
pub use doc::{Admonition, Block, Document, Inline};
pub use journey::{Hop, Journey};
pub use outline::{ChapterOutline, CourseOutline, LessonOutline};
pub use progress::{Progress, Timestamp};
pub use quiz::{Grade, Question, QuestionKind, Response};
