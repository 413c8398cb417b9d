"""The whole run behind `make train`: featurize each seed, fit the baselines and the LSTM on its
train users, choose and calibrate on its validation users, measure once on its test users,
export every seed's model, ship seed 0's, and write results.json, plots/ and REPORT.md.

    OUT/<name>.onnx, .json, .bin, fixtures/<name>/   the seed-0 model, converted and checked
    OUT/build/seed{S}/                               featurized data and seed S's model (eval --seed)
    OUT/build/preds/seed{S}.npz                      test scores of every model (plots)
    OUT/results.json, OUT/plots/*.png, OUT/REPORT.md
"""

import json
import os
import platform
import re
import shutil
import signal
import time

import numpy as np
import torch

from . import baselines as B
from . import calibration as Cal
from . import cli as C
from . import compare
from . import data as D
from . import export
from . import lstm as L
from .metrics import finite


def log(msg):
    print(msg, flush=True)


class Members:
    """Trained members, by (seed, hidden, index): the size selection and the final training share
    them (a member is a deterministic function of its data, settings and seed)."""

    def __init__(self, cfg):
        self.cfg, self.cache = cfg, {}

    def get(self, S, sp, hidden, k):
        key = (S, hidden, k)
        if key not in self.cache:
            cfg = L.Config(**dict(self.cfg.as_dict(), hidden=hidden))
            t0 = time.time()
            m, info = L.train_member(sp["train"], sp["val"], cfg, seed=100 * S + k, log=log,
                                     name=f"  seed {S} LSTM hidden {hidden} member {k + 1}: ")
            info["seconds"] = time.time() - t0
            log(f"  seed {S} LSTM hidden {hidden} member {k + 1}: best validation AUC {info['best_val_auc']:.4f} at epoch "
                f"{info['best_epoch']} ({info['seconds']:.0f} s)")
            self.cache[key] = (m, info, L.logits(m, sp["val"]), None)
        return self.cache[key]

    def test_logits(self, S, sp, hidden, k):
        m, info, zv, zt = self.get(S, sp, hidden, k)
        if zt is None:
            zt = L.logits(m, sp["test"])
            self.cache[(S, hidden, k)] = (m, info, zv, zt)
        return zt


def calibrated(z_val, z_test, y_val):
    ab = Cal.fit_calibration(z_val, y_val)
    pv = Cal.apply(ab, z_val).astype(np.float32)
    pt = Cal.apply(ab, z_test).astype(np.float32)
    return ab, pv, pt


def run_baselines(S, summary, sp, ev):
    for name, fn in B.BASELINES.items():
        t0 = time.time()
        rv, rt, info = fn(summary, sp, seed=S, log=log)
        if name == "prior":
            ab, pv, pt = None, rv.astype(np.float32), rt.astype(np.float32)
        else:
            ab, pv, pt = calibrated(rv, rt, sp["val"].y)
        thr = Cal.threshold(pv, sp["val"].y)
        m = ev.add(name, pv, pt, thr, raw_val=rv, raw_test=rt,
                   extra={"fit": info, "calibration": None if ab is None else {"a": ab[0], "b": ab[1]}, "seconds": time.time() - t0})
        log(f"  seed {S} {name:20s} validation AUC {m['val_online_auc']:.4f}, test online AUC {m['online_auc']:.4f} "
            f"[{m['ci']['online_auc'][0]:.3f}, {m['ci']['online_auc'][1]:.3f}] ({m['seconds']:.0f} s)")


def model_metrics(m, summary, cfg, infos, ab, S, extra):
    """What the manifest records: the seed's flat test figures (what `shopper-intent eval --seed S`
    reproduces), then calibration, training settings and the data digest."""
    flat = {k: v for k, v in m.items() if k not in ("ci", "members", "seconds")}
    flat.update({
        "split": f"test users of seed {S}",
        "ci": m["ci"],
        "calibration": {"method": "platt, non-decreasing", "a": ab[0], "b": ab[1],
                        "fitted_on": f"validation prefixes of seed {S}",
                        "applied_to": "the mean of the members' logits; folded into the head"},
        "threshold_rule": "best positive-class F1 on validation prefixes (predict purchase when p >= threshold)",
        "segments_rule": f"medium = top {Cal.MEDIUM_SHARE:.0%}, high = top {Cal.HIGH_SHARE:.0%} of validation prefix scores",
        "training": dict(cfg.as_dict(), members_info=infos, seed=S, torch=torch.__version__, python=platform.python_version(),
                         loss="binary cross-entropy at every row (each prefix sample once), sessions batched by length, "
                              "truncated back-propagation in chunks with the state carried",
                         early_stopping="validation online ROC-AUC over all prefixes"),
        "data": {"input_sha256": summary.get("input_sha256"), "format": summary.get("format"), "lines": summary.get("lines"),
                 "split_seed": S, "splits": summary.get("splits"), "utc_offset_min": summary.get("utc_offset_min"),
                 "sessions_from": summary.get("sessions_from")},
    })
    flat.update(extra)
    return flat


def train_lstm(S, summary, sp, cfg, members_cache, ev, outdir, name, cli):
    t0 = time.time()
    yv = sp["val"].y
    got = [members_cache.get(S, sp, cfg.hidden, k) for k in range(cfg.members)]
    models = [g[0] for g in got]
    infos = [{k: v for k, v in g[1].items() if k != "history"} for g in got]
    zv = np.mean([g[2] for g in got], axis=0)
    zt = np.mean([members_cache.test_logits(S, sp, cfg.hidden, k) for k in range(cfg.members)], axis=0)
    if cfg.members > 1:
        ab1, pv1, pt1 = calibrated(got[0][2], members_cache.test_logits(S, sp, cfg.hidden, 0), yv)
        ev.add("lstm_single", pv1, pt1, Cal.threshold(pv1, yv))
    ab, pv, pt = calibrated(zv, zt, yv)
    thr = Cal.threshold(pv, yv)
    seg = Cal.segments(pv)
    # Its validation AUC from the raw logits, as for the baselines (the calibrated score ranks the
    # same unless calibration flattened it, which unusable() looks for).
    m = ev.add("lstm", pv, pt, thr, raw_val=zv, val_interval=True,
               extra={"calibration": {"a": ab[0], "b": ab[1], "val_logit_sd": float(ab[0] * np.std(zv))}, "members": infos, "segments": seg})
    metrics = model_metrics(m, summary, cfg, infos, ab, S, {})
    seed_dir = os.path.join(outdir, "build", f"seed{S}")
    parity = export.write_model(seed_dir, name, models, ab, summary, sp, thr, seg, metrics, cli, seed=S)
    m["parity"] = parity
    m["seconds"] = time.time() - t0
    log(f"  seed {S} {'lstm':20s} validation AUC {m['val_online_auc']:.4f}, test online AUC {m['online_auc']:.4f} "
        f"[{m['ci']['online_auc'][0]:.3f}, {m['ci']['online_auc'][1]:.3f}]; exported to {seed_dir}/{name}.json: {parity['convert']}")
    return m


# Calibrated validation scores whose logits spread less than this (a standard deviation) give
# every shopper the same score for any use: scores about 1% apart, whatever the purchase rate,
# which the segments and the threshold cannot tell apart.
FLAT_LOGIT_SD = 0.01


def unusable(m):
    """Why a seed's LSTM must not be shipped, or None: not better than chance on validation users
    (the lower end of the user-bootstrap interval of its validation AUC is not above 0.5; the AUC
    alone is the best epoch's, chosen on those users, and passes 0.5 without signal), or a
    calibration that makes its score the same for every shopper."""
    va, a = m["val_online_auc"], m["calibration"]["a"]
    lo, hi = m.get("val_online_auc_ci", [va, va])
    if not lo > 0.5:
        if hi < 0.5:
            return (f"its validation AUC is {va:.3f} [{lo:.3f}, {hi:.3f}], an interval below 0.5: it ranks shoppers worse than "
                    "chance, as if it had learned the opposite of what the validation users did")
        return f"its validation AUC is {va:.3f} [{lo:.3f}, {hi:.3f}], an interval that reaches 0.5: no better than chance"
    sd = m["calibration"].get("val_logit_sd", float("inf"))
    if not (a > 0 and sd >= FLAT_LOGIT_SD):
        return (f"calibration on validation users gave it a slope of {a:.3g}, and its logits there spread by {sd:.2g} "
                "(standard deviation): it would give every shopper the same score")
    return None


def check_name(out, name, previous):
    """Refuses a model name that would overwrite a file of the run, or another model's fixtures
    in `out` (models/ holds the UCI model's beside the shipped one's)."""
    if name in ("results", "REPORT") or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise D.DataError(f"--name {name!r}: a model name is letters, digits, '_', '.' or '-', and not 'results' or 'REPORT' "
                          "(the run's own files)")
    if os.path.exists(os.path.join(out, "fixtures", name)) and not (previous and previous[0] == name):
        raise D.DataError(f"--name {name}: {os.path.join(out, 'fixtures', name)} belongs to another model than the previous run's; "
                          "choose another name (or another --out)")


def previous_run(out):
    """The model name and seeds of the run whose results.json is in `out`, or None."""
    try:
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)
        return r["name"], [int(S) for S in r["seeds"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def model_files(out, name):
    """The files of the model `name` shipped in `out`: the ONNX file, manifest, weights, fixtures."""
    return [os.path.join(out, f"{name}.{ext}") for ext in ("onnx", "json", "bin")] + [os.path.join(out, "fixtures", name)]


def remove_paths(paths):
    """Removes each file or folder of `paths` that exists; returns those removed."""
    gone = []
    for path in paths:
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.isfile(path):
            os.remove(path)
        else:
            continue
        gone.append(path)
    return gone


# This run's files until they are all written, and what the run replaces, until it is gone.
RUN_DIR, REPLACED_DIR = ".run", ".replaced"


def set_aside(out, names, into):
    """Copies into `into` (this run's build/previous-model/) the model files of each of `names`
    shipped in `out`, or else what an earlier run set aside in `out/build/previous-model/`;
    returns the paths copied. A run that ships no model removes the previous run's from `out`
    when it is complete (`commit`), where they would pass for this run's, but keeps them: they
    may be the only good model the shop has."""
    found = [p for n in dict.fromkeys(names) for p in model_files(out, n) if os.path.exists(p)]
    if not found:
        earlier = os.path.join(out, "build", "previous-model")
        found = [os.path.join(earlier, f) for f in sorted(os.listdir(earlier))] if os.path.isdir(earlier) else []
    if found:
        os.makedirs(into, exist_ok=True)
    for p in found:
        dst = os.path.join(into, os.path.basename(p))
        if os.path.isdir(p):
            shutil.copytree(p, dst)
        else:
            shutil.copy2(p, dst)
    return found


# What a run writes in OUT/build: replaced by the next run, and removed when it writes none.
RUN_PRODUCTS = re.compile(r"(seed\d+|preds|select|previous-model)")


class _DeferredInterrupt:
    """Holds Ctrl-C (SIGINT) back while its block runs, then raises it: the renames of `commit`
    are all made or all undone, never cut in between."""

    def __enter__(self):
        self.caught = False
        try:
            self.before = signal.signal(signal.SIGINT, lambda *_: setattr(self, "caught", True))
        except ValueError:  # not the main thread: nothing to hold back
            self.before = None
        return self

    def __exit__(self, *exc):
        if self.before is not None:
            signal.signal(signal.SIGINT, self.before)
        if self.caught and exc[0] is None:
            raise KeyboardInterrupt
        return False


def commit(work, out, name, previous, shipped):
    """Puts this run, complete in `work`, in the place of the previous one in `out`: each of its
    files and folders is moved over its namesake (in `build/` the run's own folders, in
    `fixtures/` the model's, then the rest, the model's manifest last), and what the previous run
    wrote and this one does not is removed: other seeds' folders, the size selection, the model
    under another name (or under this name, when this run ships none: it is kept in
    build/previous-model/). Ctrl-C waits for the end; a failure (a disk that fills, say) puts
    every file back where it was, so `out` holds the previous run whole or this one whole. Other
    files in `out` (notes/, another model's fixtures) stay. Returns the model files removed."""
    old = os.path.join(out, REPLACED_DIR)
    done = []  # (from, to) of each move made, to undo them

    def move(src, dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.move(src, dst)  # a rename, or a copy across file systems (a build/ linked elsewhere)
        done.append((src, dst))

    aside = iter(range(1 << 30))
    put_aside = lambda path: move(path, os.path.join(old, f"{next(aside)}-{os.path.basename(path)}"))
    with _DeferredInterrupt():
        try:
            os.makedirs(old)
            drop = ([previous[0]] if previous and previous[0] != name else []) + ([] if shipped else [name])
            removed = [p for n in dict.fromkeys(drop) for p in model_files(out, n) if os.path.exists(p)]
            for path in removed:
                put_aside(path)
            work_build, out_build = os.path.join(work, "build"), os.path.join(out, "build")
            if os.path.isdir(out_build):
                for entry in sorted(os.listdir(out_build)):
                    if RUN_PRODUCTS.fullmatch(entry) and not os.path.exists(os.path.join(work_build, entry)):
                        put_aside(os.path.join(out_build, entry))
            moves = [(os.path.join(work_build, e), os.path.join(out_build, e)) for e in sorted(os.listdir(work_build))] if os.path.isdir(work_build) else []
            if os.path.isdir(os.path.join(work, "fixtures", name)):
                moves.append((os.path.join(work, "fixtures", name), os.path.join(out, "fixtures", name)))
            rest = sorted((e for e in os.listdir(work) if e not in ("build", "fixtures")), key=lambda e: e == f"{name}.json")
            moves += [(os.path.join(work, e), os.path.join(out, e)) for e in rest]
            for src, dst in moves:
                if os.path.lexists(dst):
                    put_aside(dst)
                move(src, dst)
        except BaseException:
            for src, dst in reversed(done):
                shutil.move(dst, src)
            remove_paths([old])
            raise
        remove_paths([old, work])
    return removed


def relocated(value, work, out):
    """`value` (results, nested) with the paths under `work` named as they are after `commit`."""
    if isinstance(value, str):
        return value.replace(work + os.sep, out.rstrip(os.sep) + os.sep)
    if isinstance(value, dict):
        return {k: relocated(v, work, out) for k, v in value.items()}
    if isinstance(value, list):
        return [relocated(v, work, out) for v in value]
    return value


def data_section(summaries, log_path):
    s0 = summaries[min(summaries)]
    keep = ("format", "input_sha256", "lines", "malformed_lines", "malformed", "malformed_purchase_lines", "repeated_lines", "size_problems",
            "refused_events", "events_outside_window", "events_not_on_page", "duplicate_rows", "rows_without_browser_id",
            "event_types", "kinds", "sessions_from", "utc_offset_min", "utc_offset_assumed", "total", "window", "split",
            "events_kept", "events_with_item", "events_with_category", "events_with_price", "events_with_quantity",
            "events_with_session", "keys_not_read")
    d = {k: s0.get(k) for k in keep}
    d["malformed"] = (s0.get("malformed") or [])[:20]
    d["input"] = os.path.basename(log_path)
    d["splits_per_seed"] = {str(S): s.get("splits") for S, s in summaries.items()}
    return d


# How far `eval`'s figures may be from the trainer's: float32 against float64 sums (about 1e-8 on
# the logs tried); a log that changed while the run read it gives differences of 1e-2.
REPRODUCE_TOLERANCE = 1e-4


def native_check(cli, log_path, out, name, man_metrics, utc, seed):
    """`shopper-intent eval` on the shipped seed's test users with the shipped files: it must
    reproduce the trainer's figures (the engine streams what PyTorch scored on whole sessions).
    Raises DataError when it does not."""
    got, _ = C.eval_json(cli, log_path, os.path.join(out, f"{name}.json"), seed=str(seed), boot=20, utc_offset_min=utc)
    fig = got["figures"][0]
    pairs = {"online_auc": fig["online_auc"]["value"], "pr_auc": fig["pr_auc"], "session_auc": fig["session_auc"],
             "brier": fig["brier"], "ece": fig["ece"], "f1": fig["at_threshold"]["f1"]}
    diffs = {k: abs(float(v) - float(man_metrics[k])) for k, v in pairs.items()}
    samples_ok = got["counts"]["samples"] == man_metrics["samples"]
    worst = max(diffs.values())
    if not samples_ok or not worst <= REPRODUCE_TOLERANCE:
        raise D.DataError(
            f"shopper-intent eval does not reproduce the trainer's seed-{seed} test figures: {got['counts']['samples']} samples "
            f"against {man_metrics['samples']}, a difference of up to {worst:.1e} ({max(diffs, key=diffs.get)}) where "
            f"{REPRODUCE_TOLERANCE:g} is allowed. Did the log change while the run read it (it is read once per seed and once more "
            "here)? Train from a copy that nothing writes to.")
    return {"max_abs_diff": worst, "diffs": diffs, "samples_match": bool(samples_ok)}


def run(args):
    t_all = time.time()
    torch.set_num_threads(args.threads)
    cli = C.find(getattr(args, "cli", None))
    seeds = list(args.seeds)
    out, name = args.out, args.name
    if os.path.exists(out) and not os.path.isdir(out):
        raise D.DataError(f"--out {out}: a file is there; give a folder")
    previous = previous_run(out)
    if previous:
        log(f"{out} holds a previous run (model {previous[0]}, seeds {','.join(map(str, previous[1]))}): this run replaces it "
            "once it is complete")
    # Everything is written into `work` first: `out` keeps the previous run whole until `commit`.
    work = os.path.join(out, RUN_DIR)
    if os.path.exists(os.path.join(out, REPLACED_DIR)):
        raise D.DataError(f"{os.path.join(out, REPLACED_DIR)} holds files a run was replacing when it was cut off (a crash or a "
                          "power loss): the previous run's files may be there. Move back what you need, remove the folder, and run again.")
    check_name(out, name, previous)
    remove_paths([work])
    os.makedirs(work)
    cfg = L.Config(hidden=args.hidden, members=args.members, head=args.head, lr=args.lr, weight_decay=args.weight_decay,
                   chunk=args.chunk, batch=args.batch, epochs=args.epochs, patience=args.patience,
                   pos_weight=args.pos_weight, dropout=args.dropout)
    summaries, splits = {}, {}
    for S in seeds:
        log(f"featurize seed {S}: {args.data} -> {work}/build/seed{S}")
        C.featurize(cli, args.data, S, os.path.join(work, "build", f"seed{S}"), args.utc_offset_min, args.kinds, args.allow_small)
        summaries[S], splits[S] = D.load(os.path.join(work, "build", f"seed{S}"))
    cache = Members(cfg)
    selection = None
    if args.select:
        from . import select as Sel
        sel_seeds = [int(s) for s in args.select_seeds.split(",")] if args.select_seeds else seeds[:1]
        selection = Sel.run(sel_seeds, summaries, splits, cfg, cache, args, cli, work, name)
        cfg.hidden, cfg.members = selection["chosen"]["hidden"], selection["chosen"]["members"]
        log(f"selected hidden {cfg.hidden}, {cfg.members} member(s): {selection['rule']}")
    per_seed, timing = {}, {}
    # The log's users (indices in every split of every seed): the bootstrap resamples them jointly.
    users = 1 + max(int(splits[S][k].user.max()) for S in seeds for k in ("train", "val", "test") if len(splits[S][k].user))
    preds_dir = os.path.join(work, "build", "preds")
    os.makedirs(preds_dir, exist_ok=True)
    for S in seeds:
        t0 = time.time()
        sp = splits[S]
        log(f"seed {S}: train {len(sp['train'])} rows / {len(sp['train'].sessions)} sessions, val {len(sp['val'])} / "
            f"{len(sp['val'].sessions)}, test {len(sp['test'])} / {len(sp['test'].sessions)}")
        ev = compare.SeedEval(sp["val"], sp["test"], args.boot, users)
        run_baselines(S, summaries[S], sp, ev)
        train_lstm(S, summaries[S], sp, cfg, cache, ev, work, name, cli)
        per_seed[S] = ev
        te = sp["test"]
        np.savez_compressed(os.path.join(preds_dir, f"seed{S}.npz"),
                            y=te.label, prefix=te.prefix, session=te.session, user=te.user,
                            **{f"p_{k}": v["p"] for k, v in ev.preds.items()}, **{f"r_{k}": v["r"] for k, v in ev.preds.items()})
        timing[f"seed{S}"] = time.time() - t0
        log(f"seed {S} done in {timing[f'seed{S}']:.0f} s")
    results = compare.summarise(per_seed, list(B.BASELINES))
    S0 = seeds[0]
    results["unusable"] = {str(S): why for S in seeds if (why := unusable(per_seed[S].figures["lstm"]))}
    for S, why in results["unusable"].items():
        log(f"warning: seed {S}'s LSTM learned nothing usable: {why}")
    results["shipped"] = str(S0) not in results["unusable"]
    if results["shipped"]:
        log(f"shipping seed {S0}'s model as {out}/{name}.json")
        results["shipped_check"] = export.copy_model(os.path.join(work, "build", f"seed{S0}"), work, name, cli)
        with open(os.path.join(work, f"{name}.json")) as f:
            man = json.load(f)
        results["native_eval"] = native_check(cli, args.data, work, name, man["metrics"], args.utc_offset_min, S0)
        log(f"shopper-intent eval reproduces the seed-{S0} test figures within {results['native_eval']['max_abs_diff']:.1e}")
    else:
        # Nothing of an earlier run may stand in for the model this run refused, and nothing of it
        # is lost either.
        kept = set_aside(out, [name] + ([previous[0]] if previous else []), os.path.join(work, "build", "previous-model"))
        results["set_aside"] = [os.path.basename(p) for p in kept]
    results.update({
        "name": name, "lstm": cfg.as_dict(), "selection": selection, "data": data_section(summaries, args.data),
        "features": {"sequence": summaries[S0]["sequence_features"], "aggregate": summaries[S0]["aggregate_features"],
                     "feature_version": summaries[S0]["feature_version"]},
        "bootstrap": {"resamples": args.boot, "unit": "the log's users, with replacement, shared by the seeds (each seed weighs its test users by their counts)", "ci": "2.5 and 97.5 percentiles"},
        "command": args.command_line, "timing_s": dict(timing, total=time.time() - t_all), "allow_small": bool(args.allow_small),
        # As given on the command line, for the report's command that reproduces the figures.
        "reproduce": {"data": args.data, "cli": getattr(args, "cli", None) or "target/native/shopper-intent"},
    })
    results = relocated(results, work, out)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(finite(results), f, indent=1, allow_nan=False)
        f.write("\n")
    from . import plots, report
    plots.draw(work, results)
    report.write(work, results, shown=out)
    for path in commit(work, out, name, previous, results["shipped"]):
        log(f"removed {path} (the previous run's model" + ("" if results["shipped"] else f", kept in {out}/build/previous-model/") + ")")
    if previous:
        log(f"replaced the previous run in {out}")
    log(f"{results['verdict']['sentence']} (mean difference in online AUC {results['verdict']['mean_diff']:+.4f}, "
        f"95% CI [{results['verdict']['ci_mean'][0]:+.4f}, {results['verdict']['ci_mean'][1]:+.4f}])")
    if not results["shipped"]:
        raise D.DataError(f"seed {S0}'s LSTM is not shipped: {results['unusable'][str(S0)]}. {out}/REPORT.md has the figures; "
                          f"its model stays in {out}/build/seed{S0} for inspection. A larger log, more epochs or another "
                          "--seeds order may help.")
    log(f"wrote {out}/{name}.onnx, .json, .bin, results.json, plots/, REPORT.md in {time.time() - t_all:.0f} s")
    return results
