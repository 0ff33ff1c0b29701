//! Labs: what a lab is (steps, checks), how a check's observations are
//! judged, and the reports an instructor grades from.
//!
//! Everything here is pure. The native runner (`labs/`) turns each check into
//! [`Probe`]s, carries them out against the real system (a sandbox, a
//! cluster), and hands the [`Observation`]s back to [`evaluate`]. The TUI, the
//! CLI and the server therefore judge a lab with one piece of code.

mod attempt;
mod capture;
mod cel;
mod class_report;
mod eval;
mod linux;
pub use linux::shell_quote;
pub mod matching;
mod report;
mod spec;
mod view;

pub use attempt::{Attempt, Decision, POLL_MS};
pub use capture::{PacketRecord, packet_records};
pub use class_report::{
    CLASS_REPORT_VERSION, ClassReport, ExportFormat, LabResults, LearnerResults, QuizResults,
    StepHistory, StepRecord,
};
pub use eval::{CommandFailed, CommandOutput, Observation, Probe, Verdict, evaluate, probe};
pub use matching::{Mismatch, partial_match};
pub use report::{CheckResult, LabReport, StepResult};
pub use spec::{
    AnswerCheck, CaptureCheck, Check, CheckKind, ConntrackCheck, ExecCheck, Expect, Hint,
    HttpCheck, InterfaceCheck, IptablesCheck, Lab, LoadedLabs, Mode, NamespaceCheck, Needs,
    NodeCheck, PeerSpec, ResourceCheck, RouteCheck, Step, SysctlCheck, TextMatch, load_labs,
};
pub use view::{CheckView, LabView, StepView};
