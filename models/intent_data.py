"""Reads the output of `shopper-intent featurize --out DIR` (layout in ARCHITECTURE.md)."""

import json
import os

import numpy as np

FILES = ("seq", "len", "prefix", "agg", "label", "session", "user")


class Split:
    """One split's arrays: seq [N,W,F] f32, len/prefix [N] i32, agg [N,A] f32, label [N] u8,
    session/user [N] i64."""

    def __init__(self, d):
        for k in FILES:
            setattr(self, k, d[k])
        self.y = self.label.astype(np.float32)

    def __len__(self):
        return len(self.label)

    def carriers(self):
        """Rows that together hold every sample once, for a per-position loss.

        A sample with prefix k <= W is the first k rows of the window of its session's longest
        sample with prefix <= W (the features are causal), so for each session that longest
        sample carries all of them: mask positions 0..len-1. A sample with prefix > W is a
        restarted window and carries only itself: mask its last position. Returns (index, mask)
        where mask is [M, W] bool."""
        W = self.seq.shape[1]
        short = self.prefix <= W
        idx_short = np.nonzero(short)[0]
        # longest short sample per session
        order = idx_short[np.lexsort((self.prefix[idx_short], self.session[idx_short]))]
        s = self.session[order]
        last = np.r_[s[1:] != s[:-1], True]
        carry_short = order[last]
        carry_long = np.nonzero(~short)[0]
        idx = np.r_[carry_short, carry_long]
        mask = np.zeros((len(idx), W), dtype=bool)
        pos = np.arange(W)
        mask[: len(carry_short)] = pos[None, :] < self.len[carry_short][:, None]
        mask[len(carry_short):, W - 1] = True
        return idx, mask


def load(dirpath):
    with open(os.path.join(dirpath, "summary.json")) as f:
        summary = json.load(f)
    splits = {}
    for s in ("train", "val", "test"):
        splits[s] = Split({k: np.load(os.path.join(dirpath, s, f"{k}.npy")) for k in FILES})
    return summary, splits


def check_causal(split, limit=2000):
    """Verifies the premise of `carriers`: shorter prefixes are leading rows of the longest
    one. Returns the largest absolute difference found (0.0 when it holds)."""
    idx, mask = split.carriers()
    W = split.seq.shape[1]
    carrier_of = {}
    for i in idx:
        if split.prefix[i] <= W:
            carrier_of[int(split.session[i])] = int(i)
    worst = 0.0
    checked = 0
    for i in range(len(split)):
        if split.prefix[i] > W:
            continue
        c = carrier_of[int(split.session[i])]
        L = split.len[i]
        worst = max(worst, float(np.abs(split.seq[i, :L] - split.seq[c, :L]).max()))
        worst = max(worst, float(np.abs(split.seq[i, L:]).max()) if L < W else 0.0)
        checked += 1
        if checked >= limit:
            break
    return worst
