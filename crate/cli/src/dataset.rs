//! The training protocol: user splits, sessions, prefix samples and labels.
//!
//! Sessions are what the window says they are (the shop's session ids when the log has them,
//! otherwise 30-minute gaps); a session's label is whether it contains a purchase; every prefix
//! k >= 1 of the events before its first purchase is one sample, and with a streaming model one
//! sample is one feature row. Sessions that start with the purchase have no sample and are
//! counted. The test users are the same for every seed: the last 15% of the users ordered by
//! `sha256("test:{user_id}")`. The seed splits the others, ordered by `sha256("{seed}:{user_id}")`:
//! 70% of all users train, the rest validation. So no choice made on the validation users of any
//! seed (a model size, a baseline, a threshold) has seen a test user.
//!
//! The walk uses the window's own answers ([`Pushed`]: new session, row, purchase) and derives
//! nothing by comparing states.

use serde::Serialize;
use sha2::{Digest, Sha256};
use shopper_intent::features::{aggregate_len, row_len};
use shopper_intent::window::{Outcome, Pushed};
use shopper_intent::{Error, Kinds, Window, WindowConfig};

use crate::logs::{BadLine, Log, UserLog};

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

/// The users to evaluate on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Users {
    /// One split of a seeded user split.
    Split(u64, Split),
    /// Every user of the log (a new shop's log, all of it test data).
    All,
}

impl Users {
    /// Parses `train`, `val`, `test` (with `seed`) or `all`.
    pub fn parse(split: &str, seed: u64) -> anyhow::Result<Users> {
        Ok(match split {
            "train" => Users::Split(seed, Split::Train),
            "val" => Users::Split(seed, Split::Val),
            "test" => Users::Split(seed, Split::Test),
            "all" => Users::All,
            other => anyhow::bail!("unknown split {other:?}: train, val, test or all"),
        })
    }

    /// Which users of `log` are in.
    pub fn select(self, log: &Log) -> Vec<bool> {
        match self {
            Users::All => vec![true; log.users.len()],
            Users::Split(seed, split) => assign_splits(&log.users, seed).into_iter().map(|s| s == split).collect(),
        }
    }

    /// A name for reports.
    pub fn name(self) -> String {
        match self {
            Users::All => "all users".into(),
            Users::Split(seed, s) => format!("seed {seed}, {} split", s.name()),
        }
    }
}

/// How [`assign_splits`] splits, as featurize's summary says it.
pub const SPLIT_RULE: &str = "test users the same for every seed (the last 15% by sha256(\"test:user\")); the others by sha256(\"seed:user\"): 70% of all users train, 15% validation";

/// The split of each user, in the order given: test users fixed (the last 15% by
/// `sha256("test:{user}")`), the others train (the first 70% of all users by
/// `sha256("{seed}:{user}")`) and validation (the remaining 15%).
pub fn assign_splits(users: &[UserLog], seed: u64) -> Vec<Split> {
    let ranked = |key: &dyn Fn(&str) -> String, which: &mut dyn Iterator<Item = usize>| {
        let mut order: Vec<(Vec<u8>, usize)> = which.map(|i| (Sha256::digest(key(&users[i].user).as_bytes()).to_vec(), i)).collect();
        order.sort();
        order.into_iter().map(|(_, i)| i).collect::<Vec<usize>>()
    };
    let n = users.len();
    let train = n * 70 / 100;
    let not_test = n * 85 / 100;
    let mut out = vec![Split::Test; n];
    let kept = ranked(&|u| format!("test:{u}"), &mut (0..n));
    let others = ranked(&|u| format!("{seed}:{u}"), &mut kept[..not_test].iter().copied());
    for (rank, i) in others.into_iter().enumerate() {
        out[i] = if rank < train { Split::Train } else { Split::Val };
    }
    out
}

/// Counts over a set of users.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Users.
    pub users: usize,
    /// Events the window took (ignored kinds not included).
    pub events: usize,
    /// Events of kinds the model does not read.
    pub ignored: usize,
    /// Events the window refused (out of order beyond the tolerance).
    pub refused: usize,
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

impl Counts {
    /// Adds `other` in.
    pub fn add(&mut self, other: &Counts) {
        self.users += other.users;
        self.events += other.events;
        self.ignored += other.ignored;
        self.refused += other.refused;
        self.sessions += other.sessions;
        self.positive_sessions += other.positive_sessions;
        self.sessions_starting_with_purchase += other.sessions_starting_with_purchase;
        self.samples += other.samples;
        self.positive_samples += other.positive_samples;
    }
}

/// The prefix samples of a set of users: for each, its feature row (when kept), aggregates,
/// prefix length, label, session and user, and where it came from in the log.
#[derive(Default)]
pub struct Samples {
    /// Row width F.
    pub width: usize,
    /// Aggregate width A.
    pub agg_width: usize,
    /// Whether rows are kept.
    pub keep_rows: bool,
    /// `[N, F]`, when kept.
    pub seq: Vec<f32>,
    /// `[N, A]`.
    pub agg: Vec<f32>,
    /// k.
    pub prefix: Vec<i32>,
    /// Session outcome.
    pub label: Vec<u8>,
    /// Session index, unique over the walk.
    pub session: Vec<i64>,
    /// User index in the log.
    pub user: Vec<i64>,
    /// Index of the sample's event in its user's events.
    pub event: Vec<u32>,
    /// Counts.
    pub counts: Counts,
    /// Events the window refused, with their lines.
    pub refused: Vec<BadLine>,
    next_session: i64,
}

impl Samples {
    /// Empty samples for windows of these kinds.
    pub fn new(kinds: &Kinds, keep_rows: bool) -> Samples {
        Samples { width: row_len(kinds), agg_width: aggregate_len(kinds), keep_rows, ..Samples::default() }
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.label.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.label.is_empty()
    }

    /// Walks one user's events through a fresh window of `config`, adding a sample for every
    /// row the window appends and labelling each session when it closes.
    pub fn walk(&mut self, user_index: usize, user: &UserLog, config: &WindowConfig) -> Result<(), Error> {
        let mut window = Window::new(config.clone())?;
        let mut agg = vec![0.0; self.agg_width];
        self.counts.users += 1;
        let mut open: Option<(usize, bool)> = None; // (first sample of the session, positive)
        for (i, (line, event)) in user.events.iter().enumerate() {
            let Pushed { new_session, outcome } = match window.push(event) {
                Ok(p) => p,
                Err(e) => {
                    self.counts.refused += 1;
                    self.refused.push(BadLine { line: *line, error: e.to_string() });
                    continue;
                }
            };
            if outcome == Outcome::Ignored {
                self.counts.ignored += 1;
                continue;
            }
            if new_session {
                if let Some((first, positive)) = open.take() {
                    self.close(first, positive);
                }
                self.counts.sessions += 1;
                self.next_session += 1;
                open = Some((self.len(), false));
            }
            self.counts.events += 1;
            match outcome {
                Outcome::Row => {
                    if self.keep_rows {
                        self.seq.extend_from_slice(window.last_row().unwrap_or_default());
                    }
                    window.aggregates_into(&mut agg);
                    self.agg.extend_from_slice(&agg);
                    self.prefix.push(window.prefix() as i32);
                    self.session.push(self.next_session - 1);
                    self.user.push(user_index as i64);
                    self.event.push(i as u32);
                    self.label.push(0);
                    self.counts.samples += 1;
                }
                Outcome::Purchase => {
                    if let Some(o) = open.as_mut() {
                        o.1 = true;
                    }
                    self.counts.positive_sessions += 1;
                    if window.prefix() == 0 {
                        self.counts.sessions_starting_with_purchase += 1;
                    }
                }
                Outcome::AfterPurchase | Outcome::Ignored => {}
            }
        }
        if let Some((first, positive)) = open {
            self.close(first, positive);
        }
        Ok(())
    }

    fn close(&mut self, first: usize, positive: bool) {
        if positive {
            self.label[first..].fill(1);
            self.counts.positive_samples += self.label.len() - first;
        }
    }

    /// Reserves room for `n` more samples.
    pub fn reserve(&mut self, n: usize) {
        if self.keep_rows {
            self.seq.reserve(n * self.width);
        }
        self.agg.reserve(n * self.agg_width);
        self.prefix.reserve(n);
        self.label.reserve(n);
        self.session.reserve(n);
        self.user.reserve(n);
        self.event.reserve(n);
    }

    /// Writes the `.npy` files into `dir` (layout in ARCHITECTURE.md).
    pub fn write(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        use crate::npy::write;
        use anyhow::Context;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let n = self.len();
        write(&dir.join("seq.npy"), &[n, self.width], &self.seq)?;
        write(&dir.join("prefix.npy"), &[n], &self.prefix)?;
        write(&dir.join("agg.npy"), &[n, self.agg_width], &self.agg)?;
        write(&dir.join("label.npy"), &[n], &self.label)?;
        write(&dir.join("session.npy"), &[n], &self.session)?;
        write(&dir.join("user.npy"), &[n], &self.user)?;
        Ok(())
    }
}

/// The samples of the selected users of `log`, walked with windows of `config`.
pub fn samples_of(log: &Log, selected: &[bool], config: &WindowConfig, keep_rows: bool) -> Result<Samples, Error> {
    let mut s = Samples::new(&config.kinds, keep_rows);
    s.reserve(log.users.iter().zip(selected).filter(|(_, k)| **k).map(|(u, _)| u.events.len()).sum());
    for (i, user) in log.users.iter().enumerate() {
        if selected[i] {
            s.walk(i, user, config)?;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopper_intent::{Event, EventKind};

    #[test]
    fn sessions_samples_and_labels_follow_the_window() {
        let t = 1_700_000_000_000;
        let ev = |k: EventKind, dt: i64| Event::new(k, t + dt);
        let gap = 31 * 60_000;
        let user = UserLog {
            user: "u".into(),
            events: vec![
                ev(EventKind::ViewItem, 0),
                ev(EventKind::AddToCart, 1_000),
                ev(EventKind::Purchase, 2_000),
                ev(EventKind::ViewItem, 3_000),       // after the purchase: no sample
                ev(EventKind::Purchase, gap + 3_000), // a session that starts with its purchase
                ev(EventKind::ViewItem, 2 * gap + 3_000),
                ev(EventKind::ViewItem, 2 * gap + 4_000),
                ev(EventKind::ViewItem, 2 * gap - 10_000), // out of order beyond the tolerance
            ]
            .into_iter()
            .enumerate()
            .collect(),
        };
        let mut s = Samples::new(&Kinds::standard(), true);
        s.walk(0, &user, &WindowConfig::default()).unwrap();
        assert_eq!(s.label, [1, 1, 0, 0]);
        assert_eq!(s.prefix, [1, 2, 1, 2]);
        assert_eq!(s.session, [0, 0, 2, 2]);
        assert_eq!(s.event, [0, 1, 5, 6]);
        let c = &s.counts;
        assert_eq!((c.sessions, c.positive_sessions, c.sessions_starting_with_purchase), (3, 2, 1));
        assert_eq!((c.samples, c.positive_samples, c.refused, c.events), (4, 2, 1, 7));
        assert_eq!(s.refused[0].line, 7);
        assert_eq!(s.seq.len(), 4 * s.width);
    }

    #[test]
    fn test_users_are_the_same_for_every_seed_and_no_seed_validates_on_them() {
        let users: Vec<UserLog> = (0..1000).map(|i| UserLog { user: format!("user-{i}"), events: Vec::new() }).collect();
        let of = |seed| assign_splits(&users, seed);
        let test_of = |splits: &[Split]| splits.iter().map(|s| *s == Split::Test).collect::<Vec<bool>>();
        let first = of(0);
        let count = |splits: &[Split], which| splits.iter().filter(|s| **s == which).count();
        assert_eq!((count(&first, Split::Train), count(&first, Split::Val), count(&first, Split::Test)), (700, 150, 150));
        let mut val_anywhere = vec![false; users.len()];
        for seed in 0..5 {
            let splits = of(seed);
            assert_eq!(test_of(&splits), test_of(&first), "seed {seed}: the same test users");
            for (i, s) in splits.iter().enumerate() {
                val_anywhere[i] |= *s == Split::Val;
            }
        }
        assert!(val_anywhere.iter().zip(test_of(&first)).all(|(v, t)| !(*v && t)), "no test user is a validation user of a seed");
        // The seeds do reshuffle train and validation.
        let moved = of(0).iter().zip(of(1).iter()).filter(|(a, b)| a != b).count();
        assert!(moved > 100, "seeds 0 and 1 differ for {moved} users");
        // The order of the users in the log does not matter.
        let mut reversed = users.clone();
        reversed.reverse();
        let back: Vec<Split> = assign_splits(&reversed, 3).into_iter().rev().collect();
        assert_eq!(back, of(3));
    }
}
