"""Soak of the agent: memory and open files over continuous appends and publishes.

Starts one logsvc-guestagent (datastore `file`, logs `general` and
`slow_query`) storing into a real Swift from the PyPI package (or the `file`
store with ``--store file``). A writer appends realistic MySQL general-log
lines to both logs at ``--append-rate`` bytes per second while this script
publishes each log every ``--interval`` seconds through the agent's signed
endpoint and lists the logs in between, for ``--minutes`` (30). Every
``--sample`` seconds it reads the agent's resident set and open file
descriptors (psutil). It prints one line per minute, then the mean of the
first and of the last five minutes' samples, the least-squares slope of the
resident set (MB per hour) and the range of open files, and finally checks
that the published objects, reassembled in name order, equal the complete
lines of the sources. A flat run: the slope near zero, the last five minutes
no higher than the first (past warm-up), open files constant. It asserts
nothing about time.

    python bench/soak.py [--minutes 30] [--interval 1] [--append-rate 100000]
                         [--store swift|file] [--sample 5]
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import start_swift, swift_store, write_log

from logsvc.storage.file import FileStore
from tests.processes import AgentProcess, swift_settings

LOGS = ("general", "slow_query")


def writer(paths: list[Path], stop: threading.Event, rate: int) -> None:
    while not stop.is_set():
        for path in paths:
            write_log(path, path.stat().st_size + rate // len(paths) // 10)
        stop.wait(0.1)


def slope_per_hour(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes), in MB per hour."""
    xs = [t for t, _ in samples]
    ys = [v / 1e6 for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if not var:
        return 0.0
    return 3600 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between publishes")
    parser.add_argument("--append-rate", type=int, default=100_000, help="bytes/s, both logs")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--store", choices=("swift", "file"), default="swift")
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-swift")
    args = parser.parse_args()

    swift, kept = start_swift(Path(args.workdir)) if args.store == "swift" else (None, False)
    stop = threading.Event()
    samples: list[tuple[float, int, int]] = []
    publishes = failures = 0
    with tempfile.TemporaryDirectory(prefix="logsvc-bench-soak-") as tmp:
        tmp_path = Path(tmp)
        paths = {name: tmp_path / f"{name}.log" for name in LOGS}
        for path in paths.values():
            write_log(path, 100_000)
        container = f"soak-{uuid.uuid4().hex[:8]}"
        storage = (
            {"storage": {"backend": "swift"}, "swift": swift_settings(swift)}
            if swift
            else {"storage": {"backend": "file", "file_root": tmp_path / "objects"}}
        )
        agent = AgentProcess(
            tmp_path,
            {
                "DEFAULT": {"guest_log_container_name": container, "guest_log_limit": 1_000_000},
                "file_datastore": {"logs": ",".join(f"{k}:USER:{p}" for k, p in paths.items())},
                **storage,
            },
        ).start()
        appender = threading.Thread(
            target=writer, args=(list(paths.values()), stop, args.append_rate)
        )
        appender.start()
        proc = psutil.Process(agent.proc.pid)
        began = time.monotonic()
        next_sample = began
        end = began + 60 * args.minutes
        try:
            while time.monotonic() < end:
                for name in LOGS:
                    resp = agent.request(
                        "POST", f"/v1/logs/{name}", {"admin": True, "publish": True}
                    )
                    publishes += 1
                    if resp.status_code != 200:
                        failures += 1
                        print(f"publish {name}: {resp.status_code} {resp.text[:200]}")
                agent.logs()
                now = time.monotonic()
                if now >= next_sample:
                    samples.append((now - began, proc.memory_info().rss, proc.num_fds()))
                    next_sample += args.sample
                    if len(samples) % max(1, round(60 / args.sample)) == 1:
                        t, rss, fds = samples[-1]
                        print(
                            f"  {t / 60:5.1f} min  RSS {rss / 1e6:6.1f} MB  open files {fds:3d}  "
                            f"publishes {publishes}",
                            flush=True,
                        )
                time.sleep(args.interval)
            stop.set()
            appender.join()
            store = swift_store(swift) if swift else FileStore(tmp_path / "objects")
            mismatches = []
            for name, path in paths.items():
                shown = agent.act(name, publish=True)
                listed = store.list_objects(container, shown["prefix"])
                data = b"".join(
                    store.get_object(container, o.name)[1]
                    for o in listed
                    if o.name != shown["metafile"]
                )
                source = path.read_bytes()
                source = source[: source.rfind(b"\n") + 1]
                if data != source:
                    mismatches.append(f"{name}: published {len(data)}, source {len(source)}")
        finally:
            stop.set()
            agent.stop()
            if swift and not kept:
                swift.stop()

    window = max(1, round(300 / args.sample))
    first, last = samples[:window], samples[-window:]
    fds = [f for _, _, f in samples]
    print(
        f"agent soak: {args.minutes:g} min, {args.store} store, {args.append_rate} B/s appended, "
        f"{publishes} publishes ({failures} failed), {len(samples)} samples"
    )
    print(
        f"  RSS mean, first 5 min {statistics.fmean(r for _, r, _ in first) / 1e6:.1f} MB, "
        f"last 5 min {statistics.fmean(r for _, r, _ in last) / 1e6:.1f} MB; "
        f"slope {slope_per_hour([(t, r) for t, r, _ in samples]):+.2f} MB/hour"
    )
    print(f"  open files: min {min(fds)}, max {max(fds)}, last {fds[-1]}")
    print(
        "  published bytes == source (complete lines): "
        + ("yes" if not mismatches else "NO: " + "; ".join(mismatches))
    )
    return 1 if mismatches or failures else 0


if __name__ == "__main__":
    sys.exit(main())
