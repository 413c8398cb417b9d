#!/usr/bin/env bash
# `make test-train`: the unit tests of models.trainer, then the end-to-end test of the training
# path on a synthetic log. Needs torch in models/.venv; without it, says so loudly and exits 0.
#   bash models/tests/run.sh [path/to/shopper-intent]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=models/.venv/bin/python
if ! "$PY" -c "import torch, onnxruntime, lightgbm" 2>/dev/null; then
  echo
  echo "*** SKIPPED: the training tests need torch, onnxruntime and lightgbm in models/.venv (\`make train\` creates it) ***"
  echo
  exit 0
fi
"$PY" -W ignore -m unittest discover -s models/tests -t .
"$PY" -W ignore -m models.tests.e2e "${1:-target/native/shopper-intent}"
