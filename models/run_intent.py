"""Trains and evaluates the intent LSTM and every baseline on seeds 0..4, exports the seed-0 model.

For each seed S the data is DATA/seed{S} (from `shopper-intent featurize --seed S`). Every model
is fitted on that seed's train users, selected and calibrated on its validation users, and
measured once on its test users. Writes:
- models/results.json: per model, per seed, the test metrics with 95% user-bootstrap CIs, the
  means over seeds, and the paired (LSTM - best baseline) differences;
- models/build/preds/seed{S}.npz: test predictions for the report's plots;
- the shipped model (seed 0): models/intent.onnx, models/intent.json, models/fixtures/intent/.

Usage: python models/run_intent.py --data models/build [--seeds 0,1,2,3,4] [--members 5] [--hidden 32]
"""

import argparse
import hashlib
import json
import os
import platform
import time

import numpy as np
import torch

import baselines as B
import export_intent
import intent_data
import lstm as L
import metrics as M

BOOT_METRICS = ("online_auc", "pr_auc", "session_auc", "f1", "precision", "recall", "accuracy", "brier", "ece")


def calibrated(raw_val, raw_test, y_val):
    """Platt scaling fitted on validation, constrained to be non-decreasing: when validation
    would reverse a score's direction (slope < 0), the probability is the validation rate for
    everyone instead. Returns (p_val, p_test, (a, b))."""
    a, b = L.platt(raw_val, y_val)
    if not np.isfinite(a) or not np.isfinite(b) or a < 0:
        a, b = 0.0, float(L.logit(np.array([y_val.mean()]))[0])
    return L.sigmoid(a * raw_val + b), L.sigmoid(a * raw_test + b), (a, b)


def evaluate(name, p_val, p_test, sp, boot, raw_val=None, raw_test=None):
    """Test metrics and their bootstrap replicates. Ranking metrics use the raw scores when
    given (a rule's own score: calibration never reverses it), the rest the probabilities."""
    thr, _ = M.best_f1_threshold(sp["val"].y, p_val)
    te = sp["test"]
    m = M.all_metrics(te.y, p_test, te.prefix, te.session, thr, rank=raw_test)
    m["val_online_auc"] = M.roc_auc(sp["val"].y, p_val if raw_val is None else raw_val)
    reps = M.bootstrap(boot, te.y, p_test, te.prefix, te.session, thr, BOOT_METRICS, rank=raw_test)
    m["ci"] = {k: [float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))] for k, v in reps.items()}
    return m, reps


def data_digest(summary, path=None):
    """sha256 and line count of the event log the data was made from (the summary's input path,
    relative to the repository root, unless given)."""
    src = summary.get("input")
    if isinstance(src, dict):  # the synthetic generator's summary
        return {"sha256": src.get("sha256"), "rows": src.get("rows"), "source": src.get("path")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = path or (src if os.path.isabs(src) else os.path.join(root, src))
    with open(path, "rb") as f:
        raw = f.read()
    return {"sha256": hashlib.sha256(raw).hexdigest(), "rows": raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1),
            "source": os.path.basename(path), "lines_read_by_cli": summary.get("lines"),
            "events_outside_window": summary.get("events_outside_window"), "total": summary.get("total")}


def parse_seeds(s):
    return [int(x) for x in s.split(",")] if s else []


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(here, "build"))
    ap.add_argument("--out", default=here)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--pos-weight", type=float, default=1.0)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--reuse-lstm", action="store_true",
                    help="load the members cached in build/lstm/ when trained with the same settings")
    ap.add_argument("--input", default=None, help="the event log, for its digest (default: summary.json's input)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seeds = parse_seeds(args.seeds)
    preds_dir = os.path.join(args.out, "build", "preds")
    os.makedirs(preds_dir, exist_ok=True)
    t_all = time.time()
    lstm_cfg = {"hidden": args.hidden, "members": args.members, "pos_weight": args.pos_weight,
                "dropout": args.dropout, "lr": args.lr, "weight_decay": args.weight_decay,
                "epochs_max": args.epochs, "patience": args.patience, "batch": 128, "optimizer": "Adam",
                "loss": "binary cross-entropy at every position of carrier windows (each sample once)",
                "early_stopping": "validation online ROC-AUC over all prefixes, exact per-sample evaluation",
                "ensemble": f"{args.members} members with init seeds 100*S+k, logits averaged, folded into one LSTM with block-diagonal weights"}
    results = {"models": {}, "seeds": seeds, "lstm": lstm_cfg, "timing_s": {}}
    reps_all = {}  # model -> seed -> {metric: replicates}
    manifest = None
    summary0 = None
    for S in seeds:
        t0 = time.time()
        summary, sp = intent_data.load(os.path.join(args.data, f"seed{S}"))
        if summary0 is None:
            summary0 = summary
        worst = intent_data.check_causal(sp["train"])
        assert worst < 1e-6, f"seed {S}: shorter prefixes are not leading rows of longer ones ({worst})"
        boot = M.UserBootstrap(sp["test"].user, n=args.boot, seed=1000 + S)
        preds = {"y": sp["test"].label, "prefix": sp["test"].prefix, "session": sp["test"].session,
                 "user": sp["test"].user, "val_y": sp["val"].label}
        print(f"seed {S}: train {len(sp['train'])} val {len(sp['val'])} test {len(sp['test'])} samples", flush=True)
        for name, fn in B.BASELINES.items():
            tb = time.time()
            kw = {"seed": S} if "seed" in fn.__code__.co_varnames else {}
            rv, rt, info = fn(summary, sp, **kw)
            if name == "prior":
                pv, pt, ab = rv, rt, None
            else:
                pv, pt, ab = calibrated(rv, rt, sp["val"].y)
            m, reps = evaluate(name, pv, pt, sp, boot, rv, rt)
            m["calibration"] = None if ab is None else {"a": ab[0], "b": ab[1]}
            m["fit"] = info
            m["seconds"] = time.time() - tb
            results["models"].setdefault(name, {"per_seed": {}})["per_seed"][str(S)] = m
            reps_all.setdefault(name, {})[S] = reps
            preds[f"p_{name}"] = pt.astype(np.float32)
            preds[f"pv_{name}"] = pv.astype(np.float32)
            preds[f"r_{name}"] = np.asarray(rt, np.float64)  # the raw score, which the ranking metrics use
            print(f"  {name:22s} test online AUC {m['online_auc']:.4f} [{m['ci']['online_auc'][0]:.3f}, {m['ci']['online_auc'][1]:.3f}] val {m['val_online_auc']:.4f} ({m['seconds']:.0f} s)", flush=True)
        tl = time.time()
        members, infos = [], []
        cache = os.path.join(args.out, "build", "lstm", f"seed{S}.pt")
        key = {k2: v for k2, v in lstm_cfg.items()}
        saved = torch.load(cache) if args.reuse_lstm and os.path.exists(cache) else None
        if saved is not None and saved["config"] != key:
            print(f"    {cache} was trained with other settings: retraining", flush=True)
            saved = None
        for k in range(args.members):
            if saved is not None:
                mdl = L.IntentLSTM(sp["train"].seq.shape[2], args.hidden, args.dropout)
                mdl.load_state_dict(saved["members"][k])
                mdl.eval()
                info = saved["infos"][k]
            else:
                mdl, info = L.train_member(sp["train"], sp["val"], hidden=args.hidden, seed=100 * S + k,
                                           epochs=args.epochs, patience=args.patience, lr=args.lr,
                                           weight_decay=args.weight_decay, pos_weight=args.pos_weight,
                                           dropout=args.dropout)
                info = {k2: v for k2, v in info.items() if k2 != "history"}
            members.append(mdl)
            infos.append(info)
            print(f"    member {k}: best val AUC {info['best_val_auc']:.4f} at epoch {info['best_epoch']}", flush=True)
        if saved is None:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            torch.save({"config": key, "members": [m_.state_dict() for m_ in members], "infos": infos}, cache)
        # single member, for the ensemble's contribution
        zv1, zt1 = L.logits_at(members[0], sp["val"].seq, sp["val"].len), L.logits_at(members[0], sp["test"].seq, sp["test"].len)
        pv, pt, _ = calibrated(zv1, zt1, sp["val"].y)
        m, reps = evaluate("lstm_single", pv, pt, sp, boot)
        results["models"].setdefault("lstm_single", {"per_seed": {}})["per_seed"][str(S)] = m
        reps_all.setdefault("lstm_single", {})[S] = reps
        preds["p_lstm_single"] = pt.astype(np.float32)
        preds["pv_lstm_single"] = pv.astype(np.float32)
        print(f"  {'lstm_single':22s} test online AUC {m['online_auc']:.4f}", flush=True)
        zv = L.ensemble_logit(members, sp["val"].seq, sp["val"].len)
        zt = L.ensemble_logit(members, sp["test"].seq, sp["test"].len)
        pv, pt, (a, b) = calibrated(zv, zt, sp["val"].y)
        if S == 0 and not args.no_export:
            info = dict(lstm_cfg, members_info=infos, params_per_member=L.count_params(members[:1]),
                        torch=torch.__version__, python=platform.python_version(), train_seed=S,
                        shipped="the seed-0 ensemble; metrics are on seed-0 test users only")
            data_info = data_digest(summary, args.input)
            data_info.update({"split_seed": S, "splits": summary.get("splits") or summary.get("counts"),
                              "citation": "Zhu et al., Learning Tree-based Deep Model for Recommender Systems, KDD 2018; Tianchi dataset 649"})

            def metrics_fn(p_val, p_test, thr):
                te = sp["test"]
                mm = M.all_metrics(te.y, p_test, te.prefix, te.session, thr)
                mm["split"] = "test users of seed 0"
                mm["val_online_auc"] = M.roc_auc(sp["val"].y, p_val)
                return mm

            manifest, pv_ort, pt_ort = export_intent.ship(members, a, b, summary, sp, args.out, info, data_info, metrics_fn, seed=S)
            assert np.abs(pt_ort - pt).max() < 1e-4, np.abs(pt_ort - pt).max()
            pv, pt = pv_ort.astype(np.float64), pt_ort.astype(np.float64)
        m, reps = evaluate("lstm", pv, pt, sp, boot)
        m["calibration"] = {"a": a, "b": b}
        m["members"] = infos
        m["seconds"] = time.time() - tl
        results["models"].setdefault("lstm", {"per_seed": {}})["per_seed"][str(S)] = m
        reps_all.setdefault("lstm", {})[S] = reps
        preds["p_lstm"] = pt.astype(np.float32)
        preds["pv_lstm"] = pv.astype(np.float32)
        print(f"  {'lstm':22s} test online AUC {m['online_auc']:.4f} [{m['ci']['online_auc'][0]:.3f}, {m['ci']['online_auc'][1]:.3f}] val {m['val_online_auc']:.4f} ({m['seconds']:.0f} s)", flush=True)
        np.savez_compressed(os.path.join(preds_dir, f"seed{S}.npz"), **preds)
        results["timing_s"][f"seed{S}"] = time.time() - t0
    # means over seeds
    scalar = ("online_auc", "pr_auc", "session_auc", "f1", "precision", "recall", "accuracy", "brier", "ece", "val_online_auc")
    for name, d in results["models"].items():
        ps = d["per_seed"]
        mean = {}
        for k in scalar:
            vals = np.array([ps[str(S)][k] for S in seeds], dtype=float)
            e = {"mean": float(np.nanmean(vals)), "sd_seeds": float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0}
            if k in BOOT_METRICS:
                seedmean = np.nanmean(np.stack([reps_all[name][S][k] for S in seeds]), axis=0)
                e["ci"] = [float(np.nanpercentile(seedmean, 2.5)), float(np.nanpercentile(seedmean, 97.5))]
                e["ci_typical_seed"] = [float(np.mean([ps[str(S)]["ci"][k][0] for S in seeds])),
                                        float(np.mean([ps[str(S)]["ci"][k][1] for S in seeds]))]
            mean[k] = e
        mean["auc_at_k"] = {str(k): float(np.nanmean([ps[str(S)]["auc_at_k"][str(k)] for S in seeds])) for k in range(1, 11)}
        d["mean"] = mean
    # paired difference against the best baseline (by mean test online AUC: the harder comparison)
    base_names = list(B.BASELINES)
    best = max(base_names, key=lambda n: results["models"][n]["mean"]["online_auc"]["mean"])
    best_val = max(base_names, key=lambda n: results["models"][n]["mean"]["val_online_auc"]["mean"])
    paired = {}
    for other in sorted({best, best_val}):
        per = {}
        diffs = []
        for S in seeds:
            d = reps_all["lstm"][S]["online_auc"] - reps_all[other][S]["online_auc"]
            diffs.append(d)
            point = results["models"]["lstm"]["per_seed"][str(S)]["online_auc"] - results["models"][other]["per_seed"][str(S)]["online_auc"]
            per[str(S)] = {"diff": float(point), "ci": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))]}
        dm = np.mean(np.stack(diffs), axis=0)
        paired[other] = {"per_seed": per, "mean_diff": float(np.mean([per[str(S)]["diff"] for S in seeds])),
                         "ci_mean": [float(np.percentile(dm, 2.5)), float(np.percentile(dm, 97.5))],
                         "share_of_replicates_above_zero": float((dm > 0).mean())}
    results["best_baseline"] = {"by_test_mean": best, "by_val_mean": best_val}
    results["paired_online_auc"] = paired
    lm = results["models"]["lstm"]["mean"]["online_auc"]["mean"]
    bm = results["models"][best]["mean"]["online_auc"]["mean"]
    results["target"] = {"lstm_mean_online_auc": lm, "best_baseline_mean_online_auc": bm,
                         "margin_needed": 0.03, "absolute_needed": 0.66,
                         "reached": bool(lm >= bm + 0.03 and lm >= 0.66 and paired[best]["ci_mean"][0] > 0)}
    results["feature_version"] = summary0["feature_version"]
    results["data"] = data_digest(summary0, args.input)
    results["bootstrap"] = {"resamples": args.boot, "unit": "test users, with replacement",
                            "ci": "2.5 and 97.5 percentiles",
                            "seed_mean_ci": "per replicate b, the mean over seeds of each seed's replicate b (independent resamples per seed)",
                            "ci_typical_seed": "the mean over seeds of each seed's own CI bounds"}
    results["timing_s"]["total"] = time.time() - t_all
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, allow_nan=True)
        f.write("\n")
    print(json.dumps(results["target"]), json.dumps(paired[best]["ci_mean"]))


if __name__ == "__main__":
    main()
