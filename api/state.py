"""What one API process holds for its requests: configuration, database,
policy, authentication and the HTTP transport to the agents."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from api.inflight import InFlight

if TYPE_CHECKING:
    import requests
    from oslo_config import cfg
    from oslo_policy import policy

    from api.auth import Strategy
    from api.db import Database

EXTENSION = "logsvc"


@dataclass
class ApiState:
    """The process's long-lived objects, built once by the application factory."""

    conf: "cfg.ConfigOpts"
    db: "Database"
    enforcer: "policy.Enforcer"
    auth: "Strategy"
    http: "requests.Session"
    inflight: InFlight = field(default_factory=InFlight)


def app_state() -> ApiState:
    """The current application's state."""
    return current_app.extensions[EXTENSION]
