"""The API and its agents over the real RabbitMQ ([agent] dispatch = rpc).

The suite's dispatch tests run on both transports (tests/functional/
test_api_service.py, fixture `both_stack`); here is what only the bus has:
the agent listening on no port, a process holding the broker's credentials
but no instance's secret, faults of the broker and of the agent, and the
broker URL checked at start.
"""

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import oslo_messaging
import pytest
from oslo_config import cfg

from logsvc import bus
from logsvc.conf import messaging
from tests.apistack import INSTANCE, TENANT
from tests.faultproxy import TcpProxy
from tests.functional import test_api_service
from tests.helpers import realistic_lines, wait_for
from tests.processes import AgentProcess, ApiProcess, log_count, wait_for_log


def rogue(broker, mode: str, instance: str = INSTANCE) -> dict:
    """tests/rogue.py: another process with the broker's credentials, not the secret."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.rogue", broker.url(), broker.exchange, mode, instance],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def log_lines(path, text: str) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if text in line]


def test_the_agent_serves_over_the_bus_only(bus_stack):
    stack = bus_stack
    with socket.socket() as probe:  # no port of its own for actions
        assert probe.connect_ex(("127.0.0.1", stack.agent.port)) != 0
    test_api_service.test_an_owner_lists_shows_enables_publishes_and_discards(stack)
    instance = stack.wait_for_heartbeat()  # heartbeats came over the bus: no api_url
    assert instance["agent_version"] and instance["task_state"] == "ACTIVE"
    # A clean stop warns of nothing (py-amqp's notice of a method that the broker
    # sent to a closing channel is not a fault: logsvc/bus.py logs it at DEBUG).
    stack.stop()
    for log in (stack.agent.log, stack.api.log):
        assert not log_lines(log, " WARNING amqp "), log.read_text()[-3000:]


def test_a_publish_over_the_bus_is_joined_and_other_actions_are_refused(bus_stack):
    test_api_service.test_a_publish_joins_the_running_one_and_other_actions_are_refused(bus_stack)


def test_an_agent_that_took_the_call_but_does_not_answer_is_a_504(make_stack, broker):
    # connect_timeout 2 (the stacks'): an agent that does not take a call within it
    # is unreachable; one that took it has call_timeout to answer.
    stack = make_stack("rpc", api_sections={"agent": {"call_timeout": 6}}).start()
    release = threading.Event()

    class Silent:  # a real RPC server that takes calls and never answers them in time
        target = oslo_messaging.Target(version="1.0")

        def dispatch(self, ctxt, envelope):
            release.wait(30)
            return {}

    conf = cfg.ConfigOpts()
    messaging.register_opts(conf)
    conf([])
    for key, value in broker.settings().items():
        conf.set_override(key, value)
    transport = bus.rpc_transport(conf)
    server = oslo_messaging.get_rpc_server(
        transport, bus.target(bus.AGENT_TOPIC, "inst-silent"), [Silent()]
    )
    server.start()
    try:
        stack.register("inst-silent", TENANT, "http://127.0.0.1:9")
        resp = stack.post(stack.alice, {"name": "small", "publish": True}, "inst-silent")
        assert resp.status_code == 504, resp.text
        assert "did not answer within 6s" in resp.json()["error"]["message"]
        # Nothing known of its logs yet: a list cannot answer from the last state either.
        assert stack.logs(stack.alice, "inst-silent").status_code == 504
        # Nobody serves this one at all: unreachable, within the connect timeout.
        stack.register("inst-nobody", TENANT, "http://127.0.0.1:9")
        started = time.monotonic()
        resp = stack.post(stack.alice, {"name": "small"}, "inst-nobody")
        assert resp.status_code == 503 and "unreachable" in resp.json()["error"]["message"]
        assert time.monotonic() - started < 6
    finally:
        release.set()
        server.stop()
        server.wait()
        transport.cleanup()
        stack.stop()


def test_a_process_with_the_broker_credentials_but_not_the_secret_commands_nothing(
    bus_stack, broker
):
    stack = bus_stack
    stack.paths["small"].write_bytes(b"mine\n")
    stack.wait_for_heartbeat()
    agent_log, api_log = stack.agent.log, stack.api.log

    # It cannot command the agent: refused as an unsigned HTTP request is.
    (answer,) = rogue(broker, "command")["answers"]
    assert answer["status"] == 401
    assert json.loads(bus._unb64(answer["body"], 2**20))["error"]["code"] == "bad_signature"
    assert stack.published("small") == b""
    assert len(log_lines(agent_log, "refused a message over the bus: bad_signature")) == 1

    # A genuine request's replay is refused too (the nonce journal): sent twice
    # by the rogue, both are refused for their signature before anything else.
    answers = rogue(broker, "replay")["answers"]
    assert [a["status"] for a in answers] == [401, 401]

    # It cannot forge a heartbeat, for a registered instance or an unknown one,
    # and both are refused alike (nothing tells which instances exist).
    before = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.admin).json()
    refused = "refused a heartbeat over the bus: bad_signature"
    seen = len(log_lines(api_log, refused))
    rogue(broker, "heartbeat")
    rogue(broker, "heartbeat", "inst-never-registered")
    wait_for(lambda: len(log_lines(api_log, refused)) == seen + 2, "two refusals, alike")
    after = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.admin).json()
    assert after["instance"]["agent_version"] == before["instance"]["agent_version"] != "6.6.6"

    # It cannot answer in the agent's name: with the agent away and the rogue
    # serving its queue, the API refuses every forged answer (502).
    stack.agent.stop()
    forger = subprocess.Popen(
        [sys.executable, "-m", "tests.rogue", broker.url(), broker.exchange, "answer", INSTANCE],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(forger.stdout.readline()) == {"serving": True}
        for _ in range(2):  # unsigned, then signed with the wrong secret
            resp = stack.post(stack.alice, {"name": "small"})
            assert resp.status_code == 502, resp.text
            assert "unsigned or not for us" in resp.json()["error"]["message"]
        listed = stack.logs(stack.admin).json()
        assert all(entry["published"] != 10**9 for entry in listed["logs"])
    finally:
        forger.kill()
        forger.wait()


def test_malformed_and_oversized_messages_are_refused_once_each(bus_stack, broker):
    stack = bus_stack
    stack.wait_for_heartbeat()
    answers = rogue(broker, "garbage")["answers"]
    assert answers == [{"refused": "malformed_message"}] * 3
    assert len(log_lines(stack.agent.log, "refused a message over the bus")) == 3
    refused = "refused a heartbeat over the bus: malformed_message"
    wait_for(lambda: len(log_lines(stack.api.log, refused)) >= 2, "the API's two refusals")
    assert len(log_lines(stack.api.log, refused)) == 2  # once each
    for log in (stack.agent.log, stack.api.log):
        assert "Traceback" not in log.read_text()
    # Nothing else disturbed: the agent answers, heartbeats go on being recorded.
    assert stack.logs(stack.alice).status_code == 200
    first = stack.wait_for_heartbeat()["last_heartbeat"]
    wait_for(
        lambda: (
            stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.admin).json()["instance"][
                "last_heartbeat"
            ]
            != first
        ),
        "a later heartbeat",
    )


def _published_whole(stack, log: str) -> bool:
    resp = stack.post(stack.alice, {"name": log})
    return resp.status_code == 200 and resp.json()["log"]["pending"] == 0


def test_the_agent_killed_and_restarted_with_messages_queued(bus_stack, broker):
    stack = bus_stack
    stack.paths["small"].write_bytes(realistic_lines(200))
    stack.agent.kill()
    queued = stack.post(stack.alice, {"name": "small", "publish": True})
    assert queued.status_code == 503, queued.text  # nobody took the call in time
    assert broker.queues().get(f"{bus.AGENT_TOPIC}.{INSTANCE}", 0) >= 1  # it waits there
    stack.agent.start()
    # The queued publish is done once (its reply goes nowhere), or refused as
    # stale: either way a publish now ends with each byte published once.
    resp = stack.post(stack.alice, {"name": "small", "publish": True})
    assert resp.status_code == 200, resp.text
    assert stack.published("small") == stack.paths["small"].read_bytes()
    wait_for(
        lambda: broker.queues().get(f"{bus.AGENT_TOPIC}.{INSTANCE}", 1) == 0,
        "the agent's queue drained",
    )


def test_the_broker_absent_at_start_then_cut_during_a_publish(make_stack, broker):
    proxy = TcpProxy(5672)  # not up yet: the agent's broker is absent
    stack = make_stack(
        "rpc",
        agent_sections={"DEFAULT": {"transport_url": broker.url(proxy.port)}},
    )
    stack.api.start()
    stack.admin = stack.api.token("admin-project", "admin")
    stack.alice = stack.api.token(TENANT, "member")
    stack.agent.start(wait=False)
    try:
        wait_for_log(stack.agent.log, "the message broker does not answer", stack.agent.proc)
        (line,) = log_lines(stack.agent.log, "the message broker does not answer")
        assert "[DEFAULT] transport_url" in line and "guest:guest" not in line
        assert "Traceback" not in stack.agent.log.read_text()
        seen = log_count(stack.agent.log, stack.agent.BUS_READY)
        proxy.up()  # the broker comes: the agent connects by itself
        stack.agent.wait_ready(seen)
        stack.register(INSTANCE, TENANT, stack.agent.url, name="db-one")
        stack.wait_for_heartbeat()

        # The connection cut while a publish runs, the broker back at once.
        stack.paths["big"].write_bytes(realistic_lines(30000))  # ~3 MB in 16 KiB objects
        first = {}
        runner = threading.Thread(
            target=lambda: first.update(
                resp=stack.post(stack.alice, {"name": "big", "publish": True})
            )
        )
        runner.start()
        wait_for(
            lambda: list(stack.store.list_objects(stack.container, f"{INSTANCE}/file-big/")),
            "the publish under way",
        )
        proxy.down()
        proxy.up()
        runner.join()
        # The call may have been answered, or lost with the connection (503/504):
        assert first["resp"].status_code in (200, 503, 504), first["resp"].text
        # either way the API's view converges, each byte published exactly once.
        wait_for(lambda: _published_whole(stack, "big"), "the publish ended", timeout=120)
        again = stack.post(stack.alice, {"name": "big", "publish": True})
        assert again.status_code == 200, again.text
        assert stack.published("big") == stack.paths["big"].read_bytes()
    finally:
        stack.stop()
        proxy.down()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("rabbit://guest:guest@/", "names no broker host"),
        ("rabbit://guest:wrong@127.0.0.1:5672/", "refused the user 'guest'"),
        ("rabbit://guest:guest@127.0.0.1:5672/no-such-vhost", "no virtual host 'no-such-vhost'"),
        ("kafka://127.0.0.1:9092/", "RabbitMQ"),
    ],
)
def test_a_broker_url_that_cannot_work_is_one_line_at_start(tmp_path, broker, url, words):
    api = ApiProcess(tmp_path, {"DEFAULT": {"transport_url": url}, "agent": {"dispatch": "rpc"}})
    api.upgrade()
    agent_conf = tmp_path / "agent.conf"
    agent_conf.write_text(
        "[DEFAULT]\n"
        f"transport_url = {url}\n"
        f"log_file = {tmp_path / 'agent.log'}\n"
        "[agent]\ninstance_id = inst-1\nshared_secret = s\n"
        f"state_dir = {tmp_path / 'state'}\n"
        f"[storage]\nbackend = file\nfile_root = {tmp_path / 'objects'}\n"
        "[status]\nenabled = false\n"
    )
    for argv in (
        [sys.executable, "-m", "api.cmd", "--config-file", str(api.conf)],
        [sys.executable, "-m", "guestagent.cmd", "--config-file", str(agent_conf)],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (argv, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert "[DEFAULT] transport_url" in lines[0] and words in lines[0], lines[0]
        assert "wrong" not in lines[0]  # no password


@contextlib.contextmanager
def broker_user(broker, prefix: str, permissions: tuple[str, str, str]):
    """A RabbitMQ user of the test's virtual host with `permissions`; its URL."""
    user, password = f"{prefix}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    ctl = ["rabbitmqctl", "-q"]
    subprocess.run([*ctl, "add_user", user, password], check=True, capture_output=True)
    try:
        subprocess.run(
            [*ctl, "set_permissions", "-p", broker.vhost, user, *permissions],
            check=True,
            capture_output=True,
        )
        yield broker.url(user=user, password=password), password
    finally:
        subprocess.run([*ctl, "delete_user", user], capture_output=True)


def _documented_agent_permissions(exchange: str) -> tuple[str, str, str]:
    """The agents' permissions as docs/deployment.md gives them, for `exchange`.

    Read from the document, so that what it advises is what this test runs;
    its exchange ``openstack`` (oslo.messaging's default) is the test's own.
    """
    text = (Path(__file__).parents[2] / "docs" / "deployment.md").read_text()
    found = re.search(
        r"rabbitmqctl set_permissions -p logsvc logsvc-agent\s+'([^']+)'\s+'([^']+)'\s+'([^']+)'",
        text,
    )
    assert found, "docs/deployment.md no longer gives the agents' permissions"
    return tuple(p.replace("openstack", re.escape(exchange)) for p in found.groups())


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl (a user)")
def test_the_agents_documented_broker_permissions_suffice_and_fence_the_api_queue(
    make_stack, broker
):
    """An agent on a user with the documented permissions only: it serves and heartbeats,
    and that user cannot consume the API's queue (it would take the others' heartbeats)."""
    import kombu

    permissions = _documented_agent_permissions(broker.exchange)
    with broker_user(broker, "logsvc-agent", permissions) as (url, _password):
        stack = make_stack("rpc", agent_sections={"DEFAULT": {"transport_url": url}}).start()
        try:
            stack.wait_for_heartbeat()
            stack.paths["small"].write_bytes(realistic_lines(50))
            resp = stack.post(stack.alice, {"name": "small", "publish": True})
            assert resp.status_code == 200, resp.text
            assert stack.published("small") == stack.paths["small"].read_bytes()
        finally:
            stack.stop()
        with kombu.Connection(url.replace("rabbit://", "amqp://", 1)) as conn:
            channel = conn.channel()
            with pytest.raises(Exception, match=r"ACCESS_REFUSED|access to queue"):
                channel.basic_consume(bus.API_TOPIC, callback=lambda *args: None)


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl (a user)")
def test_an_agent_whose_broker_user_may_not_declare_stops_and_says_why(tmp_path, broker):
    """oslo.messaging gives up on a refused declaration: the agent must not run on deaf."""
    mine = "^logsvc-guestagent.*$"  # its own queues, but not the exchange they are bound to
    with broker_user(broker, "logsvc-deaf", (mine, mine, mine)) as (url, password):
        settings = broker.settings() | {"transport_url": url}
        agent = AgentProcess(tmp_path, {"DEFAULT": settings}).start(wait=False)
        try:
            assert agent.proc.wait(timeout=120) == 1
        finally:
            agent.stop()
    said_refused_once(agent.log, tmp_path / "agent.stderr", password)


def said_refused_once(log: Path, stderr: Path, password: str) -> None:
    """The daemon's one line on the refusal, in its log and on stderr, without the password."""
    (line,) = log_lines(log, "the broker refused what serving on the message bus needs")
    assert "[DEFAULT] transport_url" in line and "ACCESS_REFUSED" in line, line
    assert password not in log.read_text()
    said = stderr.read_text()
    assert "the broker refused what serving" in said and password not in said


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl (a user)")
def test_an_api_whose_broker_user_may_not_consume_heartbeats_stops_and_says_why(tmp_path, broker):
    """The API's heartbeat consumer refused its queue: the API stops, status 1, rather
    than run on while every instance goes stale."""
    theirs = "^logsvc-guestagent.*$"  # the agents' queues, not the API's
    with broker_user(broker, "logsvc-deaf-api", (theirs, theirs, theirs)) as (url, password):
        sections = {"DEFAULT": broker.settings() | {"transport_url": url}}
        api = ApiProcess(tmp_path, sections | {"agent": {"dispatch": "rpc"}}).start(wait=False)
        try:
            assert api.proc.wait(timeout=120) == 1
        finally:
            api.stop()
    said_refused_once(api.log, tmp_path / "api.stderr", password)
    assert log_lines(api.log, "logsvc-api stops too")
