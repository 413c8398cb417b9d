"""python -m models.trainer {train,check,synth-log,uci,summarize} ... (from the repository root).

  train      featurize a shop's event log, train and compare, export (what `make train` runs)
  check      check a shipped model with numpy, onnx and onnxruntime only (what `make test-model` runs)
  synth-log  write a small synthetic event log (the end-to-end test's input)
  uci        the UCI Online Shoppers benchmark
  summarize  a note for another model's REPORT.md from a run's results.json
"""

import argparse
import os
import shlex
import sys


def at_least(lo, kind=int):
    """An argparse type: a number of `kind` that is at least `lo`."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}")
        if not v >= lo:
            raise argparse.ArgumentTypeError(f"{text} is below {lo}")
        return v
    return parse


def size_list(lo):
    """An argparse type: comma-separated integers of at least `lo`, at least one; kept as the
    text, normalised (the size selection splits it)."""
    def parse(text):
        try:
            values = [int(v) for v in text.split(",") if v.strip() != ""]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated integers, e.g. 8,16,32")
        if not values or min(values) < lo:
            raise argparse.ArgumentTypeError(f"{text!r}: give one or more integers of at least {lo}, comma-separated")
        return ",".join(str(v) for v in values)
    return parse


def seed_list(text):
    """An argparse type: comma-separated non-negative integers, at least one."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: seeds are comma-separated integers, e.g. 0,1,2,3,4")
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more distinct non-negative integers, e.g. 0,1,2,3,4")
    return seeds


def train_parser(sub):
    p = sub.add_parser("train", help="featurize, train, compare and export", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Featurizes LOG for each seed, trains the streaming LSTM and the baselines, exports the "
                                   "first seed's model as OUT/NAME.{onnx,json,bin}, writes results.json, plots/ and REPORT.md.")
    p.add_argument("--data", required=True, help="the event log (generic JSONL, GA4's BigQuery export as JSONL, or Taobao CSV); "
                   "read once per seed and once more to check the shipped model, so a file nothing writes to while the run reads it")
    p.add_argument("--out", required=True, help="output folder (the data and per-seed models go to OUT/build); the run writes into "
                   "OUT/.run and replaces the previous run's files only once it is complete")
    p.add_argument("--name", default="intent", help="model name: OUT/NAME.onnx, .json, .bin")
    p.add_argument("--seeds", type=seed_list, default="0,1,2,3,4", help="user splits, comma-separated; the first is shipped")
    p.add_argument("--utc-offset-min", type=int, default=None, help="minutes east of UTC of the shop's local time")
    p.add_argument("--kinds", default=None, help="event kinds to read (featurize --kinds); default: the log's")
    p.add_argument("--allow-small", action="store_true", help="go on with a log too small to split and train")
    g = p.add_argument_group("LSTM")
    g.add_argument("--hidden", type=at_least(1), default=32, help="LSTM units")
    g.add_argument("--members", type=at_least(1), default=1, help="ensemble members (folded into one LSTM)")
    g.add_argument("--head", type=at_least(0), default=0, help="hidden units of an MLP head; 0 for a linear head")
    g.add_argument("--lr", type=at_least(1e-9, float), default=3e-3, help="Adam learning rate")
    g.add_argument("--weight-decay", type=at_least(0.0, float), default=1e-4, help="Adam weight decay")
    g.add_argument("--chunk", type=at_least(1), default=64, help="truncated back-propagation: events per chunk")
    g.add_argument("--batch", type=at_least(1), default=64, help="sessions per batch")
    g.add_argument("--epochs", type=at_least(1), default=30, help="at most")
    g.add_argument("--patience", type=at_least(1), default=5, help="epochs without a validation gain before stopping")
    g.add_argument("--pos-weight", type=at_least(1e-9, float), default=1.0, help="class weight of purchasing sessions' rows")
    g.add_argument("--dropout", type=at_least(0.0, float), default=0.0, help="on the LSTM output, in training")
    s = p.add_argument_group("size selection (validation only; slow)")
    s.add_argument("--select", action="store_true", help="choose hidden and members by validation AUC against measured cost")
    s.add_argument("--select-hidden", type=size_list(1), default="8,16,32,64", help="hidden sizes to try")
    s.add_argument("--select-members", type=size_list(1), default="1,3,5", help="member counts to try")
    s.add_argument("--select-seeds", default="", help="seeds of --seeds to choose on, comma-separated; default: the first seed")
    s.add_argument("--select-tolerance", type=float, default=0.002, help="with one selection seed, the validation AUC given up for a cheaper model (with several, "
                   "one standard error of the paired difference to the best decides)")
    p.add_argument("--boot", type=at_least(10), default=1000, help="user-bootstrap resamples")
    p.add_argument("--threads", type=at_least(1), default=1, help="torch threads")
    p.add_argument("--cli", default=argparse.SUPPRESS, help="the shopper-intent binary (default: $SHOPPER_INTENT_CLI, else target/native/shopper-intent)")
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m models.trainer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    train_parser(sub)
    c = sub.add_parser("check", help="check a shipped model without torch")
    c.add_argument("--model", default="models/intent.json", help="the manifest")
    c.add_argument("--uci", default="models/uci/uci_dense.json", help="the UCI model's manifest ('' to skip)")
    c.add_argument("--cli", default=None)
    g = sub.add_parser("synth-log", help="write a synthetic event log")
    g.add_argument("--out", required=True)
    g.add_argument("--users", type=int, default=120)
    g.add_argument("--seed", type=int, default=0)
    n = sub.add_parser("summarize", help="a note for another model's REPORT.md from a run's results.json")
    n.add_argument("--results", required=True)
    n.add_argument("--title", required=True)
    n.add_argument("--source", default="", help="a sentence on the data and its terms")
    u = sub.add_parser("uci", help="the UCI Online Shoppers benchmark")
    u.add_argument("--data", default="../shared/data/uci/online_shoppers_intention.csv")
    u.add_argument("--out", default="models")
    u.add_argument("--repeats", type=int, default=10)
    u.add_argument("--members", type=int, default=5)
    args = ap.parse_args(argv)
    if args.cmd == "train" and args.select_seeds:
        try:
            chosen = seed_list(args.select_seeds)
        except argparse.ArgumentTypeError as e:
            ap.error(f"argument --select-seeds: {e}")
        if not set(chosen) <= set(args.seeds):
            ap.error(f"argument --select-seeds: {args.select_seeds!r} names seeds that --seeds ({','.join(map(str, args.seeds))}) does not run")
    if args.cmd == "uci" and args.repeats < 2:
        ap.error("argument --repeats: give at least 2 (the figures are a mean with its standard deviation over repeats)")
    if args.cmd == "check":
        from . import check
        return check.main(args)
    if args.cmd == "synth-log":
        from . import synthlog
        synthlog.write(args.out, users=args.users, seed=args.seed)
        return 0
    if args.cmd == "summarize":
        from . import notes
        print(notes.summarize(args.results, args.title, args.source))
        return 0
    if args.cmd == "uci":
        from . import uci
        uci.run(args)
        return 0
    from . import cli as C
    from .data import DataError
    python = os.path.relpath(sys.executable) if not os.path.relpath(sys.executable).startswith("..") else sys.executable
    args.command_line = f"{shlex.quote(python)} -m models.trainer " + " ".join(shlex.quote(a) for a in argv)
    # What a run stopped before its end left: the previous run whole (if there was one), this
    # one's files aside in OUT/.run (the same name as pipeline.RUN_DIR, known before torch loads).
    partial = os.path.join(args.out, ".run")
    had_previous = os.path.exists(os.path.join(args.out, "results.json"))

    def left():
        if not os.path.isdir(partial):
            return ""
        # On a line of its own: the message before it may end without a full stop.
        return ("\nnote:" + (f" {args.out} holds the previous run as it was;" if had_previous else "")
                + f" this run's files are in {partial} (the next run removes them).")

    try:
        from . import pipeline
        pipeline.run(args)
    except (C.ToolError, DataError) as e:
        print(f"error: {e}" + left(), file=sys.stderr, flush=True)
        return 1
    except OSError as e:
        print(f"error: {e}" + left(), file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted." + left(), file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
