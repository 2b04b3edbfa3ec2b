"""A running API, a running agent of one instance, a real Swift, and tokens."""

import time
import uuid
from pathlib import Path

from dev.devswift import DevSwift
from tests.conftest import swift_store
from tests.processes import AgentProcess, ApiProcess, swift_settings

INSTANCE = "inst-1"
TENANT = "tenant-a"
OTHER_TENANT = "tenant-b"


class Stack:
    """logsvc-api + one logsvc-guestagent (datastore `file`: logs big, small, hidden).

    `hidden` is a USER log the agent does not expose. Tokens: `admin` (role
    admin), `alice` (owner of inst-1, in TENANT), `bob` (in OTHER_TENANT).
    """

    def __init__(
        self,
        tmp_path: Path,
        swift: DevSwift,
        api_sections: dict | None = None,
        agent_sections: dict | None = None,
    ):
        self.dir = tmp_path
        self.container = f"logs-{uuid.uuid4().hex[:8]}"
        self.api = ApiProcess(tmp_path, api_sections)
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
            "storage": {"backend": "swift"},
            "swift": swift_settings(swift),
            "file_datastore": {
                "logs": ",".join(f"{n}:USER:{p}" for n, p in self.paths.items()),
            },
        }
        for section, values in (agent_sections or {}).items():
            sections.setdefault(section, {}).update(values)
        self.agent = AgentProcess(tmp_path, sections)
        self.store = swift_store(swift)
        self.admin = self.alice = self.bob = ""

    def start(self) -> "Stack":
        self.api.start()
        self.admin = self.api.token("admin-project", "admin")
        self.alice = self.api.token(TENANT, "member")
        self.bob = self.api.token(OTHER_TENANT, "member")
        self.agent.start()
        self.register(INSTANCE, TENANT, self.agent.url, name="db-one")
        return self

    def register(self, instance_id: str, tenant: str, agent_url: str, **extra) -> dict:
        body = {"tenant_id": tenant, "datastore": "file", "agent_url": agent_url, **extra}
        resp = self.api.request("PUT", f"/v1/instance/{instance_id}", self.admin, body)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()["instance"]

    def stop(self) -> None:
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
