"""The Python API of logsvc: the guest-log specification's methods, and the admin's.

    client = Client("http://127.0.0.1:8779", token="...")
    client.log_list(instance)                       # [LogView, ...]
    client.log_publish(instance, "general", discard=True)
    for chunk in client.log_generator(instance, "general", lines=50, publish=True):
        sys.stdout.buffer.write(chunk)
    client.log_save(instance, "general", filename="general.log")

Requests go to the REST API with a token (``X-Auth-Token``), or through a
keystoneauth1 session. Log contents never go through the API: tail and save
read the objects straight from the object store, with the user's own
storage settings (`storage`, a mapping of ``logsvc.client.objects.open_store``
arguments). Errors are the domain's exceptions (logsvc.exceptions), rebuilt
from the API's answer, with its HTTP status in `status`.
"""

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from logsvc import atomicfile, http
from logsvc.client.reader import Gap, LogReader
from logsvc.exceptions import LogsvcError, from_code
from logsvc.logmodel import LogView
from logsvc.safetext import printable

LOG = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 600.0  # a publish of a large log takes its time
_UNEXPECTED = "the API's answer is not what logsvc expects"


class LogList(list):
    """Logs as the API listed them; `stale` when they are the last known state."""

    stale: bool = False
    last_seen: str | None = None
    message: str | None = None


def instance_id(instance: Any) -> str:
    """An instance object's id, or the id itself (the spec takes either)."""
    return str(getattr(instance, "id", instance))


class Client:
    """A user's (or an admin's) handle on logsvc."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        session: Any = None,
        storage: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Callable[[], Mapping[str, str]] | None = None,
        max_answer: int = http.MAX_ANSWER,
    ):
        """`url` and `token`, or a keystoneauth1 `session` (then `url` may be
        left out: the endpoint comes from the catalog, service type
        ``database-logs``). `headers` adds headers to every request (tracing).
        `timeout` bounds each call to the API in all (seconds); `max_answer`
        the bytes of its answer. Redirects are refused (see
        `logsvc.http`).
        """
        if session is None and not url:
            raise LogsvcError("the API's URL is needed (LOGSVC_URL, or --url)")
        self.url = url.rstrip("/") if url else None
        self.token = token
        self.session = session
        self.storage = dict(storage or {})
        self.timeout = timeout
        self.max_answer = max_answer
        self.extra_headers = headers
        self.last_gaps: list[Gap] = []
        self._http = http.new_session()

    # --- HTTP -----------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        """The API's JSON answer (an object); its error, rebuilt, for an error status."""
        headers = {"Accept": "application/json"}
        if self.extra_headers:
            headers.update(self.extra_headers())
        where = f"the API at {self.url}" if self.url else "the API"
        started = time.monotonic()
        if self.session is not None:
            endpoint = (
                {"endpoint_override": self.url}
                if self.url
                else {"endpoint_filter": {"service_type": "database-logs", "interface": "public"}}
            )

            def send(timeout: float) -> requests.Response:
                return self.session.request(
                    path,
                    method,
                    json=body,
                    headers=headers,
                    raise_exc=False,
                    redirect=False,
                    stream=True,
                    log=False,  # it would read the whole answer to log it
                    timeout=timeout,
                    **endpoint,
                )

            answer = http.call_with(
                send, what=where, timeout=self.timeout, max_bytes=self.max_answer
            )
        else:
            if self.token:
                headers["X-Auth-Token"] = self.token
            answer = http.call(
                self._http,
                method,
                self.url + path,
                json=body,
                headers=headers,
                what=where,
                timeout=self.timeout,
                max_bytes=self.max_answer,
            )
        LOG.debug(
            "%s %s -> %s in %.0f ms",
            method,
            path,
            answer.status,
            (time.monotonic() - started) * 1000,
        )
        return self._answer(answer)

    @staticmethod
    def _answer(answer: http.Answer) -> dict[str, Any]:
        try:
            data = json.loads(answer.body) if answer.body else {}
        except ValueError:
            data = None
        if answer.status < 400:
            if isinstance(data, dict):
                return data
            raise LogsvcError(f"the API answered {answer.status} without a JSON object")
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and "message" in error:
            exc = from_code(printable(error.get("code", ""), 64), printable(error["message"]))
        else:
            exc = LogsvcError(f"the API answered {answer.status} {answer.reason}")
        exc.status = answer.status
        raise exc

    # --- the spec's log methods ----------------------------------------------

    def log_list(self, instance: Any) -> LogList:
        """Every log of the instance the caller may see."""
        data = self._request("GET", f"/v1/instance/{instance_id(instance)}/log")
        logs = LogList(_log(entry) for entry in _field(data, "logs", list))
        logs.stale = bool(data.get("stale"))
        logs.last_seen = _note(data.get("last_seen"))
        logs.message = _note(data.get("reason"))
        return logs

    def _action(self, instance: Any, log: str, **flags: bool) -> LogView:
        body = {"name": log, **{k: True for k, v in flags.items() if v}}
        data = self._request("POST", f"/v1/instance/{instance_id(instance)}/log", body)
        if data.get("stale"):
            LOG.warning(
                "warning: %s; this is the log's last known state (%s)",
                _note(data.get("reason")) or "the agent is unreachable",
                _note(data.get("last_seen")) or "time unknown",
            )
        return _log(_field(data, "log", dict))

    def log_show(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log)

    def log_enable(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log, enable=True)

    def log_disable(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log, disable=True)

    def log_publish(
        self, instance: Any, log: str, disable: bool | None = None, discard: bool | None = None
    ) -> LogView:
        """Publish what is new (discarding first, disabling after, if asked); waits for it."""
        return self._action(
            instance, log, publish=True, disable=bool(disable), discard=bool(discard)
        )

    def log_discard(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log, discard=True)

    def log_reader(self, instance: Any, log: str, publish: bool | None = None) -> LogReader:
        """A reader of the log's objects, straight from the object store."""
        view = self.log_publish(instance, log) if publish else self.log_show(instance, log)
        if not view.container or not view.prefix:
            raise LogsvcError(
                f"log {log!r} has nothing published yet: publish it first (log-publish)"
            )
        from logsvc.client.objects import open_store  # swiftclient: seconds to import

        store = open_store(**self.storage)
        return LogReader(store, view.container, view.prefix, view.metafile)

    def log_generator(
        self,
        instance: Any,
        log: str,
        publish: bool | None = None,
        lines: int = 50,
        gaps: list[Gap] | None = None,
    ) -> Iterator[bytes]:
        """The last `lines` lines of the log (0: all; negative: from past that line on).

        Raw bytes, in chunks. Parts of the log that expired are reported in
        `gaps` (a list the caller passes) once the generator is exhausted.
        """
        with self.log_reader(instance, log, publish) as reader:
            output = reader.tail(lines)
            try:
                yield from output
            finally:
                output.close()
                if gaps is not None:
                    gaps.extend(output.gaps)

    def log_save(
        self,
        instance: Any,
        log: str,
        publish: bool | None = None,
        filename: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Save the whole log to `filename` (default ``<log>.log``); the file's name.

        `filename` must be new, a regular file, or a link to one (see
        `LogReader.save`); NotRegularFile otherwise, before anything is asked.
        """
        target = filename or f"{log}.log"
        atomicfile.target_of(target, follow_links=True)  # a device is refused before any work
        with self.log_reader(instance, log, publish) as reader:
            saved = reader.save(target, progress)
        self.last_gaps = saved.gaps
        return str(saved.path)

    # --- instances (admin) ----------------------------------------------------

    def instance_list(self) -> list[dict[str, Any]]:
        instances = _field(self._request("GET", "/v1/instance"), "instances", list)
        if not all(isinstance(i, dict) for i in instances):
            raise LogsvcError(f"{_UNEXPECTED}: an instance that is no object")
        return instances

    def instance_show(self, instance: Any) -> dict[str, Any]:
        data = self._request("GET", f"/v1/instance/{instance_id(instance)}")
        return _field(data, "instance", dict)

    def instance_register(
        self,
        instance: Any,
        *,
        tenant_id: str,
        datastore: str,
        agent_url: str,
        name: str | None = None,
        shared_secret: str | None = None,
    ) -> dict[str, Any]:
        body = {"tenant_id": tenant_id, "datastore": datastore, "agent_url": agent_url}
        if name:
            body["name"] = name
        if shared_secret:
            body["shared_secret"] = shared_secret
        data = self._request("PUT", f"/v1/instance/{instance_id(instance)}", body)
        return _field(data, "instance", dict)

    def instance_delete(self, instance: Any) -> None:
        self._request("DELETE", f"/v1/instance/{instance_id(instance)}")


def _field(data: dict[str, Any], key: str, kind: type) -> Any:
    """``data[key]``, which must be a `kind`; LogsvcError for a person otherwise."""
    value = data.get(key)
    if not isinstance(value, kind):
        state = "has no" if value is None else "has an ill-typed"
        raise LogsvcError(f"{_UNEXPECTED}: it {state} {key!r}")
    return value


def _log(entry: Any) -> LogView:
    try:
        return LogView.from_dict(entry)
    except (ValueError, TypeError) as exc:
        raise LogsvcError(
            f"{_UNEXPECTED}: a log that is not valid ({printable(exc, 200)})"
        ) from None


def _note(value: Any) -> str | None:
    """A remark of the API's (a reason, a time), printable, or None."""
    return printable(value, 200) if isinstance(value, str) and value else None
