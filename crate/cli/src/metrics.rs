//! Evaluation metrics, bootstrap confidence intervals by user, and paired differences.
//!
//! Definitions (the report uses the same ones):
//! - ROC-AUC: the Mann–Whitney statistic, ties counted as one half (average ranks).
//! - PR-AUC: average precision, `sum_n (R_n - R_{n-1}) P_n` over distinct score thresholds in
//!   descending order (scikit-learn's `average_precision_score`).
//! - Brier score: mean squared difference between probability and label.
//! - ECE: 10 equal-width bins on [0, 1] (the last one closed), `sum_b n_b / N |mean p_b - mean y_b|`.
//! - At a threshold t, a score >= t is a predicted purchase.

use serde::Serialize;

/// ROC-AUC; `None` without both classes.
pub fn auc(scores: &[f32], labels: &[u8]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0f64, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] != 0 {
                rank_sum += avg_rank;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    Some((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64))
}

/// Average precision; `None` without a positive.
pub fn average_precision(scores: &[f32], labels: &[u8]) -> Option<f64> {
    let total_pos = labels.iter().filter(|&&l| l != 0).count();
    if total_pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp, mut prev_recall, mut ap) = (0usize, 0usize, 0f64, 0f64);
    let mut i = 0;
    while i < idx.len() {
        // The group of scores equal to the i-th: at least the i-th itself (a NaN equals nothing,
        // not even itself, and is a group of its own).
        let mut j = i;
        while j < idx.len() && (j == i || scores[idx[j]] == scores[idx[i]]) {
            if labels[idx[j]] != 0 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        let recall = tp as f64 / total_pos as f64;
        ap += (recall - prev_recall) * tp as f64 / (tp + fp) as f64;
        prev_recall = recall;
        i = j;
    }
    Some(ap)
}

/// A scorer's samples sorted once by score, for the figures of many resamples of them (the
/// bootstrap's): a resample is a count per sample (a user drawn twice brings each of its samples
/// twice), and each figure is then one pass over the sorted samples, not a sort of the resample.
/// The figures equal [`auc`] and [`average_precision`] of the resample with its repeats written
/// out, to the bit: the same groups of tied scores in the same order, the same sums. (Scores are
/// numbers here, the model's checked and the baselines' counts. A NaN ranks by its sign bit, as
/// `total_cmp` puts it, each copy apart; where NaNs of both labels meet, the written-out
/// resample's order among them decides its figures, and this order may differ.)
pub struct Ranked<'a> {
    scores: &'a [f32],
    /// Sample indices in ascending order of score (`total_cmp`).
    order: Vec<usize>,
    /// Where each group of equal scores begins in `order`, then `order.len()`. A NaN is a group of
    /// its own, and so is each of its copies in a resample (NaN equals nothing).
    bounds: Vec<usize>,
}

impl<'a> Ranked<'a> {
    /// Sorts the samples of `scores`.
    pub fn new(scores: &'a [f32]) -> Ranked<'a> {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let mut bounds = Vec::new();
        for (i, &k) in order.iter().enumerate() {
            if i == 0 || scores[k] != scores[order[*bounds.last().unwrap_or(&0)]] {
                bounds.push(i);
            }
        }
        bounds.push(order.len());
        Ranked { scores, order, bounds }
    }

    /// Each group of tied scores in ascending order (or descending, `rev`): its copies in the
    /// resample, the positive ones among them, and whether its score is NaN.
    fn groups<'s>(&'s self, labels: &'s [u8], count: &'s [u32], rev: bool) -> impl Iterator<Item = (u64, u64, bool)> + 's {
        let n = self.bounds.len().saturating_sub(1);
        (0..n).map(move |g| if rev { n - 1 - g } else { g }).filter_map(move |g| {
            let members = &self.order[self.bounds[g]..self.bounds[g + 1]];
            let (mut copies, mut positive) = (0u64, 0u64);
            for &k in members {
                let c = u64::from(count[k]);
                copies += c;
                if labels[k] != 0 {
                    positive += c;
                }
            }
            (copies > 0).then(|| (copies, positive, self.scores[members[0]].is_nan()))
        })
    }

    /// [`auc`] of the resample with `count[i]` copies of sample i.
    pub fn auc(&self, labels: &[u8], count: &[u32]) -> Option<f64> {
        let (mut rank_sum, mut pos, mut seen) = (0f64, 0u64, 0u64);
        for (copies, positive, nan) in self.groups(labels, count, false) {
            if nan {
                // Copies of a NaN are not tied: ranks seen + 1 ..= seen + copies.
                if positive > 0 {
                    rank_sum += (copies * seen + copies * (copies + 1) / 2) as f64;
                }
            } else {
                // The average rank of the group, once per positive copy (exact: halves below 2^52).
                rank_sum += ((2 * seen + copies - 1) as f64 / 2.0 + 1.0) * positive as f64;
            }
            pos += positive;
            seen += copies;
        }
        let neg = seen - pos;
        if pos == 0 || neg == 0 {
            return None;
        }
        Some((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64))
    }

    /// [`average_precision`] of the resample with `count[i]` copies of sample i.
    pub fn average_precision(&self, labels: &[u8], count: &[u32]) -> Option<f64> {
        let total_pos: u64 = labels.iter().zip(count).filter(|(&l, _)| l != 0).map(|(_, &c)| u64::from(c)).sum();
        if total_pos == 0 {
            return None;
        }
        let (mut tp, mut fp, mut prev_recall, mut ap) = (0u64, 0u64, 0f64, 0f64);
        let mut threshold = |tp: u64, fp: u64| {
            let recall = tp as f64 / total_pos as f64;
            ap += (recall - prev_recall) * tp as f64 / (tp + fp) as f64;
            prev_recall = recall;
        };
        for (copies, positive, nan) in self.groups(labels, count, true) {
            if nan {
                // Each copy a threshold of its own.
                for _ in 0..copies {
                    if positive > 0 {
                        tp += 1;
                    } else {
                        fp += 1;
                    }
                    threshold(tp, fp);
                }
            } else {
                tp += positive;
                fp += copies - positive;
                threshold(tp, fp);
            }
        }
        Some(ap)
    }
}

/// Brier score.
pub fn brier(scores: &[f32], labels: &[u8]) -> f64 {
    let n = scores.len().max(1) as f64;
    scores.iter().zip(labels).map(|(&p, &y)| (f64::from(p) - f64::from(y)).powi(2)).sum::<f64>() / n
}

/// Expected calibration error over 10 equal-width bins.
pub fn ece(scores: &[f32], labels: &[u8]) -> f64 {
    let mut sum_p = [0f64; 10];
    let mut sum_y = [0f64; 10];
    let mut n = [0usize; 10];
    for (&p, &y) in scores.iter().zip(labels) {
        let b = ((f64::from(p) * 10.0).floor() as usize).min(9);
        sum_p[b] += f64::from(p);
        sum_y[b] += f64::from(y);
        n[b] += 1;
    }
    let total = scores.len().max(1) as f64;
    (0..10).filter(|&b| n[b] > 0).map(|b| n[b] as f64 / total * ((sum_p[b] - sum_y[b]) / n[b] as f64).abs()).sum()
}

/// Positive-class figures at a threshold.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct AtThreshold {
    /// The threshold.
    pub threshold: f64,
    /// F1 of the positive class.
    pub f1: f64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Accuracy.
    pub accuracy: f64,
}

/// F1, precision, recall and accuracy with `score >= threshold` predicted positive.
pub fn at_threshold(scores: &[f32], labels: &[u8], threshold: f32) -> AtThreshold {
    let (mut tp, mut fp, mut fneg, mut tn) = (0f64, 0f64, 0f64, 0f64);
    for (&p, &y) in scores.iter().zip(labels) {
        match (p >= threshold, y != 0) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fneg += 1.0,
            (false, false) => tn += 1.0,
        }
    }
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fneg > 0.0 { tp / (tp + fneg) } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    AtThreshold { threshold: f64::from(threshold), f1, precision, recall, accuracy: (tp + tn) / (tp + fp + fneg + tn).max(1.0) }
}

/// The 25th, 50th and 75th percentiles of `v` (linear interpolation between ranks); NaN when
/// `v` is empty.
pub fn quantiles(v: &[f64]) -> [f64; 3] {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return [f64::NAN; 3];
    }
    s.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (s.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
    };
    [at(0.25), at(0.5), at(0.75)]
}

/// A small deterministic generator (SplitMix64) for bootstrap resampling.
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeded.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// A point estimate with a 95% percentile-bootstrap interval.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Estimate {
    /// On the full set.
    pub value: f64,
    /// 2.5th percentile of the bootstrap replicates.
    pub lo: f64,
    /// 97.5th percentile.
    pub hi: f64,
    /// Replicates without a value, left out of the interval: resamples whose users' samples were
    /// all of one class (ROC-AUC is undefined there). The interval describes only resamples that
    /// drew both; the report says how many did not.
    pub undefined: usize,
}

/// Resamples users with replacement `reps` times; for each replicate calls `metric` with the
/// sample indices drawn, and `metric` returns one value per figure of `full` (NaN where a figure
/// is undefined). `groups[u]` lists user u's sample indices. One estimate per figure, all from the
/// same draws: several figures of one set of users cost one resampling, not one each.
pub fn bootstrap(
    groups: &[Vec<usize>],
    reps: usize,
    seed: u64,
    full: &[f64],
    mut metric: impl FnMut(&[usize]) -> Vec<f64>,
) -> Vec<Estimate> {
    let mut rng = SplitMix::new(seed);
    let mut values = vec![Vec::with_capacity(reps); full.len()];
    let mut idx = Vec::new();
    for _ in 0..reps {
        idx.clear();
        for _ in 0..groups.len() {
            idx.extend_from_slice(&groups[rng.below(groups.len())]);
        }
        let replicate = metric(&idx);
        assert_eq!(replicate.len(), full.len(), "a bootstrap metric returned another number of figures than `full` has");
        for (v, x) in values.iter_mut().zip(replicate) {
            v.push(x);
        }
    }
    values.into_iter().zip(full).map(|(v, &f)| interval(v, f)).collect()
}

/// `full` with the 2.5th and 97.5th percentiles of the finite `replicates`: each the replicate at
/// the index (n - 1) x p rounded to the nearest (within a replicate of the interpolated one). The
/// others are counted as undefined.
pub fn interval(mut replicates: Vec<f64>, full: f64) -> Estimate {
    let all = replicates.len();
    replicates.retain(|v| v.is_finite());
    replicates.sort_by(f64::total_cmp);
    let q = |f: f64| replicates.get(((replicates.len() as f64 - 1.0) * f).round() as usize).copied().unwrap_or(f64::NAN);
    Estimate { value: full, lo: q(0.025), hi: q(0.975), undefined: all - replicates.len() }
}

/// One set of users resampled by [`joint_resamples`]: each user's index in the log (below the
/// universe) with that user's sample indices.
pub struct UserSet<'a> {
    /// The log index of each user of the set.
    pub users: &'a [usize],
    /// `samples[k]`: the sample indices of `users[k]`.
    pub samples: &'a [Vec<usize>],
}

/// Resamples the log's `universe` users with replacement, `reps` times, and calls `each` with the
/// samples drawn for every set: a user drawn n times brings its samples n times into each set
/// that holds it. The draws are shared by the sets, so sets whose users overlap (the test users
/// of several seeds) are resampled together, as their users are, and an interval of a mean over
/// the sets is as wide as that overlap makes it.
pub fn joint_resamples(universe: usize, sets: &[UserSet<'_>], reps: usize, seed: u64, mut each: impl FnMut(&[Vec<usize>])) {
    let mut rng = SplitMix::new(seed);
    let mut counts = vec![0u32; universe];
    let mut drawn: Vec<Vec<usize>> = vec![Vec::new(); sets.len()];
    for _ in 0..reps {
        counts.fill(0);
        for _ in 0..universe {
            counts[rng.below(universe)] += 1;
        }
        for (set, idx) in sets.iter().zip(&mut drawn) {
            idx.clear();
            for (&u, samples) in set.users.iter().zip(set.samples) {
                for _ in 0..counts[u] {
                    idx.extend_from_slice(samples);
                }
            }
        }
        each(&drawn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), Some(0.75));
        assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[0, 1, 0, 1]), Some(0.5));
        assert_eq!(auc(&[0.5, 0.2], &[1, 1]), None);
    }

    #[test]
    fn average_precision_matches_the_hand_computed_value() {
        // Sorted: 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0): AP = 0.5 * 1 + 0.5 * 2/3.
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]).unwrap();
        assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        // Tied scores form one threshold.
        let ap = average_precision(&[0.5, 0.5], &[1, 0]).unwrap();
        assert!((ap - 0.5).abs() < 1e-12);
        // A NaN score (a broken model's) is a threshold of its own, first: it ended the loop
        // never before.
        let ap = average_precision(&[f32::NAN, 0.2, 0.9], &[0, 1, 0]).unwrap();
        assert!((ap - 1.0 / 3.0).abs() < 1e-12, "{ap}");
    }

    #[test]
    fn calibration_and_threshold_figures() {
        assert!((brier(&[1.0, 0.0, 0.5], &[1, 0, 1]) - 0.25 / 3.0).abs() < 1e-12);
        // Bin 9 holds 0.95 and 1.0 (mean 0.975, labels 1 and 0): |0.975 - 0.5| * 2/3; bin 0 holds
        // 0.05 (label 0): 0.05 * 1/3.
        assert!((ece(&[0.95, 1.0, 0.05], &[1, 0, 0]) - (0.475 * 2.0 / 3.0 + 0.05 / 3.0)).abs() < 1e-6);
        let t = at_threshold(&[0.9, 0.6, 0.2, 0.1], &[1, 0, 1, 0], 0.5);
        assert_eq!((t.precision, t.recall, t.accuracy), (0.5, 0.5, 0.5));
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantiles(&[4.0, 1.0, 3.0, 2.0, 5.0]), [2.0, 3.0, 4.0]);
        assert_eq!(quantiles(&[1.0, 2.0]), [1.25, 1.5, 1.75]);
        assert!(quantiles(&[]).iter().all(|q| q.is_nan()));
    }

    #[test]
    fn joint_resamples_draw_each_user_once_for_every_set_that_holds_it() {
        // Two sets over a log of 6 users; users 2 and 3 are in both.
        let (a_users, a_samples) = ([0, 2, 3], vec![vec![0], vec![1, 2], vec![3]]);
        let (b_users, b_samples) = ([2, 3, 5], vec![vec![10], vec![11], vec![12, 13]]);
        let sets = [UserSet { users: &a_users, samples: &a_samples }, UserSet { users: &b_users, samples: &b_samples }];
        let (mut reps, mut drawn_users) = (0, 0usize);
        joint_resamples(6, &sets, 500, 7, |drawn| {
            reps += 1;
            let count = |idx: &[usize], sample: usize| idx.iter().filter(|&&i| i == sample).count();
            // User 2 is samples 1 and 2 in the first set and sample 10 in the second: one count.
            assert_eq!(count(&drawn[0], 1), count(&drawn[1], 10));
            assert_eq!(count(&drawn[0], 2), count(&drawn[1], 10));
            assert_eq!(count(&drawn[0], 3), count(&drawn[1], 11));
            // A user's samples come together.
            assert_eq!(count(&drawn[1], 12), count(&drawn[1], 13));
            drawn_users += count(&drawn[0], 0) + count(&drawn[0], 3) + count(&drawn[0], 1) + count(&drawn[1], 12);
        });
        assert_eq!(reps, 500);
        // Each of the 4 users counted is drawn once per replicate on average (6 draws of 6 users).
        let mean = drawn_users as f64 / 500.0;
        assert!((mean - 4.0).abs() < 0.4, "{mean}");
    }

    #[test]
    fn interval_ignores_undefined_replicates() {
        let e = interval(vec![f64::NAN, 3.0, 1.0, 2.0, f64::INFINITY], 2.0);
        assert_eq!((e.value, e.lo, e.hi, e.undefined), (2.0, 1.0, 3.0, 2));
        let none = interval(vec![f64::NAN], 0.5);
        assert!(none.lo.is_nan());
        assert_eq!(none.undefined, 1);
    }

    #[test]
    fn bootstrap_counts_the_resamples_with_one_class() {
        // 20 users, one of whom has the only positive sample: about (19/20)^20, a third of the
        // resamples, draw no positive, and their ROC-AUC is undefined.
        let groups: Vec<Vec<usize>> = (0..20).map(|u| vec![2 * u, 2 * u + 1]).collect();
        let scores: Vec<f32> = (0..40).map(|i| i as f32 / 40.0).collect();
        let labels: Vec<u8> = (0..40).map(|i| u8::from(i == 39)).collect();
        let mut none = 0;
        let e = bootstrap(&groups, 300, 3, &[1.0], |idx| {
            let s: Vec<f32> = idx.iter().map(|&i| scores[i]).collect();
            let l: Vec<u8> = idx.iter().map(|&i| labels[i]).collect();
            let a = auc(&s, &l);
            none += usize::from(a.is_none());
            vec![a.unwrap_or(f64::NAN)]
        })[0];
        assert_eq!(e.undefined, none);
        assert!((60..=160).contains(&none), "{none} of 300");
    }

    #[test]
    fn bootstrap_interval_brackets_the_estimate() {
        let groups: Vec<Vec<usize>> = (0..50).map(|u| vec![2 * u, 2 * u + 1]).collect();
        let scores: Vec<f32> = (0..100).map(|i| (i % 7) as f32 / 7.0).collect();
        let labels: Vec<u8> = (0..100).map(|i| u8::from(i % 7 > 3)).collect();
        let full = auc(&scores, &labels).unwrap();
        let e = bootstrap(&groups, 200, 1, &[full], |idx| {
            let s: Vec<f32> = idx.iter().map(|&i| scores[i]).collect();
            let l: Vec<u8> = idx.iter().map(|&i| labels[i]).collect();
            vec![auc(&s, &l).unwrap_or(f64::NAN)]
        })[0];
        assert!(e.lo <= e.value && e.value <= e.hi, "{e:?}");
    }

    #[test]
    fn ranked_figures_of_a_resample_equal_those_of_the_resample_written_out() {
        // Scores with ties, both zeros and NaNs of both signs; resamples drawn with repeats and
        // left-out samples. The NaNs are all of one label: with both, the figures of a resample
        // depend on the order of its NaN copies, which differs.
        let values = [0.1f32, 0.25, 0.25, 0.7, 0.0, -0.0, 0.9, 0.25, 0.4, f32::NAN, -f32::NAN];
        let mut rng = SplitMix::new(11);
        for trial in 0..300 {
            let n = 1 + rng.below(40);
            let scores: Vec<f32> = (0..n).map(|_| values[rng.below(values.len())]).collect();
            let nan_label = u8::from(trial % 2 == 0);
            let labels: Vec<u8> = scores.iter().map(|s| if s.is_nan() { nan_label } else { u8::from(rng.below(3) == 0) }).collect();
            let ranked = Ranked::new(&scores);
            let idx: Vec<usize> = (0..rng.below(2 * n + 1)).map(|_| rng.below(n)).collect();
            let mut count = vec![0u32; n];
            for &i in &idx {
                count[i] += 1;
            }
            let (s, l): (Vec<f32>, Vec<u8>) = idx.iter().map(|&i| (scores[i], labels[i])).unzip();
            let bits = |v: Option<f64>| v.map(f64::to_bits);
            assert_eq!(bits(ranked.auc(&labels, &count)), bits(auc(&s, &l)), "trial {trial}: {s:?} {l:?}");
            assert_eq!(bits(ranked.average_precision(&labels, &count)), bits(average_precision(&s, &l)), "trial {trial}: {s:?} {l:?}");
        }
    }

    #[test]
    fn bootstrap_of_several_figures_is_each_figure_bootstrapped_alone() {
        // One resampling for two figures gives what two resamplings with the same seed give.
        let groups: Vec<Vec<usize>> = (0..30).map(|u| vec![3 * u, 3 * u + 1, 3 * u + 2]).collect();
        let scores: Vec<f32> = (0..90).map(|i| ((i * 37) % 11) as f32 / 11.0).collect();
        let labels: Vec<u8> = (0..90).map(|i| u8::from((i * 37) % 11 > 4 || i % 13 == 0)).collect();
        let pick =
            |idx: &[usize]| -> (Vec<f32>, Vec<u8>) { (idx.iter().map(|&i| scores[i]).collect(), idx.iter().map(|&i| labels[i]).collect()) };
        let roc = |idx: &[usize]| {
            let (s, l) = pick(idx);
            auc(&s, &l).unwrap_or(f64::NAN)
        };
        let ap = |idx: &[usize]| {
            let (s, l) = pick(idx);
            average_precision(&s, &l).unwrap_or(f64::NAN)
        };
        let both = bootstrap(&groups, 150, 7, &[0.6, 0.7], |idx| vec![roc(idx), ap(idx)]);
        let alone =
            [bootstrap(&groups, 150, 7, &[0.6], |idx| vec![roc(idx)])[0], bootstrap(&groups, 150, 7, &[0.7], |idx| vec![ap(idx)])[0]];
        for (b, a) in both.iter().zip(&alone) {
            assert_eq!((b.value, b.lo, b.hi, b.undefined), (a.value, a.lo, a.hi, a.undefined));
        }
        assert_ne!((both[0].lo, both[0].hi), (both[1].lo, both[1].hi), "two different figures");
    }
}
