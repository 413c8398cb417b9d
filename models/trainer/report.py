"""Writes OUT/REPORT.md from results.json and the shipped manifest. The prose is here; every
number comes from those files."""

import json
import os
import shlex

from . import notes

from .baselines import NAMES
from .metrics import PREFIX_BUCKETS, bucket_name
from .plots import FILES

ORDER = ["lstm", "lstm_single", "lightgbm", "lightgbm_counts", "logistic_regression", "dense_network", "session_length", "prior"]


def undefined_sentence(res):
    """Says how many bootstrap replicates drew test users of one class only (ROC-AUC undefined)."""
    counts = [f.get("undefined_replicates") for m in res["models"].values() for f in m["per_seed"].values()]
    if not counts or None in counts:
        return ""  # results written before the count was kept
    n, b = max(counts), res["bootstrap"]["resamples"]
    if n == 0:
        return "Every replicate drew test users of both classes."
    return (f"In up to {n} of {b} replicates of a seed ({100 * n / b:.1f}%) the test users drawn had samples of one class "
            "only, so ROC-AUC was undefined there: the intervals are over the other replicates, and with this few buying "
            "users they are unreliable (likely too narrow).")


def ci(e, d=3):
    lo, hi = e["ci"]
    return f"{e['mean']:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"


def pct(a, b):
    return f"{100 * a / b:.1f}%" if b else "-"


def write(out, res, shown=None):
    """REPORT.md in `out` from the files there; paths in its text name `shown` (where `out`'s files
    will be once the run is complete), `out` itself by default."""
    shown = out if shown is None else shown
    name = res["name"]
    shipped = res.get("shipped", True)
    # A model this run refused to ship is described from its seed's folder.
    man_path = os.path.join(out, f"{name}.json") if shipped else os.path.join(out, "build", f"seed{res['seeds'][0]}", f"{name}.json")
    with open(man_path) as f:
        man = json.load(f)
    mods = res["models"]
    order = [k for k in ORDER if k in mods]
    seeds = res["seeds"]
    d = res["data"]
    cfg = res["lstm"]
    v = res["verdict"]
    L = []
    w = L.append

    w(f"# {name}: purchase-intent model report\n")
    fixed_test = bool(d.get("split"))
    w(f"Written by `python -m models.trainer train` ({res.get('command') or ''}). Every figure is on test users" + (
      ", the same users for every seed and never used for any choice (the choices made on the mean over seeds, the best "
      "baseline and the model size, see validation users only)" if fixed_test else
      "; no seed's test users were used for that seed's choices (an earlier split: choices made on the mean over seeds, the "
      "best baseline and the model size, do see validation users of one seed that are test users of another)")
      + ". Numbers come from `results.json`.\n")
    w("## Verdict\n")
    # The best baseline is chosen on validation users, where a baseline tuned on them (LightGBM's
    # boosting rounds) can look better than it is: when another one is above the LSTM on test, the
    # headline says so too (a "matches" alone would hide a loss).
    above = [(n, p) for n, p in res["paired_online_auc"].items()
             if n != v["baseline"] and p["ci_mean"][1] is not None and p["ci_mean"][1] < 0]
    headline = v['sentence'][0].upper() + v['sentence'][1:]
    if above:
        names = [NAMES.get(n, n) for n, _ in above]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = "scores" if len(names) == 1 else "score"
        headline += (f", and {listed} also {verb} above it on test users (below)" if v.get("word") == "loses to"
                     else f", but {listed} {verb} above it on test users (below)")
    w(f"**{headline}.** Mean over seeds {', '.join(map(str, seeds))} of the paired "
      f"difference in online ROC-AUC, LSTM - {NAMES.get(v['baseline'], v['baseline'])}: {v['mean_diff']:+.4f}, 95% CI "
      f"[{v['ci_mean'][0]:+.4f}, {v['ci_mean'][1]:+.4f}] (beats: interval above 0; loses: below 0; matches otherwise, which "
      "means no difference was found, not that the two are shown equal). "
      "The best baseline is the one with the highest mean validation online AUC.\n")
    # The choice is made on validation users; when another baseline did better on the test users,
    # say so beside the verdict (for the reader, not for any choice).
    chosen_test = mods[v["baseline"]]["mean"]["online_auc"]["mean"] if v.get("baseline") in mods else None
    stronger = [n for n in res.get("paired_online_auc", {}) if n != v.get("baseline") and chosen_test is not None
                and mods[n]["mean"]["online_auc"]["mean"] > chosen_test]
    if stronger:
        n = max(stronger, key=lambda k: mods[k]["mean"]["online_auc"]["mean"])
        p = res["paired_online_auc"][n]
        w(f"On the test users another baseline scored higher than the chosen one: {NAMES.get(n, n)}, "
          f"{mods[n]['mean']['online_auc']['mean']:.3f} against {chosen_test:.3f}. The LSTM's paired difference to it: "
          f"{p['mean_diff']:+.4f} [{p['ci_mean'][0]:+.4f}, {p['ci_mean'][1]:+.4f}].\n")
    if d.get("size_problems"):
        w("**Too small a log:** it has fewer users, sessions or purchases than `shopper-intent featurize` asks for to split, "
          "train and evaluate (" + "; ".join(d["size_problems"]) + "); the run went on because of `--allow-small`. The figures "
          "and the verdict below come from so few users that they mean little.\n")
    if not shipped:
        w(f"**Not shipped:** seed {seeds[0]}'s LSTM learned nothing usable ({res['unusable'][str(seeds[0])]}). No `{name}.json` / `.bin` / `.onnx` "
          f"was written to this folder; the model stays in `build/seed{seeds[0]}/` for inspection. A larger log, more epochs or "
          "another order of `--seeds` may help." + (
              f" The previous run's model ({', '.join(f'`{f}`' for f in res['set_aside'])}) is kept in `build/previous-model/`."
              if res.get("set_aside") else "") + "\n")
    others = {S: why for S, why in (res.get("unusable") or {}).items() if S != str(seeds[0])}
    if others:
        w("**Warning:** the LSTM learned nothing usable for " + "; for ".join(f"seed {S} ({why})" for S, why in others.items()) +
          ". Its figures are in the means below.\n")
    if above:
        w("**But:** on test users " + "; ".join(
            f"{NAMES.get(n, n)} scores above the LSTM (LSTM - {NAMES.get(n, n)}: {p['mean_diff']:+.4f} [{p['ci_mean'][0]:+.4f}, "
            f"{p['ci_mean'][1]:+.4f}])"
            for n, p in above) + ". The best baseline was chosen on validation users, where a baseline tuned on them can look "
          "better than it is.\n")
    lm = mods["lstm"]["mean"]
    w(f"- LSTM online ROC-AUC {ci(lm['online_auc'])}, PR-AUC {ci(lm['pr_auc'])}, session AUC {ci(lm['session_auc'])} "
      f"(mean over {len(seeds)} seed(s), 95% user-bootstrap CI).")
    # A session AUC at 1 means the last event before a purchase all but gives it away (a checkout
    # step the page sends only on the way to paying, or a leak in the export): true, and of no use
    # for personalization, which acts earlier.
    sure = [NAMES.get(n, n) for n in order if n != "prior" and (mods[n]["mean"]["session_auc"]["ci"][0] or 0) >= 0.99]
    if sure:
        w(f"- **Session AUC at 1** ({', '.join(sure)}): the events just before a purchase all but give it away, as a "
          "checkout step the page sends only on the way to paying does (or a purchase leaking into another event of the "
          "export: check). The figures that matter for acting during a visit are the online AUC and the AUC by prefix "
          "length below.")
    w(f"- {'Shipped' if shipped else 'Not shipped'}: `{name}.onnx` / `{name}.json` / `{name}.bin` (seed {seeds[0]}'s model): hidden {man['model']['hidden']} "
      f"({cfg['members']} member(s) of {cfg['hidden']}), head {man['model']['head'] or 'linear'}, decision threshold "
      f"{man['threshold']:.4f}, segments medium >= {man['segments']['medium']:.4f}, high >= {man['segments']['high']:.4f}.\n")

    w("## Data\n")
    w(f"- Log `{d['input']}` ({d['format']}), sha256 `{d['input_sha256']}`: {d['lines']} lines, "
      f"**{d['malformed_lines']} malformed** (skipped), {d.get('refused_events', 0)} refused by the window (out of order), "
      f"{d.get('events_outside_window', 0)} outside the time window.")
    for b in d.get("malformed") or []:
        w(f"  - line {b.get('line')}: {b.get('error')}")
    if d.get("malformed_purchase_lines"):
        w(f"- **{d['malformed_purchase_lines']} of the malformed lines are purchases:** their sessions were read without that "
          "purchase, as sessions where nothing was bought.")
    if d.get("repeated_lines"):
        w(f"- {d['repeated_lines']} lines repeat an earlier line exactly; each was read as an event. If the export repeats "
          "rows, remove the repeats and train again.")
    unseen = d.get("events_not_on_page") or {}
    if unseen or d.get("duplicate_rows") or d.get("rows_without_browser_id"):
        w(f"- GA4 export: {sum(unseen.values())} events the widget never sees left out ("
          + (", ".join(f"{k} {v}" for k, v in sorted(unseen.items(), key=lambda kv: (-kv[1], kv[0]))) or "none")
          + f"), {d.get('duplicate_rows', 0)} repeated rows read once, {d.get('rows_without_browser_id', 0)} rows without a browser id "
          "(cookieless pings) left out.")
    if d.get("utc_offset_assumed"):
        w(f"- **Time zone assumed:** the shop's local time was taken as UTC{d['utc_offset_min'] / 60:+g} h (no `--utc-offset-min` "
          "given); it only moves the hour-of-day features. Pass `UTC_OFFSET_MIN=...` to `make train` to set it.")
    else:
        w(f"- Shop-local time: UTC{d['utc_offset_min'] / 60:+g} h (given).")
    w(f"- Sessions: {d['sessions_from']}.")
    if d.get("events_kept"):
        w(f"- Fields: of {d['events_kept']} events kept, {d.get('events_with_item', 0)} have an item, "
          f"{d.get('events_with_category', 0)} a category, {d.get('events_with_price', 0)} a price, "
          f"{d.get('events_with_quantity', 0)} a quantity, {d.get('events_with_session', 0)} a session id.")
    unread = d.get("keys_not_read") or []
    if unread:
        w("- **Keys not read:** " + ", ".join(f"`{k['key']}` ({k['lines']} line{'' if k['lines'] == 1 else 's'}, first at line {k['first_line']})" for k in unread[:5])
          + (f" and {len(unread) - 5} more" if len(unread) > 5 else "") + ". The reader takes `user`, `ts`, `type`, `item`, "
          "`category`, `price`, `quantity` and `session`, and no other key: if one of these keys holds an item, a category, a "
          "price or a quantity, rename it and train again (this model learned without it).")
    t = d.get("total") or {}
    if t:
        w(f"- {t['users']} users, {t['events']} events, {t['sessions']} sessions, {t['positive_sessions']} with a purchase "
          f"({pct(t['positive_sessions'], t['sessions'])}); {t['sessions_starting_with_purchase']} start with the purchase "
          f"(no prefix to score); {t['samples']} prefix samples, {pct(t['positive_samples'], t['samples'])} from purchasing sessions.")
    w("- Event types in the log (Shopify, Segment and Taobao names counted as the GA4 kinds they map to): " + ", ".join(f"`{k}` {n}" for k, n in d.get("event_types") or []) + ".")
    w(f"- Kinds the model reads, in column order: {', '.join(f'`{k}`' for k in d['kinds'] if k != 'purchase')}; `purchase` labels "
      "the sessions and has no column of its own.")
    sp0 = d["splits_per_seed"][str(seeds[0])] or {}
    rule = d["split"] if fixed_test else 'sha256("seed:user"), 70/15/15'
    w(f"- Seed {seeds[0]} split by user ({rule}): " + "; ".join(
        f"{k} {c['users']} users, {c['sessions']} sessions, {c['samples']} samples ({pct(c['positive_samples'], c['samples'])} positive)"
        for k, c in sorted(sp0.items(), key=lambda kv: ["train", "val", "test"].index(kv[0]))) + ".\n")

    f = res["features"]
    w("## Features\n")
    w(f"Feature version {f['feature_version']}, computed by the engine's own Rust code (`shopper-intent featurize`), so the "
      f"browser feeds the model exactly these columns. The LSTM reads {len(f['sequence'])} columns per event: "
      + ", ".join(f"`{n}`" for n in f["sequence"]) + f". The tabular baselines read {len(f['aggregate'])} aggregates per prefix: "
      + ", ".join(f"`{n}`" for n in f["aggregate"]) + ".\n")

    w("## Protocol\n")
    w(f"- Seeds {', '.join(map(str, seeds))}: each reshuffles the users into train / validation" + (
      " (the test users stay the same)" if fixed_test else " / test") + ". Every model is fitted on "
      "train users; early stopping, hyper-parameters (C, boosting rounds), calibration, decision threshold, segments, the best "
      "baseline and the model size are chosen on validation users; test users are measured once.")
    w("- A sample is a prefix: the first k events of a session before its first purchase; its label is whether the session "
      "contains a purchase. The streaming model scores every prefix as the engine does, event by event from a zero state.")
    w(f"- LSTM: hidden {cfg['hidden']}, {cfg['members']} member(s), head {cfg['head'] or 'linear'}, Adam lr {cfg['lr']}, weight decay "
      f"{cfg['weight_decay']}, batch {cfg['batch']} sessions (grouped by length), truncated back-propagation in chunks of "
      f"{cfg['chunk']} events with the state carried, binary cross-entropy at every event (class weight {cfg['pos_weight']}), "
      f"at most {cfg['epochs']} epochs, early stopping on validation online AUC (patience {cfg['patience']}). Inputs "
      "standardised with training statistics; members, standardisation and Platt calibration are folded into one LSTM step.")
    w("- Baselines: prior (training rate), session length (score = k), logistic regression on ln(1+x)-transformed standardised "
      "aggregates (C from 1e-5 to 10 by decades, chosen on validation), LightGBM on the aggregates plus the current and "
      "previous event kinds (leaves and least samples per leaf 4 / 400, 15 / 50 or 63 / 20, and the rounds by early stopping, "
      "chosen on validation), LightGBM on the kind counts alone plus the same two kinds (the same trees; does the order add "
      "to the counts?), a dense network on the transformed aggregates (the same early-stopping loop as the LSTM). Each is "
      "calibrated by non-decreasing Platt scaling on validation; the ranking figures use its raw score.")
    chosen = baseline_choices(mods, seeds)
    if chosen:
        w("- Chosen on validation, per seed: " + "; ".join(chosen) + ".")
    w("- Figures: online ROC-AUC over every prefix; PR-AUC (average precision); session AUC (the last prefix of each session: "
      "for a buying session the one just before the purchase, a moment known only in hindsight); AUC by prefix length (no "
      "interval; the last buckets rest on few buying sessions); F1 / precision / recall / accuracy at the validation "
      "threshold (p >= threshold); Brier; ECE (10 equal-width bins: it says little when the scores crowd into the lowest "
      "bins). Non-decreasing Platt scaling can flatten a weak baseline to a constant (slope 0): its threshold figures, Brier "
      "and ECE are then a constant's, its ranking figures its raw score's. `shopper-intent eval` implements the same "
      "definitions.")
    joint = "shared by the seeds" in str(res["bootstrap"].get("unit", ""))
    w(f"- 95% CIs: {res['bootstrap']['resamples']} resamples " + (
      "of the log's users with replacement, one per replicate and shared by the seeds (" + (
          "the seeds share their test users" if fixed_test else "the seeds' test sets overlap: a user has the same count "
          "wherever it is a test user") + "); each seed weighs its test users by their counts" if joint else
      "of test users with replacement, each seed's independently (an earlier protocol: the seeds' overlapping test sets "
      "make its intervals for the mean too narrow)") + "; for the mean over seeds, replicate b is the mean of each seed's "
      "replicate b. Paired differences resample the same users for both models. Each interval is 95% on its own: with "
      "several baselines compared, one may fall outside by chance. The models are held fixed while the users are resampled: "
      "the interval leaves out how much training on other users would move the figures (the spread over seeds shows some "
      "of it). " + undefined_sentence(res) + "\n")

    w(f"## Results (test users, mean over seeds {', '.join(map(str, seeds))}, 95% CI)\n")
    w("| model | online ROC-AUC | PR-AUC | session AUC | F1 | precision | recall | accuracy | Brier | ECE | validation AUC |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for k in order:
        e = mods[k]["mean"]
        nm = f"**{NAMES[k]}**" if k == "lstm" else NAMES[k]
        w(f"| {nm} | {ci(e['online_auc'])} | {ci(e['pr_auc'])} | {ci(e['session_auc'])} | {ci(e['f1'])} | {ci(e['precision'])} | "
          f"{ci(e['recall'])} | {ci(e['accuracy'])} | {ci(e['brier'], 4)} | {e['ece']['mean']:.4f} | {e['val_online_auc']['mean']:.3f} |")
    w("")
    w("ECE has no interval: its estimate is biased upward (each bin's sampling noise counts as miscalibration), a "
      "resample's more so, so the bootstrap's percentiles can lie wholly above the estimate.\n")
    w("### AUC by prefix length (mean over seeds)\n")
    buckets = [bucket_name(lo, hi) for lo, hi in PREFIX_BUCKETS]
    w("| model | " + " | ".join(f"k = {b}" for b in buckets) + " |")
    w("|---|" + "---|" * len(buckets))
    for k in order:
        if k == "prior":
            continue
        a = mods[k]["mean"]["auc_by_prefix"]
        w(f"| {NAMES[k]} | " + " | ".join("-" if a[b] is None or a[b] != a[b] else f"{a[b]:.3f}" for b in buckets) + " |")
    w("")
    w("AUC@k, k = 1..10: `results.json` (`models.<name>.mean.auc_at_k`). Within one prefix length, session length is "
      "constant, so its AUC there is 0.5.\n")
    w("### Per seed (online ROC-AUC with its 95% CI)\n")
    w("| model | " + " | ".join(f"seed {S}" for S in seeds) + " | mean (sd over seeds) |")
    w("|---|" + "---|" * (len(seeds) + 1))
    for k in order:
        ps = mods[k]["per_seed"]
        cells = [f"{ps[str(S)]['online_auc']:.3f} [{ps[str(S)]['ci']['online_auc'][0]:.3f}, {ps[str(S)]['ci']['online_auc'][1]:.3f}]" for S in seeds]
        e = mods[k]["mean"]["online_auc"]
        w(f"| {NAMES[k]} | " + " | ".join(cells) + f" | {e['mean']:.3f} ({e['sd_seeds']:.3f}) |")
    w("")
    w("### Paired differences in online ROC-AUC (LSTM - baseline)\n")
    pb = res["paired_online_auc"][v["baseline"]]
    w(f"Against the best baseline, {NAMES[v['baseline']]}:\n")
    w("| seed | difference | 95% CI |")
    w("|---|---|---|")
    for S in seeds:
        p = pb["per_seed"][str(S)]
        w(f"| {S} | {p['diff']:+.4f} | [{p['ci'][0]:+.4f}, {p['ci'][1]:+.4f}] |")
    w(f"| mean | {pb['mean_diff']:+.4f} | [{pb['ci_mean'][0]:+.4f}, {pb['ci_mean'][1]:+.4f}] |")
    w("")
    w("Against every baseline (mean over seeds): " + "; ".join(
        f"{NAMES[n]} {p['mean_diff']:+.4f} [{p['ci_mean'][0]:+.4f}, {p['ci_mean'][1]:+.4f}]" for n, p in res["paired_online_auc"].items()) + ".\n")

    sel = res.get("selection")
    w("## Model size: validation AUC against measured cost\n")
    if sel:
        w(f"Validation users of seed(s) {', '.join(map(str, sel['seeds']))} only. Cost: `shopper-intent bench` engine.track "
          "p50 / p99 per event (native, this machine), weights file size. Rule: " + sel["rule"] + ".\n")
        w("| hidden | members | hidden in the graph | validation AUC | difference to the best (± SE) | track p50 (us) | track p99 (us) | weights (bytes) | note |")
        w("|---|---|---|---|---|---|---|---|---|")
        for r in sel["rows"]:
            mark = " **(chosen)**" if (r["hidden"], r["members"]) == (sel["chosen"]["hidden"], sel["chosen"]["members"]) else ""
            diff = f"{r['diff_to_best']:+.4f} ± {r['diff_se']:.4f}" if "diff_to_best" in r else ""
            w(f"| {r['hidden']}{mark} | {r['members']} | {r['hidden_total']} | {r['val_auc']:.4f} | {diff} | {r['track_p50_us']:.1f} | "
              f"{r['track_p99_us']:.1f} | {r['weights_bytes']} | " + (f"convert check failed: {r['convert_problem']}" if r.get("convert_problem") else "") + " |")
        w("")
    else:
        w("Not run (`--select`, or `SELECT=1` with `make train`): the settings above were given.\n")

    w("## The exported model\n")
    pm = man["metrics"]
    # The seed's parity record in results.json also holds what `shopper-intent convert` said, which
    # is measured after the manifest is written.
    par = {**pm.get("parity", {}),
           **res.get("models", {}).get("lstm", {}).get("per_seed", {}).get(str(seeds[0]), {}).get("parity", {})}
    w(f"- One LSTM step with named initializers (`w_ih [F,4H]`, `w_hh [H,4H]`, `b`, `head_*`), F = {man['model']['inputs']}, "
      f"H = {man['model']['hidden']}; weights file {man['model']['weights_bytes']} bytes (FNV-1a `{man['model']['weights_fnv1a64']}`).")
    w(f"- Parity: PyTorch over whole sessions vs onnxruntime step by step, max |diff| {par.get('whole_vs_onnxruntime_steps', float('nan')):.1e} "
      f"over {par.get('fixture_sessions')} fixture sessions (longest {par.get('fixture_longest')} events); `shopper-intent convert`: "
      f"{par.get('convert', 'not recorded')}.")
    ne = res.get("native_eval")
    if ne:
        w(f"- `shopper-intent eval --seed {seeds[0]}` on the shipped files reproduces the seed-{seeds[0]} test figures within {ne['max_abs_diff']:.1e} "
          f"(samples match: {ne['samples_match']}).")
    w(f"- Seed {seeds[0]} test figures recorded in the manifest: online AUC {pm['online_auc']:.4f}, PR-AUC {pm['pr_auc']:.4f}, "
      f"F1 {pm['f1']:.4f}, precision {pm['precision']:.4f}, recall {pm['recall']:.4f}, Brier {pm['brier']:.4f}, ECE {pm['ece']:.4f}.\n")

    w("## Plots\n")
    w(f"Seed-{seeds[0]} test users unless stated. In the gains chart a session is ranked by the highest score any of its "
      "prefixes reached; the reliability diagram uses score deciles.\n")
    for fn in FILES:
        w(f"![{fn[:-4]}](plots/{fn})")
    w("")
    notes.append(shown, w)  # the user's own notes, in the run's folder
    w("## Reproduce\n")
    tim = res["timing_s"]
    rep = res.get("reproduce") or {}
    w("From the folder the run was started in (`make train` runs from the repository's root), with the training environment "
      "(`make train` made it):\n")
    w("```\n" + (res.get("command") or "") + "\n"
      f"{rep.get('cli', 'target/native/shopper-intent')} eval --input {shlex.quote(rep.get('data', '<log>'))} "
      f"--model {shlex.quote(os.path.join(shown, 'build', 'seed{seed}', name + '.json'))} --seed {','.join(map(str, seeds))} "
      f"--bootstrap {res.get('bootstrap', {}).get('resamples', 1000)}\n```\n")
    w("`eval` gives the same point figures; its confidence intervals come from bootstrap resamples of its own (another "
      "random generator), so their ends differ from these by resampling noise, the more so the fewer the test users.\n")
    w(f"Run time: {tim['total'] / 60:.1f} min in all (" + ", ".join(f"{k} {v / 60:.1f} min" for k, v in tim.items() if k != "total") + ").")
    with open(os.path.join(out, "REPORT.md"), "w") as fh:
        fh.write("\n".join(L).rstrip() + "\n")


def baseline_choices(mods, seeds):
    """What validation chose for the tuned baselines, seed by seed, as report phrases."""
    out = []
    per = lambda name: [(mods[name]["per_seed"].get(str(S)) or {}).get("fit") or {} for S in seeds] if name in mods else []
    lr = per("logistic_regression")
    if lr and all("C" in f for f in lr):
        edge = sum(bool(f.get("at_grid_end")) for f in lr)
        out.append("logistic regression C " + ", ".join(f"{f['C']:g}" for f in lr)
                   + (f" ({edge} of {len(lr)} at an end of the grid)" if edge else ""))
    for name, label in (("lightgbm", "LightGBM"), ("lightgbm_counts", "LightGBM on counts")):
        fits = per(name)
        if fits and all("num_leaves" in f for f in fits):
            out.append(f"{label} leaves / samples / rounds " + ", ".join(
                f"{f['num_leaves']} / {f['min_child_samples']} / {f['best_iteration']}" for f in fits))
    return out
