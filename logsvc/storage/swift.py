"""OpenStack Swift through python-swiftclient.

Authentication: Swift's v1 (tempauth and the like), Keystone v3 with a
password or an application credential, or a token and storage URL that the
caller already holds. python-swiftclient retries connection errors and 5xx
answers with exponential backoff; we set how often and how long. One
connection per thread, as a swiftclient Connection is not thread-safe,
closed once its thread has ended (an agent runs each publish and each
request in a thread of its own: kept, they were a socket per publish).

An upload with a turn (several in flight, ordered: guestagent/uploads.py)
is the one request swiftclient cannot make: it needs the moment Swift has
taken the request, which ``Expect: 100-continue`` shows, and its body's
last bytes held back until the turn releases them. `_put_in_turn` makes
that PUT with http.client, inside swiftclient's own retry loop
(``Connection._retry``), so authentication, tokens, retries and backoff are
the same code as every other request's.
"""

import http.client
import json
import select
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import quote, urlsplit

import requests
from keystoneauth1 import exceptions as ksa_exceptions
from swiftclient import client as swift_client
from swiftclient.exceptions import ClientException

from logsvc.exceptions import (
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
)
from logsvc.storage.base import (
    DEFAULT_READ_CHUNK,
    ObjectInfo,
    ObjectStore,
    Part,
    UploadTurn,
    byte_range,
    md5_hex,
)

_PAGE = 10000
# How swiftclient says, before any request, that its settings are incomplete.
_CONFIGURATION_ERRORS = (
    "No project name",
    "No tenant specified",
    "Unknown auth_version",
    "Auth v3",
)


class _Body:
    """An object's bytes as a body swiftclient can rewind for a retry (it never
    retries plain bytes), handed over in one read.

    urllib3 asks for 16 KiB at a time; answering with all that is left makes
    one send of the whole object instead of one per block.
    """

    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._data[self._pos :] if self._pos else self._data
        self._pos = len(self._data)
        return chunk

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> None:
        self._pos = pos

    def release(self) -> None:
        self._data, self._pos = b"", 0


#: Seconds an upload in turn waits for ``100 Continue`` before it sends its body
#: anyway (RFC 9110 lets a client); its turn is then taken at the final answer.
_CONTINUE_WAIT = 5.0


def _put_in_turn(
    url: str,
    token: str,
    container: str,
    name: str,
    data: bytes,
    headers: dict[str, str],
    *,
    turn: UploadTurn,
    connections: "_HttpConnections",
    service_token: str | None = None,
    http_conn: object = None,
) -> str:
    """PUT `data` with ``Expect: 100-continue``, telling `turn` how it goes; the ETag.

    Called by swiftclient's ``Connection._retry`` as its own request
    functions are (`http_conn`, swiftclient's, is not used). Swift's proxy
    gives the object its timestamp when it takes the request, before it
    reads the body; it answers 100 Continue when it first reads the body
    (swift/proxy/server.py ``update_request``, then
    swift/proxy/controllers/obj.py ``PUT``: the body is read only in
    ``_store_object``; eventlet sends the 100 then). So the turn is taken at
    the 100, or at the final answer when no 100 comes.
    """
    turn.start()
    parsed = urlsplit(url)
    path = f"{parsed.path}/{quote(container)}/{quote(name)}"
    conn = connections.get(parsed.scheme, parsed.netloc)
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.putheader("X-Auth-Token", token)
        if service_token:
            conn.putheader("X-Service-Token", service_token)
        conn.putheader("Content-Length", str(len(data)))
        conn.putheader("Expect", "100-continue")
        conn.endheaders()
        continued, refused = _interim(conn)
        if continued or refused:
            turn.taken()
        if refused is not None:  # a final answer before the body: nothing stored
            connections.drop(conn)
            try:
                raise refused
            finally:
                del refused  # no cycle through this frame, which holds the body
        body = memoryview(data)
        conn.send(body[:-1])
        turn.release()
        conn.send(body[-1:])
        resp = conn.getresponse()
        content = resp.read()
        if not continued:
            turn.taken()
    except http.client.HTTPException as exc:
        connections.drop(conn)
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from None
    except BaseException:
        connections.drop(conn)
        raise
    if resp.will_close:
        connections.drop(conn)
    if not 200 <= resp.status < 300:
        raise ClientException(
            "Object PUT failed",
            http_scheme=parsed.scheme,
            http_host=parsed.hostname or "",
            http_port=parsed.port or "",
            http_path=path,
            http_status=resp.status,
            http_reason=resp.reason,
            http_response_content=content,
        )
    return (resp.getheader("etag") or "").strip('"')


def _interim(conn: http.client.HTTPConnection) -> tuple[bool, ClientException | None]:
    """The server's first answer to a request sent with ``Expect: 100-continue``.

    (True, None) for ``100 Continue``, read off the connection; (False, None)
    when nothing came within `_CONTINUE_WAIT` (the body is then sent anyway);
    (False, error) for a final answer, read whole.
    """
    sock = conn.sock
    ready, _, _ = select.select([sock], [], [], _CONTINUE_WAIT)
    if not ready and not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
        return False, None
    # Unbuffered, so that nothing past the interim answer is taken off the socket.
    reader = sock.makefile("rb", buffering=0)
    status_line = reader.readline(65537).decode("iso-8859-1")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP answer: {status_line[:80]!r}")
    answer_headers = http.client.parse_headers(reader)
    if parts[1] == "100":
        return True, None
    length = int(answer_headers.get("Content-Length") or 0)
    return False, ClientException(
        "Object PUT failed",
        http_status=int(parts[1]),
        http_reason=parts[2].strip() if len(parts) > 2 else "",
        http_response_content=reader.read(length) if length else b"",
    )


T = TypeVar("T")


class _PerThread(Generic[T]):
    """One `T` per thread, made on the thread's first use and closed once the thread
    has ended (looked for whenever another thread makes one) or by `close`.

    `make` is given the other threads' items (under the lock; those of ended
    threads before they are closed), to start from them.
    """

    def __init__(self, make: Callable[[list[T]], T], close: Callable[[T], None]):
        self._make, self._close = make, close
        self._local = threading.local()
        self._held: list[tuple[threading.Thread, T]] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        item = getattr(self._local, "item", None)
        if item is None:
            with self._lock:
                ended = [i for t, i in self._held if not t.is_alive()]
                self._held = [(t, i) for t, i in self._held if t.is_alive()]
                item = self._make([i for _, i in self._held] + ended)
                self._held.append((threading.current_thread(), item))
            self._local.item = item
            for old in ended:
                self._close(old)
        return item

    def __len__(self) -> int:
        return len(self._held)

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, []
            self._local = threading.local()
        for _, item in held:
            self._close(item)


class _HttpConnections:
    """Kept-alive http.client connections, one per thread and server, for uploads in turn."""

    def __init__(self, timeout: float, cacert: str | None, insecure: bool):
        self.timeout, self.cacert, self.insecure = timeout, cacert, insecure
        self._threads: _PerThread[dict[tuple[str, str], http.client.HTTPConnection]] = _PerThread(
            lambda _live: {}, lambda conns: [c.close() for c in conns.values()]
        )

    def get(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        held = self._threads.get()
        conn = held.get((scheme, netloc))
        if conn is not None and conn.sock is not None:
            # A kept-alive connection that is readable while idle was closed by the server.
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable:
                conn.close()
        if conn is None:
            if scheme == "https":
                context = ssl.create_default_context(cafile=self.cacert)
                if self.insecure:
                    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=context)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
            held[(scheme, netloc)] = conn
        return conn

    def drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()  # the next request on it connects again

    def close(self) -> None:
        self._threads.close()


def _close_connection(conn: swift_client.Connection) -> None:
    """Close a swiftclient Connection's sockets now.

    Its own ``close`` closes the requests session, whose pool manager (urllib3
    2) forgets its pools without closing them: their sockets stayed open
    until the garbage collector found them, a socket per thread that had used
    the store (bench/load.py: an agent at 150 within a minute).
    """
    http_conn = conn.http_conn[1] if isinstance(conn.http_conn, tuple) else None
    session = getattr(http_conn, "request_session", None)
    for adapter in getattr(session, "adapters", {}).values():
        pools = getattr(adapter, "poolmanager", None)
        for key in pools.pools.keys() if pools is not None else ():
            pool = pools.pools.get(key)
            if pool is not None:
                pool.close()
    conn.close()


def _pop_etag(headers: dict[str, str]) -> str | None:
    """The ETag the caller gave among `headers`, taken out of them."""
    keys = [key for key in headers if key.lower() == "etag"]
    return headers.pop(keys[0]).strip('"') if keys else None


@dataclass(frozen=True)
class SwiftAuth:
    """How to reach Swift. Secrets are kept out of `repr`."""

    auth_url: str | None = None
    auth_version: str = "1"
    user: str | None = None
    key: str | None = field(default=None, repr=False)
    project_name: str | None = None
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str | None = None
    interface: str = "public"
    application_credential_id: str | None = None
    application_credential_secret: str | None = field(default=None, repr=False)
    # A token and storage URL obtained elsewhere (the CLI's users).
    storage_url: str | None = None
    token: str | None = field(default=None, repr=False)
    cacert: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class SwiftRetry:
    retries: int = 5
    starting_backoff: float = 1.0
    max_backoff: float = 32.0
    timeout: float = 60.0


class SwiftStore(ObjectStore):
    """Objects in an OpenStack Swift cluster."""

    def __init__(self, auth: SwiftAuth, retry: SwiftRetry | None = None):
        self.auth = auth
        self.retry = retry or SwiftRetry()
        where = auth.storage_url or auth.auth_url or "?"
        self.description = f"Swift at {where}"
        self._connections: _PerThread[swift_client.Connection] = _PerThread(
            self._new_connection, _close_connection
        )
        self._http = _HttpConnections(self.retry.timeout, auth.cacert, auth.insecure)
        self._joins: bool | None = None

    # --- connections --------------------------------------------------------

    def _new_connection(self, live: list[swift_client.Connection]) -> swift_client.Connection:
        """A thread's connection; it starts with the token another one holds or held,
        if any: threads authenticate once, not once each."""
        a, r = self.auth, self.retry
        os_options: dict[str, str] = {"interface": a.interface, "endpoint_type": a.interface}
        kwargs: dict[str, object] = {}
        if a.region_name:
            os_options["region_name"] = a.region_name
        if a.token and a.storage_url:
            kwargs.update(preauthurl=a.storage_url, preauthtoken=a.token)
        if a.auth_url:
            kwargs.update(authurl=a.auth_url, auth_version=str(a.auth_version))
            if str(a.auth_version).startswith("3"):
                if a.application_credential_id:
                    os_options.update(
                        auth_type="v3applicationcredential",
                        application_credential_id=a.application_credential_id,
                        application_credential_secret=a.application_credential_secret or "",
                    )
                else:
                    kwargs.update(user=a.user, key=a.key)
                    os_options.update(
                        project_name=a.project_name or "",
                        user_domain_name=a.user_domain_name,
                        project_domain_name=a.project_domain_name,
                    )
            else:
                kwargs.update(user=a.user, key=a.key)
        if a.storage_url and not a.token:
            os_options["object_storage_url"] = a.storage_url
        conn = swift_client.Connection(
            os_options=os_options,
            retries=r.retries,
            starting_backoff=r.starting_backoff,
            max_backoff=r.max_backoff,
            timeout=r.timeout,
            cacert=a.cacert,
            insecure=a.insecure,
            **kwargs,
        )
        known = next((c for c in live if c.url and c.token), None)
        if known is not None:
            conn.url, conn.token = known.url, known.token
        return conn

    @property
    def _conn(self) -> swift_client.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()
        self._http.close()

    # --- errors -------------------------------------------------------------

    def _error(self, exc: Exception, what: str) -> StorageError:
        # swiftclient turns Keystone's answers into ClientExceptions without a
        # status, with keystoneauth's exception as their context.
        cause = exc.__context__ if isinstance(exc, ClientException) else exc
        if isinstance(cause, ksa_exceptions.Unauthorized):
            return StorageAuthError(f"{what}: {self.description} refused our credentials (401)")
        if isinstance(cause, ksa_exceptions.EndpointNotFound):
            return StorageError(
                f"{what}: the Keystone catalog of {self.description} has no object-store "
                "endpoint (check [swift] region_name)"
            )
        if (
            isinstance(exc, ClientException)
            and exc.http_status is None
            and cause is None
            and exc.msg.startswith(_CONFIGURATION_ERRORS)
        ):
            return StorageError(f"{what}: {self.description}: {exc.msg}")
        if isinstance(exc, ClientException):
            status = exc.http_status
            if status == 404:
                return ObjectNotFound(f"{what}: not found")
            if status in (401, 403):
                return StorageAuthError(
                    f"{what}: {self.description} refused our credentials ({status})"
                )
            if status is None or status >= 500 or status in (408, 429, 498):
                return StorageUnavailable(
                    f"{what}: {self.description} failed after "
                    f"{self.retry.retries} retries ({status or exc.msg})"
                )
            return StorageError(f"{what}: {self.description} answered {status} {exc.http_reason}")
        return StorageUnavailable(
            f"{what}: {self.description} is unreachable ({type(exc).__name__})"
        )

    _FAILURES = (
        ClientException,
        ksa_exceptions.ClientException,
        requests.RequestException,
        OSError,
    )

    # --- operations ---------------------------------------------------------

    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        headers: Mapping[str, str] | None = None,
        turn: UploadTurn | None = None,
    ) -> str:
        what = f"storing {container}/{name}"
        headers = dict(headers or {})
        etag = _pop_etag(headers) or md5_hex(data)
        for attempt in (1, 2):
            body = _Body(data)
            try:
                if turn is not None:
                    returned = self._conn._retry(
                        None,
                        _put_in_turn,
                        container,
                        name,
                        data,
                        {
                            **headers,
                            "ETag": etag,
                            "Content-Type": "application/octet-stream",
                        },
                        turn=turn,
                        connections=self._http,
                    )
                else:
                    returned = self._conn.put_object(
                        container,
                        name,
                        body,
                        content_length=len(data),
                        etag=etag,  # Swift refuses (422) bytes that do not match it
                        content_type="application/octet-stream",
                        headers=headers,
                    )
            except ClientException as exc:
                if exc.http_status == 404 and attempt == 1:
                    self._create_container(container)
                    continue
                raise self._error(exc, what) from None
            except self._FAILURES as exc:
                raise self._error(exc, what) from None
            finally:
                body.release()  # swiftclient keeps the last request's body
            if (returned or "").strip('"') != etag:
                raise StorageError(
                    f"{what}: {self.description} stored other bytes than were sent "
                    f"(ETag {returned!r}, expected {etag})"
                )
            return etag
        raise AssertionError("unreachable")  # pragma: no cover

    def _create_container(self, container: str) -> None:
        try:
            self._conn.put_container(container)
        except self._FAILURES as exc:
            raise self._error(exc, f"creating container {container}") from None

    def get_object(
        self, container: str, name: str, start: int | None = None, end: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        wanted = byte_range(start, end)
        if wanted == "":
            return self.head_object(container, name), b""
        req_headers = {"Range": wanted} if wanted else {}
        try:
            headers, body = self._conn.get_object(container, name, headers=req_headers)
        except ClientException as exc:
            if exc.http_status == 416:  # the range starts past the end
                return self.head_object(container, name), b""
            raise self._error(exc, f"reading {container}/{name}") from None
        except self._FAILURES as exc:
            raise self._error(exc, f"reading {container}/{name}") from None
        return headers, body

    def stream_object(
        self, container: str, name: str, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> tuple[dict[str, str], Iterator[bytes]]:
        what = f"reading {container}/{name}"
        try:
            headers, body = self._conn.get_object(container, name, resp_chunk_size=chunk_size)
        except self._FAILURES as exc:
            raise self._error(exc, what) from None

        def chunks() -> Iterator[bytes]:
            try:
                yield from body
            except self._FAILURES as exc:
                raise self._error(exc, what) from None
            finally:
                close = getattr(body, "close", None)
                if close:
                    close()

        return headers, chunks()

    def head_object(self, container: str, name: str) -> dict[str, str]:
        try:
            return self._conn.head_object(container, name)
        except self._FAILURES as exc:
            raise self._error(exc, f"reading {container}/{name}") from None

    def list_objects(
        self, container: str, prefix: str = "", marker: str = "", end_marker: str = ""
    ) -> Iterator[ObjectInfo]:
        while True:
            try:
                _, page = self._conn.get_container(
                    container,
                    prefix=prefix or None,
                    marker=marker or None,
                    end_marker=end_marker or None,
                    limit=_PAGE,
                )
            except ClientException as exc:
                if exc.http_status == 404:
                    return
                raise self._error(exc, f"listing {container}/{prefix}") from None
            except self._FAILURES as exc:
                raise self._error(exc, f"listing {container}/{prefix}") from None
            for entry in page:
                if "subdir" in entry:
                    continue
                yield ObjectInfo(
                    entry["name"], int(entry["bytes"]), entry["hash"], entry["last_modified"]
                )
            if len(page) < _PAGE:  # a short page is the last one
                return
            marker = page[-1].get("name") or page[-1].get("subdir")

    def delete_object(self, container: str, name: str) -> bool:
        try:
            self._conn.delete_object(container, name)
            return True
        except ClientException as exc:
            if exc.http_status == 404:
                return False
            raise self._error(exc, f"deleting {container}/{name}") from None
        except self._FAILURES as exc:
            raise self._error(exc, f"deleting {container}/{name}") from None

    # --- objects made of parts: static large objects (Swift's ``slo`` middleware) ---

    def joins_parts(self) -> bool:
        """Whether the cluster has static large objects (its ``/info``), asked once."""
        if self._joins is None:
            try:
                self._joins = "slo" in self._conn.get_capabilities()
            except self._FAILURES:
                return False  # not now: asked again next time (an open object is rewritten)
        return self._joins

    def put_joined(
        self, container: str, name: str, parts: list[Part], headers: Mapping[str, str]
    ) -> int:
        manifest = json.dumps(
            [
                {"path": f"/{container}/{part.name}", "etag": part.etag, "size_bytes": part.size}
                for part in parts
            ],
            separators=(",", ":"),
        ).encode()
        try:
            self._conn.put_object(
                container,
                name,
                manifest,
                content_length=len(manifest),
                content_type="application/octet-stream",
                headers=dict(headers),
                query_string="multipart-manifest=put",
            )
        except self._FAILURES as exc:
            raise self._error(exc, f"storing {container}/{name} (of {len(parts)} parts)") from None
        return len(manifest)

    def copy_object(
        self, container: str, source: str, destination: str, headers: Mapping[str, str]
    ) -> None:
        try:
            self._conn.copy_object(
                container, source, destination=f"/{container}/{destination}", headers=dict(headers)
            )
        except self._FAILURES as exc:
            raise self._error(exc, f"copying {container}/{source} to {destination}") from None

    def parts(self, container: str, name: str) -> list[str] | None:
        try:
            headers = self.head_object(container, name)
        except ObjectNotFound:
            return None
        if headers.get("x-static-large-object", "").lower() != "true":
            return None
        try:
            _, body = self._conn.get_object(container, name, query_string="multipart-manifest=get")
            listed = json.loads(body)
        except self._FAILURES as exc:
            raise self._error(exc, f"reading {container}/{name}") from None
        except ValueError:
            raise StorageError(f"reading {container}/{name}: its manifest is not JSON") from None
        prefix = f"/{container}/"
        return [p["name"].removeprefix(prefix) for p in listed if isinstance(p, dict)]

    def account_url(self) -> str:
        """The account's storage URL (``https://swift/v1/AUTH_...``); authenticates if needed."""
        conn = self._conn
        if not conn.url:
            try:
                conn.get_auth()  # sets conn.url (and the token it will use)
            except self._FAILURES as exc:
                raise self._error(exc, "authenticating") from None
        return conn.url

    def check(self) -> None:
        try:
            self._conn.head_account()
        except self._FAILURES as exc:
            raise self._error(exc, "checking the account") from None
