"""A follower's place across layouts (logsvc/client/cursor.py), case by case."""

from logsvc.client.cursor import Cursor, Notice, Place, Run, parse_runs, runs_text
from logsvc.client.listing import LogObject, Snapshot
from logsvc.client.published import PublishedLog


def layout(*objects: tuple[int, int, int]) -> PublishedLog:
    """A layout of objects (generation, offset, size)."""
    objs = tuple(LogObject(f"log-{g}-{o}", g, o, n) for g, o, n in objects)
    return PublishedLog.of(Snapshot(objs, (), None))


def test_runs_merge_contiguous_objects_of_a_generation_and_travel_as_a_header():
    runs = layout((3, 0, 10), (3, 10, 5), (3, 20, 4), (4, 0, 7)).runs()
    assert runs == [Run(3, 0, 15, 0), Run(3, 20, 4, 15), Run(4, 0, 7, 19)]
    assert runs_text(runs) == "3:0+15@0,3:20+4@15,4:0+7@19"
    assert parse_runs(runs_text(runs) + ",junk, 5:1+2@3") == [*runs, Run(5, 1, 2, 3)]
    assert parse_runs(None) == []


def test_bytes_that_go_on_are_handed_out_without_a_notice():
    runs = layout((3, 0, 10)).runs()
    place = Place(Cursor(3, 4))
    assert place.start(runs, 10) == 4
    assert list(place.take(runs, 4, b"456789")) == [b"456789"]
    assert place.cursor == Cursor(3, 10)
    assert place.start(runs, 10) == 10  # nothing new: the end


def test_a_rotation_is_told_before_the_new_generations_bytes():
    # keep: the old generation stays, the new one follows it
    runs = layout((3, 0, 10), (4, 0, 6)).runs()
    place = Place(Cursor(3, 8))
    assert place.start(runs, 16) == 8
    got = list(place.take(runs, 8, b"89abcdef"))
    assert got == [
        b"89",
        Notice("rotated", "-- the log rotated: generation 4 --"),
        b"abcdef",
    ]
    assert place.cursor == Cursor(4, 6)


def test_a_purge_moves_positions_and_the_place_is_found_again():
    # purge: generation 3 is gone, generation 4 holds more than 3 did
    runs = layout((4, 0, 30)).runs()
    place = Place(Cursor(3, 10))
    assert place.start(runs, 30) == 0
    got = list(place.take(runs, 0, b"x" * 30))
    assert got[0] == Notice("rotated", "-- the log rotated: generation 4 --")
    assert got[1:] == [b"x" * 30] and place.cursor == Cursor(4, 30)
    # a discard with nothing new yet: nothing to read
    assert Place(Cursor(4, 30)).start([], 0) == 0


def test_expiry_of_earlier_objects_moves_the_position_not_the_place():
    place = Place(Cursor(3, 15))
    before = layout((3, 0, 10), (3, 10, 10)).runs()
    after = layout((3, 10, 10)).runs()  # the first object expired
    assert place.start(before, 20) == 15
    assert place.start(after, 10) == 5


def test_bytes_gone_after_the_place_are_a_gap():
    runs = layout((3, 0, 10), (3, 20, 5)).runs()
    place = Place(Cursor(3, 10))
    assert place.start(runs, 15) == 10
    got = list(place.take(runs, 10, b"abcde"))
    assert got == [Notice("gap", "-- bytes 10-19 of generation 3 are gone --"), b"abcde"]


def test_a_follower_that_saw_nothing_starts_at_the_first_byte_quietly():
    runs = layout((5, 0, 4)).runs()
    place = Place()
    assert place.start(runs, 4) == 0
    assert list(place.take(runs, 0, b"abcd")) == [b"abcd"]
    assert Cursor.end_of(runs) == Cursor(5, 4) and Cursor.end_of([]) is None
    assert Cursor.parse("5:4") == Cursor(5, 4) and Cursor.parse("x") is None
