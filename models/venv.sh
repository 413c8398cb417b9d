#!/usr/bin/env bash
# Creates the virtual environment $1 from the pinned requirements file $2 (when missing), installs
# the pins, and touches $1/.installed (the Makefile's stamp).
#   bash models/venv.sh models/.venv models/requirements.txt
# PYTHON: the interpreter to create it with (default python3; the pins are for Python 3.11).
set -euo pipefail
venv=$1
req=$2
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  if ! command -v "$python" >/dev/null; then
    echo "error: $python not found: install Python 3.11 or give PYTHON=/path/to/python3.11" >&2
    exit 1
  fi
  echo "creating $venv with $("$python" --version 2>&1) from $req"
  "$python" -m venv "$venv" || { echo "error: could not create $venv (on Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" \
  || { echo "error: installing $req into $venv failed (see above)" >&2; exit 1; }
touch "$venv/.installed"
