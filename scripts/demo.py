"""Bring the whole of logsvc up on embedded defaults, for a first look (run by start.sh).

Under .demo/ in the working tree (or --dir): the API (SQLite, token auth), one
guest agent (the `file` datastore, on a sample log that a small writer keeps
appending to, with a rename rotation now and then), the local object-store
directory (or, with --swift, a real Swift started from the PyPI package),
and ``env``, a file to source in another shell to use the CLI.
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


def run(*args: str) -> str:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{proc.stderr}")
    return proc.stdout.strip()


def wait_for_port(number: int, proc: subprocess.Popen, name: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", number)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{name} did not listen on {number}; see {log}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swift", action="store_true", help="store logs in a real local Swift")
    parser.add_argument("--fresh", action="store_true", help="start from an empty demo directory")
    parser.add_argument("--dir", default=str(ROOT / ".demo"), help="where (default .demo/)")
    args = parser.parse_args()
    demo = Path(args.dir).resolve()
    if args.fresh and demo.exists():
        shutil.rmtree(demo)
    demo.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    children: list[subprocess.Popen] = []
    devswift = None
    try:
        swift_creds = None
        if args.swift:
            from logsvc.devswift import DevSwift

            print("starting a local Swift (a few seconds) ...", flush=True)
            devswift = DevSwift(str(demo / "swift")).start()
            swift_creds = devswift.credentials()
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
        run(str(BIN / "logsvc-manage"), "--config-file", api_conf, "db", "upgrade")
        admin = run(
            str(BIN / "logsvc-manage"),
            "--config-file",
            api_conf,
            "token",
            "create",
            "--project-id",
            "admin",
            "--role",
            "admin",
        ).split()[-1]
        user = run(
            str(BIN / "logsvc-manage"),
            "--config-file",
            api_conf,
            "token",
            "create",
            "--project-id",
            TENANT,
            "--role",
            "member",
        ).split()[-1]

        writer = threading.Thread(
            target=sample_writer, args=(demo / "general.log", stop, 2000), daemon=True
        )
        writer.start()
        for name, conf, number in (
            ("logsvc-api", api_conf, ports["api"]),
            ("logsvc-guestagent", agent_conf, ports["agent"]),
        ):
            log = demo / f"{name}.out"
            proc = subprocess.Popen(
                [str(BIN / name), "--config-file", conf],
                stdout=open(log, "ab"),  # noqa: SIM115 - the child keeps it
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            children.append(proc)
            wait_for_port(number, proc, name, log)

        from logsvc.client.api import Client

        url = f"http://127.0.0.1:{ports['api']}"
        Client(url, admin).instance_register(
            INSTANCE,
            tenant_id=TENANT,
            datastore="file",
            agent_url=f"http://127.0.0.1:{ports['agent']}",
            name="the demo database",
        )
        env = [
            f"export PATH={BIN}:$PATH",
            f"export LOGSVC_URL={url}",
            f"export LOGSVC_TOKEN={user}",
        ]
        if swift_creds:
            env += [
                f"export OS_AUTH_URL={swift_creds['auth_url']}",
                f"export OS_USERNAME={swift_creds['user']}",
                f"export OS_PASSWORD={swift_creds['key']}",
            ]
        else:
            env.append(f"export LOGSVC_FILE_ROOT={demo / 'objects'}")
        (demo / "env").write_text("\n".join(env) + "\n")
        (demo / "admin_token").write_text(admin + "\n")
        (demo / "admin_token").chmod(0o600)
        print(
            f"""
logsvc is running: the API on {url}, a guest agent for instance {INSTANCE}
(its log 'general' grows by five lines a second), objects in {
                "a local Swift" if swift_creds else demo / "objects"
            }.
Your token (project {TENANT}) is in {demo / "env"}; an admin token in {demo / "admin_token"}.

In another terminal:

  source {demo / "env"}
  logsvc log-list {INSTANCE}
  logsvc log-publish {INSTANCE} general
  logsvc log-tail {INSTANCE} general --lines 5

Operators: logsvc status 127.0.0.1:{ports["agent_status"]} (agent), \
logsvc status 127.0.0.1:{ports["api_status"]} (API);
kill -USR1 <agent pid> writes a Guru Meditation Report to {demo / "logsvc-guestagent.out"}.
Ctrl-C stops everything.""",
            flush=True,
        )
        while not stop.is_set():
            for proc in children:
                if proc.poll() is not None:
                    print(f"{proc.args[0]} exited with {proc.returncode}; stopping", flush=True)
                    stop.set()
            stop.wait(1)
    finally:
        stop.set()
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
        for proc in children:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if devswift:
            devswift.stop()
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
