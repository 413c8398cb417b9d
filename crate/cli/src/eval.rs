//! `shopper-intent eval`: the whole protocol natively: a model scored through the engine (many
//! users at once, [`shopper_intent::batch::BatchScorer`]) on one seed's test users or on a whole
//! new log, next to the rule baselines, with user-bootstrap intervals and paired differences.

use std::collections::HashMap;

use anyhow::{bail, Result};
use serde::Serialize;
use shopper_intent::batch::BatchScorer;
use shopper_intent::engine::DEFAULT_HYSTERESIS;
use shopper_intent::features::agg;
use shopper_intent::{Event, EventKind, SequenceModel, WindowConfig};

use crate::dataset::{samples_of, Counts, Samples, Users};
use crate::logs::Log;
use crate::metrics::{at_threshold, auc, bootstrap, brier, ece, interval, joint_resamples, AtThreshold, Estimate, Ranked, UserSet};

/// Rows per batch when scoring offline. Measured with `shopper-intent bench` on the Taobao sample
/// (best of 9 passes per run, runs of the settings alternated), one thread, with the batch's
/// read-ahead (`touch_next` in `crate/core/src/batch.rs`): 64 rows, median 1.06 M events/s over
/// ten runs (0.79-1.14); 256 rows, 0.86 over seven (0.68-0.94); 32 rows, 1.09 over three
/// (0.95-1.09), no better than 64 within the noise. Why 256 loses is not established: each row
/// in flight keeps a shopper's window and state ring (about 15 kB), so 64 of them about fill a
/// core's 1 MB second-level cache here and 256 do not.
pub const BATCH: usize = 64;

/// Scores and context of every sample of a set of users.
pub struct Scored {
    /// Model score per sample.
    pub score: Vec<f32>,
    /// The samples (labels, prefixes, sessions, users, aggregates).
    pub samples: Samples,
    /// Sample indices per user.
    pub users: Vec<Vec<usize>>,
    /// Each of those users' index in the log.
    pub user_index: Vec<usize>,
}

impl Scored {
    /// Counts.
    pub fn counts(&self) -> &Counts {
        &self.samples.counts
    }
}

/// Scores every event of the selected users with `model` and pairs each prefix sample of the
/// same walk with the engine's score for it. The engine's own answer (a scored event at the
/// same prefix) is checked for every sample.
pub fn score_users(log: &Log, users: Users, model: &SequenceModel, utc_offset_min: i32) -> Result<Scored> {
    let m = model.manifest();
    let config = WindowConfig { window: m.window, utc_offset_min, kinds: m.kinds()?, salt: [0; 16] };
    let selected = users.select(log);
    let samples = samples_of(log, &selected, &config, false)?;
    let chosen: Vec<usize> = (0..log.users.len()).filter(|&u| selected[u]).collect();
    let streams: Vec<Vec<&Event>> = chosen.iter().map(|&u| log.users[u].event_refs()).collect();
    let mut table: Vec<Vec<Option<(f32, u32)>>> = streams.iter().map(|s| vec![None; s.len()]).collect();
    let mut scorer = BatchScorer::new(model, BATCH, utc_offset_min, DEFAULT_HYSTERESIS)?;
    scorer.score(&streams, |s, i, r| {
        if let Ok(u) = r {
            if u.scored {
                table[s][i] = Some((u.score, u.prefix));
            }
        }
    })?;
    let position: HashMap<usize, usize> = chosen.iter().enumerate().map(|(k, &u)| (u, k)).collect();
    let mut score = Vec::with_capacity(samples.len());
    let mut per_user: HashMap<i64, Vec<usize>> = HashMap::new();
    for i in 0..samples.len() {
        let u = samples.user[i];
        let k = position[&(u as usize)];
        match table[k][samples.event[i] as usize] {
            Some((p, prefix)) if prefix as i32 == samples.prefix[i] => score.push(p),
            other => bail!("the engine and the featurizer disagree on sample {i} (user {u}): {other:?} vs prefix {}", samples.prefix[i]),
        }
        per_user.entry(u).or_default().push(i);
    }
    let mut users: Vec<(i64, Vec<usize>)> = per_user.into_iter().collect();
    users.sort_by_key(|(u, _)| *u);
    let user_index = users.iter().map(|&(u, _)| u as usize).collect();
    Ok(Scored { score, samples, users: users.into_iter().map(|(_, v)| v).collect(), user_index })
}

/// The rule baselines for models of `kinds`: name and score per sample.
pub fn baselines(s: &Scored, kinds: &shopper_intent::Kinds) -> Vec<(&'static str, Vec<f32>)> {
    let a = &s.samples.agg;
    let w = s.samples.agg_width;
    let n = kinds.columns();
    let col = |k: EventKind| kinds.column_of(k);
    let (cart, wish) = (col(EventKind::AddToCart), col(EventKind::AddToWishlist));
    let row = |i: usize| &a[i * w..(i + 1) * w];
    let count = |r: &[f32], c: Option<usize>| c.map_or(0.0, |c| r[c]);
    let len = s.samples.len();
    vec![
        ("prior", vec![0.0; len]),
        ("session_length", s.samples.prefix.iter().map(|&k| k as f32).collect()),
        (
            "cart_or_wishlist",
            (0..len)
                .map(|i| {
                    let r = row(i);
                    f32::from(u8::from(count(r, cart) + count(r, wish) > 0.0))
                        + f32::from(u8::from(r[n + agg::PENDING_TOUCHES] > 0.0)) * 0.5
                })
                .collect(),
        ),
        ("moving_average", (0..len).map(|i| row(i)[n + agg::ENGAGEMENT_MA]).collect()),
        ("exp_smoothing", (0..len).map(|i| row(i)[n + agg::ENGAGEMENT_SMOOTHED]).collect()),
    ]
}

fn pick<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i]).collect()
}

/// `mask[i]`: whether sample i is the last of its session (`last`, from [`session_last`]).
fn last_mask(samples: usize, last: &[usize]) -> Vec<bool> {
    let mut mask = vec![false; samples];
    for &i in last {
        mask[i] = true;
    }
    mask
}

/// A resample as copies per sample: `count` of the samples `idx` (repeats kept) and `last` of
/// those that end their session (`is_last`), or of every sample once for `None`.
fn counts(samples: usize, is_last: &[bool], idx: Option<&[usize]>) -> (Vec<u32>, Vec<u32>) {
    let count = match idx {
        None => vec![1; samples],
        Some(idx) => {
            let mut count = vec![0u32; samples];
            for &i in idx {
                count[i] += 1;
            }
            count
        }
    };
    let last = count.iter().zip(is_last).map(|(&c, &l)| if l { c } else { 0 }).collect();
    (count, last)
}

/// Online ROC-AUC, average precision and session AUC of a scorer (its samples `ranked`) on a
/// resample (`counts`), NaN where one is undefined (samples of one class only).
fn three_figures(ranked: &Ranked<'_>, labels: &[u8], (count, last): &(Vec<u32>, Vec<u32>)) -> [f64; 3] {
    [ranked.auc(labels, count), ranked.average_precision(labels, count), ranked.auc(labels, last)].map(|v| v.unwrap_or(f64::NAN))
}

/// The last sample of each session.
fn session_last(s: &Samples) -> Vec<usize> {
    let mut last: HashMap<i64, usize> = HashMap::new();
    for (i, &sess) in s.session.iter().enumerate() {
        last.insert(sess, i);
    }
    let mut v: Vec<usize> = last.into_values().collect();
    v.sort_unstable();
    v
}

/// Prefix-length buckets for AUC by prefix: 1, 2, 3-4, 5-8, 9-16, 17-32, 33+.
pub const PREFIX_BUCKETS: [(u32, u32); 7] = [(1, 1), (2, 2), (3, 4), (5, 8), (9, 16), (17, 32), (33, u32::MAX)];

/// The figures of one scorer.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Name.
    pub name: String,
    /// Online ROC-AUC over all prefixes, with its user-bootstrap interval.
    pub online_auc: Estimate,
    /// Average precision over all prefixes.
    pub pr_auc: f64,
    /// `pr_auc` with its user-bootstrap interval (the same draws as `online_auc`'s).
    pub pr_auc_ci: Estimate,
    /// ROC-AUC at the last prefix of each session.
    pub session_auc: Option<f64>,
    /// `session_auc` with its user-bootstrap interval (`value` NaN, written as null, without one).
    pub session_auc_ci: Estimate,
    /// ROC-AUC over the samples with prefix k, k = 1..10.
    pub auc_at_k: Vec<Option<f64>>,
    /// ROC-AUC by prefix bucket ([`PREFIX_BUCKETS`]).
    pub auc_by_prefix: Vec<Option<f64>>,
    /// Brier score.
    pub brier: f64,
    /// Expected calibration error.
    pub ece: f64,
    /// At the model's decision threshold (only for probability scores).
    pub at_threshold: Option<AtThreshold>,
    /// Online AUC of this model minus the scorer named, with a paired user-bootstrap interval.
    pub paired: Vec<(String, Estimate)>,
}

/// Evaluates the model's scores and the other scorers on the same samples; `tick` is called after
/// each bootstrap replicate (progress).
pub fn figures(
    s: &Scored,
    threshold: f32,
    reps: usize,
    seed: u64,
    others: &[(&str, Vec<f32>)],
    tick: &mut dyn FnMut(),
) -> Result<Vec<Figures>> {
    let labels = &s.samples.label;
    let prefix = &s.samples.prefix;
    let positives = labels.iter().filter(|&&l| l != 0).count();
    if positives == 0 || positives == labels.len() {
        bail!(
            "the users evaluated have {} samples, {positives} of them from purchasing sessions: ROC-AUC needs both kinds \
             (at least one purchasing and one other session with a sample)",
            labels.len()
        );
    }
    let online = |scores: &[f32], idx: &[usize]| auc(&pick(scores, idx), &pick(labels, idx));
    let last = session_last(&s.samples);
    let is_last = last_mask(labels.len(), &last);
    // The model, then the others.
    let scorers: Vec<(&str, &[f32])> =
        std::iter::once(("model", s.score.as_slice())).chain(others.iter().map(|(n, v)| (*n, v.as_slice()))).collect();
    // One resampling of the users for every interval: each scorer's online AUC, PR-AUC and session
    // AUC (`3 j + m`), then the model's online AUC minus each other scorer's.
    let ranked: Vec<Ranked<'_>> = scorers.iter().map(|(_, scores)| Ranked::new(scores)).collect();
    let figures_of = |idx: Option<&[usize]>| -> Vec<f64> {
        let drawn = counts(labels.len(), &is_last, idx);
        let mut v: Vec<f64> = ranked.iter().flat_map(|r| three_figures(r, labels, &drawn)).collect();
        let paired: Vec<f64> = (1..scorers.len()).map(|j| v[0] - v[3 * j]).collect();
        v.extend(paired);
        v
    };
    let estimates = bootstrap(&s.users, reps, seed, &figures_of(None), |idx| {
        let v = figures_of(Some(idx));
        tick();
        v
    });
    let describe = |j: usize, probability: bool| {
        let (name, scores) = scorers[j];
        let by = |lo: u32, hi: u32| {
            let idx: Vec<usize> = (0..scores.len()).filter(|&i| (lo..=hi).contains(&(prefix[i] as u32))).collect();
            online(scores, &idx)
        };
        Figures {
            name: name.to_string(),
            online_auc: estimates[3 * j],
            pr_auc: estimates[3 * j + 1].value,
            pr_auc_ci: estimates[3 * j + 1],
            session_auc: online(scores, &last),
            session_auc_ci: estimates[3 * j + 2],
            auc_at_k: (1..=10u32).map(|k| by(k, k)).collect(),
            auc_by_prefix: PREFIX_BUCKETS.iter().map(|&(lo, hi)| by(lo, hi)).collect(),
            brier: if probability { brier(scores, labels) } else { f64::NAN },
            ece: if probability { ece(scores, labels) } else { f64::NAN },
            at_threshold: probability.then(|| at_threshold(scores, labels, threshold)),
            paired: Vec::new(),
        }
    };
    let mut model = describe(0, true);
    model.paired = others.iter().enumerate().map(|(k, (name, _))| (name.to_string(), estimates[3 * scorers.len() + k])).collect();
    let mut out = vec![model];
    out.extend((1..scorers.len()).map(|j| describe(j, false)));
    Ok(out)
}

/// One model's evaluation on one seed's users (what `--json` writes).
#[derive(Debug, Serialize)]
pub struct Run {
    /// The seed.
    pub seed: u64,
    /// The split evaluated.
    pub split: String,
    /// Counts of the users evaluated.
    pub counts: Counts,
    /// Bootstrap replicates.
    pub bootstrap: usize,
    /// The model first, then the baselines.
    pub figures: Vec<Figures>,
}

/// A scorer other than the model: its name and a score per sample.
pub type Scorer<'a> = (&'a str, Vec<f32>);

/// The seed of the bootstrap shared by several seeds' users (the trainer's is 1000 too; the
/// generators differ, so the intervals agree closely, not exactly).
pub const JOINT_BOOTSTRAP_SEED: u64 = 1000;

/// The mean over seeds of one scorer's online AUC, average precision and session AUC.
#[derive(Debug, Serialize)]
pub struct MeanAuc {
    /// The scorer.
    pub name: String,
    /// The mean over seeds, with the interval of the shared user bootstrap.
    pub online_auc: Estimate,
    /// The standard deviation over seeds (of the online AUC).
    pub sd: f64,
    /// The mean over seeds of the average precision, with its interval (the same draws).
    pub pr_auc: Estimate,
    /// The mean over seeds of the session AUC, with its interval (the same draws).
    pub session_auc: Estimate,
}

/// The means over seeds (what `--json` writes beside the runs).
#[derive(Debug, Serialize)]
pub struct Mean {
    /// The seeds.
    pub seeds: Vec<u64>,
    /// Bootstrap replicates.
    pub bootstrap: usize,
    /// The model first, then the other scorers.
    pub scorers: Vec<MeanAuc>,
    /// The mean over seeds of the model's online AUC minus each other scorer's.
    pub paired: Vec<(String, Estimate)>,
}

/// The mean over seeds of each scorer's online AUC and of the model's paired differences, each
/// seed's scorers on that seed's users (`seeds[k]`: the model's scores and context, then the
/// other scorers, the same names in the same order for every seed). The log's `universe` users
/// are resampled once per replicate for all seeds ([`joint_resamples`]): the seeds' user sets
/// overlap, and resampling them apart would make the interval of the mean too narrow. `tick` is
/// called after each replicate.
pub fn mean_over_seeds(universe: usize, seeds: &[(u64, &Scored, &[Scorer<'_>])], reps: usize, tick: &mut dyn FnMut()) -> Result<Mean> {
    let Some((_, _, first)) = seeds.first() else { bail!("no seed to average over") };
    let names: Vec<&str> = std::iter::once("model").chain(first.iter().map(|(n, _)| *n)).collect();
    for (seed, _, others) in seeds {
        if others.len() + 1 != names.len() || others.iter().zip(&names[1..]).any(|((n, _), m)| n != m) {
            bail!("seed {seed} has other scorers than seed {}", seeds[0].0);
        }
    }
    let scorer = |k: usize, j: usize| -> &[f32] {
        if j == 0 {
            &seeds[k].1.score
        } else {
            &seeds[k].2[j - 1].1
        }
    };
    // Each scorer's three figures on each seed's samples (`idx[k]`: seed k's drawn samples; all
    // without): `figs[j][m][k]`, scorer j, figure m (online AUC, PR-AUC, session AUC), seed k.
    let masks: Vec<Vec<bool>> = seeds.iter().map(|(_, s, _)| last_mask(s.samples.label.len(), &session_last(&s.samples))).collect();
    let ranked: Vec<Vec<Ranked<'_>>> = (0..seeds.len()).map(|k| (0..names.len()).map(|j| Ranked::new(scorer(k, j))).collect()).collect();
    let figs = |idx: Option<&[Vec<usize>]>| -> Vec<[Vec<f64>; 3]> {
        let mut by_scorer: Vec<[Vec<f64>; 3]> = (0..names.len()).map(|_| Default::default()).collect();
        for k in 0..seeds.len() {
            let labels = &seeds[k].1.samples.label;
            let drawn = counts(labels.len(), &masks[k], idx.map(|i| i[k].as_slice()));
            for (j, out) in by_scorer.iter_mut().enumerate() {
                for (m, v) in three_figures(&ranked[k][j], labels, &drawn).into_iter().enumerate() {
                    out[m].push(v);
                }
            }
        }
        by_scorer
    };
    // The mean over seeds (NaN when a seed has none).
    let mean = |v: &[f64]| v.iter().sum::<f64>() / seeds.len() as f64;
    let per_seed = figs(None);
    let full: Vec<[f64; 3]> = per_seed.iter().map(|f| [mean(&f[0]), mean(&f[1]), mean(&f[2])]).collect();
    let mut replicates: Vec<[Vec<f64>; 3]> = (0..names.len()).map(|_| Default::default()).collect();
    let sets: Vec<UserSet<'_>> = seeds.iter().map(|(_, s, _)| UserSet { users: &s.user_index, samples: &s.users }).collect();
    joint_resamples(universe, &sets, reps, JOINT_BOOTSTRAP_SEED, |drawn| {
        for (j, f) in figs(Some(drawn)).iter().enumerate() {
            for m in 0..3 {
                replicates[j][m].push(mean(&f[m]));
            }
        }
        tick();
    });
    let scorers = names
        .iter()
        .enumerate()
        .map(|(j, name)| MeanAuc {
            name: name.to_string(),
            online_auc: interval(replicates[j][0].clone(), full[j][0]),
            sd: mean_sd(&per_seed[j][0]).1,
            pr_auc: interval(replicates[j][1].clone(), full[j][1]),
            session_auc: interval(replicates[j][2].clone(), full[j][2]),
        })
        .collect();
    let paired = (1..names.len())
        .map(|j| {
            let diffs = replicates[0][0].iter().zip(&replicates[j][0]).map(|(m, o)| m - o).collect();
            (names[j].to_string(), interval(diffs, full[0][0] - full[j][0]))
        })
        .collect();
    Ok(Mean { seeds: seeds.iter().map(|(s, _, _)| *s).collect(), bootstrap: reps, scorers, paired })
}

/// The mean and the sample standard deviation of `values`.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    (mean, sd)
}
