"""A log's objects read straight from Swift through the temp URLs the API hands out.

The API's ``GET /v1/instance/<id>/log/<name>/objects`` lists the log's
objects, each with a signed GET URL (``api/tempurls.py``). `TempUrlStore`
is an `ObjectStore` over such a listing, read-only: `LogReader` tails and
saves through it as through any store, objects fetched ahead in parallel. A
listing is asked for at each snapshot (`list_objects`), and again whenever
Swift refuses a URL (401: it expired, or the key changed): the request is
then made again with the fresh URL, from the byte where it stopped. An
object that the fresh listing no longer holds expired: ObjectNotFound, which
the reader reports as a gap.
"""

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from logsvc.exceptions import (
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
)
from logsvc.safetext import printable
from logsvc.storage.base import (
    DEFAULT_READ_CHUNK,
    ObjectInfo,
    ObjectStore,
    UploadTurn,
    byte_range,
)

#: Times one read is made again with fresh URLs (each after a refusal).
_REFRESHES = 5
#: Times a read cut off mid-object goes on from where it stopped.
_RESUMES = 3

#: What asks the API for the log's objects (``Client.log_objects`` with line_counts=False).
Lister = Callable[[], Mapping[str, Any]]


class TempUrlStore(ObjectStore):
    """The objects of one log, through the API's temp URLs; reads only."""

    description = "Swift through the API's temp URLs"

    def __init__(self, lister: Lister, timeout: float = 60.0):
        self._lister = lister
        self._timeout = timeout
        self._lock = threading.Lock()
        self._urls: dict[str, str] = {}
        self._lines: dict[str, int] = {}
        self._version = 0  # how many listings were taken
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self.listings = 0

    # --- the listing ------------------------------------------------------------

    def refresh(self, seen: int | None = None) -> Mapping[str, Any]:
        """Ask the API for the listing again (unless another thread did since `seen`)."""
        with self._lock:
            if seen is not None and seen != self._version:
                return {}
            listing = self._lister()
            urls = {o["name"]: o["url"] for o in listing.get("objects") or []}
            metafile = listing.get("metafile")
            if isinstance(metafile, Mapping):
                urls[metafile["name"]] = metafile["url"]
            self._urls = urls
            self._lines = {
                o["name"]: o["lines"]
                for o in listing.get("objects") or []
                if isinstance(o.get("lines"), int)
            }
            self._version += 1
            self.listings += 1
            return listing

    def _url(self, name: str) -> tuple[str, int]:
        with self._lock:
            url, version = self._urls.get(name), self._version
        if url is None and version == 0:
            self.refresh(0)
            with self._lock:
                url, version = self._urls.get(name), self._version
        if url is None:
            raise ObjectNotFound(f"reading {name}: not in the log's listing")
        return url, version

    def list_objects(
        self, container: str, prefix: str = "", marker: str = "", end_marker: str = ""
    ) -> Iterator[ObjectInfo]:
        listing = self.refresh()
        for obj in listing.get("objects") or []:
            name = obj["name"]
            if not name.startswith(prefix) or (marker and name <= marker):
                continue
            if end_marker and name >= end_marker:
                continue
            yield ObjectInfo(name, int(obj["size"]), "", "")

    # --- reads ------------------------------------------------------------------

    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def _request(
        self, method: str, name: str, headers: Mapping[str, str], stream: bool = False
    ) -> requests.Response:
        """The answer of Swift to `method` on the object's URL; fresh URLs on a refusal."""
        what = f"reading {name}"
        for _ in range(_REFRESHES + 1):
            url, version = self._url(name)
            try:
                resp = self._http.request(
                    method,
                    url,
                    headers=dict(headers),
                    stream=stream,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise StorageUnavailable(
                    f"{what}: Swift is unreachable ({type(exc).__name__})"
                ) from None
            if resp.status_code not in (401, 403):
                return resp
            resp.close()
            self.refresh(version)  # expired (or the key changed): fresh URLs, once per listing
        raise StorageAuthError(
            f"{what}: Swift refused the API's temp URL {_REFRESHES + 1} times "
            "(is [api] temp_url_key the account's X-Account-Meta-Temp-URL-Key?)"
        )

    @staticmethod
    def _check(resp: requests.Response, name: str) -> None:
        if resp.status_code == 404:
            resp.close()
            raise ObjectNotFound(f"reading {name}: not found")
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            resp.close()
            raise StorageUnavailable(f"reading {name}: Swift answered {resp.status_code}")
        if resp.status_code >= 300:
            resp.close()
            raise StorageError(
                f"reading {name}: Swift answered {resp.status_code} {printable(resp.reason, 80)}"
            )

    def head_object(self, container: str, name: str) -> dict[str, str]:
        with self._lock:
            lines = self._lines.get(name)
        resp = self._request("HEAD", name, {})
        self._check(resp, name)
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if lines is not None:
            headers.setdefault("x-object-meta-lines", str(lines))
        return headers

    def get_object(
        self, container: str, name: str, start: int | None = None, end: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        wanted = byte_range(start, end)
        if wanted == "":
            return self.head_object(container, name), b""
        headers = {"Range": wanted} if wanted else {}
        resp = self._request("GET", name, headers)
        if resp.status_code == 416:  # the range starts past the end
            resp.close()
            return self.head_object(container, name), b""
        self._check(resp, name)
        return {k.lower(): v for k, v in resp.headers.items()}, resp.content

    def stream_object(
        self, container: str, name: str, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> tuple[dict[str, str], Iterator[bytes]]:
        resp = self._request("GET", name, {}, stream=True)
        self._check(resp, name)
        headers = {k.lower(): v for k, v in resp.headers.items()}
        size = int(headers.get("content-length") or -1)

        def chunks() -> Iterator[bytes]:
            current, pos, resumes = resp, 0, 0
            try:
                while True:
                    try:
                        for chunk in current.iter_content(chunk_size):
                            pos += len(chunk)
                            yield chunk
                        if size < 0 or pos >= size:
                            return
                    except requests.RequestException:
                        if resumes >= _RESUMES:
                            raise StorageUnavailable(
                                f"reading {name}: cut off at byte {pos}, {resumes} times"
                            ) from None
                    # cut off before its end: go on from where it stopped (fresh URL if need be)
                    resumes += 1
                    current.close()
                    current = self._request("GET", name, {"Range": f"bytes={pos}-"}, stream=True)
                    self._check(current, name)
            finally:
                current.close()

        return headers, chunks()

    # --- what a read-only store refuses ---------------------------------------------

    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        headers: Mapping[str, str] | None = None,
        turn: UploadTurn | None = None,
    ) -> str:
        raise StorageError("the API's temp URLs are for reading only")

    def delete_object(self, container: str, name: str) -> bool:
        raise StorageError("the API's temp URLs are for reading only")

    def check(self) -> None:
        self.refresh()

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        self._local = threading.local()
