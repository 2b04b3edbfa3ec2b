"""``python -m logsvc.status HOST[:PORT]``: see logsvc.status.cli."""

import sys

from logsvc.status.cli import main

if __name__ == "__main__":
    sys.exit(main())
