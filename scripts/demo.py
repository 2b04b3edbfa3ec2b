"""Bring the whole of logsvc up on embedded defaults, for a first look (run by start.sh).

Under .demo/ in the working tree (or --dir, or $LOGSVC_DEMO_DIR): the API
(SQLite, token auth), one guest agent (the `file` datastore, on a sample log
that a small writer keeps appending to, with a rename rotation now and then),
the local object-store directory (or, with --swift, a real Swift started from
the PyPI package), and ``env``, a file to source in another shell to use the
CLI. It prints the user's token and what to type next; Ctrl-C (or SIGTERM)
stops every process it started.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

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


def port(preferred: int) -> int:
    """`preferred` if it is free on loopback, else any free port."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def write_configs(demo: Path, swift: dict | None, ports: dict[str, int], secret: str) -> None:
    storage = (
        "[storage]\nbackend = swift\n\n[swift]\n"
        f"auth_url = {swift['auth_url']}\nauth_version = 1\n"
        f"user = {swift['user']}\nkey = {swift['key']}\n"
        if swift
        else f"[storage]\nbackend = file\nfile_root = {demo / 'objects'}\n"
    )
    (demo / "guestagent.conf").write_text(
        f"[DEFAULT]\nlog_file = {demo / 'guestagent.log'}\n"
        "guest_log_limit = 4096\nguest_log_expiry = 0\n"
        "guest_log_rotation_policy = keep\n\n"
        f"[agent]\ninstance_id = {INSTANCE}\nstate_dir = {demo / 'state'}\n"
        f"bind_port = {ports['agent']}\nshared_secret = {secret}\n"
        f"api_url = http://127.0.0.1:{ports['api']}\nheartbeat_interval = 10\n\n"
        f"[status]\nbind_port = {ports['agent_status']}\n\n"
        f"{storage}\n"
        f"[file_datastore]\nlogs = general:USER:{demo / 'general.log'}\n"
    )
    (demo / "api.conf").write_text(
        f"[DEFAULT]\nlog_file = {demo / 'api.log'}\n\n"
        f"[api]\nbind_port = {ports['api']}\nworkers = 2\nauth_strategy = token\n\n"
        f"[database]\nconnection = sqlite:///{demo / 'api.sqlite'}\n\n"
        f"[agent]\nshared_secret = {secret}\n\n"
        f"[status]\nbind_port = {ports['api_status']}\n"
    )


class Interrupted(Exception):
    """A Ctrl-C (or SIGTERM) arrived while the demo was still starting."""


class Demo:
    """The processes of the demo, started in order and stopped in reverse."""

    def __init__(self, demo: Path, stop: threading.Event):
        self.dir = demo
        self.stop = stop
        self.children: list[subprocess.Popen] = []
        self.devswift = None

    def check(self) -> None:
        # A Ctrl-C during start-up stops the demo there, not after everything started.
        if self.stop.is_set():
            raise Interrupted()

    def manage(self, api_conf: str, *args: str) -> str:
        """`logsvc-manage --config-file api.conf ARGS`: its output."""
        self.check()
        command = [str(BIN / "logsvc-manage"), "--config-file", api_conf, *args]
        proc = subprocess.run(command, capture_output=True, text=True)
        self.check()
        if proc.returncode != 0:
            raise SystemExit(f"logsvc-manage {' '.join(args)} failed:\n{proc.stderr}")
        return proc.stdout.strip()

    def spawn(self, name: str, conf: str, number: int) -> None:
        """Start daemon `name` and wait until it listens on `number`."""
        self.check()
        log = self.dir / f"{name}.out"
        proc = subprocess.Popen(
            [str(BIN / name), "--config-file", conf],
            stdout=open(log, "ab"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the demo only; it stops them in order
        )
        self.children.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check()
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited; see {log}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", number)) == 0:
                    return
            time.sleep(0.1)
        raise SystemExit(f"{name} did not listen on {number}; see {log}")

    def watch(self) -> None:
        """Until stopped; a daemon that exits stops the demo."""
        while not self.stop.is_set():
            for proc in self.children:
                if proc.poll() is not None:
                    print(f"{proc.args[0]} exited with {proc.returncode}; stopping", flush=True)
                    self.stop.set()
            self.stop.wait(1)

    def close(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.children:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.devswift:
            self.devswift.stop()


def write_env(demo: Path, url: str, token: str, swift: dict | None) -> Path:
    """The file to source in another shell: PATH, the API, the token, the object store."""
    env = [f"export PATH={BIN}:$PATH", f"export LOGSVC_URL={url}", f"export LOGSVC_TOKEN={token}"]
    if swift:
        env += [
            f"export OS_AUTH_URL={swift['auth_url']}",
            f"export OS_USERNAME={swift['user']}",
            f"export OS_PASSWORD={swift['key']}",
        ]
    else:
        env.append(f"export LOGSVC_FILE_ROOT={demo / 'objects'}")
    path = demo / "env"
    path.write_text("\n".join(env) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swift", action="store_true", help="store logs in a real local Swift")
    parser.add_argument("--fresh", action="store_true", help="start from an empty demo directory")
    parser.add_argument(
        "--dir",
        default=os.environ.get("LOGSVC_DEMO_DIR") or str(ROOT / ".demo"),
        help="where everything lives ($LOGSVC_DEMO_DIR; default .demo/ in the working tree)",
    )
    args = parser.parse_args()
    demo = Path(args.dir).resolve()
    if args.fresh and demo.exists():
        shutil.rmtree(demo)
    demo.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    procs = Demo(demo, stop)
    try:
        swift_creds = None
        if args.swift:
            from logsvc.devswift import DevSwift

            print("starting a local Swift (a few seconds) ...", flush=True)
            procs.devswift = DevSwift(str(demo / "swift")).start()
            swift_creds = procs.devswift.credentials()
        ports = {
            "api": port(8779),
            "agent": port(8780),
            "agent_status": port(1815),
            "api_status": port(1816),
        }
        secret_file = demo / "shared_secret"
        if not secret_file.exists():
            secret_file.write_text(os.urandom(16).hex())
            secret_file.chmod(0o600)
        write_configs(demo, swift_creds, ports, secret_file.read_text())
        api_conf, agent_conf = str(demo / "api.conf"), str(demo / "guestagent.conf")
        procs.manage(api_conf, "db", "upgrade")
        new_token = ("token", "create", "--project-id")
        admin = procs.manage(api_conf, *new_token, "admin", "--role", "admin").split()[-1]
        user = procs.manage(api_conf, *new_token, TENANT, "--role", "member").split()[-1]

        writer = threading.Thread(
            target=sample_writer, args=(demo / "general.log", stop, 2000), daemon=True
        )
        writer.start()
        procs.spawn("logsvc-api", api_conf, ports["api"])
        procs.spawn("logsvc-guestagent", agent_conf, ports["agent"])

        from logsvc.client.api import Client

        url = f"http://127.0.0.1:{ports['api']}"
        Client(url, admin).instance_register(
            INSTANCE,
            tenant_id=TENANT,
            datastore="file",
            agent_url=f"http://127.0.0.1:{ports['agent']}",
            name="the demo database",
        )
        env = write_env(demo, url, user, swift_creds)
        (demo / "admin_token").write_text(admin + "\n")
        (demo / "admin_token").chmod(0o600)
        procs.check()
        where = "a local Swift" if swift_creds else demo / "objects"
        print(
            f"""
logsvc is running: the API on {url}, a guest agent for instance {INSTANCE}
(its log 'general' grows by five lines a second), objects in {where}.

Your token (project {TENANT}): {user}
An admin's token (project admin) is in {demo / "admin_token"}.

In another terminal, type (the env file sets PATH, LOGSVC_URL, LOGSVC_TOKEN and
where the objects are):

  source {env}
  logsvc log-list {INSTANCE}
  logsvc log-publish {INSTANCE} general
  logsvc log-tail {INSTANCE} general --lines 5

Operators: logsvc status 127.0.0.1:{ports["agent_status"]} (agent), \
logsvc status 127.0.0.1:{ports["api_status"]} (API);
kill -USR1 <agent pid> writes a Guru Meditation Report to {demo / "logsvc-guestagent.out"}.
Ctrl-C stops everything.""",
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
