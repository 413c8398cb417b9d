"""Test figures per seed with user-bootstrap intervals, means over seeds, paired differences
between the LSTM and the best baseline, and the verdict.

- Per seed, every scorer is measured on the same resampled test users, so differences are paired.
- The resampling is of the log's users, once per replicate, shared by every seed (a user has the
  same count in every seed's test set): the seeds share their test users (featurize keeps them
  fixed), and their replicates are as correlated as their users. Replicate b of the mean over seeds is the mean of
  each seed's replicate b; its 2.5 and 97.5 percentiles give the interval.
- The best baseline is the one with the highest mean VALIDATION online AUC over the seeds. The
  test users are the same for every seed, so no seed's validation users are test users (before
  that split, the mean over seeds included validation users of one seed that were test users of
  another).
- Verdict: the LSTM beats the best baseline when the paired interval of the mean difference in
  online AUC is above 0, loses to it when below 0, and matches it otherwise; when the difference
  is undefined (a split without both classes), it cannot be compared.
"""

import warnings

import numpy as np

from . import metrics as M
from .baselines import NAMES
from .data import DataError

SCALARS = ("online_auc", "pr_auc", "session_auc", "f1", "precision", "recall", "accuracy", "brier", "ece", "val_online_auc")


class SeedEval:
    """Collects one seed's scorers on its test users with one shared bootstrap."""

    def __init__(self, split_val, split_test, boot_n, users):
        """`users`: the number of users of the log (indices of `split_test.user` are below it)."""
        self.val, self.test = split_val, split_test
        self.boot = M.UserBootstrap.shared(split_test.user, n=boot_n, seed=1000, universe=users)
        self.boot_n = boot_n
        self.figures, self.reps, self.preds = {}, {}, {}

    def add(self, name, p_val, p_test, threshold, raw_val=None, raw_test=None, extra=None, val_interval=False):
        """Adds a scorer: probabilities on validation and test (f32 values), its decision threshold,
        and the raw scores that rank (baselines). With `val_interval`, the validation online AUC
        gets its user-bootstrap interval too (`val_online_auc_ci`), for the check that a model is
        better than chance."""
        te = self.test
        for what, v in (("validation", p_val), ("test", p_test), ("validation", raw_val), ("test", raw_test)):
            if v is not None and not np.all(np.isfinite(np.asarray(v, np.float64))):
                raise DataError(f"{name}: its {what} scores are not all finite numbers (a model that diverged?); no figures are made from them")
        m = M.all_metrics(te.y, p_test, te.prefix, te.session, threshold, rank=raw_test)
        val_rank = p_val if raw_val is None else raw_val
        m["val_online_auc"] = M.roc_auc(self.val.y, val_rank)
        if val_interval:
            r = M.Ranked(val_rank)
            boot = M.UserBootstrap(self.val.user, n=self.boot_n, seed=1001)
            m["val_online_auc_ci"] = M.interval([r.auc(self.val.y, w) for w in boot])
        reps = M.bootstrap(self.boot, te.y, p_test, te.prefix, te.session, threshold, rank=raw_test)
        m["ci"] = {k: M.interval(v) for k, v in reps.items()}
        # Resamples whose test users' samples were of one class only: ROC-AUC is undefined there
        # and the intervals leave them out (the report says how many).
        m["undefined_replicates"] = int(np.sum(~np.isfinite(reps["online_auc"])))
        if extra:
            m.update(extra)
        self.figures[name], self.reps[name] = m, reps
        self.preds[name] = {"p": np.asarray(p_test, np.float32), "r": np.asarray(p_test if raw_test is None else raw_test, np.float64)}
        return m


def summarise(per_seed, baseline_names):
    """per_seed: {seed: SeedEval}. Returns the results dict: per model per seed figures, means with
    intervals, the best baseline, paired differences and the verdict. A figure that no seed
    defines (a prefix bucket without both classes) stays NaN (null in JSON)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _summarise(per_seed, baseline_names)


def _summarise(per_seed, baseline_names):
    seeds = sorted(per_seed)
    models = {}
    for name in per_seed[seeds[0]].figures:
        ps = {str(S): per_seed[S].figures[name] for S in seeds}
        mean = {}
        for k in SCALARS:
            vals = np.array([ps[str(S)][k] for S in seeds], float)
            e = {"mean": float(np.nanmean(vals)), "sd_seeds": float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0}
            if k in M.BOOT_METRICS:
                # A replicate undefined in any seed is undefined for the mean, as in `shopper-intent eval`.
                e["ci"] = M.interval(np.mean(np.stack([per_seed[S].reps[name][k] for S in seeds]), axis=0))
            mean[k] = e
        for key in ("auc_at_k", "auc_by_prefix"):
            mean[key] = {b: float(np.nanmean([ps[str(S)][key][b] for S in seeds])) for b in ps[str(seeds[0])][key]}
        models[name] = {"per_seed": ps, "mean": mean}
    best = max(baseline_names, key=lambda n: models[n]["mean"]["val_online_auc"]["mean"])
    paired = {n: paired_difference(per_seed, "lstm", n) for n in baseline_names if n != "prior"}
    paired.setdefault(best, paired_difference(per_seed, "lstm", best))
    return {"seeds": seeds, "models": models, "best_baseline": best, "paired_online_auc": paired,
            "verdict": verdict(paired[best], best)}


def paired_difference(per_seed, a, b, key="online_auc"):
    """a - b in `key`: per seed with its paired interval, and the mean over seeds."""
    seeds = sorted(per_seed)
    per, reps = {}, []
    for S in seeds:
        d = per_seed[S].reps[a][key] - per_seed[S].reps[b][key]
        reps.append(d)
        point = per_seed[S].figures[a][key] - per_seed[S].figures[b][key]
        per[str(S)] = {"diff": float(point), "ci": M.interval(d)}
    dm = np.mean(np.stack(reps), axis=0)
    return {"per_seed": per, "mean_diff": float(np.mean([per[str(S)]["diff"] for S in seeds])), "ci_mean": M.interval(dm),
            "share_above_zero": float(np.mean(dm[np.isfinite(dm)] > 0))}


def verdict(pair, best):
    lo, hi = pair["ci_mean"]
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(pair["mean_diff"])):
        return {"word": "cannot be compared with", "baseline": best,
                "sentence": f"the LSTM cannot be compared with the best baseline ({NAMES.get(best, best)}) on your data: the difference is "
                            "undefined (a test split without both kinds of session)",
                "mean_diff": pair["mean_diff"], "ci_mean": pair["ci_mean"]}
    word = "beats" if lo > 0 else ("loses to" if hi < 0 else "matches")
    # "Matches" is no difference found, not a shown equivalence: the sentence gives the range.
    tail = (f" (no clear difference: the interval holds differences from {lo:+.3f} to {hi:+.3f} AUC)" if word == "matches" else "")
    return {"word": word, "baseline": best,
            "sentence": f"the LSTM {word} the best baseline ({NAMES.get(best, best)}) on your data{tail}",
            "mean_diff": pair["mean_diff"], "ci_mean": pair["ci_mean"]}
