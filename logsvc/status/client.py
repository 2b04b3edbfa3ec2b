"""Fetching a daemon's status report over HTTP, for the CLI and scripts."""

import re
from collections.abc import Mapping

import requests

from logsvc.conf.status import AGENT_STATUS_PORT
from logsvc.exceptions import LogsvcError
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
    try:
        response = requests.get(url, params=dict(params or {}), timeout=timeout)
    except requests.Timeout:
        raise LogsvcError(f"{url} did not answer within {timeout:g} s") from None
    except requests.ConnectionError:
        raise LogsvcError(f"cannot connect to {url} (is the daemon running?)") from None
    except requests.RequestException as exc:
        raise LogsvcError(f"cannot fetch {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.reason
        raise LogsvcError(f"{url} answered {response.status_code}: {message}")
    try:
        body = response.json()
        if not isinstance(body, list):
            raise ValueError("not a list of reports")
        return [Report.from_dict(r) for r in body]
    except ValueError as exc:
        raise LogsvcError(f"{url} did not answer a status report: {exc}") from None
