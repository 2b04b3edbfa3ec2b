"""Capture the outputs that docs/operations.md shows, from real daemons, and put them in.

    .venv/bin/python scripts/capture_operations.py            # rewrite docs/operations.md
    .venv/bin/python scripts/capture_operations.py --print    # only print what it captured

It starts a real Swift (from the PyPI package), logsvc-api (gunicorn, two
workers, SQLite, token auth) and one logsvc-guestagent (the `file`
datastore, a sample log), with the profiler on (traces in a directory) and
Guru Meditation Reports written to a directory; then runs the commands the
page shows and keeps their output as printed. In docs/operations.md, each
code block that follows a line ``<!-- captured: NAME -->`` is replaced by the
capture NAME; nothing else of the page changes. Everything runs under a
temporary directory, removed at the end (``--keep`` keeps it).
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "operations.md"
INSTANCE, TENANT = "demo-instance", "demo"
TRACE_KEY = "demo-trace-key"
MARKER = re.compile(
    r"^(?P<indent>[ ]*)(?P<marker><!-- captured: (?P<name>[\w-]+) -->\n)"
    r"(?P=indent)```(?P<lang>\w*)\n.*?\n(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)

sys.path.insert(0, str(ROOT))

from demo import port  # noqa: E402 - the demo's ports: the page shows the defaults


def wait(predicate: Callable[[], object], what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (OSError, requests.RequestException, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def swift_workdir() -> str:
    # Swift needs user xattrs: tmpfs has them on recent kernels (as tests/conftest.py finds)
    shm = "/dev/shm"  # noqa: S108 - a private directory made in it, as mkdtemp makes them
    base = shm if os.path.isdir(shm) else None
    return tempfile.mkdtemp(prefix="logsvc-capture-swift-", dir=base)


def ini(sections: dict[str, dict[str, object]]) -> str:
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
        for name, values in sections.items()
    )


class Capture:
    """The daemons of the page, and the outputs captured from them."""

    def __init__(self, work: Path):
        self.work = work
        self.children: list[subprocess.Popen] = []
        self.outputs: dict[str, str] = {}
        self.swift = None
        self.ports = {
            "api": port(8779),
            "agent": port(8780),
            "agent_status": port(1815),
            "api_status": port(1816),
        }
        self.env: dict[str, str] = {}

    # --- bringing it up ---------------------------------------------------------------

    def start(self) -> None:
        from dev.devswift import DevSwift

        self.swift = DevSwift(swift_workdir()).start()
        creds = self.swift.credentials()
        w, p = self.work, self.ports
        agent_secret = secrets.token_hex(16)
        traces = f"file://{w / 'traces'}"
        profiler = {
            "enabled": "true",
            "hmac_keys": TRACE_KEY,
            "trace_sqlalchemy": "true",
            "trace_requests": "true",
            "connection_string": traces,
        }
        (w / "gmr-agent").mkdir()
        (w / "gmr-api").mkdir()
        (w / "general.log").write_text(
            "".join(
                f"2026-01-05T10:00:{n:02d}\t{n % 3 + 1} Query\tSELECT * FROM t WHERE id = {n}\n"
                for n in range(40)
            )
        )
        (w / "agent.conf").write_text(
            ini(
                {
                    "DEFAULT": {"log_file": w / "agent.log", "guest_log_limit": 4096},
                    "agent": {
                        "instance_id": INSTANCE,
                        "state_dir": w / "state",
                        "bind_port": p["agent"],
                        "shared_secret": agent_secret,
                        "api_url": f"http://127.0.0.1:{p['api']}",
                        "heartbeat_interval": 5,
                    },
                    # refreshed often, so that the report shows the publish below
                    "status": {
                        "bind_port": p["agent_status"],
                        "collector_intervals": "guest-logs:2",
                    },
                    "storage": {"backend": "swift"},
                    "swift": {
                        "auth_url": creds["auth_url"],
                        "auth_version": 1,
                        "user": creds["user"],
                        "key": creds["key"],
                    },
                    "file_datastore": {"logs": f"general:USER:{w / 'general.log'}"},
                    "profiler": profiler,
                    "oslo_reports": {"log_dir": w / "gmr-agent"},
                }
            )
        )
        (w / "api.conf").write_text(
            ini(
                {
                    "DEFAULT": {"log_file": w / "api.log"},
                    "api": {"bind_port": p["api"], "workers": 2, "auth_strategy": "token"},
                    "database": {"connection": f"sqlite:///{w / 'api.sqlite'}"},
                    "agent": {"shared_secret": agent_secret},
                    "status": {
                        "bind_port": p["api_status"],
                        "collector_intervals": "api-instances:2",
                    },
                    "profiler": profiler,
                    "oslo_reports": {"log_dir": w / "gmr-api"},
                }
            )
        )
        self.manage("db", "upgrade")
        admin = self.manage("token", "create", "--project-id", "admin", "--role", "admin")
        owner = self.manage("token", "create", "--project-id", TENANT, "--role", "member")
        self.api = self.spawn("logsvc-api", w / "api.conf", p["api"])
        self.agent = self.spawn("logsvc-guestagent", w / "agent.conf", p["agent"])
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "LOGSVC_CONFIG": "/nonexistent",
            "LOGSVC_URL": f"http://127.0.0.1:{p['api']}",
            "LOGSVC_TOKEN": owner,
            "LOGSVC_TRACE_STORE": traces,
            "OS_AUTH_URL": creds["auth_url"],
            "OS_USERNAME": creds["user"],
            "OS_PASSWORD": creds["key"],
        }
        self.admin = admin
        self.run(
            f"logsvc instance-register {INSTANCE} --tenant-id {TENANT} --datastore file "
            f"--agent-url http://127.0.0.1:{p['agent']} --name demo",
            env={"LOGSVC_TOKEN": admin},
        )

    def manage(self, *args: str) -> str:
        command = [str(BIN / "logsvc-manage"), "--config-file", str(self.work / "api.conf"), *args]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"logsvc-manage {' '.join(args)} failed:\n{proc.stderr}")
        return proc.stdout.strip()

    def spawn(self, name: str, conf: Path, listens_on: int) -> subprocess.Popen:
        proc = subprocess.Popen(
            [str(BIN / name), "--config-file", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.work / f"{name}.stderr", "ab"),  # noqa: SIM115 - the child keeps it
        )
        self.children.append(proc)

        def listening():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited; see {self.work / (name + '.stderr')}")
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", listens_on)) == 0

        wait(listening, f"{name} on port {listens_on}")
        return proc

    def stop(self) -> None:
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.children:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.swift is not None:
            self.swift.stop()
            shutil.rmtree(self.swift.workdir, ignore_errors=True)

    # --- running what the page shows ---------------------------------------------------

    def run(self, command: str, env: dict[str, str] | None = None) -> str:
        """Run a command line as the page shows it: ``$ command``, then what it printed."""
        proc = subprocess.run(  # noqa: S602 - our own command lines, shown on the page as run
            command,
            shell=True,
            cwd=self.work,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            check=False,
        )
        return f"$ {command}\n{proc.stdout}{proc.stderr}"

    def capture(self) -> None:
        p = self.ports
        wait(lambda: self.heard(), "the agent's first heartbeat")
        # a traced publish, and the trace
        publish = self.run(f"logsvc --profile {TRACE_KEY} log-publish {INSTANCE} general")
        trace_id = publish.split("Trace ID: ")[1].split()[0]
        # the agent's and the object store's points are written a moment after the answer
        shown = wait(
            lambda: (
                (out := self.run(f"logsvc trace show {trace_id} --html trace.html"))
                and "PUT 127.0.0.1:" in out
                and out
            ),
            "the whole trace",
        )
        if not (self.work / "trace.html").exists():
            raise SystemExit("trace show wrote no page")
        self.outputs["trace"] = publish + "\n" + shown
        # Guru Meditation Reports
        os.kill(self.agent.pid, signal.SIGUSR1)
        agent_report = wait(lambda: self.report("gmr-agent", "Guest Logs"), "the agent's report")
        self.outputs["gmr-agent"] = section(agent_report, "Guest Logs")
        self.outputs["gmr-secrets"] = masked_lines(agent_report)
        worker = self.workers()[0]
        os.kill(worker, signal.SIGUSR1)
        api_report = wait(lambda: self.report("gmr-api", "Dispatches In Flight"), "a worker's")
        self.outputs["gmr-api"] = section(api_report, "Database Pool") + section(
            api_report, "Dispatches In Flight"
        )
        # the status reports
        wait(lambda: self.published_in_report(), "the publish in the agent's status report")
        wait(lambda: self.instance_in_report(), "the instance in the API's status report")
        for name, status_port in (
            ("status-agent", p["agent_status"]),
            ("status-api", p["api_status"]),
        ):
            wait(lambda sp=status_port: self.collected(sp), f"the collectors on {status_port}")
            self.outputs[name] = self.run(f"logsvc status 127.0.0.1:{status_port}")
        url = f"127.0.0.1:{p['agent_status']}/1/report/instance/guest-logs"
        self.outputs["status-curl"] = self.run(f"curl -s {url} | python3 -m json.tool")

    def heard(self) -> bool:
        resp = requests.get(
            f"{self.env['LOGSVC_URL']}/v1/instance/{INSTANCE}",
            headers={"X-Auth-Token": self.admin},
            timeout=10,
        )
        return resp.status_code == 200 and bool(resp.json()["instance"]["last_heartbeat"])

    def workers(self) -> list[int]:
        children = psutil.Process(self.api.pid).children()
        return [c.pid for c in children if "api.statusd" not in " ".join(c.cmdline())]

    def report(self, directory: str, last_section: str) -> str | None:
        for path in (self.work / directory).iterdir():
            text = path.read_text(errors="replace")
            _, title, rest = text.partition(f"  {last_section}  ")
            if title and rest.split("\n", 2)[-1].strip():
                return text
        return None

    def published_in_report(self) -> bool:
        url = f"http://127.0.0.1:{self.ports['agent_status']}/1/report/instance/guest-logs"
        logs = requests.get(url, timeout=10).json()["data"].get("logs", [])
        return any(log["name"] == "general" and log["status"] == "Published" for log in logs)

    def instance_in_report(self) -> bool:
        url = f"http://127.0.0.1:{self.ports['api_status']}/1/report/instance/api-instances"
        return len(requests.get(url, timeout=10).json()["data"].get("instances", [])) == 1

    def collected(self, status_port: int) -> bool:
        """Whether every collector of the status server has reported once."""
        reports = requests.get(f"http://127.0.0.1:{status_port}/1/report/all", timeout=10).json()
        return all(
            r["data"].get("status", {}).get("message") != "not collected yet" for r in reports
        )


def section(report: str, title: str) -> str:
    """One section of a Guru Meditation Report, with its banner, as printed."""
    lines = report.splitlines()
    at = next(
        i for i, line in enumerate(lines) if re.fullmatch(rf"=+\s+{re.escape(title)}\s+=+", line)
    )
    end = next(
        (i for i in range(at + 2, len(lines)) if lines[i].startswith("=" * 20)),
        len(lines),
    )
    return "\n".join(lines[at - 1 : end]).rstrip() + "\n"


def masked_lines(report: str) -> str:
    """The Configuration section's groups that hold a masked value: those lines only."""
    config = section(report, "Configuration").splitlines()
    out, group = [], None
    for line in config:
        if line and not line.startswith(" ") and line.rstrip().endswith(":"):
            group = line.rstrip()
        elif line.rstrip().endswith("= ***") or "***@" in line:
            if group:
                out.append(group)
                group = None
            out.append(line.rstrip())
    return "\n".join(out) + "\n"


def rewrite(doc: Path, outputs: dict[str, str]) -> list[str]:
    """Put each capture in its place; the names of the markers that had none."""
    missing = []

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in outputs:
            missing.append(name)
            return match[0]
        indent = match["indent"]
        lines = outputs[name].rstrip().split("\n")
        body = "\n".join(indent + line if line else "" for line in lines)
        return f"{indent}{match['marker']}{indent}```{match['lang']}\n{body}\n{indent}```"

    text = MARKER.sub(replace, doc.read_text())
    text = re.sub(
        r"(captured by\s+`scripts/capture_operations\.py`\s+on\s+)\d{4}-\d{2}-\d{2}",
        lambda m: m[1] + time.strftime("%Y-%m-%d"),
        text,
    )
    doc.write_text(text)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the captures, change nothing")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="logsvc-capture-"))
    capture = Capture(work)
    try:
        capture.start()
        capture.capture()
    finally:
        capture.stop()
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.print:
        for name, text in capture.outputs.items():
            print(f"--- {name}\n{text}")
        return 0
    missing = rewrite(DOC, capture.outputs)
    if missing:
        print(f"no capture for: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"updated {DOC.relative_to(ROOT)}: {', '.join(capture.outputs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
