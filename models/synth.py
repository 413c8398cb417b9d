"""Writes a synthetic dataset in the exact layout of `shopper-intent featurize --out DIR`.

It exists so the training, export and report pipeline can be smoke-tested without the Rust CLI
(`python models/synth.py --out models/build/synth/seed0 && python models/run_intent.py --data models/build/synth ...`).
The numbers mean nothing: the events are drawn from a small Markov chain in which carts make a
purchase likelier, and each feature row depends only on events up to its own, as the real
features do, so the window of a prefix k <= W is the first k rows of any longer prefix's window.

Usage: python models/synth.py --out DIR [--users 600] [--seed 0] [--window 32]
"""

import argparse
import hashlib
import json
import math
import os

import numpy as np

SEQUENCE_FEATURES = [
    "kind_page_view", "kind_view_item_list", "kind_select_item", "kind_view_item", "kind_search",
    "kind_add_to_wishlist", "kind_add_to_cart", "kind_remove_from_cart", "kind_view_cart",
    "kind_begin_checkout", "kind_add_payment_info", "kind_purchase", "log_gap_s", "log_elapsed_s",
    "log_position", "repeat_item", "repeat_category", "log_item_views", "hour_sin", "hour_cos",
    "log_price", "log_session_carts", "log_prev_sessions", "log_prev_purchase_sessions",
    "log_hours_since_prev_session", "item_pending_cart", "item_pending_wishlist",
    "log_pending_items", "pending_touched",
]
AGGREGATE_FEATURES = [
    "count_page_view", "count_view_item_list", "count_select_item", "count_view_item",
    "count_search", "count_add_to_wishlist", "count_add_to_cart", "count_remove_from_cart",
    "count_view_cart", "count_begin_checkout", "count_add_payment_info", "count_purchase", "events",
    "distinct_items", "distinct_categories", "duration_s", "events_per_minute", "cart_rate",
    "max_item_views", "engagement_moving_average", "engagement_smoothed", "prev_sessions",
    "prev_purchase_sessions", "hours_since_prev_session", "has_prev_session", "pending_items",
    "pending_touches", "hour_sin", "hour_cos",
]
VIEW, WISH, CART, BUY = 3, 5, 6, 11
WEIGHT = {VIEW: 1.0, WISH: 2.0, CART: 3.0}


def session_events(rng, intent):
    """Kinds and gaps of one session, up to and including its first purchase (if any)."""
    kinds, gaps = [], []
    n = int(rng.geometric(0.25))
    for i in range(n):
        r = rng.random()
        k = VIEW if r < 0.86 else (WISH if r < 0.91 else CART)
        if k == CART and rng.random() < intent:
            kinds.append(k)
            gaps.append(float(rng.exponential(60.0)) if i else 0.0)
            kinds.append(BUY)
            gaps.append(float(rng.exponential(60.0)))
            return kinds, gaps
        kinds.append(k)
        gaps.append(float(rng.exponential(60.0)) if i else 0.0)
    if rng.random() < 0.04 * intent:
        kinds.append(BUY)
        gaps.append(float(rng.exponential(60.0)))
    return kinds, gaps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window", type=int, default=32)
    args = ap.parse_args()
    rng = np.random.default_rng(1234)  # the data is fixed; --seed only changes the split
    W, F, A = args.window, len(SEQUENCE_FEATURES), len(AGGREGATE_FEATURES)
    rows = {s: {k: [] for k in ("seq", "len", "prefix", "agg", "label", "session", "user")}
            for s in ("train", "val", "test")}
    order = sorted(range(args.users), key=lambda u: hashlib.sha256(f"{args.seed}:{u}".encode()).hexdigest())
    split_of = {}
    for rank, u in enumerate(order):
        split_of[u] = "train" if rank < 0.7 * args.users else ("val" if rank < 0.85 * args.users else "test")
    session_id = 0
    for u in range(args.users):
        intent = float(rng.beta(1.0, 3.0))
        prev_sessions = prev_buys = 0
        pending = 0
        hour = float(rng.uniform(0, 24))
        for _ in range(int(rng.integers(3, 30))):
            kinds, gaps = session_events(rng, intent)
            label = int(BUY in kinds)
            hours_since = float(rng.exponential(20.0)) if prev_sessions else 0.0
            feats, aggs = [], []
            elapsed = 0.0
            carts = 0
            counts = np.zeros(12)
            recent = []
            smoothed = 0.0
            touched = 0
            for i, (k, g) in enumerate(zip(kinds, gaps)):
                if k == BUY:
                    break
                elapsed += g
                carts += k == CART
                counts[k] += 1
                pend_hit = 1.0 if (pending and rng.random() < 0.1) else 0.0
                touched = max(touched, pend_hit)
                row = np.zeros(F, np.float32)
                row[k] = 1.0
                row[12] = math.log1p(g)
                row[13] = math.log1p(elapsed)
                row[14] = math.log1p(i)
                row[15] = float(i > 0 and rng.random() < 0.3)
                row[16] = float(i > 0 and rng.random() < 0.6)
                row[17] = math.log1p(1 + row[15])
                h = (hour + elapsed / 3600.0) % 24
                row[18], row[19] = math.sin(2 * math.pi * h / 24), math.cos(2 * math.pi * h / 24)
                row[21] = math.log1p(carts)
                row[22] = math.log1p(prev_sessions)
                row[23] = math.log1p(prev_buys)
                row[24] = math.log1p(hours_since)
                row[25] = pend_hit * (k == CART)
                row[26] = pend_hit * (k == WISH)
                row[27] = math.log1p(pending)
                row[28] = touched
                feats.append(row)
                w = WEIGHT[k]
                recent = (recent + [w])[-5:]
                smoothed = w if i == 0 else 0.3 * w + 0.7 * smoothed
                a = np.zeros(A, np.float32)
                a[:12] = counts
                a[12] = i + 1
                a[13] = i + 1 - counts[VIEW] * 0.3
                a[14] = max(1.0, a[13] * 0.6)
                a[15] = elapsed
                a[16] = (i + 1) / (elapsed / 60 + 1)
                a[17] = counts[CART] / max(1.0, counts[VIEW])
                a[18] = 1 + row[15]
                a[19] = sum(recent) / len(recent)
                a[20] = smoothed
                a[21], a[22], a[23] = prev_sessions, prev_buys, hours_since
                a[24] = float(prev_sessions > 0)
                a[25], a[26], a[27], a[28] = pending, touched, row[18], row[19]
                aggs.append(a)
            s = rows[split_of[u]]
            for k in range(1, len(feats) + 1):
                L = min(k, W)
                x = np.zeros((W, F), np.float32)
                x[:L] = np.stack(feats[k - L:k])
                if k > W:  # a window past W restarts: position and elapsed are still session-wide
                    pass
                s["seq"].append(x)
                s["len"].append(L)
                s["prefix"].append(k)
                s["agg"].append(aggs[k - 1])
                s["label"].append(label)
                s["session"].append(session_id)
                s["user"].append(u)
            session_id += 1
            prev_sessions += 1
            prev_buys += label
            pending = max(0, pending + int(counts[CART] + counts[WISH]) - label)
            hour = (hour + float(rng.exponential(20.0))) % 24
    summary = {"feature_version": 1, "window": W, "sequence_features": SEQUENCE_FEATURES,
               "aggregate_features": AGGREGATE_FEATURES, "synthetic": True, "seed": args.seed,
               "input": {"path": "synthetic", "sha256": "0" * 64, "rows": 0}, "counts": {}}
    dtypes = {"seq": np.float32, "len": np.int32, "prefix": np.int32, "agg": np.float32,
              "label": np.uint8, "session": np.int64, "user": np.int64}
    for split, d in rows.items():
        os.makedirs(os.path.join(args.out, split), exist_ok=True)
        for k, v in d.items():
            arr = np.asarray(v, dtype=dtypes[k])
            if k == "seq" and arr.size == 0:
                arr = arr.reshape(0, W, F)
            np.save(os.path.join(args.out, split, f"{k}.npy"), arr)
        summary["counts"][split] = {"samples": len(d["label"]), "sessions": len(set(d["session"])),
                                    "users": len(set(d["user"])), "positive_samples": int(sum(d["label"]))}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary["counts"]))


if __name__ == "__main__":
    main()
