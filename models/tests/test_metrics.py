"""Metrics and calibration against values computed by hand."""

import unittest

import numpy as np

from models.trainer import calibration as C
from models.trainer import metrics as M


class MetricsTest(unittest.TestCase):
    def test_auc_counts_ties_as_one_half(self):
        # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4) 1, (0.8>0.1) 1, (0.4=0.4) 1/2, (0.4>0.1) 1
        y = np.array([1, 1, 0, 0])
        p = np.array([0.8, 0.4, 0.4, 0.1])
        self.assertAlmostEqual(M.roc_auc(y, p), 3.5 / 4)
        self.assertTrue(np.isnan(M.roc_auc(np.ones(3), np.arange(3.0))))

    def test_average_precision(self):
        # scores 0.9 (y 1), 0.8 (y 0), 0.7 (y 1): AP = 1/2 * 1 + 1/2 * 2/3
        self.assertAlmostEqual(M.average_precision(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.7])), 0.5 + 1 / 3)
        # a tie enters together: both at 0.5 -> precision 1/2 at recall 1
        self.assertAlmostEqual(M.average_precision(np.array([1, 0]), np.array([0.5, 0.5])), 0.5)

    def test_threshold_brier_ece(self):
        y = np.array([1, 0, 1, 0, 0])
        p = np.array([0.9, 0.6, 0.3, 0.2, 0.05])
        t = M.threshold_metrics(y, p, 0.5)  # predicted 1: 0.9 (tp), 0.6 (fp); 0.3 is a false negative
        self.assertEqual((t["precision"], t["recall"], t["f1"], t["accuracy"]), (0.5, 0.5, 0.5, 0.6))
        self.assertAlmostEqual(M.brier(y, p), (0.01 + 0.36 + 0.49 + 0.04 + 0.0025) / 5)
        # bins: 0 {0.05: y 0}, 2 {0.2: 0}, 3 {0.3: 1}, 6 {0.6: 0}, 9 {0.9: 1}
        self.assertAlmostEqual(M.ece(y, p), (0.05 + 0.2 + 0.7 + 0.6 + 0.1) / 5)
        self.assertAlmostEqual(M.ece(np.array([1.0]), np.array([1.0])), 0.0)  # p = 1 falls in the last bin

    def test_best_f1_threshold_sits_between_scores(self):
        y = np.array([1, 1, 0, 1, 0, 0])
        p = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1])
        thr, f1 = M.best_f1_threshold(y, p)
        # top 4 gives tp 3, F1 = 6 / (4 + 3) = 0.857 (top 2: 4/5 = 0.8)
        self.assertAlmostEqual(f1, 6 / 7)
        self.assertAlmostEqual(thr, 0.45)

    def test_weights_equal_replicated_samples(self):
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 40)
        p = rng.random(40).round(1)
        w = rng.integers(0, 3, 40)
        rep = np.repeat(np.arange(40), w)
        self.assertAlmostEqual(M.roc_auc(y, p, w), M.roc_auc(y[rep], p[rep]))
        self.assertAlmostEqual(M.average_precision(y, p, w), M.average_precision(y[rep], p[rep]))
        self.assertAlmostEqual(M.ece(y, p, w), M.ece(y[rep], p[rep]))

    def test_prefix_figures(self):
        session = np.array([0, 0, 0, 1, 1, 2])
        prefix = np.array([1, 2, 3, 1, 2, 1])
        self.assertEqual(M.last_prefix_mask(session, prefix).tolist(), [False, False, True, False, True, True])
        y = np.array([1, 1, 1, 0, 0, 1])
        r = np.array([0.2, 0.9, 0.9, 0.5, 0.1, 0.6])
        at_k, buckets = M.by_prefix(y, r, prefix)
        self.assertAlmostEqual(at_k["1"], 0.5)  # k=1: positives 0.2, 0.6 vs negative 0.5
        self.assertAlmostEqual(at_k["2"], 1.0)
        self.assertTrue(np.isnan(at_k["3"]))
        self.assertEqual(list(buckets), ["1", "2", "3-4", "5-8", "9-16", "17-32", "33+"])

    def test_user_bootstrap_resamples_whole_users(self):
        user = np.array([5, 5, 9, 9, 9, 2])
        b = M.UserBootstrap(user, n=50, seed=0)
        for w in b:
            self.assertEqual(w[0], w[1])
            self.assertEqual(w[2], w[4])
            self.assertEqual(w[[0, 2, 5]].sum(), 3)  # three users drawn

    def test_a_joint_bootstrap_gives_a_user_the_same_count_in_every_seed(self):
        # Two seeds' test sets sharing user 3: with the log's 10 users as the universe, user 3 has
        # the same count in both, in every replicate, and the counts over the log sum to 10.
        a = M.UserBootstrap(np.array([3, 3, 7]), n=200, seed=1000, universe=10)
        b = M.UserBootstrap(np.array([1, 3]), n=200, seed=1000, universe=10)
        np.testing.assert_array_equal(a.weights[:, 0], b.weights[:, 1])
        self.assertFalse(np.all(a.weights[:, 0] == a.weights[:, 2]), "different users, different counts")
        everyone = M.UserBootstrap(np.arange(10), n=200, seed=1000, universe=10)
        self.assertTrue(np.all(everyone.weights.sum(axis=1) == 10))

    def test_a_resample_of_one_class_is_left_out_of_every_metric_not_only_the_auc(self):
        # Four samples, the first two positive; the second resample draws only the positives: a
        # recall of 1 or a Brier score there would enter intervals the report says leave it out.
        y = np.array([1, 1, 0, 0])
        p = np.array([0.9, 0.2, 0.6, 0.1], np.float32)
        prefix, session = np.array([1, 1, 1, 1]), np.array([0, 1, 2, 3])
        both, positives = np.ones(4), np.array([1.0, 1.0, 0.0, 0.0])
        reps = M.bootstrap([both, positives], y, p, prefix, session, 0.5)
        self.assertEqual(set(reps), set(M.BOOT_METRICS))
        for k in M.BOOT_METRICS:
            self.assertTrue(np.isnan(reps[k][1]), f"{k}: {reps[k]}")
        self.assertAlmostEqual(reps["online_auc"][0], 0.75)
        self.assertAlmostEqual(reps["recall"][0], 0.5)
        self.assertTrue(np.isfinite(reps["brier"][0]))

    def test_seeds_with_the_same_test_users_share_one_bootstrap(self):
        a = M.UserBootstrap.shared(np.array([3, 3, 7]), n=50, seed=1000, universe=10)
        same = M.UserBootstrap.shared(np.array([3, 3, 7]), n=50, seed=1000, universe=10)
        self.assertIs(a, same, "one matrix, not a copy per seed")
        np.testing.assert_array_equal(a.weights, M.UserBootstrap(np.array([3, 3, 7]), n=50, seed=1000, universe=10).weights)
        other = M.UserBootstrap.shared(np.array([3, 7, 7]), n=50, seed=1000, universe=10)
        self.assertIsNot(other, a, "other users, another bootstrap")
        np.testing.assert_array_equal(other.weights[:, 0], a.weights[:, 0], "the same counts for a user in both")


class SeedEvalTest(unittest.TestCase):
    def test_resamples_whose_test_users_are_of_one_class_are_counted(self):
        from types import SimpleNamespace as NS

        from models.trainer.compare import SeedEval

        # Ten users of two samples each; only the last one buys: about (9/10)^10, a third, of the
        # resamples draw no buyer, and ROC-AUC is undefined in them.
        user = np.repeat(np.arange(10), 2)
        y = np.zeros(20)
        y[19] = 1.0
        split = NS(user=user, y=y, prefix=np.tile([1, 2], 10), session=np.arange(20) // 2)
        ev = SeedEval(split, split, boot_n=200, users=10)
        p = np.linspace(0.1, 0.9, 20)
        m = ev.add("x", p, p, 0.5)
        undefined = int(np.sum(~np.isfinite(ev.reps["x"]["online_auc"])))
        self.assertEqual(m["undefined_replicates"], undefined)
        self.assertTrue(40 <= undefined <= 110, undefined)

    def test_scores_that_are_not_finite_are_refused(self):
        from types import SimpleNamespace as NS

        from models.trainer.compare import SeedEval
        from models.trainer.data import DataError

        user = np.repeat(np.arange(10), 2)
        y = np.tile([0.0, 1.0], 10)
        split = NS(user=user, y=y, prefix=np.tile([1, 2], 10), session=np.arange(20) // 2)
        ev = SeedEval(split, split, boot_n=20, users=10)
        p = np.linspace(0.1, 0.9, 20)
        bad = p.copy()
        bad[3] = np.nan
        with self.assertRaisesRegex(DataError, "not all finite"):
            ev.add("diverged", bad, p, 0.5)
        with self.assertRaisesRegex(DataError, "test scores"):
            ev.add("diverged", p, p, 0.5, raw_val=p, raw_test=np.where(p > 0.5, np.inf, p))
        self.assertNotIn("diverged", ev.figures)


    def test_the_report_says_how_many_replicates_were_undefined_only_when_it_was_counted(self):
        from models.trainer.report import undefined_sentence

        def res(*counts):
            seeds = {str(i): ({} if c is None else {"undefined_replicates": c}) for i, c in enumerate(counts)}
            return {"models": {"lstm": {"per_seed": seeds}}, "bootstrap": {"resamples": 200}}

        self.assertEqual(undefined_sentence(res(0, 0)), "Every replicate drew test users of both classes.")
        self.assertIn("up to 50 of 200 replicates of a seed (25.0%)", undefined_sentence(res(3, 50)))
        self.assertEqual(undefined_sentence(res(0, None)), "", "a run that did not count says nothing")


class CalibrationTest(unittest.TestCase):
    def test_platt_recovers_the_generating_curve(self):
        rng = np.random.default_rng(0)
        z = rng.normal(size=20000)
        y = (rng.random(20000) < C.sigmoid(1.7 * z - 0.8)).astype(float)
        a, b = C.platt(z, y)
        self.assertAlmostEqual(a, 1.7, delta=0.1)
        self.assertAlmostEqual(b, -0.8, delta=0.1)

    def test_a_reversed_score_is_not_turned_around(self):
        z = np.array([0.0, 1.0, 2.0, 3.0])
        y = np.array([1, 1, 0, 0])
        a, b = C.fit_calibration(z, y)
        self.assertEqual(a, 0.0)
        self.assertAlmostEqual(C.sigmoid(b), 0.5)

    def test_segments_and_threshold(self):
        p = np.linspace(0.01, 0.99, 1000)
        s = C.segments(p)
        self.assertAlmostEqual(s["medium"], np.quantile(p, 0.65))
        self.assertAlmostEqual(s["high"], np.quantile(p, 0.90))
        const = C.segments(np.full(10, 0.2))
        self.assertTrue(0 < const["medium"] <= const["high"] < 1)
        t = C.threshold(np.array([0.9, 0.2, 0.1], np.float32), np.array([1.0, 0.0, 0.0]))
        self.assertEqual(t, float(np.float32(t)))
        self.assertTrue(0.2 < t < 0.9)


if __name__ == "__main__":
    unittest.main()
