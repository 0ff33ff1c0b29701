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
use crate::store::ProgressStore;
use crate::{keys, ui};
use anyhow::{Context, Result, anyhow};
use crossterm::event::{self, Event, MouseEventKind};
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
}

/// Runs the tutor until the learner quits, saving progress as it changes.
pub fn run(app: App<'_>, store: &ProgressStore) -> Result<()> {
    run_with(app, Some(store))
}

/// Runs a view that has no progress to save (`layerlab packet replay`).
pub fn run_without_saving(app: App<'_>) -> Result<()> {
    run_with(app, None)
}

fn run_with(mut app: App<'_>, store: Option<&ProgressStore>) -> Result<()> {
    let exit_after_first_frame = std::env::var_os(EXIT_AFTER_FIRST_FRAME).is_some_and(|v| v == "1");
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            // Raw mode may be on if the alternate screen failed; nothing else is.
            let _ = crossterm::terminal::disable_raw_mode();
            return Err(e)
                .context("cannot set up the terminal (layerlab needs an interactive one)");
        }
    };
    let result = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            let (tx, rx) = mpsc::channel();
            spawn_input(tx)?;
            event_loop(&mut terminal, &mut app, store, &rx, exit_after_first_frame)
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
        .context("cannot start the terminal input thread")?;
    Ok(())
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App<'_>,
    store: Option<&ProgressStore>,
    rx: &Receiver<Msg>,
    exit_after_first_frame: bool,
) -> Result<()> {
    let mut interval = None;
    let mut next_tick: Option<Instant> = None;
    loop {
        let mut effects = Vec::new();
        terminal.draw(|f| effects = ui::draw(f, app))?;
        apply(effects, app, store);
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
            None => rx.recv().map_err(|_| anyhow!("terminal input stopped"))?,
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    // From now, not from `at`: after a stall, no burst of catch-up ticks.
                    next_tick = interval.map(|d| Instant::now() + d);
                    Msg::Tick
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(anyhow!("terminal input stopped"));
                }
            },
        };
        handle(msg, app, store)?;
        // Whatever else already arrived is handled before drawing, so a
        // burst of keys or scroll events costs one frame.
        while !app.quit
            && let Ok(msg) = rx.try_recv()
        {
            handle(msg, app, store)?;
        }
    }
}

fn handle(msg: Msg, app: &mut App<'_>, store: Option<&ProgressStore>) -> Result<()> {
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
        Msg::InputFailed(e) => return Err(e).context("cannot read the terminal"),
    };
    if let Some(action) = action {
        let effects = app.update(action);
        apply(effects, app, store);
    }
    Ok(())
}

fn apply(effects: Vec<Effect>, app: &mut App<'_>, store: Option<&ProgressStore>) {
    for effect in effects {
        match effect {
            Effect::SaveProgress => {
                let Some(store) = store else { continue };
                if let Err(e) = store.save(&app.progress) {
                    app.status = Some(format!("Could not save progress: {e:#}"));
                }
            }
        }
    }
}
