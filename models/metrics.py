"""Metrics, with the exact definitions the Rust `shopper-intent eval` reproduces.

- ROC-AUC: the Mann-Whitney statistic, P(score of a positive > score of a negative) with ties
  counted one half (equivalently, average ranks). Undefined (NaN) without both classes.
- PR-AUC: average precision, `sum_n (R_n - R_{n-1}) P_n` over the distinct scores taken as
  thresholds in decreasing order (tied scores enter together), as scikit-learn's
  `average_precision_score`.
- F1 / precision / recall / accuracy: a sample is predicted positive when `p >= threshold`;
  F1, precision and recall are of the positive class (0 when undefined).
- Brier: mean of `(p - y)^2`.
- ECE: 10 equal-width bins on [0, 1], bin `min(floor(10 p), 9)`; `sum_b n_b / N * |mean p_b - mean y_b|`
  over non-empty bins.

Every function also takes integer-like sample weights, which is how the user bootstrap is done:
a resample gives each sample the number of times its user was drawn, and a weighted statistic
equals the statistic over the replicated samples.
"""

import numpy as np


class Ranked:
    """Scores sorted once, so many weighted AUC / AP evaluations (bootstrap) are cheap."""

    def __init__(self, scores):
        s = np.asarray(scores, dtype=np.float64)
        order = np.argsort(-s, kind="mergesort")
        sorted_s = s[order]
        # group id per sample: tied scores share a group; groups in decreasing score order
        new = np.empty(len(s), dtype=bool)
        new[:1] = True
        new[1:] = sorted_s[1:] != sorted_s[:-1]
        gid_sorted = np.cumsum(new) - 1
        self.group = np.empty(len(s), dtype=np.int64)
        self.group[order] = gid_sorted
        self.ngroups = int(gid_sorted[-1] + 1) if len(s) else 0

    def _sums(self, y, w):
        w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        pos = np.bincount(self.group, weights=w * y, minlength=self.ngroups)
        neg = np.bincount(self.group, weights=w * (1 - y), minlength=self.ngroups)
        return pos, neg

    def auc(self, y, w=None):
        pos, neg = self._sums(y, w)
        P, N = pos.sum(), neg.sum()
        if P == 0 or N == 0:
            return float("nan")
        # groups are in decreasing score order: negatives strictly below a group are those after it
        neg_below = N - np.cumsum(neg)
        return float((pos * (neg_below + 0.5 * neg)).sum() / (P * N))

    def ap(self, y, w=None):
        pos, neg = self._sums(y, w)
        P = pos.sum()
        if P == 0:
            return float("nan")
        tp, fp = np.cumsum(pos), np.cumsum(neg)
        prec = tp / np.maximum(tp + fp, 1e-300)
        return float((pos / P * prec).sum())


def roc_auc(y, p, w=None):
    return Ranked(p).auc(y, w)


def average_precision(y, p, w=None):
    return Ranked(p).ap(y, w)


def threshold_metrics(y, p, thr, w=None):
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    pred = (np.asarray(p) >= thr).astype(np.float64)
    tp = (w * pred * y).sum()
    fp = (w * pred * (1 - y)).sum()
    fn = (w * (1 - pred) * y).sum()
    tot = w.sum()
    prec = tp / (tp + fp) if tp + fp > 0 else 0.0
    rec = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    acc = (tot - fp - fn) / tot if tot > 0 else float("nan")
    return {"f1": float(f1), "precision": float(prec), "recall": float(rec), "accuracy": float(acc)}


def brier(y, p, w=None):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    return float((w * (p - y) ** 2).sum() / w.sum())


def ece(y, p, w=None, bins=10):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    b = np.minimum(np.floor(p * bins), bins - 1).astype(np.int64)
    b = np.clip(b, 0, bins - 1)
    n = np.bincount(b, weights=w, minlength=bins)
    sp = np.bincount(b, weights=w * p, minlength=bins)
    sy = np.bincount(b, weights=w * y, minlength=bins)
    nz = n > 0
    return float((np.abs(sp[nz] - sy[nz])).sum() / n.sum())


def best_f1_threshold(y, p):
    """The threshold maximising positive-class F1 (predict p >= t), searched over the distinct
    scores; returns the midpoint between the chosen score and the next lower one, so the choice
    does not sit on a float boundary."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    last_of_group = np.r_[ps[1:] != ps[:-1], True]
    tp = np.cumsum(ys)[last_of_group]
    k = np.cumsum(np.ones_like(ys))[last_of_group]
    P = ys.sum()
    f1 = 2 * tp / (k + P)
    i = int(np.argmax(f1))
    thr_hi = ps[last_of_group][i]
    lower = ps[last_of_group][i + 1] if i + 1 < last_of_group.sum() else thr_hi - 1e-6
    return float((thr_hi + lower) / 2), float(f1[i])


def auc_at_k(y, p, prefix, ks=range(1, 11)):
    out = {}
    for k in ks:
        m = prefix == k
        out[str(k)] = roc_auc(y[m], p[m]) if m.any() else float("nan")
    return out


def last_prefix_mask(session, prefix):
    """True at each session's last (longest) sample."""
    order = np.lexsort((prefix, session))
    last = np.zeros(len(session), dtype=bool)
    s_sorted = session[order]
    is_last = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    last[order[is_last]] = True
    return last


def all_metrics(y, p, prefix, session, thr, rank=None):
    """Every test metric. Ranking metrics (AUCs, PR-AUC) use `rank` when given (a baseline's raw
    score), the others the probability `p`."""
    y = np.asarray(y, dtype=np.float64)
    r = np.asarray(p if rank is None else rank)
    last = last_prefix_mask(session, prefix)
    m = {"online_auc": roc_auc(y, r), "pr_auc": average_precision(y, r),
         "session_auc": roc_auc(y[last], r[last]), "brier": brier(y, p), "ece": ece(y, p),
         "threshold": float(thr)}
    m.update(threshold_metrics(y, p, thr))
    m["auc_at_k"] = auc_at_k(y, r, prefix)
    m["samples"] = int(len(y))
    m["positives"] = int(y.sum())
    m["sessions"] = int(last.sum())
    return m


class UserBootstrap:
    """Resamples users with replacement; each resample is a vector of per-sample weights."""

    def __init__(self, user, n=1000, seed=0):
        users, inv = np.unique(user, return_inverse=True)
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(len(users), np.full(len(users), 1.0 / len(users)), size=n)
        self.weights = counts[:, inv].astype(np.float64)  # [n, N]

    def __iter__(self):
        return iter(self.weights)


def bootstrap(boot, y, p, prefix, session, thr, names=("online_auc", "pr_auc", "session_auc",
                                                         "f1", "precision", "recall", "accuracy",
                                                         "brier", "ece"), rank=None):
    """Replicates of each metric under the user bootstrap: dict name -> array [n]. `rank` as in
    `all_metrics`."""
    y = np.asarray(y, dtype=np.float64)
    rank = np.asarray(p if rank is None else rank)
    r = Ranked(rank)
    last = last_prefix_mask(session, prefix)
    rl = Ranked(rank[last])
    out = {k: [] for k in names}
    for w in boot:
        out["online_auc"].append(r.auc(y, w))
        out["pr_auc"].append(r.ap(y, w))
        out["session_auc"].append(rl.auc(y[last], w[last]))
        t = threshold_metrics(y, p, thr, w)
        for k in ("f1", "precision", "recall", "accuracy"):
            out[k].append(t[k])
        out["brier"].append(brier(y, p, w))
        out["ece"].append(ece(y, p, w))
    return {k: np.asarray(v) for k, v in out.items() if k in names}
