#!/usr/bin/env bash
# Runs the whole test suite: lint, then every test against a real Swift
# (started from the PyPI package) and the databases on 127.0.0.1.
# Extra arguments go to pytest, e.g. ./test.sh -k rotation -x
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
# The web console's tests (tests/e2e/test_console.py) drive Debian's chromium
# through its chromium-driver; nothing downloads a browser at run time.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "the browser tests need chromium and chromium-driver: installing them with apt-get" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && apt-get install -y -qq chromium chromium-driver >&2
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq >&2 && sudo apt-get install -y -qq chromium chromium-driver >&2
    else
        echo "cannot install them (not root, no sudo): the browser tests will skip" \
            "(and fail under CI=true)" >&2
    fi
fi
# The servers on 127.0.0.1 that the suite talks to: started where they stopped.
source scripts/services.sh
ruff check .
ruff format --check .
exec python -m pytest "$@"
