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

/// z_{0.975} + z_{0.8}: a two-sided test at 5% with 80% power.
const Z_SUM: f64 = 1.959_964 + 0.841_621;

/// The smallest difference in conversion rate from `p` a test tells apart between arms of
/// `n1` and `n2` sessions; NaN (no figure) without sessions in both arms or with a rate of 0 or
/// 1, where the normal approximation says nothing.
fn mde(p: f64, n1: f64, n2: f64) -> f64 {
    if n1 > 0.0 && n2 > 0.0 && p > 0.0 && p < 1.0 {
        Z_SUM * (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt()
    } else {
        f64::NAN
    }
}

/// Replays the users through `model` and the plan.
pub fn reach(log: &Log, users: Users, model: &SequenceModel, utc_offset_min: i32, plan: &Plan) -> Result<Reach> {
    let weights: f64 = plan.arms.iter().map(|a| a.1).sum();
    if plan.arms.is_empty() || (weights - 1.0).abs() > 1e-6 || !(0.0..1.0).contains(&plan.holdout) {
        bail!("the arms' weights must sum to 1 and the holdout be a share below 1");
    }
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
    let (a1, a2) = (treated_sizes[0], *treated_sizes.get(1).unwrap_or(&treated_sizes[0]));
    let largest = treated_sizes.last().copied().unwrap_or(0.0);
    let mdes = |sessions: f64| {
        let entering = sessions * n / fates.len() as f64;
        let hold = if plan.holdout > 0.0 { mde(p, entering * plan.holdout, entering * largest) } else { f64::NAN };
        (mde(p, entering * a1, entering * a2), hold)
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
        // 10% against 10%, 1,000 sessions an arm: 2.8 * sqrt(0.09 * 0.002) = 3.76 points.
        assert!((mde(0.1, 1000.0, 1000.0) - 0.0376).abs() < 1e-3);
        for (p, n) in [(0.0, 1000.0), (1.0, 1000.0), (0.1, 0.0)] {
            assert!(mde(p, n, n).is_nan(), "p {p}, n {n}");
        }
    }
}
