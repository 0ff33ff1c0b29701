//! Terminal setup, the event loop, and teardown.
//!
//! The loop is a message pump: a thread turns terminal input into [`Msg`]s
//! on a channel and the loop sleeps on that channel. It waits with a
//! timeout only while something animates (a journey playing), so an idle
//! tutor uses no CPU at all. Work that finishes elsewhere (lab check
//! results, the lab shell's output) is meant to arrive the same way: one
//! more `Msg` variant and one more sender.
//!
//! The terminal is restored on every way out: normal exit, error, and
//! panic (ratatui's `try_init` installs a hook that restores it first).

use crate::app::{Action, App, Effect};
use crate::error::{Result, TuiError};
use crate::lab_work::LabWork;
use crate::screens::lab::LabEvent;
use crate::shell::Shell;
use crate::{keys, ui};
use crossterm::event::{self, Event, MouseEventKind};
use layerlab_core::lab::CheckKind;
use layerlab_labs::run::{LabRun, Labs, RunOptions};
use layerlab_labs::sandbox::Owner;
use layerlab_labs::store::ProgressStore;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

/// Set to `1` to exit right after the first frame is drawn: how
/// `bench/tui.sh` measures start-up time.
const EXIT_AFTER_FIRST_FRAME: &str = "LAYERLAB_EXIT_AFTER_FIRST_FRAME";

/// Something the event loop reacts to.
#[derive(Debug)]
pub enum Msg {
    /// A key, mouse or resize event from the terminal.
    Input(Event),
    /// The terminal could not be read any more.
    InputFailed(std::io::Error),
    /// Time for the next animation step.
    Tick,
    /// The lab shell drew something.
    Redraw,
    /// A lab is up (its sandbox started, or its cluster connected): start its shell.
    LabReady(LabRun),
    /// News from lab work running on another thread.
    Lab(LabEvent),
    /// Time to re-check the open lab step (live checklist).
    LabRecheck,
}

/// Runs the tutor until the learner quits, saving progress as it changes;
/// labs run as `labs` says (cluster labs: `--context`).
pub fn run(app: App<'_>, store: &ProgressStore, labs: RunOptions) -> Result<()> {
    run_with(app, Some(store), labs)
}

/// Runs a view that has no progress to save (`layerlab packet replay`).
pub fn run_without_saving(app: App<'_>) -> Result<()> {
    run_with(app, None, RunOptions::default())
}

fn run_with(mut app: App<'_>, store: Option<&ProgressStore>, labs: RunOptions) -> Result<()> {
    let exit_after_first_frame = std::env::var_os(EXIT_AFTER_FIRST_FRAME).is_some_and(|v| v == "1");
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            // Raw mode may be on if the alternate screen failed; nothing else is.
            let _ = crossterm::terminal::disable_raw_mode();
            return Err(TuiError::Terminal { source: e });
        }
    };
    let result = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
        .map_err(TuiError::from)
        .and_then(|()| {
            let (tx, rx) = mpsc::channel();
            spawn_input(tx.clone())?;
            // Sandboxes this tutor starts go with it.
            let labs = Labs::new(RunOptions {
                owner: Owner::Process(std::process::id()),
                ..labs
            });
            let mut ctx = Ctx::new(store, tx, Arc::new(labs));
            let r = event_loop(
                &mut terminal,
                &mut app,
                &mut ctx,
                &rx,
                exit_after_first_frame,
            );
            app.shell = None;
            ctx.work.stop_started();
            r
        });
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    result
}

/// Forwards terminal events to the loop. The thread blocks in `read` and
/// ends with the process: it holds nothing that needs cleaning up.
fn spawn_input(tx: Sender<Msg>) -> Result<()> {
    std::thread::Builder::new()
        .name("layerlab-input".into())
        .spawn(move || {
            loop {
                let msg = match event::read() {
                    Ok(event) => Msg::Input(event),
                    Err(e) => Msg::InputFailed(e),
                };
                let failed = matches!(msg, Msg::InputFailed(_));
                if tx.send(msg).is_err() || failed {
                    return;
                }
            }
        })
        .map_err(|e| TuiError::Start {
            what: "cannot start the terminal input thread",
            source: e.into(),
        })?;
    Ok(())
}

/// What effects need: the progress store, a way to report back, and the
/// lab runs.
pub(crate) struct Ctx<'s> {
    store: Option<&'s ProgressStore>,
    tx: Sender<Msg>,
    work: LabWork,
}

impl<'s> Ctx<'s> {
    pub(crate) fn new(store: Option<&'s ProgressStore>, tx: Sender<Msg>, labs: Arc<Labs>) -> Self {
        Ctx {
            store,
            tx: tx.clone(),
            work: LabWork::new(labs, tx),
        }
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App<'_>,
    ctx: &mut Ctx<'_>,
    rx: &Receiver<Msg>,
    exit_after_first_frame: bool,
) -> Result<()> {
    let mut interval = None;
    let mut next_tick: Option<Instant> = None;
    loop {
        let mut effects = Vec::new();
        terminal.draw(|f| effects = ui::draw(f, app))?;
        apply(effects, app, ctx);
        if app.quit || exit_after_first_frame {
            return Ok(());
        }
        // A new interval (playing started, stopped, or changed speed)
        // restarts the clock from now.
        let wanted = app.tick_interval();
        if wanted != interval {
            interval = wanted;
            next_tick = interval.map(|d| Instant::now() + d);
        }
        let msg = match next_tick {
            // Idle: sleep until the terminal has something.
            None => rx.recv().map_err(|_| TuiError::InputStopped)?,
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    // From now, not from `at`: after a stall, no burst of catch-up ticks.
                    next_tick = interval.map(|d| Instant::now() + d);
                    Msg::Tick
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(TuiError::InputStopped);
                }
            },
        };
        handle(msg, app, ctx)?;
        // Whatever else already arrived is handled before drawing, so a
        // burst of keys or scroll events costs one frame.
        while !app.quit
            && let Ok(msg) = rx.try_recv()
        {
            handle(msg, app, ctx)?;
        }
    }
}

pub(crate) fn handle(msg: Msg, app: &mut App<'_>, ctx: &mut Ctx<'_>) -> Result<()> {
    let action = match msg {
        Msg::Input(event) => {
            let action = match event {
                Event::Key(key) => keys::action_for(key, app.key_mode()),
                Event::Mouse(m) => match m.kind {
                    MouseEventKind::ScrollUp => Some(Action::Up),
                    MouseEventKind::ScrollDown => Some(Action::Down),
                    _ => None,
                },
                _ => None, // Resize and focus: just redraw.
            };
            // A key press retires the last message; a tick must not.
            if action.is_some() {
                app.status = None;
            }
            action
        }
        Msg::Tick => Some(Action::Tick),
        Msg::Redraw => None,
        Msg::LabReady(run) => {
            let tx = ctx.tx.clone();
            match Shell::spawn(&run.shell_command(), 20, 60, move |_| {
                let _ = tx.send(Msg::Redraw);
            }) {
                Ok(sh) => app.shell = Some(sh),
                Err(e) => app.status = Some(format!("No lab shell: {e}")),
            }
            ctx.work.ready(run);
            let effects = app.lab_event(LabEvent::Ready);
            apply(effects, app, ctx);
            None
        }
        Msg::Lab(event) => {
            if let LabEvent::Checked(r) = &event
                && !r.passed
            {
                schedule_recheck(ctx.tx.clone());
            }
            let effects = app.lab_event(event);
            apply(effects, app, ctx);
            None
        }
        Msg::LabRecheck => {
            let live = app.screen == crate::app::Screen::Lab
                && app.lab.as_ref().is_some_and(|l| {
                    l.ready == Some(Ok(()))
                        && !l.checking
                        && !l.results[l.step].as_ref().is_some_and(|r| r.passed)
                        && l.lab.steps[l.step].checks.iter().all(|c| {
                            !matches!(c.kind, CheckKind::Capture(_) | CheckKind::Answer(_))
                        })
                });
            if live && let Some(lab) = app.lab.as_mut() {
                let effects = vec![Effect::Lab(lab.check(true))];
                apply(effects, app, ctx);
            }
            None
        }
        Msg::InputFailed(e) => return Err(TuiError::Io { source: e }),
    };
    if let Some(action) = action {
        let effects = app.update(action);
        apply(effects, app, ctx);
    }
    Ok(())
}

pub(crate) fn apply(effects: Vec<Effect>, app: &mut App<'_>, ctx: &mut Ctx<'_>) {
    for effect in effects {
        match effect {
            Effect::SaveProgress => {
                let Some(store) = ctx.store else { continue };
                if let Err(e) = store.save(&app.progress) {
                    app.status = Some(format!("Could not save progress: {e:#}"));
                }
            }
            Effect::ShellInput(bytes) => {
                if let Some(sh) = app.shell.as_mut() {
                    sh.write(&bytes);
                }
            }
            Effect::StartLab(id) => match layerlab_labs::find(id) {
                Ok(lab) => ctx.work.start(lab, false),
                Err(e) => app.status = Some(e.to_string()),
            },
            Effect::Lab(request) => {
                let Some(lab) = app.lab.as_ref().map(|l| l.lab) else {
                    continue;
                };
                ctx.work.request(lab, request);
            }
        }
    }
}

/// Asks for a quick re-check in a moment, so steps turn green as the
/// learner works in the shell.
fn schedule_recheck(tx: Sender<Msg>) {
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = tx.send(Msg::LabRecheck);
    });
}
