"""The application factory: ``create_app(conf)`` builds the API as a WSGI application."""

import logging

import requests
import sqlalchemy.exc
from flask import Flask, Response, current_app, jsonify, request
from oslo_config import cfg
from werkzeug.exceptions import HTTPException

from api import auth, db, policies
from api.state import EXTENSION, ApiState
from api.views import heartbeat, instances, logs, meta, trove
from logsvc.exceptions import DatabaseUnavailable, LogsvcError, PayloadTooLarge
from logsvc.httperrors import error_body, error_for_http_status, status_for, trove_error_body

LOG = logging.getLogger(__name__)


def create_app(conf: cfg.ConfigOpts, database: db.Database | None = None) -> Flask:
    """The API for a parsed configuration (``database`` overrides ``[database]``)."""
    app = Flask("logsvc-api")
    app.config["MAX_CONTENT_LENGTH"] = conf.api.max_body_size
    app.json.sort_keys = False
    # An empty path segment (an id of "%2F") is no route: a JSON 404, never
    # Flask's HTML redirect to another URL.
    app.url_map.merge_slashes = False
    # No OPTIONS answered by Flask itself (200 and an Allow header on every
    # route, which the OpenAPI document does not list): a 405 like any other.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    strategy = auth.strategy_from_conf(conf)
    app.extensions[EXTENSION] = ApiState(
        conf=conf,
        db=database or db.Database.from_conf(conf),
        enforcer=policies.make_enforcer(conf),
        auth=strategy,
        http=requests.Session(),
    )
    for blueprint in (meta.bp, heartbeat.bp, logs.bp, instances.bp, trove.bp):
        app.register_blueprint(blueprint)
    app.teardown_appcontext(db.close_session)
    app.register_error_handler(Exception, _error_response)
    app.wsgi_app = strategy.wrap(app.wsgi_app)
    return app


def _error_response(error: Exception) -> tuple[Response, int]:
    """Every error, as JSON: the one handler (statuses come from logsvc.httperrors)."""
    if isinstance(error, LogsvcError):
        domain = error
    elif isinstance(error, HTTPException) and error.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        domain = PayloadTooLarge(f"the request body is larger than the {limit} bytes accepted")
    elif isinstance(error, HTTPException):
        domain = error_for_http_status(error.code or 500, error.description or "")
    elif isinstance(error, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        # The server is away or refuses connections; its message may name the
        # URL's user and host: it goes to the log only.
        LOG.warning("%s %s: the database failed: %s", request.method, request.path, error.orig)
        domain = DatabaseUnavailable("the API's database cannot be reached; try again later")
    else:
        LOG.exception("%s %s failed", request.method, request.path)
        domain = LogsvcError("internal error; the API's log has the details")
    status = status_for(domain)
    if status >= 500:
        LOG.warning("%s %s: %s", request.method, request.path, domain.message)
    trove_style = request.path.startswith("/v1.0/")
    response = jsonify(trove_error_body(domain) if trove_style else error_body(domain))
    challenge = current_app.extensions[EXTENSION].auth.challenge
    if status == 401 and challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response, status
