"""Benchmark of the publish engine against plain python-swiftclient uploads, on the
default configuration.

Starts its own Swift (``dev/devswift.py``) in a working directory on disk and
writes a log of realistic MySQL general-log lines (200 MB by default). Every
upload sends the headers of the default configuration: ``X-Delete-After``
(``guest_log_expiry``'s default, 30 days: each such object costs Swift an
expirer-queue update), ``X-Object-Meta-Lines`` and ``ETag``; objects are the
engine's cuts at ``guest_log_limit``'s default, 1,000,000 bytes (where the
cuts fall is computed beforehand for the plain uploads; each plain upload
reads its piece, counts its lines and hashes it on the clock, as a user's
script that sends those headers must, and as ``swift upload`` hashes what it
sends).
Then, in turns (which goes first rotates, and dirty pages are flushed before
each), each in a child process of its own (so that memory figures are the
measurement's):

- ``loop``: sequential ``put_object`` calls of one swiftclient Connection,
  the data read with ``os.pread`` (the reference);
- ``pool``: the same ``put_object`` calls from a pool of threads, one
  Connection each, as many as ``guest_log_upload_concurrency``'s default
  (what ``swift upload`` does with its threads);
- ``engine/1``: the engine publishing the whole log from scratch with
  ``guest_log_upload_concurrency = 1``;
- ``engine/N``: the same at the default concurrency.

It prints the medians of each, their ratios, the CPU each side and Swift's
servers used (from /proc), the engine's peak RSS above the interpreter's
baseline against (concurrency + 1) x guest_log_limit, a profile of one more
run of the engine (its main thread and its upload threads: where their time
goes), the time of an incremental publish of 1 MB appended to the published
log relative to publishing a fresh 1 MB log, and the rate a publish keeps
with ``guest_log_max_bytes_per_second`` at 5 MB/s. It asserts nothing about
time.

    python bench/publish.py [--size-mb 200] [--runs 3] [--rate-mb 100] [--also 2,8]
                            [--workdir DIR] [--keep]
"""

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

# The checkout, for dev/ (the local Swift), which is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import MB, current_rss, peak_rss, start_swift, write_log


def defaults() -> dict:
    """The defaults of the options the benchmark is about, as an agent reads them."""
    from guestagent.conf.guest_log import publish_opts

    return {opt.name: opt.default for opt in publish_opts}


DEFAULTS = defaults()
LIMIT = DEFAULTS["guest_log_limit"]
EXPIRY = DEFAULTS["guest_log_expiry"]
CONCURRENCY = DEFAULTS["guest_log_upload_concurrency"]
RATE = 5_000_000


def cuts(path: str, limit: int) -> list[tuple[int, int]]:
    """(offset, length) of every object the engine cuts from the file."""
    from guestagent.logfile import OpenLog

    with OpenLog(path) as log:
        return [(pos, len(piece)) for pos, piece in log.chunks(0, limit, final=False)]


def make_publisher(
    creds: dict, work: Path, source: str, instance: str, concurrency: int, max_rate: int = 0
):
    from guestagent.publisher import Publisher
    from guestagent.publishmodel import LogSource, PublishSettings
    from guestagent.state import StateStore
    from logsvc.layout import LogLocation
    from logsvc.logmodel import LogType
    from logsvc.storage.swift import SwiftAuth, SwiftStore

    store = SwiftStore(SwiftAuth(auth_version="1", **creds))
    location = LogLocation("bench_publish", instance, "mysql", "general")
    states = StateStore(str(work / "state" / instance))
    settings = PublishSettings(
        limit=LIMIT, expiry=EXPIRY, concurrency=concurrency, max_rate=max_rate
    )
    return Publisher(LogSource("general", LogType.USER, source), location, store, states, settings)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- children: each measures one thing in a fresh interpreter -----------------------------


def child_engine(creds: dict, work: str, source: str, concurrency: int, profile: bool) -> dict:
    publisher = make_publisher(
        creds, Path(work), source, f"run-{uuid.uuid4().hex[:8]}", concurrency
    )
    publisher.store.check()  # authenticate and warm up before the baseline is taken
    profiles = _profile_uploads() if profile else None
    main = cProfile.Profile() if profile else None
    baseline, cpu = current_rss(), cpu_seconds()
    started = time.perf_counter()
    if main:
        main.enable()
    report = publisher.publish()
    if main:
        main.disable()
    seconds = time.perf_counter() - started
    result = {
        "bytes": report.bytes_published,
        "objects": report.objects,
        "seconds": seconds,
        "cpu": cpu_seconds() - cpu,
        "baseline_rss": baseline,
        "peak_rss": peak_rss(),
    }
    if main:
        result["profile"] = {
            "main": _summary(pstats.Stats(main), seconds),
            "uploads": _summary(_merged(profiles), seconds * concurrency),
        }
    return result


def _profile_uploads() -> list:
    """Profile each upload thread of the engine, each in a cProfile of its own."""
    from guestagent import uploads

    profiles, local = [], threading.local()
    upload = uploads.OrderedUploads._upload

    def profiled(self, *args):
        if not hasattr(local, "profile"):
            local.profile = cProfile.Profile()
            profiles.append(local.profile)
        local.profile.enable()
        try:
            return upload(self, *args)
        finally:
            local.profile.disable()

    uploads.OrderedUploads._upload = profiled
    return profiles


def _merged(profiles: list) -> pstats.Stats:
    stats = pstats.Stats(profiles[0])
    for more in profiles[1:]:
        stats.add(more)
    return stats


#: What the engine's threads wait for, by the function that waits.
_WAITS = {
    "room": "waiting for an upload to end (the uploads are the limit)",
    "prepared": "preparing chunks: reading, cutting, counting, hashing",
    "commit": "commits: metafile and state, at checkpoints and at the end",
    "put_object": "in the store's put_object (the whole of each upload)",
    "start": "waiting until Swift took the upload before (its 100 Continue)",
    "_interim": "waiting for Swift's 100 Continue to their own headers",
    "release": "holding the last byte until the upload before is stored",
    "getresponse": "waiting for Swift's answer (Swift storing the object)",
    "send": "sending bodies",
}


def _summary(stats: pstats.Stats, seconds: float) -> dict:
    """Cumulative seconds of the functions of `_WAITS`, and the top ten by own time."""
    found: dict[str, float] = {}
    for (path, _, func), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        ours = "guestagent" in path or "logsvc" in path or "http/client" in path
        if func in _WAITS and ours:
            found[func] = max(found.get(func, 0.0), cumulative)
    entries = stats.stats.items()  # type: ignore[attr-defined]
    top = sorted(entries, key=lambda kv: kv[1][2], reverse=True)[:10]
    return {
        "seconds": seconds,
        "waits": found,
        "top": [(f"{Path(p).name}:{n}({func})", tt) for (p, n, func), (_, _, tt, _, _) in top],
    }


def _connection(creds: dict):
    from swiftclient import client

    return client.Connection(authurl=creds["auth_url"], user=creds["user"], key=creds["key"])


def _headers(lines: int, md5: str) -> dict:
    headers = {"X-Object-Meta-Lines": str(lines), "ETag": md5}
    if EXPIRY:
        headers["X-Delete-After"] = str(EXPIRY)
    return headers


def child_plain(creds: dict, source: str, slices: list, threads: int) -> dict:
    """`threads` swiftclient Connections uploading the slices (1: a sequential loop)."""
    from concurrent.futures import ThreadPoolExecutor

    from logsvc.storage.base import md5_hex

    conn = _connection(creds)
    conn.put_container("bench_plain")
    prefix = f"plain-{uuid.uuid4().hex[:8]}/"
    fd = os.open(source, os.O_RDONLY)
    local = threading.local()

    def put(piece) -> int:
        offset, length = piece
        if not hasattr(local, "conn"):
            local.conn = _connection(creds) if threads > 1 else conn
        data = os.pread(fd, length, offset)
        headers = _headers(data.count(b"\n"), md5_hex(data))
        local.conn.put_object("bench_plain", f"{prefix}{offset:020d}", data, headers=headers)
        return len(data)

    if threads > 1:  # each thread's Connection authenticates before the clock starts
        with ThreadPoolExecutor(threads) as warm:
            list(warm.map(lambda _: put(slices[0]), range(threads * 2)))
    baseline, cpu = current_rss(), cpu_seconds()
    started = time.perf_counter()
    if threads == 1:
        total = sum(put(piece) for piece in slices)
    else:
        with ThreadPoolExecutor(threads) as pool:
            total = sum(pool.map(put, slices))
    seconds = time.perf_counter() - started
    os.close(fd)
    return {
        "bytes": total,
        "seconds": seconds,
        "cpu": cpu_seconds() - cpu,
        "baseline_rss": baseline,
        "peak_rss": peak_rss(),
    }


def child_rate(creds: dict, work: str, source: str, rate: int) -> dict:
    """A publish with guest_log_max_bytes_per_second = `rate`, and when each upload began."""
    from guestagent import uploads

    starts: list[tuple[float, int]] = []
    wait = uploads.Pacer.wait

    def recorded(self, size):
        wait(self, size)
        starts.append((time.perf_counter(), size))

    uploads.Pacer.wait = recorded
    publisher = make_publisher(
        creds, Path(work), source, f"rate-{uuid.uuid4().hex[:8]}", CONCURRENCY, rate
    )
    publisher.store.check()
    started = time.perf_counter()
    report = publisher.publish()
    seconds = time.perf_counter() - started
    # the most bytes begun within any second, against the rate plus one object
    burst = max(sum(size for t, size in starts if begun <= t < begun + 1.0) for begun, _ in starts)
    # the pace of the starts: the bytes of all but the last, over the time they span
    paced = sum(size for _, size in starts[:-1]) / (starts[-1][0] - starts[0][0])
    return {"bytes": report.bytes_published, "seconds": seconds, "burst": burst, "paced": paced}


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


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def swift_cpu(swift) -> float:
    """CPU seconds used so far by the Swift servers (each one process)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in swift.pids.values():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


KINDS = {
    "loop": "sequential put_object loop",
    "pool": f"put_object pool, {CONCURRENCY} threads",
    "engine/1": "engine, concurrency 1",
    f"engine/{CONCURRENCY}": f"engine, concurrency {CONCURRENCY} (default)",
}


def measure_full(swift, work: Path, source: Path, runs: int, also: list[int]) -> dict:
    creds = swift.credentials()
    slices = cuts(str(source), LIMIT)
    size = sum(length for _, length in slices)
    print(
        f"\nfull publish of {size / MB:.0f} MB in {len(slices)} objects, {runs} runs each; "
        f"every object with X-Delete-After: {EXPIRY}, X-Object-Meta-Lines, ETag"
    )
    for n in also:
        KINDS.setdefault(f"engine/{n}", f"engine, concurrency {n}")
    kinds = list(KINDS)
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for run in range(runs):
        order = kinds[run % len(kinds) :] + kinds[: run % len(kinds)]
        line = []
        for kind in order:
            os.sync()
            if kind == "loop":
                args = ["plain", creds, str(source), slices, 1]
            elif kind == "pool":
                args = ["plain", creds, str(source), slices, CONCURRENCY]
            else:
                args = ["engine", creds, str(work), str(source), int(kind.split("/")[1]), False]
            before, machine = swift_cpu(swift), machine_busy()
            result = run_child(args)
            result["swift_cpu"] = swift_cpu(swift) - before
            after = machine_busy()
            result["machine"] = (after[0] - machine[0]) / (after[1] - machine[1])
            assert result["bytes"] == size, (kind, result, size)
            results[kind].append(result)
            line.append(f"{kind} {size / MB / result['seconds']:.1f}")
        print(f"  run {run + 1}: " + ", ".join(line) + " MB/s")
    rate = {k: statistics.median(size / MB / r["seconds"] for r in v) for k, v in results.items()}
    print("  medians:")
    for kind, label in KINDS.items():
        rs = results[kind]
        wall = statistics.median(r["seconds"] for r in rs)
        client = statistics.median(r["cpu"] for r in rs)
        server = statistics.median(r["swift_cpu"] for r in rs)
        ours = (client + server) / wall / (os.cpu_count() or 1)
        machine = statistics.median(r["machine"] for r in rs)
        print(
            f"    {label:<38} {rate[kind]:6.1f} MB/s  {wall:5.1f} s; CPU: client "
            f"{client:5.1f} s, Swift {server:5.1f} s: {ours:.0%} of the {os.cpu_count()} "
            f"cores; the machine {machine:.0%} busy"
        )
    engine = f"engine/{CONCURRENCY}"
    print(
        f"  => engine/{CONCURRENCY} / loop: {rate[engine] / rate['loop']:.2f} (target >= 1.4); "
        f"engine/{CONCURRENCY} / pool: {rate[engine] / rate['pool']:.2f} (target >= 0.9); "
        + ", ".join(
            f"{k} / loop: {rate[k] / rate['loop']:.2f}"
            for k in kinds
            if k.startswith("engine/") and k != engine
        )
    )
    for kind in (k for k in kinds if k.startswith("engine/")):
        n = int(kind.split("/")[1])
        above = max(r["peak_rss"] - r["baseline_rss"] for r in results[kind])
        print(
            f"  => {kind} peak RSS above its baseline: max {above / MB:.2f} MB = "
            f"{above / LIMIT:.2f} x guest_log_limit (target <= concurrency + 1 = {n + 1})"
        )
    return rate


def profile_engine(swift, work: Path, source: Path) -> None:
    result = run_child(["engine", swift.credentials(), str(work), str(source), CONCURRENCY, True])
    print(
        f"\nprofile of one more engine run at concurrency {CONCURRENCY} "
        f"({result['bytes'] / MB / result['seconds']:.1f} MB/s under cProfile), "
        "cumulative seconds of what its threads wait for:"
    )
    for side in ("main", "uploads"):
        summary = result["profile"][side]
        share = summary["seconds"]
        print(f"  {side} ({'wall' if side == 'main' else 'thread-'}seconds {share:.1f}):")
        for func, seconds in sorted(summary["waits"].items(), key=lambda kv: -kv[1]):
            print(f"    {seconds:6.2f} s {seconds / share:5.0%}  {_WAITS[func]}")
        print("    own time, top: " + "; ".join(f"{n} {t:.2f}" for n, t in summary["top"][:6]))
    # Rule 2 (an upload's last bytes go once the one before it is stored) puts
    # Swift's last step of each object, from the last byte to its answer, one
    # after another: the engine's ceiling whatever its concurrency.
    answer = result["profile"]["uploads"]["waits"].get("getresponse", 0.0) / result["objects"]
    if answer:
        size = result["bytes"] / result["objects"]
        print(
            f"  Swift answered each upload {answer * 1000:.1f} ms after its last byte "
            f"(mean); stored one after another, that caps the engine at "
            f"{1 / answer:.0f} objects/s = {size / answer / MB:.1f} MB/s at any concurrency"
        )


def measure_incremental(swift, work: Path, big: Path, runs: int) -> None:
    """1 MB appended to the published big log, against a fresh 1 MB log (default settings)."""
    creds = swift.credentials()
    publisher = make_publisher(creds, work, str(big), "incremental", CONCURRENCY)
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
        fresh = make_publisher(
            creds, work, str(fresh_path), f"fresh-{uuid.uuid4().hex[:8]}", CONCURRENCY
        )
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


def measure_rate(swift, work: Path, source: Path, size_mb: int) -> None:
    part = work / f"rate-{size_mb}.log"
    if not part.exists():
        with open(source, "rb") as f, open(part, "wb") as out:
            data = f.read(size_mb * MB)
            out.write(data[: data.rfind(b"\n") + 1])
    result = run_child(["rate", swift.credentials(), str(work), str(part), RATE])
    measured, paced = result["bytes"] / result["seconds"], result["paced"]
    print(
        f"\nrate limit {RATE / MB:.0f} MB/s, {result['bytes'] / MB:.0f} MB at concurrency "
        f"{CONCURRENCY}: the whole publish {measured / MB:.3f} MB/s, "
        f"{measured / RATE - 1:+.1%} (target within 5 %; the last upload and the commit "
        f"come after the last start); the starts' pace {paced / MB:.3f} MB/s, "
        f"{paced / RATE - 1:+.1%}; the most begun within any second: "
        f"{result['burst'] / MB:.2f} MB (the rate plus one object: {(RATE + LIMIT) / MB:.2f} MB)"
    )


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
        child = {"engine": child_engine, "plain": child_plain, "rate": child_rate}[kind]
        print(json.dumps(child(*rest)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate-mb", type=int, default=100, help="size of the rate-limited log")
    parser.add_argument(
        "--also", default="", help="more engine concurrencies to measure, comma-separated"
    )
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-publish")
    parser.add_argument("--keep", action="store_true", help="leave Swift running for a next run")
    args = parser.parse_args()
    work = Path(args.workdir)
    swift, _ = start_swift(work)
    try:
        source = work / "source.log"
        if not source.exists() or source.stat().st_size < args.size_mb * MB:
            source.unlink(missing_ok=True)
            write_log(source, args.size_mb * MB)
        also = [int(n) for n in args.also.split(",") if n]
        measure_full(swift, work, source, args.runs, also)
        profile_engine(swift, work, source)
        big = work / "incremental.log"
        if not big.exists():
            shutil.copyfile(source, big)
        measure_incremental(swift, work, big, args.runs)
        measure_rate(swift, work, source, args.rate_mb)
    finally:
        if not args.keep:
            swift.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
