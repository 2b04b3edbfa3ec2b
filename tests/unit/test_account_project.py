"""``[storage] account = project`` in parts: the caller's credentials on the wire, the
catalog, the agent's refusals, the state kept per account, and tokens masked.

The whole of it, with a real Keystone and Swift: tests/functional/test_account_project.py.
"""

import json
import logging

import pytest
from oslo_config import cfg

from api import callerstore
from api.conf import register_opts as register_api_opts
from guestagent.datastores.file import FileDatastore, parse_entry
from guestagent.manager import LogManager
from guestagent.publisher import Publisher
from guestagent.publishmodel import Account, PublishSettings
from guestagent.state import StateStore
from logsvc import logescape
from logsvc.exceptions import BadRequest, ConfigError, Conflict, InvalidAction
from logsvc.layout import LogLocation
from logsvc.redact import MASK, Redactor, mask_tokens
from logsvc.storage.caller import CallerStorage
from logsvc.storage.file import FileStore
from tests.helpers import LogHarness

FERNET = "gAAAAABpL3xq" + "Ab-_9" * 36 + "=="
JWS = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhcnQ"
SWIFT = "https://swift.example.com/v1/AUTH_"


def catalog(*endpoints: dict) -> str:
    return json.dumps(
        [
            {"type": "identity", "endpoints": [{"region": "R1", "publicURL": "https://ks/v3"}]},
            {"type": "object-store", "name": "swift", "endpoints": list(endpoints)},
        ]
    )


@pytest.fixture
def conf():
    c = cfg.ConfigOpts()
    register_api_opts(c)
    c([], project="logsvc")
    c.set_override("account", "project", "storage")
    c.set_override("backend", "swift", "storage")
    c.set_override("auth_strategy", "keystone", "api")
    yield c
    # oslo.config keeps overrides in the option groups, which every ConfigOpts shares
    for group, names in {
        "storage": ("account", "backend", "project_url"),
        "swift": ("region_name", "interface"),
        "api": ("auth_strategy",),
    }.items():
        for name in names:
            c.clear_override(name, group)


# --- the wire ------------------------------------------------------------------------


def test_caller_storage_travels_as_url_and_token_and_never_shows_the_token():
    storage = CallerStorage.from_wire({"url": SWIFT + "p1/", "token": FERNET})
    assert storage.url == SWIFT + "p1" and FERNET not in repr(storage)
    assert CallerStorage.from_wire(storage.to_wire()) == storage
    # The state records the account by a digest: stable, one per account, no URL.
    other = CallerStorage(SWIFT + "p2", FERNET)
    assert storage.account_id == CallerStorage(SWIFT + "p1", "another").account_id
    assert storage.account_id != other.account_id and "example" not in storage.account_id


@pytest.mark.parametrize(
    "wire",
    [
        None,
        "x",
        {"url": SWIFT + "p"},
        {"url": SWIFT + "p", "token": FERNET, "more": 1},
        {"url": SWIFT + "p", "token": ""},
        {"url": SWIFT + "p", "token": "a b"},
        {"url": SWIFT + "p", "token": "x" * 9000},
        {"url": "ftp://swift/v1/AUTH_p", "token": FERNET},
        {"url": "https://user:pw@swift/v1/AUTH_p", "token": FERNET},
        {"url": SWIFT + "p?x=1", "token": FERNET},
        {"url": 5, "token": FERNET},
    ],
)
def test_a_malformed_storage_field_is_a_bad_request(wire):
    with pytest.raises(BadRequest):
        CallerStorage.from_wire(wire)


# --- the API: the caller's account ---------------------------------------------------


def test_the_storage_url_comes_from_the_callers_catalog(conf):
    headers = {
        "X-Auth-Token": FERNET,
        "X-Service-Catalog": catalog(
            {"region": "R2", "publicURL": SWIFT + "p1-r2"},
            {"region": "R1", "publicURL": SWIFT + "p1", "internalURL": "http://in/v1/AUTH_p1"},
        ),
    }
    assert callerstore.for_request(conf, headers, "p1", "p1") == CallerStorage(
        SWIFT + "p1-r2", FERNET
    )
    conf.set_override("region_name", "R1", "swift")
    assert callerstore.for_request(conf, headers, "p1", "p1").url == SWIFT + "p1"
    conf.set_override("interface", "internal", "swift")
    assert callerstore.for_request(conf, headers, "p1", "p1").url == "http://in/v1/AUTH_p1"
    # An admin acting on another project's instance writes into that project's account.
    assert callerstore.for_request(conf, headers, "p1", "p9").url == "http://in/v1/AUTH_p9"
    conf.set_override("region_name", "R3", "swift")
    with pytest.raises(BadRequest, match="no internal object-store endpoint in region R3"):
        callerstore.for_request(conf, headers, "p1", "p1")


def test_project_url_stands_in_for_the_catalog(conf):
    conf.set_override("project_url", "http://10.0.0.5:8080/v1/KEY_%(project_id)s", "storage")
    storage = callerstore.for_request(conf, {"X-Auth-Token": FERNET}, "admin-p", "p7")
    assert storage.url == "http://10.0.0.5:8080/v1/KEY_p7"


@pytest.mark.parametrize(
    "headers, message",
    [
        ({}, "X-Auth-Token"),
        ({"X-Auth-Token": FERNET}, "service catalog is missing"),
        ({"X-Auth-Token": FERNET, "X-Service-Catalog": "{not json"}, "catalog is missing"),
        ({"X-Auth-Token": FERNET, "X-Service-Catalog": catalog()}, "no public object-store"),
    ],
)
def test_a_request_without_what_it_takes_is_refused_clearly(conf, headers, message):
    with pytest.raises(BadRequest, match=message):
        callerstore.for_request(conf, headers, "p1", "p1")


def test_another_projects_account_cannot_be_told_from_an_odd_catalog_url(conf):
    headers = {"X-Auth-Token": FERNET, "X-Service-Catalog": catalog({"publicURL": "https://s/v1"})}
    with pytest.raises(BadRequest, match="project_url"):
        callerstore.for_request(conf, headers, "p1", "p2")


def test_account_project_needs_swift_keystone_and_a_project_in_project_url(conf):
    callerstore.check_conf(conf)
    conf.set_override("project_url", "http://s/v1/AUTH_", "storage")
    with pytest.raises(ConfigError, match="project_url"):
        callerstore.check_conf(conf)
    conf.clear_override("project_url", "storage")
    conf.set_override("auth_strategy", "token", "api")
    with pytest.raises(ConfigError, match="auth_strategy = keystone"):
        callerstore.check_conf(conf)
    conf.set_override("backend", "file", "storage")
    with pytest.raises(ConfigError, match="backend = swift"):
        callerstore.check_conf(conf)


def test_follow_is_refused_with_account_project(conf):
    with pytest.raises(InvalidAction, match="follow"):
        callerstore.check_follow(conf, {"follow": True})
    callerstore.check_follow(conf, {"follow": False, "publish": True})


# --- the agent -----------------------------------------------------------------------


def _manager(tmp_path, account: str) -> LogManager:
    tmp_path.mkdir()
    harness = LogHarness(FileStore(tmp_path / "own"), tmp_path)
    harness.write(b"one\n")
    publisher = harness.publisher()
    return LogManager("i", _NoDatastore(), {"general": publisher}, None, account=account)


class _NoDatastore:
    """Just enough of a datastore for the refusals, which come before it is asked."""

    name = "mysql"


def test_the_agent_refuses_an_action_whose_account_does_not_match_its_own(tmp_path):
    storage = CallerStorage(SWIFT + "p1", FERNET)
    service = _manager(tmp_path / "s", "service")
    with pytest.raises(Conflict, match="set \\[storage\\] account alike"):
        service.act("general", admin=True, publish=True, storage=storage)
    project = _manager(tmp_path / "p", "project")
    with pytest.raises(Conflict, match="this request carries none") as refused:
        project.act("general", admin=True, discard=True)
    assert FERNET not in str(refused.value)
    with pytest.raises(InvalidAction, match="follow"):
        project.act("general", admin=True, follow=True, storage=storage)


def test_state_and_adoption_hold_per_account(tmp_path):
    """Each account gets the whole log; back in an account, a publish resumes from its
    metafile there, uploading only what is new."""
    harness = LogHarness(FileStore(tmp_path / "service"), tmp_path, limit=16)
    accounts = {n: Account(FileStore(tmp_path / n), f"project:{n}") for n in ("a", "b")}
    harness.write(b"first line\nsecond line\n")

    def held(account: Account) -> bytes:
        loc = harness.location
        names = [o.name for o in account.store.list_objects(loc.container, loc.prefix)]
        return b"".join(account.store.get_object(loc.container, n)[1] for n in names)

    harness.publisher().publish(account=accounts["a"])
    assert harness.state().account == "project:a"
    harness.publisher().publish(account=accounts["b"])
    assert held(accounts["b"]) == held(accounts["a"]) == b"first line\nsecond line\n"
    assert harness.objects() == []  # the agent's own store: nothing

    harness.append(b"third line\n")
    report = harness.publisher().publish(account=accounts["a"])
    assert report.bytes_new == len(b"third line\n")  # resumed from a's metafile
    assert held(accounts["a"]) == b"first line\nsecond line\nthird line\n"
    assert harness.state().account == "project:a" and harness.state().published == 34


# --- masking -------------------------------------------------------------------------


def test_keystone_tokens_are_masked_in_reports_and_logs(caplog):
    text = f"X-Auth-Token: {FERNET} and {JWS}; gAAAAA short stays"
    assert mask_tokens(text) == f"X-Auth-Token: {MASK} and {MASK}; gAAAAA short stays"
    assert Redactor().value({"storage": {"token": FERNET}}) == {"storage": {"token": MASK}}
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", (FERNET,), None)
    logescape.EscapeControlCharacters().filter(record)
    assert record.getMessage() == f"token {MASK}"


def test_with_account_project_the_agent_needs_no_store_of_its_own(tmp_path):
    """List, show, enable, disable and follow off work; publishing is for callers' actions."""
    states = StateStore(str(tmp_path / "state"))
    (tmp_path / "app.log").write_bytes(b"one\n")
    datastore = FileDatastore([parse_entry(f"app:USER:{tmp_path / 'app.log'}")], states, None)
    settings = PublishSettings()
    publishers = {
        s.name: Publisher(s, LogLocation("logs", "i", "file", s.name), None, states, settings)
        for s in datastore.log_sources()
    }
    manager = LogManager("i", datastore, publishers, None, account="project")
    assert manager.act("app", admin=True, enable=True).status.value == "Ready"
    assert manager.act("app", admin=True, follow=False).follow is False
    assert manager.act("app", admin=True, disable=True).status.value == "Disabled"
    assert {v.name for v in manager.list_logs(admin=True)} == {"app", "guest"}
    with pytest.raises(Conflict):
        manager.act("app", admin=True, publish=True)
