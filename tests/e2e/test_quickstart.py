"""The README's quickstart, as a new user types it: ./start.sh, then the CLI commands it prints.

Each test starts the demo in a directory of its own (never the developer's
.demo/), waits for it to say what to type next, runs the README's commands in
a shell that sources the env file it wrote, checks what they print, stops the
demo as a user would (Ctrl-C in its terminal, or SIGTERM), and checks that
every process it started is gone.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from tests.conftest import _swift_workdir

ROOT = Path(__file__).resolve().parents[2]
READY = "Ctrl-C stops everything."
INSTANCE = "demo-instance"
# One line of the demo's sample query log.
BANNER = "/usr/sbin/mariadbd, Version: 10.11 (demo). started with:"  # scripts/demo.py's first line
SAMPLE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\t\d Query\t\S.*$")


def readme_commands() -> list[str]:
    """The commands of the README's quickstart block that starts with `source .demo/env`."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
        lines = [line for line in lines if line]
        if lines and lines[0] == "source .demo/env":
            return lines
    raise AssertionError("README.md has no quickstart block beginning with 'source .demo/env'")


def start_command(*args: str) -> list[str]:
    """./start.sh when the project's venv is ours and installed, else demo.py the same way.

    start.sh (re)installs .venv when its stamp does not match pyproject.toml;
    a test must not do that to a developer's venv, so it then runs the demo
    with this interpreter, which is what start.sh ends up doing.
    """
    venv = ROOT / ".venv"
    stamp = venv / ".logsvc-installed"
    want = (
        hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
        + "-"
        + (os.environ.get("LOGSVC_EXTRAS") or "test")
    )
    ours = Path(sys.prefix).resolve() == venv.resolve()
    if ours and stamp.is_file() and stamp.read_text().strip() == want:
        return [str(ROOT / "start.sh"), *args]
    return [sys.executable, str(ROOT / "scripts" / "demo.py"), *args]


def clean_env() -> dict[str, str]:
    """The environment of a new user: none of the developer's logsvc or OpenStack settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOGSVC_", "OS_", "ST_")) and k != "VIRTUAL_ENV"
    }
    env["LOGSVC_CONFIG"] = "/nonexistent/logsvc.conf"  # not ~/.config/logsvc/logsvc.conf
    return env


class RunningDemo:
    """The demo process, its output read as it comes."""

    def __init__(self, demo: Path, *args: str):
        self.dir = demo
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            start_command("--dir", str(demo), *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(),
            cwd=ROOT,
            start_new_session=True,  # its own process group, as in a terminal of its own
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == READY:
                self.ready.set()
        self.ready.set()  # it exited: let the waiter see that

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self, timeout: float = 180) -> None:
        assert self.ready.wait(timeout), f"no {READY!r} within {timeout}s:\n{self.output}"
        assert self.proc.poll() is None, f"the demo exited:\n{self.output}\n{self.logs()}"

    def logs(self) -> str:
        out = []
        for name in ("logsvc-api.out", "logsvc-guestagent.out"):
            path = self.dir / name
            if path.exists():
                out.append(f"--- {name}\n" + path.read_text()[-3000:])
        return "\n".join(out)

    def printed_commands(self) -> list[str]:
        """The commands it says to type in another terminal."""
        start = next(i for i, line in enumerate(self.lines) if "In another terminal" in line)
        commands = []
        for line in self.lines[start + 1 :]:
            if line.startswith("  ") and line.split()[0] in ("source", "logsvc"):
                commands.append(line.strip())
            elif commands and not line.strip():
                break
        return commands

    def printed_token(self) -> str:
        pattern = re.compile(r"^Your token .*: (\S+)$")
        tokens = [m.group(1) for m in map(pattern.match, self.lines) if m]
        assert len(tokens) == 1, self.output
        return tokens[0]

    def stop(self, how: str) -> int:
        if how == "ctrl-c":
            os.killpg(self.proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(90)
        finally:
            self.reader.join(10)

    def kill(self) -> None:
        """After a failure: leave nothing behind."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def shell(env_file: Path, command: str) -> str:
    """`command` in a new bash that has sourced the demo's env file."""
    proc = subprocess.run(
        ["bash", "-c", f"source {env_file} && {command}"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=env_file.parent,
        timeout=120,
    )
    assert proc.returncode == 0, f"{command} failed ({proc.returncode}):\n{proc.stderr}"
    return proc.stdout


def table(text: str) -> dict[str, list[str]]:
    """cliff's table: the first cell of each row -> its cells."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


def listening(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def exercise(demo: RunningDemo) -> tuple[dict, list[psutil.Process]]:
    """The README's commands against a running demo: its env file's settings, its processes."""
    demo.wait_ready()
    env_file = demo.dir / "env"
    settings = dict(
        re.match(r"export (\w+)=(.*)", line).groups() for line in env_file.read_text().splitlines()
    )
    assert demo.printed_token() == settings["LOGSVC_TOKEN"]

    # What the demo says to type is what the README says, and it works.
    commands = readme_commands()
    printed = demo.printed_commands()
    assert printed == [c.replace(".demo/env", str(env_file)) for c in commands], demo.output
    assert [c.split()[:2] for c in commands] == [
        ["source", ".demo/env"],
        ["logsvc", "log-list"],
        ["logsvc", "log-publish"],
        ["logsvc", "log-tail"],
        ["logsvc", "log-save"],
    ]
    # the env file holds the API's URL and the token, nothing of the object store
    assert set(settings) - {"LOGSVC_TRACE_STORE"} == {"PATH", "LOGSVC_URL", "LOGSVC_TOKEN"}
    outputs = {c.split()[1]: shell(env_file, c) for c in printed[1:]}

    logs = table(outputs["log-list"])
    assert logs["general"][:2] == ["general", "USER"], outputs["log-list"]
    assert logs["guest"][:2] == ["guest", "SYS"], outputs["log-list"]

    shown = table(outputs["log-publish"])
    # The log grows five lines a second: some may arrive while the publish answers.
    assert shown["status"][1] in ("Published", "Partial"), outputs["log-publish"]
    assert shown["prefix"][1] == f"{INSTANCE}/file-general/"
    assert int(shown["published"][1]) > 0

    tail = outputs["log-tail"].splitlines()
    assert len(tail) == 5, outputs["log-tail"]
    assert all(SAMPLE_LINE.match(line) for line in tail), tail
    # The last five lines published, in order: a run of the growing log file.
    written = (demo.dir / "general.log").read_text()
    assert "\n".join(tail) + "\n" in written

    # log-save through the API: the published log, whole lines of the demo's writer
    saved = (demo.dir / "saved.log").read_bytes()
    assert outputs["log-save"].strip().endswith("saved.log"), outputs["log-save"]
    assert saved.endswith(b"\n") and len(saved) >= int(shown["published"][1])
    # (a log saved soon after the demo started holds its first line, the banner)
    assert all(
        SAMPLE_LINE.match(line) or line == BANNER for line in saved.decode().splitlines()[-20:]
    )
    # and curl of the read route with a Range: exactly those bytes
    ranged = subprocess.run(
        [
            "curl", "-sf", "-H", f"X-Auth-Token: {settings['LOGSVC_TOKEN']}",
            "-H", "Range: bytes=0-299",
            f"{settings['LOGSVC_URL']}/v1/instance/{INSTANCE}/log/general/data",
        ],
        capture_output=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert ranged == saved[:300]

    descendants = psutil.Process(demo.proc.pid).children(recursive=True)
    names = " ".join(command_line(p) for p in descendants)
    assert "logsvc-api" in names and "logsvc-guestagent" in names, names
    return settings, descendants


def command_line(process: psutil.Process) -> str:
    """Its command line; empty for one that just ended (a zombie not yet reaped, or gone)."""
    try:
        return " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return ""


def stop_demo(demo: RunningDemo, how: str, settings: dict, descendants: list) -> None:
    code = demo.stop(how)
    assert code == 0, demo.output
    assert demo.lines[-1] == "stopped.", demo.output
    assert alive(descendants) == [], "left running after the demo stopped"
    assert not listening(settings["LOGSVC_URL"])


def in_the_console(demo: RunningDemo, settings: dict, browser) -> None:
    """The console's URL, as printed: the printed token signs in, and "View" shows the log."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = settings["LOGSVC_URL"] + "/console/"
    assert f"In a browser: {url} " in demo.output, demo.output
    d = browser.driver
    browser.reset()

    def wait(condition):
        return WebDriverWait(d, 60, 0.05).until(condition)

    d.get(url)
    d.find_element(By.ID, "token").send_keys(demo.printed_token())
    d.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    table = wait(lambda d: d.find_element(By.ID, "instances"))
    assert INSTANCE in table.text
    d.find_element(By.CSS_SELECTOR, f'a[href$="/console/instances/{INSTANCE}"]').click()
    wait(lambda d: d.find_elements(By.ID, "log-general"))
    assert d.find_elements(By.ID, "log-guest")
    d.find_element(By.ID, "log-general").find_element(By.LINK_TEXT, "View").click()
    shown = wait(lambda d: d.find_element(By.ID, "log-text")).get_property("textContent")
    lines = shown.split("\n")
    # (the log's first line may be the server's banner)
    assert len(lines) > 5 and all(SAMPLE_LINE.match(line) for line in lines[-5:]), lines[-5:]
    # the writer's latest lines, as published: a run of the growing log file
    written = (demo.dir / "general.log").read_text()
    assert "\n".join(lines[-20:]) + "\n" in written


def quickstart(demo_dir: Path, stop_how: str, *args: str, browser=None) -> tuple[RunningDemo, dict]:
    demo = RunningDemo(demo_dir, *args)
    try:
        settings, descendants = exercise(demo)
        if browser is not None:
            in_the_console(demo, settings, browser)
    except BaseException:
        demo.kill()
        raise
    stop_demo(demo, stop_how, settings, descendants)
    return demo, settings


def printed_ports(demo: RunningDemo, settings: dict) -> dict[str, int]:
    """The four ports the demo says it uses."""
    status = re.search(
        r"logsvc status 127.0.0.1:(\d+) \(agent\), logsvc status 127.0.0.1:(\d+) \(API\)",
        demo.output,
    )
    assert status, demo.output
    agent_port = re.search(r"^bind_port = (\d+)$", (demo.dir / "guestagent.conf").read_text(), re.M)
    assert agent_port
    return {
        "api": int(settings["LOGSVC_URL"].rsplit(":", 1)[1]),
        "agent": int(agent_port.group(1)),
        "agent_status": int(status.group(1)),
        "api_status": int(status.group(2)),
    }


def listened_by(demo: RunningDemo) -> set[int]:
    """The TCP ports the demo's processes listen on."""
    ports = set()
    for p in psutil.Process(demo.proc.pid).children(recursive=True):
        for c in p.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN:
                ports.add(c.laddr.port)
    return ports


def test_quickstart_ctrl_c(tmp_path, browser):
    """./start.sh on the embedded defaults: objects in the demo's directory; Ctrl-C stops it.

    Its console, in a browser, shows the demo instance and its log's lines.
    """
    quickstart(tmp_path / "demo", "ctrl-c", browser=browser)
    store = (tmp_path / "demo" / "store-env").read_text()
    assert f"export LOGSVC_FILE_ROOT={tmp_path / 'demo' / 'objects'}" in store
    objects = sorted((tmp_path / "demo" / "objects").rglob("log-*"))
    assert objects, "nothing published into the local directory"


@pytest.mark.slow
def test_quickstart_swift_sigterm():
    """./start.sh --swift after ./start.sh: a real local Swift holds the objects, from scratch."""
    workdir = Path(_swift_workdir())  # Swift needs user xattrs: /dev/shm where it has them
    try:
        # First the embedded defaults in the same directory, as a new user would.
        quickstart(workdir / "demo", "ctrl-c")
        assert (workdir / "demo" / "objects").exists()
        # Then --swift without --fresh: the agent's offsets describe the other
        # store's objects; the demo says so and starts fresh.
        demo, _ = quickstart(workdir / "demo", "sigterm", "--swift")
        store = (workdir / "demo" / "store-env").read_text()
        assert "LOGSVC_FILE_ROOT" not in store and "/auth/v1.0\n" in store
        assert not (workdir / "demo" / "objects").exists()
        assert "starting a local Swift" in demo.output
        assert "stored its logs in file; this one uses swift: starting fresh" in demo.output
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_two_demos_at_once(tmp_path):
    """A second ./start.sh (another clone) beside the first: other ports, both work.

    Both start at the same moment, so both find the default ports free, and
    one of them loses each race for a port: it must notice (its daemons, not
    the other demo's, listen on every port it prints) and choose others.
    """
    demos = [RunningDemo(tmp_path / name) for name in ("first", "second")]
    try:
        results = [exercise(demo) for demo in demos]
        pairs = zip(demos, results, strict=True)
        ports = [printed_ports(demo, settings) for demo, (settings, _) in pairs]
        for demo, used in zip(demos, ports, strict=True):
            assert set(used.values()) <= listened_by(demo), (used, demo.output)
        assert not set(ports[0].values()) & set(ports[1].values()), ports
    except BaseException:
        for demo in demos:
            demo.kill()
        raise
    for demo, (settings, descendants) in zip(demos, results, strict=True):
        stop_demo(demo, "sigterm", settings, descendants)


def test_profile_and_private_files(tmp_path):
    """./start.sh --profile KEY: a traced command can be shown from the env file alone.

    And every file of the demo that holds a secret is its user's alone: the
    configurations (the agents' shared secret), the env file and the admin's
    token, the database (each instance's secret) with its WAL.
    """
    demo = RunningDemo(tmp_path / "demo", "--profile", "demo-trace-key")
    try:
        settings, descendants = exercise(demo)
        assert settings["LOGSVC_TRACE_STORE"] == f"file://{tmp_path / 'demo' / 'traces'}"
        published = shell(
            demo.dir / "env", f"logsvc --profile demo-trace-key log-publish {INSTANCE} general 2>&1"
        )
        trace_id = re.search(r"^Trace ID: (\S+)$", published, re.M)
        assert trace_id, published
        shown = shell(demo.dir / "env", f"logsvc trace show {trace_id.group(1)}")
        assert re.search(r"wsgi \[logsvc-api@", shown), shown
        assert re.search(r"wsgi \[logsvc-guestagent@", shown), shown
        assert "logsvc --profile demo-trace-key" in demo.output

        secrets = ["api.conf", "guestagent.conf", "env", "admin_token", "shared_secret"]
        secrets += ["api.sqlite", "api.sqlite-wal", "api.sqlite-shm"]
        modes = {name: oct(stat.S_IMODE((demo.dir / name).stat().st_mode)) for name in secrets}
        assert modes == dict.fromkeys(secrets, "0o600"), modes
    except BaseException:
        demo.kill()
        raise
    stop_demo(demo, "ctrl-c", settings, descendants)


def test_quickstart_over_the_message_bus(tmp_path, broker):
    """./start.sh --bus: the same demo, the API and the agent talking over RabbitMQ."""
    demo, _ = quickstart(tmp_path / "demo", "sigterm", "--bus")
    assert "talk over RabbitMQ on 127.0.0.1:5672" in demo.output
    agent_conf = (tmp_path / "demo" / "guestagent.conf").read_text()
    assert "transport_url = rabbit://" in agent_conf and "api_url" not in agent_conf
    assert "dispatch = rpc" in (tmp_path / "demo" / "api.conf").read_text()
    agent_log = (tmp_path / "demo" / "guestagent.log").read_text()
    assert "on the message bus (topic logsvc-guestagent)" in agent_log
    assert "Traceback" not in agent_log
