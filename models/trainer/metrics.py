"""Metrics, with the definitions `shopper-intent eval` implements (crate/cli/src/metrics.rs).

- ROC-AUC: the Mann-Whitney statistic, P(score of a positive > score of a negative), ties
  counting one half. NaN without both classes.
- PR-AUC: average precision, `sum_n (R_n - R_{n-1}) P_n` over the distinct scores taken as
  thresholds in decreasing order (tied scores enter together).
- At a threshold t a score >= t is a predicted purchase; F1, precision and recall are of the
  positive class (0 when undefined).
- Brier: mean of (p - y)^2. ECE: 10 equal-width bins on [0, 1], bin min(floor(10 p), 9),
  `sum_b n_b / N |mean p_b - mean y_b|`.
- Online AUC is over every prefix sample; session AUC over each session's last sample; AUC@k
  over the samples of prefix k; AUC by prefix over the buckets of `PREFIX_BUCKETS`.

Every function takes integer-like sample weights: a user-bootstrap resample gives each sample
the number of times its user was drawn, and the weighted statistic equals the statistic over the
replicated samples.
"""

import hashlib

import numpy as np

PREFIX_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, 8), (9, 16), (17, 32), (33, None))
# ECE has no interval: its plug-in estimate is biased upward (each bin's sampling noise counts as
# miscalibration), and a resample's more so, so the bootstrap's percentiles can lie wholly above
# the estimate (seen on a log of 400 users: 0.032 [0.035, 0.098]).
BOOT_METRICS = ("online_auc", "pr_auc", "session_auc", "f1", "precision", "recall", "accuracy", "brier")


def bucket_name(lo, hi):
    return f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")


class Ranked:
    """Scores sorted once, so that many weighted AUC / AP evaluations (the bootstrap) are cheap."""

    def __init__(self, scores):
        s = np.asarray(scores, dtype=np.float64)
        order = np.argsort(-s, kind="mergesort")
        ss = s[order]
        new = np.ones(len(s), dtype=bool)
        new[1:] = ss[1:] != ss[:-1]
        gid = np.cumsum(new) - 1
        self.group = np.empty(len(s), dtype=np.int64)
        self.group[order] = gid
        self.ngroups = int(gid[-1] + 1) if len(s) else 0

    def _sums(self, y, w):
        y = np.asarray(y, dtype=np.float64)
        w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
        pos = np.bincount(self.group, weights=w * y, minlength=self.ngroups)
        neg = np.bincount(self.group, weights=w * (1 - y), minlength=self.ngroups)
        return pos, neg

    def auc(self, y, w=None):
        pos, neg = self._sums(y, w)
        P, N = pos.sum(), neg.sum()
        if P == 0 or N == 0:
            return float("nan")
        below = N - np.cumsum(neg)  # negatives in groups of lower score
        return float((pos * (below + 0.5 * neg)).sum() / (P * N))

    def ap(self, y, w=None):
        pos, neg = self._sums(y, w)
        P = pos.sum()
        if P == 0:
            return float("nan")
        tp, fp = np.cumsum(pos), np.cumsum(neg)
        return float((pos / P * (tp / np.maximum(tp + fp, 1e-300))).sum())


def roc_auc(y, p, w=None):
    return Ranked(p).auc(y, w)


def average_precision(y, p, w=None):
    return Ranked(p).ap(y, w)


def _w(y, w):
    return np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)


def threshold_metrics(y, p, thr, w=None):
    y = np.asarray(y, dtype=np.float64)
    w = _w(y, w)
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
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    w = _w(y, w)
    return float((w * (p - y) ** 2).sum() / w.sum())


def ece(y, p, w=None, bins=10):
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    w = _w(y, w)
    b = np.clip(np.floor(p * bins), 0, bins - 1).astype(np.int64)
    n = np.bincount(b, weights=w, minlength=bins)
    sp = np.bincount(b, weights=w * p, minlength=bins)
    sy = np.bincount(b, weights=w * y, minlength=bins)
    nz = n > 0
    return float(np.abs(sp[nz] - sy[nz]).sum() / n.sum())


def best_f1_threshold(y, p):
    """The threshold maximising positive-class F1 (predict p >= t) over the distinct scores: the
    midpoint between the chosen score and the next lower one, so that it does not sit on a float
    boundary. Returns (threshold, F1)."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    last = np.r_[ps[1:] != ps[:-1], True]
    tp = np.cumsum(ys)[last]
    k = np.arange(1, len(ys) + 1)[last]
    f1 = 2 * tp / (k + ys.sum())
    i = int(np.argmax(f1))
    distinct = ps[last]
    lower = distinct[i + 1] if i + 1 < len(distinct) else distinct[i] - 1e-6
    return float((distinct[i] + lower) / 2), float(f1[i])


def last_prefix_mask(session, prefix):
    """True at each session's last (longest) sample."""
    order = np.lexsort((prefix, session))
    s = session[order]
    last = np.zeros(len(session), dtype=bool)
    last[order[np.r_[s[1:] != s[:-1], True]]] = True
    return last


def by_prefix(y, r, prefix):
    """AUC@k for k = 1..10 and AUC per prefix bucket."""
    at_k = {str(k): (roc_auc(y[prefix == k], r[prefix == k]) if (prefix == k).any() else float("nan")) for k in range(1, 11)}
    buckets = {}
    for lo, hi in PREFIX_BUCKETS:
        m = (prefix >= lo) & (prefix <= (hi if hi is not None else np.iinfo(np.int64).max))
        buckets[bucket_name(lo, hi)] = roc_auc(y[m], r[m]) if m.any() else float("nan")
    return at_k, buckets


def all_metrics(y, p, prefix, session, thr, rank=None):
    """Every test figure of one scorer. Ranking figures (the AUCs, PR-AUC) use `rank` when given
    (a baseline's raw score), the others the probability `p`."""
    y = np.asarray(y, np.float64)
    r = np.asarray(p if rank is None else rank, np.float64)
    last = last_prefix_mask(session, prefix)
    m = {"online_auc": roc_auc(y, r), "pr_auc": average_precision(y, r), "session_auc": roc_auc(y[last], r[last]),
         "brier": brier(y, p), "ece": ece(y, p), "threshold": float(thr)}
    m.update(threshold_metrics(y, p, thr))
    m["auc_at_k"], m["auc_by_prefix"] = by_prefix(y, r, prefix)
    m.update(samples=int(len(y)), positives=int(y.sum()), sessions=int(last.sum()))
    return m


class UserBootstrap:
    """Resamples users with replacement: each resample is a vector of per-sample weights.

    With `universe` (the number of users of the whole log, `user` holding indices below it), the
    log's users are resampled, and a sample takes its user's count: two UserBootstraps with the
    same universe and seed draw the same counts, so seeds whose test sets share users are
    resampled together (their replicates are as correlated as their users)."""

    def __init__(self, user, n=1000, seed=0, universe=None):
        rng = np.random.default_rng(seed)
        if universe is not None:
            user = np.asarray(user, np.int64)
            counts = rng.multinomial(universe, np.full(universe, 1.0 / universe), size=n).astype(np.int32) if universe else np.zeros((n, 0), np.int32)
            self.weights = counts[:, user].astype(np.float64)  # [n, N]
            return
        _, inv = np.unique(user, return_inverse=True)
        k = inv.max() + 1 if len(inv) else 0
        counts = rng.multinomial(k, np.full(k, 1.0 / k), size=n) if k else np.zeros((n, 0))
        self.weights = counts[:, inv].astype(np.float64)  # [n, N]

    _last = None

    @classmethod
    def shared(cls, user, n=1000, seed=0, universe=None):
        """The same as `UserBootstrap(...)`, but the one made last is handed out again when it was
        made from the same users, count, seed and universe: the seeds of a run share their test
        users, and each copy is a dense [n, N] matrix (118 MB per seed on the Taobao sample)."""
        user = np.asarray(user)
        key = (n, seed, universe, user.dtype.str, user.shape, hashlib.sha256(user.tobytes()).hexdigest())
        if cls._last is None or cls._last[0] != key:
            cls._last = (key, cls(user, n=n, seed=seed, universe=universe))
        return cls._last[1]

    def __iter__(self):
        return iter(self.weights)

    def __len__(self):
        return len(self.weights)


def bootstrap(boot, y, p, prefix, session, thr, rank=None):
    """Replicates of each of BOOT_METRICS under the user bootstrap: name -> array [n]. `rank` as in
    `all_metrics`."""
    y = np.asarray(y, np.float64)
    rank = np.asarray(p if rank is None else rank)
    r = Ranked(rank)
    last = last_prefix_mask(session, prefix)
    rl = Ranked(rank[last])
    out = {k: [] for k in BOOT_METRICS}
    for w in boot:
        auc = r.auc(y, w)
        if not np.isfinite(auc):
            # Test users of one class only (or none drawn): ROC-AUC is undefined, and so the
            # replicate is left out of every interval, as the report says (a recall of 0 from a
            # resample without positives would widen the interval with a number that means nothing).
            for k in BOOT_METRICS:
                out[k].append(float("nan"))
            continue
        out["online_auc"].append(auc)
        out["pr_auc"].append(r.ap(y, w))
        out["session_auc"].append(rl.auc(y[last], w[last]))
        for k, v in threshold_metrics(y, p, thr, w).items():
            out[k].append(v)
        out["brier"].append(brier(y, p, w))
    return {k: np.asarray(v) for k, v in out.items()}


def interval(replicates):
    """The 95% percentile interval of bootstrap replicates (NaNs ignored)."""
    v = np.asarray(replicates, np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return [float("nan"), float("nan")]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]


def finite(obj):
    """`obj` with every NaN or infinite float replaced by None (JSON null), recursively."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
