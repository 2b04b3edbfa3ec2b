"""An OSProfiler trace store in a directory: traces on one machine, no server.

``[profiler] connection_string = file:///var/lib/logsvc/traces``: each trace
is a file ``<base_id>.jsonl`` that every process of the trace appends its
trace points to, one JSON object a line (appends of one short line are atomic
on local filesystems, so the API and the agent can share the directory).
osprofiler finds this driver by the URL's scheme once this module is imported.
"""

import json
import os
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from osprofiler.drivers import base

_BASE_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")


def directory_of(connection_string: str) -> str:
    path = urlparse(connection_string).path
    if not path:
        raise ValueError(f"{connection_string!r} names no directory (file:///path)")
    return path


class FileDriver(base.Driver):
    """Notifications as JSON lines, one file per trace."""

    @classmethod
    def get_name(cls) -> str:
        return "file"

    def __init__(self, connection_str: str, project=None, service=None, host=None, **kwargs):
        super().__init__(connection_str, project=project, service=service, host=host, **kwargs)
        self.directory = directory_of(connection_str)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)

    def _path(self, base_id: str) -> str:
        if not _BASE_ID.fullmatch(base_id):
            raise ValueError(f"{base_id!r} is not a trace id")
        return os.path.join(self.directory, f"{base_id}.jsonl")

    def notify(self, info: dict[str, Any], **kwargs: Any) -> None:
        record = dict(info, project=self.project, service=self.service)
        line = (json.dumps(record, default=str) + "\n").encode()
        fd = os.open(self._path(info["base_id"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def get_report(self, base_id: str) -> dict[str, Any]:
        try:
            with open(self._path(base_id), encoding="utf-8") as f:
                lines = f.readlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                n = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            self._append_results(
                n["trace_id"],
                n["parent_id"],
                n["name"],
                n.get("project"),
                n.get("service"),
                n.get("info", {}).get("host"),
                n["timestamp"],
                n,
            )
        return self._parse_results()

    def list_traces(self, fields: set[str] | None = None) -> list[dict[str, Any]]:
        traces = []
        for name in os.listdir(self.directory):
            if name.endswith(".jsonl"):
                path = os.path.join(self.directory, name)
                stamp = datetime.fromtimestamp(os.path.getmtime(path), UTC)
                traces.append({"base_id": name[: -len(".jsonl")], "timestamp": stamp.isoformat()})
        return sorted(traces, key=lambda t: t["timestamp"])
