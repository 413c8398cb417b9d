"""The streaming LSTM: truncated back-propagation, and the fold of members, standardisation and
calibration into one step graph (PyTorch whole sessions == PyTorch step by step == onnxruntime)."""

import argparse
import contextlib
import io
import os
import tempfile
import unittest

import numpy as np
import torch

from models.trainer import check, fold, lstm
from models.trainer.data import Split

from .test_data import split_of


def members(F, hidden, head, k, seed=0):
    """k members with random weights and a non-trivial standardisation (a zero scale column)."""
    torch.manual_seed(seed)
    out = []
    for _ in range(k):
        m = lstm.IntentLSTM(F, hidden, head)
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(2.0)  # larger weights: a state that moves
        m.mean.copy_(torch.randn(F))
        scale = torch.rand(F) + 0.5
        scale[-1] = 0.0
        m.scale.copy_(scale)
        m.eval()
        out.append(m)
    return out


class TbpttTest(unittest.TestCase):
    def test_chunks_with_the_state_carried_equal_one_pass(self):
        sp, _ = split_of([(i, L, i % 2, i) for i, L in enumerate([1, 5, 17, 40, 3, 33])], F=6)
        m = members(6, 8, 0, 1)[0]
        full = lstm.logits(m, sp)
        for chunk in (1, 3, 16):
            np.testing.assert_allclose(lstm.logits(m, sp, chunk=chunk), full, atol=1e-6)

    def test_each_session_runs_from_a_zero_state(self):
        sp, _ = split_of([(0, 4, 0, 0), (1, 4, 1, 1)], F=6)
        m = members(6, 8, 0, 1)[0]
        alone = Split({k: getattr(sp, k)[4:] for k in ("seq", "agg", "prefix", "label", "session", "user")})
        np.testing.assert_allclose(lstm.logits(m, sp)[4:], lstm.logits(m, alone), atol=1e-6)

    def test_training_learns_and_a_long_chunk_is_full_back_propagation(self):
        rng = np.random.default_rng(0)
        spec = [(i, int(rng.integers(1, 12)), i % 2, i) for i in range(120)]
        tr, _ = split_of(spec, F=5, seed=1)
        tr.seq[:, 3] = tr.label * 0.8 + rng.normal(size=len(tr)) * 0.5  # a signal to find
        cfg = lstm.Config(hidden=4, epochs=3, patience=3, chunk=64, batch=16)
        m, info = lstm.train_member(tr, tr, cfg, seed=0)
        self.assertGreater(info["best_val_auc"], 0.7)
        self.assertEqual(info["epochs_run"], 3)


class StandardiserTest(unittest.TestCase):
    def test_a_column_that_barely_moves_is_constant_and_the_others_are_scaled(self):
        rng = np.random.default_rng(0)
        n = 5000
        rows = np.stack([
            rng.normal(3.0, 2.0, n),                         # varies: scaled by 1/2
            np.full(n, 0.5),                                 # constant
            1 - 2.4e-7 + rng.normal(0, 1e-5, n),             # an hour that barely moves: constant
            (rng.random(n) < 0.01).astype(float),            # a rare flag: varies
        ], 1).astype(np.float32)
        mean, scale = lstm.standardiser(rows)
        self.assertAlmostEqual(float(scale[0]), 0.5, delta=0.02)
        self.assertEqual(float(scale[1]), 0.0)
        self.assertEqual(float(scale[2]), 0.0)
        self.assertGreater(float(scale[3]), 5.0)
        self.assertAlmostEqual(float(mean[0]), 3.0, delta=0.1)


class FoldTest(unittest.TestCase):
    def check_fold(self, head, k):
        F, H = 7, 5
        ms = members(F, H, head, k, seed=head + k)
        ab = (1.3, -0.4)
        rng = np.random.default_rng(0)
        lens = np.array([1, 4, 30, 130], np.int32)
        x = np.zeros((4, 130, F), np.float32)
        for i, L in enumerate(lens):
            x[i, :L] = rng.normal(size=(L, F)) * 2
        w = fold.fold(ms, *ab)
        step = fold.Step(w)
        whole = fold.whole_sessions(ms, ab, x, lens)
        steps = fold.torch_stream(step, x, lens)
        np.testing.assert_allclose(steps, whole, atol=2e-6)
        # numpy float64 reference of the folded step, first session steps
        h = np.zeros((1, k * H))
        c = np.zeros((1, k * H))
        for t in range(lens[2]):
            p, h, c = fold.reference_step(w, x[2, t:t + 1].astype(np.float64), h, c)
            self.assertAlmostEqual(float(np.ravel(p)[0]), float(whole[2, t]), delta=2e-6)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            model = fold.export_onnx(step, path)
            shapes = {t.name: list(t.dims) for t in model.graph.initializer}
            self.assertEqual(shapes["w_ih"], [F, 4 * k * H])
            self.assertEqual(shapes["w_hh"], [k * H, 4 * k * H])
            self.assertEqual(shapes["b"], [4 * k * H])
            if head:
                self.assertEqual((shapes["head_w1"], shapes["head_w2"]), ([k * H, k * head], [k * head]))
            else:
                self.assertEqual(shapes["head_w1"], [k * H])
            self.assertEqual([i.name for i in model.graph.input], fold.ONNX_INPUTS)
            self.assertEqual([o.name for o in model.graph.output], fold.ONNX_OUTPUTS)
            np.testing.assert_allclose(fold.ort_stream(path, x, lens), whole, atol=2e-6)

    def test_linear_head_three_members(self):
        self.check_fold(0, 3)

    def test_mlp_head_two_members(self):
        self.check_fold(4, 2)

    def test_one_member(self):
        self.check_fold(0, 1)


class CheckTest(unittest.TestCase):
    def test_the_torch_free_check_passes_and_catches_a_wrong_fixture(self):
        import json
        from models.trainer import export

        ms = members(4, 3, 0, 2)
        w = fold.fold(ms, 1.0, 0.0)
        summary = {"feature_version": 2, "kinds": ["view_item", "purchase", "coupon_applied"],
                   "sequence_features": ["kind_view_item", "kind_coupon_applied", "log_gap_s", "log_price"]}
        with tempfile.TemporaryDirectory() as d:
            fold.export_onnx(fold.Step(w), os.path.join(d, "m.onnx"))
            x = np.random.default_rng(0).normal(size=(2, 6, 4)).astype(np.float32)
            lens = np.array([6, 3], np.int32)
            os.makedirs(os.path.join(d, "fixtures", "m"))
            p = fold.whole_sessions(ms, (1.0, 0.0), x, lens)
            for k, v in (("x", x), ("len", lens), ("p", p)):
                np.save(os.path.join(d, "fixtures", "m", f"{k}.npy"), v)
            man = export.manifest("m", summary, 6, 0, 0.3, {"medium": 0.2, "high": 0.4}, {})
            with open(os.path.join(d, "m.onnx"), "rb") as f:
                raw = f.read()  # any bytes: the check reads size and checksum
            with open(os.path.join(d, "m.bin"), "wb") as f:
                f.write(raw[:100])
            man["model"].update(weights_bytes=100, weights_fnv1a64=f"{check.fnv1a64(raw[:100]):016x}")
            with open(os.path.join(d, "m.json"), "w") as f:
                json.dump(man, f)
            args = argparse.Namespace(model=os.path.join(d, "m.json"), uci="")
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(check.main(args), 0, out.getvalue())
                np.save(os.path.join(d, "fixtures", "m", "p.npy"), p + 1e-4)
                self.assertEqual(check.main(args), 1)
            self.assertIn("differs from the whole-session fixtures", out.getvalue())


if __name__ == "__main__":
    unittest.main()
