"""The daemon collector: this process's CPU, memory, uptime, threads and files.

What Ganeti's design asked of "daemons status" so that leaks, crashes and
runaway CPU show: figures taken with psutil, and a status that is OK unless
something is clearly wrong (the process is about to run out of file
descriptors).
"""

import resource
import time
from typing import Any

import psutil

from logsvc.status.collector import Collector
from logsvc.status.report import Category, Kind, Status, StatusCode, status_data

#: Share of the open-files limit in use from which the daemon is in trouble.
FD_ALARM_RATIO = 0.9


class DaemonCollector(Collector):
    """Resources of the current process, reported under category ``daemon``."""

    def __init__(
        self, name: str, *, interval: float = 10.0, pid: int | None = None, children: bool = False
    ):
        """`pid`: another process than this one (a pre-forking server's master);
        `children`: add up its children too (the workers), listing each.
        """
        super().__init__(name, category=Category.DAEMON, kind=Kind.STATUS, interval=interval)
        self._process = psutil.Process(pid)
        self._children = children
        # CPU seconds and wall time at the previous run, for the CPU share since then.
        self._last: tuple[float, float] | None = None

    def collect(self) -> dict[str, Any]:
        proc = self._process
        if not proc.is_running():
            return status_data(Status(StatusCode.BAD, f"process {proc.pid} is not running"), {})
        with proc.oneshot():
            cpu = proc.cpu_times()
            memory = proc.memory_info()
            threads = proc.num_threads()
            created = proc.create_time()
            fds = proc.num_fds()
            open_files = len(proc.open_files())
        workers = []
        if self._children:
            for child in proc.children():
                try:
                    with child.oneshot():
                        c_cpu, c_mem = child.cpu_times(), child.memory_info()
                        workers.append(
                            {
                                "pid": child.pid,
                                "rss": c_mem.rss,
                                "cpu_seconds": round(c_cpu.user + c_cpu.system, 3),
                            }
                        )
                        threads += child.num_threads()
                        cpu = type(cpu)(*(a + b for a, b in zip(cpu, c_cpu, strict=False)))
                        memory = type(memory)(*(a + b for a, b in zip(memory, c_mem, strict=False)))
                except psutil.Error:
                    continue  # a worker that just exited
        now = time.time()
        busy = cpu.user + cpu.system
        if self._last is None:
            # First run: the average since the process started.
            percent = _percent(busy, now - created)
        else:
            percent = _percent(busy - self._last[0], now - self._last[1])
        self._last = (busy, now)
        fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

        status = Status(StatusCode.OK, f"running, pid {proc.pid}")
        if fd_limit != resource.RLIM_INFINITY and fd_limit > 0 and fds >= FD_ALARM_RATIO * fd_limit:
            status = Status(
                StatusCode.BAD, f"{fds} of at most {fd_limit} file descriptors are in use"
            )
        return status_data(
            status,
            {
                "pid": proc.pid,
                "uptime": round(max(0.0, now - created), 3),
                "cpu": {
                    "user": round(cpu.user, 3),
                    "system": round(cpu.system, 3),
                    "percent": percent,
                },
                "memory": {"rss": memory.rss, "vms": memory.vms},
                "threads": threads,
                "open_files": open_files,
                "fds": fds,
                "fd_limit": None if fd_limit == resource.RLIM_INFINITY else fd_limit,
                **({"workers": workers} if self._children else {}),
            },
        )


def _percent(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU use as a percentage of one CPU (above 100 when several are busy)."""
    if wall_seconds <= 0:
        return 0.0
    return round(100.0 * max(0.0, cpu_seconds) / wall_seconds, 1)
