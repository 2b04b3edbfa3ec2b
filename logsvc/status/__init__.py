"""The status report of logsvc's daemons, with the API of Ganeti's monitoring daemon.

Each daemon embeds a :class:`StatusService`: collectors refreshed in the
background, each at its own interval, into a cache that a small read-only
HTTP server answers from (``GET /``, ``/1/list/collectors``,
``/1/report/all``, ``/1/report/<category>[/<name>]``). Built-in collectors:
the daemon itself, the node's OS, storage, and plugins from a directory; the
daemons add their own with :class:`FunctionCollector`.

Where things are: the report model (report.py), what a collector is
(collector.py), the built-in collectors (daemon.py, node.py, storage.py,
plugins.py with plugin_output.py), the cache and the scheduler (cache.py,
scheduler.py), HTTP (wsgi.py, server.py), the whole (service.py), and for
people: rendering (render.py), fetching (client.py) and
``python -m logsvc.status`` (cli.py). Elsewhere: the ``[status]`` options
(logsvc/conf/status.py) and the masking of secrets in every report
(logsvc/redact.py).
"""

from logsvc.status.collector import Collector, FunctionCollector
from logsvc.status.render import exit_status, render_reports
from logsvc.status.report import Category, Kind, Report, Status, StatusCode, status_data, worst
from logsvc.status.service import StatusService

__all__ = [
    "Category",
    "Collector",
    "FunctionCollector",
    "Kind",
    "Report",
    "Status",
    "StatusCode",
    "StatusService",
    "exit_status",
    "render_reports",
    "status_data",
    "worst",
]
