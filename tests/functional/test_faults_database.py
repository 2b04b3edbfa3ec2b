"""The API's database goes away during service and comes back, on PostgreSQL.

The API runs on a PostgreSQL database of the test's own (127.0.0.1:5432),
reached through a TCP relay of the test (tests/faultproxy.py). Two faults:
the server goes away (the relay closes every connection and refuses new
ones), and the database refuses connections (``ALLOW_CONNECTIONS false``,
its sessions terminated). While it lasts, every route that needs the
database answers a clear 503 JSON error (never a 500, never a traceback)
and those that do not still answer; once it is back, everything works
again without anyone restarting anything, and nothing was lost.
"""

import calendar
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.apistack import INSTANCE, TENANT, Stack
from tests.ci_skips import server_absent
from tests.faultproxy import TcpProxy
from tests.helpers import wait_for

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
ISO = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def pg_database():
    """The name of an empty PostgreSQL database, dropped afterwards; an admin engine."""
    name = f"logsvc_fault_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SERVER + "postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        admin.dispose()
        server_absent("PostgreSQL", f"127.0.0.1:5432 does not answer ({type(exc).__name__})")
    try:
        yield name, admin
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def refuse_connections(admin, name: str, refuse: bool) -> None:
    with admin.connect() as connection:
        connection.execute(
            text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'false' if refuse else 'true'}")
        )
        if refuse:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )


def calls(stack: Stack) -> dict[str, requests.Response]:
    """One request of each route that needs the database, as their users send them."""
    api = stack.api
    log_url = f"/v1/instance/{INSTANCE}/log"
    trove = f"/v1.0/{TENANT}/instances"
    registration = {"tenant_id": TENANT, "datastore": "file", "agent_url": stack.agent.url}
    return {
        "instance list": api.request("GET", "/v1/instance", stack.alice),
        "instance show": api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice),
        "instance register": api.request("PUT", "/v1/instance/inst-new", stack.admin, registration),
        "log list": api.request("GET", log_url, stack.alice),
        "log show": api.request("POST", log_url, stack.alice, {"name": "small"}),
        "log publish": api.request(
            "POST", log_url, stack.alice, {"name": "small", "publish": True}
        ),
        "trove instances": api.request("GET", trove, stack.alice),
        "trove log list": api.request("GET", f"{trove}/{INSTANCE}/log", stack.alice),
        "trove log publish": api.request(
            "POST", f"{trove}/{INSTANCE}/log", stack.alice, {"name": "small", "publish": 1}
        ),
        "bad token": api.request("GET", "/v1/instance", "lsv_not-a-token"),
    }


FAULTS = ["the server goes away", "the database refuses connections"]


def test_the_database_goes_away_and_comes_back(tmp_path, devswift, pg_database):
    run_outages(tmp_path, devswift, pg_database)


def run_outages(tmp_path, devswift, pg_database) -> None:
    """Each fault in turn on one API: a 503 naming the database, nothing else."""
    name, admin = pg_database
    relay = TcpProxy(5432).up()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{relay.port}/{name}"
    stack = Stack(tmp_path, devswift, api_sections={"database": {"connection": url}}).start()
    data = b"one\n"
    wrong = []  # every route's answer is checked: all that is wrong, said at the end
    try:
        stack.paths["small"].write_bytes(data)
        assert stack.post(stack.alice, {"name": "small", "publish": True}).status_code == 200
        stack.wait_for_heartbeat()
        for round_, fault in enumerate(FAULTS):
            grown = data + b"line %d\n" % round_
            stack.paths["small"].write_bytes(grown)
            if fault == "the server goes away":
                relay.down()
            else:
                refuse_connections(admin, name, True)
            for what, resp in calls(stack).items():
                assert "Traceback" not in resp.text and resp.status_code >= 500, (what, resp.text)
                body = resp.json()
                key = "serviceUnavailable" if what.startswith("trove") else "error"
                message = body.get(key, {}).get("message", "")
                if resp.status_code != 503 or "database" not in message:
                    wrong.append(f"{fault}, {what}: {resp.status_code} {resp.text.strip()}")
                assert name not in resp.text  # nothing of the database URL
            # What needs no database still answers.
            assert stack.api.request("GET", "/").status_code == 200
            assert stack.api.request("GET", "/v1/openapi.json").status_code == 200
            assert stack.published("small") == data  # the publish asked for was not run
            outage_ended = time.time()

            if fault == "the server goes away":
                relay.up()
            else:
                refuse_connections(admin, name, False)
            wait_for(
                lambda: stack.logs(stack.alice).status_code == 200,
                "the API serving again",
                timeout=30,
            )
            for what, resp in calls(stack).items():
                expected = (401,) if what == "bad token" else (200, 201)
                assert resp.status_code in expected, (what, resp.status_code, resp.text)
            data = grown
            assert stack.published("small") == data
            instance = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.admin).json()
            assert instance["instance"]["task_state"] == "ACTIVE"  # no claim left behind

            def beat_after_the_outage(since=outage_ended):
                shown = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.admin).json()
                stamp = shown["instance"]["last_heartbeat"]
                return stamp and calendar.timegm(time.strptime(stamp, ISO)) >= int(since)

            wait_for(beat_after_the_outage, "a heartbeat received after the outage")
    finally:
        if not relay.listening:
            relay.up()
        refuse_connections(admin, name, False)
        stack.stop()
        relay.down()
    assert not wrong, "answers during the outage, where a 503 was due:\n" + "\n".join(wrong)
