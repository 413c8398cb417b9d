"""What the training run refuses to ship, its verdict on undefined figures, what a re-run into the
same folder removes, and the arguments it refuses before any work."""

import argparse
import json
import os
import shutil
import tempfile
import unittest

from models.trainer import compare
from models.trainer.__main__ import at_least, seed_list
from models.trainer.pipeline import RUN_DIR, check_name, commit, data_section, previous_run, relocated, set_aside, unusable


class ShipTest(unittest.TestCase):
    def test_a_model_no_better_than_chance_or_flattened_is_not_shipped(self):
        self.assertIsNone(unusable({"val_online_auc": 0.61, "calibration": {"a": 0.8}}))
        self.assertIn("no better than chance", unusable({"val_online_auc": 0.5, "calibration": {"a": 0.8}}))
        self.assertIn("no better than chance", unusable({"val_online_auc": float("nan"), "calibration": {"a": 0.8}}))
        self.assertIn("same score", unusable({"val_online_auc": 0.6, "calibration": {"a": 0.0}}))
        # The best epoch's validation AUC above 0.5 is not enough: its interval must clear 0.5.
        ok = {"val_online_auc": 0.56, "val_online_auc_ci": [0.53, 0.59], "calibration": {"a": 0.8, "val_logit_sd": 0.4}}
        self.assertIsNone(unusable(ok))
        self.assertIn("reaches 0.5", unusable(dict(ok, val_online_auc_ci=[0.49, 0.62])))
        self.assertIn("reaches 0.5", unusable(dict(ok, val_online_auc_ci=[float("nan"), float("nan")])))
        # An interval below 0.5 is no "reaching": the model ranks the wrong way round.
        below = unusable(dict(ok, val_online_auc=0.305, val_online_auc_ci=[0.134, 0.391]))
        self.assertIn("below 0.5", below)
        self.assertNotIn("reaches", below)
        # A positive slope that still flattens every score to nearly one value; a rare purchase
        # (scores of 0.001 give or take 0.0005) is not flat.
        self.assertIn("same score", unusable(dict(ok, calibration={"a": 1e-4, "val_logit_sd": 2e-4})))
        self.assertIsNone(unusable(dict(ok, calibration={"a": 0.9, "val_logit_sd": 0.5})))

    def test_an_undefined_difference_is_no_verdict(self):
        v = compare.verdict({"ci_mean": [float("nan"), float("nan")], "mean_diff": float("nan")}, "prior")
        self.assertIn("cannot be compared", v["sentence"])
        self.assertEqual(compare.verdict({"ci_mean": [0.01, 0.03], "mean_diff": 0.02}, "lightgbm")["word"], "beats")
        matches = compare.verdict({"ci_mean": [-0.01, 0.03], "mean_diff": 0.01}, "lightgbm")
        self.assertEqual(matches["word"], "matches")
        self.assertIn("no clear difference", matches["sentence"], "a match says it is no shown equivalence")
        self.assertIn("-0.010 to +0.030", matches["sentence"])


def _files(out, made):
    for f, text in made.items():
        os.makedirs(os.path.dirname(os.path.join(out, f)), exist_ok=True)
        with open(os.path.join(out, f), "w") as fh:
            fh.write(text)


def _tree(out):
    return sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)


class RerunTest(unittest.TestCase):
    def test_a_complete_run_replaces_the_previous_one_whole(self):
        with tempfile.TemporaryDirectory() as out:
            _files(out, {f: "old" for f in ["intent.json", "intent.bin", "intent.onnx", "fixtures/intent/x.npy", "build/seed0/intent.json",
                                             "build/seed1/intent.json", "build/preds/seed1.npz", "build/select/h8_k1/intent.json",
                                             "REPORT.md", "plots/roc.png"]})
            _files(out, {"README.txt": "the user's", "notes/extra.md": "the user's", "fixtures/uci/p.npy": "another model's",
                         "build/uci/x": "another model's"})
            with open(os.path.join(out, "results.json"), "w") as f:
                json.dump({"name": "intent", "seeds": [0, 1]}, f)
            prev = previous_run(out)
            self.assertEqual(prev, ("intent", [0, 1]))
            self.assertIsNone(previous_run(os.path.join(out, "nowhere")))
            work = os.path.join(out, RUN_DIR)
            _files(work, {f: "new" for f in ["shop.json", "shop.bin", "shop.onnx", "fixtures/shop/y.npy", "build/seed0/shop.json",
                                              "results.json", "REPORT.md", "plots/roc.png"]})
            gone = commit(work, out, "shop", prev, shipped=True)
            self.assertEqual(_tree(out), ["README.txt", "REPORT.md", "build/seed0/shop.json", "build/uci/x", "fixtures/shop/y.npy",
                                          "fixtures/uci/p.npy", "notes/extra.md", "plots/roc.png", "results.json", "shop.bin", "shop.json",
                                          "shop.onnx"])
            for f in ["REPORT.md", "shop.json", "plots/roc.png"]:
                with open(os.path.join(out, f)) as fh:
                    self.assertEqual(fh.read(), "new", f)
            self.assertEqual(sorted(os.path.basename(p) for p in gone), ["intent", "intent.bin", "intent.json", "intent.onnx"])

    def test_a_run_that_ships_nothing_keeps_the_previous_model_aside(self):
        with tempfile.TemporaryDirectory() as out:
            _files(out, {f: f for f in ["intent.json", "intent.bin", "intent.onnx", "fixtures/intent/x.npy", "old.json", "build/seed0/a"]})
            work = os.path.join(out, RUN_DIR)
            _files(work, {"build/seed0/b": "", "REPORT.md": ""})
            kept = set_aside(out, ["intent", "other", "intent"], os.path.join(work, "build", "previous-model"))
            self.assertEqual(sorted(os.path.basename(p) for p in kept), ["intent", "intent.bin", "intent.json", "intent.onnx"])
            self.assertTrue(os.path.exists(os.path.join(out, "intent.json")), "copied: until the run is complete the model stays in place")
            commit(work, out, "intent", ("intent", [0]), shipped=False)
            aside = os.path.join(out, "build", "previous-model")
            self.assertEqual(sorted(os.listdir(aside)), ["intent", "intent.bin", "intent.json", "intent.onnx"])
            with open(os.path.join(aside, "intent.json")) as fh:
                self.assertEqual(fh.read(), "intent.json")
            self.assertFalse(os.path.exists(os.path.join(out, "intent.json")), "nothing passes for this run's model")
            # A second run that ships nothing carries what was set aside over; the next that ships drops it.
            _files(work, {"build/seed0/c": ""})
            self.assertEqual(len(set_aside(out, ["intent"], os.path.join(work, "build", "previous-model"))), 4)
            commit(work, out, "intent", ("intent", [0]), shipped=False)
            self.assertEqual(sorted(os.listdir(aside)), ["intent", "intent.bin", "intent.json", "intent.onnx"])
            _files(work, {"build/seed0/d": "", "intent.json": "new"})
            commit(work, out, "intent", ("intent", [0]), shipped=True)
            self.assertFalse(os.path.exists(aside))
            self.assertEqual(_tree(out), ["REPORT.md", "build/seed0/d", "intent.json", "old.json"])


    def test_a_commit_that_fails_half_way_puts_every_file_back(self):
        from unittest import mock
        from models.trainer import pipeline
        with tempfile.TemporaryDirectory() as out:
            _files(out, {f: "old" for f in ["intent.json", "intent.bin", "build/seed0/a", "build/seed1/b", "REPORT.md", "results.json"]})
            work = os.path.join(out, RUN_DIR)
            _files(work, {f: "new" for f in ["shop.json", "shop.bin", "build/seed0/c", "REPORT.md", "results.json"]})
            before = {f: open(os.path.join(out, f)).read() for f in _tree(out)}
            real, calls = shutil.move, []

            def failing(src, dst):
                calls.append(src)
                if len(calls) == 5:
                    raise OSError(28, "No space left on device")
                return real(src, dst)

            with mock.patch.object(pipeline.shutil, "move", failing):
                with self.assertRaises(OSError):
                    commit(work, out, "shop", ("intent", [0, 1]), shipped=True)
            self.assertEqual({f: open(os.path.join(out, f)).read() for f in _tree(out)}, before, "the previous run whole, this one in .run")
            self.assertFalse(os.path.exists(os.path.join(out, ".replaced")))

    def test_ctrl_c_during_a_commit_waits_for_its_end(self):
        import signal
        from unittest import mock
        from models.trainer import pipeline
        with tempfile.TemporaryDirectory() as out:
            _files(out, {f: "old" for f in ["intent.json", "build/seed1/b", "REPORT.md"]})
            work = os.path.join(out, RUN_DIR)
            _files(work, {f: "new" for f in ["shop.json", "build/seed0/c", "REPORT.md"]})
            real, calls = shutil.move, []

            def interrupted(src, dst):
                calls.append(src)
                if len(calls) == 2:
                    os.kill(os.getpid(), signal.SIGINT)
                return real(src, dst)

            with mock.patch.object(pipeline.shutil, "move", interrupted):
                with self.assertRaises(KeyboardInterrupt):
                    commit(work, out, "shop", ("intent", [0]), shipped=True)
            self.assertEqual(_tree(out), ["REPORT.md", "build/seed0/c", "shop.json"], "the whole run was put in place first")

    def test_names_that_would_overwrite_the_runs_files_or_another_models_are_refused(self):
        from models.trainer import data as D
        with tempfile.TemporaryDirectory() as out:
            _files(out, {"fixtures/uci/x.npy": ""})
            for bad in ("results", "REPORT", "a/b", "", ".hidden"):
                with self.assertRaises(D.DataError, msg=bad):
                    check_name(out, bad, None)
            with self.assertRaisesRegex(D.DataError, "belongs to another model"):
                check_name(out, "uci", ("intent", [0]))
            check_name(out, "uci", ("uci", [0]))
            check_name(out, "intent", ("intent", [0]))
        self.assertEqual(relocated({"a": ["/o/.run/x.json", 1], "b": "/o/.runner"}, "/o/.run", "/o"), {"a": ["/o/x.json", 1], "b": "/o/.runner"})

    def test_the_data_section_keeps_what_the_report_reads(self):
        summary = {"format": "ga4", "input_sha256": "ab", "lines": 10, "malformed_lines": 1, "malformed": [{"line": 3, "error": "x"}],
                   "malformed_purchase_lines": 1, "repeated_lines": 2, "events_not_on_page": {"page_view": 4},
                   "duplicate_rows": 5, "rows_without_browser_id": 6, "size_problems": ["20 users"], "splits": {},
                   "events_kept": 9, "events_with_item": 0, "events_with_price": 7, "keys_not_read": [{"key": "product_id", "lines": 9, "first_line": 1}]}
        d = data_section({0: summary}, "/some/where/events.jsonl")
        for key in ("malformed_purchase_lines", "repeated_lines", "events_not_on_page", "duplicate_rows", "rows_without_browser_id", "size_problems",
                    "events_kept", "events_with_item", "events_with_price", "keys_not_read"):
            self.assertEqual(d[key], summary[key], key)
        self.assertEqual(d["input"], "events.jsonl")


class ArgumentsTest(unittest.TestCase):
    def test_numbers_and_seeds_are_checked_before_any_work(self):
        self.assertEqual(seed_list("0,1, 2"), [0, 1, 2])
        for bad in ("x", "", "1,1", "-1"):
            with self.assertRaises(argparse.ArgumentTypeError, msg=bad):
                seed_list(bad)
        self.assertEqual(at_least(1)("3"), 3)
        for bad in ("0", "1.5", "many"):
            with self.assertRaises(argparse.ArgumentTypeError, msg=bad):
                at_least(1)(bad)
        self.assertEqual(at_least(0.0, float)("0.5"), 0.5)


if __name__ == "__main__":
    unittest.main()
