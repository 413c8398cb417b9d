"""A small synthetic event log in the generic JSONL format, for the end-to-end test of training.

It looks like a shop's own export: GA4 names mixed with the shop's own event types
(`size_guide_open`, `coupon_applied`), prices on item events, `session` ids on some users' events
(others are split at 30-minute gaps), one session longer than 100 events, and two malformed
lines. Purchases are likelier after a coupon or a cart, so a model has something to find. The
numbers mean nothing.
"""

import json

import numpy as np

T0 = 1_717_200_000_000  # 2024-06-01


def _session(rng, intent, long=False):
    """Event types of one session, ending with its purchase if any."""
    n = 110 + int(rng.integers(0, 30)) if long else 1 + int(rng.geometric(0.18))
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.55:
            out.append("view_item")
        elif r < 0.65:
            out.append("search")
        elif r < 0.75:
            out.append("size_guide_open")
        elif r < 0.85:
            out.append("add_to_cart")
        elif r < 0.90:
            out.append("coupon_applied")
        else:
            out.append("page_view")
    signal = sum(t in ("coupon_applied", "add_to_cart", "size_guide_open") for t in out[-6:])
    if rng.random() < min(0.9, intent * (0.3 + 0.25 * signal)):
        out.append("purchase")
    return out


def events(users=120, seed=0):
    rng = np.random.default_rng(seed)
    for u in range(users):
        intent = float(rng.beta(1.5, 2.5))
        with_ids = u % 2 == 0
        t = T0 + int(rng.integers(0, 86_400_000))
        for s in range(int(rng.integers(2, 5))):
            kinds = _session(rng, intent, long=(u == 3 and s == 0))
            for k in kinds:
                t += int(rng.exponential(40_000)) + 1000
                e = {"user": f"u{u}", "ts": t, "type": k}
                if k in ("view_item", "add_to_cart", "size_guide_open"):
                    item = int(rng.integers(0, 40))
                    e.update(item=f"sku-{item}", category=f"c{item % 6}", price=round(10 + 3.5 * item, 2))
                if k == "add_to_cart":
                    e["quantity"] = 1 + int(rng.integers(0, 2))
                if with_ids:
                    e["session"] = f"u{u}-s{s}"
                yield e
            t += int(rng.integers(2, 48)) * 3_600_000


def write(path, users=120, seed=0):
    lines = [json.dumps(e) for e in events(users, seed)]
    lines.insert(5, '{"user": "u0", "ts": "not a time", "type": "view_item"}')
    lines.insert(50, "this line is not JSON")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)
