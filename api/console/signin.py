"""The sign-in form's token, handed to the auth strategy as the API's own header.

A browser sends the token in a form body; the strategies read the
``X-Auth-Token`` header, and under ``keystone`` it is keystonemiddleware, in
front of the application, that validates it and sets the identity headers.
So this WSGI wrapper, placed in front of the strategy's, copies the form's
``token`` field into ``X-Auth-Token`` for the sign-in route only; the
strategy then authenticates the sign-in exactly as an API request.
"""

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

SIGN_IN_PATH = "/console/sign-in"
#: Bytes of a sign-in form read here at most (a token, a CSRF token, a path).
FORM_LIMIT = 16 * 1024

WsgiApp = Callable[..., Iterable[bytes]]


def form_token(app: WsgiApp) -> WsgiApp:
    """`app` with the sign-in form's token copied into HTTP_X_AUTH_TOKEN."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if _console(environ):
            environ.pop("HTTP_X_AUTH_TOKEN", None)
        if (
            environ.get("PATH_INFO") == SIGN_IN_PATH
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        ):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if 0 < length <= FORM_LIMIT:
                body = environ["wsgi.input"].read(length)
                environ["wsgi.input"] = io.BytesIO(body)
                token = parse_qs(body.decode("latin-1")).get("token", [""])[0].strip()
                if token:
                    environ["HTTP_X_AUTH_TOKEN"] = token
        return app(environ, start_response)

    return wrapped


def _console(environ: dict[str, Any]) -> bool:
    """A console path: its credential is the session cookie, never a header."""
    path = environ.get("PATH_INFO", "")
    return path == "/console" or path.startswith("/console/")
