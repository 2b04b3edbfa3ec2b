"""Operator tooling of the API and across both daemons, on real processes.

One trace covers the CLI's request to the API, its SQL, the agent's request
and the object store's; a wrong key or none traces nothing; Guru Meditation
Reports of API workers; the API's status report; no secret in any of them.
"""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests

from tests.apistack import INSTANCE, Stack
from tests.helpers import wait_for
from tests.processes import free_port

TRACE_KEY = "trace-key-6f2a"


def redis_or_skip() -> str:
    try:
        import redis
    except ImportError:
        pytest.skip("the redis package is not installed")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers on 127.0.0.1:6379 ({exc})")
    return "redis://127.0.0.1:6379"


@pytest.fixture(params=["file", "redis"])
def traced_stack(request, tmp_path, devswift):
    store = f"file://{tmp_path / 'traces'}" if request.param == "file" else redis_or_skip()
    profiler = {
        "enabled": "true",
        "hmac_keys": TRACE_KEY,
        "trace_sqlalchemy": "true",
        "trace_requests": "true",
        "connection_string": store,
    }
    s = Stack(
        tmp_path,
        devswift,
        api_sections={"profiler": profiler},
        agent_sections={"profiler": profiler},
    ).start()
    s.trace_store = store
    yield s
    s.stop()


def cli(stack, devswift, *args, token=None):
    creds = devswift.credentials()
    env = {
        **os.environ,
        "LOGSVC_URL": stack.api.url,
        "LOGSVC_TOKEN": token or stack.alice,
        "LOGSVC_TRACE_STORE": stack.trace_store,
        "OS_AUTH_URL": creds["auth_url"],
        "OS_USERNAME": creds["user"],
        "OS_PASSWORD": creds["key"],
        "LOGSVC_CONFIG": "/nonexistent",
    }
    return subprocess.run(
        [sys.executable, "-m", "logsvc.cli.app", *args], env=env, capture_output=True, text=True
    )


def test_one_trace_from_the_cli_to_the_object_store(traced_stack, devswift, tmp_path):
    stack = traced_stack
    stack.paths["small"].write_bytes(b"one\ntwo\nthree\n")
    proc = cli(stack, devswift, "--profile", TRACE_KEY, "log-publish", INSTANCE, "small")
    assert proc.returncode == 0, proc.stderr
    trace_id = proc.stderr.split("Trace ID: ")[1].split()[0]
    page = tmp_path / "trace.html"

    def shown():
        out = cli(stack, devswift, "trace-show", trace_id, "--html", str(page))
        return (
            out.stdout
            if "logsvc-guestagent" in out.stdout and "PUT 127.0.0.1" in out.stdout
            else None
        )

    tree = wait_for(shown, "the whole trace")
    assert "wsgi [logsvc-api@" in tree  # the API's request
    assert "db [logsvc-api@" in tree  # its SQL
    assert "wsgi [logsvc-guestagent@" in tree  # the agent's request, inside it
    assert "POST /v1/logs/small" in tree
    assert "PUT 127.0.0.1:" in tree  # the object store's
    lines = tree.splitlines()
    api_at = next(i for i, line in enumerate(lines) if "wsgi [logsvc-api@" in line)
    agent_at = next(i for i, line in enumerate(lines) if "wsgi [logsvc-guestagent@" in line)
    indent = lambda line: len(line) - len(line.lstrip(" │├└─"))  # noqa: E731
    assert agent_at > api_at and indent(lines[agent_at]) > indent(lines[api_at])
    html = page.read_text()
    assert "<script" not in html and 'src="http' not in html and 'href="http' not in html
    everything = tree + html
    for secret in (stack.alice, stack.agent.secret, devswift.credentials()["key"], TRACE_KEY):
        assert secret not in everything


@pytest.mark.parametrize("key", [None, "not-the-key"])
def test_no_trace_without_the_key(traced_stack, devswift, tmp_path, key):
    stack = traced_stack
    stack.paths["small"].write_bytes(b"x\n")
    args = ["--profile", key] if key else []
    proc = cli(stack, devswift, *args, "log-publish", INSTANCE, "small")
    assert proc.returncode == 0, proc.stderr
    time.sleep(1)
    if key:
        trace_id = proc.stderr.split("Trace ID: ")[1].split()[0]
        out = cli(stack, devswift, "trace-show", trace_id)
        assert out.returncode != 0 and "no trace" in out.stderr
    if stack.trace_store.startswith("file://"):
        traces = tmp_path / "traces"
        assert not traces.exists() or list(traces.iterdir()) == []


@pytest.fixture
def stack_with_secrets(tmp_path, devswift):
    status_port = free_port()
    api_sections = {
        "status": {"bind_port": status_port, "collector_intervals": "api-instances:1,database:1"},
        "api": {"agent_silence_warning": 3},
    }
    s = Stack(tmp_path, devswift, api_sections=api_sections).start()
    s.status_url = f"http://127.0.0.1:{status_port}"
    yield s
    s.stop()


def test_guru_meditation_report_of_an_api_worker(stack_with_secrets):
    stack = stack_with_secrets
    stack.paths["small"].write_bytes(b"x\n")
    assert stack.post(stack.alice, {"name": "small", "publish": True}).status_code == 200

    def workers():
        children = psutil.Process(stack.api.proc.pid).children()
        return [c for c in children if "api.statusd" not in " ".join(c.cmdline())]

    workers = wait_for(workers, "the workers")
    stderr = stack.api.dir / "api.stderr"
    before = stderr.stat().st_size
    os.kill(workers[0].pid, signal.SIGUSR1)

    def report():
        text = stderr.read_bytes()[before:].decode(errors="replace")
        return text if "Dispatches In Flight" in text and "Configuration" in text else None

    text = wait_for(report, "the report")
    for section in ("Package", "Threads", "Processes", "Configuration", "Database Pool"):
        assert section in text
    assert "pool:" in text
    for secret in (stack.alice, stack.admin, stack.agent.secret):
        assert secret not in text
    assert stack.logs(stack.alice).status_code == 200  # the worker goes on


def test_the_api_status_report(stack_with_secrets):
    stack = stack_with_secrets
    stack.wait_for_heartbeat()
    assert requests.get(stack.status_url + "/").json() == [1]
    names = {c[0] for c in requests.get(stack.status_url + "/1/list/collectors").json()}
    assert {"logsvc-api", "node", "api-instances", "database"} <= names

    def collected(path):
        report = requests.get(f"{stack.status_url}/1/report/{path}").json()
        return None if "not collected" in report["data"]["status"]["message"] else report

    def heard():
        report = collected("instance/api-instances")
        return report if report and report["data"]["status"]["code"] == 0 else None

    instances = wait_for(heard, "api-instances, every agent heard from")
    assert [i["id"] for i in instances["data"]["instances"]] == [INSTANCE]
    assert instances["data"]["instances"][0]["agent_reachable"] is True
    database = wait_for(lambda: collected("storage/database"), "database")
    assert database["data"]["status"]["code"] == 0 and database["data"]["backend"] == "sqlite"
    everything = requests.get(stack.status_url + "/1/report/all").text
    for secret in (stack.alice, stack.admin, stack.agent.secret):
        assert secret not in everything
    # an agent that falls silent turns the collector's status bad, by itself
    stack.agent.stop()

    def silent():
        report = requests.get(stack.status_url + "/1/report/instance/api-instances").json()
        return report if report["data"]["status"]["code"] == 1 else None

    report = wait_for(silent, "the silent agent noticed")
    assert INSTANCE in report["data"]["status"]["message"]
    stack.agent.start()


def test_the_database_url_is_a_secret():
    from api import opts

    secret = {
        (str(group), opt.name)
        for group, group_opts in opts.list_opts()
        for opt in group_opts
        if opt.secret
    }
    assert any(name == "connection" and "database" in group for group, name in secret)
