"""Starting logsvc-api: the console script, its refusals, several workers sharing claims."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.models import LogAction
from tests.apistack import INSTANCE
from tests.openapi_check import OpenApiChecker
from tests.processes import ApiProcess, wait_for_port


def test_the_console_script_serves(tmp_path):
    api = ApiProcess(tmp_path, {"api": {"workers": 1, "threads": 2}})
    api.upgrade()
    script = Path(sys.executable).with_name("logsvc-api")
    proc = subprocess.Popen(
        [str(script), "--config-file", str(api.conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stderr", "wb"),  # noqa: SIM115 - the child keeps it
    )
    try:
        wait_for_port(api.port, proc)
        checker = OpenApiChecker()
        for path, status in (("/", 200), ("/v1/openapi.json", 200), ("/v1/instance", 401)):
            resp = requests.get(api.url + path, timeout=30)
            assert resp.status_code == status
            assert not checker.check(
                "GET", path, resp.status_code, resp.headers["Content-Type"], resp.content
            )
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0


def run_api(tmp_path, sections, upgrade=True):
    api = ApiProcess(tmp_path, sections)
    if upgrade:
        api.upgrade()
    return subprocess.run(
        [sys.executable, "-m", "api.cmd", "--config-file", str(api.conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_noauth_refuses_to_listen_beyond_loopback(tmp_path):
    result = run_api(tmp_path, {"api": {"auth_strategy": "noauth", "bind_host": "0.0.0.0"}})
    assert result.returncode == 2
    assert "noauth" in result.stderr and "allow_insecure_noauth" in result.stderr


def test_a_schema_that_is_not_migrated_is_refused_with_the_command_to_run(tmp_path):
    result = run_api(tmp_path, {}, upgrade=False)
    assert result.returncode == 2
    assert "logsvc-manage" in result.stderr and "db upgrade" in result.stderr


def test_a_claim_held_by_another_worker_refuses_the_action(stack):
    """The claim lives in the database: whichever process holds it, another action is refused."""
    engine = create_engine(stack.api.database_url)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with Session(engine) as session:
        session.add(
            LogAction(
                instance_id=INSTANCE,
                name="small",
                action="publish",
                claim="held-elsewhere",
                started_at=now,
                expires_at=now + dt.timedelta(minutes=5),
            )
        )
        session.commit()
    try:
        for _ in range(4):  # whichever of the two workers answers
            resp = stack.post(stack.alice, {"name": "small", "discard": True})
            assert resp.status_code == 409
            assert "busy: a publish started at" in resp.json()["error"]["message"]
        instance = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
        assert instance["instance"]["task_state"] == "LOGGING"
        # A publish joins the one that holds the claim (the agent runs one per log).
        assert stack.post(stack.alice, {"name": "small", "publish": True}).status_code == 200
        assert stack.post(stack.alice, {"name": "big", "publish": True}).status_code == 200
        shown = stack.post(stack.alice, {"name": "small"})  # a show is no action
        assert shown.status_code == 200
    finally:
        engine.dispose()


def test_concurrent_publishes_of_two_logs_keep_logging_until_both_end(stack):
    import threading
    import time

    from tests.helpers import realistic_lines

    stack.paths["big"].write_bytes(realistic_lines(30000))
    stack.paths["small"].write_bytes(realistic_lines(15000))
    results = {}

    def publish(name):
        results[name] = stack.post(stack.alice, {"name": name, "publish": True})

    threads = [threading.Thread(target=publish, args=(n,)) for n in ("big", "small")]
    for t in threads:
        t.start()
    states = set()
    while any(t.is_alive() for t in threads):
        resp = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice)
        states.add(resp.json()["instance"]["task_state"])
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in results.values())
    assert "LOGGING" in states
    final = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
    assert final["instance"]["task_state"] == "ACTIVE"
    trove = stack.api.request("GET", f"/v1.0/tenant-a/instances/{INSTANCE}", stack.alice).json()
    assert trove["instance"]["status"] == "ACTIVE"
