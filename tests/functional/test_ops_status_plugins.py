"""Status plugins in running daemons: one that hangs, one that prints garbage, a socket
that refuses; the rest of the report stays served, and right.

The agent runs its status report in its own process; the API's runs in the
small process beside gunicorn (api/statusd.py). Both are configured with
the same plugin directory's kinds of plugins, through ``[status] plugin_dir``.
"""

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest
import requests

from tests.helpers import wait_for
from tests.processes import AgentProcess, ApiProcess, free_port

PLUGIN_TIMEOUT = 10  # seconds: long enough to query the daemon while a plugin hangs


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def plugin_dir(tmp_path):
    """Plugins: hang.sh (hangs, writing its pid), garbage.sh, refused.sock, fine.sh.

    In a directory with a short path: a unix socket's path is at most 107 bytes.
    """
    directory = Path(tempfile.mkdtemp(prefix="lso-"))
    scripts = {
        "hang.sh": f"echo $$ > {tmp_path / 'hang.pid'}\nexec sleep 300\n",
        "garbage.sh": "printf '\\001\\002\\377\\376 not text'\n",
        "fine.sh": 'echo \'{"status": {"code": 0, "message": "raid clean"}, "disks": 2}\'\n',
    }
    for name, body in scripts.items():
        path = directory / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
    refused = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    refused.bind(str(directory / "refused.sock"))
    refused.close()  # the socket file stays; nothing listens on it
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def status_settings(plugin_dir: Path, port: int) -> dict[str, object]:
    return {
        "bind_port": port,
        "plugin_dir": plugin_dir,
        "plugin_timeout": PLUGIN_TIMEOUT,
        "plugin_interval": 3600,  # each plugin runs once: at start
    }


def report_all(url: str) -> dict[str, dict] | None:
    try:
        reports = requests.get(url + "/1/report/all", timeout=10).json()
    except requests.ConnectionError:
        return None  # not listening yet
    return {r["name"]: r for r in reports}


def collected(url: str, names: list[str]) -> dict[str, dict] | None:
    """The whole report once each of `names` has been collected."""
    reports = report_all(url)
    if reports is None or not set(names) <= set(reports):
        return None
    for name in names:
        status = reports[name]["data"].get("status") if reports[name]["kind"] == 1 else None
        if status and status["message"] == "not collected yet":
            return None
    return reports


def check_the_report_survives_its_plugins(
    url: str, pidfile: Path, builtins: list[str], plugin_dir: Path
) -> dict[str, dict]:
    """What both daemons must show: plugins failing each in its own way, the rest right."""
    pid = wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "hang.sh to start")
    pid = int(pid)
    # while hang.sh hangs, the report is served, with every other collector done
    during = wait_for(
        lambda: collected(url, [*builtins, "garbage.sh", "fine.sh", "refused.sock"]),
        "every collector but hang.sh",
        timeout=60,
    )
    if alive(pid):  # it is still hanging: its report cannot be in yet
        assert during["hang.sh"]["data"]["status"] == {"code": 2, "message": "not collected yet"}
    assert during["garbage.sh"]["data"]["status"] == {
        "code": 2,
        "message": "the output is not UTF-8 text",
    }
    assert during["refused.sock"]["data"]["status"] == {
        "code": 4,
        "message": f"nothing listens on {plugin_dir / 'refused.sock'} (connection refused)",
    }
    assert during["fine.sh"]["data"] == {"status": {"code": 0, "message": "raid clean"}, "disks": 2}
    for name in builtins:
        report = during[name]
        if report["kind"] == 1:
            assert report["data"]["status"]["code"] == 0, report
    listed = requests.get(url + "/1/list/collectors", timeout=10).json()
    assert [c[0] for c in listed] == list(during)
    # then hang.sh is killed at its timeout, and says so
    after = wait_for(
        lambda: (r := collected(url, ["hang.sh"])) and r, "hang.sh's timeout", timeout=120
    )
    assert after["hang.sh"]["data"]["status"] == {
        "code": 2,
        "message": f"{plugin_dir / 'hang.sh'} timed out after {PLUGIN_TIMEOUT} s and was killed",
    }
    wait_for(lambda: not alive(pid), "hang.sh killed")
    # the person's view: every plugin's line, and an exit status that says not all is well
    address = url.removeprefix("http://")
    out = subprocess.run(
        [sys.executable, "-m", "logsvc.cli.app", "status", address],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.strip()}
    assert "UNKNOWN" in lines["hang.sh"] and "timed out" in lines["hang.sh"]
    assert "UNKNOWN" in lines["garbage.sh"]
    assert "BAD" in lines["refused.sock"]
    assert "OK" in lines["fine.sh"]
    return after


def test_plugins_in_the_agents_status_report(tmp_path, plugin_dir):
    (tmp_path / "app.log").write_bytes(b"line\n")
    port = free_port()
    agent = AgentProcess(
        tmp_path,
        {
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
            "status": status_settings(plugin_dir, port),
        },
    ).start()
    try:
        url = f"http://127.0.0.1:{port}"
        reports = check_the_report_survives_its_plugins(
            url,
            tmp_path / "hang.pid",
            ["logsvc-guestagent", "node", "storage", "guest-logs"],
            plugin_dir,
        )
        assert reports["logsvc-guestagent"]["data"]["pid"] == agent.proc.pid
        assert [log["name"] for log in reports["guest-logs"]["data"]["logs"]] == ["app", "guest"]
        assert agent.logs()["app"]["name"] == "app"  # the agent itself goes on
    finally:
        agent.stop()


def test_plugins_in_the_apis_status_report(tmp_path, plugin_dir):
    port = free_port()
    api = ApiProcess(
        tmp_path,
        {"status": {**status_settings(plugin_dir, port), "collector_intervals": "database:1"}},
    ).start()
    try:
        url = f"http://127.0.0.1:{port}"
        reports = check_the_report_survives_its_plugins(
            url,
            tmp_path / "hang.pid",
            ["logsvc-api", "node", "storage", "api-instances", "database"],
            plugin_dir,
        )
        assert reports["logsvc-api"]["data"]["pid"] == api.proc.pid  # gunicorn's master
        assert reports["database"]["data"]["backend"] == "sqlite"
        token = api.token("admin-project", "admin")
        assert api.request("GET", "/v1/instance", token).status_code == 200
    finally:
        api.stop()
