"""Guru Meditation Reports of real daemon processes: every configured secret masked,
SIGUSR1 and the file trigger side by side, on the agent and on gunicorn's workers.

The daemons are configured with every kind of secret they know: the agent's
shared secret, the profiler's keys and a Redis URL with a password (Redis
here accepts any password, and connects only when a trace is sent), the
Swift key, the MySQL password, an API URL with a password in an option that
is not marked secret, and for the API a PostgreSQL URL with a password
(the server trusts loopback, whatever the password).
"""

import os
import re
import signal
import time
import uuid

import psutil
import pytest
import requests
from sqlalchemy import create_engine, text

from tests.ci_skips import server_absent
from tests.helpers import wait_for
from tests.processes import AgentProcess, ApiProcess, free_port, swift_settings

SECRETS = {
    "shared": "agent-shared-secret-1f6b",
    "trace_key": "trace-hmac-key-c40e",
    "redis": "redis-password-77d2",
    "mysql": "mysql-password-2a9f",
    "url": "api-url-password-5be3",
    "postgres": "pg-password-e81c",
}
REDIS_URL = f"redis://:{SECRETS['redis']}@127.0.0.1:6379/12"


def titles(report: str) -> list[str]:
    """The sections of a report (oslo.reports prints each title between rows of '=')."""
    return re.findall(r"^=+\s{2,}(\S.*?)\s{2,}=+$", report, re.MULTILINE)


def assert_masked(report: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in report, f"{secret!r} is in the report"
    # and what oslo.reports shows of the options marked secret
    assert re.search(r"^\s+shared_secret = \*\*\*$", report, re.MULTILINE)
    assert re.search(r"^\s+hmac_keys = \*\*\*$", report, re.MULTILINE)
    assert re.search(r"^\s+connection_string = \*\*\*$", report, re.MULTILINE)


def reports_in(directory, last_section: str) -> dict[str, str]:
    """The reports of a directory written to their end (`last_section`, with its text)."""
    found = {}
    for path in directory.iterdir():
        body = path.read_text(errors="replace")
        _, title, rest = body.partition(f"  {last_section}  ")
        if title and rest.split("\n", 2)[-1].strip():
            found[path.name] = body
    return found


def wait_reports(directory, last_section: str, count: int, what: str) -> dict[str, str]:
    """The reports of `directory` once there are `count` whole ones."""

    def whole():
        found = reports_in(directory, last_section)
        return found if len(found) == count else None

    return wait_for(whole, what, timeout=60)


def next_second() -> None:
    """Wait for the clock's next second: oslo.reports names its files to the second,
    and a second report within the same second would overwrite the first."""
    time.sleep(1.05 - time.time() % 1)


# --- the agent ---------------------------------------------------------------------------


@pytest.fixture
def agent(tmp_path, devswift):
    (tmp_path / "app.log").write_bytes(b"one\ntwo\n")
    trigger = tmp_path / "gmr-trigger"
    trigger.write_text("")
    (tmp_path / "reports").mkdir()
    proc = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {"guest_log_container_name": f"logs-{uuid.uuid4().hex[:8]}"},
            "agent": {
                # not marked secret, and it carries a password
                "api_url": f"http://logsvc:{SECRETS['url']}@127.0.0.1:{free_port()}",
                "heartbeat_interval": 3600,
            },
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
            "mysql": {"password": SECRETS["mysql"]},
            "status": {"enabled": "false"},
            "profiler": {
                "enabled": "true",
                "hmac_keys": SECRETS["trace_key"],
                "connection_string": REDIS_URL,
            },
            "oslo_reports": {
                "log_dir": tmp_path / "reports",
                "file_event_handler": trigger,
                "file_event_handler_interval": 1,
            },
        },
        secret=SECRETS["shared"],
    ).start()
    proc.trigger = trigger
    proc.reports = tmp_path / "reports"
    proc.all_secrets = [
        *(SECRETS[k] for k in ("shared", "trace_key", "redis", "mysql", "url")),
        REDIS_URL,
        devswift.credentials()["key"],
    ]
    yield proc
    proc.stop()


def test_the_agent_answers_sigusr1_and_the_file_trigger_with_every_secret_masked(agent):
    agent.act("app", publish=True)
    # the file trigger: a modification time after the watcher started (whenever that was)
    future = time.time() + 30
    os.utime(agent.trigger, (future, future))
    first = wait_reports(agent.reports, "Guest Logs", 1, "a report by the file trigger")
    [(name, report)] = first.items()
    assert name.startswith("logsvc-guestagent_gurumeditation_")
    for section in ("Package", "Threads", "Processes", "Configuration", "Guest Logs"):
        assert section in titles(report)
    assert re.search(r"^app\s+USER\s+Published\s", report, re.MULTILINE)
    assert_masked(report, agent.all_secrets)
    assert "http://logsvc:***@127.0.0.1:" in report  # the URL shown, its password not
    # SIGUSR1 still makes a report, and does not kill the agent
    next_second()
    os.kill(agent.proc.pid, signal.SIGUSR1)
    both = wait_reports(agent.reports, "Guest Logs", 2, "a report by SIGUSR1")
    [second] = [r for n, r in both.items() if n != name]
    assert "Guest Logs" in titles(second)
    assert_masked(second, agent.all_secrets)
    assert agent.proc.poll() is None
    assert agent.logs()["app"]["status"] == "Published"


# --- the API under gunicorn --------------------------------------------------------------


@pytest.fixture
def postgres_url():
    """A database of its own on the local PostgreSQL, by a URL with a password."""
    name = f"logsvc_gmr_{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        admin.dispose()
        server_absent("PostgreSQL", f"127.0.0.1:5432 does not answer ({type(exc).__name__})")
    try:
        yield f"postgresql+psycopg://postgres:{SECRETS['postgres']}@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def api(tmp_path, postgres_url):
    trigger = tmp_path / "gmr-trigger"
    trigger.write_text("")
    (tmp_path / "reports").mkdir()
    status_port = free_port()
    proc = ApiProcess(
        tmp_path,
        {
            "database": {"connection": postgres_url},
            "profiler": {
                "enabled": "true",
                "hmac_keys": SECRETS["trace_key"],
                "trace_sqlalchemy": "true",
                "connection_string": REDIS_URL,
            },
            "status": {"bind_port": status_port, "collector_intervals": "database:1"},
            "oslo_reports": {
                "log_dir": tmp_path / "reports",
                "file_event_handler": trigger,
                "file_event_handler_interval": 1,
            },
        },
        agent_secret=SECRETS["shared"],
    ).start()
    proc.trigger = trigger
    proc.reports = tmp_path / "reports"
    proc.status_url = f"http://127.0.0.1:{status_port}"
    proc.all_secrets = [
        *(SECRETS[k] for k in ("shared", "trace_key", "redis", "postgres")),
        REDIS_URL,
        postgres_url,
    ]
    yield proc
    proc.stop()


def workers(api) -> list[psutil.Process]:
    children = psutil.Process(api.proc.pid).children()
    return [c for c in children if "api.statusd" not in " ".join(c.cmdline())]


def test_the_api_workers_answer_the_file_trigger_and_sigusr1_with_every_secret_masked(api):
    token = api.token("admin-project", "admin")
    assert api.request("GET", "/v1/instance", token).status_code == 200
    pids = sorted(
        w.pid for w in wait_for(lambda: len(workers(api)) == 2, "workers") and workers(api)
    )
    # a modification time after each worker's watcher started, however late it loaded
    future = time.time() + 60
    os.utime(api.trigger, (future, future))
    found = wait_reports(api.reports, "Dispatches In Flight", 2, "a report of each worker")
    assert sorted(found) == sorted(
        n for n in found if re.fullmatch(r"logsvc-api-\d+_gurumeditation_\d{14}", n)
    )
    assert sorted(int(n.split("_")[0].removeprefix("logsvc-api-")) for n in found) == pids
    for report in found.values():
        for section in ("Package", "Threads", "Configuration", "Database Pool"):
            assert section in titles(report)
        assert "Dispatches In Flight" in titles(report)
        assert_masked(report, api.all_secrets)
        # the pool's database, its password hidden as SQLAlchemy hides it
        assert "database: postgresql+psycopg://postgres:***@127.0.0.1:5432/" in report
    # SIGUSR1 to a worker: a report, and the worker goes on (gunicorn's own use of
    # SIGUSR1, reopening log files, is the master's)
    next_second()
    os.kill(pids[0], signal.SIGUSR1)
    three = wait_reports(api.reports, "Dispatches In Flight", 3, "a report by SIGUSR1")
    [(name, report)] = [(n, r) for n, r in three.items() if n not in found]
    assert name.startswith(f"logsvc-api-{pids[0]}_gurumeditation_")
    assert_masked(report, api.all_secrets)
    assert sorted(w.pid for w in workers(api)) == pids
    assert api.request("GET", "/v1/instance", token).status_code == 200


def test_the_api_status_report_holds_no_database_password(api):
    def database():
        try:
            report = requests.get(api.status_url + "/1/report/storage/database", timeout=10).json()
        except requests.ConnectionError:
            return None
        return report if report["data"]["status"]["message"] != "not collected yet" else None

    report = wait_for(database, "the database collector")
    assert report["data"]["status"]["code"] == 0
    assert report["data"]["backend"] == "postgresql"
    everything = requests.get(api.status_url + "/1/report/all", timeout=10).text
    for secret in api.all_secrets:
        assert secret not in everything


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.ConnectionError:
        return False


def status_process(api) -> psutil.Process:
    def found():
        children = psutil.Process(api.proc.pid).children()
        return next((c for c in children if "api.statusd" in " ".join(c.cmdline())), None)

    return wait_for(found, "the status report's process")


def test_sigusr1_to_the_api_master_reports_on_it_and_on_every_worker(api):
    token = api.token("admin-project", "admin")
    pids = sorted(
        w.pid for w in wait_for(lambda: len(workers(api)) == 2, "workers") and workers(api)
    )
    # a worker that has not armed its report yet would only reopen its logs
    log = api.dir / "api.log"
    wait_for(
        lambda: all(f"worker {pid}: Guru Meditation Report on" in log.read_text() for pid in pids),
        "both workers' reports armed",
    )
    master = api.proc.pid
    os.kill(master, signal.SIGUSR1)
    [(name, report)] = wait_reports(
        api.reports, "Gunicorn Workers", 1, "the master's report"
    ).items()
    assert re.fullmatch(rf"logsvc-api-master-{master}_gurumeditation_\d{{14}}", name)
    for section in ("Package", "Threads", "Processes", "Configuration", "Gunicorn Workers"):
        assert section in titles(report)
    for pid in pids:
        assert f"worker {pid}" in report
    assert_masked(report, api.all_secrets)
    # gunicorn's own SIGUSR1 went on: it passed the signal to the workers
    found = wait_reports(api.reports, "Dispatches In Flight", 2, "a report of each worker")
    assert sorted(int(n.split("_")[0].removeprefix("logsvc-api-")) for n in found) == pids
    assert api.proc.poll() is None
    assert sorted(w.pid for w in workers(api)) == pids
    assert api.request("GET", "/v1/instance", token).status_code == 200


def test_the_status_process_answers_the_file_trigger_and_sigusr1(api):
    statusd = status_process(api)

    def its_reports():
        return {
            n: r
            for n, r in reports_in(api.reports, "Configuration").items()
            if n.startswith(f"logsvc-api-status-{statusd.pid}_gurumeditation_")
        }

    # it serves once its report is armed: a trigger from now on is seen
    wait_for(lambda: answers(api.status_url + "/1/report/all"), "the status report")
    future = time.time() + 60
    os.utime(api.trigger, (future, future))
    wait_for(lambda: len(its_reports()) == 1, "a report by the file trigger")
    next_second()
    os.kill(statusd.pid, signal.SIGUSR1)
    both = wait_for(lambda: len(its_reports()) == 2 and its_reports(), "a report by SIGUSR1")
    for report in both.values():
        for section in ("Package", "Threads", "Configuration"):
            assert section in titles(report)
        assert_masked(report, api.all_secrets)
    assert statusd.is_running()
    assert answers(api.status_url + "/1/report/all")
