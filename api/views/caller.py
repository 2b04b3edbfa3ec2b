"""Who calls: found once per request, before the views of the routes that need a caller."""

from flask import g, request

from api.auth import Caller
from api.db import session
from api.state import app_state


def authenticate() -> None:
    """``before_request`` of the blueprints that need a caller: find who calls, or 401."""
    g.caller = app_state().auth.authenticate(request.headers, session())


def current() -> Caller:
    """The caller that ``authenticate`` found for this request."""
    return g.caller
