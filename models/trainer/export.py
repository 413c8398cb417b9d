"""Writes a model folder the engine loads: <name>.onnx (one step, named initializers),
<name>.json (manifest format 2), fixtures/<name>/{x,len,p}.npy (PyTorch's whole-session scores),
then `shopper-intent convert`, which writes <name>.bin and checks ONNX, weights and fixtures."""

import json
import os
import shutil

import numpy as np

from . import cli as C
from . import fold as Fo
from .metrics import finite

MANIFEST_FORMAT = 2
STREAM_TOLERANCE = 1e-5


def manifest(name, summary, hidden, head, threshold, segments, metrics):
    return {
        "format": MANIFEST_FORMAT,
        "name": name,
        "feature_version": summary["feature_version"],
        "window": int(summary.get("window", 32)),
        "kinds": list(summary["kinds"]),
        "sequence_features": list(summary["sequence_features"]),
        "model": {"type": "lstm", "inputs": len(summary["sequence_features"]), "hidden": int(hidden), "head": int(head),
                  "weights": f"{name}.bin", "weights_bytes": 0, "weights_fnv1a64": "0" * 16,
                  "onnx": {"file": f"{name}.onnx", "inputs": Fo.ONNX_INPUTS, "outputs": Fo.ONNX_OUTPUTS}},
        "threshold": float(threshold),
        "segments": segments,
        # The shop's local time the hour-of-day features were computed in: the engine and the CLI
        # take it when the page or the command line does not give one.
        "utc_offset_min": int(summary.get("utc_offset_min", 0)),
        "metrics": metrics,
    }


def write_model(outdir, name, members, ab, summary, splits, threshold, segments, metrics, cli, seed=0, n_fixtures=20):
    """Folds, exports, writes fixtures and the manifest, converts. Returns the parity figures."""
    os.makedirs(outdir, exist_ok=True)
    w = Fo.fold(members, *ab)
    step = Fo.Step(w)
    onnx_path = os.path.join(outdir, f"{name}.onnx")
    Fo.export_onnx(step, onnx_path)
    rng = np.random.default_rng(seed)
    picks = Fo.pick_fixture_sessions(splits, rng, n=n_fixtures)
    x, lens = Fo.fixtures(splits, picks)
    p_whole = Fo.whole_sessions(members, ab, x, lens)
    p_ort = Fo.ort_stream(onnx_path, x, lens)
    p_step = Fo.torch_stream(step, x, lens)
    parity = {"whole_vs_onnxruntime_steps": float(np.abs(p_whole - p_ort).max()),
              "whole_vs_torch_steps": float(np.abs(p_whole - p_step).max()),
              "fixture_sessions": int(len(lens)), "fixture_longest": int(lens.max()),
              "fixture_sources": sorted({s for s, _ in picks})}
    if max(parity["whole_vs_onnxruntime_steps"], parity["whole_vs_torch_steps"]) > STREAM_TOLERANCE:
        raise RuntimeError(f"{onnx_path}: streaming the step graph differs from the whole-session scores: {parity}")
    fx = os.path.join(outdir, "fixtures", name)
    if os.path.isdir(fx):
        shutil.rmtree(fx)
    os.makedirs(fx)
    np.save(os.path.join(fx, "x.npy"), x)
    np.save(os.path.join(fx, "len.npy"), lens)
    np.save(os.path.join(fx, "p.npy"), p_whole)
    H = step.hidden
    G = int(w["head_w1"].shape[1]) if step.mlp else 0
    metrics = dict(metrics, parity=parity)
    man = manifest(name, summary, H, G, threshold, segments, metrics)
    path = os.path.join(outdir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(finite(man), f, indent=2, allow_nan=False)
        f.write("\n")
    parity["convert"] = C.convert(cli, path)
    return parity


def copy_model(src_dir, dst_dir, name, cli):
    """Copies a converted model (onnx, json, bin, fixtures) and re-checks the copy."""
    os.makedirs(dst_dir, exist_ok=True)
    for ext in ("onnx", "json", "bin"):
        shutil.copyfile(os.path.join(src_dir, f"{name}.{ext}"), os.path.join(dst_dir, f"{name}.{ext}"))
    fx = os.path.join(dst_dir, "fixtures", name)
    if os.path.isdir(fx):
        shutil.rmtree(fx)
    shutil.copytree(os.path.join(src_dir, "fixtures", name), fx)
    return C.convert(cli, os.path.join(dst_dir, f"{name}.json"), check=True)
