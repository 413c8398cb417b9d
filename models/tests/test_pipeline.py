"""What the training run refuses to ship, its verdict on undefined figures, what a re-run into the
same folder removes, and the arguments it refuses before any work."""

import argparse
import json
import os
import tempfile
import unittest

from models.trainer import compare
from models.trainer.__main__ import at_least, seed_list
from models.trainer.pipeline import data_section, previous_run, remove_leftovers, set_aside, unusable


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


class RerunTest(unittest.TestCase):
    def test_a_rerun_removes_what_the_previous_run_wrote_and_this_one_does_not(self):
        with tempfile.TemporaryDirectory() as out:
            made = ["intent.json", "intent.bin", "intent.onnx", "fixtures/intent/x.npy", "build/seed0/intent.json",
                    "build/seed1/intent.json", "build/preds/seed1.npz", "build/select/h8_k1/intent.json", "README.txt"]
            for f in made:
                os.makedirs(os.path.dirname(os.path.join(out, f)), exist_ok=True)
                open(os.path.join(out, f), "w").close()
            with open(os.path.join(out, "results.json"), "w") as f:
                json.dump({"name": "intent", "seeds": [0, 1]}, f)
            prev = previous_run(out)
            self.assertEqual(prev, ("intent", [0, 1]))
            gone = remove_leftovers(out, prev, "shop", [0])
            left = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
            self.assertEqual(left, ["README.txt", "build/seed0/intent.json", "results.json"])
            self.assertEqual(len(gone), 7)
            self.assertEqual(remove_leftovers(out, None, "shop", [0]), [])
            self.assertIsNone(previous_run(os.path.join(out, "nowhere")))


    def test_a_run_that_ships_nothing_sets_the_previous_model_aside(self):
        with tempfile.TemporaryDirectory() as out:
            for f in ["intent.json", "intent.bin", "intent.onnx", "fixtures/intent/x.npy", "old.json"]:
                os.makedirs(os.path.dirname(os.path.join(out, f)), exist_ok=True)
                with open(os.path.join(out, f), "w") as fh:
                    fh.write(f)
            moved = set_aside(out, ["intent", "other", "intent"])
            self.assertEqual(sorted(os.path.basename(p) for p in moved), ["intent", "intent.bin", "intent.json", "intent.onnx"])
            aside = os.path.join(out, "build", "previous-model")
            self.assertEqual(sorted(os.listdir(aside)), ["intent", "intent.bin", "intent.json", "intent.onnx"])
            with open(os.path.join(aside, "intent.json")) as fh:
                self.assertEqual(fh.read(), "intent.json")
            self.assertFalse(os.path.exists(os.path.join(out, "intent.json")))
            # The leftovers of a run that ships nothing keep it; those of the next run that ships remove it.
            remove_leftovers(out, ("intent", [0]), "intent", [0], shipped=False)
            self.assertTrue(os.path.isdir(aside))
            self.assertEqual(set_aside(out, ["intent"]), [], "nothing to move: what was set aside stays")
            self.assertTrue(os.path.isdir(aside))
            remove_leftovers(out, ("intent", [0]), "intent", [0], shipped=True)
            self.assertFalse(os.path.exists(aside))


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
