"""Calls to an instance's agent: signed HTTP with connect and call timeouts.

The agent's errors come back as the same domain errors (its JSON bodies carry
their codes); a refused connection is AgentUnreachable (503), a slow answer
AgentTimeout (504). An agent runs on a tenant's instance, so its answers are
taken as a hostile server's are (``logsvc.http``): no redirect followed (it
would carry the signed request elsewhere), one deadline for the whole call,
at most ``MAX_ANSWER`` bytes read; any of these is AgentError (502). The
HTTP session is the transport: tests may hand in another one to inject
faults a real agent cannot produce on demand. With ``rpc`` (an
api.rpcdispatch.RpcTransport, ``[agent] dispatch = rpc``) the same signed
request travels over the message bus instead, and its answer is read here
alike.
"""

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from osprofiler import web

from api.inflight import InFlight
from logsvc import http
from logsvc.exceptions import (
    AgentError,
    AgentTimeout,
    AgentUnreachable,
    BadAnswer,
    LogsvcError,
    ServerTimeout,
    ServerUnreachable,
    from_code,
)
from logsvc.logmodel import LogView
from logsvc.signing import sign

if TYPE_CHECKING:
    from api.rpcdispatch import RpcTransport
    from logsvc.storage.caller import CallerStorage

#: Bytes of an agent's answer read at most (a listing of its logs is a few KiB).
MAX_ANSWER = 4 * 1024 * 1024


class AgentClient:
    """The agent of one instance, as the API calls it."""

    def __init__(
        self,
        instance_id: str,
        base_url: str,
        secret: str,
        connect_timeout: float,
        call_timeout: float,
        http: requests.Session,
        inflight: InFlight | None = None,
        rpc: "RpcTransport | None" = None,
    ):
        self.instance_id = instance_id
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = (connect_timeout, call_timeout)
        self.http = http
        self.inflight = inflight or InFlight()
        self.rpc = rpc

    def list_logs(self, admin: bool) -> list[LogView]:
        body = self._call("GET", "/v1/logs", query={"admin": _flag(admin)})
        return [self._view(entry) for entry in _field(body, "logs", list)]

    def show(self, name: str, admin: bool) -> LogView:
        body = self._call("GET", f"/v1/logs/{name}", query={"admin": _flag(admin)})
        return self._view(_field(body, "log", dict))

    def act(
        self,
        name: str,
        admin: bool,
        flags: dict[str, bool],
        wait: float | None = None,
        storage: "CallerStorage | None" = None,
    ) -> LogView:
        """The log after the action; for a publish, after at most `wait` seconds.

        A publish that still runs then is answered (202) with the log's state,
        whose ``publish`` outcome says it runs (``view.publish.running``).
        `storage`: the caller's account, where this action writes
        (``[storage] account = project``); it travels in the signed body only.
        """
        request: dict[str, Any] = {"admin": admin, **flags}
        if flags.get("publish") and wait is not None:
            request["wait"] = wait
        if storage is not None:
            request["storage"] = storage.to_wire()
        body = self._call("POST", f"/v1/logs/{name}", body=request)
        return self._view(_field(body, "log", dict))

    def _view(self, entry: Any) -> LogView:
        try:
            return LogView.from_dict(entry, self.instance_id)
        except ValueError as exc:
            raise AgentError(f"the agent answered a log that does not fit: {exc}") from None

    def _call(
        self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        path_q = path + (f"?{urlencode(query)}" if query else "")
        data = b"" if body is None else json.dumps(body).encode()
        headers = sign(self.secret, method, path_q, data, instance=self.instance_id)
        headers.update(web.get_trace_id_headers())  # the agent joins a trace in progress
        if body is not None:
            headers["Content-Type"] = "application/json"
        where = f"the agent of instance {self.instance_id}"
        if self.rpc is not None:
            answer = self.rpc.send(
                instance_id=self.instance_id,
                secret=self.secret,
                method=method,
                path=path_q,
                body=data,
                headers=headers,
                connect_timeout=self.timeout[0],
                call_timeout=self.timeout[1],
                inflight=self.inflight,
                where=where,
            )
            return _answer(answer, where)

        def send(_seconds: float) -> requests.Response:
            return self.http.request(
                method,
                self.base_url + path_q,
                data=data,
                headers=headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )

        try:
            with self.inflight.track(self.instance_id, method, path):
                answer = http.call_with(
                    send, what=where, timeout=sum(self.timeout), max_bytes=MAX_ANSWER
                )
        except ServerUnreachable:
            raise AgentUnreachable(
                f"{where} is unreachable (no connection within {self.timeout[0]:g}s, "
                "or refused or lost)"
            ) from None
        except ServerTimeout:
            raise AgentTimeout(
                f"{where} did not answer within {self.timeout[1]:g}s; the action may "
                "still complete: show the log to see its state"
            ) from None
        except BadAnswer as exc:
            raise AgentError(exc.message) from None
        return _answer(answer, where)


def _answer(resp: http.Answer, where: str) -> dict[str, Any]:
    try:
        body = json.loads(resp.body)
    except ValueError:
        raise AgentError(f"{where} answered {resp.status} without JSON") from None
    if not isinstance(body, dict):
        raise AgentError(f"{where} answered {resp.status} with unexpected JSON")
    if resp.status < 300:
        return body
    error = body.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise AgentError(f"{where} answered {resp.status}")
    if resp.status == 401:
        # The agent refused *our* signature: an operator's problem, not the user's.
        raise AgentUnreachable(
            f"{where} refused the API's signed request ({error['code']}): the shared "
            "secrets or the clocks of the API and the agent differ, or the agent at "
            "this instance's agent_url serves another instance"
        )
    message = str(error.get("message") or "the agent refused the request")
    rebuilt: LogsvcError = from_code(error["code"], message)
    if type(rebuilt) is LogsvcError or error["code"] in _CALL_REFUSED:
        raise AgentError(f"{where} failed: {message}")
    raise rebuilt


#: How an agent refuses the call itself, not what it asks: the API and the agent
#: disagree (a wrong agent_url path, another version), never the user's fault.
_CALL_REFUSED = {
    "route_not_found",
    "method_not_allowed",
    "payload_too_large",
    "unsupported_media_type",
    "request_timeout",
    "uri_too_long",
    "request_header_fields_too_large",
    "expectation_failed",
    "unsupported_transfer_coding",
}


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind):
        raise AgentError(f"the agent's answer has no {name!r}")
    return value


def _flag(value: bool) -> str:
    return "true" if value else "false"
