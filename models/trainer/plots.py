"""The report's figures, from results.json and the first seed's test predictions
(OUT/build/preds/seed{S}.npz): ROC, precision-recall, reliability, AUC by prefix length,
cumulative gains."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import metrics as M  # noqa: E402
from .baselines import NAMES  # noqa: E402

COLORS = {"lstm": "C3", "lstm_single": "C1", "logistic_regression": "C0", "lightgbm": "C2", "lightgbm_counts": "C8", "dense_network": "C4",
          "session_length": "C7", "prior": "k"}
FILES = ("roc.png", "pr.png", "reliability.png", "auc_by_prefix.png", "gains.png")


def _curve_points(y, s, roc=True):
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last], np.cumsum(1 - ys)[last]
    if roc:
        return np.r_[0, fp / max(fp[-1], 1)], np.r_[0, tp / max(tp[-1], 1)]
    return tp / max(ys.sum(), 1), tp / np.arange(1, len(ys) + 1)[last]


def _gains(y, s, session):
    u, inv = np.unique(session, return_inverse=True)
    best = np.full(len(u), -np.inf)
    np.maximum.at(best, inv, s)
    lab = np.zeros(len(u))
    lab[inv] = y
    order = np.argsort(-best, kind="mergesort")
    return np.r_[0, np.arange(1, len(u) + 1) / len(u)], np.r_[0, np.cumsum(lab[order]) / max(lab.sum(), 1)]


def _fig():
    f, ax = plt.subplots(figsize=(4.6, 3.6), dpi=100)
    ax.grid(alpha=0.3)
    return f, ax


def _save(f, path):
    f.tight_layout()
    f.savefig(path, dpi=100)
    plt.close(f)


def draw(out, results):
    S0 = results["seeds"][0]
    d = np.load(os.path.join(out, "build", "preds", f"seed{S0}.npz"))
    y = d["y"].astype(float)
    # Every baseline the verdict may name as the best is drawn beside the LSTM.
    shown = [k for k in ("lstm", "logistic_regression", "lightgbm", "lightgbm_counts", "dense_network", "session_length") if f"p_{k}" in d]
    pdir = os.path.join(out, "plots")
    os.makedirs(pdir, exist_ok=True)
    rank = lambda k: d[f"r_{k}"].astype(float)

    f, ax = _fig()
    for k in shown:
        x_, y_ = _curve_points(y, rank(k))
        ax.plot(x_, y_, color=COLORS[k], lw=1.3, label=f"{NAMES[k]} {M.roc_auc(y, rank(k)):.3f}")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, every prefix, seed-{S0} test users")
    ax.legend(fontsize=6.5, loc="lower right")
    _save(f, os.path.join(pdir, "roc.png"))

    f, ax = _fig()
    for k in shown:
        r, p = _curve_points(y, rank(k), roc=False)
        ax.plot(r, p, color=COLORS[k], lw=1.3, label=f"{NAMES[k]} AP {M.average_precision(y, rank(k)):.3f}")
    ax.axhline(y.mean(), color="k", ls=":", lw=0.8, label=f"base rate {y.mean():.3f}")
    ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, seed-{S0} test users", ylim=(0, 1))
    ax.legend(fontsize=6.5, loc="upper right")
    _save(f, os.path.join(pdir, "pr.png"))

    f, ax = _fig()
    top = 0.0
    for k in shown[:3]:
        p = d[f"p_{k}"].astype(float)
        parts = np.array_split(np.argsort(p, kind="mergesort"), 10)  # score deciles: equal-count bins
        xs, ys = [p[q].mean() for q in parts if len(q)], [y[q].mean() for q in parts if len(q)]
        top = max(top, max(xs), max(ys))
        ax.plot(xs, ys, "o-", color=COLORS[k], ms=3, lw=1.1, label=f"{NAMES[k]} ECE {M.ece(y, p):.3f}")
    lim = min(1.0, top * 1.1 + 0.02)
    ax.plot([0, lim], [0, lim], "k:", lw=0.8)
    ax.set(xlabel="mean predicted probability (score deciles)", ylabel="observed purchase rate",
           title=f"Reliability, seed-{S0} test users", xlim=(0, lim), ylim=(0, lim))
    ax.legend(fontsize=6.5, loc="upper left")
    _save(f, os.path.join(pdir, "reliability.png"))

    f, ax = _fig()
    buckets = list(results["models"]["lstm"]["mean"]["auc_by_prefix"])
    for k in [k for k in shown if k != "session_length"]:
        v = [results["models"][k]["mean"]["auc_by_prefix"][b] for b in buckets]
        ax.plot(range(len(buckets)), v, "o-", color=COLORS[k], ms=3, lw=1.1, label=NAMES[k])
    ax.axhline(0.5, color="k", ls=":", lw=0.8)
    ax.set_xticks(range(len(buckets)))
    ax.set_xticklabels(buckets)
    ax.set(xlabel="events so far in the session (prefix length)", ylabel="ROC-AUC within the bucket",
           title=f"AUC by prefix length, mean over seeds {', '.join(map(str, results['seeds']))}")
    ax.legend(fontsize=6.5)
    _save(f, os.path.join(pdir, "auc_by_prefix.png"))

    f, ax = _fig()
    for k in shown:
        xs, ys = _gains(y, rank(k), d["session"])
        ax.plot(xs * 100, ys * 100, color=COLORS[k], lw=1.3, label=NAMES[k])
    ax.plot([0, 100], [0, 100], "k:", lw=0.8, label="random")
    ax.set(xlabel="% of sessions targeted (by highest score reached)", ylabel="% of purchasing sessions caught",
           title=f"Cumulative gains, seed-{S0} test sessions")
    ax.legend(fontsize=6.5, loc="lower right")
    _save(f, os.path.join(pdir, "gains.png"))
