"""Follow through the API and the CLI: log-enable --follow, log-tail --follow, real processes.

The API, an agent (publish interval 0.3 s) and a real Swift; the CLI runs as
a user runs it. log-tail --follow prints the last lines, then the lines
written after it started, goes on across a rotation (a marker on stderr),
and ends cleanly on Ctrl-C.
"""

import json
import os
import signal
import subprocess
import threading

import pytest

from tests.apistack import INSTANCE, Stack
from tests.e2e.test_cli import CLI, run
from tests.helpers import realistic_lines, wait_for


@pytest.fixture
def stack(tmp_path, devswift):
    s = Stack(
        tmp_path,
        devswift,
        agent_sections={"DEFAULT": {"guest_log_publish_interval": 0.3, "guest_log_object_age": 5}},
    ).start()
    yield s
    s.stop()


@pytest.fixture
def env(stack, devswift):
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


class Output(threading.Thread):
    """Collects what a stream of the child says."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.data = stream, b""

    def run(self):
        for chunk in iter(lambda: os.read(self.stream.fileno(), 65536), b""):
            self.data += chunk


def test_follow_on_and_off_through_the_api_and_the_cli(stack, env):
    path = stack.paths["small"]
    path.write_bytes(b"one\n")
    log = json.loads(run(env, "log-enable", INSTANCE, "small", "--follow", "-f", "json").stdout)
    assert (log["follow"], log["published"], log["status"]) == (True, 4, "Published")
    listed = json.loads(run(env, "log-list", INSTANCE, "-f", "json").stdout)
    assert {r["Name"]: r["Follow"] for r in listed}["small"] is True
    with open(path, "ab") as f:
        f.write(b"two\n")
    wait_for(lambda: stack.published("small") == b"one\ntwo\n", "published by the follower")

    # The API's own flag, and the setting kept across a restart of the agent.
    stack.agent.stop()
    stack.agent.start()
    resp = stack.post(stack.alice, {"name": "small"})
    assert resp.status_code == 200 and resp.json()["log"]["follow"] is True
    resp = stack.post(stack.alice, {"name": "small", "follow": "maybe"})
    assert resp.status_code == 400 and "follow must be true or false" in resp.text
    resp = stack.post(stack.alice, {"name": "small", "follow": True, "disable": True})
    assert resp.status_code == 400
    # another tenant, and an unexposed log: as for every other action
    assert stack.post(stack.bob, {"name": "small", "follow": True}).status_code == 404
    assert stack.post(stack.alice, {"name": "hidden", "follow": True}).status_code == 404

    log = json.loads(run(env, "log-enable", INSTANCE, "small", "--no-follow", "-f", "json").stdout)
    assert (log["follow"], log["status"]) == (False, "Published")
    shown = run(env, "log-show", INSTANCE, "small", "-f", "value", "-c", "follow").stdout
    assert shown == b"False\n"


def test_log_tail_follow_across_a_rotation_until_ctrl_c(stack, env):
    """Two followers at once: one reads the object store, one the API's read route."""
    path = stack.paths["big"]
    first = realistic_lines(100)
    path.write_bytes(first)
    run(env, "log-enable", INSTANCE, "big", "--follow")
    api_env = {k: v for k, v in env.items() if not k.startswith("OS_")}  # the URL and a token
    follow = [*CLI, "log-tail", INSTANCE, "big", "--lines", "3", "--follow", "--interval", "0.2"]
    tails = {
        how: subprocess.Popen(args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for how, args, e in (("direct", [*follow, "--direct"], env), ("api", follow, api_env))
    }
    outs = {how: (Output(t.stdout), Output(t.stderr)) for how, t in tails.items()}
    for out, err in outs.values():
        out.start()
        err.start()

    def each_says(expected: bytes, what: str) -> None:
        for how, (out, _) in outs.items():
            wait_for(lambda out=out: out.data == expected, f"{what} ({how})")

    try:
        last3 = b"".join(first.splitlines(keepends=True)[-3:])
        each_says(last3, "the last three lines")
        more = realistic_lines(40, start=100)
        with open(path, "ab") as f:
            f.write(more)
        each_says(last3 + more, "the new lines")

        # The API away a while: its follower says so once, then once that it is back.
        stack.api.stop()
        api_err = outs["api"][1]
        wait_for(lambda: b"retrying" in api_err.data, "the API follower's blip told")
        during = realistic_lines(3, start=140)
        with open(path, "ab") as f:
            f.write(during)
        wait_for(lambda: outs["direct"][0].data == last3 + more + during, "the direct follower")
        stack.api.start()
        each_says(last3 + more + during, "the lines written while the API was away")
        wait_for(lambda: b"the API answers again" in api_err.data, "the API follower's return")
        assert api_err.data.count(b"retrying") == 1, api_err.data
        assert outs["direct"][1].data == b""
        more += during

        # logrotate's way: renamed away, a new file (purge: the next generation)
        os.rename(path, f"{path}.1")
        after = b"after the rotation\n"
        path.write_bytes(after)
        each_says(last3 + more + after, "the new file's lines")
        later = realistic_lines(5, start=150)
        with open(path, "ab") as f:
            f.write(later)
        each_says(last3 + more + after + later, "more lines of the new file")
        for how, (_, err) in outs.items():
            assert err.data.count(b"the log rotated") == 1, (how, err.data)
    finally:
        for tail in tails.values():
            tail.send_signal(signal.SIGINT)
        codes = {how: tail.wait(30) for how, tail in tails.items()}
    for how, (out, err) in outs.items():
        out.join(5)
        err.join(5)
        assert codes[how] == 0, (how, err.data)
        assert b"Traceback" not in err.data
        assert out.data == last3 + more + after + later
