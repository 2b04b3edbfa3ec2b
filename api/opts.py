"""Every option of the API, for registration and oslo-config-generator."""

from oslo_config import cfg

from api import app, auth, db, dispatch, heartbeat, logs, operations, policies, server
from logsvc import gmr, profiling, status


def register_opts(conf: cfg.ConfigOpts) -> None:
    for module in (app, auth, db, dispatch, heartbeat, logs, operations, policies, server):
        module.register_opts(conf)
    status.register_opts(conf, status.API_STATUS_PORT)
    gmr.register_opts(conf)
    profiling.register_opts(conf)


def list_opts() -> list[tuple[str | cfg.OptGroup | None, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point ``logsvc.api``."""
    return [
        (
            "api",
            server.server_opts
            + auth.auth_opts
            + app.app_opts
            + logs.list_opts_
            + heartbeat.heartbeat_opts
            + operations.operations_opts,
        ),
        (db.database_group, db.database_opts),
        (dispatch.agent_group, dispatch.agent_opts),
        *status.list_opts(status.API_STATUS_PORT),
        *profiling.list_opts(),
    ]
