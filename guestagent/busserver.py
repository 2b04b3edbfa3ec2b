"""The agent on the message bus: its actions served as an RPC server, its heartbeats cast.

With ``[DEFAULT] transport_url`` set, the agent connects outward to RabbitMQ
and serves the topic ``logsvc-guestagent`` as the server named by its
instance id (logsvc.bus). Each message is the API's signed HTTP request; it
is handed to the agent's own HTTP application (guestagent/endpoint.py), so
the signature checks (unsigned, wrong instance, stale, replayed: the same
nonce journal), the routes and the errors are those of the HTTP endpoint.
The answer goes back signed with the instance's secret and bound to the
request's nonce (logsvc.bus ``answer_envelope``).

A message that is not a request envelope, or larger than the endpoint
accepts, is refused with one line in the log and no answer the API would
take; nothing else is disturbed. oslo.messaging's ``threading`` executor
runs the calls: a publish holds one of its threads, list and show go on.
"""

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import oslo_messaging
from oslo_config import cfg
from werkzeug.test import EnvironBuilder, run_wsgi_app

from logsvc import bus

LOG = logging.getLogger(__name__)

#: Bytes of an answer at most (the API reads 4 MiB at most).
MAX_ANSWER = 4 * 1024 * 1024


class AgentEndpoint:
    """The RPC endpoint: ``dispatch(envelope)`` runs one signed request through `app`."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, app: Callable, instance_id: str, secret: str, max_body: int):
        self.app = app
        self.instance_id = instance_id
        self.secret = secret
        self.max_body = max_body

    def dispatch(self, ctxt: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            if set(kwargs) != {"envelope"}:
                raise bus.Malformed("the call's arguments are not one envelope")
            method, path, body, headers = bus.open_request(kwargs["envelope"], self.max_body)
        except bus.Malformed as exc:
            refusal = exc.message
        else:
            refusal = None
        if refusal is not None:  # one line, outside the handler: no traceback
            LOG.warning("refused a message over the bus: %s", refusal)
            return {"refused": bus.Malformed.code}
        status, answer = self._run(method, path, body, headers)
        if status == 401:
            LOG.warning("refused a message over the bus: %s", _error_code(answer))
        return bus.answer_envelope(self.secret, self.instance_id, headers, status, answer)

    def _run(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        split = urlsplit(path)
        environ = EnvironBuilder(
            path=split.path,
            query_string=split.query,
            method=method,
            data=body,
            headers=headers,
            environ_base={"REMOTE_ADDR": "message-bus"},
        ).get_environ()
        app_iter, status, _headers = run_wsgi_app(self.app, environ, buffered=False)
        chunks, size = [], 0
        try:
            for chunk in app_iter:
                size += len(chunk)
                if size > MAX_ANSWER:
                    raise RuntimeError("the answer is larger than the bus carries")
                chunks.append(chunk)
        finally:
            close = getattr(app_iter, "close", None)
            if close:
                close()
        return int(status.split(" ", 1)[0]), b"".join(chunks)


def _error_code(answer: bytes) -> str:
    try:
        return str(json.loads(answer)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "refused"


class BusAgent:
    """The RPC server and the heartbeat client of one agent on one transport."""

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        app: Callable,
        instance_id: str,
        max_body: int,
        transport: oslo_messaging.Transport | None = None,
    ):
        """`transport`: one shared by several agents of a process (bench/bus.py)."""
        self.conf = conf
        self.instance_id = instance_id
        self.own_transport = transport is None
        self.transport = transport or bus.rpc_transport(conf)
        self.endpoint = AgentEndpoint(app, instance_id, conf.agent.shared_secret, max_body)
        self.server = oslo_messaging.get_rpc_server(
            self.transport,
            bus.target(bus.AGENT_TOPIC, instance_id),
            [self.endpoint],
            access_policy=oslo_messaging.DefaultRPCAccessPolicy,
        )
        self.heartbeats = oslo_messaging.get_rpc_client(
            self.transport,
            bus.target(bus.API_TOPIC),
            retry=2,  # a heartbeat that cannot go now is dropped: the next one follows
        )
        self.started = threading.Event()

    def start(self) -> None:
        """Connect and consume (oslo.messaging waits for a broker that is away)."""
        self.server.start()
        self.started.set()
        LOG.info(
            "serving instance %s on the message bus (topic %s)", self.instance_id, bus.AGENT_TOPIC
        )

    def heartbeat(self, body: bytes, headers: dict[str, str]) -> None:
        """Cast one signed heartbeat to the API; raises when the broker cannot take it."""
        self.heartbeats.cast(
            {}, bus.HEARTBEAT, envelope=bus.heartbeat_envelope(self.instance_id, body, headers)
        )

    def stop(self) -> None:
        if self.started.is_set():
            self.server.stop()
            self.server.wait()
        if self.own_transport:
            self.transport.cleanup()
