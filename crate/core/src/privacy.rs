//! Randomized response: reporting a segment or an experiment variant with local differential
//! privacy, and the unbiased estimate of the true shares from many such reports.
//!
//! k-ary randomized response (Warner, JASA 1965, generalised to k values; Kairouz, Bonawitz and
//! Ramage, ICML 2016): a device whose true value is j reports j with probability
//! `p = e^ε / (e^ε + k − 1)` and each of the k − 1 other values with probability
//! `q = 1 / (e^ε + k − 1)`. Since `p / q = e^ε`, the report is ε-locally differentially private:
//! whatever is seen, no true value is more than e^ε times likelier than another.
//!
//! With n reports of which `c_j` say j, the observed share `λ_j = c_j / n` has expectation
//! `q + (p − q) π_j`, so the estimator of the true share is
//!
//! ```text
//! π̂_j = (c_j / n − q) / (p − q)
//! ```
//!
//! unbiased, with variance `λ_j (1 − λ_j) / (n (p − q)²)` (the standard error reported is its
//! square root at λ̂_j = c_j / n). The 95% interval is Wilson's score interval for λ_j (Wilson,
//! JASA 1927), mapped through the same line, `(λ − q) / (p − q)`: the normal approximation
//! `π̂_j ± 1.96 · se` covers the truth far less often than stated with few reports (about 89% at
//! n = 20, k = 3, ε = 1) and has no width at all when a count is 0 or n, where Wilson's still
//! covers about 95%. The estimates and the interval may fall outside [0, 1] for small n; they are
//! reported as computed.
//!
//! ```
//! use shopper_intent::privacy::RandomizedResponse;
//! let rr = RandomizedResponse::new(3, 1.0)?;
//! // The random numbers come from the caller (the engine reads no random source).
//! assert_eq!(rr.report(2, 0.01, 0.5), 2); // u below p: the truth
//! let est = rr.estimate(&[5_000, 3_000, 2_000])?;
//! assert!((est.iter().map(|e| e.value).sum::<f64>() - 1.0).abs() < 1e-9);
//! # Ok::<(), shopper_intent::Error>(())
//! ```

use crate::error::Error;

/// The two-sided 95% normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// k-ary randomized response with privacy parameter ε.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomizedResponse {
    k: usize,
    epsilon: f64,
    p: f64,
    q: f64,
}

/// An estimated share with its standard error and 95% interval (Wilson's, see the module).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ShareEstimate {
    /// π̂.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
    /// The interval's lower end.
    pub lo: f64,
    /// Its upper end.
    pub hi: f64,
}

impl RandomizedResponse {
    /// A mechanism over `k` values (2 to 1024) with `epsilon` in (0, 20].
    pub fn new(k: usize, epsilon: f64) -> Result<RandomizedResponse, Error> {
        if !(2..=1024).contains(&k) {
            return Err(Error::BadOptions(format!("randomized response needs 2 to 1024 values, got {k}")));
        }
        if !(epsilon.is_finite() && epsilon > 0.0 && epsilon <= 20.0) {
            return Err(Error::BadOptions(format!("epsilon must be in (0, 20], got {epsilon}")));
        }
        let e = epsilon.exp();
        let denom = e + (k - 1) as f64;
        Ok(RandomizedResponse { k, epsilon, p: e / denom, q: 1.0 / denom })
    }

    /// The number of values.
    pub fn values(&self) -> usize {
        self.k
    }

    /// ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// p: the probability of reporting the truth.
    pub fn keep_probability(&self) -> f64 {
        self.p
    }

    /// q: the probability of reporting one given other value.
    pub fn other_probability(&self) -> f64 {
        self.q
    }

    /// The value to report for `truth`, from two uniform numbers in [0, 1): `u` decides whether
    /// the truth is kept (u < p), `v` picks one of the other values uniformly.
    pub fn report(&self, truth: usize, u: f64, v: f64) -> usize {
        let truth = truth.min(self.k - 1);
        if u < self.p {
            return truth;
        }
        let pick = ((v.clamp(0.0, 1.0 - f64::EPSILON)) * (self.k - 1) as f64) as usize;
        if pick >= truth {
            pick + 1
        } else {
            pick
        }
    }

    /// The unbiased estimates of the true shares from the counts of reports per value (one count
    /// per value). No report at all is an error: there is nothing to estimate from.
    pub fn estimate(&self, counts: &[u64]) -> Result<Vec<ShareEstimate>, Error> {
        if counts.len() != self.k {
            return Err(Error::BadOptions(format!("{} counts for {} values", counts.len(), self.k)));
        }
        let n = counts
            .iter()
            .try_fold(0u64, |n, &c| n.checked_add(c))
            .ok_or_else(|| Error::BadOptions("the counts add up to more than 2^64".into()))?;
        if n == 0 {
            return Err(Error::BadOptions("no report to estimate from".into()));
        }
        let nf = n as f64;
        let gap = self.p - self.q;
        Ok(counts
            .iter()
            .map(|&c| {
                let lambda = c as f64 / nf;
                let value = (lambda - self.q) / gap;
                let se = (lambda * (1.0 - lambda) / nf).sqrt() / gap;
                // Held around λ̂ itself (rounding can put an end a hair past it at a count of 0 or n).
                let (lo, hi) = wilson(lambda, nf);
                let (lo, hi) = (lo.min(lambda), hi.max(lambda));
                ShareEstimate { value, se, lo: (lo - self.q) / gap, hi: (hi - self.q) / gap }
            })
            .collect())
    }
}

/// Wilson's 95% score interval for a binomial proportion observed as `share` of `n` trials.
fn wilson(share: f64, n: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let scale = 1.0 + z2 / n;
    let centre = (share + z2 / (2.0 * n)) / scale;
    let half = Z95 * (share * (1.0 - share) / n + z2 / (4.0 * n * n)).sqrt() / scale;
    (centre - half, centre + half)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_that_overflow_are_refused() {
        let rr = super::RandomizedResponse::new(2, 1.0).unwrap();
        let e = rr.estimate(&[u64::MAX, 2]).unwrap_err();
        assert!(e.to_string().contains("more than 2^64"), "{e}");
        assert!(rr.estimate(&[u64::MAX / 2, u64::MAX / 2]).is_ok());
    }

    use super::*;

    /// SplitMix64, for reproducible simulations.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn the_mechanism_is_epsilon_ldp_and_reports_every_value() {
        for (k, eps) in [(2, 0.5), (3, 1.0), (5, 2.0)] {
            let rr = RandomizedResponse::new(k, eps).unwrap();
            assert!((rr.keep_probability() / rr.other_probability() - eps.exp()).abs() < 1e-9);
            assert!((rr.keep_probability() + (k - 1) as f64 * rr.other_probability() - 1.0).abs() < 1e-12);
            let mut seen = vec![0u32; k];
            let mut rng = Rng(9);
            for _ in 0..10_000 {
                seen[rr.report(0, rng.next(), rng.next())] += 1;
            }
            assert!(seen.iter().all(|&c| c > 0), "{seen:?}");
        }
        assert!(RandomizedResponse::new(1, 1.0).is_err());
        assert!(RandomizedResponse::new(3, 0.0).is_err());
        assert!(RandomizedResponse::new(3, f64::NAN).is_err());
        let rr = RandomizedResponse::new(3, 1.0).unwrap();
        assert!(rr.estimate(&[0, 0, 0]).is_err() && rr.estimate(&[1, 2]).is_err());
    }

    /// With few reports (20, 50) or a rare value the interval still covers the truth about as
    /// often as stated (the normal approximation covered 89% at n = 20 and 32% for a share of
    /// 0.001 at ε = 8, n = 300), and a count of 0 gives an interval of some width.
    #[test]
    fn the_interval_covers_the_truth_with_few_reports() {
        let mut rng = Rng(7);
        for (k, eps, n, truth) in [(3, 1.0, 20, 0.3), (3, 1.0, 50, 0.62), (2, 2.0, 20, 0.1), (3, 8.0, 300, 0.001)] {
            let rr = RandomizedResponse::new(k, eps).unwrap();
            let (mut covered, mut zero_width) = (0u32, 0u32);
            let sims = 20_000;
            for _ in 0..sims {
                let mut counts = vec![0u64; k];
                for _ in 0..n {
                    let t = usize::from(rng.next() >= truth);
                    counts[rr.report(t, rng.next(), rng.next())] += 1;
                }
                let e = rr.estimate(&counts).unwrap()[0];
                covered += u32::from(e.lo <= truth && truth <= e.hi);
                zero_width += u32::from(e.hi - e.lo < 1e-12);
            }
            let rate = f64::from(covered) / f64::from(sims);
            assert!(rate >= 0.93, "coverage {rate} at k = {k}, ε = {eps}, n = {n}, share {truth}");
            assert_eq!(zero_width, 0);
        }
        for counts in [[0, 5, 5], [0, 1, 2], [0, 3, 4], [0, 50, 50], [100, 0, 0]] {
            for e in RandomizedResponse::new(3, 1.0).unwrap().estimate(&counts).unwrap() {
                assert!(e.lo <= e.value && e.value <= e.hi && e.lo < e.hi, "{counts:?}: {e:?}");
            }
        }
    }

    /// On 100k simulated reports the estimate falls within its stated 95% interval about 95% of
    /// the time: 400 simulations, each true share checked; the coverage must be within what
    /// chance allows around 0.95 (three standard errors of a binomial proportion).
    #[test]
    fn the_interval_covers_the_truth_at_the_stated_rate() {
        let truth = [0.62, 0.28, 0.10]; // low, medium, high
        let rr = RandomizedResponse::new(3, 1.0).unwrap();
        let mut rng = Rng(2026);
        let (mut covered, mut checks) = (0u32, 0u32);
        let mut mean_error = [0f64; 3];
        let sims = 400;
        for _ in 0..sims {
            let mut counts = [0u64; 3];
            for _ in 0..100_000 {
                let u = rng.next();
                let t = if u < truth[0] {
                    0
                } else if u < truth[0] + truth[1] {
                    1
                } else {
                    2
                };
                counts[rr.report(t, rng.next(), rng.next())] += 1;
            }
            for (j, e) in rr.estimate(&counts).unwrap().iter().enumerate() {
                checks += 1;
                covered += u32::from(e.lo <= truth[j] && truth[j] <= e.hi);
                mean_error[j] += (e.value - truth[j]) / sims as f64;
            }
        }
        let rate = f64::from(covered) / f64::from(checks);
        let tolerance = 3.0 * (0.95 * 0.05 / f64::from(checks)).sqrt();
        assert!((rate - 0.95).abs() <= tolerance, "coverage {rate} over {checks} intervals");
        // Unbiased: the mean error over the simulations is within its own noise.
        for e in mean_error {
            assert!(e.abs() < 0.002, "bias {e}");
        }
    }
}
