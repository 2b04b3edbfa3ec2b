"""The errors of logsvc's domain, in one place.

Each error carries a message meant for the person who asked for the action,
and a stable `code` that travels in JSON error bodies (so the API can raise
again what an agent answered). How an error becomes an HTTP status is decided
in one place: `logsvc.httperrors`.
"""

from collections.abc import Iterable


class LogsvcError(Exception):
    """Base of every error logsvc raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            # LogNotFound -> log_not_found
            name = cls.__name__
            cls.code = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
        _BY_CODE.setdefault(cls.code, cls)


_BY_CODE: dict[str, type[LogsvcError]] = {}


def from_code(code: str, message: str) -> LogsvcError:
    """The error a JSON body names by its code (LogsvcError for an unknown code)."""
    return _BY_CODE.get(code, LogsvcError)(message)


# --- requests -------------------------------------------------------------------


class BadRequest(LogsvcError):
    """The request is malformed: the message says what is wrong with it."""


class PayloadTooLarge(BadRequest):
    """The request body is larger than the service accepts."""


class UnsupportedMediaType(BadRequest):
    """The request body is not of a content type the service reads (JSON)."""


class RequestTimeout(BadRequest):
    """The request's line and headers did not arrive in time (the HTTP server's 408)."""


class UriTooLong(BadRequest):
    """The request line is longer than the HTTP server reads (414)."""


class RequestHeaderFieldsTooLarge(BadRequest):
    """The request's headers are more, or larger, than the HTTP server reads (431)."""


class ExpectationFailed(BadRequest):
    """An ``Expect`` header the HTTP server cannot meet (417)."""


class UnsupportedTransferCoding(BadRequest):
    """A ``Transfer-Encoding`` the HTTP server does not implement (501)."""


class RangeNotSatisfiable(LogsvcError):
    """A ``Range`` that lies wholly past the end of what would be served (HTTP 416).

    `size` is the length of the whole answer, which a 416 names in its
    ``Content-Range: bytes */<size>``.
    """

    def __init__(self, message: str, size: int = 0, also: dict[str, str] | None = None):
        super().__init__(message)
        self.size = size
        #: More headers for the answer (the read route's figures of the log).
        self.also = dict(also or {})

    @property
    def headers(self) -> dict[str, str]:
        return {**self.also, "Content-Range": f"bytes */{self.size}"}


class RouteNotFound(LogsvcError):
    """No such URL on this service."""


class MethodNotAllowed(LogsvcError):
    """The URL exists, but not with this HTTP method.

    `allowed` are the methods it takes, which a 405 names in its ``Allow``
    (RFC 9110); none known (one rebuilt from a JSON body's code): no Allow,
    rather than an empty one, which would say that it takes none.
    """

    def __init__(self, message: str, allowed: Iterable[str] = ()):
        super().__init__(message)
        self.allowed = sorted(set(allowed))

    @property
    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)} if self.allowed else {}


class Unauthorized(LogsvcError):
    """No credentials, or credentials that are not valid."""


class Forbidden(LogsvcError):
    """Valid credentials that do not allow this action."""


class Conflict(LogsvcError):
    """The action conflicts with one in progress."""


class InstanceNotFound(LogsvcError):
    """No instance of that id (or not one the caller may see)."""


class DatabaseUnavailable(LogsvcError):
    """The API's database cannot be reached (or keeps failing): try again later."""


class AgentUnreachable(LogsvcError):
    """The instance's agent could not be reached."""


class AgentTimeout(LogsvcError):
    """The instance's agent did not answer in time."""


class AgentError(LogsvcError):
    """The instance's agent answered, but not with a usable answer."""


# --- configuration -----------------------------------------------------------


class ServerTimeout(LogsvcError):
    """A server (the API, an agent, a status report) did not answer in time."""


class ServerUnreachable(LogsvcError):
    """A server could not be connected to, or the connection was lost."""


class BadAnswer(LogsvcError):
    """A server answered what a caller will not take: a redirect, or too much."""


class ConfigError(LogsvcError):
    """The configuration is wrong; the message names the option."""


# --- object storage ----------------------------------------------------------


class StorageError(LogsvcError):
    """The object store refused or failed a request."""


class StorageUnavailable(StorageError):
    """The object store could not be reached, or kept failing, after retries."""


class StorageAuthError(StorageError):
    """The object store refused our credentials."""


class ObjectNotFound(StorageError):
    """The object (or its container) does not exist, or has expired."""


class TempUrlsUnavailable(LogsvcError):
    """This deployment hands out no temp URLs (no Swift, or no temp-URL key configured)."""


class InvalidObjectName(StorageError):
    """A container or object name that the backend cannot hold safely."""


# --- logs and their actions --------------------------------------------------


class LogNotFound(LogsvcError):
    """No log of that name on this instance (or not one the caller may see)."""


class InvalidAction(LogsvcError):
    """The action does not apply to this log (enable a SYS log, say)."""


class LogFileMissing(LogsvcError):
    """The log's file does not exist."""


class LogFileUnreadable(LogsvcError):
    """The log's file exists but cannot be read."""


class PublishFailed(LogsvcError):
    """A publish that outlasted its request ended in failure (the agent's words), or
    its agent went silent before saying how it ended (the client's side)."""


class LogBusy(LogsvcError):
    """Another action on the same log holds it for longer than we may wait."""


class StateError(LogsvcError):
    """The agent could not record a log's state (a full disk, say)."""


class DatastoreError(LogsvcError):
    """The datastore could not be reached."""


class DatastoreRefused(DatastoreError):
    """The datastore answered, and refused to do what was asked (a privilege missing, say)."""
