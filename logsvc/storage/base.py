"""The small interface every object-store backend implements.

logsvc needs few operations of an object store: put a small object with
metadata, read one (whole, a byte range, or streamed), list a prefix in name
order (every page of it), delete one. Header names are lower-case in what a
backend returns; metadata travels as ``x-object-meta-*`` headers and expiry as
``x-delete-after`` (seconds) on a put, exactly as Swift spells them.
"""

import abc
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

DEFAULT_READ_CHUNK = 1 << 20

#: The most uploads one caller may keep in flight in a backend, unless it says fewer.
MAX_UPLOAD_CONCURRENCY = 32


@dataclass(frozen=True)
class ObjectInfo:
    """One entry of a listing."""

    name: str
    size: int
    etag: str
    last_modified: str  # ISO 8601, microseconds, UTC, as Swift lists it


@dataclass(frozen=True)
class Part:
    """One part of an object made of parts (`ObjectStore.put_joined`)."""

    name: str  # in the same container
    size: int
    etag: str | None  # its MD5; None: the store does not check it


def iso_timestamp(epoch: float) -> str:
    """An epoch time in Swift's listing format (``2015-11-18T21:28:09.975754``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def md5_hex(data: bytes) -> str:
    # The object store's own integrity check, not a security measure.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def byte_range(start: int | None, end: int | None) -> str | None:
    """The ``Range`` header's value for the bytes ``[start, end)`` of an object.

    A negative `start` is a suffix (the last ``-start`` bytes; no `end` then).
    None: no range (the whole object); "": a range that selects nothing.
    """
    if start is not None and start < 0:
        if end is not None:
            raise ValueError("a suffix range takes no end")
        return f"bytes=-{-start}"
    if start is None and end is None:
        return None
    first = start or 0
    if end is not None and end <= first:
        return ""
    return f"bytes={first}-{'' if end is None else end - 1}"


class UploadTurn(Protocol):
    """Where one upload stands among others in flight, told by the store as it goes.

    The store calls, for each attempt at the upload (a retry is a new one):
    `start` before it sends anything (it may block); `taken` once the store
    has given the object the time it will list as its last-modified (the
    attempt's request was taken; Swift's proxy stamps a PUT when it takes the
    request, before it reads the body); `release` before the object can
    become visible (Swift: before the body's last bytes are sent; it may
    block). Whatever `release` raises aborts the attempt, which then stores
    nothing, and comes out of `put_object` as it is.
    """

    def start(self) -> None: ...

    def taken(self) -> None: ...

    def release(self) -> None: ...


class ObjectStore(abc.ABC):
    """An object store: containers of named objects with metadata and expiry."""

    #: What the store is, for messages and reports (never a credential).
    description: str = "object store"
    #: How many uploads one caller may keep in flight at once (each with its turn).
    max_upload_concurrency: int = MAX_UPLOAD_CONCURRENCY

    @abc.abstractmethod
    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        headers: Mapping[str, str] | None = None,
        turn: UploadTurn | None = None,
    ) -> str:
        """Store `data` under `name`, creating the container if needed.

        Returns the object's etag (MD5 of `data`); the store checks the bytes
        it received against it. An ``ETag`` among `headers` is the caller's MD5
        of `data`: the store refuses data that does not match it. With a
        `turn`, the store tells it how the upload goes (`UploadTurn`), so that
        a caller with several uploads in flight can order them.
        """

    @abc.abstractmethod
    def get_object(
        self, container: str, name: str, start: int | None = None, end: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """An object's headers and bytes, or the slice ``[start:end]`` of them.

        A negative `start` asks for that many bytes at the end of the object.
        """

    @abc.abstractmethod
    def stream_object(
        self, container: str, name: str, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> tuple[dict[str, str], Iterator[bytes]]:
        """An object's headers and its bytes as an iterator of chunks."""

    @abc.abstractmethod
    def head_object(self, container: str, name: str) -> dict[str, str]:
        """An object's headers: content-length, etag, x-object-meta-* ..."""

    @abc.abstractmethod
    def list_objects(
        self, container: str, prefix: str = "", marker: str = "", end_marker: str = ""
    ) -> Iterator[ObjectInfo]:
        """Every object whose name starts with `prefix`, in name order.

        Only names after `marker` and before `end_marker` (when given). The
        iterator fetches page after page; a missing container lists nothing.
        """

    @abc.abstractmethod
    def delete_object(self, container: str, name: str) -> bool:
        """Delete an object; False when there was none."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise a StorageError unless the store answers with our credentials."""

    def close(self) -> None:  # noqa: B027 - optional for backends with no resources
        """Release connections."""

    # --- objects made of parts (Swift's static large objects) ------------------------

    def joins_parts(self) -> bool:
        """Whether the store serves an object made of parts (`put_joined`).

        Then a followed log's open object grows by a part holding its new
        bytes (docs/follow.md), rather than by a rewrite of all of it.
        """
        return False

    def put_joined(
        self, container: str, name: str, parts: "list[Part]", headers: Mapping[str, str]
    ) -> int:
        """Make `name` the concatenation of `parts`, at once; the bytes the request sent."""
        raise NotImplementedError(f"{self.description} does not join parts")

    def copy_object(
        self, container: str, source: str, destination: str, headers: Mapping[str, str]
    ) -> None:
        """Store a copy of `source` (its bytes: joined, if it is made of parts) as
        `destination` (which may be `source`), its metadata and `headers` with it."""
        raise NotImplementedError(f"{self.description} does not copy objects")

    def parts(self, container: str, name: str) -> "list[str] | None":
        """The names of the parts `name` is made of; None if it is not made of parts
        (or is not there)."""
        return None
