"""Benchmark of the client reader: tail's bytes downloaded, save's throughput and memory.

Starts its own Swift (``dev/devswift.py``) in a working directory on disk,
publishes a log of realistic MySQL general-log lines (about 1 GB by default)
with the real publish engine, then measures:

- tail of 50 lines: bytes of object bodies downloaded, requests, time; again
  after a small publish (the last object then holds three lines);
- save of the whole log, in a child process, against a plain
  python-swiftclient loop of ``get_object`` calls over the same objects
  (bytes discarded) in another, alternately, in the same run: throughput, CPU
  time of the child (``wait4``), and its peak RSS (``VmHWM``, which unlike
  ``ru_maxrss`` does not count the parent's memory that a child inherits
  until it executes Python anew);
- save of the whole log through the API's read route (a real logsvc-api
  reading the same Swift; the client holds only the API's URL and a token),
  in the same alternation, as a ratio against the same loop, with the RSS of
  the API's processes sampled while it streams (goal: >= 0.8, RSS flat and
  under 100 MB), and a tail of 50 lines through the route.
- save through the API's temp URLs (``Client.tempurl_reader``: the listing
  from a real logsvc-api, the objects straight from Swift), against the same
  plain loop, alternately, in the same run.

It prints figures and asserts nothing about time. With ``--keep`` the Swift
and the published log stay, and the next run with the same ``--workdir``
reuses them instead of publishing again.

    python bench/tail_save.py [--workdir /tmp/logsvc-bench-tail-save] [--size-mb 1024]
"""

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Only what every process needs is imported here: a child imports what its
# measurement uses, so that its memory is that of the measurement.
# The checkout, for dev/ (the local Swift), which is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import MB, peak_rss, running_swift, swift_store, write_log

from logsvc.layout import LogLocation

LOCATION = LogLocation("database_logs", "bench-instance", "mysql", "general")

# --- the log ------------------------------------------------------------------------------


def publisher(store, work: Path, limit: int):
    from guestagent.publisher import Publisher
    from guestagent.publishmodel import LogSource, PublishSettings
    from guestagent.state import StateStore
    from logsvc.logmodel import LogType

    source = LogSource("general", LogType.USER, str(work / "source" / "general.log"))
    settings = PublishSettings(limit=limit, expiry=0)
    return Publisher(source, LOCATION, store, StateStore(str(work / "state")), settings)


def prepare(work: Path, size: int, limit: int):
    """A running Swift holding the published log: the one left by --keep, or a new one."""
    from dev.devswift import DevSwift

    swift = running_swift(work)
    if swift is None:
        for stale in ("data", "state", "source", "etc", "log"):
            shutil.rmtree(work / stale, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        swift = DevSwift(str(work)).start()
        print(f"swift: started in {work} ({time.monotonic() - started:.1f} s)")
    else:
        print(f"swift: reusing the one running in {work}")
    (work / "source").mkdir(exist_ok=True)
    path = work / "source" / "general.log"
    if not path.exists() or path.stat().st_size < size:
        started = time.monotonic()
        write_log(path, size)
        print(f"log: wrote {path.stat().st_size / MB:.0f} MB in {time.monotonic() - started:.0f} s")
    store = swift_store(swift)
    pub = publisher(store, work, limit)
    pending = pub.figures().pending
    if pending:
        report = pub.publish()
        print(
            f"publish: {report.bytes_published / MB:.0f} MB in {report.objects} objects, "
            f"{report.seconds:.0f} s ({report.bytes_published / MB / report.seconds:.1f} MB/s)"
        )
    else:
        print(f"publish: already published ({pub.figures().published / MB:.0f} MB)")
    store.close()
    return swift


# --- tail -----------------------------------------------------------------------------------


class Counting:
    """A store that counts the bytes of object bodies a reader downloads."""

    def __init__(self, inner):
        self.inner = inner
        self.bytes = self.gets = self.heads = 0
        self.metafile_bytes = self.metafile_gets = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)  # listings and the rest, uncounted

    def get_object(self, container, name, start=None, end=None):
        headers, body = self.inner.get_object(container, name, start, end)
        if name == LOCATION.metafile:
            self.metafile_gets += 1
            self.metafile_bytes += len(body)
        else:
            self.gets += 1
            self.bytes += len(body)
        return headers, body

    def stream_object(self, container, name, chunk_size=1 << 20):
        headers, chunks = self.inner.stream_object(container, name, chunk_size)
        self.gets += 1

        def counted():
            for chunk in chunks:
                self.bytes += len(chunk)
                yield chunk

        return headers, counted()

    def head_object(self, container, name):
        self.heads += 1
        return self.inner.head_object(container, name)


def measure_tail(swift, lines: int) -> None:
    from logsvc.client.reader import LogReader

    store = swift_store(swift)
    snap = LogReader(store, LOCATION.container, LOCATION.prefix, LOCATION.metafile).snapshot()
    biggest = max(o.size for o in snap.objects)
    last = snap.objects[-1]
    last_lines = store.head_object(LOCATION.container, last.name)["x-object-meta-lines"]
    counting = Counting(store)
    with LogReader(counting, LOCATION.container, LOCATION.prefix, LOCATION.metafile) as reader:
        started = time.monotonic()
        out = b"".join(reader.tail(lines))
        seconds = time.monotonic() - started
    print(
        f"tail -n {lines} (the log: {len(snap.objects)} objects, {snap.size / MB:.0f} MB; "
        f"its last object {last.size} bytes, {last_lines} lines): {len(out)} bytes out; "
        f"object bytes downloaded {counting.bytes} = {counting.bytes / biggest:.3f} of the "
        f"largest object ({biggest} bytes), in {counting.gets} GETs and {counting.heads} HEADs; "
        f"metafile {counting.metafile_bytes} bytes in {counting.metafile_gets} GETs; "
        f"{seconds * 1000:.0f} ms"
    )
    store.close()


# --- save against a plain swiftclient loop, each in a child process -------------------------


def child_save(creds: dict, target: str) -> dict:
    from logsvc.client.objects import open_store
    from logsvc.client.reader import LogReader

    store = open_store(
        auth_url=creds["auth_url"], auth_version="1", user=creds["user"], key=creds["key"]
    )
    reader = LogReader(store, LOCATION.container, LOCATION.prefix, LOCATION.metafile)
    shown = [0]

    def progress(done: int, total: int) -> None:
        shown[0] = done  # what a terminal display would read

    started = time.monotonic()
    saved = reader.save(target, progress)
    seconds = time.monotonic() - started
    size = os.path.getsize(target)
    os.unlink(target)
    return {"bytes": saved.bytes_written, "seconds": seconds, "file": size, "rss": peak_rss()}


def child_baseline(creds: dict) -> dict:
    from swiftclient import client

    conn = client.Connection(authurl=creds["auth_url"], user=creds["user"], key=creds["key"])
    started = time.monotonic()
    _, listing = conn.get_container(LOCATION.container, prefix=LOCATION.prefix, full_listing=True)
    total = 0
    for entry in listing:
        _, body = conn.get_object(LOCATION.container, entry["name"])
        total += len(body)
    seconds = time.monotonic() - started
    return {"bytes": total, "seconds": seconds, "file": 0, "rss": peak_rss()}


def child_api_save(creds: dict, target: str) -> dict:
    from logsvc.client.api import Client

    client = Client(creds["api_url"], creds["api_token"])  # no object-store settings
    started = time.monotonic()
    client.log_save(LOCATION.instance_id, LOCATION.log, filename=target)
    seconds = time.monotonic() - started
    size = os.path.getsize(target)
    os.unlink(target)
    return {"bytes": size, "seconds": seconds, "file": size, "rss": peak_rss()}


# --- the API ----------------------------------------------------------------------------------


class BenchApi:
    """A real logsvc-api reading the bench's Swift, the log known as its last known state.

    No agent runs: the instance's agent address refuses connections, so the
    read route finds the log where the API last saw it (as it does when an
    agent is down), which it is told here as a heartbeat would tell it.
    """

    def __init__(self, swift, work: Path):
        from tests.processes import ApiProcess, swift_settings

        (work / "api").mkdir(exist_ok=True)
        self.api = ApiProcess(
            work / "api",
            {
                "storage": {"backend": "swift"},
                "swift": swift_settings(swift),
            },
            checked=False,
        )

    def start(self) -> "BenchApi":
        from dev.devswift import free_port

        self.api.start()
        admin = self.api.token("admin-project", "admin")
        self.token = self.api.token("bench-tenant", "member")
        body = {
            "tenant_id": "bench-tenant",
            "datastore": LOCATION.datastore,
            "agent_url": f"http://127.0.0.1:{free_port()}",  # nobody listens
        }
        resp = self.api.request("PUT", f"/v1/instance/{LOCATION.instance_id}", admin, body)
        resp.raise_for_status()
        self._record()
        return self

    def _record(self) -> None:
        from sqlalchemy.orm import Session

        from api import logstate
        from api.db import make_engine
        from api.models import Instance
        from logsvc.logmodel import LogStatus, LogType, LogView

        view = LogView(
            LOCATION.log,
            LogType.USER,
            LogStatus.PUBLISHED,
            1,
            0,
            LOCATION.container,
            LOCATION.prefix,
            LOCATION.metafile,
        )
        engine = make_engine(self.api.database_url)
        try:
            with Session(engine) as session:
                instance = session.get(Instance, LOCATION.instance_id)
                logstate.record(session, instance, [view], complete=False, exposed=True)
        finally:
            engine.dispose()

    def rss(self) -> dict[int, int]:
        """RSS of each of the API's processes (master, workers, status), by pid."""
        import psutil

        out = {}
        root = psutil.Process(self.api.proc.pid)
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                out[proc.pid] = proc.memory_info().rss
        return out

    def stop(self) -> None:
        self.api.stop()


class RssSampler:
    """The API's processes' RSS, sampled every 0.1 s in a thread while a save runs."""

    def __init__(self, api: BenchApi):
        import threading

        self.api, self.stop_event = api, threading.Event()
        self.before = api.rss()
        self.peak: dict[int, int] = dict(self.before)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop_event.wait(0.1):
            for pid, rss in self.api.rss().items():
                self.peak[pid] = max(self.peak.get(pid, 0), rss)

    def __enter__(self) -> "RssSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join()

    def summary(self) -> tuple[int, int]:
        """(RSS before, peak during) of the process that grew most (the worker that served)."""
        pid = max(self.peak, key=lambda p: self.peak[p] - self.before.get(p, 0))
        return self.before.get(pid, 0), self.peak[pid]


def measure_api_tail(api: BenchApi, lines: int) -> None:
    import requests

    url = f"{api.api.url}/v1/instance/{LOCATION.instance_id}/log/{LOCATION.log}/data"
    started = time.monotonic()
    resp = requests.get(url, params={"lines": lines}, headers={"X-Auth-Token": api.token})
    seconds = time.monotonic() - started
    resp.raise_for_status()
    newlines = resp.content.count(b"\n")
    print(
        f"tail -n {lines} through the API's route: {len(resp.content)} bytes, "
        f"{newlines} lines, {seconds * 1000:.0f} ms "
        f"(the bytes it reads from the store: tests/functional/test_api_read.py counts them)"
    )


def run_child(kind: str, creds: dict, target: str) -> dict:
    """Run one measurement in a child process: its figures, with its CPU seconds."""
    proc = subprocess.Popen(
        [sys.executable, __file__, f"child-{kind}", json.dumps(creds), target],
        stdout=subprocess.PIPE,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"the {kind} child failed ({proc.returncode})")
    return json.loads(out) | {"cpu": usage.ru_utime + usage.ru_stime}


def measure_save(swift, work: Path, runs: int, api: "BenchApi | None") -> None:
    creds = swift.credentials()
    if api is not None:
        creds = creds | {"api_url": api.api.url, "api_token": api.token}
    target = str(work / "saved-general.log")
    ratios, api_ratios, api_rss = [], [], []
    kinds = ["baseline", "save"] + (["api"] if api is not None else [])
    for run in range(1, runs + 1):
        # Alternate which goes first, and flush dirty pages before each: the
        # saved file's writes of one run must not be paid for by the next.
        results = {}
        for kind in kinds if run % 2 else list(reversed(kinds)):
            os.sync()
            if kind == "api":
                with RssSampler(api) as sampler:
                    results[kind] = run_child(kind, creds, target)
                results[kind]["api_rss"] = sampler.summary()
            else:
                results[kind] = run_child(kind, creds, target)
        base, ours = results["baseline"], results["save"]
        assert ours["bytes"] == ours["file"] == base["bytes"], (ours, base)
        base_rate = base["bytes"] / MB / base["seconds"]
        our_rate = ours["bytes"] / MB / ours["seconds"]
        ratios.append(our_rate / base_rate)
        line = (
            f"run {run}: swiftclient get_object loop {base_rate:.1f} MB/s, "
            f"{base['cpu']:.1f} s CPU, peak RSS {base['rss'] / MB:.0f} MB | "
            f"save {our_rate:.1f} MB/s (written and fsynced), {ours['cpu']:.1f} s CPU, "
            f"peak RSS {ours['rss'] / MB:.0f} MB | ratio {our_rate / base_rate:.2f}"
        )
        if api is not None:
            through = results["api"]
            assert through["bytes"] == base["bytes"], (through, base)
            api_rate = through["bytes"] / MB / through["seconds"]
            api_ratios.append(api_rate / base_rate)
            before, peak = through["api_rss"]
            api_rss.append((before, peak))
            line += (
                f" | through the API {api_rate:.1f} MB/s, ratio {api_rate / base_rate:.2f}, "
                f"the API worker's RSS {before / MB:.0f} MB before, {peak / MB:.0f} MB peak"
            )
        print(line)
    print(
        f"save / loop throughput ratio over {runs} runs: median {statistics.median(ratios):.2f}, "
        f"lowest {min(ratios):.2f}, highest {max(ratios):.2f} (target >= 0.8)"
    )
    if api_ratios:
        print(
            f"save through the API's route / loop ratio over {runs} runs: median "
            f"{statistics.median(api_ratios):.2f}, lowest {min(api_ratios):.2f}, highest "
            f"{max(api_ratios):.2f} (target >= 0.8); the serving worker's RSS: at most "
            f"{max(p for _, p in api_rss) / MB:.0f} MB, growth at most "
            f"{max(p - b for b, p in api_rss) / MB:.0f} MB (target: flat, under 100 MB)"
        )


# --- save through the API's temp URLs, against the same loop ---------------------------------


def child_tempurl(access: dict, target: str) -> dict:
    from logsvc.client.api import Client

    client = Client(access["url"], access["token"])
    started = time.monotonic()
    with client.tempurl_reader(access["instance"], LOCATION.log) as reader:
        saved = reader.save(target)
    seconds = time.monotonic() - started
    size = os.path.getsize(target)
    os.unlink(target)
    return {"bytes": saved.bytes_written, "seconds": seconds, "file": size, "rss": peak_rss()}


def tempurl_api(swift, work: Path):
    """A real logsvc-api that signs temp URLs for the published log: (process, access).

    The log was published by the engine, not by an agent: the API learns where
    it lies from a signed heartbeat, and answers from that last known state (the
    instance's agent_url leads nowhere, so the API's show of the log fails at
    once and falls back to it, as it does when an agent is away).
    """
    from dev.devswift import free_port
    from logsvc.signing import sign
    from tests.processes import ApiProcess, swift_settings

    (work / "api-tempurl").mkdir(exist_ok=True)
    sections = {
        "api": {"temp_url_key": swift.temp_url_keys["test"], "workers": 1},
        "storage": {"backend": "swift"},
        "swift": swift_settings(swift),
    }
    api = ApiProcess(work / "api-tempurl", sections, checked=False).start()
    admin = api.token("bench-admin", "admin")
    instance = LOCATION.instance_id
    resp = api.request(
        "PUT",
        f"/v1/instance/{instance}",
        admin,
        {
            "tenant_id": "bench",
            "datastore": "mysql",
            "agent_url": f"http://127.0.0.1:{free_port()}",
        },
    )
    assert resp.status_code in (200, 201), resp.text
    store = swift_store(swift)
    published = sum(o.size for o in store.list_objects(LOCATION.container, LOCATION.prefix))
    store.close()
    log = {
        "name": LOCATION.log,
        "type": "USER",
        "status": "Published",
        "published": published,
        "pending": 0,
        "container": LOCATION.container,
        "prefix": LOCATION.prefix,
        "metafile": LOCATION.metafile,
    }
    body = {"instance_id": instance, "datastore": "mysql", "version": "bench", "logs": [log]}
    path = f"/v1/instance/{instance}/heartbeat"
    data = json.dumps(body).encode()
    headers = sign("agent-secret", "POST", path, data, instance=instance)
    headers["Content-Type"] = "application/json"
    resp = api.request("POST", path, data=data, headers=headers)
    assert resp.status_code == 204, resp.text
    return api, {"url": api.url, "token": admin, "instance": instance}


def measure_tempurl_save(swift, work: Path, runs: int) -> None:
    if not swift.temp_url_keys:
        print("save through temp URLs: skipped, this Swift (left by --keep) predates tempurl")
        return
    api, access = tempurl_api(swift, work)
    creds = swift.credentials()
    target = str(work / "saved-general.log")
    ratios = []
    try:
        for run in range(1, runs + 1):
            results = {}
            for kind in ("baseline", "tempurl") if run % 2 else ("tempurl", "baseline"):
                os.sync()
                results[kind] = run_child(kind, access if kind == "tempurl" else creds, target)
            base, ours = results["baseline"], results["tempurl"]
            assert ours["bytes"] == ours["file"] == base["bytes"], (ours, base)
            base_rate = base["bytes"] / MB / base["seconds"]
            our_rate = ours["bytes"] / MB / ours["seconds"]
            ratios.append(our_rate / base_rate)
            print(
                f"run {run}: swiftclient get_object loop {base_rate:.1f} MB/s | save through "
                f"temp URLs {our_rate:.1f} MB/s (listing from the API included, written and "
                f"fsynced), {ours['cpu']:.1f} s CPU, peak RSS {ours['rss'] / MB:.0f} MB | "
                f"ratio {our_rate / base_rate:.2f}"
            )
    finally:
        api.stop()
    print(
        f"save through temp URLs / loop throughput ratio over {runs} runs: median "
        f"{statistics.median(ratios):.2f}, lowest {min(ratios):.2f}, highest "
        f"{max(ratios):.2f} (target >= 0.95)"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1].startswith("child-"):
        kind, creds = sys.argv[1], json.loads(sys.argv[2])
        if kind == "child-save":
            result = child_save(creds, sys.argv[3])
        elif kind == "child-api":
            result = child_api_save(creds, sys.argv[3])
        elif kind == "child-tempurl":
            result = child_tempurl(creds, sys.argv[3])
        else:
            result = child_baseline(creds)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-tail-save", type=Path)
    parser.add_argument("--size-mb", type=int, default=1000, help="size of the log (MB)")
    parser.add_argument("--limit", type=int, default=1_000_000, help="guest_log_limit")
    parser.add_argument("--runs", type=int, default=4, help="save/loop pairs to run")
    parser.add_argument("--keep", action="store_true", help="leave Swift and the log for reuse")
    parser.add_argument(
        "--no-api", action="store_true", help="leave out the rows through the API's read route"
    )
    args = parser.parse_args()
    work = args.workdir.resolve()
    swift = prepare(work, args.size_mb * MB, args.limit)
    api = None
    try:
        measure_tail(swift, 50)
        pub = publisher(swift_store(swift), work, args.limit)
        with open(pub.source.path, "ab") as f:
            f.write(
                b"".join(
                    b"2026-11-22T02:00:0%dZ\t  1 Query\tSELECT %d\n" % (i, i) for i in range(3)
                )
            )
        pub.publish()
        pub.store.close()
        measure_tail(swift, 50)
        measure_tail(swift, 1000)
        if not args.no_api:
            api = BenchApi(swift, work).start()
            measure_api_tail(api, 50)
        measure_save(swift, work, args.runs, api)
        measure_tempurl_save(swift, work, args.runs)
    finally:
        if api is not None:
            api.stop()
        if not args.keep:
            swift.stop()
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
