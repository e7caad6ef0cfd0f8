#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. Base image: written for
# gradescope/autograder-base:ubuntu-22.04 (Python 3.10, hence the deadsnakes branch below). Tested on: not
# on that image (the kata's development machine has no Docker daemon and no access to download.pytorch.org);
# the grading it prepares was tested on Debian 12 with Python 3.11 (tests/grader/test_platforms_gradescope.py and
# tests/grader/gradescope_measure.py, which simulate the container's root user, 768 MB and half a CPU).
# Try one submission on Gradescope before the course starts. It installs Python
# 3.11 or newer, the kata's pinned requirements with a CPU-only torch into /autograder/source/.venv,
# and bubblewrap (used when the container allows user namespaces; otherwise learner code runs as an
# unprivileged user, see grader/core/sandbox.py), then makes the reference private to root.
set -euo pipefail
SOURCE="${AUTOGRADER_ROOT:-/autograder}/source"
cd "$SOURCE"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  apt-get install -y -qq software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -qq
  apt-get install -y -qq python3.11 python3.11-venv
  PY=python3.11
else
  apt-get install -y -qq python3-venv
fi
apt-get install -y -qq bubblewrap || echo "bubblewrap unavailable: learner code will run as an unprivileged user"
"$PY" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
TORCH="$(grep -E '^torch==' requirements.txt)"
.venv/bin/pip install --quiet --no-compile --index-url https://download.pytorch.org/whl/cpu "$TORCH"
.venv/bin/pip install --quiet --no-compile -r requirements.txt
.venv/bin/python -c 'import numpy, pytest, pytest_timeout, tabulate, torch'
# Learner code runs as nobody: it must read the grader, the tests and the venv, never the reference.
chmod -R o+rX "$SOURCE"
chmod o+x "$(dirname "$SOURCE")"
chmod 700 "$SOURCE/solutions" "$SOURCE/tests/mutants"
chmod 600 "$SOURCE/data/mnist/t10k-labels-idx1-ubyte.gz" 2>/dev/null || true
