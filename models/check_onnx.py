"""Checks the shipped ONNX models against their manifests and parity fixtures.

Needs only numpy, onnx and onnxruntime (no torch), so CI can run it:
    python models/check_onnx.py            # exits non-zero on any failure

For each model: onnx.checker passes; the graph's inputs and outputs are the ones the manifest
names; onnxruntime reproduces the fixture outputs (1e-5). For the intent LSTM also: the graph is
one forward LSTM without sequence_lens, and running it one step at a time (T = 1, state fed
back, as tract does) gives the same probabilities as a run over the whole window.
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-5


def io_names(model):
    init = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in init], [o.name for o in model.graph.output]


def check_intent(fail):
    path = os.path.join(HERE, "intent.onnx")
    man = json.load(open(os.path.join(HERE, "intent.json")))
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    for k in ("format", "name", "feature_version", "window", "sequence_features", "kinds", "input",
              "output", "state", "threshold", "segments", "calibration", "training", "data", "metrics"):
        if k not in man:
            fail(f"intent.json: missing key {k}")
    ins, outs = io_names(model)
    want_in = [man["input"]] + [s["input"] for s in man["state"]]
    want_out = [man["output"]] + [s["output"] for s in man["state"]]
    if sorted(ins) != sorted(want_in) or sorted(outs) != sorted(want_out):
        fail(f"intent.onnx io {ins} -> {outs}, manifest {want_in} -> {want_out}")
    lstm = [n for n in model.graph.node if n.op_type == "LSTM"]
    if not lstm:
        fail("intent.onnx has no LSTM node")
    for n in lstm:
        if len(n.input) > 4 and n.input[4]:
            fail("an LSTM node has a sequence_lens input (tract ignores it)")
        for a in n.attribute:
            if a.name == "direction" and onnx.helper.get_attribute_value(a) not in (b"forward",):
                fail("an LSTM node is not forward")
    F = len(man["sequence_features"])
    x = np.load(os.path.join(HERE, "fixtures", "intent", "x.npy"))
    p = np.load(os.path.join(HERE, "fixtures", "intent", "p.npy"))
    ln = np.load(os.path.join(HERE, "fixtures", "intent", "len.npy"))
    if x.dtype != np.float32 or x.ndim != 3 or x.shape[2] != F or p.shape != x.shape[:2] or ln.shape != x.shape[:1]:
        fail(f"intent fixtures have shapes x {x.shape} p {p.shape} len {ln.shape}")
    if x.shape[1] != man["window"]:
        fail(f"fixture T {x.shape[1]} != window {man['window']}")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    worst_full = worst_step = 0.0
    for i in range(len(x)):
        state = {s["input"]: np.zeros(s["shape"], np.float32) for s in man["state"]}
        full = sess.run([man["output"]], dict(state, **{man["input"]: x[i:i + 1]}))[0][0]
        worst_full = max(worst_full, float(np.abs(full - p[i]).max()))
        names = [man["output"]] + [s["output"] for s in man["state"]]
        for t in range(x.shape[1]):
            r = sess.run(names, dict(state, **{man["input"]: x[i:i + 1, t:t + 1]}))
            worst_step = max(worst_step, abs(float(r[0][0, 0]) - float(p[i, t])))
            state = {s["input"]: r[j + 1] for j, s in enumerate(man["state"])}
    if worst_full > TOL or worst_step > TOL:
        fail(f"intent: onnxruntime differs from fixtures: full {worst_full:.2e}, stepwise {worst_step:.2e}")
    if not (0 < man["segments"]["medium"] <= man["segments"]["high"] < 1):
        fail(f"intent: bad segments {man['segments']}")
    print(f"intent.onnx: {len(x)} fixtures, max |diff| full {worst_full:.1e}, step-by-step {worst_step:.1e}, "
          f"{os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in model.graph.node})}")


def check_uci(fail):
    path = os.path.join(HERE, "uci", "uci_dense.onnx")
    man = json.load(open(os.path.join(HERE, "uci", "uci_dense.json")))
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ins, outs = io_names(model)
    if ins != [man["input"]] or man["output"] not in outs:
        fail(f"uci_dense.onnx io {ins} -> {outs}")
    x = np.load(os.path.join(HERE, "fixtures", "uci", "x.npy"))
    p = np.load(os.path.join(HERE, "fixtures", "uci", "p.npy"))
    if x.dtype != np.float32 or x.shape[1] != len(man["features"]) or p.shape != (len(x),):
        fail(f"uci fixtures have shapes x {x.shape} p {p.shape}")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run([man["output"]], {man["input"]: x})[0].reshape(-1)
    one = np.array([sess.run([man["output"]], {man["input"]: x[i:i + 1]})[0].reshape(-1)[0] for i in range(len(x))])
    worst = max(float(np.abs(got - p).max()), float(np.abs(one - p).max()))
    if worst > TOL:
        fail(f"uci: onnxruntime differs from fixtures by {worst:.2e}")
    print(f"uci_dense.onnx: {len(x)} fixtures, max |diff| {worst:.1e}, {os.path.getsize(path)} bytes")


def main():
    errors = []
    checks = 0
    for name, fn in (("intent", check_intent), ("uci", check_uci)):
        checks += 1
        try:
            fn(errors.append)
        except Exception as e:  # a missing or unreadable file is a failure too
            errors.append(f"{name}: {type(e).__name__}: {e}")
    for e in errors:
        print("FAIL", e)
    print(f"{checks - len({e.split(':')[0] for e in errors})} passed, {len({e.split(':')[0] for e in errors})} failed")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
