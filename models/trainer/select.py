"""Model size against measured cost, on validation users only.

For each hidden size, `max(members)` members are trained per selection seed; the ensembles of
their first 1, 3, 5 members are scored on validation (online ROC-AUC, mean over the selection
seeds). Each size is exported (first selection seed) and timed by `shopper-intent bench`
(engine.track p50, microseconds per event) and weighed (bytes of its weights file). The choice,
a one-standard-error rule on paired differences: for each configuration, its validation AUC minus
the best configuration's on the same seeds; the cheapest configuration (fewest weight bytes, then
the fastest) whose mean difference is within one standard error of that difference (over the
seeds) of zero. With one selection seed, `tolerance` stands in for the standard error.
"""

import os
import time

import numpy as np

from . import calibration as Cal
from . import export
from .cli import ToolError, bench_track_us
from .metrics import roc_auc

HIDDEN = (8, 16, 32, 64)
MEMBERS = (1, 3, 5)


def run(seeds, summaries, splits, cfg, cache, args, cli, out, name):
    hiddens = [int(h) for h in args.select_hidden.split(",")]
    counts = [int(k) for k in args.select_members.split(",")]
    log = lambda m: print(m, flush=True)
    rows = []
    for h in hiddens:
        for K in counts:
            t0 = time.time()
            aucs = []
            for S in seeds:
                sp = splits[S]
                got = [cache.get(S, sp, h, k) for k in range(K)]
                aucs.append(roc_auc(sp["val"].y, np.mean([g[2] for g in got], axis=0)))
            S = seeds[0]
            sp = splits[S]
            got = [cache.get(S, sp, h, k) for k in range(K)]
            zv = np.mean([g[2] for g in got], axis=0)
            ab = Cal.fit_calibration(zv, sp["val"].y)
            pv = Cal.apply(ab, zv).astype(np.float32)
            d = os.path.join(out, "build", "select", f"h{h}_k{K}")
            problem = None
            try:
                export.write_model(d, name, [g[0] for g in got], ab, summaries[S], sp, Cal.threshold(pv, sp["val"].y),
                                   Cal.segments(pv), {"selection": f"hidden {h}, {K} member(s), seed {S}"}, cli, seed=S, n_fixtures=4)
            except ToolError as e:
                # convert writes the weights before it checks them: the size can still be timed,
                # but a model that fails the engine's check is never chosen.
                problem = str(e).strip().splitlines()[-1]
                log(f"select: hidden {h}, {K} member(s): {problem}")
            p50, p99 = bench_track_us(cli, args.data, os.path.join(d, f"{name}.json"), args.utc_offset_min)
            row = {"hidden": h, "members": K, "hidden_total": h * K, "val_auc": float(np.mean(aucs)),
                   "val_auc_per_seed": [float(a) for a in aucs], "track_p50_us": p50, "track_p99_us": p99,
                   "weights_bytes": os.path.getsize(os.path.join(d, f"{name}.bin")), "convert_problem": problem}
            rows.append(row)
            log(f"select: hidden {h}, {K} member(s): validation AUC {row['val_auc']:.4f}, engine.track p50 {p50:.1f} us, "
                f"{row['weights_bytes']} bytes ({time.time() - t0:.0f} s)")
    best_row = max(rows, key=lambda r: r["val_auc"])
    best = best_row["val_auc"]
    for r in rows:
        d = np.array(r["val_auc_per_seed"]) - np.array(best_row["val_auc_per_seed"])
        r["diff_to_best"] = float(d.mean())
        r["diff_se"] = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float(args.select_tolerance)
        r["within_noise"] = bool(r["diff_to_best"] + r["diff_se"] >= 0)
    ok = [r for r in rows if r["within_noise"] and not r["convert_problem"]] or [r for r in rows if not r["convert_problem"]]
    if not ok:
        raise ToolError("no model size passed `shopper-intent convert`: " + rows[0]["convert_problem"])
    chosen = min(ok, key=lambda r: (r["weights_bytes"], r["track_p50_us"], -r["val_auc"]))
    return {"seeds": seeds, "rows": rows, "chosen": chosen, "tolerance": args.select_tolerance,
            "rule": (f"the cheapest configuration (fewest weight bytes, then fastest engine.track) whose mean validation AUC over "
                     f"seeds {','.join(str(s) for s in seeds)} is within one standard error of its paired difference to the best "
                     f"({best_row['hidden']} x {best_row['members']}, {best:.4f})" if len(seeds) > 1 else
                     f"the cheapest configuration (fewest weight bytes, then fastest engine.track) whose validation AUC on seed "
                     f"{seeds[0]} is within {args.select_tolerance} (--select-tolerance; one seed gives no standard error) of the "
                     f"best ({best_row['hidden']} x {best_row['members']}, {best:.4f})")}
