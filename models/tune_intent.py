"""Model selection for the intent LSTM, on validation users only (test is never read).

Each configuration trains one or more members per seed on that seed's train users and records
the validation online ROC-AUC of the members' mean logit at the best epoch. The mean over seeds
ranks the configurations; the winner's settings are what `train.sh` passes to run_intent.py.
Writes models/tuning.json.

Usage: python models/tune_intent.py --data models/build [--seeds 0,1,2,3,4] [--members 1] [--only NAME,...]
"""

import argparse
import json
import os
import time

import numpy as np
import torch

import intent_data
import lstm as L
import metrics as M

BASE = {"hidden": 32, "pos_weight": 1.0, "dropout": 0.0, "lr": 3e-3, "weight_decay": 1e-4}
CONFIGS = {
    "h32": {},
    "h8": {"hidden": 8},
    "h16": {"hidden": 16},
    "h64": {"hidden": 64},
    "h16_lr1e-3": {"hidden": 16, "lr": 1e-3},
    "h32_lr1e-3": {"lr": 1e-3},
    "h32_pos3": {"pos_weight": 3.0},
    "h32_drop0.3": {"dropout": 0.3},
    "h32_wd1e-3": {"weight_decay": 1e-3},
    "h64_drop0.3_lr1e-3": {"hidden": 64, "dropout": 0.3, "lr": 1e-3},
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(here, "build"))
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--members", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=os.path.join(here, "tuning.json"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.only.split(",") if args.only else list(CONFIGS)
    data = {S: intent_data.load(os.path.join(args.data, f"seed{S}"))[1] for S in seeds}
    out = json.load(open(args.out)) if os.path.exists(args.out) else {}
    for name in names:
        cfg = dict(BASE, **CONFIGS[name])
        t0 = time.time()
        per = {}
        for S in seeds:
            sp = data[S]
            members = [L.train_member(sp["train"], sp["val"], seed=100 * S + k, **cfg)[0] for k in range(args.members)]
            z = L.ensemble_logit(members, sp["val"].seq, sp["val"].len)
            per[str(S)] = M.roc_auc(sp["val"].y, z)
        vals = np.array(list(per.values()))
        out[f"{name}/k{args.members}"] = {"config": cfg, "members": args.members, "val_auc_per_seed": per,
                                          "val_auc_mean": float(vals.mean()), "seconds": time.time() - t0}
        print(f"{name:24s} k={args.members} val AUC mean {vals.mean():.4f} per seed {np.round(vals, 4).tolist()} ({time.time() - t0:.0f} s)", flush=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
