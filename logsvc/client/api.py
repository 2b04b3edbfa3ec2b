"""The Python API of logsvc: the guest-log specification's methods, and the admin's.

    client = Client("http://127.0.0.1:8779", token="...")
    client.log_list(instance)                       # [LogView, ...]
    client.log_publish(instance, "general", discard=True)
    for chunk in client.log_generator(instance, "general", lines=50, publish=True):
        sys.stdout.buffer.write(chunk)
    client.log_save(instance, "general", filename="general.log")

Requests go to the REST API with a token (``X-Auth-Token``), or through a
keystoneauth1 session. Tail and save read a log's bytes through the API's
read route (``GET /v1/instance/<id>/log/<name>/data``, `log_data`) when the
client has no object-store settings, so that the API's URL and a token are
all a user needs; with storage settings (`storage`, a mapping of
``logsvc.client.objects.open_store`` arguments) they read the objects
straight from the object store (`direct` forces either way). Errors are the
domain's exceptions (logsvc.exceptions), rebuilt from the API's answer, with
its HTTP status in `status`. `log_objects` and `tempurl_reader` read a
log straight from Swift through the temp URLs the API hands out
(``logsvc.client.tempurls``), with nothing but the API's URL and a token.
"""

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from logsvc import atomicfile, http
from logsvc.client.cursor import parse_runs
from logsvc.client.reader import Gap, LogReader
from logsvc.exceptions import ConfigError, LogsvcError, PublishFailed, ServerUnreachable, from_code
from logsvc.layout import not_a_log_name, not_an_instance_id
from logsvc.logmodel import LogView, PublishState
from logsvc.safetext import printable

if TYPE_CHECKING:
    from logsvc.client.listing import Snapshot

LOG = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 600.0  # a publish of a large log takes its time
#: Seconds between two looks at a publish that runs on: the first, and at most.
POLL_FIRST = 0.5
POLL_MOST = 5.0
_UNEXPECTED = "the API's answer is not what logsvc expects"


class LogList(list):
    """Logs as the API listed them; `stale` when they are the last known state."""

    stale: bool = False
    last_seen: str | None = None
    message: str | None = None


#: The settings of `storage` that name an object store (the others have defaults).
_STORE_KEYS = (
    "file_root",
    "storage_url",
    "token",
    "auth_url",
    "user",
    "key",
    "application_credential_id",
)
#: Times a save through the API asks again for the rest after its answer broke off.
_RESUMES = 3
_RANGE = re.compile(r"^(\d+)-(\d+)$")


@dataclass(frozen=True)
class MissingRange:
    """Bytes of a log that are gone, as the read route names them (``X-Log-Missing-Ranges``).

    Positions in the log as published (held and gone), ``[start, end)``.
    """

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return (
            f"bytes {self.start}-{self.end - 1} of the log as published "
            f"({self.size} bytes) are gone"
        )


class LogData(Iterator[bytes]):
    """An answer of the read route: its bytes, chunk by chunk, and what its headers say."""

    def __init__(self, status: int, headers: Mapping[str, str], chunks: Iterator[bytes]):
        self.status = status
        self._chunks = chunks
        #: Bytes of the log the store holds (the length of the whole answer).
        self.size = _count(headers.get("X-Log-Size"))
        self.published = _count(headers.get("X-Log-Published"))
        self.etag = headers.get("ETag")
        self.last_modified = headers.get("Last-Modified")
        self.length = _count(headers.get("Content-Length")) if "Content-Length" in headers else None
        self.missing = _missing(headers.get("X-Log-Missing-Ranges", ""))
        #: Where each generation's bytes lie (``logsvc.client.cursor``: a follower's place).
        self.runs = parse_runs(headers.get("X-Log-Runs"))

    def __iter__(self) -> "LogData":
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close:
            close()


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _missing(text: str) -> list[MissingRange]:
    out = []
    for item in text.split(","):
        match = _RANGE.fullmatch(item.strip())
        if match:
            out.append(MissingRange(int(match.group(1)), int(match.group(2)) + 1))
    return out


def store_given(storage: Mapping[str, Any]) -> bool:
    """Whether `storage` names an object store (else the API's read route is the way)."""
    return any(storage.get(key) for key in _STORE_KEYS)


def instance_id(instance: Any) -> str:
    """An instance object's id, or the id itself (the spec takes either)."""
    return str(getattr(instance, "id", instance))


def _segment(value: str, refusal: Callable[[str], LogsvcError]) -> str:
    """`value`, the caller's, as one segment of a URL's path: percent-encoded whole.

    A value that no URL carries as one segment reaching the API intact is
    refused here, in the API's words (`refusal`): '', '.' and '..' (HTTP
    libraries collapse them, quoted or not), and any with a '/' (a server
    decodes %2F before it routes).
    """
    if value in ("", ".", "..") or "/" in value:
        raise refusal(value)
    return quote(value, safe="")


def _path(instance: Any, log: str | None = None, route: str = "") -> str:
    """``/v1/instance/<id>``, then ``/log/<log>`` and ``/<route>`` when given.

    The one builder of the API's URLs: the id and the log's name, which come
    from the caller, each become one segment (`_segment`).
    """
    path = "/v1/instance/" + _segment(instance_id(instance), not_an_instance_id)
    if log is not None:
        path += "/log/" + _segment(log, not_a_log_name)
    return f"{path}/{route}" if route else path


def nothing_published(log: str) -> LogsvcError:
    """The error of a read of a log with nothing published, whichever way it reads."""
    return LogsvcError(f"log {log!r} has nothing published yet: publish it first (log-publish)")


def _has_nothing(view: LogView) -> bool:
    """Whether the log's state says that nothing of it is published (no objects to read)."""
    return not view.container or not view.prefix


def _not_held(log: str, view: LogView, held: int, where: str, why: str) -> str | None:
    """What a read says that finds less of the log than its state says is published.

    `held`: bytes of the log that `where` (a store) holds, or knows are gone;
    `why`: the likely cause. None when it holds as much as is published, or
    more (a publish since the log was shown).
    """
    if held >= view.published:
        return None
    some = f"only {held}" if held else "none"
    return (
        f"log {log!r} has {view.published} bytes published, but {where} holds {some} of them: {why}"
    )


def _store_settings(storage: Mapping[str, Any]) -> str:
    """The CLI's options and variables that chose the object store `storage` describes."""
    if storage.get("file_root"):
        return "--file-root, $LOGSVC_FILE_ROOT"
    return "--os-*, $OS_*"


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
        direct: bool | None = None,
    ):
        """`url` and `token`, or a keystoneauth1 `session` (then `url` may be
        left out: the endpoint comes from the catalog, service type
        ``database-logs``). `headers` adds headers to every request (tracing).
        `timeout` bounds each call to the API in all (seconds); `max_answer`
        the bytes of its answer. Redirects are refused (see
        `logsvc.http`). `direct`: True reads logs straight from the object
        store (`storage`), False through the API's read route, None (the
        default) from the store when `storage` names one, else through the API.
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
        self.direct = direct
        self.last_gaps: list[Gap | MissingRange] = []
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

    def _stream(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> "http.Answer | http.Streamed":
        """``GET path`` whose successful body is streamed (the read route); see `_request`."""
        sent = {"Accept": "application/octet-stream, application/json"}
        if self.extra_headers:
            sent.update(self.extra_headers())
        sent.update(headers or {})
        where = f"the API at {self.url}" if self.url else "the API"
        if self.session is not None:
            endpoint = (
                {"endpoint_override": self.url}
                if self.url
                else {"endpoint_filter": {"service_type": "database-logs", "interface": "public"}}
            )

            def send(timeout: float) -> requests.Response:
                return self.session.request(
                    path,
                    "GET",
                    headers=sent,
                    raise_exc=False,
                    redirect=False,
                    stream=True,
                    log=False,
                    timeout=timeout,
                    **endpoint,
                )

        else:
            if self.token:
                sent["X-Auth-Token"] = self.token

            def send(timeout: float) -> requests.Response:
                return self._http.request(
                    "GET",
                    self.url + path,
                    headers=sent,
                    stream=True,
                    allow_redirects=False,
                    timeout=(min(timeout, http.CONNECT_TIMEOUT), timeout),
                )

        return http.stream_with(send, what=where, timeout=self.timeout, max_bytes=self.max_answer)

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
        data = self._request("GET", _path(instance, route="log"))
        logs = LogList(_log(entry) for entry in _field(data, "logs", list))
        logs.stale = bool(data.get("stale"))
        logs.last_seen = _note(data.get("last_seen"))
        logs.message = _note(data.get("reason"))
        return logs

    def _action(
        self, instance: Any, log: str, follow: bool | None = None, **flags: bool
    ) -> LogView:
        body: dict[str, Any] = {"name": log, **{k: True for k, v in flags.items() if v}}
        if follow is not None:
            body["follow"] = follow
        data = self._request("POST", _path(instance, route="log"), body)
        if data.get("stale"):
            LOG.warning(
                "warning: %s; this is the log's last known state (%s)",
                _note(data.get("reason")) or "the agent is unreachable",
                _note(data.get("last_seen")) or "time unknown",
            )
        return _log(_field(data, "log", dict))

    def log_show(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log)

    def log_enable(self, instance: Any, log: str, follow: bool | None = None) -> LogView:
        """Switch a USER log on; `follow` True/False: publish it continuously, or stop.

        With `follow` alone (``enable=False``-like for a SYS log), only the follow
        is switched: a SYS log is always on.
        """
        view = self.log_show(instance, log) if follow is not None else None
        if view is not None and view.type == "SYS":
            return self._action(instance, log, follow=follow)
        return self._action(instance, log, enable=True, follow=follow)

    def log_disable(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log, disable=True)

    def log_publish(
        self,
        instance: Any,
        log: str,
        disable: bool | None = None,
        discard: bool | None = None,
        *,
        wait: bool = True,
        progress: Callable[[LogView], None] | None = None,
    ) -> LogView:
        """Publish what is new (discarding first, disabling after, if asked).

        The API answers within its ``[api] publish_wait``; a publish that runs
        on then is followed (`wait`, the default) by showing the log until the
        publish ends, calling `progress` with each view seen meanwhile.
        PublishFailed when it failed (the agent's error), or when the agent
        went silent before saying how it ended. Without `wait`, the log as
        the API answered: ``view.publish.running`` tells that it runs on.
        """
        view = self._action(
            instance, log, publish=True, disable=bool(disable), discard=bool(discard)
        )
        return self.log_publish_wait(instance, log, view, progress) if wait else view

    def log_publish_wait(
        self,
        instance: Any,
        log: str,
        view: LogView,
        progress: Callable[[LogView], None] | None = None,
    ) -> LogView:
        """Show the log until the publish that `view` says runs has ended; its last view."""
        started = view.publish
        delay = POLL_FIRST
        while view.publish is not None and view.publish.running:
            if progress is not None:
                progress(view)
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MOST)
            view = self.log_show(instance, log)
            if started is not None and view.publish is not None and view.publish.id != started.id:
                break  # another publish since: ours ended (how, is no longer told)
        outcome = view.publish
        if outcome is not None and outcome.state in (PublishState.FAILED, PublishState.UNKNOWN):
            how = "failed" if outcome.state is PublishState.FAILED else "may not have ended"
            reason = printable(outcome.error or "no reason given", 1024)
            raise PublishFailed(f"the publish of log {log!r} {how}: {reason}")
        return view

    def log_discard(self, instance: Any, log: str) -> LogView:
        return self._action(instance, log, discard=True)

    def log_data(
        self,
        instance: Any,
        log: str,
        *,
        start: int | None = None,
        end: int | None = None,
        lines: int | None = None,
        if_range: str | None = None,
        past_end_ok: bool = False,
    ) -> LogData:
        """The log's bytes through the API's read route, streamed (close it when done early).

        `start`/`end`: the bytes ``[start, end)`` (a Range; `end` None: to the
        end); `lines`: the last N lines as `log_generator` means them. The
        answer's `status` is 206 for a range served, 200 for the whole log
        (also when `if_range`, an ETag, no longer matches). A range past the
        end is RangeNotSatisfiable, or with `past_end_ok` an empty answer of
        status 416 that still carries the log's figures (size, runs).
        """
        path = _path(instance, log, "data")
        if lines is not None:
            path += f"?lines={int(lines)}"
        headers = {}
        if start is not None or end is not None:
            first = max(int(start or 0), 0)
            headers["Range"] = f"bytes={first}-" + (f"{int(end) - 1}" if end is not None else "")
            if if_range:
                headers["If-Range"] = if_range
        answer = self._stream(path, headers)
        if isinstance(answer, http.Answer) and answer.status == 416 and past_end_ok:
            return LogData(416, answer.headers, iter(()))
        if isinstance(answer, http.Answer):
            self._answer(answer)  # raises the API's error
            raise LogsvcError(f"{_UNEXPECTED}: {answer.status} {answer.reason}")
        return LogData(answer.status, answer.headers, answer.chunks())

    def _through_api(self, direct: bool | None) -> bool:
        """Whether to read through the API's read route rather than the object store."""
        choice = self.direct if direct is None else direct
        if choice is None:
            return not store_given(self.storage)
        return not choice

    def log_objects(self, instance: Any, log: str, line_counts: bool = True) -> dict[str, Any]:
        """The log's objects, each with its byte range, line count and a Swift temp URL.

        The API's answer as it is (see its OpenAPI document, ``log_objects``).
        `line_counts` False spares the API one request to Swift per object.
        """
        query = "" if line_counts else "?line_counts=false"
        path = _path(instance, log, "objects") + query
        data = self._request("GET", path)
        for key, kind in (("objects", list), ("gaps", list)):
            _field(data, key, kind)
        return data

    def log_reader(self, instance: Any, log: str, publish: bool | None = None) -> LogReader:
        """A reader of the log's objects, straight from the object store.

        The store is the caller's to close (``reader.store.close()``).
        """
        return self._store_reader(log, self._view(instance, log, publish))

    def _view(self, instance: Any, log: str, publish: bool | None) -> LogView:
        return self.log_publish(instance, log) if publish else self.log_show(instance, log)

    def _store_reader(self, log: str, view: LogView) -> LogReader:
        if _has_nothing(view):
            raise nothing_published(log)
        from logsvc.client.objects import open_store  # swiftclient: seconds to import

        store = open_store(**self.storage)
        return LogReader(store, view.container, view.prefix, view.metafile)

    @contextlib.contextmanager
    def _reading_store(self, log: str, view: LogView) -> Iterator[tuple[LogReader, "Snapshot"]]:
        """A reader of the log in the object store, and a listing that holds the log.

        ConfigError when the store holds less than the log's state says is
        published, and not the log's metafile: most likely the settings
        name another store than the agents publish into (a store that has
        the metafile holds the log; what it lacks expired, and is a gap).
        """
        reader = self._store_reader(log, view)
        try:
            with reader:
                snap = reader.snapshot()
                # With the log's metafile this is the agents' store: what it lacks
                # is gone, and told as gaps. Without, count what it has.
                held = view.published
                if snap.figures is None:
                    held = snap.size + sum(g.size for g in snap.gaps)
                wrong = _not_held(
                    log,
                    view,
                    held,
                    reader.store.description,
                    "the settings may name another store than the agents publish into "
                    f"(check {_store_settings(self.storage)}, or leave them out to read "
                    "through the API), or they expired with their metafile",
                )
                if wrong:
                    raise ConfigError(wrong)
                yield reader, snap
        finally:
            reader.store.close()

    def _nothing_read(self, instance: Any, log: str) -> LogsvcError:
        """Why the read route holds no byte of the log, as a read of the store says it."""
        view = self.log_show(instance, log)
        wrong = None
        if not _has_nothing(view):
            wrong = _not_held(
                log,
                view,
                0,
                "the object store the API reads",
                "they expired, or the API reads another store than the agents publish into",
            )
        return LogsvcError(wrong) if wrong else nothing_published(log)

    def tempurl_reader(self, instance: Any, log: str) -> LogReader:
        """A reader of the log straight from Swift, through the API's temp URLs."""
        from logsvc.client.tempurls import TempUrlStore

        store = TempUrlStore(lambda: self.log_objects(instance, log, line_counts=False))
        listing = store.refresh()
        container, prefix = listing.get("container"), listing.get("prefix")
        if not isinstance(container, str) or not isinstance(prefix, str):
            raise nothing_published(log)
        metafile = listing.get("metafile")
        name = metafile.get("name") if isinstance(metafile, dict) else ""
        return LogReader(store, container, prefix, name if isinstance(name, str) else "")

    def log_generator(
        self,
        instance: Any,
        log: str,
        publish: bool | None = None,
        lines: int = 50,
        gaps: list | None = None,
        direct: bool | None = None,
    ) -> Iterator[bytes]:
        """The last `lines` lines of the log (0: all; negative: from past that line on).

        Raw bytes, in chunks. Parts of the log that expired are reported in
        `gaps` (a list the caller passes) once the generator is exhausted:
        Gaps read from the store, or through the API (which names them by
        position) MissingRanges, all of the log's for `lines` <= 0 or when
        none of its bytes is left. A log with nothing published, or of which
        the store holds nothing (`_not_held`), is an error.
        """
        if self._through_api(direct):
            if publish:
                self.log_publish(instance, log)
            data = self.log_data(instance, log, lines=lines)
            if not data.published:
                data.close()
                raise self._nothing_read(instance, log)
            try:
                yield from data
            finally:
                data.close()
                if gaps is not None and (lines <= 0 or not data.size):
                    gaps.extend(data.missing)
            return
        with self._reading_store(log, self._view(instance, log, publish)) as (reader, snap):
            output = reader.tail(lines, snap)
            try:
                yield from output
            finally:
                output.close()
                if gaps is not None:
                    gaps.extend(output.gaps)

    def log_follow(
        self,
        instance: Any,
        log: str,
        lines: int = 10,
        interval: float = 1.0,
        notify: "Callable[[str, str], None] | None" = None,
        direct: bool | None = None,
    ) -> Iterator[bytes]:
        """The last `lines` lines of the log, then new bytes as they become readable.

        A generator that runs until it is closed (see ``logsvc.client.follow``);
        `notify(kind, message)` hears of rotations, gaps and blips of the
        object store or the API. A log with nothing published yet is waited
        for; an object store that holds nothing of a published log is an
        error, as for `log_generator`. Read through the API's read route or
        straight from the object store as `log_generator` chooses (`direct`).
        """
        from logsvc.client.follow import ApiSource, StoreSource, follow

        if self._through_api(direct):

            def fetch(start: int | None = None, lines: int | None = None) -> LogData:
                return self.log_data(instance, log, start=start, lines=lines, past_end_ok=True)

            yield from follow(ApiSource(fetch), lines, interval, notify)
            return
        view = self.log_show(instance, log)
        while _has_nothing(view):
            time.sleep(interval)
            view = self.log_show(instance, log)
        with self._reading_store(log, view) as (reader, _):
            yield from follow(StoreSource(reader), lines, interval, notify)

    def log_save(
        self,
        instance: Any,
        log: str,
        publish: bool | None = None,
        filename: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        direct: bool | None = None,
    ) -> str:
        """Save the whole log to `filename` (default ``<log>.log``); the file's name.

        `filename` must be new, a regular file, or a link to one (see
        `LogReader.save`); NotRegularFile otherwise, before anything is asked.
        Nothing is written for a log that has nothing published, or of which
        the store holds nothing (see `log_generator`).
        """
        target = filename or f"{log}.log"
        atomicfile.target_of(target, follow_links=True)  # a device is refused before any work
        if self._through_api(direct):
            if publish:
                self.log_publish(instance, log)
            return self._save_through_api(instance, log, target, progress)
        with self._reading_store(log, self._view(instance, log, publish)) as (reader, snap):
            saved = reader.save(target, progress, snap)
        self.last_gaps = saved.gaps
        return str(saved.path)

    def _save_through_api(
        self,
        instance: Any,
        log: str,
        target: str,
        progress: Callable[[int, int], None] | None,
    ) -> str:
        """Stream the read route's answer into `target`, atomically, checking its length.

        An answer that breaks off (the connection, or an object that expired
        while the API streamed it) is asked again from where it stopped, with
        If-Range: the same bytes go on; if the log changed meanwhile, the
        whole log comes again and the file starts over.
        """
        with atomicfile.replacing(target, follow_links=True) as out:
            data = self.log_data(instance, log)
            if not data.published:
                data.close()
                raise self._nothing_read(instance, log)
            done = 0
            for attempt in range(_RESUMES + 1):
                length = data.length if data.length is not None else data.size
                full = done + length if data.status == 206 else length
                if progress:
                    progress(done, full)
                try:
                    with contextlib.closing(data):
                        for chunk in data:
                            out.write(chunk)
                            done += len(chunk)
                            if progress:
                                progress(done, max(done, full))
                    broke = None
                except ServerUnreachable as exc:  # it broke off: ask for the rest
                    broke = exc
                if done >= full:
                    break
                if attempt == _RESUMES:
                    raise broke or LogsvcError(
                        f"the API sent {done} of the log's {data.size} bytes, "
                        f"and again after {_RESUMES} attempts; try again"
                    )
                LOG.debug("the answer broke off after %d bytes; asking for the rest", done)
                data = self.log_data(instance, log, start=done, if_range=data.etag)
                if data.status != 206:  # the log changed: all of it, anew
                    out.seek(0)
                    out.truncate()
                    done = 0
        self.last_gaps = list(data.missing)
        return target

    # --- instances (admin) ----------------------------------------------------

    def instance_list(self) -> list[dict[str, Any]]:
        instances = _field(self._request("GET", "/v1/instance"), "instances", list)
        if not all(isinstance(i, dict) for i in instances):
            raise LogsvcError(f"{_UNEXPECTED}: an instance that is no object")
        return instances

    def instance_show(self, instance: Any) -> dict[str, Any]:
        data = self._request("GET", _path(instance))
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
        data = self._request("PUT", _path(instance), body)
        return _field(data, "instance", dict)

    def instance_delete(self, instance: Any) -> None:
        self._request("DELETE", _path(instance))


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
