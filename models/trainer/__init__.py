"""Trains the streaming purchase-intent LSTM from a shop's event log, compares it with baselines,
and exports the one-step graph the engine runs (`python -m models.trainer --help`).

Modules, one concern each:

- `data`: the featurizer's per-row tensors, put back into sessions; batches of sessions by length.
- `loop`: the one early-stopping loop (validation online ROC-AUC) every neural model uses.
- `lstm`: the streaming LSTM, trained on whole sessions with truncated back-propagation.
- `baselines`: prior, session length, logistic regression, LightGBM, a dense network.
- `calibration`: Platt scaling (non-decreasing), decision threshold, segments.
- `fold`: members + standardisation + calibration folded into one LSTM step; ONNX export; fixtures.
- `metrics`: the metric definitions `shopper-intent eval` shares, and the user bootstrap.
- `compare`: test figures per seed, means over seeds, paired differences, the verdict.
- `select`: model size against measured cost (`shopper-intent bench`).
- `pipeline`: the whole run; `report` and `plots` write REPORT.md and plots/.
- `export`: a model folder the engine loads (ONNX, fixtures), converted and checked by `shopper-intent convert`.
- `cli`: calling `shopper-intent` (featurize, convert, eval, bench) from the trainer.
- `notes`: further evaluations appended to a model's REPORT.md (another shop's run, summarised).
- `check`: the shipped model's check with numpy, onnx and onnxruntime only (no torch).
- `synthlog`: a small synthetic event log for the end-to-end test; `uci`: the UCI benchmark.

This file imports nothing heavy, so `python -m models.trainer.check` runs without torch.
"""
