"""The message bus between the API and the agents: oslo.messaging over RabbitMQ.

Every agent holds the same broker credentials, so a broker account proves
nothing: what travels is the signed HTTP exchange of ``logsvc.signing``,
carried in an envelope.

- A **request** (the API to an agent: an RPC call on topic ``logsvc-guestagent``,
  server = the instance id) is the HTTP request the API would send, with its
  signature headers: ``{"method", "path", "body", "headers"}`` (the body in
  base64). The agent hands it to its own HTTP application, so that a message
  is verified (unsigned, wrong instance, stale, replayed) and answered exactly
  as a request on its port.
- An **answer** is ``{"status", "body", "headers"}``, signed by the agent with
  the instance's secret over the status, the body and the request's nonce: a
  guest holding the broker credentials that answers first in another's name
  (a queue of its own bound to that routing key) is refused (502).
- A **heartbeat** (an agent to the API: a cast on topic ``logsvc-api``) is
  the signed ``POST /v1/instance/<id>/heartbeat`` the agent sends over HTTP:
  ``{"instance_id", "body", "headers"}``; the API checks and records it as it
  does that request.

Envelopes larger than their limit, and envelopes that are not what this
module writes, are refused before anything else reads them
(:class:`Malformed`).
"""

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oslo_config import cfg

from logsvc.exceptions import ConfigError, LogsvcError
from logsvc.signing import HEADER_NONCE, Verifier, sign

if TYPE_CHECKING:
    import oslo_messaging

#: The agents' topic: the server of each is its instance id.
AGENT_TOPIC = "logsvc-guestagent"
#: The API's topic: heartbeats, consumed by every API host's bus process in turn.
API_TOPIC = "logsvc-api"
#: The one method of each endpoint.
DISPATCH = "dispatch"
HEARTBEAT = "heartbeat"
#: The only headers a request envelope carries (the signature, a trace, the type).
_HEADERS = {
    "x-logsvc-timestamp",
    "x-logsvc-nonce",
    "x-logsvc-signature",
    "content-type",
    "x-trace-info",
    "x-trace-hmac",
}
_ANSWER_METHOD = "ANSWER"


class Malformed(LogsvcError):
    """An envelope that is not what this module writes, or larger than allowed."""

    code = "malformed_message"


def rpc_transport(conf: cfg.ConfigOpts) -> "oslo_messaging.Transport":
    """The RPC transport of ``[DEFAULT] transport_url`` (connects on first use)."""
    import oslo_messaging
    from oslo_messaging._metrics import client as metrics
    from oslo_messaging._tracing import client as tracing

    # oslo.messaging registers its tracing and metrics options on the global
    # configuration only, and reads them from the transport's at each message.
    conf.register_opts(tracing.oslo_messaging_tracing, group="oslo_messaging_tracing")
    conf.register_opts(metrics.oslo_messaging_metrics, group="oslo_messaging_metrics")
    _quiet_closing_channels()
    return oslo_messaging.get_rpc_transport(conf)


class _ClosingChannelNotice(logging.Filter):
    """py-amqp's "Received method ... during closing channel ..." at DEBUG.

    When a process stops, oslo.messaging closes its consumers' channels and
    RabbitMQ may answer a closing channel with a method of its own (a
    consumer cancelled, a delivery in flight: the broker requeues it). py-amqp
    ignores that method, by design, and says so as a WARNING: every agent and
    every API process logged one at each clean stop. It is not a fault, so it
    is logged at DEBUG, or not at all where DEBUG is off.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from amqp.abstract_channel import IGNORED_METHOD_DURING_CHANNEL_CLOSE

        if record.msg != IGNORED_METHOD_DURING_CHANNEL_CLOSE or record.levelno <= logging.DEBUG:
            return True
        if not logging.getLogger("amqp").isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


def _quiet_closing_channels() -> None:
    amqp = logging.getLogger("amqp")
    if not any(isinstance(f, _ClosingChannelNotice) for f in amqp.filters):
        amqp.addFilter(_ClosingChannelNotice())


def target(topic: str, server: str | None = None) -> "oslo_messaging.Target":
    import oslo_messaging

    return oslo_messaging.Target(topic=topic, server=server)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, limit: int) -> bytes:
    if not isinstance(text, str) or len(text) > (limit + 2) // 3 * 4:
        raise Malformed("the body is not base64 text within the size limit")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeError):
        raise Malformed("the body is not base64") from None


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > len(_HEADERS):
        raise Malformed("the headers are not a small object")
    headers = {}
    for key, item in value.items():
        if not (isinstance(key, str) and isinstance(item, str)) or len(item) > 1024:
            raise Malformed("a header is not a short string")
        if key.lower() in _HEADERS:
            headers[key] = item
    return headers


def _object(envelope: Any, fields: set[str]) -> dict[str, Any]:
    if not isinstance(envelope, dict) or set(envelope) != fields:
        raise Malformed(f"the envelope is not an object of {', '.join(sorted(fields))}")
    return envelope


# --- requests: the API to an agent -------------------------------------------------


def request_envelope(
    method: str, path: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    """A signed HTTP request (`path` with its query), as a message."""
    return {
        "method": method,
        "path": path,
        "body": _b64(body),
        "headers": {k: v for k, v in headers.items() if k.lower() in _HEADERS},
    }


def open_request(envelope: Any, max_body: int) -> tuple[str, str, bytes, dict[str, str]]:
    """(method, path with query, body, headers) of a request envelope; else Malformed."""
    fields = _object(envelope, {"method", "path", "body", "headers"})
    method, path = fields["method"], fields["path"]
    if method not in ("GET", "POST") or not isinstance(path, str):
        raise Malformed("the method or the path is not one an agent serves")
    if not path.startswith("/") or len(path) > 2048:
        raise Malformed("the path is not an absolute path of at most 2048 characters")
    return method, path, _unb64(fields["body"], max_body), _headers(fields["headers"])


# --- answers: an agent to the API ----------------------------------------------------


def _answer_path(status: int, request_nonce: str) -> str:
    return f"/{status}/{request_nonce}"


def answer_envelope(
    secret: str, instance_id: str, request_headers: Mapping[str, str], status: int, body: bytes
) -> dict[str, Any]:
    """The agent's answer, signed with its secret and bound to the request's nonce."""
    nonce = {k.lower(): v for k, v in request_headers.items()}.get(HEADER_NONCE.lower(), "")
    headers = sign(secret, _ANSWER_METHOD, _answer_path(status, nonce), body, instance=instance_id)
    return {"status": status, "body": _b64(body), "headers": headers}


def open_answer(
    envelope: Any,
    *,
    secret: str,
    instance_id: str,
    request_nonce: str,
    max_body: int,
    max_skew: float,
) -> tuple[int, bytes]:
    """(status, body) of an answer that the instance's agent signed for this request.

    Malformed for anything else: another shape, too large, unsigned, signed
    with another secret, for another instance or another request.
    """
    fields = _object(envelope, {"status", "body", "headers"})
    status = fields["status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise Malformed("the answer's status is not an HTTP status")
    body = _unb64(fields["body"], max_body)
    verifier = Verifier([secret], max_skew)
    try:
        verifier.verify(
            _ANSWER_METHOD,
            _answer_path(status, request_nonce),
            body,
            _headers(fields["headers"]),
            instance=instance_id,
        )
    except LogsvcError as exc:
        raise Malformed(f"the answer is not signed by the instance's agent ({exc.code})") from None
    return status, body


# --- heartbeats: an agent to the API -----------------------------------------------


def heartbeat_envelope(instance_id: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "body": _b64(body),
        "headers": {k: v for k, v in headers.items() if k.lower() in _HEADERS},
    }


def open_heartbeat(envelope: Any, max_body: int) -> tuple[str, bytes, dict[str, str]]:
    """(instance id, body, headers) of a heartbeat envelope; else Malformed."""
    fields = _object(envelope, {"instance_id", "body", "headers"})
    instance_id = fields["instance_id"]
    if not isinstance(instance_id, str) or not 0 < len(instance_id) <= 128:
        raise Malformed("the instance id is not a short string")
    return instance_id, _unb64(fields["body"], max_body), _headers(fields["headers"])


def heartbeat_path(instance_id: str) -> str:
    """The path a heartbeat is signed for, as over HTTP."""
    return f"/v1/instance/{instance_id}/heartbeat"


def envelope_size(envelope: Any) -> int:
    """Bytes of an envelope as JSON (what the broker carried, near enough)."""
    try:
        return len(json.dumps(envelope))
    except (TypeError, ValueError):
        return 0


# --- the broker, checked at start --------------------------------------------------

OPTION = "[DEFAULT] transport_url"


def refused_serving(exc: BaseException) -> str:
    """Why a daemon cannot serve: the broker refused a declaration or a consumer.

    oslo.messaging retries a broker that is away for ever, but gives up on one
    that refuses this user what serving needs (its permissions in the virtual
    host): a daemon that went on would run deaf. One line, the option named.
    """
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"{OPTION}: the broker refused what serving on the message bus needs "
        f"(the user's permissions in its virtual host?): {reason}"
    )


def check_broker(conf: cfg.ConfigOpts, connect_timeout: float = 5.0) -> str | None:
    """Whether ``[DEFAULT] transport_url`` can work: checked once, at a daemon's start.

    A URL without a host, a scheme other than rabbit, credentials the broker
    refuses or a virtual host it does not have raise ConfigError (one line
    naming the option; the password never shown). A broker that does not
    answer now is no configuration error: the sentence returned says so, and
    the daemon connects when it comes. None when the broker answered.
    """
    import kombu
    import oslo_messaging
    from amqp import exceptions as amqp_exceptions

    url = conf.transport_url
    try:
        parsed = oslo_messaging.TransportURL.parse(conf, url)
    except oslo_messaging.InvalidTransportURL as exc:
        raise ConfigError(f"{OPTION} is not a broker URL ({exc})") from None
    if parsed.transport not in ("rabbit", "amqp"):
        raise ConfigError(
            f"{OPTION}: logsvc speaks to RabbitMQ (rabbit://), not {parsed.transport}:"
        )
    if not parsed.hosts or any(not host.hostname for host in parsed.hosts):
        raise ConfigError(f"{OPTION} names no broker host (rabbit://USER:PASSWORD@HOST:5672/VHOST)")
    vhost = parsed.virtual_host or "/"
    unanswered = []
    for host in parsed.hosts:
        where = f"{host.hostname}:{host.port or 5672}"
        connection = kombu.Connection(
            hostname=host.hostname,
            port=host.port or 5672,
            userid=host.username or "guest",
            password=host.password or "guest",
            virtual_host=vhost,
            ssl=conf.oslo_messaging_rabbit.ssl or None,
            connect_timeout=connect_timeout,
        )
        try:
            connection.ensure_connection(max_retries=1, timeout=connect_timeout)
            return None
        except amqp_exceptions.AccessRefused:
            raise ConfigError(
                f"{OPTION}: the broker at {where} refused the user {host.username or 'guest'!r} "
                "and its password"
            ) from None
        except amqp_exceptions.NotAllowed:
            raise ConfigError(
                f"{OPTION}: the broker at {where} has no virtual host {vhost!r} that the user "
                f"{host.username or 'guest'!r} may use"
            ) from None
        except Exception as exc:  # refused, unresolvable, silent: the broker is not there yet
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            unanswered.append(f"{where} ({reason})")
        finally:
            connection.release()
    return f"the message broker does not answer: {', '.join(unanswered)}; connecting when it does"
