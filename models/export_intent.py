"""Writes the shipped intent model: models/intent.onnx, models/intent.json (the manifest the Rust
side checks) and the parity fixtures models/fixtures/intent/{x,p,len}.npy."""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort

from lstm import Folded, export_onnx, ort_run_full, ort_run_steps
from metrics import best_f1_threshold

KINDS = ["view_item", "add_to_wishlist", "add_to_cart", "purchase"]
HIGH_SHARE = 0.10    # "high": the top 10% of validation prefix scores
MEDIUM_SHARE = 0.35  # "medium": the top 35%


def segments(p_val):
    """Segment thresholds from validation prefix scores: a score >= high is in the top
    HIGH_SHARE of validation prefixes, >= medium in the top MEDIUM_SHARE."""
    q = np.quantile(np.asarray(p_val, np.float64), [1 - MEDIUM_SHARE, 1 - HIGH_SHARE])
    return {"medium": float(q[0]), "high": float(q[1])}


def fixture_inputs(test, rng, n_real=16):
    """16 real test windows of varied lengths (short, full, and restarted past W) plus edge
    cases: an all-zero row, extreme values, a one-row window."""
    W, F = test.seq.shape[1:]
    picks = []
    for lo, hi in ((1, 1), (2, 3), (4, 8), (9, 31), (32, 32), (33, 10 ** 9)):
        cand = np.nonzero((test.prefix >= lo) & (test.prefix <= hi))[0]
        cand_pos = cand[test.label[cand] == 1]
        for pool in (cand_pos, cand):
            if len(pool):
                picks.append(int(rng.choice(pool)))
    rest = np.setdiff1d(np.arange(len(test)), picks)
    picks += [int(i) for i in rng.choice(rest, size=max(0, n_real - len(picks)), replace=False)]
    picks = picks[:n_real]
    x = [test.seq[i] for i in picks]
    ln = [int(test.len[i]) for i in picks]
    # edge cases
    x.append(np.zeros((W, F), np.float32)); ln.append(1)
    e = np.zeros((W, F), np.float32); e[:, 3] = 1; e[:, 12:15] = 12.0; e[:, 17] = 5.0; ln.append(W); x.append(e)
    e = rng.normal(0, 3, size=(W, F)).astype(np.float32); ln.append(W); x.append(e)
    e = np.zeros((W, F), np.float32); e[0] = test.seq[picks[0], 0]; ln.append(1); x.append(e)
    return np.stack(x).astype(np.float32), np.asarray(ln, np.int32), picks


def ship(members, a, b, summary, splits, outdir, training, data_info, metrics_fn, seed=0):
    """Folds, exports, verifies and writes the manifest and fixtures. `metrics_fn(p_val, p_test,
    threshold)` returns the metrics to record. Returns the manifest."""
    os.makedirs(os.path.join(outdir, "fixtures", "intent"), exist_ok=True)
    F = len(summary["sequence_features"])
    folded = Folded(members, a, b)
    path = os.path.join(outdir, "intent.onnx")
    export_onnx(folded, path, F)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})
    lstm_nodes = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert len(lstm_nodes) == 1 and (len(lstm_nodes[0].input) < 5 or lstm_nodes[0].input[4] == ""), \
        "expected one LSTM node without sequence_lens"
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    H = folded.hidden

    def p_of(split):
        out = np.empty(len(split), np.float32)
        z = np.zeros((1, len(split), H), np.float32)
        bs = 2048
        for i in range(0, len(split), bs):
            n = min(bs, len(split) - i)
            pp = sess.run(["p"], {"x": split.seq[i:i + n], "h0": z[:, :n], "c0": z[:, :n]})[0]
            out[i:i + n] = pp[np.arange(n), split.len[i:i + n] - 1]
        return out

    p_val, p_test = p_of(splits["val"]), p_of(splits["test"])
    thr, _ = best_f1_threshold(splits["val"].y, p_val)
    seg = segments(p_val)
    rng = np.random.default_rng(seed)
    x, ln, picks = fixture_inputs(splits["test"], rng)
    p_full = ort_run_full(sess, x, H)
    p_step = ort_run_steps(sess, x, H, ln)
    step_err = float(np.abs(p_full - p_step).max())
    with __import__("torch").no_grad():
        import torch
        zt = torch.zeros(1, len(x), H)
        p_torch = folded(torch.from_numpy(x), zt, zt)[0].numpy()
    torch_err = float(np.abs(p_full - p_torch).max())
    assert step_err < 1e-5 and torch_err < 1e-5, (step_err, torch_err)
    fx = os.path.join(outdir, "fixtures", "intent")
    np.save(os.path.join(fx, "x.npy"), x)
    np.save(os.path.join(fx, "p.npy"), p_full)
    np.save(os.path.join(fx, "len.npy"), ln)
    manifest = {
        "format": 1,
        "name": "intent-lstm",
        "feature_version": summary["feature_version"],
        "window": int(summary["window"]),
        "sequence_features": list(summary["sequence_features"]),
        "kinds": KINDS,
        "input": "x",
        "output": "p",
        "state": [{"input": "h0", "output": "hn", "shape": [1, 1, H]},
                  {"input": "c0", "output": "cn", "shape": [1, 1, H]}],
        "threshold": thr,
        "segments": seg,
        "calibration": {"method": "platt", "a": a, "b": b, "fitted_on": "validation prefixes (seed %d)" % seed,
                        "applied_to": "the mean of the members' logits; folded into the graph's last MatMul/Add",
                        "segments_rule": f"medium = top {MEDIUM_SHARE:.0%} and high = top {HIGH_SHARE:.0%} of validation prefix scores (empirical quantiles {1 - MEDIUM_SHARE:.2f} and {1 - HIGH_SHARE:.2f})",
                        "threshold_rule": "maximises positive-class F1 on validation prefixes, predict positive when p >= threshold"},
        "training": dict(training, onnx_ops=ops, hidden_total=H,
                         parity={"torch_vs_ort_max_abs": torch_err, "ort_steps_vs_full_max_abs": step_err}),
        "data": data_info,
        "metrics": metrics_fn(p_val, p_test, thr),
    }
    with open(os.path.join(outdir, "intent.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest, p_val, p_test
