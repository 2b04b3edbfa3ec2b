#!/usr/bin/env bash
# Starts logsvc on embedded defaults (a local object-store directory, a sample
# log that keeps growing) under .demo/, and prints a token and what to type
# next. Options: --swift (store in a real local Swift started from the PyPI
# package), --bus (the API and the agent talk over the RabbitMQ of
# 127.0.0.1:5672), --fresh (forget the previous demo), --dir DIR (somewhere else than
# .demo/; also $LOGSVC_DEMO_DIR). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
exec python scripts/demo.py "$@"
