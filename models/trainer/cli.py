"""Calls the `shopper-intent` binary (featurize, convert, eval, bench). A failure stops the run
with the tool's own message."""

import json
import os
import shutil
import subprocess
import sys
import tempfile


class ToolError(Exception):
    """The shopper-intent binary is missing or one of its commands failed."""


def find(explicit=None):
    """The binary: `explicit`, $SHOPPER_INTENT_CLI, or $CARGO_TARGET_DIR (default target)/native."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cands = [explicit, os.environ.get("SHOPPER_INTENT_CLI"),
             os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target"), "native", "shopper-intent")]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise ToolError("the shopper-intent binary was not found (looked at " + ", ".join(c for c in cands if c) +
                    "): build it with `make cli`, or give --cli PATH")


def run(cli, args, quiet=False):
    """Runs `cli args...`; returns stdout. Raises ToolError with the tool's stderr on failure."""
    p = subprocess.run([cli] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        raise ToolError(f"`shopper-intent {' '.join(str(a) for a in args)}` failed:\n{p.stderr.strip() or p.stdout.strip()}")
    if not quiet:
        for stream, text in ((sys.stdout, p.stdout), (sys.stderr, p.stderr)):
            if text.strip():
                stream.write("".join("    " + line + "\n" for line in text.strip().splitlines()))
                stream.flush()
    return p.stdout


def featurize(cli, log, seed, out, utc_offset_min=None, kinds=None, allow_small=False):
    if os.path.isdir(out):
        shutil.rmtree(out)
    args = ["featurize", "--input", log, "--seed", seed, "--out", out]
    if utc_offset_min is not None:
        args += ["--utc-offset-min", utc_offset_min]
    if kinds:
        args += ["--kinds", kinds]
    if allow_small:
        args.append("--allow-small")
    return run(cli, args)


def convert(cli, manifest, check=False):
    return run(cli, ["convert", "--model", manifest] + (["--check"] if check else []), quiet=True).strip()


def bench_track_us(cli, log, manifest, utc_offset_min=None):
    """engine.track p50 and p99 in microseconds, measured by `shopper-intent bench`."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bench.json")
        args = ["bench", "--input", log, "--model", manifest, "--reps", "1", "--json", out]
        if utc_offset_min is not None:
            args += ["--utc-offset-min", utc_offset_min]
        run(cli, args, quiet=True)
        with open(out) as f:
            b = json.load(f)
    return float(b["track_us"]["p50"]), float(b["track_us"]["p99"])


def eval_json(cli, log, model, seed="0", split="test", boot=20, utc_offset_min=None):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "eval.json")
        args = ["eval", "--input", log, "--model", model, "--seed", seed, "--split", split, "--bootstrap", boot, "--json", out]
        if utc_offset_min is not None:
            args += ["--utc-offset-min", utc_offset_min]
        text = run(cli, args, quiet=True)
        with open(out) as f:
            return json.load(f), text
