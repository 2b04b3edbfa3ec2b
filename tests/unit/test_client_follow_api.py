"""Following through the read route: `ApiSource` over the route's own work (api/logread.py)
and the client's `LogData`, on a file store whose objects the test writes and deletes as the
agent would (an open object rewritten, a rotation that purges, expiry).

What the follower gets is checked byte for byte, and every Range it asks starts where
the bytes it already has end: nothing is read twice.
"""

from api import logread
from logsvc.client.api import LogData
from logsvc.client.cursor import Notice
from logsvc.client.follow import ApiSource
from logsvc.client.published import PublishedLog
from logsvc.client.reader import LogReader
from logsvc.exceptions import RangeNotSatisfiable
from logsvc.layout import LogLocation
from logsvc.storage.file import FileStore

LOC = LogLocation("logs", "inst-1", "file", "general")


class Route:
    """The read route's answers, in process: what ``GET .../data`` would send."""

    def __init__(self, store: FileStore):
        self.reader = LogReader(store, LOC.container, LOC.prefix, LOC.metafile)
        self.asked: list[int | None] = []

    def __call__(self, start: int | None = None, lines: int | None = None) -> LogData:
        self.asked.append(start)
        layout = PublishedLog.of(self.reader.snapshot())
        reader = self.reader if layout.objects else None
        header = f"bytes={start}-" if start is not None else None
        try:
            data = logread.answer(layout, reader, lines=lines, range_header=header)
        except RangeNotSatisfiable as exc:
            return LogData(416, exc.headers, iter(()))
        return LogData(data.status, data.headers, data.chunks)


def look(source: ApiSource) -> list[bytes | Notice]:
    """One round of the follow, its bytes joined between notices."""
    out: list[bytes | Notice] = []
    for item in source.news():
        if isinstance(item, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += item
        else:
            out.append(item)
    return out


def test_a_follow_through_the_route_across_rewrites_a_purge_and_expiry(tmp_path):
    store = FileStore(tmp_path)

    def put(generation: int, offset: int, data: bytes) -> None:
        store.put_object(LOC.container, LOC.chunk_name(generation, offset), data)

    put(1, 0, b"a1\na2\n")
    put(1, 6, b"a3\n")
    route = Route(store)
    source = ApiSource(route)
    assert b"".join(source.tail(2)) == b"a2\na3\n"
    assert look(source) == []  # nothing new: a 416

    put(1, 6, b"a3\na4\n")  # the open object, rewritten with more
    put(1, 12, b"a5\n")
    assert look(source) == [b"a4\na5\n"]

    # A rotation that purged generation 1; generation 2 already holds more bytes than
    # generation 1 did, so the size alone does not tell.
    for offset in (0, 6, 12):
        store.delete_object(LOC.container, LOC.chunk_name(1, offset))
    new = b"".join(b"b%d\n" % i for i in range(10))
    put(2, 0, new)
    assert look(source) == [Notice("rotated", "-- the log rotated: generation 2 --"), new]

    # The oldest object expires while more comes: positions move, the place does not.
    put(2, len(new), b"b10\n")
    store.delete_object(LOC.container, LOC.chunk_name(2, 0))
    put(2, len(new) + 4, b"b11\n")
    assert look(source) == [b"b10\nb11\n"]
    assert look(source) == []

    # Bytes gone past the place: told, then what follows them.
    put(2, len(new) + 100, b"b99\n")
    gap = f"-- bytes {len(new) + 8}-{len(new) + 99} of generation 2 are gone --"
    assert look(source) == [Notice("gap", gap), b"b99\n"]

    # Every Range from where the follower's bytes end. Where the layout moved under it
    # (the purge, the expiry), the answer is closed unread and asked again from there.
    assert route.asked == [None, 9, 9, 15, 0, 30, 0, 8, 8]  # None: the tail, ?lines=2
