"""The purchase-intent LSTM: training, folding an ensemble into one LSTM, ONNX export.

The shipped graph is deliberately plain, so tract runs it exactly:

    x [1,T,F] --Transpose--> LSTM(hidden K*H, forward, no sequence_lens) --> MatMul+Add --> Sigmoid --> p [1,T]
                    h0,c0 [1,1,K*H] ----^                                  hn, cn [1,1,K*H]

- Input standardisation ((x - mean) / std over the training rows) is folded into the LSTM's input
  weights and biases.
- K members (same architecture, different initialisation) are folded into one LSTM with
  block-diagonal recurrent weights: member k owns hidden units k*H..(k+1)*H-1 of every gate.
- The head averages the members' logits, then applies Platt scaling `a * z + b` fitted on
  validation; all three are linear, so they fold into one MatMul + Add before the Sigmoid.
"""

import copy
import math

import numpy as np
import torch
from torch import nn

from metrics import roc_auc


class IntentLSTM(nn.Module):
    """One member: LSTM over standardised rows, linear head on the hidden state (a logit)."""

    def __init__(self, n_features, hidden, dropout=0.0):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 1)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))

    def forward(self, x):
        y, _ = self.lstm((x - self.mean) / self.std)
        return self.head(self.drop(y)).squeeze(-1)  # logits [B, T]


def standardiser(seq, mask):
    rows = seq[mask]
    mean = rows.mean(0)
    std = rows.std(0)
    std = np.where(std < 1e-6, 1.0, std)
    # binary one-hot columns keep their scale better unstandardised when almost constant
    return mean.astype(np.float32), std.astype(np.float32)


def logits_at(model, seq, length, batch=4096):
    """Exact per-sample evaluation: the logit at position len-1 of each sample's own window."""
    model.eval()
    out = np.empty(len(seq), dtype=np.float32)
    with torch.no_grad():
        for i in range(0, len(seq), batch):
            z = model(torch.from_numpy(seq[i:i + batch]))
            L = torch.from_numpy(length[i:i + batch].astype(np.int64)) - 1
            out[i:i + batch] = z.gather(1, L[:, None]).squeeze(1).numpy()
    return out


def train_member(train, val, hidden=32, seed=0, epochs=40, patience=6, lr=3e-3, batch=128,
                 weight_decay=1e-4, pos_weight=1.0, dropout=0.0, log=None):
    """Trains one member with a per-position loss over carrier windows; early stopping on the
    validation online ROC-AUC over all prefixes (exact per-sample evaluation). Returns the
    best model and its history."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    idx, mask = train.carriers()
    X = torch.from_numpy(train.seq[idx])
    M = torch.from_numpy(mask.astype(np.float32))
    Y = torch.from_numpy(train.y[idx])[:, None].expand(-1, X.shape[1]).contiguous()
    model = IntentLSTM(X.shape[2], hidden, dropout)
    mean, std = standardiser(train.seq[idx], mask)
    model.mean.copy_(torch.from_numpy(mean))
    model.std.copy_(torch.from_numpy(std))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    lossf = nn.BCEWithLogitsLoss(reduction="none", pos_weight=torch.tensor(pos_weight))
    best, best_auc, bad, hist = None, -1.0, 0, []
    for ep in range(epochs):
        model.train()
        perm = rng.permutation(len(idx))
        tot = 0.0
        for i in range(0, len(perm), batch):
            b = torch.from_numpy(perm[i:i + batch])
            z = model(X[b])
            loss = (lossf(z, Y[b]) * M[b]).sum() / M[b].sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot += float(loss.detach()) * len(b)
        auc = roc_auc(val.y, logits_at(model, val.seq, val.len))
        hist.append({"epoch": ep + 1, "loss": tot / len(perm), "val_auc": auc})
        if log:
            log(f"    member seed {seed} epoch {ep + 1}: loss {tot / len(perm):.4f} val AUC {auc:.4f}")
        if auc > best_auc + 1e-5:
            best, best_auc, bad = copy.deepcopy(model.state_dict()), auc, 0
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(best)
    model.eval()
    return model, {"best_val_auc": best_auc, "epochs_run": len(hist),
                   "best_epoch": int(np.argmax([h["val_auc"] for h in hist]) + 1), "history": hist}


def platt(z, y, iters=100):
    """Fits p = sigmoid(a z + b) by maximum likelihood (no regularisation): Newton's method with
    step halving, on the standardised score for conditioning. Returns (a, b) for the raw score."""
    z = np.asarray(z, np.float64)
    y = np.asarray(y, np.float64)
    mu, sd = z.mean(), z.std()
    sd = sd if sd > 1e-12 else 1.0
    u = (z - mu) / sd

    def nll(w):
        t = w[0] * u + w[1]
        return float((np.logaddexp(0, t) - y * t).sum())

    w = np.array([0.0, np.log(max(y.mean(), 1e-6) / max(1 - y.mean(), 1e-6))])
    f = nll(w)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(w[0] * u + w[1])))
        g = np.array([((p - y) * u).sum(), (p - y).sum()])
        s = p * (1 - p)
        Hm = np.array([[(s * u * u).sum(), (s * u).sum()], [(s * u).sum(), s.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(Hm, g)
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


class Folded(nn.Module):
    """K members folded into one LSTM + one affine head + sigmoid; the graph that is exported."""

    def __init__(self, members, a=1.0, b=0.0):
        super().__init__()
        K = len(members)
        F = members[0].lstm.input_size
        H = members[0].lstm.hidden_size
        self.hidden = K * H
        self.lstm = nn.LSTM(F, K * H, batch_first=True)
        self.head = nn.Linear(K * H, 1)
        w_ih = torch.zeros(4 * K * H, F, dtype=torch.float64)
        w_hh = torch.zeros(4 * K * H, K * H, dtype=torch.float64)
        b_ih = torch.zeros(4 * K * H, dtype=torch.float64)
        b_hh = torch.zeros(4 * K * H, dtype=torch.float64)
        hw = torch.zeros(1, K * H, dtype=torch.float64)
        hb = 0.0
        for k, m in enumerate(members):
            mean = m.mean.double()
            std = m.std.double()
            Wi = m.lstm.weight_ih_l0.detach().double() / std[None, :]
            bi = m.lstm.bias_ih_l0.detach().double() - (m.lstm.weight_ih_l0.detach().double() * (mean / std)[None, :]).sum(1)
            Wh = m.lstm.weight_hh_l0.detach().double()
            bh = m.lstm.bias_hh_l0.detach().double()
            for g in range(4):  # torch gate order i, f, g, o
                rows = slice(g * K * H + k * H, g * K * H + (k + 1) * H)
                src = slice(g * H, (g + 1) * H)
                w_ih[rows] = Wi[src]
                w_hh[rows, k * H:(k + 1) * H] = Wh[src]
                b_ih[rows] = bi[src]
                b_hh[rows] = bh[src]
            hw[0, k * H:(k + 1) * H] = a / K * m.head.weight.detach().double()[0]
            hb += a / K * float(m.head.bias.detach().double()[0])
        hb += b
        with torch.no_grad():
            self.lstm.weight_ih_l0.copy_(w_ih.float())
            self.lstm.weight_hh_l0.copy_(w_hh.float())
            self.lstm.bias_ih_l0.copy_(b_ih.float())
            self.lstm.bias_hh_l0.copy_(b_hh.float())
            self.head.weight.copy_(hw.float())
            self.head.bias.fill_(hb)
        self.eval()

    def forward(self, x, h0, c0):
        y, (hn, cn) = self.lstm(x, (h0, c0))
        p = torch.sigmoid(self.head(y).squeeze(-1))
        return p, hn, cn


def ensemble_logit(members, seq, length):
    return np.mean([logits_at(m, seq, length) for m in members], axis=0)


def export_onnx(folded, path, n_features):
    H = folded.hidden
    x = torch.zeros(1, 4, n_features)
    h = torch.zeros(1, 1, H)
    torch.onnx.export(
        folded, (x, h, h.clone()), path, input_names=["x", "h0", "c0"], output_names=["p", "hn", "cn"],
        dynamic_axes={"x": {0: "batch", 1: "time"}, "h0": {1: "batch"}, "c0": {1: "batch"},
                      "p": {0: "batch", 1: "time"}, "hn": {1: "batch"}, "cn": {1: "batch"}},
        opset_version=17, dynamo=False, do_constant_folding=True)


def ort_run_full(sess, x, hidden):
    """onnxruntime over each sample's full window [T] from a zero state: p [S, T]."""
    out = []
    for i in range(len(x)):
        z = np.zeros((1, 1, hidden), np.float32)
        out.append(sess.run(["p"], {"x": x[i:i + 1], "h0": z, "c0": z})[0][0])
    return np.stack(out).astype(np.float32)


def ort_run_steps(sess, x, hidden, length):
    """onnxruntime step by step (T = 1), feeding the state back, as tract will: p [S, T]."""
    out = np.zeros(x.shape[:2], np.float32)
    for i in range(len(x)):
        h = np.zeros((1, 1, hidden), np.float32)
        c = np.zeros((1, 1, hidden), np.float32)
        for t in range(x.shape[1]):
            p, h, c = sess.run(["p", "hn", "cn"], {"x": x[i:i + 1, t:t + 1], "h0": h, "c0": c})
            out[i, t] = p[0, 0]
    return out


def count_params(members):
    return int(sum(sum(p.numel() for p in m.parameters()) for m in members))


def logit(p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


__all__ = ["IntentLSTM", "train_member", "Folded", "platt", "export_onnx", "ensemble_logit",
           "logits_at", "ort_run_full", "ort_run_steps", "count_params", "sigmoid", "logit", "math"]
