"""status: a daemon's status report (Ganeti monitoring daemon API), for a person."""

import json

from cliff.command import Command

#: Seconds to wait for a report unless --timeout says otherwise: a status
#: server answers from what it collected, at once.
TIMEOUT = 10.0


class Status(Command):
    """Print a logsvc daemon's status report; exit 1 when any status is not OK.

    It waits 10 seconds for the report, or what the global --timeout says.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "address", help="HOST[:PORT] of the status report (1815: agent, 1816: API), or its URL"
        )
        parser.add_argument("--category", help="instance, storage, daemon, hypervisor or default")
        parser.add_argument("--json", action="store_true", help="the reports as JSON")
        return parser

    def take_action(self, args):
        from logsvc.status.client import fetch_reports
        from logsvc.status.render import exit_status, render_reports

        params = {"category": args.category} if args.category else None
        timeout = self.app.settings.timeout(TIMEOUT)  # the global --timeout
        reports = fetch_reports(args.address, timeout=timeout, params=params)
        if args.json:
            self.app.stdout.write(json.dumps([r.to_dict() for r in reports], indent=2) + "\n")
        else:
            self.app.stdout.write(render_reports(reports))
        return exit_status(reports)
