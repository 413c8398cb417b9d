"""Further evaluations appended to a model's REPORT.md: every `OUT/notes/*.md`, in name order.

`python -m models.trainer summarize --results DIR/results.json --title ...` writes such a note
from another run's results (a second shop's log, evaluation only), so that the shipped model's
card carries the figures of every evaluation, regenerated with it.
"""

import glob
import json
import os

from .baselines import NAMES


def ci(e, d=3):
    return f"{e['mean']:.{d}f} [{e['ci'][0]:.{d}f}, {e['ci'][1]:.{d}f}]"


def append(out, w):
    """Writes the notes of `out` through `w`, if there are any."""
    files = sorted(glob.glob(os.path.join(out, "notes", "*.md")))
    if not files:
        return
    w("## Further evaluations\n")
    for f in files:
        with open(f) as fh:
            w(fh.read().rstrip() + "\n")


def summarize(results_path, title, source):
    """A note from a run's results.json."""
    with open(results_path) as fh:
        r = json.load(fh)
    m = r["models"]
    seeds = ", ".join(map(str, r["seeds"]))
    v = r["verdict"]
    lines = [f"### {title}\n",
             f"{source} Run: `{r.get('command', '')}`; the full report stays with the run. Test users, mean over seeds {seeds}, "
             "95% user-bootstrap CI; the best baseline is chosen on validation.\n",
             f"**Verdict: {v['sentence']}:** paired difference {v['mean_diff']:+.4f} [{v['ci_mean'][0]:+.4f}, {v['ci_mean'][1]:+.4f}].\n"]
    lstm = r.get("lstm", {})
    sel = r.get("selection")
    if sel:
        c = sel["chosen"]
        lines.append(f"Model size chosen on validation: hidden {c['hidden']} x {c['members']} member(s) ({sel['rule']}).\n")
    elif lstm:
        lines.append(f"LSTM: hidden {lstm.get('hidden')} x {lstm.get('members')} member(s).\n")
    lines.append("| model | online ROC-AUC | PR-AUC | session AUC | validation AUC |")
    lines.append("|---|---|---|---|---|")
    order = sorted(m, key=lambda n: -m[n]["mean"]["online_auc"]["mean"])
    for n in order:
        e = m[n]["mean"]
        lines.append(f"| {NAMES.get(n, n)} | {ci(e['online_auc'])} | {ci(e['pr_auc'])} | {ci(e['session_auc'])} | {e['val_online_auc']['mean']:.3f} |")
    lines.append("")
    buckets = next(iter(m.values()))["mean"].get("auc_by_prefix", {})
    if buckets:
        keys = list(buckets)
        lines.append("Online ROC-AUC by prefix length (mean over seeds):\n")
        lines.append("| model | " + " | ".join(f"k = {k}" for k in keys) + " |")
        lines.append("|---|" + "---|" * len(keys))
        for n in order:
            b = m[n]["mean"].get("auc_by_prefix", {})
            lines.append(f"| {NAMES.get(n, n)} | " + " | ".join("-" if b.get(k) is None else f"{b[k]:.3f}" for k in keys) + " |")
        lines.append("")
    p = r["paired_online_auc"]
    lines.append("Paired differences, LSTM minus each baseline (mean over seeds): " + "; ".join(
        f"{NAMES.get(n, n)} {d['mean_diff']:+.4f} [{d['ci_mean'][0]:+.4f}, {d['ci_mean'][1]:+.4f}]" for n, d in p.items()) + ".\n")
    return "\n".join(lines)
