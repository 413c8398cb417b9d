"""End-to-end test of the training path: a synthetic shop log (its own event types, session ids
on some events, prices, two malformed lines) through `python -m models.trainer train` with a tiny
model, 2 epochs and 2 seeds, then the engine's checks and `shopper-intent eval` on the outputs,
a log without signal, whose model must not be shipped, and a log too small to train, which must
fail with a clear message.

    python -m models.tests.e2e [path/to/shopper-intent]    (from the repository root)
"""

import json
import os
import shutil
import signal
import subprocess
import sys

from models.trainer import synthlog

OUT = os.path.join("build", "test-train")


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else "target/native/shopper-intent"
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    log = os.path.join(OUT, "events.jsonl")
    synthlog.write(log, users=120, seed=0)
    out = os.path.join(OUT, "shop")
    results = []

    def check(what, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + detail}", flush=True)

    def run(args, **kw):
        return subprocess.run(args, capture_output=True, text=True, **kw)

    # Hidden 16 x 2 members (32 in the graph): the fold of members is exercised.
    train = run([sys.executable, "-W", "ignore", "-m", "models.trainer", "train", "--data", log, "--out", out, "--name", "shop",
                 "--seeds", "0,1", "--epochs", "2", "--hidden", "16", "--members", "2", "--chunk", "16", "--boot", "50", "--cli", cli])
    with open(os.path.join(OUT, "train.log"), "w") as f:
        f.write(train.stdout + train.stderr)
    check("train exits 0", train.returncode == 0, train.stderr[-3000:])
    if train.returncode != 0:
        return finish(results)
    check("progress per seed and per epoch is printed", "seed 1 done" in train.stdout and "epoch 2/2" in train.stdout)
    files = ["shop.onnx", "shop.json", "shop.bin", "results.json", "REPORT.md",
             "fixtures/shop/x.npy", "fixtures/shop/p.npy", "fixtures/shop/len.npy",
             "build/seed0/shop.json", "build/seed1/shop.json", "build/seed1/shop.bin",
             "plots/roc.png", "plots/pr.png", "plots/reliability.png", "plots/auc_by_prefix.png", "plots/gains.png"]
    missing = [f for f in files if not os.path.exists(os.path.join(out, f))]
    check("every output exists", not missing, f"missing {missing}")
    man = json.load(open(os.path.join(out, "shop.json")))
    check("the manifest is format 2 with the shop's own kinds",
          man["format"] == 2 and {"size_guide_open", "coupon_applied"} <= set(man["kinds"]) and man["model"]["hidden"] == 32,
          json.dumps({k: man[k] for k in ("format", "kinds")}))
    conv = run([cli, "convert", "--check", "--model", os.path.join(out, "shop.json")])
    check("shopper-intent convert --check passes", conv.returncode == 0, conv.stderr)
    chk = run([sys.executable, "-m", "models.trainer", "check", "--model", os.path.join(out, "shop.json"), "--uci", ""])
    check("the torch-free check passes", chk.returncode == 0, chk.stdout + chk.stderr)
    report = open(os.path.join(out, "REPORT.md")).read()
    check("the report has a verdict", "on your data" in report and any(w in report for w in ("beats", "matches", "loses to")))
    check("the report gives the malformed lines and the UTC assumption",
          "**2 malformed**" in report and "line 51" in report and "Time zone assumed" in report)
    check("the report counts the events with each field, and names no key as unread in a log that has none",
          "- Fields: of " in report and " have an item, " in report and "Keys not read" not in report)
    res = json.load(open(os.path.join(out, "results.json")))
    check("results have every model for both seeds",
          all(set(m["per_seed"]) == {"0", "1"} for m in res["models"].values()) and "lightgbm" in res["models"]
          and "lstm_single" in res["models"], str(list(res["models"])))
    check("eval on the shipped files reproduces the trainer's seed-0 figures", res["native_eval"]["max_abs_diff"] < 5e-4,
          json.dumps(res["native_eval"]))
    ev = run([cli, "eval", "--input", log, "--model", os.path.join(out, "shop.json"), "--split", "all", "--bootstrap", "20"])
    check("shopper-intent eval --split all runs", ev.returncode == 0 and "model" in ev.stdout, ev.stderr)
    ev2 = run([cli, "eval", "--input", log, "--model", os.path.join(out, "build", "seed{seed}", "shop.json"), "--seed", "0,1",
               "--bootstrap", "20"])
    check("shopper-intent eval --seed 0,1 runs on every seed's model", ev2.returncode == 0 and "mean over seeds" in ev2.stdout, ev2.stderr)

    # The report's headline names a baseline above the LSTM on test users even when the verdict
    # (against the baseline validation chose) is "matches", and a session AUC at 1 is pointed out:
    # the report written again from this run's results, with those two facts put in.
    from models.trainer import report as report_mod
    forced = json.loads(json.dumps(res))
    other = next(n for n in forced["paired_online_auc"] if n != forced["verdict"]["baseline"])
    forced["paired_online_auc"][other].update(mean_diff=-0.05, ci_mean=[-0.08, -0.02])
    forced["models"]["lstm"]["mean"]["session_auc"].update(mean=1.0, ci=[1.0, 1.0])
    redo = os.path.join(OUT, "redo")
    shutil.copytree(out, redo)
    report_mod.write(redo, forced)
    headline = next(l for l in open(os.path.join(redo, "REPORT.md")) if l.startswith("**") and "on your data" in l)
    named = report_mod.NAMES.get(other, other)
    check("a baseline above the LSTM on test users is in the verdict's headline, and a session AUC at 1 is pointed out",
          (", but " in headline or ", and " in headline) and named in headline.split(" on your data", 1)[1]
          and "above it on test users" in headline
          and "**Session AUC at 1** (LSTM" in open(os.path.join(redo, "REPORT.md")).read(), headline)

    # A copy of this folder, with its good model, for a later run that ships none.
    keep = os.path.join(OUT, "keep")
    shutil.copytree(out, keep)

    # A second run into the same folder, under another name and with one seed: nothing of the
    # first run that this one did not rewrite stays beside it.
    again = run([sys.executable, "-W", "ignore", "-m", "models.trainer", "train", "--data", log, "--out", out, "--name", "shop2",
                 "--seeds", "0", "--epochs", "1", "--hidden", "4", "--boot", "20", "--cli", cli])
    stale = [f for f in ("shop.json", "shop.bin", "shop.onnx", "fixtures/shop", "build/seed1", "build/preds/seed1.npz")
             if os.path.exists(os.path.join(out, f))]
    shipped = os.path.exists(os.path.join(out, "shop2.json"))
    check("a re-run replaces the previous run's files and says so",
          not stale and "holds a previous run" in again.stdout
          and ((again.returncode == 0 and shipped) or (again.returncode == 1 and "is not shipped" in again.stderr and not shipped)),
          f"exit {again.returncode}, stale {stale}, shipped {shipped}: {again.stderr[-1500:]}")

    # A run stopped part-way (Ctrl-C once it has featurized its first seed) leaves the previous run
    # whole, and says where its own files are; the next run removes them.
    kept = {f: open(os.path.join(out, f), "rb").read() for f in ("shop2.json", "shop2.bin", "REPORT.md", "results.json")
            if os.path.exists(os.path.join(out, f))}
    stopped = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "models.trainer", "train", "--data", log, "--out", out,
                                "--name", "shop3", "--seeds", "0,1", "--epochs", "1", "--hidden", "4", "--boot", "20", "--cli", cli],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # A shell's background job (nohup ... &) starts with SIGINT ignored, and
                               # Python keeps it ignored: the run would never see Ctrl-C.
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in stopped.stdout:
        if "featurize seed 1" in line:
            stopped.send_signal(signal.SIGINT)
            break
    _, stopped_err = stopped.communicate(timeout=300)
    same = {f: open(os.path.join(out, f), "rb").read() == b for f, b in kept.items()}
    check("a run stopped part-way leaves the previous run whole and says where its own files are",
          stopped.returncode == 130 and "holds the previous run as it was" in stopped_err and "Traceback" not in stopped_err
          and len(kept) >= 2 and all(same.values()) and not os.path.exists(os.path.join(out, "shop3.json")),
          f"exit {stopped.returncode}, unchanged {same}: {stopped_err[-1500:]}")

    for args, needle in ((["--seeds", "x"], "seeds are comma-separated"), (["--hidden", "0"], "is below 1"), (["--boot", "0"], "is below 10")):
        bad_arg = run([sys.executable, "-m", "models.trainer", "train", "--data", log, "--out", os.path.join(OUT, "bad"), "--cli", cli] + args)
        check(f"{' '.join(args)} is refused before any work", bad_arg.returncode == 2 and needle in bad_arg.stderr
              and "Traceback" not in bad_arg.stderr and not os.path.exists(os.path.join(OUT, "bad")), bad_arg.stderr[-1000:])

    # A log whose purchases follow nothing the events say: the LSTM must not be shipped. With this
    # log its best epoch's validation AUC is 0.517, above 0.5 by chance (the earlier check, that
    # AUC above 0.5, shipped it); its interval, [0.399, 0.632], reaches well below 0.5. The guard
    # is a test, not a proof: one of six such logs tried (seeds 2-7) still passed it, its best
    # epoch chosen on the users that judge it.
    noise = os.path.join(OUT, "noise.jsonl")
    write_noise_log(noise, users=400, seed=7)
    # It runs into the copy of the first run's folder: the good model there is set aside, not lost.
    nothing = run([sys.executable, "-W", "ignore", "-m", "models.trainer", "train", "--data", noise, "--out", keep,
                   "--name", "shop", "--seeds", "0", "--epochs", "3", "--hidden", "8", "--boot", "200", "--cli", cli])
    check("a model trained on a log without signal is not shipped, and the run says why",
          nothing.returncode == 1 and "is not shipped" in nothing.stderr and "no better than chance" in nothing.stderr
          and not os.path.exists(os.path.join(keep, "shop.json")) and "Traceback" not in nothing.stderr,
          f"exit {nothing.returncode}: {nothing.stderr[-1500:]}")
    aside = [f for f in ("shop.json", "shop.bin", "shop.onnx", "shop") if os.path.exists(os.path.join(keep, "build", "previous-model", f))]
    check("the previous run's model is kept in build/previous-model/, and the run and its report say so",
          aside == ["shop.json", "shop.bin", "shop.onnx", "shop"] and "kept in" in nothing.stdout
          and "build/previous-model/" in open(os.path.join(keep, "REPORT.md")).read(), f"{aside}: {nothing.stdout[-1500:]}")

    # --allow-small on a log of the minimum size or more changes nothing in its report.
    enough = run([sys.executable, "-W", "ignore", "-m", "models.trainer", "train", "--data", log, "--out", os.path.join(OUT, "enough"),
                  "--name", "enough", "--seeds", "0", "--epochs", "1", "--hidden", "4", "--boot", "20", "--allow-small", "--cli", cli])
    enough_report = os.path.join(OUT, "enough", "REPORT.md")
    check("--allow-small on a log that is large enough adds no warning to its report",
          enough.returncode in (0, 1) and os.path.exists(enough_report) and "Too small a log" not in open(enough_report).read(),
          f"exit {enough.returncode}: {enough.stderr[-1500:]}")

    # A log under the minimum size, trained all the same: its report says so at the top.
    small = os.path.join(OUT, "small.jsonl")
    synthlog.write(small, users=40, seed=3)
    smallrun = run([sys.executable, "-W", "ignore", "-m", "models.trainer", "train", "--data", small, "--out", os.path.join(OUT, "small"),
                    "--name", "small", "--seeds", "0", "--epochs", "1", "--hidden", "4", "--boot", "20", "--allow-small", "--cli", cli])
    small_report = os.path.join(OUT, "small", "REPORT.md")
    check("a log trained with --allow-small gets a report that says it is too small",
          smallrun.returncode in (0, 1) and "Traceback" not in smallrun.stderr and os.path.exists(small_report)
          and "**Too small a log:**" in open(small_report).read() and "split has" in open(small_report).read(),
          f"exit {smallrun.returncode}: {smallrun.stderr[-1500:]}")

    tiny = os.path.join(OUT, "tiny.jsonl")
    with open(tiny, "w") as f:
        for i in range(5):
            f.write(json.dumps({"user": f"u{i}", "ts": 1717200000000 + i, "type": "view_item"}) + "\n")
        f.write(json.dumps({"user": "u0", "ts": 1717200000100, "type": "purchase"}) + "\n")
    bad = run([sys.executable, "-m", "models.trainer", "train", "--data", tiny, "--out", os.path.join(OUT, "tiny"), "--seeds", "0", "--cli", cli])
    check("a log too small to train stops with a clear message",
          bad.returncode != 0 and "too small" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr[-2000:])
    return finish(results)


def write_noise_log(path, users, seed):
    """One session per user, 3 to 12 events of random kinds 10 s apart, and a purchase after them
    for a random 30% of users: whether a session buys is independent of its events."""
    import random

    rng = random.Random(seed)
    kinds = ["view_item", "add_to_cart", "search", "page_view", "size_guide_open"]
    with open(path, "w") as f:
        for u in range(users):
            ts = 1717200000000 + u * 86_400_000
            for _ in range(rng.randint(3, 12)):
                ts += 10_000
                f.write(json.dumps({"user": f"u{u}", "ts": ts, "type": rng.choice(kinds), "item": f"i{rng.randint(0, 30)}"}) + "\n")
            if rng.random() < 0.3:
                f.write(json.dumps({"user": f"u{u}", "ts": ts + 10_000, "type": "purchase", "item": "i0"}) + "\n")


def finish(results):
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
