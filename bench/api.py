"""Benchmark of the API: log-list answered from the database, against a trivial endpoint.

Starts logsvc-api (gunicorn, gthread workers, the `token` strategy, SQLite)
and one agent (datastore `file`, four logs, the `file` object store) that
sends a heartbeat every second, registers the instance, then drives 32
concurrent clients (a thread each, each with its own keep-alive
``requests.Session``) on loopback, for the same time, against:

- ``GET /v1/instance/<id>/log`` with a user's token: log-list **answered from
  the database**. That means, in this implementation (api/logs.py): the
  token is looked up (one indexed SELECT), the instance is read and the policy
  checked, and the logs are read from the ``log_states`` table, because the
  agent's complete list stored there (by its heartbeats) is younger than
  ``[api] log_list_max_age`` and the logs' exposure is known (learnt by the
  first list of this user, which asked the agent). The agent is not called.
  The benchmark prints how many distinct answers it saw (the stored state
  changes only when a heartbeat brings new figures) and how many carried the
  "stale" marker (none should: the agent is up).
- ``GET /``, the versions document: no token, no database, the same server
  and workers: the cost of the server and the framework alone.

It prints requests per second, p50 and p99 latency of each, and the ratio of
the two throughputs (the target is at least 0.5). It asserts nothing about time.

    python bench/api.py [--seconds 10] [--clients 32] [--workers 2] [--threads 16]
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.processes import AgentProcess, ApiProcess


def drive(url: str, headers: dict, clients: int, seconds: float) -> dict:
    """`clients` threads asking `url` in a loop for `seconds`; latencies and a sample answer."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    bodies: set[bytes] = set()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        session = requests.Session()
        session.headers.update(headers)
        start.wait()
        mine = latencies[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                break
            resp = session.get(url, timeout=30)
            mine.append(time.perf_counter() - t0)
            if resp.status_code != 200:
                errors[i] += 1
            elif len(bodies) < 4:
                bodies.add(resp.content)
        session.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for per in latencies for x in per)
    return {
        "requests": len(flat),
        "errors": sum(errors),
        "rps": len(flat) / elapsed,
        "p50_ms": 1000 * statistics.median(flat),
        "p99_ms": 1000 * flat[min(len(flat) - 1, int(len(flat) * 0.99))],
        "bodies": bodies,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="logsvc-bench-api-") as tmp:
        tmp_path = Path(tmp)
        api = ApiProcess(
            tmp_path,
            {
                "api": {
                    "workers": args.workers,
                    "threads": args.threads,
                    "log_list_max_age": 60,
                },
            },
            checked=False,
        )
        logs = {name: tmp_path / f"{name}.log" for name in ("general", "slow_query", "app")}
        for path in logs.values():
            path.write_bytes(b"a line\n" * 100)
        agent = AgentProcess(
            tmp_path,
            {
                "agent": {"instance_id": "bench-1", "api_url": api.url, "heartbeat_interval": 1},
                "storage": {"backend": "file", "file_root": tmp_path / "objects"},
                "file_datastore": {"logs": ",".join(f"{n}:USER:{p}" for n, p in logs.items())},
            },
        )
        api.start()
        try:
            admin, user = api.token("admin-project", "admin"), api.token("bench-tenant")
            agent.start()
            resp = api.request(
                "PUT",
                "/v1/instance/bench-1",
                admin,
                {"tenant_id": "bench-tenant", "datastore": "file", "agent_url": agent.url},
            )
            resp.raise_for_status()
            list_url = f"{api.url}/v1/instance/bench-1/log"
            first = api.request("GET", "/v1/instance/bench-1/log", user)  # learns exposure
            first.raise_for_status()
            deadline = time.monotonic() + 30
            while not api.request("GET", "/v1/instance/bench-1", admin).json()["instance"][
                "last_heartbeat"
            ]:
                if time.monotonic() > deadline:
                    raise SystemExit("no heartbeat reached the API")
                time.sleep(0.2)
            # Warm both paths (connections, caches), then measure, alternately.
            drive(list_url, {"X-Auth-Token": user}, args.clients, 1)
            drive(f"{api.url}/", {}, args.clients, 1)
            listed = drive(list_url, {"X-Auth-Token": user}, args.clients, args.seconds)
            trivial = drive(f"{api.url}/", {}, args.clients, args.seconds)
        finally:
            agent.stop()
            api.stop()

    stale = [b for b in listed["bodies"] if b'"stale"' in b]
    print(
        f"logsvc-api: {args.workers} workers x {args.threads} threads (gunicorn gthread), "
        f"SQLite, token auth; {args.clients} clients on loopback, {args.seconds:g}s each"
    )
    for name, figures in (("log-list (from the database)", listed), ("GET / (trivial)", trivial)):
        print(
            f"  {name:30s} {figures['rps']:8.1f} req/s   p50 {figures['p50_ms']:6.2f} ms   "
            f"p99 {figures['p99_ms']:6.2f} ms   ({figures['requests']} requests, "
            f"{figures['errors']} errors)"
        )
    print(f"  ratio log-list / trivial: {listed['rps'] / trivial['rps']:.2f} (target >= 0.5)")
    print(f"  log-list answers: {len(listed['bodies'])} distinct bodies, {len(stale)} marked stale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
