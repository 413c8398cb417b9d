//! [`Engine`]: a window and a model. Scores every tracked event with one step of the LSTM from
//! the session's carried state, keeps the segment with hysteresis, explains the score, and
//! returns everything as data for the caller to act on.
//!
//! ```no_run
//! use shopper_intent::{Engine, EngineOptions, Event, EventKind, SequenceModel};
//! let model = SequenceModel::load(&std::fs::read("models/intent.bin")?, &std::fs::read_to_string("models/intent.json")?)?;
//! let mut engine = Engine::new(model, EngineOptions { salt: [42; 16], ..EngineOptions::default() })?;
//! let update = engine.track(&Event::new(EventKind::ViewItem, 1_700_000_000_000).with_item("sku-1", "shoes"))?;
//! if update.segment_changed {
//!     println!("now {}: {:.3}", update.segment.name(), update.score);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The per-shopper bookkeeping lives in [`Tracker`], which asks for a model step and takes its
//! result back; [`Engine`] pairs one tracker with a [`SequenceModel`], and
//! [`crate::batch::BatchScorer`] many trackers with one [`crate::model::BatchModel`]. Both
//! therefore score exactly the same way.

use std::collections::VecDeque;

use crate::error::Error;
use crate::event::{Event, EventKind, Kind};
use crate::features::factor_groups;
use crate::hash::Salt;
use crate::model::{LstmState, SequenceModel, Thresholds};
use crate::state::{bad, fnv1a, Reader, Writer};
use crate::window::{Outcome, Window, WindowConfig, SESSION_GAP_MS};

/// Score points kept for the current session (the newest ones).
pub const MAX_SCORE_POINTS: usize = 512;
/// The default hysteresis margin: a segment is left downwards only once the score is this far
/// below its threshold.
pub const DEFAULT_HYSTERESIS: f32 = 0.02;

/// A coarse level of purchase intent, from the score and the thresholds.
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

    fn from_byte(b: u8) -> Option<Segment> {
        [Segment::Low, Segment::Medium, Segment::High].get(usize::from(b)).copied()
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
    /// The per-device salt for item, category and session ids.
    pub salt: Salt,
    /// Minutes to add to UTC for the shop's local time; `None` takes the manifest's.
    pub utc_offset_min: Option<i32>,
    /// The hysteresis margin, 0 to 0.5.
    pub hysteresis: f32,
    /// Segment thresholds; `None` takes the manifest's.
    pub thresholds: Option<Thresholds>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { salt: [0; 16], utc_offset_min: None, hysteresis: DEFAULT_HYSTERESIS, thresholds: None }
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
    /// Events of the session before its purchase: the prefix the score is for.
    pub prefix: u32,
    /// The event added a feature row and the model scored it (false for ignored kinds, the
    /// purchase and events after it).
    pub scored: bool,
}

/// One point of the current session's score history.
#[derive(Clone, Debug, PartialEq)]
pub struct ScorePoint {
    /// The event's position in the session, from 0.
    pub position: u32,
    /// Its kind.
    pub kind: Kind,
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
    /// How much the score drops when this factor is taken out of the last W events (negative:
    /// it lowers the score).
    pub effect: f32,
}

/// The LSTM states that go with the window's rows: `first` is the state before the oldest kept
/// row, the last is the current one. Flat and preallocated: W + 1 states of 2H numbers.
#[derive(Clone, Debug)]
struct StateRing {
    hidden: usize,
    cap: usize,
    data: Vec<f32>,
    start: usize,
    len: usize,
}

impl StateRing {
    fn new(hidden: usize, window: usize) -> StateRing {
        let cap = window + 1;
        StateRing { hidden, cap, data: vec![0.0; cap * 2 * hidden], start: 0, len: 1 }
    }

    fn slot(&self, i: usize) -> &[f32] {
        let s = (self.start + i) % self.cap;
        &self.data[s * 2 * self.hidden..(s + 1) * 2 * self.hidden]
    }

    /// Back to one zero state.
    fn reset(&mut self) {
        self.start = 0;
        self.len = 1;
        self.data[..2 * self.hidden].fill(0.0);
    }

    /// Back to one given state.
    fn reset_to(&mut self, state: &LstmState) {
        self.reset();
        self.data[..self.hidden].copy_from_slice(&state.h);
        self.data[self.hidden..2 * self.hidden].copy_from_slice(&state.c);
    }

    fn read(&self, i: usize, into: &mut LstmState) {
        let s = self.slot(i);
        into.h.copy_from_slice(&s[..self.hidden]);
        into.c.copy_from_slice(&s[self.hidden..]);
    }

    fn first(&self, into: &mut LstmState) {
        self.read(0, into);
    }

    fn last(&self, into: &mut LstmState) {
        self.read(self.len - 1, into);
    }

    /// Appends a state, dropping the first when full.
    fn push(&mut self, h: &[f32], c: &[f32]) {
        let s = if self.len == self.cap {
            let s = self.start;
            self.start = (self.start + 1) % self.cap;
            s
        } else {
            self.len += 1;
            (self.start + self.len - 1) % self.cap
        };
        let at = s * 2 * self.hidden;
        self.data[at..at + self.hidden].copy_from_slice(h);
        self.data[at + self.hidden..at + 2 * self.hidden].copy_from_slice(c);
    }
}

/// What [`Tracker::begin`] asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Begun {
    /// Nothing more to do: here is the update.
    Done(Update),
    /// The window has a new row: step the model from [`Tracker::state`] over
    /// [`Tracker::row`], then call [`Tracker::finish`].
    Step {
        /// The segment before the event.
        before: Segment,
        /// Whether the event started a session.
        new_session: bool,
    },
}

/// One shopper's scoring state without a model: the window, the LSTM states of its rows, the
/// score, the segment and the score history. A model step is asked for and taken back, so
/// that one model can serve one tracker ([`Engine`]) or many ([`crate::batch::BatchScorer`]).
#[derive(Clone, Debug)]
pub struct Tracker {
    window: Window,
    ring: StateRing,
    hidden: usize,
    score: f32,
    segment: Segment,
    thresholds: Thresholds,
    hysteresis: f32,
    history: VecDeque<ScorePoint>,
    /// The kind of the event waiting for its step.
    waiting: Option<Kind>,
    /// Set when a model step failed: the window then has a row without its state.
    failed: Option<String>,
    /// Set by a restore that found the session over (its last event more than the session gap
    /// before the time of the restore), with the segment the session had: the score is 0 and the
    /// segment low, and the session has no history or factors, until the next event. That event
    /// starts a new session, or (an event of that time, or with the session's id) takes the
    /// session up again where it was, its segment (for the hysteresis) included.
    ended: Option<Segment>,
}

impl Tracker {
    /// An empty tracker for a model of `hidden` units that reads `config.kinds`.
    pub fn new(config: WindowConfig, hidden: usize, thresholds: Thresholds, hysteresis: f32) -> Result<Tracker, Error> {
        thresholds.validate()?;
        if !(0.0..=0.5).contains(&hysteresis) {
            return Err(Error::BadOptions(format!("hysteresis must be 0 to 0.5, got {hysteresis}")));
        }
        let window = Window::new(config)?;
        let ring = StateRing::new(hidden, window.config().window);
        Ok(Tracker {
            window,
            ring,
            hidden,
            score: 0.0,
            segment: Segment::Low,
            thresholds,
            hysteresis,
            history: VecDeque::new(),
            waiting: None,
            failed: None,
            ended: None,
        })
    }

    fn usable(&self) -> Result<(), Error> {
        match &self.failed {
            Some(why) => Err(Error::Failed(format!("the model failed on an earlier event ({why}); this engine is unusable"))),
            None if self.waiting.is_some() => Err(Error::Failed("a model step was asked for and never given".into())),
            None => Ok(()),
        }
    }

    fn update(&self, before: Segment, new_session: bool, ignored: bool, scored: bool) -> Update {
        Update {
            score: self.score,
            segment: self.segment,
            previous_segment: before,
            segment_changed: self.segment != before,
            converted: self.window.converted(),
            ignored,
            new_session,
            events: self.window.session_events(),
            prefix: self.window.prefix(),
            scored,
        }
    }

    fn record(&mut self, position: u32, kind: Kind, score: f32) {
        while self.history.len() >= MAX_SCORE_POINTS {
            self.history.pop_front();
        }
        self.history.push_back(ScorePoint { position, kind, score });
    }

    /// Pushes the event into the window. An error changes nothing.
    pub fn begin(&mut self, event: &Event) -> Result<Begun, Error> {
        self.usable()?;
        let before = self.segment;
        let pushed = self.window.push(event)?;
        if pushed.outcome == Outcome::Ignored {
            return Ok(Begun::Done(self.update(before, false, true, false)));
        }
        let ended = self.ended.take();
        if pushed.new_session {
            self.history.clear();
            self.segment = Segment::Low;
            self.ring.reset();
        } else if let Some(segment) = ended {
            // The session a restore found over goes on where it was: with its segment, and high
            // with a score of 1 if it had a purchase.
            self.segment = segment;
            if self.window.converted() {
                self.score = 1.0;
                self.segment = Segment::High;
            }
        }
        match pushed.outcome {
            Outcome::Row => {
                self.waiting = Some(event.kind.clone());
                Ok(Begun::Step { before, new_session: pushed.new_session })
            }
            Outcome::Purchase => {
                self.score = 1.0;
                self.record(self.window.prefix(), EventKind::Purchase.into(), 1.0);
                self.segment = Segment::High;
                Ok(Begun::Done(self.update(before, pushed.new_session, false, false)))
            }
            Outcome::AfterPurchase | Outcome::Ignored => Ok(Begun::Done(self.update(before, pushed.new_session, false, false))),
        }
    }

    /// The newest row, the one to step over.
    pub fn row(&self) -> &[f32] {
        self.window.last_row().unwrap_or(&[])
    }

    /// The state to step from (the state after the previous row of the session).
    pub fn state(&self, into: &mut LstmState) {
        self.ring.last(into);
    }

    /// Takes the step's result: the score `p` and the new state.
    pub fn finish(&mut self, begun: Begun, p: f32, next: &LstmState) -> Update {
        let Begun::Step { before, new_session } = begun else {
            return match begun {
                Begun::Done(u) => u,
                Begun::Step { .. } => unreachable!(),
            };
        };
        let kind = self.waiting.take().unwrap_or_else(|| EventKind::PageView.into());
        self.ring.push(&next.h, &next.c);
        self.score = p;
        self.record(self.window.prefix() - 1, kind, p);
        self.segment = Segment::next(self.segment, p, &self.thresholds, self.hysteresis);
        self.update(before, new_session, false, true)
    }

    /// Marks the tracker unusable after a failed step (its window holds a row without a state).
    pub fn fail(&mut self, why: &Error) {
        self.waiting = None;
        self.failed = Some(why.to_string());
    }

    /// The window.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// The current score (0 before the first event).
    pub fn score(&self) -> f32 {
        self.score
    }

    /// The current segment.
    pub fn segment(&self) -> Segment {
        self.segment
    }

    /// Forgets the shopper: window, earlier sessions, scores; ids are hashed with `salt` from
    /// now on, so that no hash made before links to one made after.
    pub fn forget(&mut self, salt: Salt) {
        self.window.forget(salt);
        self.ring.reset();
        self.score = 0.0;
        self.segment = Segment::Low;
        self.history.clear();
        self.waiting = None;
        self.ended = None;
    }
}

/// The purchase-intent engine: a [`Tracker`] scored by a [`SequenceModel`].
#[derive(Debug)]
pub struct Engine {
    model: SequenceModel,
    tracker: Tracker,
    scratch: LstmState,
}

impl Engine {
    /// An engine with an empty window.
    pub fn new(model: SequenceModel, options: EngineOptions) -> Result<Engine, Error> {
        let m = model.manifest();
        let utc_offset_min = options.utc_offset_min.unwrap_or(m.utc_offset());
        let config = WindowConfig { window: m.window, utc_offset_min, kinds: m.kinds()?, salt: options.salt };
        let thresholds = options.thresholds.unwrap_or(m.segments);
        let tracker = Tracker::new(config, model.hidden(), thresholds, options.hysteresis)?;
        let scratch = model.zero_state();
        Ok(Engine { model, tracker, scratch })
    }

    /// Tracks one event and returns what changed. An invalid event is an error and changes
    /// nothing; a model that fails to run (which a loaded model does not do) leaves the engine
    /// unusable, with [`Error::Failed`] from then on.
    pub fn track(&mut self, event: &Event) -> Result<Update, Error> {
        let begun = self.tracker.begin(event)?;
        if let Begun::Done(u) = begun {
            return Ok(u);
        }
        self.tracker.state(&mut self.scratch);
        match self.model.step(self.tracker.row(), &mut self.scratch) {
            Ok(p) => Ok(self.tracker.finish(begun, p, &self.scratch)),
            Err(e) => {
                self.tracker.fail(&e);
                Err(Error::Failed(format!("the model failed: {e}")))
            }
        }
    }

    /// The current score (0 before the first event).
    pub fn score(&self) -> f32 {
        self.tracker.score
    }

    /// The current segment.
    pub fn segment(&self) -> Segment {
        self.tracker.segment
    }

    /// The segment thresholds in force.
    pub fn thresholds(&self) -> Thresholds {
        self.tracker.thresholds
    }

    /// Replaces the segment thresholds; the segment is recomputed from the current score.
    pub fn set_thresholds(&mut self, thresholds: Thresholds) -> Result<(), Error> {
        thresholds.validate()?;
        let t = &mut self.tracker;
        t.thresholds = thresholds;
        if !t.window.converted() {
            t.segment = Segment::of(t.score, &thresholds);
            // A session a restore found over holds the segment it would go on with: the one its
            // last score has under these thresholds, as an engine never saved would hold.
            if let (Some(held), Some(last)) = (t.ended.as_mut(), t.history.back()) {
                *held = Segment::of(last.score, &thresholds);
            }
        }
        Ok(())
    }

    /// The window.
    pub fn window(&self) -> &Window {
        &self.tracker.window
    }

    /// The model.
    pub fn model(&self) -> &SequenceModel {
        &self.model
    }

    /// The current session's score history, oldest first (at most [`MAX_SCORE_POINTS`]).
    pub fn history(&self) -> impl ExactSizeIterator<Item = &ScorePoint> {
        // A session a restore found over has no history until it goes on (`Tracker::ended`).
        self.tracker.history.iter().take(if self.tracker.ended.is_some() { 0 } else { usize::MAX })
    }

    /// The factors behind the current score, largest effect first: for each group of feature
    /// columns, how much the score drops when the group is zeroed in the last W events, each run
    /// from the state before them (occlusion). Before the first event: none.
    pub fn explain(&mut self) -> Result<Vec<Factor>, Error> {
        self.tracker.usable()?;
        let t = &self.tracker;
        if t.ended.is_some() {
            // A session a restore found over: its score is 0 and nothing is behind it.
            return Ok(Vec::new());
        }
        if t.window.converted() {
            return Ok(vec![Factor { factor: "purchase", label: "Purchased in this session", effect: 1.0 }]);
        }
        let rows: Vec<&[f32]> = t.window.rows().iter().collect();
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut start = self.model.zero_state();
        t.ring.first(&mut start);
        let base = t.score;
        let groups = factor_groups(&t.window.config().kinds);
        let mut factors = Vec::with_capacity(groups.len());
        let mut masked = vec![0.0; rows[0].len()];
        for g in groups {
            if rows.iter().all(|r| g.columns.iter().all(|&c| r[c] == 0.0)) {
                continue;
            }
            let mut state = start.clone();
            let mut p = 0.0;
            for r in &rows {
                masked.copy_from_slice(r);
                for &c in &g.columns {
                    masked[c] = 0.0;
                }
                p = self.model.step(&masked, &mut state)?;
            }
            factors.push(Factor { factor: g.id, label: g.label, effect: base - p });
        }
        factors.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
        Ok(factors)
    }

    /// The whole state, for storage: the window (with its salt), the segment, the LSTM state
    /// before the oldest kept row, and which model it was made with; one checksum covers every
    /// byte. Scores are recomputed on restore from the kept rows, exactly.
    pub fn export_state(&self) -> Vec<u8> {
        let t = &self.tracker;
        let mut w = Writer(Vec::with_capacity(512 + t.window.rows().len() * t.window.rows().width() * 4));
        w.bytes(ENGINE_MAGIC);
        w.u8(ENGINE_STATE_FORMAT);
        w.u64(self.model.manifest().weights_id());
        // A session a restore found over shows low, and holds its own segment in case it goes
        // on: the held one is saved, so that a save and restore of it change nothing.
        w.u8(t.ended.unwrap_or(t.segment) as u8);
        w.u16(t.hidden as u16);
        let mut start = self.model.zero_state();
        t.ring.first(&mut start);
        for v in start.h.iter().chain(&start.c) {
            w.f32(*v);
        }
        t.window.write(&mut w);
        let sum = fnv1a(&w.0);
        w.u64(sum);
        w.0
    }

    /// Restores state from [`Engine::export_state`]. A state of another format or feature
    /// version, window or kinds is refused. A state of another model (a shop deployed a new one)
    /// is recomputed when its session's every row is kept (a session of at most W events before
    /// its purchase) and the local time is this model's: this model's steps from the zero state
    /// over those rows, the scores and segment it would have given had it tracked them. Another
    /// model's longer session, or one of another local time, is ended into the earlier sessions
    /// when it is over by the clock at `now_ms` (the history kept); while it goes on it is
    /// refused, never scored from the other model's LSTM state. Pending items past their expiry
    /// are dropped when the next session starts, by its first event's time, as in an engine never
    /// saved. On error the engine is unchanged.
    pub fn restore_state(&mut self, bytes: &[u8], now_ms: i64) -> Result<(), Error> {
        self.tracker.usable()?;
        if bytes.len() < 4 || &bytes[..4] != ENGINE_MAGIC {
            return Err(bad("not a shopper-intent engine state"));
        }
        if bytes.len() < 5 + 8 {
            return Err(bad("truncated"));
        }
        if bytes[4] != ENGINE_STATE_FORMAT {
            return Err(bad(format!("engine state format {}, this engine reads {ENGINE_STATE_FORMAT}", bytes[4])));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if u64::from_le_bytes(sum.try_into().map_err(|_| bad("truncated"))?) != fnv1a(body) {
            return Err(bad("checksum mismatch (corrupt or truncated)"));
        }
        let mut r = Reader { bytes: body, at: 5 };
        let model_id = r.u64()?;
        let same_model = model_id == self.model.manifest().weights_id();
        let segment = Segment::from_byte(r.u8()?).ok_or_else(|| bad("not a segment"))?;
        let hidden = usize::from(r.u16()?);
        if same_model && hidden != self.model.hidden() {
            return Err(bad("state of another hidden size"));
        }
        let mut start = self.model.zero_state();
        if same_model {
            for v in start.h.iter_mut().chain(start.c.iter_mut()) {
                *v = r.f32()?;
            }
        } else {
            // Another model's LSTM state means nothing to this one: read past it.
            for _ in 0..2 * hidden {
                r.f32()?;
            }
        }
        let mut window = Window::read(&mut r)?;
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        let mine = self.tracker.window.config();
        let theirs = window.config();
        if theirs.window != mine.window || theirs.kinds != mine.kinds {
            return Err(bad("state was made for another window or other event kinds"));
        }
        // A session whose last event is more than the session gap before now is over: its score
        // is not the shopper's intent now. So is one whose last event is more than the gap after
        // now (a clock that ran ahead when it was saved, corrected since), as tracking takes such
        // a clock for a new session.
        let is_over = |w: &Window| {
            w.session
                .as_ref()
                .is_some_and(|s| now_ms.saturating_sub(s.last_ms) > SESSION_GAP_MS || s.last_ms.saturating_sub(now_ms) > SESSION_GAP_MS)
        };
        // Another model's session that it cannot recompute (below), over by the clock: ended as
        // the next event would end it, into the earlier sessions, so that a deploy keeps the
        // shopper's history (earlier sessions, items left in the cart). It is not taken up again.
        let foreign = !same_model && (window.prefix() as usize != window.rows().len() || theirs.utc_offset_min != mine.utc_offset_min);
        if foreign && is_over(&window) {
            window.end_session();
        }
        let mine = self.tracker.window.config();
        let theirs = window.config();
        if !same_model && window.prefix() as usize != window.rows().len() {
            return Err(bad(format!(
                "state was made with another model ({model_id:016x}; this one is {}) and its session is longer than the {} rows kept: it cannot be recomputed",
                self.model.manifest().model.weights_fnv1a64,
                mine.window
            )));
        }
        // The rows' hour of day was worked out in the shop's time of the state: another model
        // that reads another time would not have seen those rows.
        if !same_model && window.session.is_some() && theirs.utc_offset_min != mine.utc_offset_min {
            return Err(bad(format!(
                "state was made with another model ({model_id:016x}; this one is {}) in another local time (UTC{:+} minutes; this one UTC{:+}): it cannot be recomputed",
                self.model.manifest().model.weights_fnv1a64,
                theirs.utc_offset_min,
                mine.utc_offset_min
            )));
        }
        if window.session.is_none() && start.h.iter().chain(&start.c).any(|v| *v != 0.0) {
            return Err(bad("a state without a session must start from zero"));
        }
        // An LSTM keeps |h| <= 1, and |c| under the number of steps taken (each step adds less
        // than 1 to it): a state beyond that was not made by an engine.
        let steps = window.prefix().saturating_sub(window.rows().len() as u32) as f32;
        if start.h.iter().any(|v| v.abs() > 1.0) || start.c.iter().any(|v| v.abs() > steps + 1.0) {
            return Err(bad("an LSTM state out of its range (|h| above 1, or |c| above the steps taken)"));
        }
        // The state keeps its salt (its hashes are made with it) but takes this engine's local
        // time for the events to come: a shop that corrects its UTC offset is heard at once.
        window.set_utc_offset(mine.utc_offset_min);
        // Over (above): expired pending items are not dropped here: the window drops them when
        // the next session starts, by that event's time, as in an engine never saved (the
        // session may yet go on).
        let over = is_over(&window);
        // Recompute the states and scores of the kept rows from the saved start state: the same
        // steps as when they were tracked, so the same numbers.
        let mut ring = self.tracker.ring.clone();
        ring.reset_to(&start);
        let mut history = VecDeque::new();
        let first = window.prefix() - window.rows().len() as u32;
        let kinds: Vec<&Kind> = window.config().kinds.with_columns().collect();
        let mut state = start;
        let mut score = 0.0;
        // Another model's session is this model's from its first row: its segment too, with the
        // hysteresis, as tracking would have moved it from low at the session's start.
        let mut placed = Segment::Low;
        for (i, row) in window.rows().iter().enumerate() {
            score = self.model.step(row, &mut state)?;
            placed = Segment::next(placed, score, &self.tracker.thresholds, self.tracker.hysteresis);
            ring.push(&state.h, &state.c);
            let kind = row.iter().take(kinds.len()).position(|v| *v == 1.0).map(|c| kinds[c].clone());
            let kind = kind.ok_or_else(|| bad("a row without its event kind"))?;
            history.push_back(ScorePoint { position: first + i as u32, kind, score });
        }
        let converted = window.converted();
        if converted {
            history.push_back(ScorePoint { position: window.prefix(), kind: EventKind::Purchase.into(), score: 1.0 });
            score = 1.0;
        }
        // A window of more rows than the history keeps: its newest points, as tracking keeps.
        while history.len() > MAX_SCORE_POINTS {
            history.pop_front();
        }
        let t = &mut self.tracker;
        // The saved segment carries the hysteresis across the reload; another model's segment
        // is not this one's judgement: the recomputed scores place the session then.
        let carried = if converted {
            Segment::High
        } else if same_model {
            Segment::next(segment, score, &t.thresholds, t.hysteresis)
        } else {
            placed
        };
        t.ended = over.then_some(carried);
        t.waiting = None;
        t.score = if over { 0.0 } else { score };
        t.segment = if over { Segment::Low } else { carried };
        t.history = history;
        t.ring = ring;
        t.window = window;
        Ok(())
    }

    /// Forgets the shopper: window, earlier sessions, scores; `salt` (new random bytes) replaces
    /// the salt, so that nothing kept after links to anything kept before.
    pub fn forget(&mut self, salt: Salt) {
        self.tracker.forget(salt);
    }
}

const ENGINE_MAGIC: &[u8; 4] = b"SIEN";
/// The engine state format this engine writes and reads.
pub const ENGINE_STATE_FORMAT: u8 = 1;

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

    #[test]
    fn the_state_ring_keeps_the_state_before_the_oldest_row() {
        let mut r = StateRing::new(1, 2);
        let mut s = LstmState::zero(1);
        for v in 1..=5 {
            r.push(&[v as f32], &[-(v as f32)]);
            r.first(&mut s);
            // W = 2 rows: the first state is the one before the older of the last two.
            assert_eq!(s.h[0], (v as f32 - 2.0).max(0.0));
            r.last(&mut s);
            assert_eq!((s.h[0], s.c[0]), (v as f32, -(v as f32)));
        }
    }
}
