"""The application factory: ``create_app(conf)`` builds the API as a WSGI application."""

import logging

import sqlalchemy.exc
from flask import Flask, request
from oslo_config import cfg

from api import auth, callerstore, db, policies
from api.console import signin
from api.console import views as console
from api.state import EXTENSION, ApiState
from api.views import heartbeat, instances, logs, meta, trove
from logsvc import http, httperrors
from logsvc.exceptions import DatabaseUnavailable, LogsvcError

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
    callerstore.check_conf(conf)
    app.extensions[EXTENSION] = ApiState(
        conf=conf,
        db=database or db.Database.from_conf(conf),
        enforcer=policies.make_enforcer(conf),
        auth=strategy,
        http=http.new_session(),  # calls to agents: their deadline can cut a socket
        rpc=_rpc(conf),
    )
    for blueprint in (meta.bp, heartbeat.bp, logs.bp, instances.bp, trove.bp, console.bp):
        app.register_blueprint(blueprint)
    app.teardown_appcontext(db.close_session)
    # Trove's clients read Trove's error bodies on Trove's routes (api.views.trove).
    httperrors.register_error_handler(
        app, translate=_database_outage, trove_prefix="/v1.0/", challenge=strategy.challenge
    )
    # The console's sign-in form hands its token to the strategy as X-Auth-Token.
    app.wsgi_app = signin.form_token(strategy.wrap(app.wsgi_app))
    return app


def _rpc(conf: cfg.ConfigOpts):
    """With [agent] dispatch = rpc, the bus's client (it connects on the first call, in
    the worker); oslo.messaging is imported only then."""
    if conf.agent.dispatch != "rpc":
        return None
    from api.rpcdispatch import RpcTransport

    return RpcTransport(conf)


def _database_outage(error: Exception) -> LogsvcError | None:
    """A database that is away or refuses connections: 503, never its message.

    The driver's message may name the URL's user and host: it goes to the log only.
    """
    if not isinstance(error, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return None
    LOG.warning("%s %s: the database failed: %s", request.method, request.path, error.orig)
    return DatabaseUnavailable("the API's database cannot be reached; try again later")
