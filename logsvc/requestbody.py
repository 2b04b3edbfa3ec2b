"""The body of a request to one of logsvc's Flask services, within its size limit."""

import logging

from flask import Request
from werkzeug.exceptions import ClientDisconnected, HTTPException

from logsvc.exceptions import BadRequest, LogsvcError, PayloadTooLarge
from logsvc.readdeadline import ReadDeadline

LOG = logging.getLogger(__name__)


def read_body(request: Request) -> bytes:
    """The whole body; PayloadTooLarge (413) when it is larger than MAX_CONTENT_LENGTH,
    BadRequest (400) when it cannot be read.

    With a Content-Length, werkzeug refuses a large body itself. Without one
    (a chunked body) it stops reading at the limit, and what was read would
    pass for the whole body: a body that reaches the limit is refused.
    """
    try:
        data = request.get_data(cache=True)
    except ClientDisconnected as exc:  # werkzeug's word for a read that failed
        raise _unreadable(request, exc.__context__) from None
    except (HTTPException, LogsvcError):
        raise
    except Exception as exc:
        # The WSGI server's reader failed on what the client sent or did not
        # send: a malformed chunk (gunicorn's ParseException, cheroot's
        # ValueError), a body cut short or a connection gone (OSError). Which
        # server's error it is does not matter: the body is unreadable.
        raise _unreadable(request, exc) from None
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise PayloadTooLarge(f"the request body is larger than the {limit} bytes accepted")
    return data


def _unreadable(request: Request, cause: BaseException | None) -> BadRequest:
    if isinstance(cause, ReadDeadline):
        return BadRequest(cause.message)
    LOG.info("%s %s: the request body cannot be read: %r", request.method, request.path, cause)
    return BadRequest("the request body cannot be read: it is malformed or was cut short")
