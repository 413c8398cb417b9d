//! `shopper-intent eval`: the whole protocol natively: a model scored through the engine on one
//! seed's test users, next to the rule baselines, with user-bootstrap intervals and paired
//! differences.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde::Serialize;
use shopper_intent::features::agg;
use shopper_intent::{Engine, EngineOptions, EventKind, SequenceModel};

use crate::dataset::{assign_splits, walk_user, Counts, Split};
use crate::logs::Log;
use crate::metrics::{at_threshold, auc, average_precision, bootstrap, brier, ece, AtThreshold, Estimate};

/// Scores and context of every sample of one split.
#[derive(Default)]
pub struct Scored {
    /// Model score per sample.
    pub score: Vec<f32>,
    /// Label per sample.
    pub label: Vec<u8>,
    /// Prefix length per sample.
    pub prefix: Vec<u32>,
    /// Session per sample.
    pub session: Vec<i64>,
    /// Aggregates per sample.
    pub agg: Vec<[f32; shopper_intent::features::AGG_LEN]>,
    /// Sample indices per user.
    pub users: Vec<Vec<usize>>,
    /// Counts.
    pub counts: Counts,
    /// Events the window refused (reported, never silently dropped).
    pub rejected: usize,
}

/// Scores every sample of `split` with a fresh engine per user.
pub fn score_split(log: &Log, seed: u64, split: Split, model_bytes: &[u8], manifest: &str, utc_offset_min: i32) -> Result<Scored> {
    let splits = assign_splits(&log.users, seed);
    let mut out = Scored::default();
    let mut next_session = 0i64;
    let template = SequenceModel::load(model_bytes, manifest).context("loading the model")?;
    let mut engine = Engine::new(template, EngineOptions { utc_offset_min, ..EngineOptions::default() })?;
    for (u, user) in log.users.iter().enumerate() {
        if splits[u] != split {
            continue;
        }
        engine.forget();
        let first = out.score.len();
        {
            let Scored { score, label, prefix, session, agg, counts, rejected, .. } = &mut out;
            walk_user(
                &user.events,
                &mut engine,
                &mut next_session,
                counts,
                &mut |s| {
                    score.push(s.score);
                    prefix.push(s.window.prefix());
                    session.push(s.session);
                    agg.push(s.window.aggregates());
                },
                &mut |n, positive| label.extend(std::iter::repeat_n(u8::from(positive), n)),
                &mut |_, _| *rejected += 1,
            );
        }
        out.users.push((first..out.score.len()).collect());
    }
    out.counts.positive_samples = out.label.iter().filter(|&&l| l != 0).count();
    Ok(out)
}

/// The rule baselines: name and score per sample.
pub fn baselines(s: &Scored) -> Vec<(&'static str, Vec<f32>)> {
    let cart = agg::COUNT + EventKind::AddToCart.index();
    let wish = agg::COUNT + EventKind::AddToWishlist.index();
    vec![
        ("prior", vec![0.0; s.score.len()]),
        ("session_length", s.prefix.iter().map(|&k| k as f32).collect()),
        (
            "cart_or_wishlist",
            s.agg.iter().map(|a| f32::from(u8::from(a[cart] + a[wish] > 0.0)) + f32::from(u8::from(a[agg::PENDING_TOUCHES] > 0.0)) * 0.5).collect(),
        ),
        ("moving_average", s.agg.iter().map(|a| a[agg::ENGAGEMENT_MA]).collect()),
        ("exp_smoothing", s.agg.iter().map(|a| a[agg::ENGAGEMENT_SMOOTHED]).collect()),
    ]
}

fn pick<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i]).collect()
}

/// The last sample of each session.
fn session_last(s: &Scored) -> Vec<usize> {
    let mut last: HashMap<i64, usize> = HashMap::new();
    for (i, &sess) in s.session.iter().enumerate() {
        last.insert(sess, i);
    }
    let mut v: Vec<usize> = last.into_values().collect();
    v.sort_unstable();
    v
}

/// The figures of one scorer.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Name.
    pub name: String,
    /// Online ROC-AUC over all prefixes, with its user-bootstrap interval.
    pub online_auc: Estimate,
    /// Average precision over all prefixes.
    pub pr_auc: f64,
    /// ROC-AUC at the last prefix of each session.
    pub session_auc: Option<f64>,
    /// ROC-AUC over the samples with prefix k, k = 1..10.
    pub auc_at_k: Vec<Option<f64>>,
    /// Brier score.
    pub brier: f64,
    /// Expected calibration error.
    pub ece: f64,
    /// At the model's decision threshold (only for probability scores).
    pub at_threshold: Option<AtThreshold>,
    /// Online AUC of this model minus the scorer named, with a paired user-bootstrap interval.
    pub paired: Vec<(String, Estimate)>,
}

/// Evaluates the model's scores and the baselines on one split.
pub fn figures(s: &Scored, threshold: f32, reps: usize, seed: u64, others: &[(&str, Vec<f32>)]) -> Vec<Figures> {
    let online = |scores: &[f32], idx: &[usize]| auc(&pick(scores, idx), &pick(&s.label, idx));
    let last = session_last(s);
    let describe = |name: &str, scores: &[f32], probability: bool| {
        let full = auc(scores, &s.label).unwrap_or(f64::NAN);
        let auc_at_k = (1..=10u32)
            .map(|k| {
                let idx: Vec<usize> = (0..scores.len()).filter(|&i| s.prefix[i] == k).collect();
                online(scores, &idx)
            })
            .collect();
        Figures {
            name: name.to_string(),
            online_auc: bootstrap(&s.users, reps, seed, full, |idx| online(scores, idx)),
            pr_auc: average_precision(scores, &s.label).unwrap_or(f64::NAN),
            session_auc: online(scores, &last),
            auc_at_k,
            brier: if probability { brier(scores, &s.label) } else { f64::NAN },
            ece: if probability { ece(scores, &s.label) } else { f64::NAN },
            at_threshold: probability.then(|| at_threshold(scores, &s.label, threshold)),
            paired: Vec::new(),
        }
    };
    let mut model = describe("model", &s.score, true);
    for (name, other) in others {
        let full = auc(&s.score, &s.label).unwrap_or(f64::NAN) - auc(other, &s.label).unwrap_or(f64::NAN);
        let diff = bootstrap(&s.users, reps, seed, full, |idx| Some(online(&s.score, idx)? - online(other, idx)?));
        model.paired.push((name.to_string(), diff));
    }
    let mut out = vec![model];
    out.extend(others.iter().map(|(name, scores)| describe(name, scores, false)));
    out
}
