"""python-troveclient and `openstack database log ...`, unmodified, against logsvc-api.

python-troveclient 8.x offers the spec's log_enable, log_disable, log_publish
and log_discard as one call, ``log_action(instance, log, enable=, disable=,
publish=, discard=)``, which sends the flags as 0/1 integers.

Both use a static token and endpoint (keystoneauth's admin_token plugin), as
an operator without Keystone would; the API runs with its `token` strategy.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from troveclient import exceptions as trove_exc
from troveclient.v1 import client as trove_client

from tests.apistack import INSTANCE, TENANT, Stack
from tests.helpers import realistic_lines


def troveclient_for(stack, token: str, tenant: str = TENANT) -> trove_client.Client:
    auth = token_endpoint.Token(f"{stack.api.url}/v1.0/{tenant}", token)
    return trove_client.Client(session=ks_session.Session(auth=auth))


def test_python_troveclient_log_api(stack):
    stack.paths["small"].write_bytes(b"first\nsecond\n")
    trove = troveclient_for(stack, stack.alice)
    instance = trove.instances.get(INSTANCE)
    assert instance.id == INSTANCE and instance.status == "ACTIVE"
    assert [i.id for i in trove.instances.list()] == [INSTANCE]

    logs = {log.name: log for log in trove.instances.log_list(instance)}
    assert set(logs) == {"big", "small", "guest"}
    assert logs["small"].status == "Disabled" and logs["small"].pending == 13

    assert trove.instances.log_show(INSTANCE, "small").pending == 13
    assert trove.instances.log_action(INSTANCE, "small", enable=True).status in ("Ready", "Enabled")
    published = trove.instances.log_action(INSTANCE, "small", publish=True)
    assert (published.status, published.published) == ("Published", 13)
    assert stack.published("small") == b"first\nsecond\n"

    stack.paths["small"].write_bytes(b"first\nsecond\nthird\n")
    again = trove.instances.log_action(INSTANCE, "small", publish=True, disable=True, discard=True)
    assert (again.status, again.published) == ("Disabled", 19)
    assert stack.published("small") == b"first\nsecond\nthird\n"

    discarded = trove.instances.log_action(INSTANCE, "small", discard=True)
    assert (discarded.published, discarded.container) == (0, None)
    assert trove.instances.log_action(INSTANCE, "small", disable=True).status == "Disabled"


def test_python_troveclient_errors(stack):
    trove = troveclient_for(stack, stack.alice)
    with pytest.raises(trove_exc.NotFound):
        trove.instances.log_show(INSTANCE, "nope")
    with pytest.raises(trove_exc.BadRequest, match="SYS"):
        trove.instances.log_action(INSTANCE, "guest", enable=True)
    with pytest.raises(trove_exc.NotFound):
        troveclient_for(stack, stack.bob, "tenant-b").instances.log_list(INSTANCE)
    with pytest.raises(trove_exc.Unauthorized):
        troveclient_for(stack, "lsv_wrong").instances.log_list(INSTANCE)


def openstack(stack, token: str, *args: str, tenant: str = TENANT):
    """`openstack` (python-openstackclient with troveclient's plugin), JSON output."""
    cli = Path(sys.executable).with_name("openstack")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    return subprocess.run(
        [
            str(cli),
            "--os-auth-type",
            "admin_token",
            "--os-endpoint",
            f"{stack.api.url}/v1.0/{tenant}",
            "--os-token",
            token,
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_openstack_database_log_commands(stack):
    stack.paths["small"].write_bytes(b"one\ntwo\n")
    listed = openstack(stack, stack.alice, "database", "log", "list", INSTANCE, "-f", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["Name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"big", "small", "guest"}
    assert rows["small"]["Pending"] == 8

    shown = openstack(
        stack, stack.alice, "database", "log", "show", INSTANCE, "small", "-f", "json"
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["pending"] == 8

    published = openstack(
        stack, stack.alice, "database", "log", "set", INSTANCE, "small", "--publish", "-f", "json"
    )
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["status"] == "Published"
    assert stack.published("small") == b"one\ntwo\n"

    # By name, as operators type it: the client finds the instance by listing.
    by_name = openstack(stack, stack.alice, "database", "log", "list", "db-one", "-f", "json")
    assert by_name.returncode == 0, by_name.stderr

    refused = openstack(stack, stack.alice, "database", "log", "set", INSTANCE, "guest", "--enable")
    assert refused.returncode != 0 and "SYS" in refused.stderr
    other = openstack(stack, stack.bob, "database", "log", "list", INSTANCE, tenant="tenant-b")
    assert other.returncode != 0 and "Traceback" not in other.stderr


@pytest.fixture
def quick_stack(tmp_path, devswift):
    """The API answers every publish at once ([api] publish_wait = 0): 202 while it runs."""
    s = Stack(tmp_path, devswift, api_sections={"api": {"publish_wait": 0}}).start()
    yield s
    s.stop()


def test_both_clients_take_a_publish_that_runs_on(quick_stack):
    stack = quick_stack
    stack.paths["big"].write_bytes(realistic_lines(20000))  # ~2 MB in 16 KiB objects
    trove = troveclient_for(stack, stack.alice)
    started = trove.instances.log_action(INSTANCE, "big", publish=True)
    assert started.name == "big" and started.publish["state"] in ("running", "published")
    # openstack database log set --publish: joins a running publish (or starts one)
    joined = openstack(
        stack, stack.alice, "database", "log", "set", INSTANCE, "big", "--publish", "-f", "json"
    )
    assert joined.returncode == 0, joined.stderr
    assert json.loads(joined.stdout)["name"] == "big"
    deadline = time.monotonic() + 120
    while (shown := trove.instances.log_show(INSTANCE, "big")).publish["state"] == "running":
        assert time.monotonic() < deadline, "the publish never ended"
        time.sleep(0.2)
    assert shown.publish["state"] == "published" and shown.pending == 0
    assert stack.published("big") == stack.paths["big"].read_bytes()
