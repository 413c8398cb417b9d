//! [`Engine`]: a window and a model. Scores every tracked event, keeps the segment with
//! hysteresis, explains the score, and returns everything as data for the caller to act on.
//!
//! ```no_run
//! use shopper_intent::{Engine, EngineOptions, Event, EventKind, SequenceModel};
//! let model = SequenceModel::load(&std::fs::read("models/intent.onnx")?, &std::fs::read_to_string("models/intent.json")?)?;
//! let mut engine = Engine::new(model, EngineOptions { salt: [42; 16], ..EngineOptions::default() })?;
//! let update = engine.track(&Event::new(EventKind::ViewItem, 1_700_000_000_000).with_item("sku-1", "shoes"))?;
//! if update.segment_changed {
//!     println!("now {}: {:.3}", update.segment.name(), update.score);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::features::{FACTOR_GROUPS, SEQ_LEN};
use crate::hash::Salt;
use crate::model::{LstmState, SequenceModel, Thresholds};
use crate::{Error, Event, EventKind, Outcome, Window, WindowConfig};

/// Score points kept for the current session (the newest ones).
pub const MAX_SCORE_POINTS: usize = 512;
/// The default hysteresis margin: a segment is left downwards only once the score is this far
/// below its threshold.
pub const DEFAULT_HYSTERESIS: f32 = 0.02;

/// A coarse level of purchase intent, from the score and the manifest's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    /// Below `medium`.
    Low,
    /// From `medium` to below `high`.
    Medium,
    /// From `high` on, and any converted session.
    High,
}

impl Segment {
    /// `"low"`, `"medium"` or `"high"`.
    pub fn name(self) -> &'static str {
        match self {
            Segment::Low => "low",
            Segment::Medium => "medium",
            Segment::High => "high",
        }
    }

    fn of(score: f32, t: &Thresholds) -> Segment {
        if score >= t.high {
            Segment::High
        } else if score >= t.medium {
            Segment::Medium
        } else {
            Segment::Low
        }
    }

    /// The segment after `score`, coming from `current`: up as soon as a threshold is reached,
    /// down only once the score is `hysteresis` below it.
    pub fn next(current: Segment, score: f32, t: &Thresholds, hysteresis: f32) -> Segment {
        let raw = Segment::of(score, t);
        if raw >= current {
            raw
        } else {
            current.min(Segment::of(score + hysteresis, t))
        }
    }
}

/// How an engine is set up beyond its model.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineOptions {
    /// The per-device salt for item and category ids.
    pub salt: Salt,
    /// Minutes to add to UTC for the shop's local time.
    pub utc_offset_min: i32,
    /// The hysteresis margin, 0 to 0.5.
    pub hysteresis: f32,
    /// Segment thresholds; `None` takes the manifest's.
    pub thresholds: Option<Thresholds>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { salt: [0; 16], utc_offset_min: 0, hysteresis: DEFAULT_HYSTERESIS, thresholds: None }
    }
}

/// What one tracked event did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Update {
    /// The probability of a purchase in this session, now.
    pub score: f32,
    /// The segment now.
    pub segment: Segment,
    /// The segment before this event.
    pub previous_segment: Segment,
    /// Whether the segment changed: the moment to call segment hooks.
    pub segment_changed: bool,
    /// The session has a purchase (the score is then 1).
    pub converted: bool,
    /// The event's kind is not one the model reads: nothing changed.
    pub ignored: bool,
    /// The event started a new session.
    pub new_session: bool,
    /// Events in the current session.
    pub events: u32,
}

/// One point of the current session's score curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScorePoint {
    /// The event's position in the session, from 0.
    pub position: u32,
    /// Its kind.
    pub kind: EventKind,
    /// The score after it.
    pub score: f32,
}

/// A reason behind the current score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factor {
    /// A stable id, e.g. `"carts"`.
    pub factor: &'static str,
    /// Words for people, e.g. `"Added to cart"`.
    pub label: &'static str,
    /// How much the score drops when this factor is taken out of the window (negative: it
    /// lowers the score).
    pub effect: f32,
}

/// The purchase-intent engine: a [`Window`] scored by a [`SequenceModel`].
#[derive(Debug)]
pub struct Engine {
    model: SequenceModel,
    window: Window,
    lstm: LstmState,
    score: f32,
    segment: Segment,
    thresholds: Thresholds,
    hysteresis: f32,
    points: Vec<ScorePoint>,
}

impl Engine {
    /// An engine with an empty window.
    pub fn new(model: SequenceModel, options: EngineOptions) -> Result<Engine, Error> {
        let m = model.manifest();
        let config = WindowConfig {
            window: m.window,
            utc_offset_min: options.utc_offset_min,
            kinds: m.kind_set()?,
            salt: options.salt,
        };
        let thresholds = options.thresholds.unwrap_or(m.segments);
        thresholds.validate()?;
        if !(0.0..=0.5).contains(&options.hysteresis) {
            return Err(Error::BadOptions(format!("hysteresis must be 0 to 0.5, got {}", options.hysteresis)));
        }
        let window = Window::new(config)?;
        let lstm = model.zero_state();
        Ok(Engine {
            model,
            window,
            lstm,
            score: 0.0,
            segment: Segment::Low,
            thresholds,
            hysteresis: options.hysteresis,
            points: Vec::new(),
        })
    }

    /// Tracks one event and returns what changed. On error nothing changes.
    pub fn track(&mut self, event: &Event) -> Result<Update, Error> {
        let before = self.segment;
        // Work on a copy so that a model error leaves the engine as it was.
        let mut window = self.window.clone();
        let pushed = window.push(event)?;
        if pushed.outcome == Outcome::Ignored {
            return Ok(self.update(before, false, true));
        }
        let mut lstm = if pushed.new_session { self.model.zero_state() } else { self.lstm.clone() };
        let score = match pushed.outcome {
            Outcome::Row => {
                let row = window.last_row().copied().unwrap_or([0.0; SEQ_LEN]);
                if window.prefix() as usize > window.config().window {
                    // The window has rolled: re-run the last W rows from a zero state, exactly as
                    // the model saw right-padded windows in training.
                    let (scores, state) = self.model.run(window.rows())?;
                    lstm = state;
                    scores.last().copied().unwrap_or(0.0)
                } else {
                    self.model.step(&row, &mut lstm)?
                }
            }
            Outcome::Purchase | Outcome::AfterPurchase => 1.0,
            Outcome::Ignored => self.score,
        };
        if pushed.new_session {
            self.points.clear();
            self.segment = Segment::Low;
        }
        if pushed.outcome == Outcome::Row || pushed.outcome == Outcome::Purchase {
            if self.points.len() == MAX_SCORE_POINTS {
                self.points.remove(0);
            }
            self.points.push(ScorePoint { position: window.session_events() - 1, kind: event.kind, score });
        }
        self.window = window;
        self.lstm = lstm;
        self.score = score;
        self.segment = if self.window.converted() {
            Segment::High
        } else {
            Segment::next(self.segment, score, &self.thresholds, self.hysteresis)
        };
        Ok(self.update(before, pushed.new_session, false))
    }

    fn update(&self, before: Segment, new_session: bool, ignored: bool) -> Update {
        Update {
            score: self.score,
            segment: self.segment,
            previous_segment: before,
            segment_changed: self.segment != before,
            converted: self.window.converted(),
            ignored,
            new_session,
            events: self.window.session_events(),
        }
    }

    /// The current score (0 before the first event).
    pub fn score(&self) -> f32 {
        self.score
    }

    /// The current segment.
    pub fn segment(&self) -> Segment {
        self.segment
    }

    /// The segment thresholds in force.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Replaces the segment thresholds; the segment is recomputed from the current score.
    pub fn set_thresholds(&mut self, thresholds: Thresholds) -> Result<(), Error> {
        thresholds.validate()?;
        self.thresholds = thresholds;
        if !self.window.converted() {
            self.segment = Segment::of(self.score, &thresholds);
        }
        Ok(())
    }

    /// The window.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// The model.
    pub fn model(&self) -> &SequenceModel {
        &self.model
    }

    /// The current session's score curve.
    pub fn points(&self) -> &[ScorePoint] {
        &self.points
    }

    /// The factors behind the current score, largest effect first: for each group of feature
    /// columns, how much the score drops when the group is zeroed across the window (occlusion).
    pub fn explain(&mut self) -> Result<Vec<Factor>, Error> {
        if self.window.converted() {
            return Ok(vec![Factor { factor: "purchase", label: "Purchased in this session", effect: 1.0 }]);
        }
        let rows: Vec<[f32; SEQ_LEN]> = self.window.rows().copied().collect();
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let (base, _) = self.model.run(rows.iter())?;
        let base = base.last().copied().unwrap_or(0.0);
        let mut factors = Vec::with_capacity(FACTOR_GROUPS.len());
        for (factor, label, cols) in FACTOR_GROUPS {
            if rows.iter().all(|r| cols.iter().all(|&c| r[c] == 0.0)) {
                continue;
            }
            let masked: Vec<[f32; SEQ_LEN]> = rows
                .iter()
                .map(|r| {
                    let mut r = *r;
                    for &c in *cols {
                        r[c] = 0.0;
                    }
                    r
                })
                .collect();
            let (scores, _) = self.model.run(masked.iter())?;
            factors.push(Factor { factor, label, effect: base - scores.last().copied().unwrap_or(0.0) });
        }
        factors.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
        Ok(factors)
    }

    /// The whole state, for storage: the window (with its salt) and the segment; scores are
    /// recomputed on restore.
    pub fn export_state(&self) -> Vec<u8> {
        let mut bytes = self.window.to_bytes();
        bytes.push(self.segment as u8);
        bytes
    }

    /// Restores state from [`Engine::export_state`]. The state must have been made for this
    /// model's window and kinds; pending items older than their expiry at `now_ms` are dropped.
    /// On error the engine is unchanged.
    pub fn restore_state(&mut self, bytes: &[u8], now_ms: i64) -> Result<(), Error> {
        let (&segment, window_bytes) = bytes.split_last().ok_or_else(|| Error::BadState("empty".into()))?;
        let segment = match segment {
            0 => Segment::Low,
            1 => Segment::Medium,
            2 => Segment::High,
            _ => return Err(Error::BadState("not a shopper-intent engine state".into())),
        };
        let mut window = Window::from_bytes(window_bytes)?;
        let mine = self.window.config();
        let theirs = window.config();
        if theirs.window != mine.window || theirs.kinds != mine.kinds {
            return Err(Error::BadState(format!(
                "state was made for a model with window {} and other event kinds; this model has window {}",
                theirs.window, mine.window
            )));
        }
        window.expire(now_ms);
        // Recompute the scores of the rows kept: exact for the current score, and for the curve
        // of sessions that have not outgrown the window.
        let rows: Vec<[f32; SEQ_LEN]> = window.rows().copied().collect();
        let (scores, lstm) = self.model.run(rows.iter())?;
        let first = window.prefix().saturating_sub(rows.len() as u32);
        let mut points: Vec<ScorePoint> = rows
            .iter()
            .zip(&scores)
            .enumerate()
            .map(|(i, (row, &score))| {
                let kind = (0..EventKind::COUNT).find(|&k| row[k] == 1.0).and_then(EventKind::from_index).unwrap_or(EventKind::ViewItem);
                ScorePoint { position: first + i as u32, kind, score }
            })
            .collect();
        let converted = window.converted();
        if converted {
            points.push(ScorePoint { position: window.prefix(), kind: EventKind::Purchase, score: 1.0 });
        }
        self.score = if converted { 1.0 } else { scores.last().copied().unwrap_or(0.0) };
        // The saved segment carries the hysteresis across the reload.
        self.segment = if converted {
            Segment::High
        } else {
            Segment::next(segment, self.score, &self.thresholds, self.hysteresis)
        };
        self.points = points;
        self.lstm = lstm;
        self.window = window;
        Ok(())
    }

    /// Forgets the shopper: window, history, scores. The salt stays (it identifies nothing).
    pub fn forget(&mut self) {
        self.window.forget();
        self.lstm = self.model.zero_state();
        self.score = 0.0;
        self.segment = Segment::Low;
        self.points.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis_goes_up_at_once_and_down_late() {
        let t = Thresholds { medium: 0.1, high: 0.3 };
        let h = 0.02;
        assert_eq!(Segment::next(Segment::Low, 0.1, &t, h), Segment::Medium);
        assert_eq!(Segment::next(Segment::Low, 0.31, &t, h), Segment::High);
        assert_eq!(Segment::next(Segment::High, 0.29, &t, h), Segment::High);
        assert_eq!(Segment::next(Segment::High, 0.279, &t, h), Segment::Medium);
        assert_eq!(Segment::next(Segment::High, 0.05, &t, h), Segment::Low);
        assert_eq!(Segment::next(Segment::Medium, 0.09, &t, h), Segment::Medium);
        assert_eq!(Segment::next(Segment::Medium, 0.079, &t, h), Segment::Low);
    }
}
