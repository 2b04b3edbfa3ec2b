"""The `logsvc` CLI against running API and agent processes and a real Swift."""

import contextlib
import json
import logging
import os
import subprocess
import sys

import pytest

from logsvc.cli.app import main as cli_main
from tests.apistack import INSTANCE, Stack
from tests.helpers import realistic_lines
from tests.tail_reference import real_tail_of as tail_lines

CLI = [sys.executable, "-m", "logsvc.cli.app"]


@pytest.fixture
def env(stack, devswift):
    return env_of(stack, devswift)


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory, devswift):
    """One stack for the tests of errors (they publish `big`, and nothing else)."""
    s = Stack(tmp_path_factory.mktemp("cli-errors"), devswift).start()
    yield s
    s.stop()


#: Changes to `env_of` that leave the CLI nothing but the API (empty is unset).
NO_SWIFT = {"OS_AUTH_URL": "", "OS_USERNAME": "", "OS_PASSWORD": ""}


def env_of(stack, devswift) -> dict[str, str]:
    """The CLI's environment: the API's URL and alice's token, and Swift's credentials."""
    creds = devswift.credentials()
    return {
        **os.environ,
        "LOGSVC_URL": stack.api.url,
        "LOGSVC_TOKEN": stack.alice,
        "OS_AUTH_URL": creds["auth_url"],
        "OS_USERNAME": creds["user"],
        "OS_PASSWORD": creds["key"],
        "LOGSVC_CONFIG": "/nonexistent/logsvc.conf",
    }


def run(env, *args, check=True, cwd=None):
    proc = subprocess.run([*CLI, *args], env=env, capture_output=True, cwd=cwd)
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def test_list_show_and_the_spec_tables(stack, env):
    stack.paths["small"].write_bytes(b"one\ntwo\n")
    table = run(env, "log-list", INSTANCE).stdout.decode()
    header = table.splitlines()[1]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "Name",
        "Type",
        "Status",
        "Published",
        "Pending",
        "Container",
        "Prefix",
        "Follow",
    ]
    rows = json.loads(run(env, "log-list", INSTANCE, "-f", "json").stdout)
    assert {r["Name"]: r["Status"] for r in rows} == {
        "big": "Disabled",
        "guest": rows[[r["Name"] for r in rows].index("guest")]["Status"],
        "small": "Disabled",
    }
    # machine-readable output says null where the table prints the spec's None
    assert all(r["Container"] is None for r in rows if r["Published"] == 0)
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[3:-1]]
    assert all(row[5] == "None" for row in cells if row[3] == "0")
    shown = run(env, "log-show", INSTANCE, "small", "-f", "value", "-c", "status").stdout
    assert shown == b"Disabled\n"


def test_enable_publish_disable_discard(stack, env):
    stack.paths["small"].write_bytes(b"one\ntwo\n")
    log = json.loads(run(env, "log-enable", INSTANCE, "small", "-f", "json").stdout)
    assert log["status"] == "Ready"
    log = json.loads(run(env, "log-publish", INSTANCE, "small", "-f", "json").stdout)
    assert (log["status"], log["published"], log["prefix"]) == (
        "Published",
        8,
        f"{INSTANCE}/file-small/",
    )
    stack.paths["small"].write_bytes(b"one\ntwo\nthree\n")
    log = json.loads(
        run(env, "log-publish", INSTANCE, "small", "--discard", "--disable", "-f", "json").stdout
    )
    assert (log["status"], log["published"]) == ("Disabled", 14)
    assert stack.published("small") == b"one\ntwo\nthree\n"
    log = json.loads(run(env, "log-discard", INSTANCE, "small", "-f", "json").stdout)
    assert (log["published"], log["container"], log["prefix"]) == (0, None, None)


@pytest.fixture
def in_process(monkeypatch, env):
    """Run the CLI in this process; cliff's logging handlers are removed afterwards."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield cli_main
    root.handlers[:] = handlers
    root.setLevel(level)


def test_tail_equals_tail_n_for_every_n(stack, env, capfdbinary, in_process):
    source = realistic_lines(3000) + "é ünïcode \xff\n".encode("latin-1") + b"last, no newline"
    stack.paths["big"].write_bytes(source)
    run(env, "log-publish", INSTANCE, "big")
    published = source[: source.rfind(b"\n") + 1]
    for n in range(1, 101):  # in process: the same CLI, without 100 interpreter starts
        assert in_process(["log-tail", INSTANCE, "big", "--lines", str(n)]) == 0
        assert capfdbinary.readouterr().out == tail_lines(published, n), f"--lines {n}"
    for n in (0, -1, -2500, -2999):
        assert in_process(["log-tail", INSTANCE, "big", "--lines", str(n)]) == 0
        assert capfdbinary.readouterr().out == tail_lines(published, n), f"--lines {n}"
    # and as a separate process, with --publish picking up what came since
    with open(stack.paths["big"], "ab") as f:
        f.write(b"\n")
    out = run(env, "log-tail", INSTANCE, "big", "--lines", "2", "--publish").stdout
    assert out == tail_lines(source + b"\n", 2)


def test_save_writes_the_exact_bytes(stack, env, tmp_path):
    source = realistic_lines(20000)
    stack.paths["big"].write_bytes(source)
    work = tmp_path / "work"
    work.mkdir()
    proc = run(env, "log-save", INSTANCE, "big", "--publish", cwd=work)
    assert proc.stdout.decode().strip() == str(work / "big.log")  # the spec's default name
    assert (work / "big.log").read_bytes() == source
    assert proc.stderr == b""  # no progress line when stderr is not a terminal
    run(env, "log-save", INSTANCE, "big", "--file", str(tmp_path / "other.log"))
    assert (tmp_path / "other.log").read_bytes() == source

    import pty

    leader, follower = pty.openpty()  # stderr on a terminal: a progress line
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        proc = subprocess.run(
            [*CLI, "log-save", INSTANCE, "big", "--file", str(tmp_path / "shown.log")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the terminal's other end is gone
            while chunk := terminal.read(4096):
                shown += chunk
    assert proc.returncode == 0 and (tmp_path / "shown.log").read_bytes() == source
    assert f"100.0% {len(source) / 1e6:10.1f} of {len(source) / 1e6:.1f} MB".encode() in shown


@pytest.mark.parametrize(
    ("args", "changes", "message"),
    [
        (("log-list", "no-such-instance"), {}, "no-such-instance"),
        (("log-show", INSTANCE, "nope"), {}, "no log named 'nope'"),
        (("log-show", INSTANCE, "hidden"), {}, "no log named 'hidden'"),
        (("log-enable", INSTANCE, "guest"), {}, "SYS log"),
        (("log-list", INSTANCE), {"LOGSVC_TOKEN": "not-a-token"}, "the token is not valid"),
        (("log-tail", INSTANCE, "big"), {"OS_PASSWORD": "wrong"}, "refused our credentials"),
        (("log-save", INSTANCE, "big", "--file", "/nonexistent/dir/big.log"), {}, "big.log"),
        (("log-list", INSTANCE), {"LOGSVC_URL": "http://127.0.0.1:9"}, "cannot reach the API"),
        (("log-list", INSTANCE), {"LOGSVC_URL": ""}, "the API's URL is needed"),
        (("log-tail", INSTANCE, "small"), {}, "nothing published yet"),
        (("log-list",), {}, "instance"),
        (("log-list", f"{INSTANCE}/log?x="), {}, "/log?x=' is not an instance id"),
        (("log-tail", INSTANCE, "x/../../../../instance"), NO_SWIFT, "is not a log name"),
        (("log-list", ".."), {}, "'..' is not an instance id"),
        (("log-list", INSTANCE), {"LOGSVC_URL": "127.0.0.1:9"}, "$LOGSVC_URL is '127.0.0.1:9'"),
    ],
)
def test_every_error_is_one_clear_line(shared_stack, devswift, args, changes, message):
    stack, env = shared_stack, env_of(shared_stack, devswift)
    if args[0] in ("log-tail", "log-save") and args[2] == "big":
        stack.paths["big"].write_bytes(b"published\n")
        run(env, "log-publish", INSTANCE, "big")
    proc = run({**env, **changes}, *args, check=False)
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 or args == ("log-list",), err
    assert message in err


def test_errors_of_a_busy_log_and_of_an_agent_out_of_reach(stack, env):
    import threading

    stack.paths["big"].write_bytes(realistic_lines(30000))  # ~3 MB in 16 KiB objects
    first = threading.Thread(target=run, args=(env, "log-publish", INSTANCE, "big"))
    first.start()
    while not list(stack.store.list_objects(stack.container, f"{INSTANCE}/file-big/")):
        pass
    # Another action on the log while it publishes is refused; a publish joins it.
    busy = run(env, "log-discard", INSTANCE, "big", check=False)
    joined = run(env, "log-publish", INSTANCE, "big", "-f", "json", check=False)
    first.join()
    assert busy.returncode != 0 and b"busy" in busy.stderr
    assert len(busy.stderr.strip().splitlines()) == 1
    assert joined.returncode == 0, joined.stderr
    assert json.loads(joined.stdout)["pending"] == 0
    stack.agent.stop()
    down = run(env, "log-publish", INSTANCE, "big", check=False)
    assert down.returncode != 0 and b"unreachable" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    # what is published stays readable: the last known state says where
    tail = run(env, "log-tail", INSTANCE, "big", "--lines", "1")
    assert tail.stdout == stack.paths["big"].read_bytes().splitlines(keepends=True)[-1]
    assert b"last known state" in tail.stderr


def test_debug_shows_each_call_but_no_secret(stack, env):
    stack.paths["small"].write_bytes(b"x\n")
    run(env, "log-publish", INSTANCE, "small")
    err = run(env, "--debug", "log-tail", INSTANCE, "small").stderr.decode()
    assert f"POST /v1/instance/{INSTANCE}/log -> 200" in err
    assert f"GET {stack.container}/{INSTANCE}/file-small/log-" in err
    assert env["LOGSVC_TOKEN"] not in err and env["OS_PASSWORD"] not in err


def test_another_tenants_instance_looks_like_no_instance(stack, env):
    theirs = run({**env, "LOGSVC_TOKEN": stack.bob}, "log-list", INSTANCE, check=False)
    nothing = run({**env, "LOGSVC_TOKEN": stack.bob}, "log-list", "inst-404", check=False)
    assert theirs.returncode == nothing.returncode != 0
    assert theirs.stderr.replace(INSTANCE.encode(), b"X") == nothing.stderr.replace(
        b"inst-404", b"X"
    )


def test_tail_without_storage_settings_reads_through_the_api(stack, env):
    stack.paths["small"].write_bytes(b"x\n")
    run(env, "log-publish", INSTANCE, "small")
    bare = {k: v for k, v in env.items() if not k.startswith("OS_")}
    assert run(bare, "log-tail", INSTANCE, "small").stdout == b"x\n"
    # --direct asks for the object store itself, and says what is missing
    proc = run(bare, "log-tail", INSTANCE, "small", "--direct", check=False)
    assert proc.returncode != 0
    assert "no object store" in proc.stderr.decode()


def test_a_store_with_none_of_the_log_or_nothing_published_is_an_error(
    shared_stack, devswift, tmp_path
):
    stack, env = shared_stack, env_of(shared_stack, devswift)
    stack.paths["big"].write_bytes(b"published\n")
    run(env, "log-publish", INSTANCE, "big")
    through_api = {k: v for k, v in env.items() if not k.startswith("OS_")}
    other = devswift.credentials("test2")  # another account: the log is not there
    saved = tmp_path / "saved.log"
    cases = [  # (environment, log, what the error says)
        ({**through_api, "LOGSVC_FILE_ROOT": "/nonexistent"}, "big", "--file-root"),
        ({**through_api, "LOGSVC_FILE_ROOT": str(tmp_path)}, "big", "--file-root"),
        ({**env, "OS_USERNAME": other["user"], "OS_PASSWORD": other["key"]}, "big", "--os-*"),
        (env, "small", "log 'small' has nothing published yet"),
        (through_api, "small", "log 'small' has nothing published yet"),
    ]
    for environ, log, says in cases:
        for args in (("log-tail", INSTANCE, log), ("log-save", INSTANCE, log, "--file", saved)):
            proc = run(environ, *map(str, args), check=False)
            err = proc.stderr.decode()
            assert proc.returncode == 1 and len(err.strip().splitlines()) == 1, err
            assert says in err and proc.stdout == b"", err
            assert not saved.exists()


def test_admin_instance_commands(stack, env):
    admin = {**env, "LOGSVC_TOKEN": stack.admin}
    listed = json.loads(run(admin, "instance-list", "-f", "json").stdout)
    assert [i["id"] for i in listed] == [INSTANCE]
    run(
        admin,
        "instance-register",
        "inst-2",
        "--tenant-id",
        "tenant-b",
        "--datastore",
        "file",
        "--agent-url",
        "http://127.0.0.1:9",
        "--name",
        "two",
    )
    shown = json.loads(run(admin, "instance-show", "inst-2", "-f", "json").stdout)
    assert (shown["tenant_id"], shown["name"]) == ("tenant-b", "two")
    run(admin, "instance-delete", "inst-2")
    assert run(admin, "instance-show", "inst-2", check=False).returncode != 0
    refused = run(
        env,
        "instance-register",
        "inst-3",
        "--tenant-id",
        "t",
        "--datastore",
        "file",
        "--agent-url",
        "http://x:1",
        check=False,
    )  # alice is no admin
    assert refused.returncode != 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_save_never_replaces_a_device_or_a_fifo(stack, env, tmp_path):
    import stat

    stack.paths["big"].write_bytes(b"published\n")
    nulldev, fifo = tmp_path / "nulldev", tmp_path / "fifo"
    os.mknod(nulldev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkfifo(fifo)
    to_device = tmp_path / "to-device"
    to_device.symlink_to(nulldev)
    for target, kind in (
        (nulldev, "a character device"),
        (fifo, "a FIFO"),
        (to_device, "a symbolic link to a character device"),
        (tmp_path, "a directory"),
    ):
        # refused before any work: --publish has not published
        args = ("log-save", INSTANCE, "big", "--publish", "--file", str(target))
        proc = run(env, *args, check=False)
        assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
        assert f"not saved: {target} is {kind}" in proc.stderr.decode()
        instead = (
            f"--file {target / 'big.log'} saves it in that directory"
            if target == tmp_path
            else f"log-tail --lines 0 > {target} sends a log anywhere"
        )
        assert instead in proc.stderr.decode()
    log = json.loads(run(env, "log-show", INSTANCE, "big", "-f", "json").stdout)
    assert log["published"] == 0
    assert stat.S_ISCHR(os.lstat(nulldev).st_mode) and os.lstat(nulldev).st_rdev == os.makedev(1, 3)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and to_device.is_symlink()
    # a link to a regular file: that file is replaced, the link stays
    real = tmp_path / "real.log"
    real.write_bytes(b"")
    link = tmp_path / "link.log"
    link.symlink_to(real)
    run(env, "log-save", INSTANCE, "big", "--publish", "--file", str(link))
    assert link.is_symlink() and real.read_bytes() == b"published\n"


def test_profile_says_when_the_daemons_traced_nothing(stack, env, tmp_path):
    # the stack's daemons run with the profiler off
    store = f"file://{tmp_path / 'traces'}"
    proc = run(env, "--profile", "some-key", "--trace-store", store, "log-list", INSTANCE)
    err = proc.stderr.decode()
    assert "warning: nothing was traced" in err and "hmac_keys" in err
    assert "Show it with" not in err and "(it holds no trace at all)" in err
    trace_id = err.split("no point of trace ")[1].split()[0]
    shown = run(env, "--trace-store", store, "trace", "show", trace_id, check=False)
    assert shown.returncode != 0
    assert f"no trace {trace_id} in file store (it holds no trace at all)" in shown.stderr.decode()
    assert "[profiler] enabled = true" in shown.stderr.decode()
    # without a trace store the id is printed, and that nothing was checked
    err = run(env, "--profile", "some-key", "log-list", INSTANCE).stderr.decode()
    assert "Trace ID: " in err and "not checked" in err
