"""The graph the engine runs: ONE step of an LSTM cell and its head, with the members, the input
standardisation and the calibration folded in, exported to ONNX with named initializers.

    gates = x @ w_ih + h @ w_hh + b            (w_ih [F,4H], w_hh [H,4H], b [4H]; gates i, f, g, o)
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g);   h' = sigmoid(o) * tanh(c')
    p  = sigmoid(h' @ head_w1 + head_b1)                                   (linear head, w1 [H])
    p  = sigmoid(relu(h' @ head_w1 + head_b1) @ head_w2 + head_b2)        (MLP head, w1 [H,G])

- Standardisation (x - mean) * scale goes into w_ih (columns scaled) and b (shifted).
- K members become one LSTM of hidden K*H: member k owns units k*H..(k+1)*H of every gate, the
  recurrent weights are block-diagonal; with an MLP head the first layers are block-diagonal too.
- The head averages the members' logits and applies Platt's a z + b: all linear, folded into
  the head's last layer.
"""

import numpy as np
import torch
from torch import nn

from .calibration import sigmoid

ONNX_INPUTS = ["x", "h", "c"]
ONNX_OUTPUTS = ["p", "h_out", "c_out"]
INITIALIZERS = ("w_ih", "w_hh", "b", "head_w1", "head_b1")


class Step(nn.Module):
    """One step of the folded model; its parameters are the initializers of the ONNX file."""

    def __init__(self, w):
        super().__init__()
        for k, v in w.items():
            setattr(self, k, nn.Parameter(torch.as_tensor(np.asarray(v, np.float32)), requires_grad=False))
        self.mlp = "head_w2" in w
        self.hidden = int(w["w_hh"].shape[0])

    def forward(self, x, h, c):
        H = self.hidden
        gates = x @ self.w_ih + h @ self.w_hh + self.b
        i = torch.sigmoid(gates[:, :H])
        f = torch.sigmoid(gates[:, H:2 * H])
        g = torch.tanh(gates[:, 2 * H:3 * H])
        o = torch.sigmoid(gates[:, 3 * H:])
        c2 = f * c + i * g
        h2 = o * torch.tanh(c2)
        if self.mlp:
            z = torch.relu(h2 @ self.head_w1 + self.head_b1) @ self.head_w2 + self.head_b2
        else:
            z = h2 @ self.head_w1 + self.head_b1
        return torch.sigmoid(z), h2, c2


def fold(members, a=1.0, b=0.0):
    """The folded weights (float64 numpy arrays) of `members` with Platt (a, b)."""
    K = len(members)
    m0 = members[0]
    F, H = m0.lstm.input_size, m0.lstm.hidden_size
    G = m0.head_units
    KH = K * H
    w_ih = np.zeros((F, 4 * KH))
    w_hh = np.zeros((KH, 4 * KH))
    bias = np.zeros(4 * KH)
    if G:
        w1, b1, w2, b2 = np.zeros((KH, K * G)), np.zeros(K * G), np.zeros(K * G), b
    else:
        w1, b1 = np.zeros(KH), np.array([b], np.float64)
    for k, m in enumerate(members):
        d = lambda t: t.detach().double().numpy()
        mean, scale = d(m.mean), d(m.scale)
        Wi, Wh = d(m.lstm.weight_ih_l0), d(m.lstm.weight_hh_l0)  # [4H, F], [4H, H]
        bi = d(m.lstm.bias_ih_l0) + d(m.lstm.bias_hh_l0) - Wi @ (mean * scale)
        Wi = Wi * scale[None, :]
        for g in range(4):
            cols = slice(g * KH + k * H, g * KH + (k + 1) * H)
            src = slice(g * H, (g + 1) * H)
            w_ih[:, cols] = Wi[src].T
            w_hh[k * H:(k + 1) * H, cols] = Wh[src].T
            bias[cols] = bi[src]
        if G:
            l1, l2 = m.head[0], m.head[2]
            w1[k * H:(k + 1) * H, k * G:(k + 1) * G] = d(l1.weight).T
            b1[k * G:(k + 1) * G] = d(l1.bias)
            w2[k * G:(k + 1) * G] = a / K * d(l2.weight)[0]
            b2 += a / K * float(d(l2.bias)[0])
        else:
            w1[k * H:(k + 1) * H] = a / K * d(m.head.weight)[0]
            b1[0] += a / K * float(d(m.head.bias)[0])
    w = {"w_ih": w_ih, "w_hh": w_hh, "b": bias, "head_w1": w1, "head_b1": b1}
    if G:
        w.update(head_w2=w2, head_b2=np.array([b2]))
    return w


def export_onnx(step, path):
    """Writes the step graph (opset 17, legacy exporter) and checks its initializer names."""
    import onnx

    F = step.w_ih.shape[0]
    H = step.hidden
    x, h = torch.zeros(1, F), torch.zeros(1, H)
    dyn = {n: {0: "batch"} for n in ONNX_INPUTS + ONNX_OUTPUTS}
    torch.onnx.export(step, (x, h, h.clone()), path, input_names=ONNX_INPUTS, output_names=ONNX_OUTPUTS,
                      dynamic_axes=dyn, opset_version=17, dynamo=False, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    names = {i.name for i in model.graph.initializer}
    need = set(INITIALIZERS) | ({"head_w2", "head_b2"} if step.mlp else set())
    if not need <= names:
        raise RuntimeError(f"{path}: the exporter renamed initializers: has {sorted(names)}, needs {sorted(need)}")
    return model


def ort_stream(path, x, lengths):
    """onnxruntime over each session step by step from a zero state (as the engine runs it):
    p [S, T], 0 past each length."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    H = sess.get_inputs()[1].shape[1]
    out = np.zeros(x.shape[:2], np.float32)
    for i in range(len(x)):
        h = np.zeros((1, H), np.float32)
        c = np.zeros((1, H), np.float32)
        for t in range(int(lengths[i])):
            p, h, c = sess.run(ONNX_OUTPUTS, {"x": x[i, t:t + 1], "h": h, "c": c})
            out[i, t] = np.asarray(p).reshape(-1)[0]
    return out


def torch_stream(step, x, lengths):
    """The folded step in torch, event by event from a zero state: p [S, T]."""
    out = np.zeros(x.shape[:2], np.float32)
    with torch.no_grad():
        X = torch.from_numpy(x)
        h = torch.zeros(len(x), step.hidden)
        c = torch.zeros(len(x), step.hidden)
        for t in range(x.shape[1]):
            p, h, c = step(X[:, t], h, c)
            out[:, t] = p.reshape(-1).numpy()
    out[np.arange(x.shape[1])[None, :] >= np.asarray(lengths)[:, None]] = 0
    return out


def whole_sessions(members, ab, x, lengths):
    """The trainer's own function: each member's nn.LSTM over the WHOLE zero-padded sessions at
    once, mean logit, Platt: p [S, T] (f32), 0 past each length."""
    with torch.no_grad():
        X = torch.from_numpy(x)
        z = torch.stack([m(X)[0] for m in members]).mean(0)
        p = torch.sigmoid(ab[0] * z + ab[1]).numpy().astype(np.float32)
    p[np.arange(x.shape[1])[None, :] >= np.asarray(lengths)[:, None]] = 0
    return p


def pick_fixture_sessions(splits, rng, n=20, long=100):
    """About `n` real sessions of varied lengths, from test users first: positives and negatives
    in each length band, and up to three longer than `long` rows (from any split when test has
    none, and one repeated to that length when no split has any). Returns [(split, session)]."""
    test = splits["test"].sessions
    picks = []
    for lo, hi in ((1, 1), (2, 3), (4, 8), (9, 20), (21, 40), (41, long)):
        band = np.nonzero((test.length >= lo) & (test.length <= hi))[0]
        for want in (1, 0):
            pool = band[test.label[band] == want]
            if len(pool):
                picks.append(("test", int(rng.choice(pool))))
    for name in ("test", "val", "train"):
        s = splits[name].sessions
        longest = np.argsort(-s.length, kind="stable")[:3]
        longest = [int(i) for i in longest if s.length[i] > long]
        if longest:
            picks += [(name, i) for i in longest]
            break
    rest = [int(i) for i in rng.permutation(len(test)) if ("test", int(i)) not in picks]
    picks += [("test", i) for i in rest[:max(0, n - len(picks))]]
    return picks[:max(n, len(picks))]


def fixtures(splits, picks, long=100):
    """x [S, T, F] zero-padded and lengths [S] of the picked sessions; when none is longer than
    `long`, the longest is repeated to `long` + 20 rows (a real session's rows, streamed on)."""
    rows = [splits[s].seq[splits[s].sessions.rows(i)] for s, i in picks]
    if max(len(r) for r in rows) <= long:
        r = max(rows, key=len)
        rows.append(np.concatenate([r] * (long // len(r) + 2))[:long + 20])
    T = max(len(r) for r in rows)
    x = np.zeros((len(rows), T, rows[0].shape[1]), np.float32)
    for i, r in enumerate(rows):
        x[i, :len(r)] = r
    return x, np.array([len(r) for r in rows], np.int32)


def reference_step(w, x, h, c):
    """numpy float64 reference of one step (for tests)."""
    H = w["w_hh"].shape[0]
    g = x @ w["w_ih"] + h @ w["w_hh"] + w["b"]
    i, f, gg, o = sigmoid(g[:, :H]), sigmoid(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), sigmoid(g[:, 3 * H:])
    c2 = f * c + i * gg
    h2 = o * np.tanh(c2)
    if "head_w2" in w:
        z = np.maximum(h2 @ w["head_w1"] + w["head_b1"], 0) @ w["head_w2"] + w["head_b2"]
    else:
        z = h2 @ w["head_w1"] + w["head_b1"]
    return sigmoid(z), h2, c2
