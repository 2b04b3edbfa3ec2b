"""Benchmark of the publish engine against plain python-swiftclient uploads.

Starts its own Swift (``dev/devswift.py``) in a working directory on disk and
writes a log of realistic MySQL general-log lines (200 MB by default). Then,
alternately (which goes first alternates too, and dirty pages are flushed
before each), each in a child process of its own (so that memory figures are
the measurement's):

- the engine publishes the whole log from scratch (a new instance id each
  run, guest_log_limit 1,000,000);
- a plain loop of sequential ``put_object`` calls of one swiftclient
  Connection uploads the very same slices (the engine's cuts, computed
  beforehand), read from the file with ``os.pread``.

It prints both throughputs and their ratio, the engine's peak RSS above the
interpreter's baseline (resident set just before the publish) against
3 x guest_log_limit, and the time of an incremental publish of 1 MB appended
to the published log relative to publishing a fresh 1 MB log. It asserts
nothing about time.

    python bench/publish.py [--size-mb 200] [--runs 3] [--workdir DIR] [--keep]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

# The checkout, for dev/ (the local Swift), which is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import MB, current_rss, peak_rss, start_swift, write_log

LIMIT = 1_000_000


def cuts(path: str, limit: int) -> list[tuple[int, int]]:
    """(offset, length) of every object the engine cuts from the file."""
    from guestagent.logfile import OpenLog

    with OpenLog(path) as log:
        return [(pos, len(piece)) for pos, piece in log.chunks(0, limit, final=False)]


def make_publisher(creds: dict, work: Path, source: str, instance: str, limit: int):
    from guestagent.publisher import Publisher
    from guestagent.publishmodel import LogSource, PublishSettings
    from guestagent.state import StateStore
    from logsvc.layout import LogLocation
    from logsvc.logmodel import LogType
    from logsvc.storage.swift import SwiftAuth, SwiftStore

    store = SwiftStore(SwiftAuth(auth_version="1", **creds))
    location = LogLocation("bench_publish", instance, "mysql", "general")
    states = StateStore(str(work / "state" / instance))
    return Publisher(
        LogSource("general", LogType.USER, source),
        location,
        store,
        states,
        PublishSettings(limit=limit, expiry=0),
    )


# --- children: each measures one thing in a fresh interpreter -----------------------------


def child_engine(creds: dict, work: str, source: str, limit: int) -> dict:
    publisher = make_publisher(creds, Path(work), source, f"run-{uuid.uuid4().hex[:8]}", limit)
    publisher.store.check()  # authenticate and warm up before the baseline is taken
    baseline = current_rss()
    started = time.perf_counter()
    report = publisher.publish()
    seconds = time.perf_counter() - started
    return {
        "bytes": report.bytes_published,
        "objects": report.objects,
        "seconds": seconds,
        "baseline_rss": baseline,
        "peak_rss": peak_rss(),
    }


def child_loop(creds: dict, source: str, slices: list) -> dict:
    from swiftclient import client

    conn = client.Connection(authurl=creds["auth_url"], user=creds["user"], key=creds["key"])
    conn.put_container("bench_loop")
    prefix = f"loop-{uuid.uuid4().hex[:8]}/"
    fd = os.open(source, os.O_RDONLY)
    baseline = current_rss()
    started = time.perf_counter()
    total = 0
    for offset, length in slices:
        data = os.pread(fd, length, offset)
        conn.put_object("bench_loop", f"{prefix}{offset:020d}", data)
        total += len(data)
    seconds = time.perf_counter() - started
    os.close(fd)
    return {"bytes": total, "seconds": seconds, "baseline_rss": baseline, "peak_rss": peak_rss()}


def run_child(args: list) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(args)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"a benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


# --- the measurements ---------------------------------------------------------------------


def measure_full(creds: dict, work: Path, source: Path, runs: int) -> None:
    slices = cuts(str(source), LIMIT)
    size = sum(length for _, length in slices)
    print(f"\nfull publish of {size / MB:.0f} MB in {len(slices)} objects, {runs} runs each")
    ratios, rss = [], []
    for run in range(1, runs + 1):
        # Alternate which goes first, and flush the page cache's dirty pages before
        # each: Swift's writes of one run must not be paid for by the next.
        order = ["loop", "engine"] if run % 2 else ["engine", "loop"]
        results = {}
        for kind in order:
            os.sync()
            args = (
                [creds, str(source), slices]
                if kind == "loop"
                else [creds, str(work), str(source), LIMIT]
            )
            results[kind] = run_child([kind, *args])
        loop, ours = results["loop"], results["engine"]
        assert ours["bytes"] == loop["bytes"] == size, (ours, loop, size)
        loop_rate = loop["bytes"] / MB / loop["seconds"]
        our_rate = ours["bytes"] / MB / ours["seconds"]
        ratios.append(our_rate / loop_rate)
        above = ours["peak_rss"] - ours["baseline_rss"]
        rss.append(above)
        print(
            f"  run {run}: engine {our_rate:6.1f} MB/s, plain loop {loop_rate:6.1f} MB/s,"
            f" ratio {our_rate / loop_rate:.2f}; engine peak RSS {ours['peak_rss'] / MB:.0f} MB,"
            f" {above / MB:.1f} MB above its baseline"
            f" (loop: {(loop['peak_rss'] - loop['baseline_rss']) / MB:.1f} MB)"
        )
    print(
        f"  => throughput ratio engine/loop: median {statistics.median(ratios):.2f} "
        f"(target >= 0.9); peak RSS above baseline: max {max(rss) / MB:.1f} MB = "
        f"{max(rss) / LIMIT:.2f} x guest_log_limit (target <= 3)"
    )


def measure_incremental(creds: dict, work: Path, big: Path, runs: int) -> None:
    """1 MB appended to the published big log, against a fresh 1 MB log."""
    publisher = make_publisher(creds, work, str(big), "incremental", LIMIT)
    if publisher.figures().pending:
        started = time.perf_counter()
        publisher.publish()
        print(f"\nincremental: first published the big log ({time.perf_counter() - started:.0f} s)")
    ratios = []
    for run in range(1, runs + 1):
        chunk = _one_mb(run)
        with open(big, "ab") as f:
            f.write(chunk)
        started = time.perf_counter()
        report = publisher.publish()
        incremental = time.perf_counter() - started
        fresh_path = work / f"fresh-{run}.log"
        fresh_path.write_bytes(chunk)
        fresh = make_publisher(creds, work, str(fresh_path), f"fresh-{uuid.uuid4().hex[:8]}", LIMIT)
        fresh.store.check()  # logged in beforehand, as the incremental publisher is
        started = time.perf_counter()
        fresh_report = fresh.publish()
        fresh_seconds = time.perf_counter() - started
        assert report.bytes_published == fresh_report.bytes_published == len(chunk)
        ratios.append(incremental / fresh_seconds)
        print(
            f"  run {run}: 1 MB after {publisher.figures().published / MB:.0f} MB: "
            f"{incremental * 1000:.0f} ms, read {report.bytes_read} bytes, "
            f"{report.objects} objects; fresh 1 MB log: {fresh_seconds * 1000:.0f} ms; "
            f"ratio {incremental / fresh_seconds:.2f}"
        )
    print(f"  => incremental/fresh: median {statistics.median(ratios):.2f} (target <= 1.5)")


def _one_mb(seed: int) -> bytes:
    lines, size, n = [], 0, seed * 100_000
    while size < MB:
        n += 1
        line = f"2026-11-22T02:00:{n % 60:02d}.{n:06d}Z\t{n % 50} Query\tSELECT {n} FROM t\n"
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, *rest = json.loads(sys.argv[2])
        result = child_engine(*rest) if kind == "engine" else child_loop(*rest)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-publish")
    parser.add_argument("--keep", action="store_true", help="leave Swift running for a next run")
    args = parser.parse_args()
    work = Path(args.workdir)
    swift, _ = start_swift(work)
    try:
        creds = swift.credentials()
        source = work / "source.log"
        if not source.exists() or source.stat().st_size < args.size_mb * MB:
            source.unlink(missing_ok=True)
            write_log(source, args.size_mb * MB)
        measure_full(creds, work, source, args.runs)
        big = work / "incremental.log"
        if not big.exists():
            shutil.copyfile(source, big)
        measure_incremental(creds, work, big, args.runs)
    finally:
        if not args.keep:
            swift.stop()
    print(
        "\nWhat limits the figures: the single-process Swift proxy and object server "
        "run on the same 2 cores as the publisher, and each upload waits for Swift's "
        "answer. The engine does more per object than the loop (reads and cuts at line "
        "ends, counts lines, computes the MD5 it sends as the ETag, commits a checkpoint "
        "every 64 objects), but all of it except the checkpoints happens in a thread while "
        "the previous object uploads, so the ratio is set by Swift's time per request: "
        "it varies from run to run by about +-0.1 with what else the machine does.\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
