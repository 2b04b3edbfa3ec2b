# Sourced by start.sh and test.sh: make .venv exist and hold logsvc as the
# working tree describes it; reinstall only when the project's metadata changed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "logsvc needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1))" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating a virtual environment in $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.logsvc-installed"
want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)-${LOGSVC_EXTRAS:-test}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing logsvc and its dependencies into $VENV (once)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[${LOGSVC_EXTRAS:-test}]" 2>&1 \
        | grep -v -e '^WARNING: Location' -e 'BuildBackendWarning' >&2 || true
    "$VENV/bin/python" -c 'import logsvc, guestagent' || { echo "the installation failed" >&2; exit 1; }
    echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
