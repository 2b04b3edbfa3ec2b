"""``python -m tests.api_server SINK --config-file F``: logsvc-api, each response
checked against the OpenAPI document (problems written to SINK)."""

import sys
from pathlib import Path

from api import cmd
from tests.openapi_check import CheckingMiddleware

if __name__ == "__main__":
    sink = Path(sys.argv[1])
    sys.exit(cmd.main(sys.argv[2:], wrap=lambda app: CheckingMiddleware(app, sink=sink)))
