"""Scale of the control plane on the message bus: N agents, 32 clients, one RabbitMQ.

For each run it starts logsvc-api (its workers calling the agents, with
``[api] log_list_max_age = 0`` so that every log-list and log-show reaches an
agent) and N simulated agents, ``--per-process`` of them in each host
process. A simulated agent is the real agent's code path without its
daemon: its LogManager (datastore `file`, two small logs, a file store),
its signed endpoint (guestagent/endpoint.py, with its nonce journal) and,
over the bus, its RPC server and heartbeat (guestagent/busserver.py; over
HTTP a cheroot server of its own and a signed POST), each heartbeating every
``--interval`` seconds (10), the first one spread over the interval. Then
``--clients`` threads (32) run log-list (2/3) and log-show (1/3) of random
instances for ``--seconds``. It prints per run: requests, req/s, p50 and p99
of each, errors; heartbeats sent by the agents and recorded by the API (over
the bus: api/busd.py's count; over HTTP: the API's 204s); the queues left
non-empty at the end (rabbitmqctl). The last lines compare each run's p99
of log-list with that of HTTP at the first N (the baseline of the same
run). It asserts nothing about time.

    python bench/bus.py [--agents 100,1000] [--http 100] [--seconds 30] [--clients 32]

RabbitMQ on 127.0.0.1:5672 (guest/guest); a virtual host of its own,
deleted afterwards (rabbitmqctl).
"""

import argparse
import json
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchlib import bench_broker  # noqa: E402 - bench/ is on the path as the script's

SECRET = "bench-bus-secret"
TENANT = "bench"


# --- a host process of simulated agents ---------------------------------------------------


def host(args: argparse.Namespace) -> int:
    """``--host``: serve agents first..first+count-1 until SIGTERM; print what was sent."""
    from cheroot import wsgi
    from oslo_config import cfg

    from guestagent import conf as agent_conf
    from guestagent import endpoint
    from guestagent.busserver import BusAgent
    from guestagent.manager import LogManager
    from guestagent.service import heartbeat_message
    from logsvc import bus, http
    from logsvc.conf import messaging
    from logsvc.signing import Verifier
    from logsvc.stopsignals import StopSignals
    from logsvc.storage.file import FileStore

    base = Path(args.dir)
    conf = cfg.ConfigOpts()
    agent_conf.register_opts(conf)
    if args.transport == "rpc":
        messaging.register_opts(conf)
    conf([], project="logsvc")
    conf.set_override("shared_secret", SECRET, "agent")
    if args.transport == "rpc":
        conf.set_override("transport_url", args.url)
        conf.set_override("control_exchange", args.exchange)
    transport = bus.rpc_transport(conf) if args.transport == "rpc" else None
    store = FileStore(base / "objects")
    agents = []
    ports = {}
    for number in range(args.first, args.first + args.count):
        instance_id = f"inst-{number}"
        home = base / instance_id
        home.mkdir(parents=True, exist_ok=True)
        for name in ("general", "slow_query"):
            (home / f"{name}.log").write_bytes(b"".join(b"line %d\n" % i for i in range(50)))
        conf.set_override("instance_id", instance_id, "agent")
        conf.set_override("state_dir", str(home / "state"), "agent")
        conf.set_override(
            "logs",
            [f"general:USER:{home / 'general.log'}", f"slow_query:USER:{home / 'slow_query.log'}"],
            "file_datastore",
        )
        manager = LogManager.from_conf(conf, store)
        verifier = Verifier([SECRET], 60.0, journal=str(home / "state" / "nonces"))
        app = endpoint.create_app(manager, verifier)
        if transport is not None:
            served = BusAgent(conf, app, instance_id, endpoint.MAX_BODY, transport=transport)
            served.start()
        else:
            served = wsgi.Server(("127.0.0.1", 0), app, numthreads=2)
            served.prepare()
            ports[instance_id] = served.bind_addr[1]
            threading.Thread(target=served.serve, daemon=True).start()
        agents.append((manager, served))
    counts = {"sent": 0, "failed": 0}
    stop = threading.Event()
    session = http.new_session()

    def beat(manager, served) -> None:
        path, body, headers = heartbeat_message(manager, SECRET)
        try:
            if transport is not None:
                served.heartbeat(body, headers)
                ok = True
            else:
                answer = http.call(
                    session,
                    "POST",
                    args.api + path,
                    what="the API",
                    timeout=10,
                    data=body,
                    headers=headers,
                )
                ok = answer.status == 204
        except Exception as exc:
            ok = False
            if not counts["failed"]:  # the first failure says why
                print(f"heartbeat: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        counts["sent" if ok else "failed"] += 1

    def heartbeats() -> None:
        # Each agent every `interval` seconds, the agents spread over the interval.
        step = args.interval / max(1, len(agents))
        while not stop.is_set():
            for manager, served in agents:
                if signals.received is not None or stop.wait(step):
                    return
                beat(manager, served)

    signals = StopSignals((signal.SIGTERM,))  # noted, never set from the handler
    print("ready " + json.dumps(ports), flush=True)
    sys.stdin.readline()  # registered: go
    heartbeats()
    # All at once: an RPC server's stop waits out its consumer's poll (seconds),
    # so one after the other took minutes for a hundred.
    with ThreadPoolExecutor(max_workers=len(agents) or 1) as pool:
        list(pool.map(lambda agent: agent[1].stop(), agents))
    if transport is not None:
        transport.cleanup()
    print(json.dumps(counts), flush=True)
    return 0


# --- the driver ---------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def drive(api, tokens: dict, agents: int, clients: int, seconds: float) -> dict:
    samples: dict[str, list[float]] = {"list": [], "show": []}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        session = requests.Session()
        headers = {"X-Auth-Token": tokens["member"]}
        while time.monotonic() < deadline:
            instance = f"inst-{rnd.randrange(agents)}"
            kind = "list" if rnd.random() < 2 / 3 else "show"
            started = time.perf_counter()
            try:
                if kind == "list":
                    resp = session.get(f"{api.url}/v1/instance/{instance}/log", headers=headers)
                else:
                    resp = session.post(
                        f"{api.url}/v1/instance/{instance}/log",
                        headers=headers,
                        json={"name": "general"},
                    )
                status = resp.status_code
                stale = status == 200 and "stale" in resp.json()
            except requests.RequestException as exc:
                status, stale = type(exc).__name__, False
            took = time.perf_counter() - started
            with lock:
                if status == 200 and not stale:
                    samples[kind].append(took)
                else:
                    key = f"{kind} {status}{' stale' if stale else ''}"
                    errors[key] = errors.get(key, 0) + 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"samples": samples, "errors": errors}


def run(transport: str, agents: int, args, broker) -> dict:
    from tests.processes import ApiProcess

    work = Path(tempfile.mkdtemp(prefix=f"bench-bus-{transport}-{agents}-"))
    default = broker.settings() if transport == "rpc" else {}
    api = ApiProcess(
        work,
        {
            "DEFAULT": default,
            "api": {"workers": args.workers, "threads": args.threads, "log_list_max_age": 0},
            "agent": {"dispatch": transport, "connect_timeout": 5, "call_timeout": 30},
            "database": {"connection": f"sqlite:///{work / 'api.sqlite'}"},
        },
        agent_secret=SECRET,
        checked=False,
    ).start()
    tokens = {"admin": api.token("admin", "admin"), "member": api.token(TENANT, "member")}
    admin = {"X-Auth-Token": tokens["admin"]}
    hosts = []
    started = time.monotonic()
    for first in range(0, agents, args.per_process):
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--host",
            "--transport",
            transport,
            "--dir",
            str(work / "agents"),
            "--first",
            str(first),
            "--count",
            str(min(args.per_process, agents - first)),
            "--interval",
            str(args.interval),
            "--api",
            api.url,
        ]
        if transport == "rpc":
            argv += ["--url", broker.url(), "--exchange", broker.exchange]
        hosts.append(
            subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    ports: dict[str, int] = {}
    for proc in hosts:
        word, _, listed = proc.stdout.readline().partition(" ")
        assert word == "ready", "a host of agents did not start"
        ports.update(json.loads(listed))
    ready = time.monotonic() - started
    with requests.Session() as session:
        for number in range(agents):
            url = f"http://127.0.0.1:{ports.get(f'inst-{number}', 9)}"
            resp = session.put(
                f"{api.url}/v1/instance/inst-{number}",
                headers=admin,
                json={"tenant_id": TENANT, "datastore": "file", "agent_url": url},
            )
            resp.raise_for_status()
    for proc in hosts:  # heartbeats begin
        proc.stdin.write("go\n")
        proc.stdin.flush()
    result = drive(api, tokens, agents, args.clients, args.seconds)
    sent = failed = 0
    for proc in hosts:
        proc.send_signal(signal.SIGTERM)
    for proc in hosts:
        out, _ = proc.communicate(timeout=300)
        counts = json.loads(out.strip().splitlines()[-1])
        sent, failed = sent + counts["sent"], failed + counts["failed"]
    queues = {}
    if transport == "rpc":
        deadline = time.monotonic() + 60  # the last heartbeats consumed
        while time.monotonic() < deadline and broker.queues().get("logsvc-api", 0):
            time.sleep(1)
        queues = {name: n for name, n in broker.queues().items() if n}
    api.stop()
    log = (work / "api.log").read_text(errors="replace")
    if transport == "rpc":
        found = re.findall(
            r"heartbeats over the bus: (\d+) recorded, (\d+) superseded, (\d+) refused", log
        )
        recorded, superseded, refused = map(int, found[-1]) if found else (-1, -1, -1)
    else:  # an HTTP heartbeat answered 204 was recorded
        recorded, superseded, refused = sent, 0, failed
    return {
        "transport": transport,
        "agents": agents,
        "ready_s": ready,
        **result,
        "sent": sent,
        "failed": failed,
        "recorded": recorded,
        "superseded": superseded,
        "refused": refused,
        "queues": queues,
    }


def report(res: dict, seconds: float) -> None:
    head = f"{res['transport']:4} N={res['agents']:<5}"
    total = 0
    for kind in ("list", "show"):
        values = res["samples"][kind]
        total += len(values)
        print(
            f"{head} {kind:4}: {len(values):6} ok, {len(values) / seconds:7.1f} req/s, "
            f"p50 {percentile(values, 0.5) * 1000:7.1f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:7.1f} ms"
        )
    recorded = (
        f"recorded {res['recorded']} (+ superseded {res['superseded']}: taken after a newer "
        f"one of the same agent; refused {res['refused']})"
        if res["recorded"] >= 0
        else "recorded: not known (api/busd.py did not log its count)"
    )
    print(
        f"{head} all : {total / seconds:7.1f} req/s; errors {res['errors'] or 0}; agents up in "
        f"{res['ready_s']:.0f} s; heartbeats sent {res['sent']} (failed to send "
        f"{res['failed']}), {recorded}; non-empty queues at the end: {res['queues'] or 'none'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="100,1000", help="N of each bus run, comma-separated")
    parser.add_argument("--http", type=int, default=100, help="N of the HTTP baseline (0: none)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--per-process", type=int, default=125)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    # a host process of agents (started by this script)
    parser.add_argument("--host", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--transport", default="rpc", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--exchange", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.host:
        return host(args)

    results = []
    with bench_broker("bench-bus") as broker:
        plan = ([("http", args.http)] if args.http else []) + [
            ("rpc", int(n)) for n in args.agents.split(",") if n
        ]
        for transport, agents in plan:
            print(f"-- {transport}, {agents} agents ...", flush=True)
            results.append(run(transport, agents, args, broker))
            report(results[-1], args.seconds)
    print("\n== summary")
    for res in results:
        report(res, args.seconds)
    base = next((r for r in results if r["transport"] == "http"), None)
    if base:
        reference = percentile(base["samples"]["list"], 0.99)
        for res in results:
            ratio = percentile(res["samples"]["list"], 0.99) / reference
            print(
                f"p99 of log-list, {res['transport']} N={res['agents']} vs http "
                f"N={base['agents']}: {ratio:.2f}x"
            )
    unread = [f"{r['transport']} N={r['agents']}" for r in results if r["recorded"] < 0]
    lost = [
        f"{r['transport']} N={r['agents']}: sent {r['sent']}, recorded {r['recorded']} "
        f"+ superseded {r['superseded']}"
        for r in results
        if r["recorded"] >= 0 and r["sent"] != r["recorded"] + r["superseded"]
    ]
    print(
        "heartbeats: "
        + (f"LOST in {'; '.join(lost)}" if lost else "sent == recorded + superseded")
        + (
            f"; not known in {', '.join(unread)} (api/busd.py did not log its count "
            "before the API stopped it)"
            if unread
            else " in every run"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
