"""Writes one step of a model's LSTM cell as ONNX graphs, from its SIW1 weights file, for the
benchmark's onnxruntime-web peer (dev tool; the shipped model brings its own ONNX file).

    models/.venv/bin/python tests/bench/tools/onnx_step.py --models build/random-model --out build/bench/site

Reads DIR/intent.json and the weights file it names (format: crate/core/src/model/mod.rs
`Weights`), and writes two graphs of the same step, both with inputs x [1,F], h [1,H], c [1,H]
and outputs p [1,1], h_out [1,H], c_out [1,H]:

- step-lstm.onnx: ONNX's fused LSTM operator over a sequence of one (what a PyTorch nn.LSTM
  export gives), then the head;
- step-cell.onnx: the cell written out: one MatMul on [x, h], Add, Split, the gate activations,
  then the head.

Each is checked with onnxruntime against a float64 reference of the cell on random inputs and
states; the largest difference is printed. Exits 1 when a graph is off by more than 1e-4.
"""

import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from models.trainer.check import fnv1a64  # noqa: E402  (the repository's one Python FNV-1a)


def read_weights(path, spec):
    """The arrays of a SIW1 file, checked against the manifest's sizes and checksum."""
    data = open(path, "rb").read()
    if data[:4] != b"SIW1":
        sys.exit(f"{path}: not a SIW1 weights file")
    if len(data) != spec["weights_bytes"]:
        sys.exit(f"{path}: {len(data)} bytes, the manifest says {spec['weights_bytes']}")
    if f"{fnv1a64(data):016x}" != spec["weights_fnv1a64"]:
        sys.exit(f"{path}: checksum differs from the manifest's")
    f, h, g = struct.unpack_from("<3I", data, 4)
    if (f, h, g) != (spec["inputs"], spec["hidden"], spec.get("head", 0)):
        sys.exit(f"{path}: sizes F={f} H={h} G={g} differ from the manifest's")
    floats = np.frombuffer(data[16:-8], dtype="<f4")
    at = 0

    def take(n, shape):
        nonlocal at
        a = floats[at:at + n].reshape(shape).astype(np.float32)
        at += n
        return a

    w = {"F": f, "H": h, "G": g}
    w["w_ih"] = take(f * 4 * h, (f, 4 * h))
    w["w_hh"] = take(h * 4 * h, (h, 4 * h))
    w["b"] = take(4 * h, (4 * h,))
    if g == 0:
        w["head_w"] = take(h, (h, 1))
        w["head_b"] = take(1, (1,))
    else:
        w["head_w1"] = take(h * g, (h, g))
        w["head_b1"] = take(g, (g,))
        w["head_w2"] = take(g, (g, 1))
        w["head_b2"] = take(1, (1,))
    if at != len(floats):
        sys.exit(f"{path}: {len(floats) - at} floats left over")
    return w


def reference(w, x, h, c):
    """The cell in float64, PyTorch gate order (i, f, g, o): (p, h', c')."""
    H = w["H"]
    sig = lambda v: 1 / (1 + np.exp(-v))
    z = x.astype(np.float64) @ w["w_ih"] + h.astype(np.float64) @ w["w_hh"] + w["b"]
    i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
    c2 = f * c + i * g
    h2 = o * np.tanh(c2)
    if w["G"] == 0:
        logit = h2 @ w["head_w"] + w["head_b"]
    else:
        logit = np.maximum(h2 @ w["head_w1"] + w["head_b1"], 0) @ w["head_w2"] + w["head_b2"]
    return sig(logit), h2, c2


def head_nodes(w, h_name):
    """Nodes and initializers of the head on `h_name`, ending in output `p`."""
    init = []
    nodes = []
    if w["G"] == 0:
        init += [numpy_helper.from_array(w["head_w"], "head_w"), numpy_helper.from_array(w["head_b"], "head_b")]
        nodes += [helper.make_node("MatMul", [h_name, "head_w"], ["head_mm"]),
                  helper.make_node("Add", ["head_mm", "head_b"], ["logit"])]
    else:
        for k in ("head_w1", "head_b1", "head_w2", "head_b2"):
            init.append(numpy_helper.from_array(w[k], k))
        nodes += [helper.make_node("MatMul", [h_name, "head_w1"], ["head_mm1"]),
                  helper.make_node("Add", ["head_mm1", "head_b1"], ["head_a1"]),
                  helper.make_node("Relu", ["head_a1"], ["head_r1"]),
                  helper.make_node("MatMul", ["head_r1", "head_w2"], ["head_mm2"]),
                  helper.make_node("Add", ["head_mm2", "head_b2"], ["logit"])]
    nodes.append(helper.make_node("Sigmoid", ["logit"], ["p"]))
    return nodes, init


def io(w):
    F, H = w["F"], w["H"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, d]) for n, d in (("x", F), ("h", H), ("c", H))]
    outputs = [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 1]),
               helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, H]),
               helper.make_tensor_value_info("c_out", TensorProto.FLOAT, [1, H])]
    return inputs, outputs


def lstm_graph(w):
    """ONNX's LSTM operator over one time step (gate order i, o, f, c)."""
    H = w["H"]
    order = [0, 3, 1, 2]  # PyTorch blocks (i, f, g, o) in ONNX order (i, o, f, c)
    reorder = lambda m: np.concatenate([m[..., k * H:(k + 1) * H] for k in order], axis=-1)
    W = reorder(w["w_ih"]).T[None]                       # [1, 4H, F]
    R = reorder(w["w_hh"]).T[None]                       # [1, 4H, H]
    B = np.concatenate([reorder(w["b"]), np.zeros(4 * H, np.float32)])[None]  # [1, 8H]
    init = [numpy_helper.from_array(np.ascontiguousarray(a, np.float32), n) for a, n in ((W, "W"), (R, "R"), (B, "B"))]
    init.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
    nodes = [
        helper.make_node("Unsqueeze", ["x", "axis0"], ["x3"]),
        helper.make_node("Unsqueeze", ["h", "axis0"], ["h3"]),
        helper.make_node("Unsqueeze", ["c", "axis0"], ["c3"]),
        helper.make_node("LSTM", ["x3", "W", "R", "B", "", "h3", "c3"], ["", "h3_out", "c3_out"], hidden_size=H),
        helper.make_node("Squeeze", ["h3_out", "axis0"], ["h_out"]),
        helper.make_node("Squeeze", ["c3_out", "axis0"], ["c_out"]),
    ]
    hn, hi = head_nodes(w, "h_out")
    inputs, outputs = io(w)
    return helper.make_graph(nodes + hn, "intent_step_lstm", inputs, outputs, init + hi)


def cell_graph(w):
    """The cell written out: MatMul on [x, h], Add, Split, activations (PyTorch gate order)."""
    H = w["H"]
    Wxh = np.concatenate([w["w_ih"], w["w_hh"]], axis=0)  # [F+H, 4H]
    init = [numpy_helper.from_array(Wxh, "W"), numpy_helper.from_array(w["b"], "B"),
            numpy_helper.from_array(np.array([H] * 4, np.int64), "split4")]
    nodes = [
        helper.make_node("Concat", ["x", "h"], ["xh"], axis=1),
        helper.make_node("MatMul", ["xh", "W"], ["z0"]),
        helper.make_node("Add", ["z0", "B"], ["z"]),
        helper.make_node("Split", ["z", "split4"], ["zi", "zf", "zg", "zo"], axis=1),
        helper.make_node("Sigmoid", ["zi"], ["gi"]),
        helper.make_node("Sigmoid", ["zf"], ["gf"]),
        helper.make_node("Tanh", ["zg"], ["gg"]),
        helper.make_node("Sigmoid", ["zo"], ["go"]),
        helper.make_node("Mul", ["gf", "c"], ["fc"]),
        helper.make_node("Mul", ["gi", "gg"], ["ig"]),
        helper.make_node("Add", ["fc", "ig"], ["c_out"]),
        helper.make_node("Tanh", ["c_out"], ["tc"]),
        helper.make_node("Mul", ["go", "tc"], ["h_out"]),
    ]
    hn, hi = head_nodes(w, "h_out")
    inputs, outputs = io(w)
    return helper.make_graph(nodes + hn, "intent_step_cell", inputs, outputs, init + hi)


def check(path, w):
    """Largest |difference| of onnxruntime's (p, h', c') from the float64 reference, over 64 steps."""
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    h = np.zeros((1, w["H"]), np.float32)
    c = np.zeros((1, w["H"]), np.float32)
    for _ in range(64):
        x = rng.normal(size=(1, w["F"])).astype(np.float32)
        p, h2, c2 = sess.run(["p", "h_out", "c_out"], {"x": x, "h": h, "c": c})
        rp, rh, rc = reference(w, x, h, c)
        worst = max(worst, float(np.abs(p - rp).max()), float(np.abs(h2 - rh).max()), float(np.abs(c2 - rc).max()))
        h, c = h2, c2
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", required=True, help="directory with intent.json and its weights file")
    ap.add_argument("--out", required=True, help="directory to write step-lstm.onnx and step-cell.onnx into")
    a = ap.parse_args()
    manifest = json.load(open(os.path.join(a.models, "intent.json")))
    spec = manifest["model"]
    w = read_weights(os.path.join(a.models, spec["weights"]), spec)
    os.makedirs(a.out, exist_ok=True)
    bad = False
    for name, graph in (("step-lstm.onnx", lstm_graph(w)), ("step-cell.onnx", cell_graph(w))):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="shopper-intent onnx_step.py")
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        path = os.path.join(a.out, name)
        onnx.save(model, path)
        diff = check(path, w)
        bad |= diff > 1e-4
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:12]
        print(f"{path}: {os.path.getsize(path)} B, {len(graph.node)} nodes, max |diff| vs float64 cell {diff:.2e}, sha256 {digest}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
