"""The daemon collector: this process's CPU, memory, uptime, threads and files.

What Ganeti's design asked of "daemons status" so that leaks, crashes and
runaway CPU show: figures taken with psutil, and a status that is OK unless
something is clearly wrong (the process, or one of its workers, is about to
run out of file descriptors). Each process is held to its own open-files
limit (``/proc/<pid>/limits``), not to that of the process reporting on it.
"""

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
        fd_limit = fd_limit_of(proc)
        crowded = _crowded(proc.pid, fds, fd_limit)
        workers = []
        if self._children:
            for child in proc.children():
                try:
                    with child.oneshot():
                        c_cpu, c_mem = child.cpu_times(), child.memory_info()
                        c_fds, c_limit = child.num_fds(), fd_limit_of(child)
                        workers.append(
                            {
                                "pid": child.pid,
                                "rss": c_mem.rss,
                                "cpu_seconds": round(c_cpu.user + c_cpu.system, 3),
                                "fds": c_fds,
                                "fd_limit": c_limit,
                            }
                        )
                        crowded = crowded or _crowded(child.pid, c_fds, c_limit)
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

        status = Status(StatusCode.OK, f"running, pid {proc.pid}")
        if crowded:
            status = Status(StatusCode.BAD, crowded)
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
                "fd_limit": fd_limit,
                **({"workers": workers} if self._children else {}),
            },
        )


def fd_limit_of(proc: psutil.Process) -> int | None:
    """The soft open-files limit of `proc`; None when unlimited or unreadable."""
    try:
        soft, _hard = proc.rlimit(psutil.RLIMIT_NOFILE)
    except (psutil.AccessDenied, OSError):
        soft = _limit_from_proc(proc.pid)
    if soft is None or soft == psutil.RLIM_INFINITY or soft <= 0:
        return None
    return soft


def _limit_from_proc(pid: int) -> int | None:
    # prlimit() of another user's process needs privileges that reading
    # /proc/<pid>/limits does not (when the process lets us read it at all).
    try:
        with open(f"/proc/{pid}/limits", encoding="ascii") as f:
            for line in f:
                if line.startswith("Max open files"):
                    soft = line[len("Max open files") :].split()[0]
                    return None if soft == "unlimited" else int(soft)
    except (OSError, ValueError):
        pass
    return None


def _crowded(pid: int, fds: int, limit: int | None) -> str | None:
    """What to say when process `pid` is close to its open-files limit, else None."""
    if limit is None or fds < FD_ALARM_RATIO * limit:
        return None
    return f"{fds} of at most {limit} file descriptors are in use (pid {pid})"


def _percent(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU use as a percentage of one CPU (above 100 when several are busy)."""
    if wall_seconds <= 0:
        return 0.0
    return round(100.0 * max(0.0, cpu_seconds) / wall_seconds, 1)
