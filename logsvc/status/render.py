"""A status report for a person: a table of collectors, then their key figures.

``logsvc status HOST:PORT`` and ``python -m logsvc.status HOST:PORT`` print
this. Key figures are chosen by the shape of a report's data (the daemon,
node and storage collectors' shapes are known; other reports show their
text or their first few plain values), so a renamed or new collector still
renders. What the daemon sent (names, messages, figures) is printed escaped
(`logsvc.safetext`): a report must not drive the terminal that shows it.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from logsvc.safetext import printable
from logsvc.status.report import Kind, Report, StatusCode, category_path
from logsvc.status.units import human_duration, human_size

_MAX_PLAIN_VALUES = 6
_MAX_TEXT = 100


def exit_status(reports: Sequence[Report]) -> int:
    """0 when every status is OK, else 1 (performance reports count as OK)."""
    return 0 if all(_code(r) == StatusCode.OK for r in reports) else 1


def render_reports(reports: Sequence[Report]) -> str:
    """The table of collectors and statuses, the worst status, then key figures."""
    if not reports:
        return "no collectors\n"
    header = ("COLLECTOR", "CATEGORY", "KIND", "STATUS", "MESSAGE")
    rows = [header]
    for r in reports:
        status = r.status
        rows.append(
            (
                printable(r.name, 100),
                category_path(r.category),
                "status" if r.kind == Kind.STATUS else "perf",
                status.code.word if status else "-",
                printable(_one_line(status.message), 200) if status else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    ]
    lines = [line.rstrip() for line in lines]
    worst = max((_code(r) for r in reports), default=StatusCode.OK)
    newest = max(r.timestamp for r in reports)
    lines.append("")
    lines.append(
        f"worst status: {worst.word}, {len(reports)} collectors, newest data {_when(newest)}"
    )
    figures = [(printable(r.name, 100), printable(_figures(r.data))) for r in reports]
    figures = [(name, text) for name, text in figures if text]
    if figures:
        lines.append("")
        lines.extend(f"{name}: {text}" for name, text in figures)
    return "\n".join(lines) + "\n"


def _code(report: Report) -> StatusCode:
    status = report.status
    if status is not None:
        return status.code
    # A status report without a readable status tells nothing good.
    return StatusCode.UNKNOWN if report.kind == Kind.STATUS else StatusCode.OK


def _when(timestamp_ns: int) -> str:
    return datetime.fromtimestamp(timestamp_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _figures(data: Any) -> str:
    """The key figures of a report's data, on one line ("" when it has none)."""
    try:
        if isinstance(data, Mapping):
            if {"cpu", "memory", "uptime"} <= data.keys():
                return _daemon_figures(data)
            if {"cpus", "memory", "filesystems"} <= data.keys():
                return _node_figures(data)
            if "directories" in data:
                return _storage_figures(data)
            if isinstance(data.get("text"), str):
                return _text_figure(data["text"])
            return _plain_values(data)
        if isinstance(data, str):
            return _text_figure(data)
        if isinstance(data, list):
            return f"{len(data)} items"
        return "" if data is None else str(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        # Data of an unexpected shape: the table already said what matters.
        return _plain_values(data) if isinstance(data, Mapping) else ""


def _daemon_figures(d: Mapping[str, Any]) -> str:
    parts = []
    if "pid" in d:
        parts.append(f"pid {d['pid']}")
    parts.append(f"up {human_duration(d['uptime'])}")
    cpu = d["cpu"]
    parts.append(
        f"CPU {cpu['percent']:.1f} % (user {cpu['user']:.1f} s, system {cpu['system']:.1f} s)"
    )
    mem = d["memory"]
    parts.append(f"RSS {human_size(mem['rss'])}, VMS {human_size(mem['vms'])}")
    if "threads" in d:
        parts.append(f"{d['threads']} threads")
    if "open_files" in d:
        parts.append(f"{d['open_files']} open files")
    return ", ".join(parts)


def _node_figures(d: Mapping[str, Any]) -> str:
    cpus = d["cpus"]
    per_cpu = " ".join(f"{x:.0f}" for x in cpus.get("load_percent", []))
    parts = [f"{cpus['count']} CPUs at {cpus['average_percent']:.0f} % (each: {per_cpu})"]
    if d.get("load_average"):
        parts.append("load " + " ".join(f"{x:.2f}" for x in d["load_average"]))
    mem = d["memory"]
    parts.append(
        f"memory {human_size(mem['used'])} used of {human_size(mem['total'])} "
        f"({mem['percent']:.0f} %)"
    )
    swap = d.get("swap")
    if swap and swap.get("total"):
        parts.append(f"swap {human_size(swap['used'])} used of {human_size(swap['total'])}")
    for fs in d["filesystems"]:
        parts.append(
            f"{fs['mount_point']} {fs['percent']:.0f} % used ({human_size(fs['free'])} free)"
        )
    up = [i["name"] for i in d.get("network", []) if i.get("up")]
    if up:
        parts.append("interfaces up: " + " ".join(up))
    return ", ".join(parts)


def _storage_figures(d: Mapping[str, Any]) -> str:
    parts = []
    store = d.get("object_store")
    if store:
        if store.get("reachable"):
            parts.append(f"{store['description']} answers in {store['latency_ms']:.0f} ms")
        else:
            parts.append(f"{store['description']} does not answer")
    for directory in d["directories"]:
        if "free" in directory:
            parts.append(
                f"{directory['path']} {human_size(directory['free'])} free of "
                f"{human_size(directory['total'])} ({directory['free_percent']:.0f} %)"
            )
        else:
            parts.append(f"{directory['path']}: {directory.get('error', 'unknown')}")
    return ", ".join(parts)


def _text_figure(text: str) -> str:
    lines = text.strip().splitlines()
    if not lines:
        return ""
    first = lines[0][:_MAX_TEXT]
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
    return first + more


def _plain_values(d: Mapping[str, Any]) -> str:
    plain = [
        f"{k}={_one_line(str(v))[:_MAX_TEXT]}"
        for k, v in d.items()
        if k != "status" and isinstance(v, str | int | float)
    ]
    return ", ".join(plain[:_MAX_PLAIN_VALUES])
