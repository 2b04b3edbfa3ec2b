"""Which bytes of a log are gone, from its object names and its metafile."""

import json

from logsvc.client.listing import Gap, LogObject, MetafileFigures, find_gaps, log_objects
from logsvc.layout import LogLocation
from logsvc.storage.base import ObjectInfo

LOC = LogLocation("c", "inst", "mysql", "general")


def objects(*spans: tuple[int, int, int]) -> list[LogObject]:
    """Objects from (generation, offset, size)."""
    return [LogObject(LOC.chunk_name(g, o), g, o, s) for g, o, s in spans]


def figures(
    generation: int, log_size: int, published: int, purge_below: int = 0
) -> MetafileFigures:
    return MetafileFigures(generation, log_size, published, purge_below)


def test_a_complete_log_has_no_gap():
    objs = objects((1, 0, 10), (1, 10, 5), (2, 0, 7), (2, 7, 3))
    assert find_gaps(objs) == []
    assert find_gaps(objs, figures(2, 10, 25)) == []


def test_an_expired_head_and_a_hole_in_the_middle():
    objs = objects((1, 20, 10), (1, 40, 5))
    assert find_gaps(objs) == [Gap(1, 0, 20), Gap(1, 30, 40)]


def test_each_generation_starts_at_zero():
    objs = objects((1, 0, 10), (2, 8, 2), (3, 0, 4))
    assert find_gaps(objs) == [Gap(2, 0, 8)]


def test_the_end_of_the_current_generation_from_the_metafile():
    objs = objects((3, 0, 10), (3, 10, 10))
    assert find_gaps(objs, figures(3, 35, 35)) == [Gap(3, 20, 35)]


def test_a_current_generation_with_no_object_left():
    objs = objects((2, 0, 10))
    assert find_gaps(objs, figures(3, 6, 16)) == [Gap(3, 0, 6)]
    assert find_gaps([], figures(1, 6, 6)) == [Gap(1, 0, 6)]


def test_whole_earlier_generations_show_as_a_count_of_bytes():
    # keep policy: generations 1 and 2 (100 bytes) expired entirely
    objs = objects((3, 0, 10), (3, 10, 10))
    gaps = find_gaps(objs, figures(3, 20, 120))
    assert gaps == [Gap(None, 0, 100)]
    assert "100 bytes of earlier generations" in str(gaps[0])


def test_unplaced_bytes_do_not_count_placed_gaps_twice():
    objs = objects((1, 0, 10), (2, 5, 5))
    gaps = find_gaps(objs, figures(2, 10, 20))
    assert gaps == [Gap(2, 0, 5)]


def test_objects_past_the_metafile_are_an_upload_after_it():
    # a publish is uploading beyond what the metafile committed: no gap, no negative count
    objs = objects((1, 0, 10), (1, 10, 10), (1, 20, 10))
    assert find_gaps(objs, figures(1, 10, 10)) == []
    # and a newer generation than the metafile knows
    objs = objects((1, 0, 10), (2, 0, 4))
    assert find_gaps(objs, figures(1, 10, 10)) == []


def test_listing_ignores_foreign_names_and_purged_generations():
    infos = [
        ObjectInfo(LOC.chunk_name(1, 0), 10, "e", "t"),
        ObjectInfo(LOC.prefix + "notes.txt", 3, "e", "t"),
        ObjectInfo(LOC.chunk_name(2, 0), 4, "e", "t"),
        ObjectInfo(LOC.chunk_name(2, 4), 4, "e", "t"),
    ]
    assert [o.generation for o in log_objects(infos, LOC.prefix)] == [1, 2, 2]
    kept = log_objects(infos, LOC.prefix, figures(2, 8, 8, purge_below=2))
    assert [(o.generation, o.offset) for o in kept] == [(2, 0), (2, 4)]


def test_gaps_read_well():
    assert str(Gap(4, 0, 1024)) == "bytes 0-1023 of generation 4 (1024 bytes) are gone"
    assert "expired while being read" in str(Gap(4, 0, 1, while_reading=True))


def test_figures_from_a_metafile():
    raw = json.dumps(
        {"generation": 3, "log_size": 10, "published": 30, "purge_below": 0, "log_lines": 2}
    ).encode()
    assert MetafileFigures.parse(raw) == MetafileFigures(3, 10, 30, 0)
    assert MetafileFigures.parse(b"not json") is None
    assert MetafileFigures.parse(b"[1, 2]") is None
    assert MetafileFigures.parse(b'{"generation": 1}') is None
