"""The one place where logsvc's errors become HTTP statuses and JSON bodies.

The statuses (one table), the bodies (logsvc's and Trove's), and the error
handler that the API and the agent both register on their Flask application.
"""

import http
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from logsvc import exceptions as exc
from logsvc.signing import SignatureError

LOG = logging.getLogger(__name__)

# The most specific class wins: the table is searched along the class's MRO.
_STATUS: dict[type[Exception], int] = {
    exc.BadRequest: 400,
    exc.InvalidAction: 400,
    exc.PayloadTooLarge: 413,
    exc.UnsupportedMediaType: 415,
    exc.RequestTimeout: 408,
    exc.UriTooLong: 414,
    exc.RequestHeaderFieldsTooLarge: 431,
    exc.ExpectationFailed: 417,
    exc.UnsupportedTransferCoding: 501,
    exc.RouteNotFound: 404,
    exc.MethodNotAllowed: 405,
    exc.RangeNotSatisfiable: 416,
    exc.Unauthorized: 401,
    SignatureError: 401,
    exc.Forbidden: 403,
    exc.LogNotFound: 404,
    exc.InstanceNotFound: 404,
    exc.Conflict: 409,
    exc.LogBusy: 409,
    exc.LogFileMissing: 409,
    exc.LogFileUnreadable: 409,
    exc.DatastoreRefused: 409,
    exc.DatastoreError: 503,
    exc.StorageError: 503,
    exc.StateError: 503,
    exc.AgentUnreachable: 503,
    exc.DatabaseUnavailable: 503,
    exc.AgentTimeout: 504,
    exc.AgentError: 502,
    exc.TempUrlsUnavailable: 501,
    exc.ConfigError: 500,
    exc.LogsvcError: 500,
}


# The keys of Trove's error bodies ({"badRequest": {"code": 400, "message": ...}}),
# which python-troveclient reads the message from.
_TROVE_KEYS: dict[int, str] = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    416: "requestedRangeNotSatisfiable",
    501: "notImplemented",
    502: "badGateway",
    503: "serviceUnavailable",
    504: "gatewayTimeout",
}


def status_for(error: Exception) -> int:
    """The HTTP status of an error: that of its most specific class in the table."""
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


def error_body(error: exc.LogsvcError) -> dict[str, Any]:
    """``{"error": {"code", "message", "status"}}``: what every logsvc service answers."""
    return {"error": {"code": error.code, "message": error.message, "status": status_for(error)}}


def trove_error_body(error: exc.LogsvcError) -> dict[str, Any]:
    """The error as Trove's API shapes it, for the Trove-compatible routes."""
    status = status_for(error)
    key = _TROVE_KEYS.get(status, "instanceFault")
    return {key: {"code": status, "message": error.message}}


# What the web framework or an HTTP server refuses itself, by its status: each with
# a code of its own, so that a 414 does not say bad_request.
_REFUSALS: dict[int, type[exc.BadRequest]] = {
    _STATUS[cls]: cls
    for cls in (
        exc.RequestTimeout,
        exc.PayloadTooLarge,
        exc.UriTooLong,
        exc.UnsupportedMediaType,
        exc.ExpectationFailed,
        exc.RequestHeaderFieldsTooLarge,
    )
}


def error_for_http_status(
    status: int, description: str, allowed: Iterable[str] = ()
) -> exc.LogsvcError:
    """The domain error for an HTTP error that the web framework or server answers itself.

    `allowed`: a 405's methods, for its Allow header.
    """
    if status == 404:
        return exc.RouteNotFound("no such URL on this service")
    if status == 405:
        return exc.MethodNotAllowed(description or "method not allowed on this URL", allowed)
    if status in _REFUSALS:
        return _REFUSALS[status](description or http.HTTPStatus(status).phrase)
    if 400 <= status < 500:
        return exc.BadRequest(description or "bad request")
    return exc.LogsvcError("internal error")


def error_for_http(error: HTTPException) -> exc.LogsvcError:
    """The domain error for an HTTP error that the web framework raised (a 405's methods kept)."""
    allowed = getattr(error, "valid_methods", None) or ()
    return error_for_http_status(error.code or 500, error.description or "", allowed)


def _domain_error(error: Exception) -> exc.LogsvcError:
    """The domain error for whatever a view or the framework raised.

    A logsvc error is itself; an HTTP error of the framework (no route, a
    method not allowed, a body over the limit) becomes its domain error, with
    the application's limit in the 413's message; anything else is an
    internal error, logged with its traceback and answered without it.
    """
    if isinstance(error, exc.LogsvcError):
        return error
    if isinstance(error, HTTPException) and error.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return exc.PayloadTooLarge(f"the request body is larger than the {limit} bytes accepted")
    if isinstance(error, HTTPException):
        return error_for_http(error)
    LOG.exception("%s %s failed", request.method, request.path)
    return exc.LogsvcError(f"internal error; the log of {current_app.name} has the details")


def register_error_handler(
    app: Flask,
    *,
    translate: Callable[[Exception], exc.LogsvcError | None] | None = None,
    trove_prefix: str | None = None,
    challenge: str | None = None,
) -> None:
    """Answer every error that `app` raises as JSON: logsvc's one error handler.

    `translate` maps the exceptions of the application's own libraries (a
    database driver's, say) to domain errors, or None for "not one of mine";
    it logs what the client must not read. Paths under `trove_prefix` answer
    Trove's error bodies. A 401 carries `challenge` as its WWW-Authenticate.
    Every 5xx is logged.
    """

    def handle(error: Exception) -> tuple[Response, int]:
        domain = (translate(error) if translate else None) or _domain_error(error)
        status = status_for(domain)
        if status >= 500:
            LOG.warning("%s %s: %s", request.method, request.path, domain.message)
        trove = trove_prefix is not None and request.path.startswith(trove_prefix)
        response = jsonify(trove_error_body(domain) if trove else error_body(domain))
        if status == 401 and challenge:
            response.headers["WWW-Authenticate"] = challenge
        # what the error's status needs said in headers (a 416's Content-Range)
        response.headers.update(getattr(domain, "headers", None) or {})
        return response, status

    app.register_error_handler(Exception, handle)
