"""What the agent tells its operators: the instance's logs, for reports.

One function gathers the facts; the Guru Meditation Report shows them as a
table and the status report as its ``guest-logs`` collector.
"""

import time
from typing import Any

from guestagent.manager import LogManager
from logsvc.exceptions import DatastoreError
from logsvc.status import Status, StatusCode, worst


def logs_facts(manager: LogManager) -> dict[str, Any]:
    """The datastore's reachability and, for each log, its state and history."""
    try:
        manager.datastore.check()
        datastore = {"name": manager.datastore.name, "reachable": True, "error": None}
    except DatastoreError as exc:
        datastore = {"name": manager.datastore.name, "reachable": False, "error": exc.message}
    logs = []
    for _, publisher in sorted(manager.publishers.items()):
        view = manager.view(publisher)
        figures = publisher.figures()
        logs.append(
            {
                **view.to_dict(),
                "file": publisher.source.path,
                "last_publish": _when(figures.last_publish),
                "last_error": figures.last_error,
            }
        )
    return {"instance_id": manager.instance_id, "datastore": datastore, "logs": logs}


def _when(epoch: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


def status_collector(manager: LogManager):
    """The ``guest-logs`` status collector: bad when the datastore is down."""

    def collect() -> dict[str, Any]:
        facts = logs_facts(manager)
        checks = []
        if not facts["datastore"]["reachable"]:
            checks.append(Status(StatusCode.BAD, facts["datastore"]["error"]))
        for log in facts["logs"]:
            if log["last_error"]:
                checks.append(
                    Status(StatusCode.TEMP_BAD, f"log {log['name']}: {log['last_error']}")
                )
        return {"status": worst(checks, "datastore reachable, no log in error"), **facts}

    return collect


def gmr_section(manager: LogManager):
    """The Guru Meditation Report's "Guest Logs" section, as text."""

    def section() -> str:
        facts = logs_facts(manager)
        d = facts["datastore"]
        lines = [
            f"instance {facts['instance_id']}, datastore {d['name']}: "
            + ("reachable" if d["reachable"] else f"UNREACHABLE ({d['error']})"),
            "",
            f"{'log':<12} {'type':<5} {'status':<17} {'published':>12} {'pending':>12}  "
            "last publish          last error",
        ]
        for log in facts["logs"]:
            lines.append(
                f"{log['name']:<12} {log['type']:<5} {log['status']:<17} "
                f"{log['published']:>12} {log['pending']:>12}  "
                f"{log['last_publish'] or '-':<21} {log['last_error'] or '-'}"
            )
        return "\n".join(lines)

    return section
