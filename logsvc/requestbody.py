"""The body of a request to one of logsvc's Flask services, within its size limit."""

from flask import Request

from logsvc.exceptions import PayloadTooLarge


def read_body(request: Request) -> bytes:
    """The whole body; PayloadTooLarge (413) when it is larger than MAX_CONTENT_LENGTH.

    With a Content-Length, werkzeug refuses a large body itself. Without one
    (a chunked body) it stops reading at the limit, and what was read would
    pass for the whole body: a body that reaches the limit is refused.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise PayloadTooLarge(f"the request body is larger than the {limit} bytes accepted")
    return data
