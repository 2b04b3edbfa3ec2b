"""The one place where logsvc's errors become HTTP statuses and JSON bodies."""

from typing import Any

from logsvc import exceptions as exc
from logsvc.signing import SignatureError

# The most specific class wins: the table is searched along the class's MRO.
_STATUS: dict[type[Exception], int] = {
    exc.BadRequest: 400,
    exc.InvalidAction: 400,
    exc.PayloadTooLarge: 413,
    exc.UnsupportedMediaType: 415,
    exc.RouteNotFound: 404,
    exc.MethodNotAllowed: 405,
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


def error_for_http_status(status: int, description: str) -> exc.LogsvcError:
    """The domain error for an HTTP error that the web framework raised itself."""
    if status == 404:
        return exc.RouteNotFound("no such URL on this service")
    if status == 405:
        return exc.MethodNotAllowed(description or "method not allowed on this URL")
    if status == 413:
        return exc.PayloadTooLarge(description or "the request body is too large")
    if status == 415:
        return exc.UnsupportedMediaType(description or "unsupported content type")
    if 400 <= status < 500:
        return exc.BadRequest(description or "bad request")
    return exc.LogsvcError("internal error")
