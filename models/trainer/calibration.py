"""Platt scaling fitted on validation and constrained to be non-decreasing, the decision
threshold (best positive-class F1 on validation prefixes) and the segment thresholds (quantiles
of validation scores)."""

import numpy as np

from .metrics import best_f1_threshold

MEDIUM_SHARE = 0.35  # "medium": the top 35% of validation prefix scores
HIGH_SHARE = 0.10    # "high": the top 10%


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


def logit(p):
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def platt(z, y, iters=100):
    """Maximum-likelihood fit of p = sigmoid(a z + b) (Newton's method with step halving, on the
    standardised score). Returns (a, b) for the raw score."""
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    mu, sd = z.mean(), z.std()
    sd = sd if sd > 1e-12 else 1.0
    u = (z - mu) / sd

    def nll(w):
        t = w[0] * u + w[1]
        return float((np.logaddexp(0, t) - y * t).sum())

    rate = min(max(y.mean(), 1e-6), 1 - 1e-6)
    w = np.array([0.0, np.log(rate / (1 - rate))])
    f = nll(w)
    for _ in range(iters):
        p = sigmoid(w[0] * u + w[1])
        g = np.array([((p - y) * u).sum(), (p - y).sum()])
        s = p * (1 - p)
        h = np.array([[(s * u * u).sum(), (s * u).sum()], [(s * u).sum(), s.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        t = 1.0
        while t > 1e-8:
            cand = w - t * step
            fc = nll(cand)
            if fc <= f:
                break
            t /= 2
        if t <= 1e-8:
            break
        done = np.abs(cand - w).max() < 1e-12
        w, f = cand, fc
        if done:
            break
    a = w[0] / sd
    return float(a), float(w[1] - a * mu)


def fit_calibration(z_val, y_val):
    """Platt scaling, non-decreasing: when validation would reverse the score (slope < 0, or no
    fit), the probability is the validation rate for everyone. Returns (a, b)."""
    a, b = platt(z_val, y_val)
    if not (np.isfinite(a) and np.isfinite(b)) or a < 0:
        a, b = 0.0, float(logit(np.mean(y_val)))
    return a, b


def apply(ab, z):
    return sigmoid(ab[0] * np.asarray(z, np.float64) + ab[1])


def threshold(p_val, y_val):
    """The decision threshold: best positive-class F1 on validation prefixes, as f32 (what the
    engine compares with)."""
    t, _ = best_f1_threshold(y_val, np.asarray(p_val, np.float32))
    t = float(np.float32(min(max(t, 1e-6), 1 - 1e-6)))
    return t


def segments(p_val):
    """medium = the top MEDIUM_SHARE of validation prefix scores, high = the top HIGH_SHARE,
    kept inside (0, 1) with medium <= high."""
    q = np.quantile(np.asarray(p_val, np.float64), [1 - MEDIUM_SHARE, 1 - HIGH_SHARE])
    lo = float(np.clip(q[0], 1e-6, 1 - 1e-6))
    hi = float(np.clip(q[1], lo, 1 - 1e-6))
    return {"medium": lo, "high": hi}
