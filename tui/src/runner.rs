//! Terminal setup, the event loop, and teardown.
//!
//! The terminal is restored on every way out: normal exit, error, and
//! panic (ratatui's `init` installs a hook that restores it first).

use crate::app::{Action, App, Effect};
use crate::store::ProgressStore;
use crate::{keys, ui};
use anyhow::Result;
use crossterm::event::{self, Event, MouseEventKind};

/// Runs the tutor until the learner quits.
pub fn run(mut app: App<'_>, store: &ProgressStore) -> Result<()> {
    let mut terminal = ratatui::init();
    crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
    let result = event_loop(&mut terminal, &mut app, store);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App<'_>,
    store: &ProgressStore,
) -> Result<()> {
    loop {
        let mut effects = Vec::new();
        terminal.draw(|f| effects = ui::draw(f, app))?;
        apply(effects, app, store);
        if app.quit {
            return Ok(());
        }
        // Blocks until input: no busy redraw loop while idle.
        let action = match event::read()? {
            Event::Key(key) => keys::action_for(key, app.key_mode()),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::ScrollUp => Some(Action::Up),
                MouseEventKind::ScrollDown => Some(Action::Down),
                _ => None,
            },
            _ => None, // Resize and focus: just redraw.
        };
        if let Some(action) = action {
            app.status = None;
            let effects = app.update(action);
            apply(effects, app, store);
        }
    }
}

fn apply(effects: Vec<Effect>, app: &mut App<'_>, store: &ProgressStore) {
    for effect in effects {
        match effect {
            Effect::SaveProgress => {
                if let Err(e) = store.save(&app.progress) {
                    app.status = Some(format!("Could not save progress: {e:#}"));
                }
            }
        }
    }
}
