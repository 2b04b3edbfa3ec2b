"""Operator tooling of the API and across both daemons, on real processes.

One trace covers the CLI's request to the API, its SQL, the agent's request
and the object store's; a wrong key or none traces nothing; a traced
instance registration keeps the instance's secret out of the trace; the
API's status report, with agents heard by heartbeat or by a signed probe;
no secret in any of them. (Guru Meditation Reports: test_ops_gmr.py.)
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from api.auth import hash_token
from tests.apistack import INSTANCE, TENANT, Stack
from tests.ci_skips import server_absent
from tests.helpers import wait_for
from tests.processes import free_port

TRACE_KEY = "trace-key-6f2a"
# Redis here has no password; it accepts any (a nopass default user), so the
# store's URL can carry one, which must then appear nowhere.
REDIS_PASSWORD = "redis-pw-5c0e"
# A database of Redis of our own: the traces of this module and nothing else.
REDIS_DB = 11


def redis_or_skip() -> str:
    try:
        import redis
    except ImportError:
        server_absent("Redis", "the redis package is not installed")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError as exc:
        server_absent("Redis", f"nothing answers on 127.0.0.1:6379 ({exc})")
    return f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/{REDIS_DB}"


def stored_traces(store: str) -> dict[str, str]:
    """Every trace in the store, raw, as the daemons wrote it: {key: text}."""
    if store.startswith("file://"):
        directory = Path(store.removeprefix("file://"))
        if not directory.exists():
            return {}
        return {p.name: p.read_text() for p in directory.iterdir()}
    import redis

    r = redis.Redis.from_url(store)
    return {
        key.decode(): "\n".join(v.decode() for v in r.lrange(key, 0, -1))
        for key in r.scan_iter(match="osprofiler*")
    }


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

    assert f"Show it with: logsvc trace show {trace_id}" in proc.stderr

    def shown():
        out = cli(stack, devswift, "trace", "show", trace_id, "--html", str(page))
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
    raw = stored_traces(stack.trace_store)
    everything = tree + html + "".join(raw.values())
    assert trace_id in "".join(raw)
    for secret in (
        stack.alice,
        hash_token(stack.alice),
        stack.agent.secret,
        devswift.credentials()["key"],
        TRACE_KEY,
        REDIS_PASSWORD,
    ):
        assert secret not in everything
    assert '"params"' not in everything


def test_a_traced_registration_keeps_the_instances_secret_out_of_the_trace(
    traced_stack, devswift, tmp_path
):
    stack = traced_stack
    own_secret = "own-agent-secret-of-inst-2-b71d"
    secret_file = tmp_path / "inst-2.secret"
    secret_file.write_text(own_secret + "\n")
    proc = cli(
        stack,
        devswift,
        "--profile",
        TRACE_KEY,
        "instance-register",
        "inst-2",
        "--tenant-id",
        TENANT,
        "--datastore",
        "file",
        "--agent-url",
        stack.agent.url,
        "--shared-secret-file",
        str(secret_file),
        token=stack.admin,
    )
    assert proc.returncode == 0, proc.stderr
    trace_id = proc.stderr.split("Trace ID: ")[1].split()[0]
    page = tmp_path / "register.html"

    def shown():
        out = cli(stack, devswift, "trace", "show", trace_id, "--html", str(page))
        return out.stdout if "INSERT INTO instances" in out.stdout else None

    tree = wait_for(shown, "the registration's trace, with its SQL")
    assert "PUT /v1/instance/inst-2" in tree
    assert "SELECT tokens." in tree  # the admin's token was looked up: by its hash
    html = page.read_text()
    assert "INSERT INTO instances" in html
    raw = stored_traces(stack.trace_store)
    [stored] = [text for key, text in raw.items() if trace_id in key]
    assert "INSERT INTO instances" in stored
    for where, text in (("the store", stored), ("the tree", tree), ("the page", html)):
        for secret in (own_secret, stack.admin, hash_token(stack.admin), REDIS_PASSWORD):
            assert secret not in text, f"a secret in {where}"
        assert '"params"' not in text


@pytest.mark.parametrize("key", [None, "not-the-key"])
def test_no_trace_without_the_key(traced_stack, devswift, key):
    stack = traced_stack
    before = set(stored_traces(stack.trace_store))
    stack.paths["small"].write_bytes(b"x\n")
    args = ["--profile", key] if key else []
    proc = cli(stack, devswift, *args, "log-publish", INSTANCE, "small")
    assert proc.returncode == 0, proc.stderr
    # the agent's answer came after every trace point there would be; a moment for the API's
    time.sleep(1)
    if key:
        # the CLI says so at once, and trace show says what to check
        assert "nothing was traced" in proc.stderr and "Show it with" not in proc.stderr
        trace_id = proc.stderr.split("no point of trace ")[1].split()[0]
        out = cli(stack, devswift, "trace", "show", trace_id)
        assert out.returncode != 0 and "no trace" in out.stderr and "hmac_keys" in out.stderr
    # in either store, nothing was written: no trace at all, not only not this one
    assert set(stored_traces(stack.trace_store)) == before


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


def status_answers(url: str):
    """``GET /`` of a status server once it listens (the API starts it when it is ready)."""
    try:
        return requests.get(url + "/", timeout=10).json()
    except requests.ConnectionError:
        return None


def test_the_api_status_report(stack_with_secrets):
    stack = stack_with_secrets
    stack.wait_for_heartbeat()
    assert wait_for(lambda: status_answers(stack.status_url), "the status report") == [1]
    names = {c[0] for c in requests.get(stack.status_url + "/1/list/collectors").json()}
    assert {"logsvc-api", "node", "api-instances", "database"} <= names

    def collected(path):
        report = requests.get(f"{stack.status_url}/1/report/{path}").json()
        return None if "not collected" in report["data"]["status"]["message"] else report

    def heard():
        # Under load a heartbeat can come later than agent_silence_warning: the
        # collector then probes the agent instead. Wait for one it heard.
        report = collected("instance/api-instances")
        if not report or report["data"]["status"]["code"] != 0:
            return None
        return report if report["data"]["instances"][0]["heard_by"] == "heartbeat" else None

    instances = wait_for(heard, "api-instances, every agent heard from by its heartbeat")
    [instance] = instances["data"]["instances"]
    assert instance["id"] == INSTANCE
    assert (instance["agent_reachable"], instance["heard_by"]) == (True, "heartbeat")
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
    # its heartbeats are late, so it was probed: nothing listens
    assert f"{INSTANCE} (the agent is unreachable)" in report["data"]["status"]["message"]
    [instance] = report["data"]["instances"]
    assert instance["heartbeat"] == "late" and instance["agent_reachable"] is False
    stack.agent.start()


@pytest.fixture
def stack_without_heartbeats(tmp_path, devswift):
    """An agent with no [agent] api_url: the API never hears from it unless it asks."""
    status_port = free_port()
    s = Stack(
        tmp_path,
        devswift,
        api_sections={
            "status": {"bind_port": status_port, "collector_intervals": "api-instances:1"}
        },
        agent_sections={"agent": {"api_url": None}},
    ).start()
    s.status_url = f"http://127.0.0.1:{status_port}"
    yield s
    s.stop()


def test_agents_that_send_no_heartbeat_are_probed(stack_without_heartbeats):
    stack = stack_without_heartbeats
    agent = stack.agent.url
    stack.register("dead", TENANT, f"http://127.0.0.1:{free_port()}")
    stack.register("wrong-secret", TENANT, agent, shared_secret="not-the-agents-secret")
    stack.register("impostor", TENANT, agent)  # the agent of inst-1 answers there
    wait_for(lambda: status_answers(stack.status_url), "the status report")

    def probed():
        report = requests.get(stack.status_url + "/1/report/instance/api-instances").json()
        ids = [i["id"] for i in report["data"].get("instances", [])]
        return report if len(ids) == 4 else None

    report = wait_for(probed, "a report of the four instances")
    by_id = {i["id"]: i for i in report["data"]["instances"]}
    assert by_id[INSTANCE]["heartbeat"] == "never"
    assert (by_id[INSTANCE]["agent_reachable"], by_id[INSTANCE]["heard_by"]) == (True, "probe")
    assert by_id[INSTANCE]["probe"]["error"] is None
    assert by_id["dead"]["agent_reachable"] is False
    assert by_id["dead"]["probe"]["error"] == "the agent is unreachable"
    assert "refused the API's signature" in by_id["wrong-secret"]["probe"]["error"]
    # requests are signed for one instance: the agent of another refuses them
    assert "refused the API's signature" in by_id["impostor"]["probe"]["error"]
    status = report["data"]["status"]
    assert status["code"] == 4  # a wrong secret needs someone; the dead agent may come back
    assert "wrong-secret" in status["message"] and "impostor" in status["message"]
    assert "dead (the agent is unreachable)" in status["message"]
    everything = requests.get(stack.status_url + "/1/report/all").text
    for secret in (stack.agent.secret, "not-the-agents-secret", stack.admin):
        assert secret not in everything
    # once only reachable agents remain, all is well, and the report says how each was heard
    for instance_id in ("dead", "wrong-secret", "impostor"):
        resp = stack.api.request("DELETE", f"/v1/instance/{instance_id}", stack.admin)
        assert resp.status_code in (200, 204), resp.text

    def healthy():
        report = requests.get(stack.status_url + "/1/report/instance/api-instances").json()
        return report if report["data"]["status"]["code"] == 0 else None

    report = wait_for(healthy, "the remaining agent reachable")
    assert report["data"]["status"]["message"] == (
        "1 instance, every agent heard from (0 by heartbeat, 1 by probe)"
    )


def test_the_database_url_is_a_secret():
    from api import conf as api_conf

    secret = {
        (str(group), opt.name)
        for group, group_opts in api_conf.list_opts()
        for opt in group_opts
        if opt.secret
    }
    assert any(name == "connection" and "database" in group for group, name in secret)
