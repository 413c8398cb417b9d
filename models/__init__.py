"""shopper-intent's training side. The code lives in the `models.trainer` package; run it from the
repository root as `python -m models.trainer --help` (see models/README.md)."""
