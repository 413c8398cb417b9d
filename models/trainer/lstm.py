"""The streaming LSTM: one LSTM layer over standardised feature rows and a head on its hidden
state, run over whole sessions from a zero state. The score after row t is the probability that
the session ends in a purchase, given events 1..t, which is what the engine computes event by
event (`fold.py` turns the trained members into that one-step graph).

Training: binary cross-entropy at every row of every session (each prefix sample counts once),
sessions batched by length, truncated back-propagation through time in chunks of `chunk` rows
with the state carried (detached) across chunks, gradients of a batch's chunks summed before one
optimiser step; the shared early-stopping loop on validation online ROC-AUC.
"""

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .data import length_batches, padded
from .loop import early_stopping


@dataclass
class Config:
    """Training settings of the LSTM (command-line options of `python -m models.trainer`)."""

    hidden: int = 32
    members: int = 1
    head: int = 0  # 0: linear head; G > 0: a ReLU layer of G units, then linear
    lr: float = 3e-3
    weight_decay: float = 1e-4
    chunk: int = 64
    batch: int = 64
    epochs: int = 30
    patience: int = 5
    pos_weight: float = 1.0
    dropout: float = 0.0
    clip: float = 1.0

    def as_dict(self):
        return asdict(self)


class IntentLSTM(nn.Module):
    """One member. `mean` and `scale` standardise the inputs: (x - mean) * scale, with scale 0 for
    columns constant in training (they carried no information, and a shop that later sends them
    must not move the score through untrained weights)."""

    def __init__(self, n_features, hidden, head=0, dropout=0.0):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 1) if head == 0 else nn.Sequential(nn.Linear(hidden, head), nn.ReLU(), nn.Linear(head, 1))
        self.head_units = head
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def forward(self, x, state=None):
        """x [B, T, F] -> logits [B, T] and the state after the last row."""
        y, state = self.lstm((x - self.mean) * self.scale, state)
        return self.head(self.drop(y)).squeeze(-1), state


# A column whose standard deviation is at most this share of its size (its mean's magnitude, or 1)
# is constant for the model: scale 0. Scaled by 1/std, such a column would be folded into the
# input weights as huge weights whose products cancel in f32 (an hour that barely moves,
# 1 - 2.4e-7 give or take 1e-5, gave weights of 42,000 and runtimes 5e-4 apart in the state): the
# same model would score differently in torch, onnxruntime and the engine.
CONSTANT_SHARE = 1e-3


def standardiser(rows):
    """Mean and inverse standard deviation of the training rows; 0 for (nearly) constant columns
    (`CONSTANT_SHARE`)."""
    mean = rows.mean(0, dtype=np.float64)
    std = rows.std(0, dtype=np.float64)
    varies = std > CONSTANT_SHARE * np.maximum(np.abs(mean), 1.0)
    scale = np.where(varies, 1.0 / np.maximum(std, 1e-12), 0.0)
    return mean.astype(np.float32), scale.astype(np.float32)


def logits(model, split, batch=256, chunk=None):
    """The model's logit after every row of `split`, in row order ([N] f32), each session run
    from a zero state. With `chunk`, sessions are run `chunk` rows at a time with the state carried
    over (what training does; the result is the same)."""
    model.eval()
    out = np.zeros(len(split), np.float32)
    with torch.no_grad():
        for idx in length_batches(split.sessions.length, batch):
            x, lens, where = padded(split.seq, split.sessions, idx)
            X = torch.from_numpy(x)
            step = chunk or X.shape[1]
            state, parts = None, []
            for t0 in range(0, X.shape[1], step):
                z, state = model(X[:, t0:t0 + step], state)
                parts.append(z)
            z = torch.cat(parts, 1).numpy()
            valid = where >= 0
            out[where[valid]] = z[valid]
    return out


def ensemble_logits(members, split):
    return np.mean([logits(m, split) for m in members], axis=0).astype(np.float32)


def train_member(train, val, cfg, seed, log=None, name=""):
    """Trains one member from initialisation seed `seed`. Returns (model, info)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = IntentLSTM(train.seq.shape[1], cfg.hidden, cfg.head, cfg.dropout)
    mean, scale = standardiser(train.seq)
    model.mean.copy_(torch.from_numpy(mean))
    model.scale.copy_(torch.from_numpy(scale))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    lossf = nn.BCEWithLogitsLoss(reduction="none", pos_weight=torch.tensor(cfg.pos_weight))
    sess = train.sessions

    def run_epoch(_):
        model.train()
        total, rows = 0.0, 0
        for idx in length_batches(sess.length, cfg.batch, rng):
            x, lens, _ = padded(train.seq, sess, idx)
            X = torch.from_numpy(x)
            T = X.shape[1]
            mask = torch.from_numpy((np.arange(T)[None, :] < lens[:, None]).astype(np.float32))
            Y = torch.from_numpy(sess.label[idx].astype(np.float32))[:, None].expand(-1, T)
            n = float(lens.sum())
            opt.zero_grad()
            state = None
            for t0 in range(0, T, cfg.chunk):
                z, state = model(X[:, t0:t0 + cfg.chunk], state)
                sl = slice(t0, t0 + cfg.chunk)
                loss = (lossf(z, Y[:, sl]) * mask[:, sl]).sum() / n
                loss.backward()
                state = tuple(s.detach() for s in state)
                total += float(loss.detach()) * n
            if cfg.clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            rows += n
        return total / max(rows, 1)

    info = early_stopping(model, run_epoch, lambda: logits(model, val), val.y, cfg.epochs, cfg.patience, log, name)
    info["seed"] = seed
    return model, info


def count_params(model):
    return int(sum(p.numel() for p in model.parameters()))
