"""What one API process holds for its requests: configuration, database,
policy, authentication and the HTTP transport to the agents."""

from dataclasses import dataclass, field

import requests
from flask import current_app
from oslo_config import cfg
from oslo_policy import policy

from api.auth import Strategy
from api.db import Database
from api.operations import InFlight

EXTENSION = "logsvc"


@dataclass
class ApiState:
    """The process's long-lived objects, built once by the application factory."""

    conf: cfg.ConfigOpts
    db: Database
    enforcer: policy.Enforcer
    auth: Strategy
    http: requests.Session
    inflight: InFlight = field(default_factory=InFlight)


def app_state() -> ApiState:
    """The current application's state."""
    return current_app.extensions[EXTENSION]
