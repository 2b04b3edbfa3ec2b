"""Benchmark of follow: lag from a write to a reader, objects, agent cost, write amplification.

Starts its own Swift (``dev/devswift.py``) and, for each run, one
``logsvc-guestagent`` (datastore ``file``, the real Swift) whose log
``general`` is followed (``guest_log_publish_interval``,
``guest_log_object_age``, ``guest_log_limit`` as given). A writer thread
appends lines stamped with the wall-clock time of their write, at a steady
rate, for the run's time; a follower (``logsvc.client.follow``, the same code
as ``logsvc log-tail --follow``, looking every 0.1 s) records when each line
became readable. Printed per run:

- lag from write to readable: p50, p99, max;
- objects in the store at the end, per minute of run and per published MB,
  and the bound of docs/follow.md (bytes / limit + seconds / age + 2);
- the agent's CPU seconds (user + system, per second of run) and peak RSS;
- bytes uploaded against bytes appended (write amplification: the parts
  and manifests of the open object as it grows, docs/follow.md), from the
  agent's own figures (its log, at its stop).

The baseline in the same run is the amplification of 1 (every byte uploaded
once); lag has no baseline but the interval. Asserts nothing about time.

    python bench/follow.py [--seconds 60] [--rates 1000000,10000000] [--slow-seconds 60]
"""

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import MB, start_swift, swift_store

from logsvc.client.follow import StoreSource, follow
from logsvc.client.reader import LogReader
from tests.processes import AgentProcess, swift_settings

_LINE = 200  # bytes per line written
_FIGURES = re.compile(
    rb"follow: log general: (\d+) publishes, (\d+) bytes new, (\d+) bytes uploaded, "
    rb"(\d+) objects written"
)


def writer(path: Path, rate: float, seconds: float, done: threading.Event, out: dict) -> None:
    """Lines of `_LINE` bytes, each stamped with its write time, at `rate` bytes/s."""
    per_tick = 0.01
    seq = 0
    started = time.monotonic()
    with open(path, "ab", buffering=0) as f:
        while (now := time.monotonic()) - started < seconds:
            due = int((now - started) * rate / _LINE) - seq
            if due > 0:
                stamp = time.time_ns()
                lines = []
                for _ in range(due):
                    head = b"%012d %020d " % (seq, stamp)
                    lines.append(head + b"x" * (_LINE - len(head) - 1) + b"\n")
                    seq += 1
                f.write(b"".join(lines))
            time.sleep(per_tick)
    out["lines"], out["bytes"] = seq, seq * _LINE
    done.set()


def reader_thread(reader: LogReader, lags: list, stop: threading.Event, seen: dict) -> None:
    pending = b""
    for chunk in follow(StoreSource(reader), lines=0, interval=0.1, stop=stop.is_set):
        now = time.time_ns()
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        for line in pending[:cut].splitlines():
            lags.append((now - int(line[13:33])) / 1e9)
        seen["bytes"] = seen.get("bytes", 0) + cut
        pending = pending[cut:]


def agent_figures(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and peak RSS of process `pid`."""
    import psutil

    proc = psutil.Process(pid)
    cpu = proc.cpu_times()
    hwm = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return cpu.user + cpu.system, hwm


def run(swift, work: Path, rate: float, seconds: float, interval: float, age: float, limit: int):
    home = Path(tempfile.mkdtemp(dir=work))
    container = f"follow-{uuid.uuid4().hex[:8]}"
    log = home / "general.log"
    log.write_bytes(b"")
    agent = AgentProcess(
        home,
        {
            "DEFAULT": {
                "guest_log_container_name": container,
                "guest_log_limit": limit,
                "guest_log_publish_interval": interval,
                "guest_log_object_age": age,
            },
            "storage": {"backend": "swift"},
            "swift": swift_settings(swift),
            "file_datastore": {"logs": f"general:USER:{log}"},
            "status": {"enabled": "false"},
        },
    ).start()
    store = swift_store(swift)
    try:
        agent.act("general", follow=True)
        cpu0, _ = agent_figures(agent.proc.pid)
        reader = LogReader(store, container, "inst-1/file-general/", "inst-1/file-general_metafile")
        lags: list[float] = []
        stop, done, wrote, seen = threading.Event(), threading.Event(), {}, {}
        follower = threading.Thread(target=reader_thread, args=(reader, lags, stop, seen))
        follower.start()
        started = time.monotonic()
        writer(log, rate, seconds, done, wrote)
        deadline = time.monotonic() + 60
        while seen.get("bytes", 0) < wrote["bytes"] and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        stop.set()
        follower.join(30)
        cpu1, hwm = agent_figures(agent.proc.pid)
        objects = sum(1 for _ in store.list_objects(container, "inst-1/file-general/"))
    finally:
        agent.stop()
        store.close()
    figures = _FIGURES.findall((home / "agent.log").read_bytes())
    publishes, new, uploaded, _written = (int(x) for x in figures[-1]) if figures else (0,) * 4
    lags.sort()
    appended = wrote["bytes"]
    return {
        "rate": rate,
        "seconds": seconds,
        "lines": len(lags),
        "complete": seen.get("bytes", 0) == appended,
        "p50": statistics.median(lags) if lags else float("nan"),
        "p99": lags[int(len(lags) * 0.99) - 1] if lags else float("nan"),
        "max": lags[-1] if lags else float("nan"),
        "objects": objects,
        "per_minute": objects / (elapsed / 60),
        "per_mb": objects / (appended / MB) if appended else float("nan"),
        "bound": appended / limit + elapsed / age + 2,
        "cpu": (cpu1 - cpu0) / elapsed,
        "rss": hwm,
        "publishes": publishes,
        "amplification": uploaded / new if new else float("nan"),
        "uploaded": uploaded,
        "appended": appended,
        "interval": interval,
        "age": age,
    }


def show(result: dict) -> None:
    r = result
    print(
        f"{r['rate'] / 1000:>8.0f} KB/s {r['seconds']:>4.0f} s  interval {r['interval']} s, "
        f"age {r['age']:.0f} s: lag p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s, "
        f"max {r['max']:.2f} s ({r['lines']} lines{'' if r['complete'] else ', INCOMPLETE'})\n"
        f"{'':14}objects {r['objects']} (bound {r['bound']:.0f}): {r['per_minute']:.1f}/min, "
        f"{r['per_mb']:.2f}/MB; agent CPU {r['cpu']:.2f} s/s, peak RSS {r['rss'] / MB:.0f} MB; "
        f"{r['publishes']} publishes; uploaded {r['uploaded'] / MB:.2f} MB for "
        f"{r['appended'] / MB:.2f} MB appended: amplification {r['amplification']:.2f}x "
        f"(baseline 1.00x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rates", default="1000000,10000000", help="bytes per second, a list")
    parser.add_argument("--slow-seconds", type=float, default=60, help="the 10 KB/s runs")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--age", type=float, default=60.0)
    parser.add_argument("--limit", type=int, default=1_000_000)
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-follow")
    parser.add_argument("--keep", action="store_true", help="leave Swift running for a next run")
    args = parser.parse_args()
    work = Path(args.workdir)
    swift, _ = start_swift(work)
    try:
        for rate in (float(r) for r in args.rates.split(",") if r):
            show(run(swift, work, rate, args.seconds, args.interval, args.age, args.limit))
        if args.slow_seconds > 0:  # 10 KB/s: the open object grows by parts for a minute
            show(run(swift, work, 10_000, args.slow_seconds, args.interval, args.age, args.limit))
    finally:
        if not args.keep:
            swift.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
