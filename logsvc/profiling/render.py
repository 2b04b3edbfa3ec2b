"""A trace, read back from where it is kept, as a tree for a terminal and as a web page.

The page is one self-contained HTML file: no script, no stylesheet and no
font from elsewhere (osprofiler's own page loads its JavaScript from public
CDNs and shows an empty table offline).

What is shown is scrubbed first (`logsvc.profiling.scrub`): a trace written
by an older logsvc or by another tool may hold SQL parameters or a
password in a URL; neither is printed nor written into the page.
"""

import html
import json
from typing import Any

from oslo_config import cfg
from osprofiler.drivers import base

from logsvc.conf import profiler as profiler_conf
from logsvc.profiling import filestore  # noqa: F401 - the file:// driver
from logsvc.profiling.scrub import scrub


def load(connection_string: str, base_id: str) -> dict[str, Any]:
    """The trace `base_id` as osprofiler reports it, scrubbed; LookupError when it has no point."""
    report = _driver(connection_string).get_report(base_id)
    if not report.get("children"):
        raise LookupError(f"no trace {base_id} in {_where(connection_string)}")
    return scrub(report)


def trace_count(connection_string: str) -> int:
    """How many traces the store holds (of any id)."""
    return len(_driver(connection_string).list_traces())


def _driver(connection_string: str) -> base.Driver:
    """The store's driver, with ``[profiler]`` at its defaults.

    osprofiler's drivers read their settings (Redis's socket timeout, say)
    from a configuration, the global one unless given another: a reader such
    as the CLI has no ``[profiler]`` of its own, so it hands them the defaults.
    """
    conf = cfg.ConfigOpts()
    profiler_conf.register_opts(conf)
    conf([], project="logsvc", default_config_files=[], default_config_dirs=[])
    return base.get_driver(connection_string, conf=conf)


def _where(connection_string: str) -> str:
    # the connection string may hold a password: name the kind of store only
    return connection_string.split("://", 1)[0] + " store"


def _payload(node: dict[str, Any], edge: str) -> dict[str, Any]:
    info = node.get("info", {})
    for key, value in info.items():
        if key.startswith("meta.raw_payload.") and key.endswith(f"-{edge}"):
            return value.get("info", {}) if isinstance(value, dict) else {}
    return {}


def describe(node: dict[str, Any]) -> str:
    """One line about a trace point: what it did."""
    start = _payload(node, "start")
    stop = _payload(node, "stop")
    if "request" in start:
        r = start["request"]
        query = f"?{r['query']}" if r.get("query") else ""
        return f"{r.get('method', '')} {r.get('path', '')}{query}"
    if "requests" in start:
        r = start["requests"]
        status = stop.get("requests", {}).get("status_code", "")
        where = f"{r.get('hostname', '')}:{r.get('port', '')}{r.get('path', '')}"
        return f"{r.get('method', '')} {where} -> {status}"
    if "db" in start:
        statement = " ".join(str(start["db"].get("statement", "")).split())
        return statement[:160] + ("..." if len(statement) > 160 else "")
    if "function" in start:
        return str(start["function"].get("name", ""))
    return ""


def _duration(node: dict[str, Any]) -> float:
    info = node.get("info", {})
    return float(info.get("finished", 0)) - float(info.get("started", 0))


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(n.get("children", [])) for n in nodes)


def render_text(report: dict[str, Any], base_id: str) -> str:
    """The trace as an indented tree, one trace point a line."""
    report = scrub(report)
    total = report.get("info", {}).get("finished", 0)
    lines = [f"trace {base_id}: {total:.1f} ms, {_count(report.get('children', []))} points"]

    def walk(nodes: list[dict[str, Any]], prefix: str) -> None:
        for index, node in enumerate(nodes):
            last = index == len(nodes) - 1
            info = node.get("info", {})
            where = f"{info.get('service', '?')}@{info.get('host', '?')}"
            lines.append(
                f"{prefix}{'└─ ' if last else '├─ '}{info.get('name', '?')} "
                f"[{where}] +{float(info.get('started', 0)):.1f} ms, "
                f"{_duration(node):.1f} ms  {describe(node)}".rstrip()
            )
            walk(node.get("children", []), prefix + ("   " if last else "│  "))

    walk(report.get("children", []), "")
    return "\n".join(lines) + "\n"


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.2em; } code { font: 12px ui-monospace, monospace; }
details { margin-left: 1.2em; border-left: 1px solid #ccc; padding-left: .5em; }
summary { cursor: pointer; white-space: nowrap; }
.bar { display: inline-block; height: .7em; background: #4a8; vertical-align: middle; }
.track { display: inline-block; width: 240px; background: #eee; margin-right: .6em; }
.name { font-weight: 600; } .svc { color: #666; } .what { color: #125; }
pre { background: #f6f6f6; padding: .5em; overflow-x: auto; font-size: 12px; }
"""


def render_html(report: dict[str, Any], base_id: str) -> str:
    """The trace as a page that works offline: nested, expandable, with a timeline."""
    report = scrub(report)
    total = float(report.get("info", {}).get("finished", 0)) or 1.0

    def node_html(node: dict[str, Any]) -> str:
        info = node.get("info", {})
        left = 100 * float(info.get("started", 0)) / total
        width = max(0.5, 100 * _duration(node) / total)
        details = {k: v for k, v in info.items() if k.startswith("meta.raw_payload.")}
        children = "".join(node_html(c) for c in node.get("children", []))
        return (
            "<details open><summary>"
            f'<span class="track"><span class="bar" style="margin-left:{left:.2f}%;'
            f'width:{width:.2f}%"></span></span>'
            f'<span class="name">{html.escape(str(info.get("name", "?")))}</span> '
            f'<span class="svc">{html.escape(str(info.get("service", "?")))}'
            f"@{html.escape(str(info.get('host', '?')))}</span> "
            f"{_duration(node):.1f} ms "
            f'<span class="what">{html.escape(describe(node))}</span></summary>'
            f"<pre>{html.escape(json.dumps(details, indent=1, default=str))}</pre>"
            f"{children}</details>"
        )

    body = "".join(node_html(n) for n in report.get("children", []))
    title = f"logsvc trace {html.escape(base_id)}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        f"<p>{total:.1f} ms, {_count(report.get('children', []))} trace points. "
        "Each line: timeline, name, service@host, duration, what it did; "
        "click to fold.</p>"
        f"{body}</body></html>\n"
    )
