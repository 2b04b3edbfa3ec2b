"""The node OS collector: CPUs, load, memory, filesystems and network interfaces.

Performance data of the machine as its OS sees it (Ganeti's "node OS
resources report"), category null. CPU loads are the share of time each
CPU was busy since the previous run (since boot on the first), measured
from psutil's CPU times by this collector itself: psutil's own
``cpu_percent()`` keeps its previous sample in module-wide state that other
callers in the process would disturb.
"""

import logging
import socket
import time
from typing import Any

import psutil

from logsvc.status.collector import Collector
from logsvc.status.report import Kind

LOG = logging.getLogger(__name__)

# Time that psutil counts inside `user` already (Linux); not added twice.
_COUNTED_IN_USER = ("guest", "guest_nice")
# Time in which a CPU had nothing to run.
_IDLE = ("idle", "iowait")


class NodeCollector(Collector):
    """The OS resources of the machine the daemon runs on."""

    def __init__(self, name: str = "node", *, interval: float = 30.0):
        super().__init__(name, category=None, kind=Kind.PERFORMANCE, interval=interval)
        self._last_cpu_times: list[Any] | None = None

    def collect(self) -> dict[str, Any]:
        boot = psutil.boot_time()
        return {
            "hostname": socket.gethostname(),
            "boot_time": int(boot),
            "uptime": round(max(0.0, time.time() - boot), 3),
            "cpus": self._cpus(),
            "load_average": [round(x, 2) for x in psutil.getloadavg()],
            "memory": _memory(),
            "swap": _swap(),
            "filesystems": _filesystems(),
            "network": _network(),
        }

    def _cpus(self) -> dict[str, Any]:
        times = psutil.cpu_times(percpu=True)
        previous = self._last_cpu_times
        if previous is None or len(previous) != len(times):
            previous = [None] * len(times)
        self._last_cpu_times = times
        loads = [_busy_percent(now, before) for now, before in zip(times, previous, strict=True)]
        return {
            "count": psutil.cpu_count(logical=True) or len(times),
            "physical": psutil.cpu_count(logical=False),
            "load_percent": loads,
            "average_percent": round(sum(loads) / len(loads), 1) if loads else 0.0,
        }


def _total(times: Any) -> tuple[float, float]:
    """(all time, idle time) of one CPU's counters."""
    fields = times._asdict()
    total = sum(v for k, v in fields.items() if k not in _COUNTED_IN_USER)
    idle = sum(fields.get(k, 0.0) for k in _IDLE)
    return total, idle


def _busy_percent(now: Any, before: Any | None) -> float:
    total, idle = _total(now)
    if before is not None:
        total0, idle0 = _total(before)
        total, idle = total - total0, idle - idle0
    if total <= 0:
        return 0.0
    return round(max(0.0, min(100.0, 100.0 * (total - idle) / total)), 1)


def _memory() -> dict[str, Any]:
    mem = psutil.virtual_memory()
    return {
        "total": mem.total,
        "available": mem.available,
        "used": mem.used,
        "free": mem.free,
        "percent": mem.percent,
    }


def _swap() -> dict[str, Any]:
    swap = psutil.swap_memory()
    return {"total": swap.total, "used": swap.used, "free": swap.free, "percent": swap.percent}


def _filesystems() -> list[dict[str, Any]]:
    found, seen = [], set()
    for part in psutil.disk_partitions(all=False):
        if part.mountpoint in seen:
            continue
        seen.add(part.mountpoint)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError as exc:
            # A mount we may not look into (another user's, a dead network mount).
            LOG.debug("cannot read the usage of %s: %s", part.mountpoint, exc)
            continue
        found.append(
            {
                "mount_point": part.mountpoint,
                "device": part.device,
                "type": part.fstype,
                "total": usage.total,
                "used": usage.used,
                "free": usage.free,
                "percent": usage.percent,
            }
        )
    return found


_FAMILIES = {socket.AF_INET: "inet", socket.AF_INET6: "inet6", psutil.AF_LINK: "link"}


def _network() -> list[dict[str, Any]]:
    addresses = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    counters = psutil.net_io_counters(pernic=True)
    interfaces = []
    for name in sorted(set(addresses) | set(stats)):
        stat = stats.get(name)
        count = counters.get(name)
        interfaces.append(
            {
                "name": name,
                "up": bool(stat and stat.isup),
                "speed_mbps": stat.speed if stat else None,
                "mtu": stat.mtu if stat else None,
                "addresses": [
                    {
                        "family": _FAMILIES.get(a.family, str(a.family)),
                        "address": a.address,
                        "netmask": a.netmask,
                    }
                    for a in addresses.get(name, [])
                ],
                "counters": count._asdict() if count else None,
            }
        )
    return interfaces
