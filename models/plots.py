"""Draws the model card's figures into models/plots/ from models/results.json and the test
predictions in models/build/preds/seed{S}.npz (written by run_intent.py).

Usage: python models/plots.py [--out models]
"""

import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import metrics as M  # noqa: E402

SHOW = [("lstm", "LSTM (shipped)", "C3"), ("logistic_regression", "logistic regression", "C0"),
        ("lightgbm", "LightGBM", "C2"), ("dense_mlp", "dense MLP (aggregates)", "C4"),
        ("length", "session length", "C7")]


def roc_points(y, p):
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.r_[ps[1:] != ps[:-1], True]
    tp, fp = np.cumsum(ys)[last], np.cumsum(1 - ys)[last]
    return np.r_[0, fp / fp[-1]], np.r_[0, tp / tp[-1]]


def pr_points(y, p):
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.r_[ps[1:] != ps[:-1], True]
    tp, k = np.cumsum(ys)[last], np.arange(1, len(ys) + 1)[last]
    return tp / ys.sum(), tp / k


def session_max(session, p):
    """Per session (of the samples given): the highest score over its prefixes."""
    u, inv = np.unique(session, return_inverse=True)
    best = np.full(len(u), -np.inf)
    np.maximum.at(best, inv, p)
    return u, inv, best


def gains(y, p, session):
    u, inv, best = session_max(session, p)
    lab = np.zeros(len(u))
    lab[inv] = y
    order = np.argsort(-best, kind="mergesort")
    caught = np.cumsum(lab[order]) / lab.sum()
    return np.r_[0, np.arange(1, len(u) + 1) / len(u)], np.r_[0, caught]


def fig(w=4.2, h=3.4):
    f, ax = plt.subplots(figsize=(w, h), dpi=100)
    ax.grid(alpha=0.3)
    return f, ax


def save(f, path):
    f.tight_layout()
    f.savefig(path, dpi=100)
    plt.close(f)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=here)
    args = ap.parse_args()
    res = json.load(open(os.path.join(args.out, "results.json")))
    seeds = res["seeds"]
    pdir = os.path.join(args.out, "plots")
    os.makedirs(pdir, exist_ok=True)
    d = np.load(os.path.join(args.out, "build", "preds", f"seed{seeds[0]}.npz"))
    y = d["y"].astype(float)
    S0 = seeds[0]

    def score(key):
        """The score ranking metrics use: a baseline's raw score, else the probability."""
        return (d[f"r_{key}"] if f"r_{key}" in d else d[f"p_{key}"]).astype(float)

    f, ax = fig()
    for key, label, c in SHOW:
        x_, y_ = roc_points(y, score(key))
        ax.plot(x_, y_, color=c, lw=1.4, label=f"{label} {M.roc_auc(y, score(key)):.3f}")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, all prefixes, seed-{S0} test users")
    ax.legend(fontsize=7, loc="lower right")
    save(f, os.path.join(pdir, "roc.png"))

    f, ax = fig()
    for key, label, c in SHOW:
        r, pr = pr_points(y, score(key))
        ax.plot(r, pr, color=c, lw=1.4, label=f"{label} AP {M.average_precision(y, score(key)):.3f}")
    ax.axhline(y.mean(), color="k", ls=":", lw=0.8, label=f"base rate {y.mean():.3f}")
    ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, seed-{S0} test users", ylim=(0, 0.6))
    ax.legend(fontsize=7, loc="upper right")
    save(f, os.path.join(pdir, "pr.png"))

    f, ax = fig()
    for key, label, c in SHOW[:3]:
        p = d[f"p_{key}"].astype(float)
        order = np.argsort(p, kind="mergesort")
        xs, ys = [], []
        for part in np.array_split(order, 10):  # deciles of the score: equal-count bins
            xs.append(p[part].mean()); ys.append(y[part].mean())
        ax.plot(xs, ys, "o-", color=c, ms=3, lw=1.2, label=f"{label} ECE {M.ece(y, p):.3f}")
    lim = 0.3
    ax.plot([0, lim], [0, lim], "k:", lw=0.8)
    ax.set(xlabel="mean predicted probability (score deciles)", ylabel="observed purchase rate",
           title=f"Reliability, seed-{S0} test users", xlim=(0, lim), ylim=(0, lim))
    ax.legend(fontsize=7, loc="upper left")
    save(f, os.path.join(pdir, "reliability.png"))

    f, ax = fig()
    ks = list(range(1, 11))
    for key, label, c in SHOW[:4] + [("cart_or_wishlist", "cart-or-favourite rule", "C1")]:  # length is constant within k
        v = [res["models"][key]["mean"]["auc_at_k"][str(k)] for k in ks]
        ax.plot(ks, v, "o-", color=c, ms=3, lw=1.2, label=label)
    ax.axhline(0.5, color="k", ls=":", lw=0.8)
    ax.set(xlabel="k (events so far in the session)", ylabel="ROC-AUC of samples with prefix k",
           title=f"AUC@k, mean over seeds {seeds[0]}-{seeds[-1]}", xticks=ks)
    ax.legend(fontsize=7)
    save(f, os.path.join(pdir, "auc_at_k.png"))

    f, ax = fig()
    for key, label, c in SHOW:
        xs, ys = gains(y, score(key), d["session"])
        ax.plot(xs * 100, ys * 100, color=c, lw=1.4, label=label)
    ax.plot([0, 100], [0, 100], "k:", lw=0.8, label="random")
    ax.set(xlabel="% of sessions targeted (by highest score reached)", ylabel="% of purchasing sessions caught",
           title=f"Cumulative gains, seed-{S0} test sessions")
    ax.legend(fontsize=7, loc="lower right")
    save(f, os.path.join(pdir, "gains.png"))
    for n in sorted(os.listdir(pdir)):
        print(n, os.path.getsize(os.path.join(pdir, n)), "bytes")


if __name__ == "__main__":
    main()
