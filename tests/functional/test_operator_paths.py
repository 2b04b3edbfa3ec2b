"""What an operator meets: the docs' configuration snippets, bad values, file modes, the units."""

import importlib.metadata
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from oslo_config import cfg

from dev.devswift import free_port
from logsvc import configcheck
from logsvc.exceptions import ConfigError
from tests.processes import ini

ROOT = Path(__file__).resolve().parents[2]
GENERATORS = {
    "logsvc-api": ROOT / "etc" / "oslo-config-generator" / "api.conf",
    "logsvc-guestagent": ROOT / "etc" / "oslo-config-generator" / "guestagent.conf",
}
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


# --- every ini snippet of the docs loads with the daemons' own options -------------------------


def daemon_conf(daemon: str) -> cfg.ConfigOpts:
    """A ConfigOpts holding every option `daemon` has: its oslo-config-generator namespaces."""
    namespaces = re.findall(r"^namespace = (\S+)$", GENERATORS[daemon].read_text(), re.M)
    entry_points = importlib.metadata.entry_points(group="oslo.config.opts")
    conf = cfg.ConfigOpts()
    for namespace in namespaces:
        (entry_point,) = [e for e in entry_points if e.name == namespace]
        for group, opts in entry_point.load()():
            conf.register_opts(opts, group)
    return conf


def snippets() -> list[tuple[str, str]]:
    """(where, text) of each ```ini block, and each `cat > X.conf <<EOF` heredoc, of the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        name = doc.relative_to(ROOT)
        for n, block in enumerate(re.findall(r"```ini\n(.*?)```", text, re.S)):
            found.append((f"{name} ini#{n}", block))
        for n, block in enumerate(
            re.findall(r"cat > \S+\.conf <<'?EOF'?\n(.*?)\nEOF\n", text, re.S)
        ):
            # The shell expands $W, $AUTH, $(cat ...) first (oslo.config would take them for
            # references to options); the walk-throughs' values are URLs, paths or secrets.
            block = re.sub(r"\$\([^)]*\)|\$\{?\w+\}?", "http://shell.example/expanded", block)
            found.append((f"{name} heredoc#{n}", block))
    return found


SNIPPETS = snippets()


def test_the_docs_have_snippets():
    # The collector must find the profiler's section and the walk-throughs' heredocs.
    assert any("operations.md" in where for where, _ in SNIPPETS)
    assert any("heredoc" in where for where, _ in SNIPPETS)


@pytest.mark.parametrize(("where", "text"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_every_ini_snippet_loads(where, text, tmp_path):
    """Each option of the snippet exists in a daemon, and every value converts there."""
    path = tmp_path / "snippet.conf"
    path.write_text(text)
    sections: dict = {}
    cfg.ConfigParser(str(path), sections).parse()
    assert sections, f"{where}: no option in the snippet"
    known_by = []
    for daemon in GENERATORS:
        conf = daemon_conf(daemon)
        conf(["--config-file", str(path)], project="logsvc-docs-check")
        unknown = [
            f"[{section}] {name}"
            for section, options in sections.items()
            for name in options
            if not _known(conf, section, name)
        ]
        if unknown:
            continue
        known_by.append(daemon)
        try:
            configcheck.check_values(conf)
        except ConfigError as exc:
            pytest.fail(f"{where}, as {daemon} reads it: {exc.message}\n{text}")
    assert known_by, f"{where}: an option no daemon has:\n{text}"


def _known(conf: cfg.ConfigOpts, section: str, name: str) -> bool:
    try:
        if section == "DEFAULT":
            conf[name]
        else:
            conf[section][name]
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return False
    except cfg.Error:
        return True  # known; check_values says what is wrong with its value
    return True


def test_a_comment_after_a_value_is_caught(tmp_path):
    """The check itself: the inline comments that the profiler snippet had."""
    path = tmp_path / "bad.conf"
    path.write_text("[profiler]\nenabled = true\ntrace_requests = true   # outgoing HTTP\n")
    conf = daemon_conf("logsvc-guestagent")
    conf(["--config-file", str(path)], project="logsvc-docs-check")
    with pytest.raises(ConfigError, match=r"\[profiler\] trace_requests = 'true # outgoing HTTP'"):
        configcheck.check_values(conf)


# --- a bad value: one line on stderr, exit status 2, for every option of each daemon ------------


def _api_conf(tmp_path: Path, extra: str) -> Path:
    base = {
        "DEFAULT": {"log_file": tmp_path / "api.log"},
        "api": {"bind_port": free_port(), "auth_strategy": "token", "workers": 1},
        "database": {"connection": f"sqlite:///{tmp_path / 'api.sqlite'}"},
        "agent": {"shared_secret": "a-secret"},
        "status": {"bind_port": free_port()},
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "api.manage",
            "--config-file",
            _write(tmp_path, base, ""),
            "db",
            "upgrade",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Path(_write(tmp_path, base, extra))


def _agent_conf(tmp_path: Path, extra: str) -> Path:
    base = {
        "DEFAULT": {"log_file": tmp_path / "agent.log"},
        "agent": {
            "instance_id": "inst-1",
            "state_dir": tmp_path / "state",
            "bind_port": free_port(),
            "shared_secret": "a-secret",
        },
        "status": {"bind_port": free_port()},
        "storage": {"backend": "file", "file_root": tmp_path / "objects"},
        "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
    }
    return Path(_write(tmp_path, base, extra))


def _write(tmp_path: Path, base: dict, extra: str) -> str:
    path = tmp_path / "daemon.conf"
    # The bad value comes last: a second section of the same name adds to the first.
    path.write_text(ini(base) + "\n" + extra + "\n")
    return str(path)


BAD_VALUES = [
    ("logsvc-api", "[api]\nworkers = two", "[api] workers = 'two'"),
    ("logsvc-api", "[api]\nthreads = 0", "[api] threads = '0'"),
    ("logsvc-api", "[database]\npool_size = many", "[database] pool_size = 'many'"),
    (
        "logsvc-api",
        "[profiler]\nenabled = true\ntrace_requests = true   # outgoing HTTP",
        "[profiler] trace_requests = 'true # outgoing HTTP'",
    ),
    ("logsvc-api", "[DEFAULT]\ndebug = maybe", "--debug: Invalid Boolean value: maybe"),
    (
        "logsvc-guestagent",
        "[DEFAULT]\nguest_log_rotation_policy = foo",
        "[DEFAULT] guest_log_rotation_policy = 'foo'",
    ),
    (
        "logsvc-guestagent",
        "[agent]\nheartbeat_interval = often",
        "[agent] heartbeat_interval = 'often'",
    ),
    ("logsvc-guestagent", "[status]\nnode_interval = soon", "[status] node_interval = 'soon'"),
    ("logsvc-guestagent", "[profiler]\nenabled = yes please", "[profiler] enabled = 'yes please'"),
    ("logsvc-guestagent", "[swift]\nkey = ${nothing}", "[swift] key = (a secret, not shown)"),
]


@pytest.mark.parametrize(("daemon", "extra", "said"), BAD_VALUES, ids=[b[1] for b in BAD_VALUES])
def test_a_bad_value_is_one_line_and_exit_2(daemon, extra, said, tmp_path):
    """The real daemon, serving: it stops before it starts, says which value, exits 2."""
    make = _api_conf if daemon == "logsvc-api" else _agent_conf
    conf = make(tmp_path, extra)
    module = "api.cmd" if daemon == "logsvc-api" else "guestagent.cmd"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", module, "--config-file", str(conf)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{daemon} served with {extra!r}")
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{daemon}: configuration error: "), lines
    assert said in lines[0], lines
    assert "nothing" not in lines[0] or "secret" not in said  # a secret's value is not printed


def test_manage_a_bad_value_is_one_line_and_exit_2(tmp_path):
    conf = tmp_path / "api.conf"
    conf.write_text(f"[database]\nconnection = sqlite:///{tmp_path / 'a.sqlite'}\npool_size = x\n")
    proc = subprocess.run(
        [sys.executable, "-m", "api.manage", "--config-file", str(conf), "db", "current"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"logsvc-manage: configuration error: [database] pool_size = 'x' in {conf}: "
        "invalid literal for int() with base 10: 'x'"
    ]


# --- the systemd units: valid, and able to read what deployment.md installs --------------------

UNITS = sorted((ROOT / "etc" / "systemd").glob("*.service"))


def _unit_settings(unit: Path) -> dict[str, str]:
    settings = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_groups_read_the_configuration(unit):
    """The unit's process may read the configuration deployment.md installs for it.

    deployment.md installs each configuration root:GROUP 0640. systemd gives
    the service Group= and SupplementaryGroups= (and the groups /etc/group
    lists the user in, but never the user's primary group when Group= names
    another): GROUP must be one of the two settings.
    """
    settings = _unit_settings(unit)
    conf = re.search(r"--config-file (\S+)", settings["ExecStart"]).group(1)
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    installs = re.findall(rf"install -m (0\d+) -o (\w+) -g (\w+) \S+ {re.escape(conf)}", deployment)
    assert installs, f"deployment.md does not say how to install {conf}"
    for mode, owner, group in installs:
        assert int(mode, 8) & 0o007 == 0, f"{conf} is world-readable ({mode}): it holds secrets"
        if settings["User"] != owner:
            groups = [settings.get("Group", ""), *settings.get("SupplementaryGroups", "").split()]
            assert group in groups, (
                f"{unit.name} runs with {groups}; {conf} is {owner}:{group} {mode}"
            )


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_passes_systemd_analyze_verify(unit, tmp_path):
    """`systemd-analyze verify`, with ExecStart pointed at this checkout's console scripts.

    The tool comes with the systemd package, not from PyPI: test.sh cannot
    install it, so a machine without it (a laptop on another OS) skips this.
    """
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is not installed (it comes with the systemd package)")
    bin_dir = Path(sys.executable).parent
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/logsvc/bin/", f"{bin_dir}/"))
    proc = subprocess.run([tool, "verify", str(copy)], capture_output=True, text=True, timeout=120)
    # verify exits 0 on unknown keys and bad values too: any line it writes is a finding.
    findings = [line for line in proc.stderr.splitlines() + proc.stdout.splitlines() if line]
    assert proc.returncode == 0 and findings == [], "\n".join(findings)


def test_systemd_analyze_verify_reports_findings(tmp_path):
    """The check above can fail: a unit with a key that does not exist is a finding."""
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is not installed (it comes with the systemd package)")
    bad = tmp_path / "bad.service"
    bad.write_text("[Service]\nExecStart=/bin/true\nRestartPreventExitStatuses=2\n")
    proc = subprocess.run([tool, "verify", str(bad)], capture_output=True, text=True, timeout=120)
    assert "RestartPreventExitStatuses" in proc.stderr


# --- files with secrets are their owner's alone --------------------------------------------------


def test_sqlite_database_and_its_wal_are_private(tmp_path):
    """logsvc-manage db upgrade under the usual umask: the file holding instance secrets is 0600.

    SQLite gives -wal and -shm the database file's mode: they are 0600 too,
    seen here while a connection of the API's kind holds them open.
    """
    from sqlalchemy import text

    from api.db import make_engine

    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    conf = tmp_path / "api.conf"
    conf.write_text(f"[database]\nconnection = {url}\n")
    before = os.umask(0o022)
    try:
        subprocess.run(
            [sys.executable, "-m", "api.manage", "--config-file", str(conf), "db", "upgrade"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM tokens WHERE id = -1"))
                names = ["api.sqlite", "api.sqlite-wal", "api.sqlite-shm"]
                modes = {n: oct(stat.S_IMODE((tmp_path / n).stat().st_mode)) for n in names}
        finally:
            engine.dispose()
    finally:
        os.umask(before)
    assert modes == dict.fromkeys(names, "0o600"), modes
