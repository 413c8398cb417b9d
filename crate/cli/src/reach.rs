//! `shopper-intent reach`: an experiment planned before it runs. The users of a real log are
//! replayed through the engine and a policy ("treat a session once it reaches `high`"): how many
//! sessions each arm would expose, how many of them buy, and when in the session they enter.

use std::collections::HashMap;

use anyhow::{bail, Result};
use serde::Serialize;
use shopper_intent::batch::BatchScorer;
use shopper_intent::engine::{Segment, DEFAULT_HYSTERESIS};
use shopper_intent::{Event, SequenceModel};

use crate::dataset::Users;
use crate::eval::BATCH;
use crate::logs::Log;
use crate::metrics::quantiles;

/// The policy and the arms.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Sessions enter once their segment reaches this.
    pub segment: Segment,
    /// Arm names and weights (summing to 1).
    pub arms: Vec<(String, f64)>,
    /// The holdout share.
    pub holdout: f64,
}

impl Plan {
    /// Refuses what no experiment is: fewer than two arms without a holdout (nothing to
    /// compare), weights that are not finite shares summing to 1, names empty, repeated or
    /// `holdout` (the holdout is `--holdout`).
    pub fn check(&self) -> Result<()> {
        if self.arms.is_empty() || (self.arms.len() < 2 && self.holdout <= 0.0) {
            bail!("--arms: give at least two arms (name:weight,...), or one arm and a --holdout: an experiment compares two groups");
        }
        if !(0.0..1.0).contains(&self.holdout) {
            bail!("--holdout {} must be a share from 0 to below 1", self.holdout);
        }
        let mut names = std::collections::HashSet::new();
        for (name, w) in &self.arms {
            if name.is_empty() || name == "holdout" || !names.insert(name.as_str()) {
                bail!("--arms: arm names must be non-empty, different and not \"holdout\" (got {name:?})");
            }
            if !(w.is_finite() && *w > 0.0) {
                bail!("--arms: the weight of {name} must be a share above 0 and up to 1, not {w} (leave an arm no one gets out)");
            }
        }
        let sum: f64 = self.arms.iter().map(|a| a.1).sum();
        if (sum - 1.0).abs() > 1e-6 {
            bail!("--arms: the weights must sum to 1 (they sum to {sum})");
        }
        Ok(())
    }
}

/// One session as the policy sees it.
#[derive(Clone, Copy, Debug, Default)]
struct SessionFate {
    events: u32,
    entered_at: Option<u32>,
    purchased: bool,
    purchase_at: Option<u32>,
}

/// What an arm would see.
#[derive(Debug, Serialize)]
pub struct Arm {
    /// Its name (`holdout` for the holdout).
    pub name: String,
    /// Its share of entering sessions.
    pub share: f64,
    /// Sessions it would expose.
    pub exposed: f64,
    /// Of them, sessions that purchase (without any treatment).
    pub purchasing: f64,
}

/// The replay's figures.
#[derive(Debug, Serialize)]
pub struct Reach {
    /// Sessions replayed.
    pub sessions: usize,
    /// Of them, with a purchase.
    pub purchasing_sessions: usize,
    /// Sessions that reach the segment before their purchase (or at all, without one).
    pub entering: usize,
    /// Of them, with a purchase after entering.
    pub entering_purchasing: usize,
    /// entering / sessions.
    pub reach: f64,
    /// entering_purchasing / entering: the conversion rate the experiment starts from.
    pub precision: f64,
    /// entering_purchasing / purchasing_sessions: the share of buyers the experiment can touch.
    pub recall: f64,
    /// Events into the session at entry (1 = the first event): quartiles 25/50/75.
    pub entry_event_quartiles: [f64; 3],
    /// Entry position as a share of the session's events: quartiles.
    pub entry_share_quartiles: [f64; 3],
    /// For buyers: events from entry to the purchase, quartiles.
    pub events_to_purchase_quartiles: [f64; 3],
    /// Per arm.
    pub arms: Vec<Arm>,
    /// The smallest absolute difference in conversion rate between the two smallest treated
    /// arms that a two-sided test at 5% finds with 80% power, with the sessions replayed here.
    pub minimum_detectable_effect: f64,
    /// The same between the holdout and the largest arm (NaN without a holdout).
    pub minimum_detectable_effect_holdout: f64,
    /// The same two figures for a month of 10,000 and of 100,000 sessions of traffic like this log's.
    pub minimum_detectable_effect_at: Vec<(u64, f64, f64)>,
}

/// z_{0.975} and z_{0.8}: a two-sided test at 5% with 80% power.
const Z_ALPHA: f64 = 1.959_964;
const Z_POWER: f64 = 0.841_621;

/// The smallest increase `d` in conversion rate, from `p` in an arm of `n1` sessions to `p + d`
/// in an arm of `n2`, that the two-sided two-proportion z-test at 5% finds with 80% power: the
/// `d` where `z_a·sqrt(p̄(1−p̄)(1/n1 + 1/n2)) + z_b·sqrt(p(1−p)/n1 + (p+d)(1−p−d)/n2) = d`
/// (the test's variance under no difference, with the pooled rate p̄, and the variance of the
/// difference under the alternative; Fleiss, Levin and Paik, Statistical Methods for Rates and
/// Proportions, 3rd ed., ch. 4, without the continuity correction). NaN (no figure) without
/// sessions in both arms, with a rate of 0 or 1, or when no increase up to 1 − p is found.
fn mde(p: f64, n1: f64, n2: f64) -> f64 {
    if !(n1 > 0.0 && n2 > 0.0 && p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    // Positive below the root, negative above it; the root is found by bisection.
    let gap = |d: f64| {
        let q = p + d;
        let pooled = (n1 * p + n2 * q) / (n1 + n2);
        Z_ALPHA * (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt() + Z_POWER * (p * (1.0 - p) / n1 + q * (1.0 - q) / n2).sqrt() - d
    };
    let (mut lo, mut hi) = (0.0, 1.0 - p);
    if gap(hi) > 0.0 {
        return f64::NAN;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if gap(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Replays the users through `model` and the plan.
pub fn reach(log: &Log, users: Users, model: &SequenceModel, utc_offset_min: i32, plan: &Plan) -> Result<Reach> {
    plan.check()?;
    let selected = users.select(log);
    let chosen: Vec<usize> = (0..log.users.len()).filter(|&u| selected[u]).collect();
    let streams: Vec<Vec<&Event>> = chosen.iter().map(|&u| log.users[u].event_refs()).collect();
    // (stream, session number within the stream) -> fate
    let mut fates: HashMap<(usize, u32), SessionFate> = HashMap::new();
    let mut current: Vec<Option<u32>> = vec![None; streams.len()];
    let mut scorer = BatchScorer::new(model, BATCH, utc_offset_min, DEFAULT_HYSTERESIS)?;
    let mut results: Vec<Vec<Option<shopper_intent::Update>>> = streams.iter().map(|s| vec![None; s.len()]).collect();
    scorer.score(&streams, |s, i, r| results[s][i] = r.ok())?;
    for (s, rs) in results.iter().enumerate() {
        for u in rs.iter().flatten() {
            if u.ignored {
                continue;
            }
            if u.new_session {
                current[s] = Some(current[s].map_or(0, |c| c + 1));
            }
            let Some(session) = current[s] else { continue };
            let f = fates.entry((s, session)).or_default();
            f.events = u.events;
            if u.converted && !f.purchased {
                f.purchased = true;
                f.purchase_at = Some(u.events);
            }
            if !f.purchased && f.entered_at.is_none() && u.scored && u.segment >= plan.segment {
                f.entered_at = Some(u.events);
            }
        }
    }
    let sessions = fates.len();
    if sessions == 0 {
        bail!("no session to replay");
    }
    let purchasing_sessions = fates.values().filter(|f| f.purchased).count();
    if purchasing_sessions == 0 {
        bail!(
            "none of the {sessions} sessions replayed has a purchase: reach measures the buyers an experiment could touch, \
             so it needs a log with purchases (the type purchase, or a name that maps to it)"
        );
    }
    let entering: Vec<&SessionFate> = fates.values().filter(|f| f.entered_at.is_some()).collect();
    let entering_purchasing = entering.iter().filter(|f| f.purchased).count();
    let at: Vec<f64> = entering.iter().map(|f| f64::from(f.entered_at.unwrap_or(0))).collect();
    let share: Vec<f64> = entering.iter().map(|f| f64::from(f.entered_at.unwrap_or(0)) / f64::from(f.events.max(1))).collect();
    let to_purchase: Vec<f64> = entering.iter().filter_map(|f| Some(f64::from(f.purchase_at? - f.entered_at?))).collect();
    let n = entering.len() as f64;
    let p = if entering.is_empty() { 0.0 } else { entering_purchasing as f64 / n };
    let treated = 1.0 - plan.holdout;
    let mut arms: Vec<Arm> = plan
        .arms
        .iter()
        .map(|(name, w)| Arm {
            name: name.clone(),
            share: treated * w,
            exposed: n * treated * w,
            purchasing: entering_purchasing as f64 * treated * w,
        })
        .collect();
    if plan.holdout > 0.0 {
        arms.push(Arm {
            name: "holdout".into(),
            share: plan.holdout,
            exposed: n * plan.holdout,
            purchasing: entering_purchasing as f64 * plan.holdout,
        });
    }
    let mut treated_sizes: Vec<f64> = plan.arms.iter().map(|(_, w)| treated * w).collect();
    treated_sizes.sort_by(f64::total_cmp);
    let largest = treated_sizes.last().copied().unwrap_or(0.0);
    let mdes = |sessions: f64| {
        let entering = sessions * n / fates.len() as f64;
        let hold = if plan.holdout > 0.0 { mde(p, entering * plan.holdout, entering * largest) } else { f64::NAN };
        // One treated arm (with a holdout) has no other treated arm to be compared with.
        let arms = match treated_sizes[..] {
            [a1, a2, ..] => mde(p, entering * a1, entering * a2),
            _ => f64::NAN,
        };
        (arms, hold)
    };
    let (mde_arms, mde_holdout) = mdes(fates.len() as f64);
    let traffic: Vec<(u64, f64, f64)> = [10_000u64, 100_000]
        .into_iter()
        .map(|t| {
            let (m, h) = mdes(t as f64);
            (t, m, h)
        })
        .collect();
    Ok(Reach {
        sessions,
        purchasing_sessions,
        entering: entering.len(),
        entering_purchasing,
        reach: n / sessions as f64,
        precision: p,
        recall: entering_purchasing as f64 / purchasing_sessions.max(1) as f64,
        entry_event_quartiles: quantiles(&at),
        entry_share_quartiles: quantiles(&share),
        events_to_purchase_quartiles: quantiles(&to_purchase),
        arms,
        minimum_detectable_effect: mde_arms,
        minimum_detectable_effect_holdout: mde_holdout,
        minimum_detectable_effect_at: traffic,
    })
}

#[cfg(test)]
mod tests {
    use super::mde;

    #[test]
    fn a_test_size_only_where_the_normal_approximation_says_something() {
        // 10% against 10% + d, 1,000 sessions an arm: the d where the test has 80% power. The
        // classic sample size for 10% -> 14% at 5% / 80% is about 1,030 an arm (Fleiss's formula
        // without correction), so d is a little under 4 points; the variance of the rate at 10%
        // alone would give 3.76.
        let d = mde(0.1, 1000.0, 1000.0);
        assert!(d > 0.0376 && d < 0.042, "{d}");
        // The power at d, computed again: 80%.
        let (p, q, n) = (0.1, 0.1 + d, 1000.0);
        let pooled = (p + q) / 2.0;
        let z = (d - super::Z_ALPHA * (2.0 * pooled * (1.0 - pooled) / n).sqrt()) / ((p * (1.0 - p) + q * (1.0 - q)) / n).sqrt();
        assert!((z - super::Z_POWER).abs() < 1e-6, "{z}");
        for (p, n) in [(0.0, 1000.0), (1.0, 1000.0), (0.1, 0.0)] {
            assert!(mde(p, n, n).is_nan(), "p {p}, n {n}");
        }
    }
}
