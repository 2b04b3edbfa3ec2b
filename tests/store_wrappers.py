"""Real stores wrapped to watch or disturb what a reader does with them."""

import threading

from logsvc.exceptions import StorageUnavailable
from logsvc.storage.base import ObjectStore


class Passthrough(ObjectStore):
    """Every call goes to the real store `inner`."""

    def __init__(self, inner: ObjectStore):
        self.inner = inner
        self.description = inner.description

    def put_object(self, container, name, data, headers=None, turn=None):
        return self.inner.put_object(container, name, data, headers, turn)

    def get_object(self, container, name, start=None, end=None):
        return self.inner.get_object(container, name, start, end)

    def stream_object(self, container, name, chunk_size=1 << 20):
        return self.inner.stream_object(container, name, chunk_size)

    def head_object(self, container, name):
        return self.inner.head_object(container, name)

    def list_objects(self, container, prefix="", marker="", end_marker=""):
        return self.inner.list_objects(container, prefix, marker, end_marker)

    def delete_object(self, container, name):
        return self.inner.delete_object(container, name)

    def check(self):
        return self.inner.check()


class CountingStore(Passthrough):
    """Counts the bytes of object bodies read (GET and streamed), and the requests."""

    def __init__(self, inner: ObjectStore):
        super().__init__(inner)
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        #: Bytes of log objects read (the metafile, which every read takes, apart).
        self.bytes_read = 0
        self.metafile_bytes = 0
        self.gets: list[tuple[str, int | None, int | None]] = []
        self.heads = 0
        self.lists = 0

    @property
    def object_gets(self) -> list[tuple[str, int | None, int | None]]:
        """(name, start, end) of each read of a log object (not of the metafile)."""
        return [g for g in self.gets if not g[0].endswith("_metafile")]

    def _count(self, name: str, n: int) -> None:
        with self.lock:
            if name.endswith("_metafile"):
                self.metafile_bytes += n
            else:
                self.bytes_read += n

    def get_object(self, container, name, start=None, end=None):
        self.gets.append((name, start, end))
        headers, body = super().get_object(container, name, start, end)
        self._count(name, len(body))
        return headers, body

    def stream_object(self, container, name, chunk_size=1 << 20):
        self.gets.append((name, None, None))
        headers, chunks = super().stream_object(container, name, chunk_size)

        def counted():
            for chunk in chunks:
                self._count(name, len(chunk))
                yield chunk

        return headers, counted()

    def head_object(self, container, name):
        with self.lock:
            self.heads += 1
        return super().head_object(container, name)

    def list_objects(self, container, prefix="", marker="", end_marker=""):
        self.lists += 1
        return super().list_objects(container, prefix, marker, end_marker)


class VanishingStore(Passthrough):
    """Deletes chosen objects from the real store right before the reader first touches them.

    As when they expire between the listing and the read: the store then
    answers 404 for real.
    """

    def __init__(self, inner: ObjectStore, doomed: set[str]):
        super().__init__(inner)
        self.doomed = set(doomed)

    def _vanish(self, container, name):
        if name in self.doomed:
            self.doomed.discard(name)
            self.inner.delete_object(container, name)

    def get_object(self, container, name, start=None, end=None):
        self._vanish(container, name)
        return super().get_object(container, name, start, end)

    def stream_object(self, container, name, chunk_size=1 << 20):
        self._vanish(container, name)
        return super().stream_object(container, name, chunk_size)

    def head_object(self, container, name):
        self._vanish(container, name)
        return super().head_object(container, name)


class FailingStream(Passthrough):
    """The store goes away in the middle of streaming the `at`-th object."""

    def __init__(self, inner: ObjectStore, at: int):
        super().__init__(inner)
        self.at = at
        self.streams = 0
        self.lock = threading.Lock()  # a reader streams from several threads

    def stream_object(self, container, name, chunk_size=1 << 20):
        with self.lock:
            self.streams += 1
            nth = self.streams
        headers, chunks = super().stream_object(container, name, chunk_size)
        if nth != self.at:
            return headers, chunks

        def broken():
            for i, chunk in enumerate(chunks):
                if i == 0 and len(chunk) > 1:
                    yield chunk[: len(chunk) // 2]
                raise StorageUnavailable(f"injected: connection lost while reading {name}")

        return headers, broken()
