"""Who is calling: the three auth strategies of ``[api] auth_strategy``.

- ``keystone``: keystonemiddleware's auth_token validates the token in front of
  the application (with ``delay_auth_decision``, so that the unauthenticated
  routes still pass) and sets X-Identity-Status, X-Project-Id and X-Roles,
  which are trusted here; auth_token strips those headers from what the
  client sent, so they cannot be forged through it.
- ``token``: tokens made by ``logsvc-manage token create``, kept as SHA-256
  hashes, each mapped to a project and roles.
- ``noauth``: development only: X-Project-Id and X-Roles are taken as sent (or
  a token ``project[:role,role]``); the server refuses to listen beyond
  loopback with it unless ``[api] allow_insecure_noauth`` is set.
"""

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oslo_config import cfg
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Token
from logsvc.exceptions import ConfigError, Unauthorized

TOKEN_PREFIX = "lsv_"  # noqa: S105 - a marker that tells a token apart, not a secret

WsgiApp = Callable[..., Any]


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: a project and its roles."""

    project_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    user_id: str | None = None

    def creds(self) -> dict[str, Any]:
        """The credentials oslo.policy checks rules against."""
        return {"project_id": self.project_id, "roles": sorted(self.roles), "user_id": self.user_id}


def hash_token(token: str) -> str:
    """What the database keeps of a token (a high-entropy token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A new token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _roles(value: str) -> frozenset[str]:
    return frozenset(r.strip() for r in value.split(",") if r.strip())


class Strategy:
    """One way of authenticating a request."""

    name = ""
    # The WWW-Authenticate of a 401 (keystonemiddleware sets its own).
    challenge: str | None = 'Token realm="logsvc"'

    def wrap(self, app: WsgiApp) -> WsgiApp:
        """The WSGI application with whatever must run in front of it."""
        return app

    def authenticate(self, headers: Mapping[str, str], session: Session) -> Caller:
        raise NotImplementedError


class KeystoneStrategy(Strategy):
    """Trust the identity headers that keystonemiddleware's auth_token sets."""

    name = "keystone"
    challenge = None

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf

    def wrap(self, app: WsgiApp) -> WsgiApp:
        from keystonemiddleware import auth_token

        # Paste-style settings win over [keystone_authtoken]: the routes that
        # need no token (heartbeats are signed, the OpenAPI document is public)
        # must get through, so the decision is ours.
        return auth_token.AuthProtocol(
            app, {"oslo_config_config": self.conf, "delay_auth_decision": True}
        )

    def authenticate(self, headers: Mapping[str, str], session: Session) -> Caller:
        if headers.get("X-Identity-Status") != "Confirmed":
            raise Unauthorized("a valid Keystone token is required (X-Auth-Token)")
        project_id = headers.get("X-Project-Id")
        if not project_id:
            raise Unauthorized("the token must be scoped to a project")
        return Caller(project_id, _roles(headers.get("X-Roles", "")), headers.get("X-User-Id"))


class TokenStrategy(Strategy):
    """Tokens stored hashed in the database."""

    name = "token"

    def authenticate(self, headers: Mapping[str, str], session: Session) -> Caller:
        token = headers.get("X-Auth-Token")
        if not token:
            raise Unauthorized("a token is required (X-Auth-Token)")
        row = session.scalars(select(Token).where(Token.token_hash == hash_token(token))).first()
        if row is None:
            raise Unauthorized("the token is not valid")
        return Caller(row.project_id, _roles(row.roles), f"token-{row.id}")


class NoauthStrategy(Strategy):
    """Development only: the caller is who the headers say."""

    name = "noauth"

    def authenticate(self, headers: Mapping[str, str], session: Session) -> Caller:
        project_id = headers.get("X-Project-Id")
        roles = headers.get("X-Roles", "")
        if not project_id:
            project_id, _, roles = headers.get("X-Auth-Token", "").partition(":")
        if not project_id:
            raise Unauthorized("noauth: send X-Project-Id (and X-Roles), or a token project:roles")
        return Caller(project_id, _roles(roles), headers.get("X-User-Id"))


def strategy_from_conf(conf: cfg.ConfigOpts) -> Strategy:
    """The strategy ``[api] auth_strategy`` names."""
    name = conf.api.auth_strategy
    if name == "keystone":
        return KeystoneStrategy(conf)
    if name == "token":
        return TokenStrategy()
    if name == "noauth":
        return NoauthStrategy()
    raise ConfigError(f"[api] auth_strategy {name!r} is not one of keystone, token, noauth")
