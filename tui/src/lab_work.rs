//! Lab work off the UI thread: starting a lab (its sandbox, or the cluster
//! connection), checks, solutions and resets, all through the one lab-run
//! API (`layerlab_labs::run`), each reporting back to the event loop as a
//! [`Msg`]. Sandbox labs and cluster labs are the same here.

use crate::runner::Msg;
use crate::screens::lab::{LabEvent, LabRequest};
use layerlab_core::lab::Lab;
use layerlab_labs::run::{LabRun, Labs, Pace};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::Sender;

/// The tutor's lab runs and the channel their news goes back on.
pub struct LabWork {
    labs: Arc<Labs>,
    tx: Sender<Msg>,
    /// Labs this tutor started (their sandboxes go when it quits).
    started: Vec<&'static Lab>,
    /// The running labs, by id.
    runs: HashMap<String, LabRun>,
}

impl LabWork {
    /// Lab work reporting on `tx`.
    pub fn new(labs: Arc<Labs>, tx: Sender<Msg>) -> Self {
        LabWork {
            labs,
            tx,
            started: Vec::new(),
            runs: HashMap::new(),
        }
    }

    /// Starts (or, with `fresh`, recreates) a lab; answers
    /// [`Msg::LabReady`] or a failed [`LabEvent`].
    pub fn start(&mut self, lab: &'static Lab, fresh: bool) {
        if !self.started.iter().any(|l| l.id == lab.id) {
            self.started.push(lab);
        }
        self.runs.remove(&lab.id);
        let (labs, tx) = (self.labs.clone(), self.tx.clone());
        std::thread::spawn(move || {
            let made = if fresh {
                labs.reset(lab)
            } else {
                labs.start(lab)
            };
            let _ = tx.send(match made {
                Ok(run) => Msg::LabReady(run),
                Err(e) => Msg::Lab(LabEvent::Failed(e.to_string())),
            });
        });
    }

    /// Keeps a lab that came up; its requests run on it from now on.
    pub fn ready(&mut self, run: LabRun) {
        self.runs.insert(run.lab().id.clone(), run);
    }

    /// Runs a check, a solution or a reset on a worker thread.
    pub fn request(&mut self, lab: &'static Lab, request: LabRequest) {
        if request == LabRequest::Reset {
            self.start(lab, true);
            return;
        }
        let tx = self.tx.clone();
        let Some(run) = self.runs.get(&lab.id).cloned() else {
            let _ = tx.send(Msg::Lab(LabEvent::Failed(
                "the lab is not running: press R to start it afresh".into(),
            )));
            return;
        };
        std::thread::spawn(move || {
            let (step, answer, quick) = match request {
                LabRequest::Check {
                    step,
                    answer,
                    quick,
                } => (step, answer, quick),
                LabRequest::Solve { step } => {
                    if let Err(e) = run.solve(step) {
                        let _ = tx.send(Msg::Lab(LabEvent::SolveFailed(e.to_string())));
                        return;
                    }
                    (step, None, false)
                }
                LabRequest::Reset => return,
            };
            let pace = if quick { Pace::Quick } else { Pace::Full };
            let event = match run.check(step, answer.as_deref(), pace, |_, _| {}) {
                Ok(result) => LabEvent::Checked(result),
                Err(e) => LabEvent::Failed(e.to_string()),
            };
            let _ = tx.send(Msg::Lab(event));
        });
    }

    /// Removes the sandboxes this tutor started (cluster labs keep their
    /// shared cluster). A crash leaves them for the next start to sweep:
    /// they name their owner's PID.
    pub fn stop_started(&mut self) {
        self.runs.clear();
        for lab in self.started.drain(..) {
            let _ = self.labs.stop(lab);
        }
    }
}
