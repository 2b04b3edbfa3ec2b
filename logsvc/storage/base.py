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

DEFAULT_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class ObjectInfo:
    """One entry of a listing."""

    name: str
    size: int
    etag: str
    last_modified: str  # ISO 8601, microseconds, UTC, as Swift lists it


def iso_timestamp(epoch: float) -> str:
    """An epoch time in Swift's listing format (``2015-11-18T21:28:09.975754``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def md5_hex(data: bytes) -> str:
    # The object store's own integrity check, not a security measure.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class ObjectStore(abc.ABC):
    """An object store: containers of named objects with metadata and expiry."""

    #: What the store is, for messages and reports (never a credential).
    description: str = "object store"

    @abc.abstractmethod
    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Store `data` under `name`, creating the container if needed.

        Returns the object's etag (MD5 of `data`); the store checks the bytes
        it received against it. An ``ETag`` among `headers` is the caller's MD5
        of `data`: the store refuses data that does not match it.
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
