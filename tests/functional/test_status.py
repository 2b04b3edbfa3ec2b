"""The status report served for real: a cheroot server on a free port, queried over HTTP.

Plugins are real scripts, files and unix sockets; the storage collector
checks the real Swift. Waits poll the report with generous deadlines; no
test asserts how long anything took.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import requests
from oslo_config import cfg

from logsvc.conf.status import register_opts
from logsvc.status import (
    Category,
    FunctionCollector,
    Kind,
    Status,
    StatusCode,
    StatusService,
)
from logsvc.status.daemon import DaemonCollector
from logsvc.status.node import NodeCollector
from logsvc.status.plugins import discover_plugins
from logsvc.status.storage import FreeSpaceThresholds, StorageCollector
from logsvc.storage.file import FileStore
from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore
from tests.conftest import swift_store

DEADLINE = 60.0  # seconds; for a loaded machine, never reached when things work
REPORT_KEYS = ["name", "version", "format_version", "timestamp", "category", "kind", "data"]


# --- helpers -----------------------------------------------------------------


def get(service: StatusService, path: str, **kwargs) -> requests.Response:
    return requests.get(service.url + path, timeout=30, **kwargs)


def wait_for(what: str, predicate: Callable[[], object], deadline: float = DEADLINE):
    """Poll `predicate` until it returns something true; that value."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def collected(service: StatusService, category: str, name: str) -> dict:
    """The report of collector `name` once its first run has ended, over HTTP."""

    def ready():
        report = get(service, f"/1/report/{category}/{name}").json()
        status = report["data"].get("status") if isinstance(report["data"], dict) else None
        if status and status["message"] == "not collected yet":
            return None
        return report

    return wait_for(f"the first report of {name}", ready)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def services():
    """Build services on free ports; every one is stopped after the test."""
    made: list[StatusService] = []

    def make(*collectors, **kwargs) -> StatusService:
        service = StatusService("127.0.0.1", 0, **kwargs)
        for collector in collectors:
            service.register(collector)
        made.append(service)
        return service

    yield make
    for service in made:
        service.stop()


@pytest.fixture
def short_dir():
    """A directory with a short path: unix socket paths are limited to 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="lst-"))
    yield path
    for entry in sorted(path.rglob("*"), reverse=True):
        entry.rmdir() if entry.is_dir() else entry.unlink()
    path.rmdir()


def ok_collector(name: str = "sample", **kwargs) -> FunctionCollector:
    return FunctionCollector(
        name, lambda: {"status": Status(StatusCode.OK, "fine"), "items": 3}, **kwargs
    )


# --- routes ------------------------------------------------------------------


@pytest.fixture(scope="module")
def running():
    """A service with a collector of each built-in kind but plugins, started (shared)."""
    service = StatusService("127.0.0.1", 0)
    for collector in (
        DaemonCollector("logsvc-test"),
        NodeCollector(),
        ok_collector("sample", category=Category.INSTANCE),
        FunctionCollector("figures", lambda: {"n": 1}, kind=Kind.PERFORMANCE, category=None),
    ):
        service.register(collector)
    with service:
        for category, name in [
            ("daemon", "logsvc-test"),
            ("default", "node"),
            ("instance", "sample"),
            ("default", "figures"),
        ]:
            collected(service, category, name)
        yield service


def test_root_lists_the_api_versions(running):
    response = get(running, "/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == [1]


def test_list_of_collectors(running):
    assert get(running, "/1/list/collectors").json() == [
        ["logsvc-test", "daemon", 1],
        ["node", "default", 0],
        ["sample", "instance", 1],
        ["figures", "default", 0],
    ]


def test_report_all_has_every_collector_in_ganetis_shape(running):
    reports = get(running, "/1/report/all").json()
    assert [r["name"] for r in reports] == ["logsvc-test", "node", "sample", "figures"]
    for report in reports:
        assert list(report) == REPORT_KEYS
        assert report["version"] == "B"
        assert report["format_version"] == 1
        assert isinstance(report["timestamp"], int)
        # nanoseconds since the epoch, from this day
        assert abs(report["timestamp"] / 1e9 - time.time()) < 3600
        assert report["kind"] in (0, 1)
        if report["kind"] == 1:
            assert next(iter(report["data"])) == "status"
            assert report["data"]["status"]["code"] in (0, 1, 2, 4)
            assert isinstance(report["data"]["status"]["message"], str)
    assert [r["category"] for r in reports] == ["daemon", None, "instance", None]


def test_one_report_by_category_and_name(running):
    report = get(running, "/1/report/instance/sample").json()
    assert report["name"] == "sample"
    assert report["data"] == {"status": {"code": 0, "message": "fine"}, "items": 3}
    assert get(running, "/1/report/default/node").json()["category"] is None


def test_reports_of_one_category(running):
    assert [r["name"] for r in get(running, "/1/report/default").json()] == ["node", "figures"]
    assert [r["name"] for r in get(running, "/1/report/daemon").json()] == ["logsvc-test"]
    assert get(running, "/1/report/hypervisor").json() == []


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("category=instance", ["sample"]),
        ("category=default", ["node", "figures"]),
        ("category=daemon,instance", ["logsvc-test", "sample"]),
        ("category=daemon&category=instance", ["logsvc-test", "sample"]),
        ("kind=1", ["logsvc-test", "sample"]),
        ("kind=0", ["node", "figures"]),
        ("kind=0&category=default", ["node", "figures"]),
        ("kind=1&category=default", []),
        ("name=node,sample", ["node", "sample"]),
        ("", ["logsvc-test", "node", "sample", "figures"]),
    ],
)
def test_parts_of_the_report(running, query, names):
    reports = get(running, f"/1/report/all?{query}").json()
    assert [r["name"] for r in reports] == names
    listed = get(running, f"/1/list/collectors?{query}").json()
    assert [c[0] for c in listed] == names


def test_a_category_route_narrows_a_query_further(running):
    assert [r["name"] for r in get(running, "/1/report/default?kind=0&name=node").json()] == [
        "node"
    ]
    assert get(running, "/1/report/default?category=daemon").json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/2",
        "/1",
        "/1/",
        "/1/report",
        "/1/report/all/",
        "/1/list",
        "/1/list/collectors/x",
        "/1/report/nosuch",
        "/1/report/nosuch/node",
        "/1/report/default/nosuch",
        "/1/report/instance/node",
        "/1/report/default/node/extra",
        "/favicon.ico",
    ],
)
def test_unknown_paths_categories_and_collectors_are_404_with_a_json_error(running, path):
    response = get(running, path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == 404
    assert error["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/1/report/all?kind=2",
        "/1/report/all?kind=status",
        "/1/report/all?category=nosuch",
        "/1/report/all?verbose=1",
        "/1/report/default/node?kind=0",
        "/?x=1",
    ],
)
def test_bad_queries_are_400_with_a_json_error(running, path):
    response = get(running, path)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_the_api_is_read_only(running, method):
    response = requests.request(method, running.url + "/1/report/all", timeout=30, data="{}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == 405


def test_head_answers_without_a_body(running):
    response = requests.head(running.url + "/1/report/all", timeout=30)
    assert response.status_code == 200
    assert response.content == b""


def test_the_server_listens_on_loopback_by_default(running):
    assert running.url.startswith("http://127.0.0.1:")


# --- the shape of each built-in collector ------------------------------------


def test_daemon_collector_reports_this_process(running):
    report = get(running, "/1/report/daemon/logsvc-test").json()
    data = report["data"]
    assert report["kind"] == 1
    assert data["status"]["code"] == 0
    assert data["pid"] == os.getpid()
    assert set(data["cpu"]) == {"user", "system", "percent"}
    assert data["cpu"]["user"] > 0
    assert data["memory"]["rss"] > 0 and data["memory"]["vms"] >= data["memory"]["rss"]
    assert data["uptime"] > 0
    # the server's and the collectors' threads, at least
    assert data["threads"] >= 4
    assert isinstance(data["open_files"], int)
    assert data["fds"] >= 3


def test_node_collector_reports_cpus_memory_filesystems_and_interfaces(running):
    report = get(running, "/1/report/default/node").json()
    data = report["data"]
    assert report["kind"] == 0
    cpus = data["cpus"]
    assert cpus["count"] == len(cpus["load_percent"]) == psutil.cpu_count()
    assert all(0 <= x <= 100 for x in cpus["load_percent"])
    assert 0 <= cpus["average_percent"] <= 100
    assert len(data["load_average"]) == 3
    assert data["memory"]["total"] > 0
    assert set(data["swap"]) == {"total", "used", "free", "percent"}
    assert data["filesystems"], "no filesystem reported"
    for fs in data["filesystems"]:
        assert set(fs) == {"mount_point", "device", "type", "total", "used", "free", "percent"}
    interfaces = {i["name"]: i for i in data["network"]}
    lo = interfaces["lo"]
    assert lo["up"] is True
    assert {"family": "inet", "address": "127.0.0.1", "netmask": "255.0.0.0"} in lo["addresses"]
    assert lo["counters"]["bytes_recv"] >= 0


def test_storage_collector_against_the_real_swift(services, devswift, tmp_path):
    service = services(StorageCollector(swift_store(devswift), [tmp_path]))
    service.start()
    report = collected(service, "storage", "storage")
    data = report["data"]
    assert report["kind"] == 1
    assert data["status"] == {
        "code": 0,
        "message": "object store reachable, free space above thresholds",
    }
    store = data["object_store"]
    assert store["reachable"] is True
    assert store["latency_ms"] >= 0
    assert store["error"] is None
    assert store["description"].startswith("Swift at http://127.0.0.1:")
    [directory] = data["directories"]
    assert directory["path"] == str(tmp_path)
    assert directory["total"] >= directory["free"] > 0
    assert 0 < directory["free_percent"] <= 100


def test_storage_collector_when_nothing_listens_on_swifts_port(services, tmp_path):
    key = "unreachable-swift-key-6e1f"
    store = SwiftStore(
        SwiftAuth(
            auth_url=f"http://127.0.0.1:{free_port()}/auth/v1.0",
            auth_version="1",
            user="test:tester",
            key=key,
        ),
        SwiftRetry(retries=1, starting_backoff=0.05, max_backoff=0.1, timeout=5),
    )
    service = services(StorageCollector(store, [tmp_path]), ok_collector())
    service.start()
    report = collected(service, "storage", "storage")
    status = report["data"]["status"]
    assert status["code"] == 4
    assert status["message"].startswith("object store unreachable:")
    assert report["data"]["object_store"]["reachable"] is False
    # the other collectors go on
    assert collected(service, "default", "sample")["data"]["status"]["code"] == 0
    assert key not in get(service, "/1/report/all").text


def test_storage_collector_when_swift_refuses_the_credentials(services, devswift):
    creds = devswift.credentials()
    wrong_key = "not-the-key-" + creds["key"][::-1]
    store = SwiftStore(
        SwiftAuth(auth_url=creds["auth_url"], auth_version="1", user=creds["user"], key=wrong_key),
        SwiftRetry(retries=1, starting_backoff=0.05, max_backoff=0.1, timeout=5),
    )
    service = services(StorageCollector(store))
    service.start()
    status = collected(service, "storage", "storage")["data"]["status"]
    assert status["code"] == 4
    assert status["message"].startswith("credentials refused:")
    assert wrong_key not in get(service, "/1/report/all").text


def test_free_space_thresholds(tmp_path):
    def status_with(warning, critical):
        collector = StorageCollector(
            None, [tmp_path], thresholds=FreeSpaceThresholds(warning, critical)
        )
        return collector.run().status

    assert status_with(0, 0).code == StatusCode.OK
    # no real filesystem is entirely free: below 100 % it is
    warned = status_with(100, 0)
    assert warned.code == StatusCode.TEMP_BAD
    assert warned.message.startswith(f"{tmp_path}: only ")
    assert status_with(100, 100).code == StatusCode.BAD
    missing = StorageCollector(None, [tmp_path / "gone"]).run().status
    assert missing.code == StatusCode.BAD
    assert "No such file or directory" in missing.message
    with pytest.raises(ValueError):
        FreeSpaceThresholds(5, 10)


def test_storage_collector_watches_a_local_store_and_the_directories_of_log_files(tmp_path):
    state, logs = tmp_path / "state", tmp_path / "logs"
    state.mkdir()
    logs.mkdir()
    collector = StorageCollector(
        FileStore(tmp_path / "objects"),
        [state],
        files=[logs / "general.log", logs / "slow.log", tmp_path / "not-yet" / "error.log", ""],
    )
    data = collector.run().data
    assert data["status"]["code"] == 0
    entries = {d["path"]: d for d in data["directories"]}
    assert list(entries) == [
        str(state),
        str(tmp_path / "objects"),  # the store's check made it
        str(logs),
        str(tmp_path / "not-yet"),
    ]
    assert entries[str(logs)]["free"] > 0 and "exists" not in entries[str(logs)]
    # a log directory that does not exist yet: the filesystem it will be on
    missing = entries[str(tmp_path / "not-yet")]
    assert missing["exists"] is False and missing["measured"] == str(tmp_path)
    assert missing["free"] > 0
    # a required directory that is missing is bad
    state.rmdir()
    assert collector.run().status.code == StatusCode.BAD


LOW_LIMIT_CHILD = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, ({limit}, {limit}))
held = [open("/dev/null") for _ in range({opened})]
print("ready", flush=True)
time.sleep(300)
"""


@pytest.mark.parametrize(("limit", "opened", "code"), [(64, 10, 0), (64, 60, 4)])
def test_daemon_collector_holds_a_process_to_its_own_open_files_limit(limit, opened, code):
    source = LOW_LIMIT_CHILD.format(limit=limit, opened=opened)
    child = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        data = DaemonCollector("other", pid=child.pid).run().data
    finally:
        child.kill()
        child.wait()
    assert data["pid"] == child.pid
    assert data["fd_limit"] == limit  # the child's, not this process's
    assert data["status"]["code"] == code
    if code:
        message = data["status"]["message"]
        assert message.endswith(f"of at most {limit} file descriptors are in use (pid {child.pid})")


# --- the cache and the intervals ---------------------------------------------


class Counting:
    """A sample daemon callable that counts its calls."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
            n = self.calls
        return {"status": Status(StatusCode.OK, f"call {n}"), "calls": n}


def test_each_collector_is_refreshed_at_its_own_interval_not_on_queries(services):
    slow, fast = Counting(), Counting()
    service = services(
        FunctionCollector("slow", slow, category=Category.INSTANCE, interval=3600),
        FunctionCollector("fast", fast, category=Category.INSTANCE, interval=0.05),
    )
    service.start()
    collected(service, "instance", "slow")
    for _ in range(20):
        assert get(service, "/1/report/all").status_code == 200
        get(service, "/1/report/instance/slow")
    wait_for("several runs of the fast collector", lambda: fast.calls >= 5)
    assert slow.calls == 1
    assert get(service, "/1/report/instance/slow").json()["data"]["calls"] == 1
    latest = wait_for(
        "a fresh report of the fast collector",
        lambda: (
            (r := get(service, "/1/report/instance/fast").json())["data"].get("calls", 0) >= 5 and r
        ),
    )
    assert latest["data"]["status"]["message"].startswith("call ")


def test_a_slow_collector_never_slows_a_query(services):
    release = threading.Event()
    entered = threading.Event()

    def blocked():
        entered.set()
        release.wait(120)
        return {"status": Status(StatusCode.OK, "finally")}

    service = services(
        FunctionCollector("blocked", blocked, category=Category.INSTANCE), ok_collector()
    )
    service.start()
    try:
        assert entered.wait(DEADLINE)
        reports = {r["name"]: r for r in get(service, "/1/report/all").json()}
        # answered while the collector is still inside its call
        assert not release.is_set()
        assert reports["blocked"]["data"]["status"] == {"code": 2, "message": "not collected yet"}
        assert collected(service, "default", "sample")["data"]["status"]["code"] == 0
    finally:
        release.set()
    report = wait_for(
        "the blocked collector's report",
        lambda: (
            (r := get(service, "/1/report/instance/blocked").json())["data"]["status"]["code"] == 0
            and r
        ),
    )
    assert report["data"]["status"]["message"] == "finally"


def test_a_collector_that_raises_reports_status_2_and_the_others_go_on(services):
    def broken():
        raise OSError("datastore socket gone")

    service = services(
        FunctionCollector("broken", broken, category=Category.INSTANCE, kind=Kind.PERFORMANCE),
        ok_collector(),
    )
    service.start()
    report = wait_for(
        "the broken collector's failure",
        lambda: (
            "gone"
            in (r := get(service, "/1/report/instance/broken").json())["data"]["status"]["message"]
            and r
        ),
    )
    assert report["kind"] == 1
    assert report["data"]["status"] == {
        "code": 2,
        "message": "collector failed: OSError: datastore socket gone",
    }
    assert collected(service, "default", "sample")["data"]["status"]["code"] == 0
    # the list still says what the collector is
    assert ["broken", "instance", 0] in get(service, "/1/list/collectors").json()


def test_a_collector_registered_after_start_is_refreshed_too(services):
    service = services(ok_collector())
    service.start()
    service.register(ok_collector("late", category=Category.DAEMON))
    assert collected(service, "daemon", "late")["data"]["status"]["code"] == 0


def test_stop_ends_the_server_and_the_collector_threads(services):
    before = set(threading.enumerate())
    service = services(ok_collector(), NodeCollector())
    service.start()
    assert set(threading.enumerate()) - before
    url = service.url
    collected(service, "default", "sample")
    service.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/", timeout=10)
    assert not set(threading.enumerate()) - before
    service.stop()  # idempotent
    with pytest.raises(RuntimeError):
        service.start()


def test_a_port_in_use_is_an_error_of_start():
    before = set(threading.enumerate())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        service = StatusService("127.0.0.1", taken.getsockname()[1])
        service.register(ok_collector())
        with pytest.raises(OSError, match="cannot listen"):
            service.start()
    assert not set(threading.enumerate()) - before


# --- plugins -----------------------------------------------------------------


def plugin_service(services, directory: Path, timeout: float = 2.0) -> StatusService:
    service = services(ok_collector())
    for plugin in discover_plugins(directory, timeout=timeout, interval=3600):
        service.register(plugin)
    service.start()
    return service


def test_a_hanging_script_is_killed_at_the_timeout_with_its_children(services, tmp_path, short_dir):
    pids = tmp_path / "pids"
    script(
        short_dir,
        "hang.sh",
        f"echo $$ > {pids}.parent\nsleep 300 &\necho $! > {pids}.child\nwait\n",
    )
    service = plugin_service(services, short_dir, timeout=1.0)
    report = collected(service, "default", "hang.sh")
    assert report["kind"] == 1
    assert report["version"] == "P"
    assert report["data"]["status"] == {
        "code": 2,
        "message": f"{short_dir / 'hang.sh'} timed out after 1 s and was killed",
    }
    parent, child = (int(Path(f"{pids}.{w}").read_text()) for w in ("parent", "child"))
    assert not alive(parent)
    assert not alive(child)
    assert collected(service, "default", "sample")["data"]["status"]["code"] == 0


def test_queries_are_answered_while_a_plugin_hangs(services, tmp_path, short_dir):
    pidfile = tmp_path / "hang.pid"
    script(short_dir, "hang.sh", f"echo $$ > {pidfile}\nexec sleep 300\n")
    service = plugin_service(services, short_dir, timeout=300)
    pid = wait_for(
        "the plugin to start",
        lambda: pidfile.exists() and pidfile.read_text().strip() and int(pidfile.read_text()),
    )
    reports = {r["name"]: r for r in get(service, "/1/report/all").json()}
    # the answer came while the plugin was running, so it never waited for it
    assert alive(pid)
    assert reports["hang.sh"]["data"]["status"] == {"code": 2, "message": "not collected yet"}
    assert get(service, "/1/list/collectors").status_code == 200
    service.stop()
    # stopping the service kills a plugin in progress
    wait_for("the plugin to be killed", lambda: not alive(pid))


def test_a_script_printing_garbage(services, short_dir):
    script(short_dir, "garbage.sh", "printf '\\001\\002\\377\\376'\n")
    script(short_dir, "broken-json.sh", 'echo \'{"status": {"code": 0,\'\n')
    service = plugin_service(services, short_dir)
    garbage = collected(service, "default", "garbage.sh")["data"]["status"]
    assert garbage == {"code": 2, "message": "the output is not UTF-8 text"}
    broken = collected(service, "default", "broken-json.sh")["data"]["status"]
    assert broken["code"] == 2
    assert broken["message"].startswith("the output is not valid JSON")


def test_a_script_printing_a_json_status(services, short_dir):
    script(
        short_dir,
        "raid-check",
        'echo \'{"disks": ["sda", "sdb"], "status": {"code": 1, "message": "rebuilding sdb"}}\'\n',
    )
    service = plugin_service(services, short_dir)
    report = collected(service, "default", "raid-check")
    assert report["kind"] == 1
    assert report["data"] == {
        "status": {"code": 1, "message": "rebuilding sdb"},
        "disks": ["sda", "sdb"],
    }
    assert ["raid-check", "default", 1] in get(service, "/1/list/collectors").json()


def test_a_script_printing_text_or_json_figures(services, short_dir):
    script(short_dir, "uptime.sh", "echo up 3 days\necho second line\n")
    script(short_dir, "temps.sh", "echo '{\"cpu\": 41.5}'\n")
    service = plugin_service(services, short_dir)
    text = collected(service, "default", "uptime.sh")
    assert (text["kind"], text["data"]) == (0, {"text": "up 3 days\nsecond line"})
    figures = collected(service, "default", "temps.sh")
    assert (figures["kind"], figures["data"]) == (0, {"cpu": 41.5})
    assert ["temps.sh", "default", 0] in get(service, "/1/list/collectors").json()


def test_a_script_exiting_non_zero(services, short_dir):
    script(short_dir, "fails.sh", "echo partial\necho 'disk sdb: I/O error' >&2\nexit 3\n")
    service = plugin_service(services, short_dir)
    status = collected(service, "default", "fails.sh")["data"]["status"]
    assert status == {
        "code": 4,
        "message": f"{short_dir / 'fails.sh'} exited with status 3: disk sdb: I/O error",
    }


def test_text_and_json_files(services, short_dir):
    (short_dir / "motd.txt").write_text("maintenance on Friday\n")
    (short_dir / "storage").mkdir()
    (short_dir / "storage" / "raid.json").write_text(
        '{"status": {"code": 0, "message": "clean"}, "level": 10}'
    )
    (short_dir / "notes.md").write_text("not a plugin")
    (short_dir / "nosuch-category").mkdir()
    service = plugin_service(services, short_dir)
    motd = collected(service, "default", "motd.txt")
    assert (motd["kind"], motd["data"]) == (0, {"text": "maintenance on Friday"})
    raid = collected(service, "storage", "raid.json")
    assert (raid["kind"], raid["category"]) == (1, "storage")
    assert raid["data"] == {"status": {"code": 0, "message": "clean"}, "level": 10}
    names = [c[0] for c in get(service, "/1/list/collectors").json()]
    assert names == ["sample", "motd.txt", "raid.json"]


class SocketServer:
    """A unix socket that answers every connection with `payload` and closes."""

    def __init__(self, path: Path, payload: bytes):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        self.payload = payload
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(self.payload)

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(10)


def test_a_unix_socket_that_answers(services, short_dir):
    server = SocketServer(
        short_dir / "queue.sock", b'{"status": {"code": 0, "message": "3 queued"}, "queued": 3}'
    )
    try:
        service = plugin_service(services, short_dir)
        report = collected(service, "default", "queue.sock")
    finally:
        server.close()
    assert report["kind"] == 1
    assert report["data"] == {"status": {"code": 0, "message": "3 queued"}, "queued": 3}


def test_a_unix_socket_where_nothing_listens(services, short_dir):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(short_dir / "dead.sock"))
    dead.close()  # the path stays; nothing listens on it
    service = plugin_service(services, short_dir)
    status = collected(service, "default", "dead.sock")["data"]["status"]
    assert status == {
        "code": 4,
        "message": f"nothing listens on {short_dir / 'dead.sock'} (connection refused)",
    }
    assert collected(service, "default", "sample")["data"]["status"]["code"] == 0


def test_a_unix_socket_that_never_answers(services, short_dir):
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(short_dir / "silent.sock"))
    silent.listen()
    try:
        service = plugin_service(services, short_dir, timeout=0.5)
        status = collected(service, "default", "silent.sock")["data"]["status"]
    finally:
        silent.close()
    assert status["code"] == 2
    assert "did not finish its answer within 0.5 s" in status["message"]


# --- secrets -----------------------------------------------------------------


def test_no_configured_secret_appears_in_the_report(services, devswift, short_dir):
    store = swift_store(devswift)
    key = devswift.credentials()["key"]
    leaky = "plugin-leaked-token-93f1"
    # what a careless plugin or daemon callable might print
    script(short_dir, "leaky.sh", f"echo 'connected with {leaky}'\n")
    service = services(
        DaemonCollector("logsvc-test"),
        StorageCollector(store, [short_dir]),
        FunctionCollector("echo", lambda: {"status": Status(StatusCode.OK, f"token {leaky}")}),
        secrets=[key, leaky],
    )
    for plugin in discover_plugins(short_dir, timeout=5, interval=3600):
        service.register(plugin)
    service.start()
    assert collected(service, "storage", "storage")["data"]["status"]["code"] == 0
    assert collected(service, "default", "leaky.sh")["data"] == {"text": "connected with ***"}
    collected(service, "default", "echo")
    text = get(service, "/1/report/all").text
    assert key not in text
    assert leaky not in text


# --- from the configuration --------------------------------------------------


def test_a_service_from_the_configuration(tmp_path, short_dir):
    script(short_dir, "check.sh", 'echo \'{"status": {"code": 0, "message": "ok"}}\'\n')
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([])
    conf.set_override("bind_port", 0, "status")
    conf.set_override("plugin_dir", str(short_dir), "status")
    conf.set_override("watched_directories", [str(tmp_path)], "status")
    conf.set_override("collector_intervals", {"node": 7.0, "check.sh": 9.0}, "status")
    conf.set_override("daemon_interval", 3.0, "status")
    service = StatusService.from_conf(
        conf, daemon_name="logsvc-guestagent", store=FileStore(tmp_path / "objects")
    )
    service.register(ok_collector("guest-logs", category=Category.INSTANCE))
    intervals = {c.name: c.interval for c in service.cache.collectors()}
    assert intervals == {
        "logsvc-guestagent": 3.0,
        "node": 7.0,
        "storage": 60.0,
        "check.sh": 9.0,
        "guest-logs": 60.0,
    }
    with service:
        assert service.url.startswith("http://127.0.0.1:")
        assert collected(service, "default", "check.sh")["data"]["status"]["code"] == 0
        storage = collected(service, "storage", "storage")["data"]
        assert storage["object_store"]["reachable"] is True
        # the watched directory, and the local object store's root
        watched = [d["path"] for d in storage["directories"]]
        assert watched == [str(tmp_path), str(tmp_path / "objects")]


def test_a_disabled_service_serves_nothing():
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([])
    port = free_port()
    conf.set_override("enabled", False, "status")
    conf.set_override("bind_port", port, "status")
    service = StatusService.from_conf(conf, daemon_name="logsvc-api")
    service.start()
    try:
        assert service.cache.collectors() == []
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=10)
    finally:
        service.stop()


# --- the command ---------------------------------------------------------------


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "logsvc.status", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_renders_the_report_and_exits_by_the_statuses(services):
    healthy = services(ok_collector(), NodeCollector())
    healthy.start()
    collected(healthy, "default", "sample")
    collected(healthy, "default", "node")
    address = healthy.url.removeprefix("http://")
    out = run_command(address)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == [
        "COLLECTOR",
        "CATEGORY",
        "KIND",
        "STATUS",
        "MESSAGE",
    ]
    assert "worst status: OK" in out.stdout
    assert "node: " in out.stdout

    as_json = run_command(address, "--json", "--category", "default")
    assert [r["name"] for r in json.loads(as_json.stdout)] == ["sample", "node"]

    unhealthy = services(
        FunctionCollector("down", lambda: {"status": Status(StatusCode.BAD, "datastore down")})
    )
    unhealthy.start()
    collected(unhealthy, "default", "down")
    out = run_command(unhealthy.url)
    assert out.returncode == 1
    assert "datastore down" in out.stdout


def test_the_command_when_nothing_answers():
    out = run_command(f"127.0.0.1:{free_port()}")
    assert out.returncode == 2
    assert "cannot reach http://127.0.0.1:" in out.stderr
