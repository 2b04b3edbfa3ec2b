#!/usr/bin/env bash
# Runs the whole test suite: lint, then every test against a real Swift
# (started from the PyPI package) and the databases on 127.0.0.1.
# Extra arguments go to pytest, e.g. ./test.sh -k rotation -x
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ruff check .
ruff format --check .
exec python -m pytest "$@"
