"""A log laid out as one run of bytes (logsvc.client.published), and reads of ranges of it."""

import random

import pytest

from logsvc.client.listing import Gap, Snapshot, take_snapshot
from logsvc.client.published import ByteRange, PublishedLog, lines_header, object_lines
from logsvc.client.reader import LogReader
from logsvc.storage.file import FileStore
from tests.store_wrappers import CountingStore
from tests.unit.test_client_listing import objects
from tests.unit.test_client_reader import LOC, put_log, put_metafile


def test_a_whole_log_is_held_where_it_was_published():
    snap = Snapshot(tuple(objects((1, 0, 10), (1, 10, 5), (2, 0, 7))), (), None)
    layout = PublishedLog.of(snap)
    assert [(p.start, p.end, p.published_start) for p in layout.objects] == [
        (0, 10, 0),
        (10, 15, 10),
        (15, 22, 15),
    ]
    assert (layout.size, layout.published, layout.missing, layout.missing_text()) == (
        22,
        22,
        (),
        "",
    )


def test_missing_ranges_are_placed_in_the_published_log():
    # generations gone before everything, a hole inside generation 1, its current end lost
    gaps = (Gap(None, 0, 100), Gap(1, 10, 20), Gap(2, 7, 9))
    snap = Snapshot(tuple(objects((1, 0, 10), (1, 20, 5), (2, 0, 7))), gaps, None)
    layout = PublishedLog.of(snap)
    assert [(p.start, p.published_start) for p in layout.objects] == [
        (0, 100),
        (10, 120),
        (15, 125),
    ]
    assert layout.missing == (ByteRange(0, 100), ByteRange(110, 120), ByteRange(132, 134))
    assert layout.missing_text() == "0-99,110-119,132-133"
    assert (layout.size, layout.published) == (22, 134)


def test_adjacent_gaps_are_one_range():
    snap = Snapshot(tuple(objects((2, 0, 4))), (Gap(None, 0, 5), Gap(1, 0, 3)), None)
    assert PublishedLog.of(snap).missing == (ByteRange(0, 8),)


def test_spans_cut_the_objects_that_hold_a_range():
    layout = PublishedLog.of(Snapshot(tuple(objects((1, 0, 10), (1, 10, 5), (2, 0, 7))), (), None))
    cut = [(s.obj.offset, s.obj.generation, s.lo, s.hi) for s in layout.spans(8, 17)]
    assert cut == [(0, 1, 8, 10), (10, 1, 0, 5), (0, 2, 0, 2)]
    assert layout.spans(0, 22)[0].lo == 0 and len(layout.spans(0, 99)) == 3
    assert layout.spans(22, 30) == [] and layout.spans(5, 5) == []


def test_the_etag_changes_with_the_bytes_and_the_variant(tmp_path):
    store = FileStore(tmp_path)
    put_log(store, b"a\nb\nc\n", [2, 2])
    first = PublishedLog.of(take_snapshot(store, LOC.container, LOC.prefix))
    again = PublishedLog.of(take_snapshot(store, LOC.container, LOC.prefix))
    assert first.etag() == again.etag() != first.etag("lines=5")
    store.put_object(LOC.container, LOC.chunk_name(1, 4), b"C\n")  # same size, other bytes
    changed = PublishedLog.of(take_snapshot(store, LOC.container, LOC.prefix))
    assert changed.size == first.size and changed.etag() != first.etag()
    assert changed.last_modified() is not None and changed.last_modified().tzinfo is not None
    assert PublishedLog.of(Snapshot((), (), None)).last_modified() is None


def test_line_counts_come_from_the_headers(tmp_path):
    store = FileStore(tmp_path)
    put_log(store, b"a\nb\nc\nd", [4])
    layout = PublishedLog.of(take_snapshot(store, LOC.container, LOC.prefix))
    assert [object_lines(store, LOC.container, p.obj) for p in layout.objects] == [2, 1]
    assert lines_header({"x-object-meta-lines": "x"}) is None
    assert lines_header({"x-object-meta-lines": "-3"}) is None
    assert lines_header({}) is None


@pytest.mark.parametrize("seed", range(5))
def test_a_read_of_any_range_is_those_bytes(tmp_path, seed):
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(3000))
    store = CountingStore(FileStore(tmp_path))
    put_log(store, data, [rng.randint(1, 700) for _ in range(6)])
    with LogReader(store, LOC.container, LOC.prefix, LOC.metafile) as reader:
        assert b"".join(reader.read()) == data
        for _ in range(20):
            a = rng.randrange(len(data) + 1)
            b = rng.randrange(a, len(data) + 1)
            store.reset()
            assert b"".join(reader.read(a, b)) == data[a:b]
            assert store.bytes_read == b - a  # only the bytes asked for


def test_a_read_passes_over_what_expired(tmp_path):
    store = FileStore(tmp_path)
    names = put_log(store, b"0123456789abcdefghij", [5, 5, 5])
    put_metafile(store, 1, 20, 20)
    store.delete_object(LOC.container, names[1])
    with LogReader(store, LOC.container, LOC.prefix, LOC.metafile) as reader:
        layout = PublishedLog.of(reader.snapshot())
        assert (layout.size, layout.published, layout.missing_text()) == (15, 20, "5-9")
        assert b"".join(reader.read(layout=layout)) == b"01234abcdefghij"
        assert b"".join(reader.read(3, 7, layout=layout)) == b"34ab"
