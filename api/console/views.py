"""The console's pages: ``/console/...``, a blueprint of the API's application.

Every page asks the API's own service functions (api.instances, api.logs,
api.policies) with the signed-in caller, so that what a page shows and what
it may do are exactly what the JSON routes answer that caller: an instance of
another project is a 404 here as there.

Security: the session is server-side (api/console/sessions.py); its cookie is
HttpOnly, SameSite=Strict, Secure when the request came over TLS (directly,
or through a proxy of ``[api] forwarded_allow_ips``, which gunicorn trusts
for X-Forwarded-Proto). Every state-changing request carries the session's
CSRF token (a form field, or the X-CSRF-Token header of the console's
script) and, when the browser sends one, an Origin of this host. The sign-in
form is protected by a token of its own (double-submit cookie). Every answer
carries a Content-Security-Policy without inline script or style.
"""

import datetime as dt
import hmac
import json
import logging
import secrets
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from api import claims, instances, logread, logs, logstate, policies
from api.auth import hash_token
from api.bodies import instance_id as checked_instance_id
from api.bodies import log_name as checked_log_name
from api.bodies import whole_number
from api.console import sessions, text
from api.db import session as db
from api.models import LogAction, utcnow
from api.state import app_state
from logsvc import httperrors
from logsvc.client.cursor import Cursor, Notice, Place
from logsvc.exceptions import (
    BadRequest,
    Forbidden,
    LogsvcError,
    MethodNotAllowed,
    RouteNotFound,
    Unauthorized,
)
from logsvc.logmodel import LogView
from logsvc.safetext import printable
from logsvc.status.client import fetch_reports

LOG = logging.getLogger(__name__)

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

ACTIONS = ("enable", "disable", "publish", "discard")
SIGNIN_COOKIE = "logsvc_console_signin"
#: The console's script asks for fragments with this header.
FRAGMENT_HEADER = "X-Console-Fragment"
CSRF_HEADER = "X-CSRF-Token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_OPEN = {"console.sign_in", "console.static", "console.index", "console.no_such_page"}


# --- every request ----------------------------------------------------------------


@bp.before_request
def _session() -> Response | None:
    g.console = sessions.find(db(), request.cookies.get(sessions.COOKIE))
    if request.endpoint in _OPEN:
        return None
    if g.console is None:
        if request.method == "GET" and not _fragment():
            return redirect(url_for("console.sign_in", next=_local(request.full_path)), 303)
        raise Unauthorized("sign in first (your session ended)")
    g.caller = sessions.caller_of(g.console)
    if request.method not in ("GET", "HEAD"):
        _check_origin()
        sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent.encode(), g.console.csrf_token.encode()):
            raise Forbidden("this form has no valid CSRF token: reload the page and try again")
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Exception)
def _error(error: Exception) -> tuple[str, int, dict[str, str]] | HTTPException:
    if isinstance(error, HTTPException) and error.code and error.code < 400:
        return error  # a redirect raised by routing
    domain = error if isinstance(error, LogsvcError) else None
    if domain is None:
        if isinstance(error, HTTPException):
            domain = httperrors.error_for_http(error)
        else:
            LOG.exception("%s %s failed", request.method, request.path)
            domain = LogsvcError("the console failed; the API's log says why")
    status = httperrors.status_for(domain)
    message = printable(domain.message)
    # what the status needs said in headers (a 405's Allow)
    headers = getattr(domain, "headers", None) or {}
    if _fragment():
        fragment = render_template("console/_error.html", message=message, status=status)
        return fragment, status, headers
    page = render_template(
        "console/error.html",
        message=message,
        status=status,
        title=f"Error {status}",
        session=g.get("console"),
        caller=g.get("caller"),
        admin=_admin(),
    )
    return page, status, headers


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"fmt_bytes": text.human_bytes, "when": _when}


def _fragment() -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def _check_origin() -> None:
    """A cross-site request is refused whatever it carries (Origin, when sent, is ours)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise Forbidden("this request comes from another site")


def _local(path: str | None) -> str:
    """A path inside the console to go back to, never a link elsewhere.

    The path is resolved as a browser resolves it (a backslash is a slash, and
    dot segments go, percent-encoded ones too: ``%2e%2e``), and kept only when
    it then still lies in the console; anything with a space or a control
    character (a browser drops tabs and newlines) is not kept either.
    Otherwise: the list of instances.
    """
    default = url_for("console.instances_page")
    if not path or any(c.isspace() or not c.isprintable() for c in path):
        return default
    split = min((i for i in (path.find("?"), path.find("#")) if i >= 0), default=len(path))
    where, rest = _resolved(path[:split].replace("\\", "/")), path[split:]
    if not where.startswith("/console/") or where.startswith("/console//"):
        return default
    return where + (rest if rest.strip("?#") else "")


def _resolved(path: str) -> str:
    """`path` without its dot segments (RFC 3986's remove_dot_segments, and
    WHATWG's: ``%2e`` is a dot), the other segments as they are."""
    if not path.startswith("/"):
        return ""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for index, segment in enumerate(segments):
        dots = unquote(segment)
        if dots not in (".", ".."):
            kept.append(segment)
            continue
        if dots == ".." and kept:
            kept.pop()
        if index == len(segments) - 1:
            kept.append("")  # "/a/b/.." is "/a/"
    return "/" + "/".join(kept)


def _when(value: str | dt.datetime | None) -> str:
    if not value:
        return "never"
    if isinstance(value, dt.datetime):
        value = instances.iso(value)
    return str(value).replace("T", " ").replace("Z", " UTC")


def _render(template: str, **values: Any) -> str:
    return render_template(
        f"console/{template}",
        session=g.console,
        caller=g.get("caller"),
        admin=_admin(),
        **values,
    )


def _admin() -> bool:
    caller = g.get("caller")
    if caller is None:
        return False
    return policies.allowed(
        app_state().enforcer, caller, policies.INSTANCE_LIST_ALL, caller.project_id
    )


# --- signing in and out -------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    target = "console.instances_page" if g.console else "console.sign_in"
    return redirect(url_for(target), 303)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int]:
    state = app_state()
    error = None
    status = 200
    if request.method == "POST":
        _check_origin()
        sent = request.form.get("signin_token", "")
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden("the sign-in form expired: reload the page and sign in again")
        try:
            caller = state.auth.authenticate(request.headers, db())
        except Unauthorized:
            error, status = "That token is not valid here.", 401
        else:
            token = request.headers.get("X-Auth-Token", "")
            token_hash = _token_hash(state.auth.name, token)
            session_id, _ = sessions.open_session(
                db(), caller, state.conf.api.console_session_ttl, token_hash, _keystone_expiry()
            )
            target = _local(request.form.get("next"))
            response = redirect(target, 303)
            _set_cookie(response, sessions.COOKIE, session_id)
            response.delete_cookie(SIGNIN_COOKIE, path="/console/")
            return response
    signin_token = secrets.token_urlsafe(24)
    page = render_template(
        "console/sign_in.html",
        title="Sign in",
        signin_token=signin_token,
        next=_local(request.values.get("next")),
        strategy=state.auth.name,
        error=error,
        session=None,
        caller=None,
        admin=False,
    )
    response = Response(page, status)
    _set_cookie(response, SIGNIN_COOKIE, signin_token)
    return response


def _token_hash(strategy: str, token: str) -> str | None:
    return hash_token(token) if strategy == "token" else None


def _keystone_expiry() -> dt.datetime | None:
    """When the Keystone token just validated expires (naive UTC), if keystonemiddleware says."""
    plugin = request.environ.get("keystone.token_auth")
    expires = getattr(getattr(plugin, "user", None), "expires", None)
    if not isinstance(expires, dt.datetime):
        return None
    if expires.tzinfo is not None:
        expires = expires.astimezone(dt.UTC).replace(tzinfo=None)
    return expires


def _set_cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/console/",
        httponly=True,
        secure=request.is_secure,
        samesite="Strict",
    )


@bp.post("/sign-out")
def sign_out() -> Response:
    sessions.forget(db(), request.cookies.get(sessions.COOKIE))
    response = redirect(url_for("console.sign_in", signed_out=1), 303)
    response.delete_cookie(sessions.COOKIE, path="/console/")
    return response


# --- instances --------------------------------------------------------------------------


@bp.get("/instances")
def instances_page() -> str:
    caller = g.caller
    found = instances.visible(db(), app_state().enforcer, caller)
    busy = _busy([i.id for i in found])
    rows = [instances.view(i, _admin(), busy) for i in found]
    return _render("instances.html", title="Instances", instances=rows)


def _busy(ids: list[str]) -> set[str]:
    """Which of the instances publish now (their task state LOGGING)."""
    return claims.publishing_among(db(), ids, app_state().conf.api.agent_silence_warning)


def _instance(instance_id: str):
    return instances.find(db(), app_state().enforcer, g.caller, checked_instance_id(instance_id))


@bp.get("/instances/<instance_id>")
def instance_page(instance_id: str) -> str:
    instance = _instance(instance_id)
    answer = logs.list_logs(db(), app_state(), g.caller, instance.id)
    views = [LogView.from_dict(entry) for entry in answer["logs"]]
    running = _running(instance.id)
    exposed = _exposure(instance.id) if _admin() else {}
    return _render(
        "instance.html",
        title=instance.name,
        instance=instances.view(instance, _admin(), _busy([instance.id])),
        logs=[_row(v, running.get(v.name), exposed.get(v.name)) for v in views],
        stale=answer if answer.get("stale") else None,
        done=request.args.get("done"),
    )


def _running(instance_id: str) -> dict[str, LogAction]:
    """The actions running now on the instance's logs, by log (the claims' rows)."""
    return {
        a.name: a
        for a in claims.listing(db())
        if a.instance_id == instance_id and a.expires_at >= utcnow()
    }


def _exposure(instance_id: str) -> dict[str, bool | None]:
    return {r.name: r.exposed for r in logstate.known(db(), instance_id)}


def _row(view: LogView, running: LogAction | None, exposed: bool | None = None) -> dict[str, Any]:
    """A log's row: its view, the action that runs on it now, its last publish's outcome.

    A publish runs while the API holds its claim, and after the API answered
    (202, past ``[api] publish_wait``) for as long as the agent says it runs.
    """
    outcome = view.publish
    action, since = (running.action, _when(running.started_at)) if running else (None, None)
    if action is None and outcome is not None and outcome.running:
        action, since = "publish", _when(outcome.started_at)
    last = None
    if outcome is not None and not outcome.running:
        last = {
            "state": str(outcome.state),
            "when": _when(outcome.ended_at or outcome.started_at),
            "error": printable(outcome.error) if outcome.error else None,
        }
    return {
        "log": view,
        "running": action,
        "since": since,
        "last": last,
        "unexposed": exposed is False,
    }


@bp.get("/instances/<instance_id>/logs/<name>/row")
def log_row(instance_id: str, name: str) -> str:
    """One log's row, fresh from its agent: what the page polls while an action runs."""
    instance = _instance(instance_id)
    name = checked_log_name(name)
    answer, _ = logs.post_log(db(), app_state(), g.caller, instance.id, name, {})
    view = LogView.from_dict(answer["log"])
    running = _running(instance.id).get(name)
    exposed = _exposure(instance.id).get(name) if _admin() else None
    return _render(
        "_log_row.html",
        instance_id=instance.id,
        row=_row(view, running, exposed),
        note=_stale_note(answer),
    )


def _stale_note(answer: dict[str, Any]) -> str | None:
    if not answer.get("stale"):
        return None
    return f"the agent did not answer: {printable(answer.get('reason', ''))}; last known state"


@bp.get("/instances/<instance_id>/logs/<name>/discard")
def confirm_discard(instance_id: str, name: str) -> str:
    """The confirmation page of a discard (the script asks in place instead)."""
    instance = _instance(instance_id)
    return _render(
        "confirm_discard.html",
        title=f"Discard {name}?",
        instance=instances.view(instance, False, set()),
        name=checked_log_name(name),
    )


@bp.post("/instances/<instance_id>/logs/<name>/<action>")
def act(instance_id: str, name: str, action: str) -> Response | str:
    if action not in ACTIONS:
        abort(404)
    instance = _instance(instance_id)
    name = checked_log_name(name)
    if action == "discard" and request.form.get("confirm") != "yes":
        if _fragment():
            raise BadRequest("a discard must be confirmed")
        return redirect(url_for("console.confirm_discard", instance_id=instance.id, name=name), 303)
    answer, status = logs.post_log(db(), app_state(), g.caller, instance.id, name, {action: True})
    view = LogView.from_dict(answer["log"])
    if not _fragment():
        target = url_for("console.instance_page", instance_id=instance.id, done=f"{action} {name}")
        return redirect(target, 303)
    exposed = _exposure(instance.id).get(name) if _admin() else None
    return _render(
        "_log_row.html",
        instance_id=instance.id,
        row=_row(view, _running(instance.id).get(name), exposed),
        note=f"{action}: done" if status == 200 else f"{action}: still running on the agent",
    )


# --- the node's status report (admins) ---------------------------------------------------


@bp.get("/status")
def status_page() -> str:
    if not _admin():
        raise Forbidden("the status report is for admins")
    conf = app_state().conf
    address = f"{_host(conf.status.bind_host)}:{conf.status.bind_port}"
    error = None
    cards: list[dict[str, Any]] = []
    if not conf.status.enabled:
        error = "the status report is off ([status] enabled = false)"
    else:
        try:
            reports = fetch_reports(address, timeout=5)
        except LogsvcError as exc:
            error = printable(exc.message)
        else:
            cards = [_card(r) for r in reports]
    return _render("status.html", title="Status", cards=cards, error=error, address=address)


def _figures(data: Any, most: int = 8) -> list[tuple[str, str]]:
    """A report's plain top-level values (numbers, words), for a card; the rest is in its JSON."""
    if not isinstance(data, dict):
        return []
    plain = [
        (printable(k, 40), printable(v, 80))
        for k, v in data.items()
        if k != "status" and isinstance(v, str | int | float) and not isinstance(v, bool)
    ]
    return plain[:most]


def _host(bind_host: str) -> str:
    if bind_host in ("0.0.0.0", ""):  # noqa: S104 - where the report listens, to reach it
        return "127.0.0.1"
    if bind_host == "::":
        return "[::1]"
    return f"[{bind_host}]" if ":" in bind_host else bind_host


def _card(report) -> dict[str, Any]:
    status = report.status
    code = status.code.word if status else "figures"
    message = printable(status.message) if status else ""
    return {
        "name": report.name,
        "category": report.category.value if report.category else "",
        "code": code,
        "message": message,
        "when": dt.datetime.fromtimestamp(report.timestamp / 1e9, dt.UTC).strftime(
            "%Y-%m-%d %H:%M:%S UTC"
        ),
        "figures": _figures(report.data),
        "raw": json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str),
    }


# --- reading: the viewer and the download (api/logread.py, as the read route) -----------

#: Lines the viewer shows at most (more: download the log).
MAX_LINES = 5000
DEFAULT_LINES = 200
#: Bytes of a tail the viewer holds at most: beyond, its earliest lines are left out.
MAX_VIEW_BYTES = 8 * 1024 * 1024
#: Bytes one look of the live viewer reads at most (the next look reads on).
LIVE_BYTES = 1024 * 1024


def _lines_arg() -> int:
    return whole_number("lines", request.args.get("lines", str(DEFAULT_LINES)), 1, MAX_LINES)


def _tail(instance_id: str, name: str, count: int) -> dict[str, Any]:
    """The last `count` lines of the published log, as the read route's ?lines=N reads them."""
    layout, reader = logread.open_log(db(), app_state(), g.caller, instance_id, name)
    data = logread.answer(layout, reader, lines=count)
    held = bytearray()
    cut = False
    for chunk in data.chunks:
        held += chunk
        if len(held) > MAX_VIEW_BYTES:
            del held[: len(held) - MAX_VIEW_BYTES]
            cut = True
    if cut:  # start at a whole line
        first = held.find(b"\n")
        del held[: first + 1]
    lines = text.show_lines(bytes(held))
    complete = not cut and len(lines) < count
    published = int(data.headers.get("X-Log-Published", "0") or 0)
    summary = (
        f"{len(lines)} line{'s' if len(lines) != 1 else ''} shown"
        + (" (every line published)" if complete else f", the last of {published} bytes published")
        + (f"; cut to the last {text.human_bytes(MAX_VIEW_BYTES)}" if cut else "")
    )
    if data.headers.get("X-Log-Missing-Ranges"):
        summary += "; some earlier bytes are gone from the store: " + printable(
            data.headers["X-Log-Missing-Ranges"], 200
        )
    if reader is None:
        summary = "nothing of this log is published yet: publish it first"
    end = Cursor.end_of(layout.runs())
    return {
        "text": "\n".join(lines),
        "lines": count,
        "complete": complete or cut or count >= MAX_LINES,
        "summary": summary,
        "after": str(end) if end else "",
    }


def _news(instance_id: str, name: str, after: Cursor | None) -> dict[str, Any]:
    """The lines published past `after` (a follower's place, logsvc/client/cursor.py).

    Read as the read route reads a Range: from where `after` sits in the log
    as it is now, at most LIVE_BYTES (then `more`, cut at a whole line).
    A rotation or bytes gone in between are lines of their own.
    """
    layout, reader = logread.open_log(db(), app_state(), g.caller, instance_id, name)
    runs = layout.runs()
    place = Place(after)
    start = place.start(runs, layout.size)
    end = min(layout.size, start + LIVE_BYTES)
    items: list[bytes | Notice] = []
    if reader is not None and start < end:
        data = logread.answer(layout, reader, range_header=f"bytes={start}-{end - 1}")
        position = start
        for chunk in data.chunks:
            items.extend(place.take(runs, position, chunk))
            position += len(chunk)
    more = end < layout.size
    lines, left = text.news_lines(items, more)
    if left and place.cursor:  # the cut line: read again, whole, by the next look
        place.cursor = Cursor(place.cursor.generation, place.cursor.offset - left)
    after = str(place.cursor or "")
    return {"text": "\n".join(lines), "lines": len(lines), "after": after, "more": more}


@bp.get("/instances/<instance_id>/logs/<name>/view")
def view_log(instance_id: str, name: str) -> str:
    instance = _instance(instance_id)
    name = checked_log_name(name)
    count = _lines_arg()
    shown = _tail(instance.id, name, count)
    return _render(
        "viewer.html",
        title=f"{name} of {instance.name}",
        instance=instances.view(instance, False, set()),
        name=name,
        wrap=request.args.get("wrap") == "1",
        max_lines=MAX_LINES,
        earlier=min(count * 2, MAX_LINES),
        news=url_for("console.log_news", instance_id=instance.id, name=name),
        **shown,
    )


@bp.get("/instances/<instance_id>/logs/<name>/text")
def log_text(instance_id: str, name: str) -> Response:
    """The viewer's "load earlier": the last N lines as JSON text, for the script."""
    instance = _instance(instance_id)
    name = checked_log_name(name)
    count = _lines_arg()
    shown = _tail(instance.id, name, count)
    earlier = min(count * 2, MAX_LINES)
    shown["earlier"] = url_for(
        "console.log_text", instance_id=instance.id, name=name, lines=earlier
    )
    shown["earlier_page"] = url_for(
        "console.view_log", instance_id=instance.id, name=name, lines=earlier
    )
    return Response(json.dumps(shown), 200, {"Content-Type": "application/json"})


@bp.get("/instances/<instance_id>/logs/<name>/news")
def log_news(instance_id: str, name: str) -> Response:
    """The live viewer's look: the lines published past ``?after=GENERATION:OFFSET``, as JSON."""
    instance = _instance(instance_id)
    name = checked_log_name(name)
    raw = request.args.get("after", "")
    after = Cursor.parse(raw)
    if raw and after is None:
        raise BadRequest("after must be GENERATION:OFFSET, as the viewer was given it")
    shown = _news(instance.id, name, after)
    return Response(json.dumps(shown), 200, {"Content-Type": "application/json"})


@bp.get("/instances/<instance_id>/logs/<name>/download")
def download_log(instance_id: str, name: str) -> Response:
    """The whole published log, streamed as the read route streams it."""
    instance = _instance(instance_id)
    name = checked_log_name(name)
    layout, reader = logread.open_log(db(), app_state(), g.caller, instance.id, name)
    data = logread.answer(layout, reader)
    headers = {
        k: v
        for k, v in data.headers.items()
        if k in ("Content-Length", "ETag", "Last-Modified", "X-Log-Size", "X-Log-Missing-Ranges")
    }
    headers["Content-Type"] = "application/octet-stream"
    headers["Content-Disposition"] = f'attachment; filename="{name}.log"'
    return Response(data.chunks, data.status, headers, direct_passthrough=True)


# --- a URL under /console/ that no page answers --------------------------------------------

#: The methods that a URL of no page is answered for here, by the console's error page
#: (routing's own 404 and 405 belong to no blueprint: they would be the API's JSON).
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


@bp.route("/<path:page>", methods=_EVERY_METHOD)
def no_such_page(page: str) -> NoReturn:
    """404, or 405 (with Allow) when the URL is a page that takes other methods."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in _EVERY_METHOD:
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint != request.endpoint:
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed("this page does not take that method", allowed)
    raise RouteNotFound("no such page in the console")
