//! The training protocol: user splits, sessions, prefix samples and labels.
//!
//! Sessions split at 30-minute gaps per user (the window's rule); a session's label is whether it
//! contains a purchase; every prefix k >= 1 of the events before its first purchase is one sample;
//! sessions that start with the purchase have no sample and are counted. Users are ordered by
//! `sha256("{seed}:{user_id}")`: the first 70% train, the next 15% validation, the rest test.

use serde::Serialize;
use sha2::{Digest, Sha256};
use shopper_intent::features::{AGG_LEN, SEQ_LEN};
use shopper_intent::{Engine, Error, Event, Window};

use crate::logs::UserLog;

/// A user split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The first 70% of users.
    Train,
    /// The next 15%.
    Val,
    /// The rest.
    Test,
}

impl Split {
    /// All splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// `train`, `val` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// The split of each user, in the order given.
pub fn assign_splits(users: &[UserLog], seed: u64) -> Vec<Split> {
    let mut order: Vec<(Vec<u8>, usize)> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (Sha256::digest(format!("{seed}:{}", u.user).as_bytes()).to_vec(), i))
        .collect();
    order.sort();
    let n = users.len();
    let train = n * 70 / 100;
    let val = n * 85 / 100;
    let mut out = vec![Split::Test; n];
    for (rank, (_, i)) in order.into_iter().enumerate() {
        out[i] = if rank < train {
            Split::Train
        } else if rank < val {
            Split::Val
        } else {
            Split::Test
        };
    }
    out
}

/// Something that takes events and keeps a window: a bare [`Window`] for featurizing, an
/// [`Engine`] for scoring.
pub trait Stepper {
    /// Pushes one event; returns the score after it (0 for a bare window).
    fn push(&mut self, event: &Event) -> Result<f32, Error>;
    /// The window.
    fn window(&self) -> &Window;
}

impl Stepper for Window {
    fn push(&mut self, event: &Event) -> Result<f32, Error> {
        Window::push(self, event).map(|_| 0.0)
    }
    fn window(&self) -> &Window {
        self
    }
}

impl Stepper for Engine {
    fn push(&mut self, event: &Event) -> Result<f32, Error> {
        self.track(event).map(|u| u.score)
    }
    fn window(&self) -> &Window {
        Engine::window(self)
    }
}

/// Counts over a set of users.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Users.
    pub users: usize,
    /// Events accepted.
    pub events: usize,
    /// Sessions.
    pub sessions: usize,
    /// Sessions with a purchase.
    pub positive_sessions: usize,
    /// Sessions whose first event is the purchase (no sample).
    pub sessions_starting_with_purchase: usize,
    /// Samples (prefixes).
    pub samples: usize,
    /// Samples from positive sessions.
    pub positive_samples: usize,
}

/// One prefix sample as the walk produces it.
pub struct SampleRef<'a> {
    /// The window after the sample's last event.
    pub window: &'a Window,
    /// The score the stepper gave.
    pub score: f32,
    /// The session index (unique over the walk).
    pub session: i64,
}

/// Walks one user's events through `stepper`, calling `sample` for every prefix sample and
/// `label` once per session with the range of its samples (as indices of `sample` calls) and
/// its label. Events the window rejects go to `rejected` with their line numbers.
pub fn walk_user<S: Stepper>(
    events: &[(usize, Event)],
    stepper: &mut S,
    next_session: &mut i64,
    counts: &mut Counts,
    sample: &mut dyn FnMut(SampleRef<'_>),
    label: &mut dyn FnMut(usize, bool),
    rejected: &mut dyn FnMut(usize, Error),
) {
    counts.users += 1;
    let mut in_session = 0usize; // samples of the current session
    let mut positive = false;
    let mut open = false;
    for (line, event) in events {
        let before_prefix = stepper.window().prefix();
        let before_converted = stepper.window().converted();
        let before_start = stepper.window().session_start_ms();
        let score = match stepper.push(event) {
            Ok(s) => s,
            Err(e) => {
                rejected(*line, e);
                continue;
            }
        };
        let w = stepper.window();
        let new_session = w.session_start_ms() != before_start;
        if new_session {
            if open {
                label(in_session, positive);
            }
            counts.sessions += 1;
            *next_session += 1;
            in_session = 0;
            positive = false;
            open = true;
        }
        counts.events += 1;
        let (prefix_before, converted_before) = if new_session { (0, false) } else { (before_prefix, before_converted) };
        if w.prefix() > prefix_before {
            in_session += 1;
            counts.samples += 1;
            sample(SampleRef { window: w, score, session: *next_session - 1 });
        } else if w.converted() && !converted_before {
            positive = true;
            counts.positive_sessions += 1;
            if w.prefix() == 0 {
                counts.sessions_starting_with_purchase += 1;
            }
        }
    }
    if open {
        label(in_session, positive);
    }
}

/// Training tensors of one split.
#[derive(Default)]
pub struct Tensors {
    /// W.
    pub window: usize,
    /// `[N, W, F]`, right-padded.
    pub seq: Vec<f32>,
    /// `min(prefix, W)`.
    pub len: Vec<i32>,
    /// k.
    pub prefix: Vec<i32>,
    /// `[N, A]`.
    pub agg: Vec<f32>,
    /// Session outcome.
    pub label: Vec<u8>,
    /// Session index.
    pub session: Vec<i64>,
    /// User index.
    pub user: Vec<i64>,
}

impl Tensors {
    /// Appends the sample the window is at; its label comes later, with [`Tensors::label_session`].
    pub fn push(&mut self, w: &Window, session: i64, user: i64) {
        let rows = w.rows();
        let n = rows.len();
        for row in rows {
            self.seq.extend_from_slice(row);
        }
        self.seq.resize(self.seq.len() + (self.window - n) * SEQ_LEN, 0.0);
        self.len.push(n as i32);
        self.prefix.push(w.prefix() as i32);
        self.agg.extend_from_slice(&w.aggregates());
        self.session.push(session);
        self.user.push(user);
    }

    /// Labels the last `n` samples' session.
    pub fn label_session(&mut self, n: usize, positive: bool) {
        self.label.extend(std::iter::repeat_n(u8::from(positive), n));
    }

    /// Reserves room for `samples` more samples.
    pub fn reserve(&mut self, samples: usize) {
        self.seq.reserve(samples * self.window * SEQ_LEN);
        self.agg.reserve(samples * AGG_LEN);
        for v in [&mut self.len, &mut self.prefix] {
            v.reserve(samples);
        }
        self.label.reserve(samples);
        self.session.reserve(samples);
        self.user.reserve(samples);
    }

    /// Samples held.
    pub fn samples(&self) -> usize {
        self.len.len()
    }

    /// Writes the `.npy` files into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        use crate::npy::write;
        std::fs::create_dir_all(dir)?;
        let n = self.samples();
        write(&dir.join("seq.npy"), &[n, self.window, SEQ_LEN], &self.seq)?;
        write(&dir.join("len.npy"), &[n], &self.len)?;
        write(&dir.join("prefix.npy"), &[n], &self.prefix)?;
        write(&dir.join("agg.npy"), &[n, AGG_LEN], &self.agg)?;
        write(&dir.join("label.npy"), &[n], &self.label)?;
        write(&dir.join("session.npy"), &[n], &self.session)?;
        write(&dir.join("user.npy"), &[n], &self.user)?;
        Ok(())
    }
}
