"""The reader on objects laid out by hand in the file store (no process, many cases)."""

import os
import random

import pytest

from logsvc.client.listing import Gap
from logsvc.client.reader import LogReader
from logsvc.exceptions import StorageUnavailable
from logsvc.layout import LogLocation
from logsvc.storage.file import FileStore
from tests.store_wrappers import CountingStore, FailingStream, VanishingStore
from tests.tail_reference import reference

LOC = LogLocation("logs", "inst-1", "mysql", "general")


def put_log(store, data: bytes, sizes: list[int], generation: int = 1, lines_header=True):
    """Cut `data` into objects of these sizes (the last takes the rest)."""
    pos, names = 0, []
    for i, size in enumerate([*sizes, len(data)]):
        piece = data[pos : pos + size] if i < len(sizes) else data[pos:]
        if not piece:
            break
        headers = {"X-Object-Meta-Lines": str(piece.count(b"\n"))} if lines_header else {}
        name = LOC.chunk_name(generation, pos)
        store.put_object(LOC.container, name, piece, headers)
        names.append(name)
        pos += len(piece)
    return names


def put_metafile(store, generation: int, log_size: int, published: int):
    body = f'{{"generation": {generation}, "log_size": {log_size}, "published": {published}}}'
    store.put_object(LOC.container, LOC.metafile, body.encode())


def reader(store) -> LogReader:
    return LogReader(store, LOC.container, LOC.prefix, LOC.metafile)


def tail(store_or_reader, n: int) -> tuple[bytes, list[Gap]]:
    if isinstance(store_or_reader, LogReader):
        out = store_or_reader.tail(n)
    else:
        with reader(store_or_reader) as one_off:
            out = one_off.tail(n)
            data = b"".join(out)
            return data, out.gaps
    return b"".join(out), out.gaps


def random_log(rng: random.Random, lines: int) -> bytes:
    parts = []
    for _ in range(lines):
        kind = rng.random()
        if kind < 0.1:
            parts.append(b"L" * rng.randint(50, 200) + b"\n")  # longer than some objects
        elif kind < 0.2:
            parts.append(b"\xff\xfe\x00crlf\r\n")
        elif kind < 0.25:
            parts.append(b"\n")
        else:
            parts.append(b"q%d " % rng.randint(0, 10**6) + b"x" * rng.randint(0, 40) + b"\n")
    if rng.random() < 0.5:
        parts.append(b"no newline at the end")
    return b"".join(parts)


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "objects")


def test_tail_agrees_with_tail_on_random_logs_and_cuts(store):
    rng = random.Random(2026)
    for case in range(8):
        data = random_log(rng, rng.randint(0, 120))
        container_store = FileStore(store.root / f"case-{case}")
        sizes = [rng.randint(1, 120) for _ in range(len(data) // 40 + 1)]
        put_log(container_store, data, sizes)
        with reader(container_store) as log_reader:
            for n in [*range(0, 30), 50, 99, 500, -1, -2, -5, -17, -60, -1000]:
                assert tail(log_reader, n)[0] == reference(data, n), (case, n)


def test_tail_without_line_counts_in_the_metadata(store):
    data = b"".join(b"line %d\n" % i for i in range(200)) + b"end"
    put_log(store, data, [97] * 20, lines_header=False)
    for n in (1, 2, 50, 199, 201, 300, -1, -150, -201):
        assert tail(store, n)[0] == reference(data, n)


def test_generations_concatenate(store):
    first = b"".join(b"old %d\n" % i for i in range(30)) + b"old tail without newline"
    second = b"".join(b"new %d\n" % i for i in range(30))
    put_log(store, first, [50] * 10, generation=1)
    put_log(store, second, [60] * 10, generation=2)
    put_metafile(store, 2, len(second), len(first) + len(second))
    data = first + second
    for n in (1, 30, 31, 32, 61, 100, -29, -30, -31, 0):
        got, gaps = tail(store, n)
        assert got == reference(data, n)
        assert gaps == []


def test_tail_of_50_lines_reads_one_range_of_the_last_object(store):
    line = b"2026-11-22T01:00:00.000000Z\t7 Query\tSELECT 1 /* padding padding */\n"
    data = line * 5000  # about 350 kB
    put_log(store, data, [64 * 1024] * 10)
    counting = CountingStore(store)
    got, _ = tail(counting, 50)
    assert got == reference(data, 50)
    assert counting.bytes_read <= 16 * 1024  # one range at the end of the last object
    assert len(counting.object_gets) == 1
    assert counting.heads == 0


def test_a_short_last_object_costs_at_most_two_objects(store):
    line = b"a log line of some length, as they come\n"
    data = line * 3000 + line * 3  # the last publish brought three lines
    limit = 16 * 1024
    sizes = [limit - limit % len(line)] * (len(line) * 3000 // (limit - limit % len(line)))
    put_log(store, data, sizes)
    counting = CountingStore(store)
    for n in (1, 3, 4, 50, 400):
        counting.reset()
        got, _ = tail(counting, n)
        assert got == reference(data, n)
        assert counting.bytes_read <= 2 * limit, n
        assert counting.bytes_read <= len(got) + limit, n


def test_the_start_object_is_read_in_ranges_from_its_end(store):
    # one big object: the last 30,000 lines take more than the first range read
    data = b"".join(b"%08d\n" % i for i in range(100_000))
    put_log(store, data, [len(data)])
    counting = CountingStore(store)
    got, _ = tail(counting, 30_000)
    assert got == reference(data, 30_000)
    # the second range is sized from the lines seen in the first: little more is read
    assert len(counting.object_gets) == 2
    assert counting.bytes_read <= 1.3 * len(got)


def test_negative_counts_skip_objects_by_their_line_counts(store):
    data = b"".join(b"line %04d\n" % i for i in range(1000))
    put_log(store, data, [1000] * 10)
    counting = CountingStore(store)
    got, _ = tail(counting, -995)
    assert got == reference(data, -995)
    assert counting.bytes_read <= 1000  # only the last object was read


def test_expired_objects_are_gaps_and_the_rest_is_the_log(store):
    data = b"".join(b"line %03d\n" % i for i in range(100))  # 9 bytes a line
    names = put_log(store, data, [90] * 9)  # 10 objects of 10 lines
    put_metafile(store, 1, len(data), len(data))
    store.delete_object(LOC.container, names[0])
    store.delete_object(LOC.container, names[5])
    present = data[90:450] + data[540:]
    got, gaps = tail(store, 0)
    assert got == present
    assert gaps == [Gap(1, 0, 90), Gap(1, 450, 540)]
    got, gaps = tail(store, 20)
    assert got == data[-180:]
    assert gaps == []  # nothing is missing in the last 20 lines
    got, gaps = tail(store, 45)
    assert got == reference(present, 45)
    assert gaps == [Gap(1, 450, 540)]  # the output passes over it
    got, gaps = tail(store, -5)
    assert got == reference(present, -5)
    assert gaps == [Gap(1, 0, 90), Gap(1, 450, 540)]  # they shift the numbering


def test_the_end_of_the_log_gone(store):
    data = b"".join(b"line %03d\n" % i for i in range(20))
    names = put_log(store, data, [45] * 3)
    put_metafile(store, 1, len(data), len(data))
    store.delete_object(LOC.container, names[-1])
    got, gaps = tail(store, 2)
    assert got == data[:135][-18:]
    assert gaps == [Gap(1, 135, 180)]


def test_objects_that_vanish_after_the_listing(store):
    data = b"".join(b"line %03d\n" % i for i in range(100))
    names = put_log(store, data, [90] * 9)
    put_metafile(store, 1, len(data), len(data))
    # the last object (read first, backwards) and one in the middle
    vanishing = VanishingStore(store, {names[-1], names[7]})
    present = data[: 7 * 90] + data[8 * 90 : 9 * 90]
    got, gaps = tail(vanishing, 25)
    assert got == reference(present, 25)
    assert gaps == [Gap(1, 630, 720, while_reading=True), Gap(1, 810, 900, while_reading=True)]


def test_objects_that_vanish_while_the_output_is_consumed(store):
    data = b"".join(b"line %03d\n" % i for i in range(100))
    names = put_log(store, data, [90] * 9)
    out = reader(store).tail(0)  # listed now, read as consumed
    first = next(out)
    store.delete_object(LOC.container, names[4])
    rest = b"".join(out)
    assert first + rest == data[:360] + data[450:]
    assert out.gaps == [Gap(1, 360, 450, while_reading=True)]


def test_save_writes_the_log_and_reports_progress(store, tmp_path):
    data = b"".join(b"line %05d\xff\r\n" % i for i in range(20_000))
    put_log(store, data, [50_000] * 10)
    seen = []
    target = tmp_path / "out" / "general.log"
    target.parent.mkdir()
    saved = reader(store).save(target, progress=lambda done, total: seen.append((done, total)))
    assert target.read_bytes() == data
    assert saved.bytes_written == len(data) and saved.gaps == ()
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert os.listdir(target.parent) == ["general.log"]
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_save_reports_gaps(store, tmp_path):
    data = b"".join(b"line %03d\n" % i for i in range(100))
    names = put_log(store, data, [90] * 9)
    put_metafile(store, 1, len(data), len(data))
    store.delete_object(LOC.container, names[2])
    vanishing = VanishingStore(store, {names[6]})
    seen = []
    saved = reader(vanishing).save(tmp_path / "g.log", lambda d, t: seen.append((d, t)))
    assert (tmp_path / "g.log").read_bytes() == data[:180] + data[270:540] + data[630:]
    assert saved.gaps == (Gap(1, 180, 270), Gap(1, 540, 630, while_reading=True))
    assert seen[-1] == (saved.bytes_written, saved.bytes_written)


def test_a_failed_save_leaves_nothing_behind(store, tmp_path):
    data = b"x" * 99 + b"\n"
    put_log(store, data * 100, [1000] * 9)
    target = tmp_path / "dl" / "general.log"
    target.parent.mkdir()
    with pytest.raises(StorageUnavailable):
        reader(FailingStream(store, at=4)).save(target)
    assert os.listdir(target.parent) == []
    target.write_bytes(b"an earlier copy\n")
    with pytest.raises(StorageUnavailable):
        reader(FailingStream(store, at=2)).save(target)
    assert os.listdir(target.parent) == ["general.log"]
    assert target.read_bytes() == b"an earlier copy\n"


def test_an_empty_or_unknown_log(store, tmp_path):
    assert tail(store, 50) == (b"", [])
    assert tail(store, -3) == (b"", [])
    saved = reader(store).save(tmp_path / "empty.log")
    assert saved.bytes_written == 0 and (tmp_path / "empty.log").read_bytes() == b""
