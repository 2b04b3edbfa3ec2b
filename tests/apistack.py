"""A running API, a running agent of one instance, a real Swift, and tokens."""

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from dev.devswift import DevSwift
from logsvc.storage.file import FileStore
from tests.conftest import swift_store
from tests.processes import AgentProcess, ApiProcess, log_count, swift_settings

if TYPE_CHECKING:
    from tests.broker import Broker

INSTANCE = "inst-1"
TENANT = "tenant-a"
OTHER_TENANT = "tenant-b"


class Stack:
    """logsvc-api + one logsvc-guestagent (datastore `file`: logs big, small, hidden).

    Both use the same object store: the Swift given, or with
    ``backend="file"`` a directory (``<tmp_path>/objects``).

    `hidden` is a USER log the agent does not expose. Tokens: `admin` (role
    admin), `alice` (owner of inst-1, in TENANT), `bob` (in OTHER_TENANT).
    """

    def __init__(
        self,
        tmp_path: Path,
        swift: DevSwift,
        api_sections: dict | None = None,
        agent_sections: dict | None = None,
        backend: str = "swift",
        transport: str = "http",
        broker: "Broker | None" = None,
    ):
        """`transport` "rpc": the API calls the agent, and the agent sends its
        heartbeats, over `broker`'s RabbitMQ; the agent listens on no port."""
        self.dir = tmp_path
        self.transport = transport
        self.container = f"logs-{uuid.uuid4().hex[:8]}"
        # A publish request waits for the end (up to 120 s), as before publishes
        # outlasted their requests, so that a test's answer does not depend on
        # how busy the machine is; tests of the 202 path set a short wait.
        # The API reads the store the agent writes into (its read route).
        if backend == "file":
            storage = {"storage": {"backend": "file", "file_root": tmp_path / "objects"}}
        else:
            storage = {"storage": {"backend": "swift"}, "swift": swift_settings(swift)}
        api = {"api": {"publish_wait": 120}, **{k: dict(v) for k, v in storage.items()}}
        if transport == "rpc":
            assert broker is not None, "rpc needs the broker fixture"
            api["DEFAULT"] = dict(broker.settings())
            api["agent"] = {"dispatch": "rpc"}
        for section, values in (api_sections or {}).items():
            api.setdefault(section, {}).update(values)
        self.api = ApiProcess(tmp_path, api)
        self.paths = {name: tmp_path / f"{name}.log" for name in ("big", "small", "hidden")}
        for path in self.paths.values():
            path.write_bytes(b"")
        sections = {
            "DEFAULT": {
                "guest_log_container_name": self.container,
                "guest_log_limit": 16384,
                "guest_log_exposed_logs": "big,small,guest",
            },
            "agent": {"instance_id": INSTANCE, "api_url": self.api.url, "heartbeat_interval": 1},
            **{k: dict(v) for k, v in storage.items()},
            "file_datastore": {
                "logs": ",".join(f"{n}:USER:{p}" for n, p in self.paths.items()),
            },
        }
        if transport == "rpc":
            sections["DEFAULT"].update(broker.settings())
            del sections["agent"]["api_url"]  # heartbeats go over the bus
        for section, values in (agent_sections or {}).items():
            sections.setdefault(section, {}).update(values)
        self.agent = AgentProcess(tmp_path, sections)
        self.store = FileStore(tmp_path / "objects") if backend == "file" else swift_store(swift)
        self.admin = self.alice = self.bob = ""

    def start(self) -> "Stack":
        # Both daemons start at once (most of a stack's set-up is their imports);
        # the agent's first heartbeats may then find no API yet, and it retries.
        self.api.start(wait=False)
        seen = log_count(self.agent.log, self.agent.BUS_READY)
        self.agent.start(wait=False)
        self.admin = self.api.token("admin-project", "admin")
        self.alice = self.api.token(TENANT, "member")
        self.bob = self.api.token(OTHER_TENANT, "member")
        self.api.wait_ready()
        self.agent.wait_ready(seen)
        self.register(INSTANCE, TENANT, self.agent.url, name="db-one")
        return self

    def register(self, instance_id: str, tenant: str, agent_url: str, **extra) -> dict:
        body = {"tenant_id": tenant, "datastore": "file", "agent_url": agent_url, **extra}
        resp = self.api.request("PUT", f"/v1/instance/{instance_id}", self.admin, body)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()["instance"]

    def stop(self) -> None:
        self.agent.terminate()  # both stop at once
        self.api.terminate()
        self.agent.stop()
        self.api.stop()
        problems = self.api.openapi_problems()
        assert not problems, "responses that do not match the OpenAPI document:\n" + "\n".join(
            problems
        )

    # --- shortcuts ------------------------------------------------------------------

    def logs(self, token: str, instance_id: str = INSTANCE):
        return self.api.request("GET", f"/v1/instance/{instance_id}/log", token)

    def post(self, token: str, body, instance_id: str = INSTANCE):
        return self.api.request("POST", f"/v1/instance/{instance_id}/log", token, body)

    def data(self, token: str, log: str, instance_id: str = INSTANCE, **kwargs):
        """``GET .../log/<log>/data``: the read route."""
        return self.api.request(
            "GET", f"/v1/instance/{instance_id}/log/{log}/data", token, **kwargs
        )

    def published(self, log: str) -> bytes:
        prefix = f"{INSTANCE}/file-{log}/"
        objects = self.store.list_objects(self.container, prefix)
        return b"".join(self.store.get_object(self.container, o.name)[1] for o in objects)

    def wait_for_heartbeat(self, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            resp = self.api.request("GET", f"/v1/instance/{INSTANCE}", self.admin)
            instance = resp.json()["instance"]
            if instance["last_heartbeat"]:
                return instance
            time.sleep(0.2)
        raise AssertionError("no heartbeat reached the API")
