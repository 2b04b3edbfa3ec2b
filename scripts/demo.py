"""Bring the whole of logsvc up on embedded defaults, for a first look (run by start.sh).

Under .demo/ in the working tree (or --dir, or $LOGSVC_DEMO_DIR): the API
(SQLite, token auth), one guest agent (the `file` datastore, on a sample log
that a small writer keeps appending to, with a rename rotation now and then),
the local object-store directory (or, with --swift, a real Swift started from
the PyPI package), and ``env``, a file to source in another shell to use the
CLI. It prints the user's token and what to type next; Ctrl-C (or SIGTERM)
stops every process it started. Each port it uses (API, agent, and their
status reports) is its default where free, else another free one: a second
copy runs beside the first. --profile KEY turns tracing on in both daemons.
--bus runs the same over the RabbitMQ of 127.0.0.1:5672 (guest/guest): the
API calls the agent, and the agent sends its heartbeats, over the message
bus (docs/deployment.md, "The message bus"); the agent then listens on no
port but its status report's. Two --bus demos on one broker would share its
queues: run one at a time.
"""

import argparse
import fcntl
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from logsvc.stopsignals import StopSignals

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
INSTANCE, TENANT = "demo-instance", "demo"
QUERIES = [
    "SELECT * FROM orders WHERE id = {n}",
    "UPDATE stock SET qty = qty - 1 WHERE sku = 'SKU-{n}'",
    "INSERT INTO audit (who, what) VALUES ('app', 'login {n}')",
    "SELECT name, email FROM users WHERE last_seen > NOW() - INTERVAL {n} MINUTE",
]


def sample_writer(path: Path, stop: threading.Event, rotate_every: int) -> None:
    """Append query-log lines to `path`; rename-rotate it every `rotate_every` lines."""
    n = 0
    while not stop.is_set():
        if rotate_every and n and n % rotate_every == 0 and path.exists():
            os.replace(path, path.with_name(path.name + ".1"))
        with open(path, "a", encoding="utf-8") as f:
            if f.tell() == 0:
                f.write("/usr/sbin/mariadbd, Version: 10.11 (demo). started with:\n")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            query = random.choice(QUERIES).format(n=n)  # noqa: S311 - sample data
            f.write(f"{stamp}\t{n % 7 + 1} Query\t{query}\n")
        n += 1
        stop.wait(0.2)


def port(preferred: int, avoid: set[int] = frozenset()) -> int:
    """`preferred` if it is free on loopback (and not in `avoid`), else any free port.

    Probed as the daemons bind (SO_REUSEADDR): a port that only the demo's
    last run still holds in TIME_WAIT is free to them, and so to the demo.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            if preferred in avoid:
                raise OSError(f"port {preferred} was taken")
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


# The ports the demo uses, and the ones it prefers (the daemons' defaults).
PREFERRED = {"api": 8779, "api_status": 1816, "agent": 8780, "agent_status": 1815}
WHAT = {
    "api": "the API",
    "api_status": "the API's status report",
    "agent": "the agent",
    "agent_status": "the agent's status report",
}


def choose_ports(avoid: set[int] = frozenset()) -> dict[str, int]:
    """A free port for each of PREFERRED, its default where free; says which moved."""
    ports: dict[str, int] = {}
    for name, preferred in PREFERRED.items():
        number = port(preferred, avoid | set(ports.values()))
        while number in ports.values():  # the kernel may hand out one twice before a listen
            number = port(0)
        if number != preferred:
            print(f"port {preferred} is taken: {WHAT[name]} uses {number}", flush=True)
        ports[name] = number
    return ports


def hold_ports_lock(check: Callable[[], None]):
    """An open file locked while this demo chooses its ports and its daemons bind them.

    Two demos started at once (two clones, two terminals) would otherwise both
    find 8779 free and race for it: the second waits here until the first's
    daemons listen. Another program may still take a port meanwhile: `spawn`
    sees that and the ports are chosen again. `check` raises on Ctrl-C.
    """
    path = Path(tempfile.gettempdir()) / f"logsvc-demo-ports-{os.getuid()}.lock"
    lock = open(path, "a")  # noqa: SIM115 - held until the daemons listen
    said = False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if not said:
                print("another demo is starting on this machine: waiting for its ports", flush=True)
                said = True
            check()
            time.sleep(0.2)


class PortTaken(Exception):
    """Another process took a port between the choice and the daemon's bind."""

    def __init__(self, ports: set[int]):
        super().__init__(", ".join(map(str, sorted(ports))))
        self.ports = ports


def listening_ports(proc: subprocess.Popen) -> set[int]:
    """The TCP ports that `proc` and its descendants listen on."""
    import psutil

    found: set[int] = set()
    try:
        root = psutil.Process(proc.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return found
    for p in tree:
        try:
            for c in p.net_connections(kind="tcp"):
                if c.status == psutil.CONN_LISTEN:
                    found.add(c.laddr.port)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def someone_listens(number: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", number)) == 0


def profiler_section(demo: Path, key: str | None, sql: bool) -> str:
    """[profiler] for --profile KEY: traces kept in demo/traces, a store `trace show` reads too."""
    if not key:
        return ""
    return (
        f"\n[profiler]\nenabled = true\nhmac_keys = {key}\ntrace_requests = true\n"
        f"trace_sqlalchemy = {str(sql).lower()}\nconnection_string = {trace_store(demo)}\n"
    )


def trace_store(demo: Path) -> str:
    return f"file://{demo / 'traces'}"


def write_private(path: Path, text: str) -> None:
    """Write `path` readable by its owner only: the demo's files hold secrets and tokens."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file an older demo made world-readable
    with os.fdopen(fd, "w") as f:
        f.write(text)


BROKER = "rabbit://guest:guest@127.0.0.1:5672/"


def check_broker() -> None:
    """--bus: a RabbitMQ must answer on 127.0.0.1:5672, else one clear line and exit."""
    import kombu

    connection = kombu.Connection(BROKER.replace("rabbit://", "amqp://"), connect_timeout=3)
    try:
        connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        raise SystemExit(
            f"--bus needs a RabbitMQ on 127.0.0.1:5672 (user guest, password guest), and none "
            f"answers there ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}): "
            "start one (apt-get install rabbitmq-server), or run ./start.sh without --bus"
        ) from None
    finally:
        connection.release()


def write_configs(
    demo: Path,
    swift: dict | None,
    ports: dict[str, int],
    secret: str,
    profile: str | None,
    bus: bool = False,
) -> None:
    storage = (
        "[storage]\nbackend = swift\n\n[swift]\n"
        f"auth_url = {swift['auth_url']}\nauth_version = 1\n"
        f"user = {swift['user']}\nkey = {swift['key']}\n"
        if swift
        else f"[storage]\nbackend = file\nfile_root = {demo / 'objects'}\n"
    )
    broker = f"transport_url = {BROKER}\n" if bus else ""
    heartbeats = "" if bus else f"api_url = http://127.0.0.1:{ports['api']}\n"  # else: the bus
    dispatch = "[agent]\ndispatch = rpc\n\n" if bus else ""
    write_private(
        demo / "guestagent.conf",
        f"[DEFAULT]\nlog_file = {demo / 'guestagent.log'}\n{broker}"
        "guest_log_limit = 4096\nguest_log_expiry = 0\n"
        "guest_log_rotation_policy = keep\n\n"
        f"[agent]\ninstance_id = {INSTANCE}\nstate_dir = {demo / 'state'}\n"
        f"bind_port = {ports['agent']}\nshared_secret = {secret}\n"
        f"{heartbeats}heartbeat_interval = 10\n\n"
        f"[status]\nbind_port = {ports['agent_status']}\n\n"
        f"{storage}\n"
        f"[file_datastore]\nlogs = general:USER:{demo / 'general.log'}\n"
        f"{profiler_section(demo, profile, sql=False)}",
    )
    write_private(
        demo / "api.conf",
        f"[DEFAULT]\nlog_file = {demo / 'api.log'}\n{broker}\n"
        f"[api]\nbind_port = {ports['api']}\nworkers = 2\nauth_strategy = token\n\n"
        f"{dispatch}"
        f"[database]\nconnection = sqlite:///{demo / 'api.sqlite'}\n\n"
        f"[status]\nbind_port = {ports['api_status']}\n\n"
        # the API reads the store the agent publishes into: its read route, the console
        f"{storage}"
        f"{profiler_section(demo, profile, sql=True)}",
    )


class Interrupted(Exception):
    """A Ctrl-C (or SIGTERM) arrived while the demo was still starting."""


class Demo:
    """The processes of the demo, started in order and stopped in reverse."""

    def __init__(self, demo: Path, stop: threading.Event, signals: StopSignals):
        self.dir = demo
        self.stop = stop
        self.signals = signals  # Ctrl-C and SIGTERM, noted (logsvc.stopsignals)
        self.children: list[subprocess.Popen] = []
        self.devswift = None

    def check(self) -> None:
        # A Ctrl-C during start-up stops the demo there, not after everything started.
        if self.stopping():
            raise Interrupted()

    def stopping(self) -> bool:
        if self.signals.received is not None:
            self.stop.set()  # here, in the main thread: never inside stop.wait()
        return self.stop.is_set()

    def manage(self, api_conf: str, *args: str) -> str:
        """`logsvc-manage --config-file api.conf ARGS`: its output."""
        self.check()
        command = [str(BIN / "logsvc-manage"), "--config-file", api_conf, *args]
        proc = subprocess.run(command, capture_output=True, text=True)
        self.check()
        if proc.returncode != 0:
            raise SystemExit(f"logsvc-manage {' '.join(args)} failed:\n{proc.stderr}")
        return proc.stdout.strip()

    def spawn(self, name: str, confs: list[str], numbers: set[int]) -> None:
        """Start daemon `name` and wait until it, and nobody else, listens on each of `numbers`.

        Any listener will not do: another program (or another copy of the
        demo, started at the same moment) may hold one of the ports, and the
        demo would then talk to it, or the agent would run without its status
        report. A port taken that way raises PortTaken, so that the caller
        chooses others.
        """
        self.check()
        log = self.dir / f"{name}.out"
        start = log.stat().st_size if log.exists() else 0
        command = [str(BIN / name)]
        for conf in confs:
            command += ["--config-file", conf]
        proc = subprocess.Popen(
            command,
            stdout=open(log, "ab"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the demo only; it stops them in order
        )
        self.children.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check()
            if proc.poll() is not None:
                if "Address already in use" in log.read_text(errors="replace")[start:]:
                    raise PortTaken({n for n in numbers if someone_listens(n)} or numbers)
                raise SystemExit(f"{name} exited; see {log}")
            missing = numbers - listening_ports(proc)
            if not missing:
                return
            # A listener that is not ours: another program holds the port.
            foreign = {n for n in missing if someone_listens(n)}
            foreign -= listening_ports(proc)  # unless ours began to listen meanwhile
            if foreign:
                raise PortTaken(foreign)
            time.sleep(0.1)
        raise SystemExit(f"{name} did not listen on {sorted(numbers)}; see {log}")

    def stop_children(self) -> None:
        """Stop the daemons started so far (to start them again on other ports)."""
        self.close(devswift=False)
        self.children = []

    def watch(self) -> None:
        """Until stopped; a daemon that exits stops the demo."""
        while not self.stopping():
            for proc in self.children:
                if proc.poll() is not None:
                    print(f"{proc.args[0]} exited with {proc.returncode}; stopping", flush=True)
                    self.stop.set()
            self.stop.wait(1)

    def close(self, devswift: bool = True) -> None:
        for proc in self.children:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.children:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if devswift and self.devswift:
            self.devswift.stop()


def write_env(demo: Path, url: str, token: str, swift: dict | None, profile: str | None) -> Path:
    """The file to source in another shell: PATH, the API, the token, traces.

    Nothing of the object store: log-tail and log-save read through the API
    with the token alone. The store's settings, for --direct, are in
    `store-env` beside it.
    """
    env = [f"export PATH={BIN}:$PATH", f"export LOGSVC_URL={url}", f"export LOGSVC_TOKEN={token}"]
    if profile:
        env.append(f"export LOGSVC_TRACE_STORE={trace_store(demo)}")
    store = []
    if swift:
        store += [
            f"export OS_AUTH_URL={swift['auth_url']}",
            f"export OS_USERNAME={swift['user']}",
            f"export OS_PASSWORD={swift['key']}",
        ]
    else:
        store.append(f"export LOGSVC_FILE_ROOT={demo / 'objects'}")
    write_private(demo / "store-env", "\n".join(store) + "\n")
    path = demo / "env"
    write_private(path, "\n".join(env) + "\n")
    return path


def previous_backend(demo: Path) -> str | None:
    """The object store a previous demo in `demo` published into, if one ran there."""
    record = demo / "backend"
    if record.exists():
        return record.read_text().strip()
    if (demo / "swift").exists():
        return "swift"  # a demo from before the record
    return "file" if (demo / "state").exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swift", action="store_true", help="store logs in a real local Swift")
    parser.add_argument("--fresh", action="store_true", help="start from an empty demo directory")
    parser.add_argument(
        "--bus",
        action="store_true",
        help="the API and the agent talk over the RabbitMQ of 127.0.0.1:5672 (guest/guest)",
    )
    parser.add_argument(
        "--profile",
        metavar="KEY",
        help="trace requests with OSProfiler: both daemons accept traces signed with KEY "
        "(logsvc --profile KEY ...) and keep them in DIR/traces, where logsvc trace show reads",
    )
    parser.add_argument(
        "--dir",
        default=os.environ.get("LOGSVC_DEMO_DIR") or str(ROOT / ".demo"),
        help="where everything lives ($LOGSVC_DEMO_DIR; default .demo/ in the working tree)",
    )
    args = parser.parse_args()
    if args.bus:
        check_broker()
    # Everything the demo and its daemons create (the database with the agent's
    # secret, the configurations, the tokens, the logs) is its user's alone.
    os.umask(0o077)
    demo = Path(args.dir).resolve()
    backend = "swift" if args.swift else "file"
    before = previous_backend(demo)
    if not args.fresh and before not in (None, backend):
        # The agent's offsets and the API's states describe objects in the
        # other store: continuing would publish from the middle of each log.
        print(
            f"{demo} holds a demo that stored its logs in {before}; this one uses {backend}: "
            "starting fresh (what the other published is forgotten)",
            flush=True,
        )
        args.fresh = True
    if args.fresh and demo.exists():
        shutil.rmtree(demo)
    demo.mkdir(parents=True, exist_ok=True)
    (demo / "backend").write_text(backend + "\n")

    stop = threading.Event()
    procs = Demo(demo, stop, StopSignals())
    try:
        swift_creds = None
        if args.swift:
            sys.path.insert(0, str(ROOT))  # dev/ runs from the checkout, not installed
            from dev.devswift import DevSwift

            print("starting a local Swift (a few seconds) ...", flush=True)
            procs.devswift = DevSwift(str(demo / "swift")).start()
            swift_creds = procs.devswift.credentials()
        secret_file = demo / "shared_secret"
        if not secret_file.exists():
            write_private(secret_file, os.urandom(16).hex())
        api_conf, agent_conf = str(demo / "api.conf"), str(demo / "guestagent.conf")
        # Settings of the user's own, which the demo does not rewrite at each start.
        local = {name: demo / f"{name}.local.conf" for name in ("api", "guestagent")}
        api_confs = [api_conf] + [str(local["api"])] * local["api"].exists()
        agent_confs = [agent_conf] + [str(local["guestagent"])] * local["guestagent"].exists()
        for path in (demo / "api.sqlite", demo / "api.sqlite-wal", demo / "api.sqlite-shm"):
            if path.exists():
                path.chmod(0o600)  # made world-readable by an older demo

        writer = threading.Thread(
            target=sample_writer, args=(demo / "general.log", stop, 2000), daemon=True
        )
        taken: set[int] = set()
        ports_lock = hold_ports_lock(procs.check)
        for attempt in range(5):
            ports = choose_ports(taken)
            write_configs(demo, swift_creds, ports, secret_file.read_text(), args.profile, args.bus)
            if attempt == 0:
                procs.manage(api_conf, "db", "upgrade")
                new_token = ("token", "create", "--project-id")
                admin = procs.manage(api_conf, *new_token, "admin", "--role", "admin").split()[-1]
                user = procs.manage(api_conf, *new_token, TENANT, "--role", "member").split()[-1]
                writer.start()
            try:
                procs.spawn("logsvc-api", api_confs, {ports["api"], ports["api_status"]})
                # Over the bus the agent listens on its status report's port only.
                agent_ports = {ports["agent_status"]} | (set() if args.bus else {ports["agent"]})
                procs.spawn("logsvc-guestagent", agent_confs, agent_ports)
                break
            except PortTaken as exc:
                print(f"port {exc} was taken while the demo started: choosing others", flush=True)
                taken |= exc.ports
                procs.stop_children()
        else:
            raise SystemExit("could not find free ports; is something taking every one?")
        ports_lock.close()  # our daemons listen: another demo's choice will see them

        from logsvc.client.api import Client

        url = f"http://127.0.0.1:{ports['api']}"
        Client(url, admin).instance_register(
            INSTANCE,
            tenant_id=TENANT,
            datastore="file",
            agent_url=f"http://127.0.0.1:{ports['agent']}",
            name="the demo database",
            # The instance's own secret: the API has none for every agent
            # (docs/deployment.md, "Agent secrets").
            shared_secret=(demo / "shared_secret").read_text(),
        )
        env = write_env(demo, url, user, swift_creds, args.profile)
        write_private(demo / "admin_token", admin + "\n")
        procs.check()
        where = "a local Swift" if swift_creds else demo / "objects"
        over = " (the two talk over RabbitMQ on 127.0.0.1:5672)" if args.bus else ""
        tracing = (
            f"""
Tracing is on (key {args.profile!r}, traces in {demo / "traces"}; the env file sets
LOGSVC_TRACE_STORE): logsvc --profile {args.profile} log-publish {INSTANCE} general
prints a trace id; logsvc trace show ID prints the trace.
"""
            if args.profile
            else ""
        )
        print(
            f"""
logsvc is running: the API on {url}, a guest agent for instance {INSTANCE}
(its log 'general' grows by five lines a second), objects in {where}{over}.

Your token (project {TENANT}): {user}
An admin's token (project admin) is in {demo / "admin_token"}.

In a browser: {url}/console/ (sign in with your token).

In another terminal, type (the env file sets PATH, LOGSVC_URL and LOGSVC_TOKEN:
the API's URL and your token are all it takes, the logs' bytes too come through the API):

  source {env}
  logsvc log-list {INSTANCE}
  logsvc log-publish {INSTANCE} general
  logsvc log-tail {INSTANCE} general --lines 5
  logsvc log-save {INSTANCE} general --file saved.log

Or with curl: curl -H "X-Auth-Token: $LOGSVC_TOKEN" -H "Range: bytes=0-299" \\
  $LOGSVC_URL/v1/instance/{INSTANCE}/log/general/data
(--direct reads the object store itself, whose settings are in {demo / "store-env"}.)

Operators: logsvc status 127.0.0.1:{ports["agent_status"]} (agent), \
logsvc status 127.0.0.1:{ports["api_status"]} (API);
kill -USR1 <agent pid> writes a Guru Meditation Report to {demo / "logsvc-guestagent.out"}.
The demo rewrites api.conf and guestagent.conf at each start; settings of your own go in
{local["api"]} and {local["guestagent"]} (read after them).
{tracing}Ctrl-C stops everything.""",
            flush=True,
        )
        procs.watch()
    except Interrupted:
        print("interrupted while starting", flush=True)
    finally:
        stop.set()
        procs.close()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
