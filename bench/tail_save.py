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
  until it executes Python anew).

It prints figures and asserts nothing about time. With ``--keep`` the Swift
and the published log stay, and the next run with the same ``--workdir``
reuses them instead of publishing again.

    python bench/tail_save.py [--workdir /tmp/logsvc-bench-tail-save] [--size-mb 1024]
"""

import argparse
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


def measure_save(swift, work: Path, runs: int) -> None:
    creds = swift.credentials()
    target = str(work / "saved-general.log")
    ratios = []
    for run in range(1, runs + 1):
        # Alternate which goes first, and flush dirty pages before each: the
        # saved file's writes of one run must not be paid for by the next.
        results = {}
        for kind in ("baseline", "save") if run % 2 else ("save", "baseline"):
            os.sync()
            results[kind] = run_child(kind, creds, target)
        base, ours = results["baseline"], results["save"]
        assert ours["bytes"] == ours["file"] == base["bytes"], (ours, base)
        base_rate = base["bytes"] / MB / base["seconds"]
        our_rate = ours["bytes"] / MB / ours["seconds"]
        ratios.append(our_rate / base_rate)
        print(
            f"run {run}: swiftclient get_object loop {base_rate:.1f} MB/s, "
            f"{base['cpu']:.1f} s CPU, peak RSS {base['rss'] / MB:.0f} MB | "
            f"save {our_rate:.1f} MB/s (written and fsynced), {ours['cpu']:.1f} s CPU, "
            f"peak RSS {ours['rss'] / MB:.0f} MB | ratio {our_rate / base_rate:.2f}"
        )
    print(
        f"save / loop throughput ratio over {runs} runs: median {statistics.median(ratios):.2f}, "
        f"lowest {min(ratios):.2f}, highest {max(ratios):.2f} (target >= 0.8)"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1].startswith("child-"):
        kind, creds = sys.argv[1], json.loads(sys.argv[2])
        result = child_save(creds, sys.argv[3]) if kind == "child-save" else child_baseline(creds)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-tail-save", type=Path)
    parser.add_argument("--size-mb", type=int, default=1000, help="size of the log (MB)")
    parser.add_argument("--limit", type=int, default=1_000_000, help="guest_log_limit")
    parser.add_argument("--runs", type=int, default=4, help="save/loop pairs to run")
    parser.add_argument("--keep", action="store_true", help="leave Swift and the log for reuse")
    args = parser.parse_args()
    work = args.workdir.resolve()
    swift = prepare(work, args.size_mb * MB, args.limit)
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
        measure_save(swift, work, args.runs)
    finally:
        if not args.keep:
            swift.stop()
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
