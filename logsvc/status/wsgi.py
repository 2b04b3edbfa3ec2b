"""The HTTP API of Ganeti's monitoring daemon, as a WSGI application over the cache.

Routes (GET; HEAD answers the same without a body; anything else is 405):

- ``/`` → ``[1]``, the API versions served;
- ``/1/list/collectors`` → ``[[name, category or "default", kind], ...]``;
- ``/1/report/all`` → every collector's report;
- ``/1/report/<category>`` → the reports of one category (``default``: none);
- ``/1/report/<category>/<name>`` → one report.

Parts of the report (on ``/1/report/all``, ``/1/report/<category>`` and
``/1/list/collectors``), each parameter repeatable or comma-separated, the
parameters combined with AND:

- ``category=storage,default``: collectors of these categories;
- ``kind=1``: reports of this kind (0 performance, 1 status); in the
  list, collectors of this kind;
- ``name=node``: collectors of these names.

An unknown path, category or collector is 404; an unknown parameter or
value is 400; both with a JSON body ``{"error": {"code", "message"}}``.
The list gives each collector's own kind; a report's kind is that of the
report (a collector that failed reports a status, whatever its kind).
"""

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from logsvc.status.cache import ReportCache
from logsvc.status.report import DEFAULT_CATEGORY, Category, Kind, category_path, parse_category

LOG = logging.getLogger(__name__)

API_VERSIONS = [1]
_METHODS = ("GET", "HEAD")
_FILTERS = ("category", "kind", "name")

StartResponse = Callable[..., Any]


class HTTPError(Exception):
    """An answer other than 200, with its message for the client."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Filter:
    """The parts of the report that a query asks for."""

    def __init__(self, query: str):
        params = parse_qs(query, keep_blank_values=True)
        unknown = sorted(set(params) - set(_FILTERS))
        if unknown:
            raise HTTPError(
                HTTPStatus.BAD_REQUEST,
                f"unknown query parameter {unknown[0]!r}; known: {', '.join(_FILTERS)}",
            )
        values = {k: [v for raw in params.get(k, []) for v in raw.split(",")] for k in _FILTERS}
        try:
            self.categories = (
                {parse_category(v) for v in values["category"]} if values["category"] else None
            )
        except ValueError as exc:
            raise HTTPError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        try:
            self.kinds = {Kind(int(v)) for v in values["kind"]} if values["kind"] else None
        except ValueError:
            raise HTTPError(
                HTTPStatus.BAD_REQUEST, "kind is 0 (performance) or 1 (status)"
            ) from None
        self.names = set(values["name"]) or None

    def within(self, category: Category | None) -> "_Filter":
        """This filter, narrowed to one category (``/1/report/<category>``)."""
        if self.categories is None:
            self.categories = {category}
        else:
            self.categories &= {category}
        return self

    def keeps(self, name: str, category: Category | None, kind: Kind) -> bool:
        return (
            (self.categories is None or category in self.categories)
            and (self.kinds is None or kind in self.kinds)
            and (self.names is None or name in self.names)
        )


class StatusApp:
    """Answers queries from a :class:`ReportCache`; never runs a collector."""

    def __init__(self, cache: ReportCache):
        self.cache = cache

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method not in _METHODS:
                raise HTTPError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed: this API is read-only"
                )
            body = self.route(environ.get("PATH_INFO", "") or "/", environ.get("QUERY_STRING", ""))
            status = HTTPStatus.OK
        except HTTPError as exc:
            status = exc.status
            body = {"error": {"code": int(exc.status), "message": exc.message}}
        except Exception:
            LOG.exception("status query %s failed", environ.get("PATH_INFO"))
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            body = {"error": {"code": 500, "message": "internal error; see the daemon's log"}}
        payload = json.dumps(body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
        ]
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            headers.append(("Allow", ", ".join(_METHODS)))
        start_response(f"{status.value} {status.phrase}", headers)
        return [] if method == "HEAD" else [payload]

    def route(self, path: str, query: str) -> Any:
        """The JSON answer to GET `path`?`query`; HTTPError for anything else."""
        parts = path.strip("/").split("/") if path != "/" else []
        if path != "/" and (path.endswith("/") or "" in parts):
            raise _not_found(path)
        if not parts:
            self._no_query(query)
            return API_VERSIONS
        if parts[0] != "1":
            raise _not_found(path)
        rest = parts[1:]
        if rest == ["list", "collectors"]:
            return self.list_collectors(_Filter(query))
        if len(rest) == 2 and rest[:2] == ["report", "all"]:
            return self.reports(_Filter(query))
        if len(rest) == 2 and rest[0] == "report":
            category = _category(rest[1])
            return self.reports(_Filter(query).within(category))
        if len(rest) == 3 and rest[0] == "report":
            self._no_query(query)
            return self.report(_category(rest[1]), rest[2])
        raise _not_found(path)

    def list_collectors(self, wanted: _Filter) -> list[list[Any]]:
        return [
            [c.name, category_path(c.category), int(c.kind)]
            for c in self.cache.collectors()
            if wanted.keeps(c.name, c.category, c.kind)
        ]

    def reports(self, wanted: _Filter) -> list[dict[str, Any]]:
        return [
            r.to_dict() for r in self.cache.reports() if wanted.keeps(r.name, r.category, r.kind)
        ]

    def report(self, category: Category | None, name: str) -> dict[str, Any]:
        report = self.cache.get(name)
        if report is None or report.category != category:
            raise HTTPError(
                HTTPStatus.NOT_FOUND,
                f"no collector {name!r} in category {category_path(category)!r}",
            )
        return report.to_dict()

    @staticmethod
    def _no_query(query: str) -> None:
        if query:
            raise HTTPError(HTTPStatus.BAD_REQUEST, "this resource takes no query parameters")


def _category(text: str) -> Category | None:
    try:
        return parse_category(text)
    except ValueError:
        known = ", ".join([*(c.value for c in Category), DEFAULT_CATEGORY])
        raise HTTPError(
            HTTPStatus.NOT_FOUND, f"unknown category {text!r}; known: {known}"
        ) from None


def _not_found(path: str) -> HTTPError:
    return HTTPError(HTTPStatus.NOT_FOUND, f"no such resource: {path}")
