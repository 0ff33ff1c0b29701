//! The packet journey view's state: which hop, which field, which pane has
//! the keys, and the player.
//!
//! The frame of the current hop is dissected once when the hop changes (not
//! at every draw), together with the previous hop's frame so a changed field
//! can say what it was. Which fields changed comes from the journey itself
//! (`Hop::changed`, computed by diffing dissections in core), so the marks
//! can never disagree with the bytes.

use crate::action::Action;
use layerlab_core::Journey;
use layerlab_core::packet::{self, ByteRange, Dissection};
use std::time::Duration;

/// How long a hop stays on screen at 1× while playing.
const HOP_AT_1X: Duration = Duration::from_millis(2000);

/// Rows moved by PgUp/PgDn in the field tree, lines in the hex view.
const PAGE: usize = 10;

/// Playback speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Speed {
    /// 0.5×: four seconds a hop.
    Half,
    /// 1×: two seconds a hop.
    One,
    /// 2×.
    Two,
    /// 4×: half a second a hop.
    Four,
}

impl Speed {
    /// One step faster; 4× stays 4×.
    pub fn faster(self) -> Speed {
        match self {
            Speed::Half => Speed::One,
            Speed::One => Speed::Two,
            Speed::Two | Speed::Four => Speed::Four,
        }
    }

    /// One step slower; 0.5× stays 0.5×.
    pub fn slower(self) -> Speed {
        match self {
            Speed::Four => Speed::Two,
            Speed::Two => Speed::One,
            Speed::One | Speed::Half => Speed::Half,
        }
    }

    /// As shown: `0.5×`, `1×`...
    pub fn label(self) -> &'static str {
        match self {
            Speed::Half => "0.5×",
            Speed::One => "1×",
            Speed::Two => "2×",
            Speed::Four => "4×",
        }
    }

    /// Time between two hops while playing.
    pub fn interval(self) -> Duration {
        match self {
            Speed::Half => HOP_AT_1X * 2,
            Speed::One => HOP_AT_1X,
            Speed::Two => HOP_AT_1X / 2,
            Speed::Four => HOP_AT_1X / 4,
        }
    }
}

/// The pane that ↑/↓ drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JourneyFocus {
    /// The hop list: ↑/↓ step through hops.
    Hops,
    /// The field tree: ↑/↓ select a field, whose bytes the hex view shows.
    Fields,
    /// The hex view: ↑/↓ scroll the bytes.
    Hex,
}

impl JourneyFocus {
    fn next(self) -> JourneyFocus {
        match self {
            JourneyFocus::Hops => JourneyFocus::Fields,
            JourneyFocus::Fields => JourneyFocus::Hex,
            JourneyFocus::Hex => JourneyFocus::Hops,
        }
    }

    fn prev(self) -> JourneyFocus {
        self.next().next()
    }
}

/// What a row of the field tree stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A layer header: index into `Dissection::layers`.
    Layer(usize),
    /// A field: layer index and field index.
    Field(usize, usize),
    /// Where dissection stopped: the unreadable rest of the frame.
    Stopped,
}

/// One row of the field tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    /// What it is.
    pub kind: RowKind,
    /// `ipv4.ttl` for a field, `ipv4#2` for a layer, as in `Hop::changed`.
    pub path: String,
    /// Which occurrence of `path` this is (TCP options, HTTP headers repeat).
    pub nth: usize,
    /// The bytes it covers, highlighted in the hex view when selected.
    pub range: ByteRange,
    /// Changed since the previous hop (for a layer: added at this hop).
    pub changed: bool,
    /// The value at the previous hop, for a changed field that existed there.
    pub was: Option<String>,
}

/// What the app must do after a journey action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JourneyOutcome {
    /// Nothing beyond the pane's own change.
    Stay,
    /// Leave the journey view.
    Leave,
    /// Tell the learner something on the status bar.
    Status(String),
}

/// The journey being watched.
#[derive(Debug, Clone)]
pub struct JourneyPane {
    /// The journey (owned: captures are built on the fly).
    pub journey: Journey,
    /// Index of the current hop.
    pub hop: usize,
    /// The current hop's frame, dissected.
    pub dissection: Dissection,
    /// The field tree of the current frame.
    pub rows: Vec<FieldRow>,
    /// Selected row of the field tree.
    pub selected: usize,
    /// First field row shown, kept by drawing so the selection stays visible.
    pub field_offset: usize,
    /// First hex line shown when the learner scrolled the hex view; `None`
    /// follows the selected field.
    pub hex_scroll: Option<usize>,
    /// The pane ↑/↓ drive.
    pub focus: JourneyFocus,
    /// Whether hops advance on their own.
    pub playing: bool,
    /// How fast they do.
    pub speed: Speed,
}

impl JourneyPane {
    /// The journey at its first hop, paused, the first field selected.
    pub fn new(journey: Journey) -> JourneyPane {
        let mut pane = JourneyPane {
            journey,
            hop: 0,
            dissection: packet::dissect(&[], packet::LinkType::Ethernet),
            rows: Vec::new(),
            selected: 0,
            field_offset: 0,
            hex_scroll: None,
            focus: JourneyFocus::Fields,
            playing: false,
            speed: Speed::One,
        };
        pane.go(0);
        // Start on the first field rather than the Ethernet heading.
        pane.selected = pane
            .rows
            .iter()
            .position(|r| matches!(r.kind, RowKind::Field(..)))
            .unwrap_or(0);
        pane
    }

    /// Number of hops.
    pub fn hop_count(&self) -> usize {
        self.journey.hops.len()
    }

    /// The selected row, if the frame has any.
    pub fn selected_row(&self) -> Option<&FieldRow> {
        self.rows.get(self.selected)
    }

    /// How long until the next hop, while playing.
    pub fn tick_interval(&self) -> Option<Duration> {
        self.playing.then(|| self.speed.interval())
    }

    /// Applies an action.
    pub fn update(&mut self, action: Action) -> JourneyOutcome {
        let last_hop = self.hop_count().saturating_sub(1);
        let last_row = self.rows.len().saturating_sub(1);
        match action {
            Action::Back => return JourneyOutcome::Leave,
            // Stepping by hand takes over from the player.
            Action::NextHop => self.step_to(self.hop + 1),
            Action::PrevHop => self.step_to(self.hop.saturating_sub(1)),
            Action::Top => self.step_to(0),
            Action::Bottom => self.step_to(last_hop),
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let down = matches!(action, Action::Down | Action::PageDown);
                let n = if matches!(action, Action::Up | Action::Down) {
                    1
                } else {
                    PAGE
                };
                match self.focus {
                    JourneyFocus::Hops if down => self.step_to(self.hop + n),
                    JourneyFocus::Hops => self.step_to(self.hop.saturating_sub(n)),
                    JourneyFocus::Fields => {
                        self.selected = if down {
                            (self.selected + n).min(last_row)
                        } else {
                            self.selected.saturating_sub(n)
                        };
                        self.hex_scroll = None;
                    }
                    JourneyFocus::Hex => {
                        let lines = self.dissection.len.div_ceil(8);
                        let from = self.hex_scroll.unwrap_or(0);
                        self.hex_scroll = Some(if down {
                            (from + n).min(lines.saturating_sub(1))
                        } else {
                            from.saturating_sub(n)
                        });
                    }
                }
            }
            Action::NextPane => self.focus = self.focus.next(),
            Action::PrevPane => self.focus = self.focus.prev(),
            Action::PlayPause => {
                if self.playing {
                    self.playing = false;
                } else if self.hop >= last_hop {
                    // Play at the end means: watch it again.
                    self.go(0);
                    self.playing = last_hop > 0;
                } else {
                    self.playing = true;
                }
            }
            Action::Faster => self.speed = self.speed.faster(),
            Action::Slower => self.speed = self.speed.slower(),
            Action::Tick if self.playing => {
                if self.hop < last_hop {
                    self.go(self.hop + 1);
                }
                if self.hop >= last_hop {
                    self.playing = false;
                    return JourneyOutcome::Status(
                        "The packet has arrived: Space watches it again.".into(),
                    );
                }
            }
            _ => {}
        }
        JourneyOutcome::Stay
    }

    fn step_to(&mut self, hop: usize) {
        self.playing = false;
        self.go(hop);
    }

    /// Moves to a hop (clamped), keeping the same field selected when the
    /// new frame has it, so a learner can watch one field across hops.
    fn go(&mut self, hop: usize) {
        let hop = hop.min(self.hop_count().saturating_sub(1));
        let keep = self.selected_row().map(|r| (r.path.clone(), r.nth));
        self.hop = hop;
        self.hex_scroll = None;
        let Some(h) = self.journey.hops.get(hop) else {
            self.rows.clear();
            return;
        };
        self.dissection = packet::dissect(&h.frame, h.link);
        let previous = hop.checked_sub(1).and_then(|p| self.journey.dissect(p));
        self.rows = field_rows(&self.dissection, previous.as_ref(), &h.changed);
        let found = keep.and_then(|(path, nth)| {
            self.rows
                .iter()
                .position(|r| r.path == path && r.nth == nth)
        });
        self.selected = found.unwrap_or(self.selected.min(self.rows.len().saturating_sub(1)));
    }
}

/// The field tree of `d`, with changes against `previous` marked.
pub fn field_rows(
    d: &Dissection,
    previous: Option<&Dissection>,
    changed: &[String],
) -> Vec<FieldRow> {
    let before: Vec<(String, String)> = previous
        .map(|p| {
            p.field_paths()
                .into_iter()
                .map(|(path, f)| (path, f.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (li, (layer, prefix)) in d.layers.iter().zip(d.layer_keys()).enumerate() {
        rows.push(FieldRow {
            kind: RowKind::Layer(li),
            changed: changed.iter().any(|c| c.strip_prefix('+') == Some(&prefix)),
            path: prefix.clone(),
            nth: 0,
            range: layer.range,
            was: None,
        });
        for (fi, f) in layer.fields.iter().enumerate() {
            let path = format!("{prefix}.{}", f.key);
            let nth = match counts.iter_mut().find(|(p, _)| *p == path) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counts.push((path.clone(), 0));
                    0
                }
            };
            let is_changed = changed.contains(&path);
            let was = is_changed
                .then(|| {
                    before
                        .iter()
                        .filter(|(p, _)| *p == path)
                        .nth(nth)
                        .map(|(_, v)| v.clone())
                })
                .flatten()
                .filter(|v| *v != f.value);
            rows.push(FieldRow {
                kind: RowKind::Field(li, fi),
                path,
                nth,
                range: f.range,
                changed: is_changed,
                was,
            });
        }
    }
    if let Some(s) = &d.stopped {
        rows.push(FieldRow {
            kind: RowKind::Stopped,
            path: format!("!{}", s.layer),
            nth: 0,
            range: ByteRange {
                start: s.offset.min(d.len),
                end: d.len,
            },
            changed: false,
            was: None,
        });
    }
    rows
}

/// Choosing among a lesson's journeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyPicker {
    /// Indices into the app's journeys.
    pub choices: Vec<usize>,
    /// The highlighted choice.
    pub selected: usize,
}

/// What the app must do after a picker action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerOutcome {
    /// Still choosing.
    Stay,
    /// Closed without choosing.
    Close,
    /// Watch this journey (an index into the app's journeys).
    Open(usize),
}

impl JourneyPicker {
    /// Applies an action.
    pub fn update(&mut self, action: Action) -> PickerOutcome {
        let last = self.choices.len().saturating_sub(1);
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Pick(n) if n < self.choices.len() => {
                return PickerOutcome::Open(self.choices[n]);
            }
            Action::Open => {
                if let Some(&j) = self.choices.get(self.selected) {
                    return PickerOutcome::Open(j);
                }
            }
            Action::Back => return PickerOutcome::Close,
            _ => {}
        }
        PickerOutcome::Stay
    }
}
