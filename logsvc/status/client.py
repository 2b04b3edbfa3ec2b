"""Fetching a daemon's status report over HTTP, for the CLI and scripts."""

import json
import re
from collections.abc import Mapping

from logsvc import http
from logsvc.conf.status import AGENT_STATUS_PORT
from logsvc.exceptions import LogsvcError
from logsvc.safetext import printable
from logsvc.status.report import Report

_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]/]+)(?::(?P<port>\d{1,5}))?")


def base_url(address: str) -> str:
    """The URL of a status server given as HOST[:PORT], [IPv6][:PORT] or http(s)://...

    The port defaults to the guest agent's, 1815.
    """
    address = address.strip()
    if address.startswith(("http://", "https://")):
        return address.rstrip("/")
    match = _HOST_PORT.fullmatch(address)
    if not match:
        raise LogsvcError(f"{address!r} is not HOST:PORT")
    port = int(match["port"] or AGENT_STATUS_PORT)
    if not 0 < port < 65536:
        raise LogsvcError(f"{port} is not a TCP port")
    return f"http://{match['host']}:{port}"


def fetch_reports(
    address: str, *, timeout: float = 10.0, params: Mapping[str, str] | None = None
) -> list[Report]:
    """``/1/report/all`` of the status server at `address` (see base_url).

    `params` selects parts of the report (``{"category": "storage"}``).
    LogsvcError, with a message for a person, when there is no usable answer.
    """
    url = base_url(address) + "/1/report/all"
    session = http.new_session()
    try:
        answer = http.call(
            session, "GET", url, params=dict(params or {}), what=url, timeout=timeout
        )
    finally:
        session.close()
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = None
    if answer.status != 200:
        try:
            message = printable(body["error"]["message"])
        except (KeyError, TypeError):
            message = answer.reason
        raise LogsvcError(f"{url} answered {answer.status}: {message}")
    try:
        if not isinstance(body, list):
            raise ValueError("not a list of reports")
        return [Report.from_dict(r) for r in body]
    except ValueError as exc:
        raise LogsvcError(f"{url} did not answer a status report: {printable(exc)}") from None
