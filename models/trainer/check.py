"""Checks a shipped model without training and without torch: numpy, onnx and onnxruntime only
(models/requirements-check.txt), so CI can run it on a fresh machine in a few minutes.

For the streaming model (manifest format 2):
- onnx.checker passes; the graph's inputs and outputs are the ones the manifest names;
- the initializers w_ih [F,4H], w_hh [H,4H], b [4H], head_w1, head_b1 (head_w2, head_b2 for an
  MLP head) exist with the manifest's F, H and head;
- the manifest agrees with itself: feature version 2, kind columns, the UTC offset training used, threshold and segments in
  (0, 1), the weights file's size and FNV-1a 64 checksum;
- onnxruntime, step by step from a zero state over the fixtures' sessions, reproduces PyTorch's
  whole-session scores (p.npy) within 1e-5.
For the UCI network (when given): onnxruntime reproduces its fixtures.
`make test-model` then runs `shopper-intent convert --check`, the engine's own check.
"""

import json
import os

import numpy as np

TOL = 1e-5
FEATURE_VERSION = 2
MANIFEST_FORMAT = 2


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def check_intent(path, fail):
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    with open(path) as f:
        man = json.load(f)
    if man.get("format") != MANIFEST_FORMAT:
        fail(f"{path}: manifest format {man.get('format')}, the engine reads format {MANIFEST_FORMAT} (retrain with `make model`)")
        return
    if man.get("feature_version") != FEATURE_VERSION:
        fail(f"{path}: feature version {man.get('feature_version')}, the engine computes {FEATURE_VERSION}")
    for k in ("name", "window", "kinds", "sequence_features", "model", "threshold", "segments", "metrics"):
        if k not in man:
            fail(f"{path}: no {k!r}")
            return
    spec = man["model"]
    d = os.path.dirname(path)
    F, H, G = spec["inputs"], spec["hidden"], spec.get("head", 0)
    kinds = [k for k in man["kinds"] if k != "purchase"]
    if [n for n in man["sequence_features"] if n.startswith("kind_")] != [f"kind_{k}" for k in kinds]:
        fail(f"{path}: the kind columns do not follow the kinds {man['kinds']}")
    if len(man["sequence_features"]) != F:
        fail(f"{path}: {len(man['sequence_features'])} sequence features, model.inputs {F}")
    if not 0 < man["threshold"] < 1:
        fail(f"{path}: threshold {man['threshold']} outside (0, 1)")
    # The engine reads the hours at the manifest's offset (UTC when absent): training's, if known.
    trained_in = (man["metrics"].get("data") or {}).get("utc_offset_min")
    if trained_in is not None and man.get("utc_offset_min", 0) != trained_in:
        fail(f"{path}: utc_offset_min {man.get('utc_offset_min')}, but the features were computed at {trained_in} (metrics.data): "
             "the browser would read the hours in another time zone than training did")
    seg = man["segments"]
    if not 0 < seg["medium"] <= seg["high"] < 1:
        fail(f"{path}: segments {seg} do not satisfy 0 < medium <= high < 1")
    wpath = os.path.join(d, spec["weights"])
    if not os.path.exists(wpath):
        fail(f"{wpath} is missing (run `shopper-intent convert --model {path}`)")
    else:
        with open(wpath, "rb") as f:
            raw = f.read()
        if len(raw) != spec["weights_bytes"] or f"{fnv1a64(raw):016x}" != spec["weights_fnv1a64"]:
            fail(f"{wpath}: {len(raw)} bytes, checksum {fnv1a64(raw):016x}; the manifest says {spec['weights_bytes']}, {spec['weights_fnv1a64']}")
    opath = os.path.join(d, spec["onnx"]["file"])
    model = onnx.load(opath)
    onnx.checker.check_model(model, full_check=True)
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    want = {"w_ih": [(F, 4 * H)], "w_hh": [(H, 4 * H)], "b": [(4 * H,)]}
    if G:
        want.update(head_w1=[(H, G)], head_b1=[(G,)], head_w2=[(G,), (G, 1)], head_b2=[(1,)])
    else:
        want.update(head_w1=[(H,), (H, 1)], head_b1=[(1,)])
    for k, shapes in want.items():
        if k not in init:
            fail(f"{opath}: no initializer {k!r}")
        elif init[k].shape not in shapes:
            fail(f"{opath}: {k} has shape {init[k].shape}, expected {' or '.join(map(str, shapes))}")
    ins = [i.name for i in model.graph.input if i.name not in init]
    outs = [o.name for o in model.graph.output]
    if ins != spec["onnx"]["inputs"] or any(o not in outs for o in spec["onnx"]["outputs"]):
        fail(f"{opath}: inputs {ins}, outputs {outs}; the manifest names {spec['onnx']['inputs']} -> {spec['onnx']['outputs']}")
        return
    fx = os.path.join(d, "fixtures", os.path.splitext(os.path.basename(path))[0])
    x, ln, p = (np.load(os.path.join(fx, f"{k}.npy")) for k in ("x", "len", "p"))
    if x.dtype != np.float32 or x.ndim != 3 or x.shape[2] != F or p.shape != x.shape[:2] or ln.shape != x.shape[:1]:
        fail(f"{fx}: x {x.shape} {x.dtype}, p {p.shape}, len {ln.shape} do not fit together or the model")
        return
    sess = ort.InferenceSession(opath, providers=["CPUExecutionProvider"])
    names_in, names_out = spec["onnx"]["inputs"], spec["onnx"]["outputs"]
    worst, steps = 0.0, 0
    for i in range(len(x)):
        h = np.zeros((1, H), np.float32)
        c = np.zeros((1, H), np.float32)
        for t in range(int(ln[i])):
            r = sess.run(names_out, {names_in[0]: x[i, t:t + 1], names_in[1]: h, names_in[2]: c})
            worst = max(worst, abs(float(np.asarray(r[0]).reshape(-1)[0]) - float(p[i, t])))
            h, c = r[1], r[2]
            steps += 1
    if worst > TOL:
        fail(f"{opath}: onnxruntime step by step differs from the whole-session fixtures by {worst:.2e} (> {TOL})")
    print(f"{path}: F {F}, H {H}, head {G or 'linear'}; {len(x)} fixture sessions ({steps} steps, longest {int(ln.max())}), "
          f"max |onnxruntime steps - PyTorch whole sessions| {worst:.1e}; weights {spec['weights_bytes']} bytes")


def check_uci(path, fail):
    import onnx
    import onnxruntime as ort

    with open(path) as f:
        man = json.load(f)
    d = os.path.dirname(path)
    opath = os.path.join(d, "uci_dense.onnx")
    onnx.checker.check_model(onnx.load(opath), full_check=True)
    fx = os.path.join(os.path.dirname(d), "fixtures", "uci")
    x, p = np.load(os.path.join(fx, "x.npy")), np.load(os.path.join(fx, "p.npy"))
    if x.dtype != np.float32 or x.shape[1] != len(man["features"]) or p.shape != (len(x),):
        fail(f"{fx}: x {x.shape}, p {p.shape} do not fit the manifest")
        return
    sess = ort.InferenceSession(opath, providers=["CPUExecutionProvider"])
    got = sess.run([man["output"]], {man["input"]: x})[0].reshape(-1)
    worst = float(np.abs(got - p).max())
    if worst > TOL:
        fail(f"{opath}: onnxruntime differs from the fixtures by {worst:.2e}")
    print(f"{path}: {len(x)} fixtures, max |diff| {worst:.1e}")


def main(args):
    errors, results = [], []
    checks = [(args.model, check_intent)] + ([(args.uci, check_uci)] if args.uci else [])
    for path, fn in checks:
        before = len(errors)
        try:
            fn(path, errors.append)
        except Exception as e:  # a missing or unreadable file is a failure too
            errors.append(f"{path}: {type(e).__name__}: {e}")
        results.append(len(errors) == before)
    for e in errors:
        print("FAIL", e)
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 1 if errors else 0
