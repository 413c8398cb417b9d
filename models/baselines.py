"""Baselines on the same samples as the LSTM, each trained on one seed's train split only.

Every baseline returns raw scores for validation and test; `run_intent.py` turns them into
probabilities with the same Platt scaling on validation as the LSTM, so Brier score and ECE
compare like with like (Platt scaling is monotone: it changes no AUC).
"""

import copy

import numpy as np
import torch
from torch import nn

from metrics import roc_auc


def col(summary, name):
    return summary["aggregate_features"].index(name)


def prior(summary, sp):
    """The training positive rate for everyone: AUC 0.5 by construction."""
    r = float(sp["train"].y.mean())
    return np.full(len(sp["val"]), r), np.full(len(sp["test"]), r), {"rate": r}


def length(summary, sp):
    """Score = prefix length k (events so far)."""
    return np.log(sp["val"].prefix.astype(float)), np.log(sp["test"].prefix.astype(float)), {}


def cart_or_wishlist(summary, sp):
    """1 once the session has an add_to_cart or add_to_wishlist, else 0."""
    c, w = col(summary, "count_add_to_cart"), col(summary, "count_add_to_wishlist")
    f = lambda s: ((s.agg[:, c] + s.agg[:, w]) > 0).astype(float)
    return f(sp["val"]), f(sp["test"]), {}


def engagement_ma(summary, sp):
    """The moving-average engagement column of the aggregates."""
    c = col(summary, "engagement_moving_average")
    return sp["val"].agg[:, c].astype(float), sp["test"].agg[:, c].astype(float), {}


def engagement_smoothed(summary, sp):
    """The exponentially smoothed engagement column of the aggregates."""
    c = col(summary, "engagement_smoothed")
    return sp["val"].agg[:, c].astype(float), sp["test"].agg[:, c].astype(float), {}


def _agg_transform(train_agg):
    """ln(1 + x) of non-negative columns (counts, durations), then standardisation; statistics
    from the training split."""
    nonneg = (train_agg >= 0).all(0)

    def f(a):
        a = a.astype(np.float64).copy()
        a[:, nonneg] = np.log1p(a[:, nonneg])
        return a

    t = f(train_agg)
    mean, std = t.mean(0), t.std(0)
    std[std < 1e-9] = 1.0
    return lambda a: ((f(a) - mean) / std).astype(np.float32)


def logistic_regression(summary, sp, seed=0):
    """L2 logistic regression on the transformed aggregates; C chosen on validation AUC."""
    from sklearn.linear_model import LogisticRegression
    tf = _agg_transform(sp["train"].agg)
    Xtr, Xv, Xte = tf(sp["train"].agg), tf(sp["val"].agg), tf(sp["test"].agg)
    best = None
    for C in (0.001, 0.01, 0.1, 1.0):
        m = LogisticRegression(C=C, max_iter=5000, random_state=seed).fit(Xtr, sp["train"].y)
        a = roc_auc(sp["val"].y, m.decision_function(Xv))
        if best is None or a > best[0]:
            best = (a, C, m)
    _, C, m = best
    return m.decision_function(Xv), m.decision_function(Xte), {"C": C, "val_auc": best[0]}


def lightgbm(summary, sp, seed=0):
    """Gradient-boosted trees on the raw aggregates; early stopping on validation AUC."""
    import lightgbm as lgb
    m = lgb.LGBMClassifier(n_estimators=3000, learning_rate=0.02, num_leaves=15, min_child_samples=50,
                           subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
                           random_state=seed, n_jobs=1, verbose=-1)
    m.fit(sp["train"].agg, sp["train"].y, eval_set=[(sp["val"].agg, sp["val"].y)], eval_metric="auc",
          callbacks=[lgb.early_stopping(200, verbose=False)])
    raw = lambda a: m.predict(a, raw_score=True)
    return raw(sp["val"].agg), raw(sp["test"].agg), {"best_iteration": int(m.best_iteration_ or 0)}


def dense_mlp(summary, sp, seed=0, hidden=(64, 32), dropout=0.2, epochs=60, patience=8):
    """A dense network on the transformed aggregates; early stopping on validation AUC."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tf = _agg_transform(sp["train"].agg)
    Xtr, Xv, Xte = (torch.from_numpy(tf(sp[s].agg)) for s in ("train", "val", "test"))
    ytr = torch.from_numpy(sp["train"].y)
    layers, w = [], Xtr.shape[1]
    for h in hidden:
        layers += [nn.Linear(w, h), nn.ReLU(), nn.Dropout(dropout)]
        w = h
    net = nn.Sequential(*layers, nn.Linear(w, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    lossf = nn.BCEWithLogitsLoss()
    best, best_auc, bad = None, -1.0, 0
    for _ in range(epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(len(Xtr)))
        for i in range(0, len(perm), 256):
            b = perm[i:i + 256]
            loss = lossf(net(Xtr[b]).squeeze(-1), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            a = roc_auc(sp["val"].y, net(Xv).squeeze(-1).numpy())
        if a > best_auc + 1e-5:
            best, best_auc, bad = copy.deepcopy(net.state_dict()), a, 0
        else:
            bad += 1
            if bad >= patience:
                break
    net.load_state_dict(best)
    net.eval()
    with torch.no_grad():
        return net(Xv).squeeze(-1).numpy(), net(Xte).squeeze(-1).numpy(), {"val_auc": best_auc}


BASELINES = {
    "prior": prior,
    "length": length,
    "cart_or_wishlist": cart_or_wishlist,
    "engagement_ma": engagement_ma,
    "engagement_smoothed": engagement_smoothed,
    "logistic_regression": logistic_regression,
    "lightgbm": lightgbm,
    "dense_mlp": dense_mlp,
}
