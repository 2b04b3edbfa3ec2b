"""Operator tooling of the agent, on a real process: Guru Meditation Reports,
OSProfiler traces and the status report, and no secret in any of them."""

import json
import os
import signal
import time
import uuid

import pytest
import requests
from osprofiler import profiler, web

from logsvc.profiling import render
from logsvc.signing import sign
from tests.helpers import wait_for
from tests.processes import AgentProcess, free_port, swift_settings

SECRETS = {
    "shared": "agent-shared-secret-7d1f",
    "trace_key": "trace-hmac-key-93ab",
    "mysql": "mysql-password-55ce",
}


@pytest.fixture
def agent(tmp_path, devswift):
    (tmp_path / "app.log").write_bytes(b"".join(b"line %d\n" % i for i in range(500)))
    status_port = free_port()
    proc = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {"guest_log_container_name": f"logs-{uuid.uuid4().hex[:8]}"},
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
            "mysql": {"password": SECRETS["mysql"]},
            "status": {"bind_port": status_port},
            "profiler": {
                "enabled": "true",
                "hmac_keys": SECRETS["trace_key"],
                "trace_requests": "true",
                "connection_string": f"file://{tmp_path / 'traces'}",
            },
        },
        secret=SECRETS["shared"],
    ).start()
    proc.status_url = f"http://127.0.0.1:{status_port}"
    proc.swift_key = devswift.credentials()["key"]
    yield proc
    proc.stop()


def all_secrets(agent) -> list[str]:
    return [*SECRETS.values(), agent.swift_key]


def test_sigusr1_prints_a_guru_meditation_report(agent):
    agent.act("app", publish=True)
    stderr = agent.dir / "agent.stderr"
    before = stderr.stat().st_size
    os.kill(agent.proc.pid, signal.SIGUSR1)

    def whole_report():
        text = stderr.read_bytes()[before:].decode()
        done = "Guest Logs" in text and "\napp " in text.split("Guest Logs", 1)[1]
        return text if done else None

    report = wait_for(whole_report, "the report")
    for section in ("Package", "Threads", "Processes", "Configuration", "Guest Logs"):
        assert (
            f"====  {section}".replace("  ", " ") in " ".join(report.split()) or section in report
        )
    assert "version = " in report
    assert "app          USER  Published" in report
    for secret in all_secrets(agent):
        assert secret not in report
    assert agent.logs()["app"]["status"] == "Published"  # the daemon goes on


def test_a_report_to_a_directory_and_by_a_trigger_file(tmp_path):
    (tmp_path / "app.log").write_bytes(b"x\n")
    trigger = tmp_path / "gmr-trigger"
    trigger.write_text("")
    reports = tmp_path / "reports"
    reports.mkdir()
    agent = AgentProcess(
        tmp_path,
        {
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
            "status": {"enabled": "false"},
            "oslo_reports": {
                "log_dir": reports,
                "file_event_handler": trigger,
                "file_event_handler_interval": 1,
            },
        },
    ).start()
    try:
        time.sleep(1.5)  # the watcher notes the file's first modification time
        trigger.write_text("report, please")
        found = wait_for(lambda: list(reports.iterdir()), "a report in log_dir")
        assert found[0].name.startswith("logsvc-guestagent_gurumeditation_")
        text = wait_for(
            lambda: found[0].read_text() if "Guest Logs" in found[0].read_text() else "",
            "the whole report",
        )
        assert agent.secret not in text
    finally:
        agent.stop()


def _traced_publish(agent, key: str | None):
    profiler.clean()
    headers = {}
    if key:
        profiler.init(key)
        headers.update(web.get_trace_id_headers())
    body = json.dumps({"admin": True, "publish": True}).encode()
    headers.update(sign(agent.secret, "POST", "/v1/logs/app", body, instance=agent.instance_id))
    headers["Content-Type"] = "application/json"
    resp = requests.post(agent.url + "/v1/logs/app", data=body, headers=headers, timeout=60)
    assert resp.status_code == 200
    base_id = profiler.get().get_base_id() if key else None
    profiler.clean()
    return base_id


def test_a_signed_trace_follows_the_request_into_the_object_store(agent):
    base_id = _traced_publish(agent, SECRETS["trace_key"])
    store = f"file://{agent.dir / 'traces'}"
    report = wait_for(lambda: _load(store, base_id), "the trace")
    text = render.render_text(report, base_id)
    assert "wsgi [logsvc-guestagent@" in text
    assert "POST /v1/logs/app" in text
    assert "PUT 127.0.0.1:" in text  # the object store's requests, as children
    page = render.render_html(report, base_id)
    assert "<script" not in page and "://" not in page.replace(f"{base_id}", "")
    raw = (agent.dir / "traces" / f"{base_id}.jsonl").read_text()
    for secret in all_secrets(agent):
        assert secret not in raw


def _load(store, base_id):
    try:
        return render.load(store, base_id)
    except LookupError:
        return None


@pytest.mark.parametrize("key", [None, "not-the-key"])
def test_unsigned_or_wrongly_signed_traces_record_nothing(agent, key):
    profiler.clean()
    _traced_publish(agent, key)
    time.sleep(0.5)
    traces = agent.dir / "traces"
    assert not traces.exists() or list(traces.iterdir()) == []


def collected(agent, path: str):
    """A collector's report once it has run, else None."""
    report = requests.get(f"{agent.status_url}/1/report/{path}").json()
    return None if "not collected" in report["data"]["status"]["message"] else report


def test_status_report(agent):
    assert requests.get(agent.status_url + "/").json() == [1]
    collectors = requests.get(agent.status_url + "/1/list/collectors").json()
    assert ["guest-logs", "instance", 1] in collectors
    assert ["storage", "storage", 1] in collectors
    report = wait_for(lambda: collected(agent, "instance/guest-logs"), "the guest-logs collector")
    assert report["data"]["status"]["code"] == 0
    assert [log["name"] for log in report["data"]["logs"]] == ["app", "guest"]
    storage = wait_for(lambda: collected(agent, "storage/storage"), "the storage collector")
    assert storage["data"]["status"]["code"] == 0
    everything = requests.get(agent.status_url + "/1/report/all").text
    for secret in all_secrets(agent):
        assert secret not in everything
    assert requests.post(agent.status_url + "/1/report/all").status_code == 405
