"""Calls to an agent over the message bus (``[agent] dispatch = rpc``).

The signed HTTP request that api/dispatch.py builds travels as an RPC call
(logsvc.bus: topic ``logsvc-guestagent``, server = the instance id), and the
agent's signed answer comes back as an HTTP answer would, so AgentClient
reads both transports alike. The deadlines are HTTP's:

- the call asks the agent for call-monitor heartbeats (oslo.messaging's
  ``call_monitor_timeout``, twice ``[agent] connect_timeout``, sent every
  half of it while the agent works): an agent that does not take the call
  within ``connect_timeout``, or stops working on it (killed), is
  AgentUnreachable (503), as a refused connection is;
- an agent at work that has not answered within ``call_timeout`` is
  AgentTimeout (504) (with a ``call_timeout`` shorter than the monitor's
  time, every silence is a 504);
- a broker that cannot be reached is AgentUnreachable (503);
- an answer that the instance's agent did not sign for this very request
  (another guest with the broker's credentials answering first) is
  AgentError (502).
"""

import logging
import math
import threading
import time

import oslo_messaging
from oslo_config import cfg

from api.inflight import InFlight
from logsvc import bus, http
from logsvc.exceptions import AgentError, AgentTimeout, AgentUnreachable
from logsvc.signing import HEADER_NONCE

LOG = logging.getLogger(__name__)

#: Bytes of an agent's answer accepted at most (as over HTTP: api/dispatch.py MAX_ANSWER).
MAX_ANSWER = 4 * 1024 * 1024


class RpcTransport:
    """One process's RPC client to the agents (built lazily: after gunicorn's fork)."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        self._lock = threading.Lock()
        self._transport: oslo_messaging.Transport | None = None

    def _client(self, instance_id: str, call_timeout: float, connect_timeout: float):
        with self._lock:
            if self._transport is None:
                self._transport = bus.rpc_transport(self.conf)
        # oslo.messaging wants whole seconds for the monitor (its interval is half of it).
        monitor = max(2, math.ceil(2 * connect_timeout))
        return oslo_messaging.get_rpc_client(
            self._transport,
            bus.target(bus.AGENT_TOPIC, instance_id),
            timeout=call_timeout,
            call_monitor_timeout=monitor,
            retry=1,  # a broker that is away: one reconnection, then 503
        )

    def send(
        self,
        *,
        instance_id: str,
        secret: str,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        connect_timeout: float,
        call_timeout: float,
        inflight: InFlight,
        where: str,
    ) -> http.Answer:
        """The agent's answer to one signed request, or the same errors as over HTTP."""
        client = self._client(instance_id, call_timeout, connect_timeout)
        envelope = bus.request_envelope(method, path, body, headers)
        started = time.monotonic()
        try:
            with inflight.track(instance_id, method, path.split("?", 1)[0]):
                reply = client.call({}, bus.DISPATCH, envelope=envelope)
        except oslo_messaging.MessagingTimeout:
            if time.monotonic() - started < call_timeout - 0.5:
                raise AgentUnreachable(
                    f"{where} is unreachable (it did not take the call within "
                    f"{connect_timeout:g}s over the message bus, or stopped working on it)"
                ) from None
            raise AgentTimeout(
                f"{where} did not answer within {call_timeout:g}s; the action may still "
                "complete: show the log to see its state"
            ) from None
        except oslo_messaging.MessageDeliveryFailure:
            raise AgentUnreachable(
                f"{where} is unreachable: the message bus cannot be reached"
            ) from None
        except oslo_messaging.RemoteError as exc:
            LOG.warning("%s: the bus answered an error: %s", where, exc.exc_type)
            raise AgentError(f"{where} answered over the bus with an error") from None
        try:
            status, answer = bus.open_answer(
                reply,
                secret=secret,
                instance_id=instance_id,
                request_nonce=headers[HEADER_NONCE],
                max_body=MAX_ANSWER,
                max_skew=self.conf.api.heartbeat_max_clock_skew,
            )
        except bus.Malformed as exc:
            LOG.warning("%s: refused an answer over the bus: %s", where, exc.message)
            raise AgentError(f"{where} answered over the bus, unsigned or not for us") from None
        return http.Answer(status, "", {}, answer)

    def close(self) -> None:
        with self._lock:
            if self._transport is not None:
                self._transport.cleanup()
                self._transport = None
