"""Load benchmark of the API: many instances, several agents, a mix of actions.

Starts logsvc-api (gunicorn, gthread workers, the `token` strategy; SQLite by
default, any SQLAlchemy URL with ``--database``), ``--agents`` agents (4;
datastore `file`, logs `general` and `slow_query` that a writer thread of
this script keeps appending realistic lines to) and, unless ``--store file``,
a real Swift from the PyPI package. It registers ``--instances`` instances
(1,000 by default) spread over ten tenants. An agent serves one instance
(the API's requests are signed for the instance they are about), so the
first ``--agents`` instances have a running agent and the others are
registered beside them: they fill the database and the listings, and are
asked about through the instance routes only. Then ``--clients`` threads
(32), each with its own keep-alive session, ask for ``--seconds`` (60), each
request with the token of the instance's tenant:

- log-list (``GET /v1/instance/<id>/log``) of an instance with an agent, 50 %;
- log-show (``POST ... {"name": ...}``), 25 %;
- log-publish (``POST ... {"name": ..., "publish": true}``), 10 %;
- instance-show (``GET /v1/instance/<id>``) of any instance, 10 %;
- instance-list (``GET /v1/instance``: the tenant's hundred), 5 %.

It prints, per action and in all: requests, throughput, p50 and p99 latency,
the status codes seen, and the error count (target 0). An error is a
transport failure or any status other than 200, 202 and 409; 202 is the
API's answer to a publish that runs on after ``[api] publish_wait``, 409 its
documented answer to an action on a log while another action on it runs
(both counted and printed apart). Afterwards it checks that every agent's
published objects, reassembled in name order, equal the complete lines of
its source files (no lost or duplicated byte under load), and prints each
agent's resident set and open files before and after. It asserts nothing
about time.

    python bench/load.py [--instances 1000] [--agents 4] [--clients 32] [--seconds 60]
                         [--database URL] [--store swift|file] [--workers 2] [--threads 16]
"""

import argparse
import collections
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import start_swift, write_log

from tests.processes import AgentProcess, ApiProcess, swift_settings

TENANTS = 10
LOGS = ("general", "slow_query")
MIX = (
    ("list", 50),
    ("show", 25),
    ("publish", 10),
    ("instance-show", 10),
    ("instance-list", 5),
)
PARKED_AGENT = "http://127.0.0.1:9"  # where the instances without a running agent point


def register(api: ApiProcess, admin: str, count: int, agents: list[AgentProcess]) -> None:
    session = requests.Session()
    session.headers["X-Auth-Token"] = admin
    for i in range(count):
        resp = session.put(
            f"{api.url}/v1/instance/load-{i:04d}",
            json={
                "tenant_id": f"tenant-{i % TENANTS}",
                "datastore": "file",
                "agent_url": agents[i].url if i < len(agents) else PARKED_AGENT,
            },
            timeout=60,
        )
        if resp.status_code not in (200, 201):
            raise SystemExit(f"registering load-{i:04d}: {resp.status_code} {resp.text}")
    session.close()


def writer(paths: list[Path], stop: threading.Event, rate: int) -> None:
    """Append about `rate` bytes per second, spread over `paths`."""
    while not stop.is_set():
        for path in paths:
            write_log(path, path.stat().st_size + rate // len(paths) // 10)
        stop.wait(0.1)


def drive(
    api_url: str, tokens: list[str], instances: int, agents: int, clients: int, seconds: float
) -> dict:
    results: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]
    actions = [name for name, weight in MIX for _ in range(weight)]

    def client(n: int) -> None:
        rng = random.Random(n)
        session = requests.Session()
        mine: list[tuple[str, float, int]] = []
        start.wait()
        while time.perf_counter() < stop_at[0]:
            action = rng.choice(actions)
            i = rng.randrange(instances if action.startswith("instance") else agents)
            url = f"{api_url}/v1/instance/load-{i:04d}"
            headers = {"X-Auth-Token": tokens[i % TENANTS]}
            body = {"name": rng.choice(LOGS)}
            if action == "publish":
                body["publish"] = True
            t0 = time.perf_counter()
            try:
                if action == "instance-list":
                    resp = session.get(f"{api_url}/v1/instance", headers=headers, timeout=120)
                elif action == "instance-show":
                    resp = session.get(url, headers=headers, timeout=120)
                elif action == "list":
                    resp = session.get(url + "/log", headers=headers, timeout=120)
                else:
                    resp = session.post(url + "/log", json=body, headers=headers, timeout=120)
                code = resp.status_code
                if code not in (200, 202, 409) and len(failures) < 10:
                    with lock:
                        failures.append(f"{action} load-{i:04d}: {code} {resp.text[:200]}")
            except requests.RequestException as exc:
                code = 0
                with lock:
                    failures.append(f"{action} load-{i:04d}: {exc}")
            mine.append((action, time.perf_counter() - t0, code))
        session.close()
        with lock:
            for action, latency, code in mine:
                results[action].append((latency, code))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    return {"elapsed": time.perf_counter() - began, "results": results, "failures": failures}


def figures(samples: list[tuple[float, int]], elapsed: float) -> str:
    if not samples:
        return "no requests"
    latencies = sorted(latency for latency, _ in samples)
    codes = collections.Counter(code for _, code in samples)
    errors = sum(n for code, n in codes.items() if code not in (200, 202, 409))
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        f"{len(samples):7d} requests {len(samples) / elapsed:8.1f} req/s   "
        f"p50 {1000 * statistics.median(latencies):7.1f} ms   p99 {1000 * p99:7.1f} ms   "
        f"errors {errors}   codes {dict(sorted(codes.items()))}"
    )


def usage(agent: AgentProcess) -> tuple[int, int]:
    proc = psutil.Process(agent.proc.pid)
    return proc.memory_info().rss, proc.num_fds()


def check_bytes(agent: AgentProcess, store, container: str, paths: dict[str, Path]) -> list[str]:
    """Problems found comparing each log's published objects with its source."""
    problems = []
    for name, path in paths.items():
        # A publish asked while one runs joins it, and that one may have started
        # before the writer stopped: the second publish starts after the first ended.
        agent.act(name, publish=True)
        shown = agent.act(name, publish=True)
        prefix = shown["prefix"]
        objects = [o for o in store.list_objects(container, prefix) if o.name != shown["metafile"]]
        published = b"".join(store.get_object(container, o.name)[1] for o in objects)
        source = path.read_bytes()
        source = source[: source.rfind(b"\n") + 1]
        if published != source:
            problems.append(
                f"{agent.url} {name}: published {len(published)} bytes, source {len(source)}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database", help="SQLAlchemy URL of an empty database (default SQLite)")
    parser.add_argument("--store", choices=("swift", "file"), default="swift")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--append-rate", type=int, default=200_000, help="bytes/s, all logs")
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-swift")
    args = parser.parse_args()
    if args.instances < args.agents:
        parser.error("--instances must be at least --agents (each agent serves one instance)")

    swift = None
    kept = False
    if args.store == "swift":
        swift, kept = start_swift(Path(args.workdir))
    stop = threading.Event()
    agents: list[AgentProcess] = []
    with tempfile.TemporaryDirectory(prefix="logsvc-bench-load-") as tmp:
        tmp_path = Path(tmp)
        api_sections = {
            "api": {"workers": args.workers, "threads": args.threads},
        }
        if args.database:
            api_sections["database"] = {"connection": args.database}
        api = ApiProcess(tmp_path, api_sections, checked=False)
        sources: list[dict[str, Path]] = []
        container = f"load-{int(time.time())}"
        for n in range(args.agents):
            home = tmp_path / f"agent-{n}"
            home.mkdir()
            paths = {name: home / f"{name}.log" for name in LOGS}
            for path in paths.values():
                write_log(path, 100_000)
            storage = (
                {"storage": {"backend": "swift"}, "swift": swift_settings(swift)}
                if swift
                else {"storage": {"backend": "file", "file_root": tmp_path / "objects"}}
            )
            agents.append(
                AgentProcess(
                    home,
                    {
                        "DEFAULT": {
                            "guest_log_container_name": container,
                            "guest_log_limit": 1_000_000,
                        },
                        "agent": {
                            "instance_id": f"load-{n:04d}",
                            "api_url": api.url,
                            "heartbeat_interval": 10,
                        },
                        "file_datastore": {
                            "logs": ",".join(f"{k}:USER:{p}" for k, p in paths.items())
                        },
                        **storage,
                    },
                )
            )
            sources.append(paths)
        api.start()
        try:
            admin = api.token("admin-project", "admin")
            tokens = [api.token(f"tenant-{t}", "member") for t in range(TENANTS)]
            for agent in agents:
                agent.start()
            began = time.monotonic()
            register(api, admin, args.instances, agents)
            print(f"registered {args.instances} instances in {time.monotonic() - began:.1f} s")
            every = [p for paths in sources for p in paths.values()]
            appender = threading.Thread(target=writer, args=(every, stop, args.append_rate))
            appender.start()
            before = [usage(agent) for agent in agents]
            drive(api.url, tokens, args.instances, args.agents, args.clients, 2)  # warm up
            run = drive(api.url, tokens, args.instances, args.agents, args.clients, args.seconds)
            after = [usage(agent) for agent in agents]
            stop.set()
            appender.join()
            if swift:
                from benchlib import swift_store

                store = swift_store(swift)
            else:
                from logsvc.storage.file import FileStore

                store = FileStore(str(tmp_path / "objects"))
            problems = [
                p
                for agent, paths in zip(agents, sources, strict=True)
                for p in check_bytes(agent, store, container, paths)
            ]
        finally:
            stop.set()
            for agent in agents:
                agent.stop()
            api.stop()
            if swift and not kept:
                swift.stop()

    elapsed = run["elapsed"]
    everything = [s for samples in run["results"].values() for s in samples]
    print(
        f"logsvc-api: {args.workers} workers x {args.threads} threads, "
        f"{args.database.split(':')[0] if args.database else 'sqlite'}; {args.agents} agents "
        f"({args.store} store); {args.instances} instances, {TENANTS} tenants; "
        f"{args.clients} clients for {elapsed:.0f} s"
    )
    for action, _ in MIX:
        print(f"  {action:13s} {figures(run['results'][action], elapsed)}")
    print(f"  {'all':13s} {figures(everything, elapsed)}")
    for line in run["failures"]:
        print(f"  failure: {line}")
    for n, ((rss0, fds0), (rss1, fds1)) in enumerate(zip(before, after, strict=True)):
        print(
            f"  agent {n}: RSS {rss0 / 1e6:.1f} -> {rss1 / 1e6:.1f} MB, open files {fds0} -> {fds1}"
        )
    print(
        "  published bytes == source (complete lines), every log of every agent: "
        + ("yes" if not problems else "NO")
    )
    for problem in problems:
        print(f"  mismatch: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
