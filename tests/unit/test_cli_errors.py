"""The CLI's errors: one line that names the CLI's own options and the likely cause.

The CLI runs in this process; the API's answers, where one is needed, are the
API's own (its Flask app, in process) handed to the CLI by requests_mock.
"""

import logging

import pytest
import requests_mock

from logsvc.cli.app import main as cli_main
from tests.unit.conftest import ADMIN, make_conf

URL = "http://api.invalid:8779"
REGISTER = ("instance-register", "x", "--tenant-id", "t", "--datastore", "mysql")


@pytest.fixture
def conf(tmp_path):
    """The API without a default agent secret: an instance must bring its own."""
    conf = make_conf(tmp_path)
    conf.clear_override("shared_secret", "agent")
    return conf


@pytest.fixture
def cli(monkeypatch, capfdbinary):
    """Run the CLI here: (exit status, stdout, stderr); cliff's log handlers removed after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        environ = {
            "LOGSVC_URL": URL,
            "LOGSVC_TOKEN": "token",
            "LOGSVC_CONFIG": "/nonexistent/logsvc.conf",
            **env,
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        try:
            code = cli_main(list(args))
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
        out = capfdbinary.readouterr()
        return code, out.out.decode(), out.err.decode()

    return run


def one_line(err: str) -> str:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_register_errors_name_the_cli_options_not_the_api_fields(client, cli):
    for agent_url, option in (
        ("http://127.0.0.1:9", "give the instance's secret (--shared-secret-file FILE)"),
        ("127.0.0.1:9", "--agent-url must be an http:// or https:// URL with a host"),
    ):
        body = {"tenant_id": "t", "datastore": "mysql", "agent_url": agent_url}
        refused = client.put("/v1/instance/x", json=body, headers=ADMIN)  # the API's own answer
        assert refused.status_code == 400
        with requests_mock.Mocker() as mock:
            mock.put(f"{URL}/v1/instance/x", status_code=400, json=refused.get_json())
            code, _, err = cli(*REGISTER, "--agent-url", agent_url)
        assert code == 1
        assert option in one_line(err)
        assert "shared_secret" not in err.replace("[agent] shared_secret", "")
        assert "agent_url" not in err


def test_a_secret_file_that_cannot_be_read_is_one_line_naming_the_option(tmp_path, cli):
    empty, binary = tmp_path / "empty", tmp_path / "binary"
    empty.write_text(" \n")
    binary.write_bytes(b"\xff\xfe secret")
    with requests_mock.Mocker() as mock:  # no route: nothing may be sent
        for path, why in (
            (tmp_path / "nonexistent", "cannot read it: No such file or directory"),
            (tmp_path, "cannot read it: Is a directory"),
            (empty, "the file is empty"),
            (binary, "the file is not UTF-8 text"),
        ):
            code, _, err = cli(
                *REGISTER, "--agent-url", "http://h:1", "--shared-secret-file", str(path)
            )
            assert code == 1
            assert one_line(err) == f"--shared-secret-file {path}: {why}"
        assert mock.call_count == 0


def test_a_url_without_http_says_so_and_where_it_came_from(cli):
    code, _, err = cli("log-list", "inst", LOGSVC_URL="127.0.0.1:8779")
    assert code == 1
    assert one_line(err) == (
        "the API's URL must start with http:// or https:// and name a host: "
        "$LOGSVC_URL is '127.0.0.1:8779'"
    )
    code, _, err = cli("--url", "localhost:8779", "log-list", "inst")
    assert code == 1 and one_line(err).endswith("--url is 'localhost:8779'")


def test_a_host_name_that_does_not_resolve_is_told_as_such(cli, monkeypatch):
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)  # the name must be resolved here
    code, _, err = cli("status", "nohost.invalid")
    assert code == 1
    assert one_line(err) == (
        "cannot reach http://nohost.invalid:1815/1/report/all: its host name does not resolve"
    )
    code, _, err = cli("log-list", "inst", LOGSVC_URL="http://nohost.invalid:8779")
    assert one_line(err) == (
        "cannot reach the API at http://nohost.invalid:8779: its host name does not resolve"
    )


def test_log_save_to_a_directory_says_how_to_save_in_it(cli, tmp_path):
    code, out, err = cli("log-save", "inst-1", "general", "--file", str(tmp_path))
    assert code == 1 and not out
    assert one_line(err) == (
        f"not saved: {tmp_path} is a directory, not a regular file; log-save writes files only "
        f"(--file {tmp_path / 'general.log'} saves it in that directory)"
    )
    device = "/dev/null"
    code, _, err = cli("log-save", "inst-1", "general", "--file", device)
    assert code == 1
    assert one_line(err).endswith(f"(log-tail --lines 0 > {device} sends a log anywhere)")
