"""logsvc-api as a real process, driving a real agent that publishes into a real Swift."""

import time

import pytest

from tests.apistack import INSTANCE, OTHER_TENANT, TENANT, Stack
from tests.helpers import realistic_lines

LOG_KEYS = {
    "name",
    "type",
    "status",
    "published",
    "pending",
    "container",
    "prefix",
    "metafile",
    "publish",
    "follow",
}


def test_an_owner_lists_shows_enables_publishes_and_discards(db_stack):
    stack = db_stack
    stack.paths["small"].write_bytes(b"one\ntwo\n")
    resp = stack.logs(stack.alice)
    assert resp.status_code == 200, resp.text
    logs = {entry["name"]: entry for entry in resp.json()["logs"]}
    assert set(logs) == {"big", "small", "guest"}  # hidden is not exposed
    assert all(set(entry) == LOG_KEYS for entry in logs.values())
    assert logs["small"]["status"] == "Disabled"

    shown = stack.post(stack.alice, {"name": "small"}).json()["log"]
    assert shown["name"] == "small" and shown["pending"] == 8

    enabled = stack.post(stack.alice, {"name": "small", "enable": True}).json()["log"]
    assert enabled["status"] in ("Ready", "Enabled")

    published = stack.post(stack.alice, {"name": "small", "publish": "true"})
    assert published.status_code == 200, published.text
    log = published.json()["log"]
    assert (log["status"], log["published"], log["pending"]) == ("Published", 8, 0)
    assert log["container"] == stack.container and log["prefix"] == f"{INSTANCE}/file-small/"
    assert stack.published("small") == b"one\ntwo\n"

    discarded = stack.post(stack.alice, {"name": "small", "discard": 1}).json()["log"]
    assert (discarded["published"], discarded["prefix"]) == (0, None)
    assert stack.published("small") == b""

    disabled = stack.post(stack.alice, {"name": "small", "disable": True}).json()["log"]
    assert disabled["status"] == "Disabled"


def test_publish_with_discard_and_disable(both_stack):
    stack = both_stack
    stack.paths["small"].write_bytes(b"a\n")
    stack.post(stack.alice, {"name": "small", "publish": True})
    stack.paths["small"].write_bytes(b"a\nb\n")
    resp = stack.post(stack.alice, {"name": "small", "publish": 1, "discard": 1, "disable": 1})
    log = resp.json()["log"]
    assert (log["status"], log["published"]) == ("Disabled", 4)
    assert stack.published("small") == b"a\nb\n"


def test_another_tenant_learns_nothing(both_stack):
    stack = both_stack
    stack.paths["small"].write_bytes(b"secret\n")
    nonexistent = stack.logs(stack.bob, "inst-nope")
    assert nonexistent.status_code == 404
    for token_body in (
        stack.logs(stack.bob),
        stack.post(stack.bob, {"name": "small"}),
        stack.post(stack.bob, {"name": "small", "publish": True}),
        stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.bob),
        stack.api.request("DELETE", f"/v1/instance/{INSTANCE}", stack.bob),
    ):
        assert token_body.status_code == 404
        body = token_body.json()
        assert body["error"]["message"].replace(INSTANCE, "X") == nonexistent.json()["error"][
            "message"
        ].replace("inst-nope", "X")
        assert "secret" not in token_body.text and TENANT not in token_body.text
    listed = stack.api.request("GET", "/v1/instance", stack.bob).json()
    assert listed == {"instances": []}
    assert stack.published("small") == b""  # bob's publish did nothing

    trove = stack.api.request("GET", f"/v1.0/{OTHER_TENANT}/instances/{INSTANCE}/log", stack.bob)
    trove_missing = stack.api.request(
        "GET", f"/v1.0/{OTHER_TENANT}/instances/inst-nope/log", stack.bob
    )
    assert trove.status_code == trove_missing.status_code == 404
    assert set(trove.json()) == set(trove_missing.json()) == {"itemNotFound"}
    own_url = stack.api.request("GET", f"/v1.0/{TENANT}/instances/{INSTANCE}/log", stack.bob)
    assert own_url.status_code == 404 and set(own_url.json()) == {"itemNotFound"}


def test_only_admins_see_unexposed_logs(both_stack):
    stack = both_stack
    stack.paths["hidden"].write_bytes(b"h\n")
    admin_logs = {e["name"] for e in stack.logs(stack.admin).json()["logs"]}
    assert "hidden" in admin_logs
    user_logs = {e["name"] for e in stack.logs(stack.alice).json()["logs"]}
    assert "hidden" not in user_logs
    assert stack.post(stack.alice, {"name": "hidden"}).status_code == 404
    assert stack.post(stack.alice, {"name": "hidden", "publish": True}).status_code == 404
    resp = stack.post(stack.admin, {"name": "hidden", "publish": True})
    assert resp.status_code == 200 and resp.json()["log"]["published"] == 2
    # Learnt from heartbeats as well: the stored state never shows it to a user.
    stack.wait_for_heartbeat()
    user_logs = {e["name"] for e in stack.logs(stack.alice).json()["logs"]}
    assert "hidden" not in user_logs


def test_only_admins_register_and_delete_instances(stack):
    body = {"tenant_id": TENANT, "datastore": "file", "agent_url": stack.agent.url}
    for instance_id in (INSTANCE, "inst-new"):
        resp = stack.api.request("PUT", f"/v1/instance/{instance_id}", stack.alice, body)
        assert resp.status_code == 403
    resp = stack.api.request("PUT", "/v1/instance/inst-new", stack.admin, body)
    assert resp.status_code == 201
    assert resp.json()["instance"]["tenant_id"] == TENANT
    assert stack.api.request("PUT", "/v1/instance/inst-new", stack.admin, body).status_code == 200
    mine = stack.api.request("GET", "/v1/instance", stack.alice).json()["instances"]
    assert {i["id"] for i in mine} == {INSTANCE, "inst-new"}
    assert "agent_url" not in mine[0]  # the agent's address is for admins
    assert stack.api.request("DELETE", "/v1/instance/inst-new", stack.alice).status_code == 403
    assert stack.api.request("DELETE", "/v1/instance/inst-new", stack.admin).status_code == 204
    assert stack.api.request("GET", "/v1/instance/inst-new", stack.admin).status_code == 404


def test_heartbeats_record_the_agent_and_its_logs(db_stack):
    stack = db_stack
    stack.paths["small"].write_bytes(b"x\n")
    instance = stack.wait_for_heartbeat()
    assert instance["agent_version"] and instance["last_seen"]
    assert instance["task_state"] == "ACTIVE"


def settled(logs: list[dict]) -> list[dict]:
    return [log for log in logs if log["name"] != "guest"]


@pytest.mark.parametrize("transport", ["http", "rpc"])
def test_unreachable_agent_list_answers_last_known_state_and_actions_503(make_stack, transport):
    # log_list_max_age = 0: every list asks the agent, so the stored state is
    # answered only because the agent cannot be reached.
    stack = make_stack(transport, api_sections={"api": {"log_list_max_age": 0}}).start()
    try:
        stack.paths["small"].write_bytes(b"x\n")
        before = stack.logs(stack.alice).json()
        assert "stale" not in before
        admin_before = stack.logs(stack.admin).json()["logs"]
        stack.agent.stop()
        resp = stack.logs(stack.alice)
        assert resp.status_code == 200
        body = resp.json()
        assert body["stale"] is True and body["last_seen"]
        assert "unreachable" in body["reason"]
        # the same logs, each of the same shape (the agent's own log grows with
        # every heartbeat, which refreshes the last known state: left aside)
        assert settled(body["logs"]) == settled(before["logs"])
        assert all(set(entry) == LOG_KEYS for entry in body["logs"])
        admin = stack.logs(stack.admin).json()
        assert admin["stale"] is True and settled(admin["logs"]) == settled(admin_before)
        action = stack.post(stack.alice, {"name": "small", "publish": True})
        assert action.status_code == 503
        assert "unreachable" in action.json()["error"]["message"]
        # a show answers the last known state too: log-tail finds the objects
        shown = stack.post(stack.alice, {"name": "small"})
        assert shown.status_code == 200 and shown.json()["stale"] is True
        assert shown.json()["log"] == next(e for e in before["logs"] if e["name"] == "small")
        assert stack.post(stack.alice, {"name": "nope"}).status_code == 503
        trove = stack.api.request(
            "POST",
            f"/v1.0/{TENANT}/instances/{INSTANCE}/log",
            stack.alice,
            {"name": "small", "publish": True},
        )
        assert trove.status_code == 503 and "serviceUnavailable" in trove.json()
    finally:
        stack.stop()


def test_an_agent_that_does_not_answer_in_time_is_a_504(tmp_path, devswift):
    import socket

    silent = socket.socket()  # accepts connections (the backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    stack = Stack(tmp_path, devswift, api_sections={"agent": {"call_timeout": 1}}).start()
    try:
        stack.register("inst-silent", TENANT, f"http://127.0.0.1:{silent.getsockname()[1]}")
        resp = stack.post(stack.alice, {"name": "small", "publish": True}, "inst-silent")
        assert resp.status_code == 504
        assert "did not answer" in resp.json()["error"]["message"]
        # Nothing known yet of its logs: a list cannot answer from the last state either.
        assert stack.logs(stack.alice, "inst-silent").status_code == 504
    finally:
        stack.stop()
        silent.close()


BAD_BODIES = [
    ({"name": "small", "publish": "yes"}, 400, "publish must be true or false"),
    ({"name": "small", "publish": 2}, 400, "publish must be"),
    ({"name": "small", "publish": None}, 400, "publish must be"),
    ({"name": "small", "publish": 0.5}, 400, "publish must be"),
    ({"name": "small", "frobnicate": True}, 400, "unknown field"),
    ({"name": "Bad..Name"}, 400, "not a log name"),
    ({"name": 7}, 400, "name must be a string"),
    ({}, 400, "name"),
    ([1, 2], 400, "JSON object"),
    ({"name": "small", "enable": True, "disable": True}, 400, "together"),
    ({"name": "guest", "enable": True}, 400, "SYS"),
    ({"name": "nope"}, 404, "no log"),
]


def test_bad_requests_get_clear_errors(both_stack):
    stack = both_stack
    for body, status, words in BAD_BODIES:
        resp = stack.post(stack.alice, body)
        assert resp.status_code == status, (body, resp.text)
        assert words in resp.json()["error"]["message"], (body, resp.text)
        assert "Traceback" not in resp.text
        trove = stack.api.request(
            "POST", f"/v1.0/{TENANT}/instances/{INSTANCE}/log", stack.alice, body
        )
        assert trove.status_code == status
        ((_key, error),) = trove.json().items()
        assert error["code"] == status and words in error["message"]


def test_malformed_bodies_ids_and_content_types(stack):
    url = f"/v1/instance/{INSTANCE}/log"
    cases = [
        ({"data": b'{"name": ', "headers": {"Content-Type": "application/json"}}, 400),
        ({"data": b"\xff\xfe\x00garbage", "headers": {"Content-Type": "application/json"}}, 400),
        ({"data": b'{"name": "small"}', "headers": {"Content-Type": "text/plain"}}, 415),
        ({"data": b"name=small"}, 415),
        ({"data": b"", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": {"name": "small", "pad": "x" * 100_000}}, 413),
    ]
    for kwargs, status in cases:
        resp = stack.api.request("POST", url, stack.alice, **kwargs)
        assert resp.status_code == status, (kwargs, resp.text)
        assert resp.json()["error"]["message"]
    for bad in ("..", "a" * 200, "in%20st", "-x"):
        resp = stack.api.request("GET", f"/v1/instance/{bad}/log", stack.alice)
        assert resp.status_code in (400, 404), bad
        assert resp.json()["error"]
    assert stack.api.request("PATCH", url, stack.alice).status_code == 405
    assert stack.api.request("GET", "/v1/nothing", stack.alice).status_code == 404
    assert stack.api.request("GET", url).status_code == 401
    assert stack.api.request("GET", url, "lsv_not-a-token").status_code == 401


def test_a_publish_joins_the_running_one_and_other_actions_are_refused(db_stack):
    stack = db_stack
    import threading

    stack.paths["big"].write_bytes(realistic_lines(30000))  # ~3 MB in 16 KiB objects
    first = {}
    runner = threading.Thread(
        target=lambda: first.update(resp=stack.post(stack.alice, {"name": "big", "publish": True}))
    )
    runner.start()
    deadline = time.monotonic() + 60
    while not list(stack.store.list_objects(stack.container, f"{INSTANCE}/file-big/")):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    refused = stack.post(stack.alice, {"name": "big", "discard": True})
    during = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
    listed = stack.api.request("GET", "/v1/instance", stack.alice).json()["instances"]
    trove = stack.api.request("GET", f"/v1.0/{TENANT}/instances", stack.alice).json()
    second = stack.post(stack.alice, {"name": "big", "publish": True})  # ends with the first
    runner.join()
    assert [i["task_state"] for i in listed] == ["LOGGING"]
    assert [i["status"] for i in trove["instances"]] == ["LOGGING"]
    assert first["resp"].status_code == 200
    assert refused.status_code == 409, refused.text
    assert "busy" in refused.json()["error"]["message"]
    # the second publish joined the first: the same publish, its result
    assert second.status_code == 200, second.text
    joined = second.json()["log"]["publish"]
    assert joined == first["resp"].json()["log"]["publish"] and joined["state"] == "published"
    assert during["instance"]["task_state"] == "LOGGING"
    after = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
    assert after["instance"]["task_state"] == "ACTIVE"
    assert stack.published("big") == stack.paths["big"].read_bytes()
