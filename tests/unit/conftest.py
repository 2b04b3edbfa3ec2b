"""Fixtures of the API's unit tests, as Flask's tutorial has them: app and client.

The app runs on a SQLite file with the `noauth` strategy (callers say who
they are in X-Project-Id and X-Roles); every response the client gets is
checked against the OpenAPI document.
"""

import pytest
from flask.testing import FlaskClient
from oslo_config import cfg

from api import conf as api_conf
from api import migrate
from api.app import create_app
from tests.openapi_check import CheckingMiddleware

ADMIN = {"X-Project-Id": "admin-project", "X-Roles": "admin"}
ALICE = {"X-Project-Id": "tenant-a", "X-Roles": "member"}
BOB = {"X-Project-Id": "tenant-b", "X-Roles": "member"}


def make_conf(tmp_path, config_text: str = "", **overrides) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    api_conf.register_opts(conf)
    files = []
    if config_text:
        files.append(str(tmp_path / "api.conf"))
        (tmp_path / "api.conf").write_text(config_text)
    conf([], project="logsvc", default_config_files=files, default_config_dirs=[])
    conf.set_override("connection", f"sqlite:///{tmp_path / 'api.sqlite'}", "database")
    conf.set_override("auth_strategy", "noauth", "api")
    conf.set_override("shared_secret", "agent-secret", "agent")
    conf.set_override("connect_timeout", 1, "agent")
    for key, value in overrides.items():
        group, _, name = key.rpartition("__")
        conf.set_override(name, value, group or None)
    return conf


@pytest.fixture
def conf(tmp_path):
    return make_conf(tmp_path)


def checked_app(conf: cfg.ConfigOpts):
    """An app on a migrated database whose responses are checked against the
    OpenAPI document; the checker's `problems` must stay empty."""
    application = create_app(conf)
    migrate.upgrade(application.extensions["logsvc"].db.engine)
    checker = CheckingMiddleware(application.wsgi_app)
    application.wsgi_app = checker
    return application, checker


@pytest.fixture
def app(conf):
    application, checker = checked_app(conf)
    yield application
    application.extensions["logsvc"].db.dispose()
    assert not checker.problems, "\n".join(checker.problems)


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


def register(client, instance_id="inst-1", tenant="tenant-a", agent_url="http://127.0.0.1:9"):
    resp = client.put(
        f"/v1/instance/{instance_id}",
        json={"tenant_id": tenant, "datastore": "mysql", "agent_url": agent_url},
        headers=ADMIN,
    )
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    return resp.get_json()["instance"]
