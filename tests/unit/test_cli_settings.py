"""Where the CLI's settings come from: flags, then the environment, then the file."""

import argparse

import pytest

from logsvc.cli.settings import resolve
from logsvc.exceptions import ConfigError


def options(**flags):
    return argparse.Namespace(**{"config": None, **flags})


def test_flags_win_over_environment_and_file(tmp_path):
    conf = tmp_path / "logsvc.conf"
    conf.write_text("[logsvc]\nurl = http://from-file\ntoken = file-token\nfile_root = /data\n")
    env = {"LOGSVC_URL": "http://from-env", "LOGSVC_CONFIG": str(conf)}
    s = resolve(options(url="http://from-flag"), env)
    assert s.get("url") == "http://from-flag"
    assert s.get("token") == "file-token"
    assert resolve(options(), env).get("url") == "http://from-env"
    assert s.storage() == {"file_root": "/data"}


def test_swift_settings_from_os_variables():
    env = {
        "OS_AUTH_URL": "http://127.0.0.1:8080/auth/v1.0",
        "OS_USERNAME": "test:tester",
        "OS_PASSWORD": "testing",
        "LOGSVC_CONFIG": "/nonexistent-default",
    }
    storage = resolve(options(), env).storage()
    assert storage["auth_version"] == "1"  # a tempauth URL says so
    assert (storage["user"], storage["key"]) == ("test:tester", "testing")
    token = resolve(options(os_auth_token="t", os_storage_url="http://s/v1/AUTH_x"), env).storage()
    assert token == {"token": "t", "storage_url": "http://s/v1/AUTH_x"}


def test_a_missing_config_file_given_on_purpose_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        resolve(options(config=str(tmp_path / "nope.conf")), {})


def test_the_timeout_from_flag_environment_or_file(tmp_path):
    conf = tmp_path / "logsvc.conf"
    conf.write_text("[logsvc]\ntimeout = 30\n")
    env = {"LOGSVC_CONFIG": str(conf)}
    assert resolve(options(), env).timeout(600) == 30
    assert resolve(options(), {**env, "LOGSVC_TIMEOUT": "2.5"}).timeout(600) == 2.5
    assert resolve(options(timeout="7"), {**env, "LOGSVC_TIMEOUT": "2.5"}).timeout(600) == 7
    assert resolve(options(), {"LOGSVC_CONFIG": "/nonexistent"}).timeout(600) == 600
    for bad in ("soon", "0", "-3", "nan", "inf", "1e9"):
        with pytest.raises(ConfigError, match="the timeout is a number of seconds"):
            resolve(options(timeout=bad), env).timeout(600)


def test_a_url_without_http_names_where_it_came_from(tmp_path):
    conf = tmp_path / "logsvc.conf"
    conf.write_text("[logsvc]\nurl = localhost:8779\n")
    cases = [
        (options(url="127.0.0.1:8779"), {}, "--url is '127.0.0.1:8779'"),
        (options(), {"LOGSVC_URL": "127.0.0.1:8779"}, "$LOGSVC_URL is '127.0.0.1:8779'"),
        (options(), {"LOGSVC_CONFIG": str(conf)}, f"url in {conf} is 'localhost:8779'"),
        (options(url="ftp://host"), {}, "--url is 'ftp://host'"),
        (options(url="http://"), {}, "--url is 'http://'"),
    ]
    for opts, env, origin in cases:
        with pytest.raises(ConfigError) as raised:
            resolve(opts, {"LOGSVC_CONFIG": "/nonexistent", **env}).url()
        assert str(raised.value) == (
            f"the API's URL must start with http:// or https:// and name a host: {origin}"
        )
    with pytest.raises(ConfigError, match=r"not well-formed .*: --url is 'http://h:99999'"):
        resolve(options(url="http://h:99999"), {"LOGSVC_CONFIG": "/nonexistent"}).url()
    for good in ("http://127.0.0.1:8779", "HTTPS://api.example.com/logs/"):
        assert resolve(options(url=good), {"LOGSVC_CONFIG": "/nonexistent"}).url() == good
    assert resolve(options(), {"LOGSVC_CONFIG": "/nonexistent"}).url() is None
