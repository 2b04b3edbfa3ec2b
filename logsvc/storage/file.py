"""The embedded object store: a directory tree that mirrors containers and objects.

``<root>/<container>/<object name>`` holds an object's bytes, so that
``cat`` of a log's files in name order gives the log. Metadata and expiry live
beside, in ``<root>/.meta/<container>/<object name>.json``. Writes are atomic
(temporary file, fsync, rename); an expired object reads as missing and is
removed when it is next seen.
"""

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from email.utils import formatdate
from pathlib import Path

from logsvc import atomicfile
from logsvc.exceptions import InvalidObjectName, ObjectNotFound, StorageError
from logsvc.storage.base import (
    DEFAULT_READ_CHUNK,
    ObjectInfo,
    ObjectStore,
    UploadTurn,
    iso_timestamp,
    md5_hex,
)

_META_DIR = ".meta"
_MAX_SEGMENT = 255


def _check_container(container: str) -> None:
    if (
        not container
        or "/" in container
        or "\0" in container
        or container.startswith(".")
        or len(container.encode()) > _MAX_SEGMENT
    ):
        raise InvalidObjectName(f"{container!r} is not a valid container name")


def _check_name(name: str) -> None:
    segments = name.split("/")
    if (
        not name
        or "\0" in name
        or any(s in ("", ".", "..") for s in segments)
        or any(len(s.encode()) > _MAX_SEGMENT for s in segments)
        or any(s.endswith(".tmp") and s.startswith(".") for s in segments)
    ):
        raise InvalidObjectName(f"{name!r} is not an object name this store can hold")


class FileStore(ObjectStore):
    """Objects as files under `root`; safe for several processes at once."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.description = f"local directory {self.root}"
        self._clock_lock = threading.Lock()
        self._last_stamp = 0.0

    # --- paths --------------------------------------------------------------

    def _data_path(self, container: str, name: str) -> Path:
        _check_container(container)
        _check_name(name)
        return self.root / container / name

    def _meta_path(self, container: str, name: str) -> Path:
        return self.root / _META_DIR / container / (name + ".json")

    def _stamp(self) -> float:
        # Listings sort by last-modified in some readers (python-troveclient):
        # successive writes of this store never share a timestamp.
        with self._clock_lock:
            self._last_stamp = max(time.time(), self._last_stamp + 1e-6)
            return self._last_stamp

    # --- writes -------------------------------------------------------------

    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        headers: Mapping[str, str] | None = None,
        turn: UploadTurn | None = None,
    ) -> str:
        path = self._data_path(container, name)
        etag = md5_hex(data)
        if turn is not None:
            turn.start()
        stamp = self._stamp()
        if turn is not None:
            turn.taken()
        meta: dict[str, object] = {"etag": etag, "timestamp": stamp, "headers": {}}
        for key, value in (headers or {}).items():
            key = key.lower()
            if key == "x-delete-after":
                after = int(value)
                meta["delete_at"] = int(stamp + after) if after > 0 else None
            elif key == "x-delete-at":
                meta["delete_at"] = int(value)
            elif key == "etag" and str(value).strip('"') != etag:
                # As Swift does (422): the bytes are not those the caller sent.
                raise StorageError(
                    f"storing {container}/{name}: the data does not match its ETag {value!r}"
                )
            elif key.startswith("x-object-meta-") or key == "content-type":
                meta["headers"][key] = str(value)  # type: ignore[index]
        self._check_free(container, name, path)
        try:
            meta_path = self._meta_path(container, name)
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomicfile.replacing(path) as out:
                out.write(data)
                if turn is not None:
                    # The bytes are on disk before the turn; the object appears after it.
                    out.flush()
                    os.fsync(out.fileno())
                    turn.release()
                atomicfile.write_bytes(meta_path, json.dumps(meta).encode())
        except OSError as exc:
            raise StorageError(
                f"cannot write {name!r} to {self.description}: {exc.strerror}"
            ) from None
        return etag

    def _check_free(self, container: str, name: str, path: Path) -> None:
        """An object's name may not be a directory of others, nor lie inside another."""
        if path.is_dir():
            raise InvalidObjectName(f"{name!r} is a prefix of other objects' names here")
        top = self.root / container
        for parent in path.parents:
            if parent == top:
                return
            if parent.exists() and not parent.is_dir():
                raise InvalidObjectName(
                    f"{name!r} would lie inside the object {str(parent.relative_to(top))!r}"
                )

    def delete_object(self, container: str, name: str) -> bool:
        path = self._data_path(container, name)
        try:
            path.unlink()
            existed = True
        except FileNotFoundError:
            existed = False
        except (IsADirectoryError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StorageError(
                f"cannot delete {name!r} from {self.description}: {exc.strerror}"
            ) from None
        with contextlib.suppress(FileNotFoundError):
            self._meta_path(container, name).unlink()
        self._prune_dirs(path.parent, self.root / container)
        return existed

    @staticmethod
    def _prune_dirs(directory: Path, stop: Path) -> None:
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    # --- reads --------------------------------------------------------------

    def _load_meta(self, container: str, name: str) -> dict:
        path = self._data_path(container, name)
        try:
            meta = json.loads(self._meta_path(container, name).read_bytes())
            size = path.stat().st_size
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(f"object {name!r} not found in {container!r}") from None
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read {name!r} in {self.description}: {exc}") from None
        delete_at = meta.get("delete_at")
        if delete_at is not None and time.time() >= delete_at:
            self.delete_object(container, name)
            raise ObjectNotFound(f"object {name!r} in {container!r} has expired")
        meta["size"] = size
        return meta

    def head_object(self, container: str, name: str) -> dict[str, str]:
        meta = self._load_meta(container, name)
        headers = {
            "content-length": str(meta["size"]),
            "etag": meta["etag"],
            "x-timestamp": f"{meta['timestamp']:.5f}",
            "last-modified": formatdate(meta["timestamp"], usegmt=True),
            "content-type": "application/octet-stream",
        }
        if meta.get("delete_at") is not None:
            headers["x-delete-at"] = str(meta["delete_at"])
        headers.update(meta["headers"])
        return headers

    def get_object(
        self, container: str, name: str, start: int | None = None, end: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        headers = self.head_object(container, name)
        try:
            with open(self._data_path(container, name), "rb") as f:
                if start is None and end is None:
                    return headers, f.read()
                size = os.fstat(f.fileno()).st_size
                begin, stop = slice(start, end).indices(size)[:2]
                f.seek(begin)
                body = f.read(max(0, stop - begin))
                # as Swift answers a range: the length of the part, and where it lies
                headers["content-length"] = str(len(body))
                if body:
                    headers["content-range"] = f"bytes {begin}-{begin + len(body) - 1}/{size}"
                return headers, body
        except FileNotFoundError:
            raise ObjectNotFound(f"object {name!r} not found in {container!r}") from None

    def stream_object(
        self, container: str, name: str, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> tuple[dict[str, str], Iterator[bytes]]:
        headers = self.head_object(container, name)
        try:
            f = open(self._data_path(container, name), "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError:
            raise ObjectNotFound(f"object {name!r} not found in {container!r}") from None

        def chunks() -> Iterator[bytes]:
            with f:
                while block := f.read(chunk_size):
                    yield block

        return headers, chunks()

    def list_objects(
        self, container: str, prefix: str = "", marker: str = "", end_marker: str = ""
    ) -> Iterator[ObjectInfo]:
        _check_container(container)
        top = self.root / container
        for name in self._walk(top, "", prefix):
            if marker and name <= marker:
                continue
            if end_marker and name >= end_marker:
                return
            try:
                meta = self._load_meta(container, name)
            except ObjectNotFound:
                continue  # expired, or removed while we listed
            yield ObjectInfo(name, meta["size"], meta["etag"], iso_timestamp(meta["timestamp"]))

    def _walk(self, directory: Path, base: str, prefix: str) -> Iterator[str]:
        """Names below `directory` in the order Swift lists them, lazily.

        A directory ``d`` sorts as ``d/`` among its siblings: every name below
        it starts with ``d/``, so this order is the order of the full names.
        """
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        keyed = []
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                continue
            full = base + entry.name
            if entry.is_dir(follow_symlinks=False):
                full += "/"
                if not (full.startswith(prefix) or prefix.startswith(full)):
                    continue
                keyed.append((full, entry.path))
            elif entry.is_file(follow_symlinks=False) and full.startswith(prefix):
                keyed.append((full, None))
        for full, subdir in sorted(keyed):
            if subdir is None:
                yield full
            else:
                yield from self._walk(Path(subdir), full, prefix)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StorageError(f"{self.description} is not writable")
        except OSError as exc:
            raise StorageError(f"{self.description} is not usable: {exc.strerror}") from None
