"""Sessions put back together from the featurizer's per-row tensors, and batching by length."""

import json
import os
import tempfile
import unittest

import numpy as np

from models.trainer.data import DataError, Split, length_batches, load, padded, sessions_of


def split_of(sessions, F=4, n_kinds=3, seed=0):
    """A split with the given [(session id, length, label, user)], rows in order."""
    rng = np.random.default_rng(seed)
    rows = sum(L for _, L, _, _ in sessions)
    seq = rng.normal(size=(rows, F)).astype(np.float32)
    kinds = rng.integers(0, n_kinds, rows)
    seq[:, :n_kinds] = 0
    seq[np.arange(rows), kinds] = 1
    arrays = {"seq": seq, "agg": np.zeros((rows, 2), np.float32),
              "prefix": np.concatenate([np.arange(1, L + 1) for _, L, _, _ in sessions]).astype(np.int32),
              "label": np.concatenate([[y] * L for _, L, y, _ in sessions]).astype(np.uint8),
              "session": np.concatenate([[s] * L for s, L, _, _ in sessions]).astype(np.int64),
              "user": np.concatenate([[u] * L for _, L, _, u in sessions]).astype(np.int64)}
    return Split(arrays, "test"), kinds


class SessionsTest(unittest.TestCase):
    def test_runs_of_rows_become_sessions(self):
        sp, _ = split_of([(7, 3, 1, 0), (2, 1, 0, 0), (9, 5, 0, 4)])
        s = sp.sessions
        self.assertEqual(s.start.tolist(), [0, 3, 4])
        self.assertEqual(s.length.tolist(), [3, 1, 5])
        self.assertEqual(s.label.tolist(), [1, 0, 0])
        self.assertEqual(s.id.tolist(), [7, 2, 9])
        self.assertEqual(s.user.tolist(), [0, 0, 4])
        self.assertEqual(sp.prefix[s.rows(2)].tolist(), [1, 2, 3, 4, 5])

    def test_broken_layouts_are_refused(self):
        ok = dict(session=np.array([1, 1, 2]), prefix=np.array([1, 2, 1]), label=np.array([0, 0, 1]), user=np.array([0, 0, 0]))
        sessions_of(**ok)
        cases = {
            "not consecutive": dict(ok, session=np.array([1, 2, 1]), prefix=np.array([1, 1, 1])),
            "prefix order": dict(ok, prefix=np.array([2, 1, 1])),
            "a gap in the prefixes": dict(ok, prefix=np.array([1, 3, 1])),
            "two labels": dict(ok, label=np.array([0, 1, 1])),
            "two users": dict(ok, user=np.array([0, 1, 0])),
        }
        for what, arrays in cases.items():
            with self.subTest(what), self.assertRaises(DataError):
                sessions_of(**arrays)

    def test_current_and_previous_kind(self):
        sp, kinds = split_of([(1, 3, 0, 0), (2, 2, 1, 1)])
        cur, prev = sp.kinds_of_rows(3)
        self.assertEqual(cur.tolist(), kinds.tolist())
        self.assertEqual(prev.tolist(), [3, kinds[0], kinds[1], 3, kinds[3]])

    def test_batches_cover_every_session_once_and_padding_scatters_back(self):
        lens = [1, 7, 3, 3, 12, 2, 5, 1, 9]
        sp, _ = split_of([(i, L, i % 2, i) for i, L in enumerate(lens)])
        for rng in (None, np.random.default_rng(1)):
            groups = length_batches(sp.sessions.length, 4, rng)
            self.assertEqual(sorted(np.concatenate(groups).tolist()), list(range(len(lens))))
        back = np.zeros_like(sp.seq)
        for idx in length_batches(sp.sessions.length, 4):
            x, L, where = padded(sp.seq, sp.sessions, idx)
            self.assertEqual(x.shape[1], L.max())
            self.assertTrue(np.all(x[where < 0] == 0))
            back[where[where >= 0]] = x[where >= 0]
        np.testing.assert_array_equal(back, sp.seq)


class LoadTest(unittest.TestCase):
    def write(self, root, labels_by_split):
        """A featurize folder: one session of 2 rows per label, 4 sequence and 2 aggregate features."""
        with open(os.path.join(root, "summary.json"), "w") as f:
            json.dump({"feature_version": 2, "sequence_features": ["kind_a", "kind_b", "x", "y"],
                       "aggregate_features": ["p", "q"]}, f)
        for name, labels in labels_by_split.items():
            os.makedirs(os.path.join(root, name))
            if labels:
                sp, _ = split_of([(i, 2, y, i) for i, y in enumerate(labels)], n_kinds=2)
                arrays = {k: getattr(sp, k) for k in ("seq", "prefix", "label", "session", "user")}
            else:
                arrays = {"seq": np.zeros((0, 4), np.float32), "prefix": np.zeros(0, np.int32), "label": np.zeros(0, np.uint8),
                          "session": np.zeros(0, np.int64), "user": np.zeros(0, np.int64)}
            arrays["agg"] = np.zeros((len(arrays["label"]), 2), np.float32)
            for k, a in arrays.items():
                np.save(os.path.join(root, name, f"{k}.npy"), a)

    def test_a_split_without_both_labels_is_a_data_error_naming_it(self):
        good = [0, 1, 0]
        with tempfile.TemporaryDirectory() as root:
            self.write(root, {"train": good, "val": good, "test": good})
            _, splits = load(root)
            self.assertEqual(len(splits["test"].y), 6)
        for bad, labels, what in [("val", [], "no samples"), ("test", [0, 0], "no sample of a purchasing session"),
                                  ("val", [1, 1], "only samples of purchasing sessions")]:
            with self.subTest(bad), tempfile.TemporaryDirectory() as root:
                self.write(root, {**{"train": good, "val": good, "test": good}, bad: labels})
                with self.assertRaisesRegex(DataError, f"/{bad}: {what}"):
                    load(root)


if __name__ == "__main__":
    unittest.main()
