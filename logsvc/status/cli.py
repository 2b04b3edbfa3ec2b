"""``python -m logsvc.status HOST[:PORT]``: print a daemon's status report for a person.

Exit status: 0 when every status is OK, 1 when any is not, 2 when the
report cannot be had (or the command line is wrong).
"""

import argparse
import json
import sys

from logsvc.exceptions import LogsvcError
from logsvc.status.client import fetch_reports
from logsvc.status.render import exit_status, render_reports

PROG = "python -m logsvc.status"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Print a logsvc daemon's status report (Ganeti monitoring daemon API).",
        epilog="Exit status: 0 every status OK, 1 some status not OK, 2 no report.",
    )
    parser.add_argument(
        "address",
        help="the daemon's status server: HOST[:PORT] (port 1815 by default) or a URL",
    )
    parser.add_argument(
        "--category",
        help="only collectors of this category (instance, storage, daemon, hypervisor, default)",
    )
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for an answer (10)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    params = {"category": args.category} if args.category else None
    try:
        reports = fetch_reports(args.address, timeout=args.timeout, params=params)
    except LogsvcError as exc:
        print(f"{PROG}: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        json.dump([r.to_dict() for r in reports], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_reports(reports))
    return exit_status(reports)
