"""The [status] options, secrets taken from the configuration, and addresses."""

import pytest
from oslo_config import cfg

from logsvc.conf import status as status_opts
from logsvc.exceptions import LogsvcError
from logsvc.redact import secrets_in_conf
from logsvc.status.client import base_url


def test_list_opts_gives_the_status_group_with_the_daemons_port():
    [(group, agent_opts)] = status_opts.list_opts()
    assert group.name == "status"
    ports = {o.name: o.default for o in agent_opts}
    assert ports["bind_port"] == status_opts.AGENT_STATUS_PORT == 1815
    [(_, api_opts)] = status_opts.list_opts(default_port=status_opts.API_STATUS_PORT)
    assert {o.name: o.default for o in api_opts}["bind_port"] == 1816
    assert all(o.help for o in agent_opts)


def test_defaults_listen_on_loopback_and_have_no_plugins():
    conf = cfg.ConfigOpts()
    status_opts.register_opts(conf)
    conf([])
    assert conf.status.enabled is True
    assert conf.status.bind_host == "127.0.0.1"
    assert conf.status.plugin_dir is None
    assert conf.status.collector_intervals == {}


def test_collector_intervals_are_checked_when_read(tmp_path):
    conf = cfg.ConfigOpts()
    status_opts.register_opts(conf)
    good = tmp_path / "good.conf"
    good.write_text("[status]\ncollector_intervals = node:120,raid.sh:2.5\n")
    conf(["--config-file", str(good)])
    assert conf.status.collector_intervals == {"node": 120.0, "raid.sh": 2.5}
    bad = tmp_path / "bad.conf"
    bad.write_text("[status]\ncollector_intervals = node:0.1\n")
    conf = cfg.ConfigOpts()
    status_opts.register_opts(conf)
    conf(["--config-file", str(bad)])
    with pytest.raises(ValueError):
        conf.status.collector_intervals  # noqa: B018 - reading is what validates


def test_secrets_are_the_values_of_options_marked_secret():
    group = cfg.OptGroup("swift")
    opts = [cfg.StrOpt("user"), cfg.StrOpt("key", secret=True), cfg.StrOpt("other", secret=True)]
    top = [cfg.ListOpt("tokens", secret=True), cfg.StrOpt("unregistered", secret=True)]
    conf = cfg.ConfigOpts()
    conf.register_opts(opts, group)
    conf.register_opts(top[:1])
    conf([])
    conf.set_override("user", "alice", "swift")
    conf.set_override("key", "s3cr3t", "swift")
    conf.set_override("tokens", ["t0ken-a", "t0ken-b"])
    found = secrets_in_conf(conf)
    assert sorted(found) == ["s3cr3t", "t0ken-a", "t0ken-b"]


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("db1", "http://db1:1815"),
        ("db1:1816", "http://db1:1816"),
        ("127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("[::1]:1815", "http://[::1]:1815"),
        ("http://db1:1815/", "http://db1:1815"),
    ],
)
def test_addresses_of_status_servers(address, url):
    assert base_url(address) == url


@pytest.mark.parametrize("address", ["db1:", "db1:port", "a:b:c", "db1:70000", ""])
def test_bad_addresses_are_refused(address):
    with pytest.raises(LogsvcError):
        base_url(address)


def test_an_override_in_one_configuration_does_not_reach_another():
    first = cfg.ConfigOpts()
    status_opts.register_opts(first)
    first([])
    first.set_override("collector_intervals", {"node": 7.0}, "status")
    first.set_override("bind_port", 0, "status")
    second = cfg.ConfigOpts()
    status_opts.register_opts(second)
    second([])
    assert second.status.collector_intervals == {}
    assert second.status.bind_port == status_opts.AGENT_STATUS_PORT


def test_a_secret_url_gives_its_password_too():
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.StrOpt("connection", secret=True)], "database")
    conf([])
    conf.set_override("connection", "postgresql+psycopg://postgres:p%40ss-9c@db/x", "database")
    found = secrets_in_conf(conf)
    # the password (as written and decoded): the rest of the URL says which database
    assert found == ["p%40ss-9c", "p@ss-9c"]
    conf.set_override("connection", "sqlite:////var/lib/logsvc/api.sqlite", "database")
    assert secrets_in_conf(conf) == []


def test_every_registered_secret_of_a_configuration():
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.StrOpt("key", secret=True), cfg.StrOpt("user")], "swift")
    conf.register_opts([cfg.ListOpt("tokens", secret=True), cfg.StrOpt("name")])
    conf.register_opts([cfg.StrOpt("connection_string", secret=True)], "profiler")
    conf([])
    conf.set_override("key", "sw1ft-key", "swift")
    conf.set_override("user", "alice", "swift")
    conf.set_override("tokens", ["t0ken-a"])
    conf.set_override("connection_string", "redis://:rd-pw-12@127.0.0.1:6379", "profiler")
    assert sorted(secrets_in_conf(conf)) == sorted(["sw1ft-key", "t0ken-a", "rd-pw-12", "rd-pw-12"])
