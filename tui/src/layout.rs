//! Layout helpers every screen's drawing uses, apart from `ui` so the
//! screens' views and `ui` do not import each other.

use crate::render::MAX_MEASURE;
use ratatui::layout::Rect;

/// A `width`×`height` rectangle centred in `area`, shrunk to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The text area of a bordered pane: a readable measure, centred, with a
/// column of padding on each side.
pub fn measure_area(inner: Rect) -> Rect {
    let measure = inner.width.min(MAX_MEASURE + 2);
    Rect {
        x: inner.x + (inner.width - measure) / 2 + 1,
        width: measure.saturating_sub(2),
        ..inner
    }
}
