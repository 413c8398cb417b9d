"""The output of `shopper-intent featurize --out DIR`, put back into sessions.

Each split folder holds one feature row per prefix sample (`seq.npy` f32 [N, F]) with its prefix
length, aggregates, label, session and user. With a streaming model one sample is one row: the
rows of a session are consecutive and in order (prefix 1, 2, 3, ...), so the session is the run
of equal `session` ids, and the score of sample i is the model's output after row i of its run.
`Split.sessions()` checks exactly that and refuses data that breaks it: a silent misalignment
would train and evaluate on the wrong prefixes.
"""

import json
import os

import numpy as np

FILES = {"seq": np.float32, "prefix": np.int32, "agg": np.float32, "label": np.uint8, "session": np.int64, "user": np.int64}
SPLITS = ("train", "val", "test")


class DataError(Exception):
    """The featurizer's output is missing, malformed, or breaks the session layout."""


class Sessions:
    """Sessions as runs of rows: `start[s]`, `length[s]`, `label[s]`, `user[s]`, `id[s]`."""

    def __init__(self, start, length, label, user, ids):
        self.start, self.length, self.label, self.user, self.id = start, length, label, user, ids

    def __len__(self):
        return len(self.start)

    def rows(self, s):
        return slice(int(self.start[s]), int(self.start[s] + self.length[s]))


def sessions_of(session, prefix, label, user):
    """Finds the sessions in per-row arrays and checks the layout: each session id forms one run
    of consecutive rows, with prefix 1, 2, ..., n, one label and one user."""
    n = len(session)
    if n == 0:
        return Sessions(*(np.zeros(0, np.int64) for _ in range(5)))
    brk = np.r_[True, session[1:] != session[:-1]]
    start = np.nonzero(brk)[0]
    length = np.diff(np.r_[start, n])
    ids = session[start]
    if len(np.unique(ids)) != len(ids):
        raise DataError("a session's rows are not consecutive (the same session id appears in two runs)")
    expect = np.arange(n) - np.repeat(start, length) + 1
    if not np.array_equal(prefix.astype(np.int64), expect):
        i = int(np.nonzero(prefix != expect)[0][0])
        raise DataError(f"row {i}: prefix {int(prefix[i])} where the session's run gives {int(expect[i])}: "
                        "rows are not one per prefix in order")
    for name, v in (("label", label), ("user", user)):
        if np.any(v != np.repeat(v[start], length)):
            raise DataError(f"a session has more than one {name}")
    return Sessions(start.astype(np.int64), length.astype(np.int64), label[start].astype(np.int64), user[start], ids)


class Split:
    """One split's per-row arrays (`seq`, `prefix`, `agg`, `label`, `session`, `user`), `y` as
    float labels, and its sessions."""

    def __init__(self, arrays, name=""):
        self.name = name
        for k in FILES:
            setattr(self, k, arrays[k])
        n = len(self.label)
        if any(len(arrays[k]) != n for k in FILES):
            raise DataError(f"{name}: the arrays have different lengths")
        self.y = self.label.astype(np.float64)
        self.sessions = sessions_of(self.session, self.prefix, self.label, self.user)

    def __len__(self):
        return len(self.label)

    def kinds_of_rows(self, n_kinds):
        """The event kind of each row (argmax of the one-hot columns), and of the row before it
        in the session (`n_kinds` for the first row): the last bigram."""
        cur = np.argmax(self.seq[:, :n_kinds], axis=1) if n_kinds else np.zeros(len(self), np.int64)
        prev = np.r_[n_kinds, cur[:-1]] if len(cur) else cur
        prev = np.where(self.prefix == 1, n_kinds, prev)
        return cur.astype(np.int64), prev.astype(np.int64)


def load(dirpath):
    """Reads DIR/summary.json and the three splits. Returns (summary, {name: Split})."""
    path = os.path.join(dirpath, "summary.json")
    if not os.path.exists(path):
        raise DataError(f"{path} is missing: run `shopper-intent featurize --out {dirpath}` first")
    with open(path) as f:
        summary = json.load(f)
    if summary.get("feature_version") != 2:
        raise DataError(f"{dirpath}: feature version {summary.get('feature_version')}, this trainer reads version 2")
    splits = {}
    F, A = len(summary["sequence_features"]), len(summary["aggregate_features"])
    for s in SPLITS:
        arrays = {}
        for k, dt in FILES.items():
            a = np.load(os.path.join(dirpath, s, f"{k}.npy"))
            if a.dtype != dt:
                raise DataError(f"{dirpath}/{s}/{k}.npy is {a.dtype}, expected {np.dtype(dt)}")
            arrays[k] = a
        if arrays["seq"].ndim != 2 or arrays["seq"].shape[1] != F or arrays["agg"].shape[1:] != (A,):
            raise DataError(f"{dirpath}/{s}: seq {arrays['seq'].shape} / agg {arrays['agg'].shape} do not match "
                            f"the summary's {F} sequence and {A} aggregate features")
        split = Split(arrays, s)
        # Past featurize's --allow-small: a split without both labels has no AUC, no threshold
        # and no calibration, so nothing after this could mean anything.
        positives = int(split.y.sum())
        if positives == 0 or positives == len(split.y):
            what = "no samples" if len(split.y) == 0 else ("no sample of a purchasing session" if positives == 0 else "only samples of purchasing sessions")
            raise DataError(f"{dirpath}/{s}: {what}, so there is nothing to fit or measure there; the log needs more users, "
                            f"sessions and purchases (featurize without --allow-small says how many)")
        splits[s] = split
    return summary, splits


def n_kinds(summary):
    """Columns of the kind one-hot (`kind_<k>` names come first)."""
    return sum(1 for n in summary["sequence_features"] if n.startswith("kind_"))


def length_batches(lengths, batch, rng=None):
    """Groups session indices into batches of about `batch` sessions of similar length (sorted by
    length, ties and batch order shuffled when `rng` is given), so that padding stays small."""
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(n), lengths))
    groups = [order[i:i + batch] for i in range(0, n, batch)]
    if rng is not None:
        groups = [groups[i] for i in rng.permutation(len(groups))]
    return groups


def padded(seq, sessions, idx):
    """The rows of sessions `idx` as a zero-padded [B, T, F] array, their lengths, and the row
    index of each valid position (for scattering outputs back), -1 at padding."""
    lens = sessions.length[idx]
    T = int(lens.max())
    B = len(idx)
    x = np.zeros((B, T, seq.shape[1]), np.float32)
    where = np.full((B, T), -1, np.int64)
    for j, s in enumerate(idx):
        a, L = int(sessions.start[s]), int(lens[j])
        x[j, :L] = seq[a:a + L]
        where[j, :L] = np.arange(a, a + L)
    return x, lens, where
