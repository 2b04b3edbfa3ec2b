"""The publish invariants (docs/architecture.md#the-publish-invariants-and-how-each-is-kept),
each against the real Swift and the file store."""

import contextlib
import dataclasses
import os
import shutil
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from guestagent import publishrun
from guestagent.logfile import FINGERPRINT, HEADER_MAX
from guestagent.state import StateStore
from logsvc.exceptions import LogFileMissing, LogFileUnreadable, StateError, StorageUnavailable
from tests.ci_skips import server_absent
from tests.helpers import (
    Crash,
    CrashingStates,
    CrashingStore,
    LogHarness,
    complete_lines,
    in_log_order,
    realistic_lines,
    set_mtime,
)

# --- 1. byte-exact ------------------------------------------------------------------

SAMPLES = {
    "ascii": b"2026-11-22 01:00:00 Query SELECT 1\n" * 20,
    "utf8": "Größe überprüft — 日本語のログ行 ✓ émoji 🐬\n".encode() * 15,
    "invalid_utf8": b"\xff\xfe bad \xc3\x28 \xa0\xa1 \xf0\x28\x8c\xbc end\n" * 20,
    "crlf": b"windows line\r\nanother\r\n\r\nlast\r\n" * 10,
    "nul": b"a\x00b\x00\x00c\n\x00\n" * 30,
    "long_line": b"short\n" + b"L" * 1000 + b"\n" + b"tail\n",
    "mixed": b"\r\x0b\x0c\x1c\x1d\x1e\x85\xe2\x80\xa8 separators\n" * 12,
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_objects_concatenate_to_the_exact_bytes(store, tmp_path, sample):
    log = LogHarness(store, tmp_path, limit=64)
    data = SAMPLES[sample]
    log.write(data)
    report = log.publish()
    assert log.published_bytes() == data
    assert report.bytes_published == len(data)  # bytes, never characters
    assert log.state().published == len(data)
    assert all(o.size <= 64 for o in log.objects())


def test_every_object_carries_lines_and_expiry(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=50, expiry=3600)
    data = b"one\ntwo\n" + b"x" * 120 + b"\nthree\n"
    log.write(data)
    log.publish()
    total = 0
    for obj in log.objects():
        headers, body = store.get_object(log.location.container, obj.name)
        assert int(headers["x-object-meta-lines"]) == body.count(b"\n")
        assert int(headers["x-delete-at"]) >= time.time() + 3500
        total += body.count(b"\n")
    meta_headers = store.head_object(log.location.container, log.location.metafile)
    assert "x-delete-at" in meta_headers
    assert int(meta_headers["x-object-meta-lines"]) == total == data.count(b"\n")


def test_no_expiry_header_when_expiry_is_zero(store, tmp_path):
    log = LogHarness(store, tmp_path, expiry=0)
    log.write(b"a\n")
    log.publish()
    assert "x-delete-at" not in store.head_object(log.location.container, log.objects()[0].name)


def test_published_objects_expire(store, tmp_path):
    log = LogHarness(store, tmp_path, expiry=1)
    log.write(b"short-lived\n")
    log.publish()
    deadline = time.monotonic() + 20
    while log.objects() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert log.objects() == []


def test_metafile_holds_the_spec_fields(store, tmp_path):
    import json

    log = LogHarness(store, tmp_path)
    log.write(b"banner line\nsecond\nthird\n")
    log.publish()
    meta = json.loads(store.get_object(log.location.container, log.location.metafile)[1])
    assert meta["log_name"] == "general"
    assert meta["log_type"] == "USER"
    assert meta["log_file"] == str(log.path)
    assert meta["log_size"] == 25
    assert meta["log_lines"] == 3
    assert len(meta["log_hash"]) == 64


# --- 4. whole lines -------------------------------------------------------------------


def test_an_incomplete_last_line_waits_and_counts_as_pending(store, tmp_path):
    log = LogHarness(store, tmp_path)
    log.write(b"complete\nhalf a li")
    log.publish()
    assert log.published_bytes() == b"complete\n"
    figures = log.publisher().figures()
    assert (figures.published, figures.pending) == (9, 9)
    log.publish()  # nothing new that is whole: nothing uploaded
    assert log.published_bytes() == b"complete\n"
    log.append(b"ne\nnext")
    log.publish()
    assert log.published_bytes() == b"complete\nhalf a line\n"
    assert log.publisher().figures().pending == 4


def test_a_line_longer_than_the_limit_is_split_and_its_end_waits(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=32)
    log.write(b"A" * 100)  # no newline yet: the full 32-byte pieces can go, not the rest
    log.publish()
    assert log.published_bytes() == b"A" * 96
    log.append(b"B\n")
    log.publish()
    assert log.published_bytes() == b"A" * 100 + b"B\n"
    assert [o.size for o in log.objects()] == [32, 32, 32, 6]


# --- 2. incremental ---------------------------------------------------------------------


def test_twenty_rounds_read_only_what_is_new(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=4096)
    expected = b""
    for round_ in range(20):
        new = realistic_lines(40 + round_ * 3, start=len(expected))
        log.append(new)
        expected += new
        report = log.publish()
        assert report.bytes_published == len(new)
        # the new bytes, plus the fixed-size checks of the first line and of the
        # bytes just before the published offset (then again after it)
        assert report.bytes_read <= len(new) + HEADER_MAX * 2 + FINGERPRINT * 2
        assert log.published_bytes() == expected
    assert log.state().published == len(expected)


def test_a_publish_lists_nothing_and_writes_only_the_new_objects(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=100)
    log.write(realistic_lines(300))
    log.publish()
    calls = []

    class Counting(CrashingStore):
        def list_objects(self, *a, **k):
            calls.append("list")
            return super().list_objects(*a, **k)

    log.append(b"one more line\n")
    log.publish(store=Counting(store, Crash(at=0)))
    assert calls == []  # the cost does not grow with the number of objects


# --- 3. crash-safe ----------------------------------------------------------------------


def _crash_every_step(store, tmp_path, prepare, change, expected, concurrency=1):
    """Fail a publish at step 1, 2, ... until it succeeds; after each, publish again.

    With several uploads in flight, the step that fails may be any of them.
    """
    for at in range(1, 200):
        case = tmp_path / f"crash-{at}"
        case.mkdir()
        log = LogHarness(store, case, limit=48, concurrency=concurrency)
        prepare(log)
        change(log)
        crash = Crash(at)
        try:
            log.publish(
                store=CrashingStore(store, crash), states=CrashingStates(str(log.state_dir), crash)
            )
        except (StorageUnavailable, StateError):
            pass
        else:
            assert at > 3, "the scenario should take several steps"
            return at - 1
        in_log_order(log.objects())
        log.publish()  # healthy
        assert log.published_bytes() == expected(log), f"after a crash at step {at}"
        in_log_order(log.objects())
        offsets = [p for p in log.positions()]
        assert len(offsets) == len(set(offsets))
        shutil.rmtree(case)
    pytest.fail("the publish never completed")


BASE = b"".join(b"base line %03d\n" % i for i in range(10))
NEW = b"".join(b"new line %03d with more\n" % i for i in range(12))


@pytest.mark.parametrize(
    ("checkpoint", "concurrency"), [(publishrun.CHECKPOINT_OBJECTS, 1), (2, 1), (2, 4)]
)
def test_a_crash_at_any_step_of_a_publish_loses_and_duplicates_nothing(
    store, tmp_path, monkeypatch, checkpoint, concurrency
):
    monkeypatch.setattr(publishrun, "CHECKPOINT_OBJECTS", checkpoint)

    def prepare(log):
        log.write(BASE)
        log.publish()

    steps = _crash_every_step(
        store,
        tmp_path,
        prepare,
        lambda log: log.append(NEW + b"partial"),
        lambda log: BASE + NEW,
        concurrency,
    )
    assert steps >= 8  # inflight mark, several uploads, metafile, commit


def test_a_long_publish_cut_short_keeps_what_it_checkpointed(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=64)
    data = realistic_lines(400)  # some 300 objects
    log.write(data)
    crash = Crash(at=250)
    with pytest.raises(StorageUnavailable):
        log.publish(store=CrashingStore(store, crash))
    state = log.state()
    kept = state.published
    assert kept > 0 and state.inflight == kept  # the checkpoints' objects stay
    report = log.publish()
    assert report.bytes_published == len(data) - kept  # only the rest is uploaded again
    assert log.published_bytes() == data


def test_a_crash_at_any_step_of_a_purging_rotation(store, tmp_path):
    def prepare(log):
        log.write(BASE)
        log.publish()

    def rotate(log):
        os.rename(log.path, str(log.path) + ".1")
        log.write(BASE[:15] + NEW)  # the same first line, and larger

    _crash_every_step(store, tmp_path, prepare, rotate, lambda log: BASE[:15] + NEW)


def test_a_crash_at_any_step_of_a_keeping_rotation(store, tmp_path):
    def prepare(log):
        log.settings = log.settings.__class__(
            **{**log.settings.__dict__, "rotation_policy": "keep"}
        )
        log.write(BASE)
        log.publish()
        log.append(b"tail of the old file\n")

    def rotate(log):
        os.rename(log.path, str(log.path) + ".1")
        log.write(NEW)

    _crash_every_step(
        store, tmp_path, prepare, rotate, lambda log: BASE + b"tail of the old file\n" + NEW
    )


def test_a_store_outage_mid_publish_then_recovery(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=40)
    log.write(BASE)
    log.publish()
    log.append(NEW)
    crash = Crash(at=4)
    with pytest.raises(StorageUnavailable):
        log.publish(store=CrashingStore(store, crash))
    state = log.state()
    assert state.published == len(BASE)  # the recorded figures did not move
    assert state.inflight == len(BASE)
    assert "injected failure" in state.last_error
    report = log.publish()
    assert report.cleaned >= 1
    assert log.published_bytes() == BASE + NEW
    assert log.state().last_error is None


def test_a_new_container_gets_the_whole_log(store, tmp_path):
    import dataclasses

    log = LogHarness(store, tmp_path)
    log.write(BASE)
    log.publish()
    before = log.location
    log.location = dataclasses.replace(before, container=before.container + "-new")
    log.append(NEW)  # guest_log_container_name changed, and the agent restarted
    figures = log.publisher().figures()
    assert (figures.published, figures.pending) == (0, len(BASE + NEW))
    log.publish()
    assert log.published_bytes() == BASE + NEW
    kept = store.list_objects(before.container, before.prefix)
    assert b"".join(store.get_object(before.container, o.name)[1] for o in kept) == BASE


def test_the_state_directory_is_rebuilt_from_the_metafile(store, tmp_path):
    log = LogHarness(store, tmp_path)
    log.write(BASE)
    log.publish()
    shutil.rmtree(log.state_dir)
    log.append(NEW)
    report = log.publish()
    assert report.bytes_published == len(NEW)
    assert log.published_bytes() == BASE + NEW


def _with_policy(log, policy):
    log.settings = log.settings.__class__(**{**log.settings.__dict__, "rotation_policy": policy})
    return log


@pytest.mark.parametrize("policy", ["purge", "keep"])
def test_lost_state_and_metafile_resume_after_the_objects(store, tmp_path, policy):
    log = _with_policy(LogHarness(store, tmp_path, limit=64), policy)
    log.write(BASE)
    log.publish()
    shutil.rmtree(log.state_dir)
    store.delete_object(log.location.container, log.location.metafile)
    log.append(NEW)
    report = log.publish()  # the objects still begin the file: it goes on after them
    assert report.bytes_published == len(NEW)
    assert log.published_bytes() == BASE + NEW
    assert (log.state().published, log.state().lines) == (len(BASE + NEW), 22)


@pytest.mark.parametrize(("policy", "expected"), [("purge", NEW), ("keep", BASE + NEW)])
def test_lost_state_and_metafile_of_another_file(store, tmp_path, policy, expected):
    log = _with_policy(LogHarness(store, tmp_path, limit=64), policy)
    log.write(BASE)
    log.publish()
    shutil.rmtree(log.state_dir)
    store.delete_object(log.location.container, log.location.metafile)
    log.write(NEW)  # not what the objects hold: they are purged, or kept as history
    log.publish()
    assert log.published_bytes() == expected
    assert log.state().published == len(expected)


# --- 5. rotation ----------------------------------------------------------------------

BANNER = b"/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-log. started with:\n"


def _old_and_new():
    old = BANNER + b"".join(b"old query %04d\n" % i for i in range(30))
    new = BANNER + b"".join(b"new query %04d -- longer than before\n" % i for i in range(40))
    return old, new


def test_rename_rotation_with_the_same_banner_purges_by_default(store, tmp_path):
    log = LogHarness(store, tmp_path)
    old, new = _old_and_new()
    log.write(old)
    log.publish()
    os.rename(log.path, str(log.path) + ".1")
    log.write(new)
    assert len(new) > len(old)
    assert log.publisher().figures().rotated
    report = log.publish()
    assert "new inode" in report.rotation
    assert log.published_bytes() == new
    assert log.state().published == len(new)


def test_a_new_first_line_is_a_rotation(store, tmp_path):
    log = LogHarness(store, tmp_path)
    log.write(b"first banner\n" + b"x\n" * 10)
    log.publish()
    with open(log.path, "r+b") as f:  # same inode, rewritten in place
        f.write(b"other banner\n")
    report = log.publish()
    assert report.rotation == "the first line of the log file changed"
    assert log.published_bytes() == b"other banner\n" + b"x\n" * 10


def test_copytruncate_then_growth_past_the_published_size(store, tmp_path):
    log = LogHarness(store, tmp_path, policy="keep")
    old, new = _old_and_new()
    log.write(old)
    log.publish()
    log.append(b"unpublished tail\n")
    shutil.copyfile(log.path, str(log.path) + ".1")  # copytruncate: copy, then truncate
    with open(log.path, "r+b") as f:
        f.truncate(0)
    log.append(new)
    report = log.publish()
    assert "rewritten" in report.rotation
    assert log.published_bytes() == old + b"unpublished tail\n" + new
    generations = sorted({g for g, _ in log.positions()})
    assert len(generations) == 2


def test_copytruncate_purge(store, tmp_path):
    log = LogHarness(store, tmp_path)
    old, new = _old_and_new()
    log.write(old)
    log.publish()
    shutil.copyfile(log.path, str(log.path) + ".1")
    with open(log.path, "r+b") as f:
        f.truncate(0)
    log.append(new[:20])  # shorter than what was published
    report = log.publish()
    assert "shorter" in report.rotation
    assert log.published_bytes() == complete_lines(new[:20])


def test_plain_truncation(store, tmp_path):
    for policy in ("purge", "keep"):
        case = tmp_path / policy
        case.mkdir()
        log = LogHarness(store, case, policy=policy)
        log.write(b"before truncation\n" * 5)
        log.publish()
        with open(log.path, "r+b") as f:
            f.truncate(0)
        log.append(b"after\n")
        report = log.publish()
        assert report.rotation
        if policy == "purge":
            assert log.published_bytes() == b"after\n"
        else:
            assert report.lost_tail  # no rotated copy to take a tail from
            assert log.published_bytes() == b"before truncation\n" * 5 + b"after\n"


def test_two_rotations_between_publishes(store, tmp_path):
    first = BANNER + b"first file\n" * 5
    for policy in ("purge", "keep"):
        case = tmp_path / policy
        case.mkdir()
        log = LogHarness(store, case, policy=policy)
        log.write(first)
        log.publish()
        log.append(b"first file, unpublished\n")
        os.rename(log.path, str(log.path) + ".1")
        set_mtime(str(log.path) + ".1", 120)
        second = BANNER + b"second file\n" * 4 + b"no newline at the end"
        log.write(second)
        os.rename(str(log.path) + ".1", str(log.path) + ".2")
        os.rename(log.path, str(log.path) + ".1")
        set_mtime(str(log.path) + ".1", 60)
        third = BANNER + b"third file\n" * 3
        log.write(third)
        report = log.publish()
        assert report.rotation
        if policy == "purge":
            assert log.published_bytes() == third
        else:
            assert log.published_bytes() == first + b"first file, unpublished\n" + second + third
            assert len({g for g, _ in log.positions()}) == 3


def test_newer_rotated_files_are_kept_when_the_published_one_is_gone(store, tmp_path):
    log = LogHarness(store, tmp_path, policy="keep")
    first = BANNER + b"first file\n" * 5
    log.write(first)
    log.publish()
    os.rename(log.path, str(log.path) + ".1")
    second = BANNER + b"second file\n" * 4
    log.write(second)
    os.rename(str(log.path) + ".1", str(log.path) + ".2")
    os.unlink(str(log.path) + ".2")  # compressed away: no longer readable as the log
    os.rename(log.path, str(log.path) + ".1")
    third = BANNER + b"third file\n" * 3
    log.write(third)
    report = log.publish()
    assert report.lost_tail  # whatever the first file got after its publish is gone...
    assert log.published_bytes() == first + second + third  # ...but not the second file


def test_the_rotated_status_and_pending_before_the_publish(store, tmp_path):
    log = LogHarness(store, tmp_path, policy="keep")
    log.write(b"a\n" * 10)
    log.publish()
    log.append(b"b\n" * 3)
    os.rename(log.path, str(log.path) + ".1")
    log.write(b"c\n" * 4)
    figures = log.publisher().figures()
    assert figures.rotated
    assert figures.pending == 6 + 8  # the old file's tail and the new file


def test_rotation_of_a_log_that_was_never_published(store, tmp_path):
    log = LogHarness(store, tmp_path)
    log.write(b"partial")  # nothing whole: nothing published, but the file is known
    log.publish()
    os.rename(log.path, str(log.path) + ".1")
    log.write(b"new\n")
    log.publish()
    assert log.published_bytes() == b"new\n"


# --- 6. concurrency ---------------------------------------------------------------------


def test_two_concurrent_publishes_never_interleave(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=40)
    data, more = realistic_lines(60), realistic_lines(20, start=60)
    log.write(data)
    order, started = [], threading.Event()

    class Slow(CrashingStore):
        def put_object(self, container, name, data, headers=None, turn=None):
            order.append(threading.current_thread().name)
            started.set()
            time.sleep(0.005)
            return super().put_object(container, name, data, headers, turn)

    slow = Slow(store, Crash(at=0))
    reports = {}

    def publish(who):
        threading.current_thread().name = who
        reports[who] = log.publish(store=slow)

    first = threading.Thread(target=publish, args=("first",))
    first.start()
    started.wait(10)
    log.append(more)  # after the first publish opened the file: the second's to take
    second = threading.Thread(target=publish, args=("second",))
    second.start()
    first.join()
    second.join()
    assert reports["first"].bytes_published == len(data)
    assert reports["second"].bytes_published == len(more)
    switch = order.index("second")
    assert set(order[:switch]) == {"first"} and set(order[switch:]) == {"second"}
    assert log.published_bytes() == data + more


# --- 7. scale ---------------------------------------------------------------------------


@pytest.mark.slow
def test_more_than_ten_thousand_objects(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=16)
    data = b"".join(b"line %06d\n" % i for i in range(10050))  # 12 bytes: one line an object
    log.write(data)
    report = log.publish()
    assert report.objects == 10050
    objects = log.objects()  # the listing walks every page
    assert len(objects) == 10050
    # 8. names sort in log order, and so do last-modified times
    names = [o.name for o in objects]
    assert names == sorted(names)
    stamps = [o.last_modified for o in objects]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    with ThreadPoolExecutor(8) as pool:
        bodies = pool.map(lambda o: store.get_object(log.location.container, o.name)[1], objects)
        assert b"".join(bodies) == data
    log.append(b"line 010050\n")
    log.publish()
    assert log.objects()[-1].name > names[-1]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_memory_stays_bounded_by_the_limit(store, tmp_path, concurrency):
    """Two chunks at most with one upload at a time, `concurrency` with several."""
    limit = 256 * 1024
    log = LogHarness(store, tmp_path, limit=limit, concurrency=concurrency)
    with open(log.path, "wb") as f:
        for i in range(80):  # 20 MB
            f.write(realistic_lines(2500, start=i * 2500)[: limit - 1] + b"\n")
    size = os.path.getsize(log.path)
    tracemalloc.start()
    try:
        log.publish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert log.state().published == size
    # one upload at a time: two chunks (one read ahead); several: as many, none ahead
    bound = 4 if concurrency == 1 else concurrency + 1
    assert peak < bound * limit, f"peak {peak} bytes for a {limit}-byte limit"


# --- bad input --------------------------------------------------------------------------


def test_a_missing_log_file_is_a_clear_error(store, tmp_path):
    log = LogHarness(store, tmp_path)
    with pytest.raises(LogFileMissing) as err:
        log.publish()
    assert str(log.path) in err.value.message and "log 'general'" in err.value.message
    log.write(b"now it exists\n")
    log.publish()
    assert log.published_bytes() == b"now it exists\n"


def test_an_unreadable_log_file_is_a_clear_error(store, tmp_path):
    log = LogHarness(store, tmp_path)
    log.path.mkdir()  # a directory where the file should be: it opens, but cannot be read
    with pytest.raises(LogFileUnreadable) as err:
        log.publish()
    assert str(log.path) in err.value.message and "log 'general'" in err.value.message


def test_a_full_state_disk_keeps_everything_consistent(store, tmp_path):
    if os.geteuid() != 0:
        server_absent("tmpfs", "only root can mount a small one as a full state directory")
    log = LogHarness(store, tmp_path)
    log.state_dir.mkdir()
    if os.system(f"mount -t tmpfs -o size=64k tmpfs {log.state_dir}") != 0:
        server_absent("tmpfs", "mount -t tmpfs failed")
    try:
        log.write(BASE)
        log.publish()
        filler = log.state_dir / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass  # full
        finally:
            os.close(fd)
        log.append(NEW)
        with pytest.raises(StateError) as err:
            log.publish()
        assert "disk is full" in err.value.message
        assert "general" in err.value.message
        assert StateStore(str(log.state_dir)).load("general").published == len(BASE)
        filler.unlink()
        log.publish()
        assert log.published_bytes() == BASE + NEW
    finally:
        os.system(f"umount {log.state_dir}")


# --- the open object of a followed log (docs/follow.md) ----------------------------------


def _check_whole(log, data: bytes) -> None:
    """Objects in name order are `data`, each where its name says, lines counted right."""
    assert log.published_bytes() == data
    at = 0
    for (_, offset), obj in zip(log.positions(), log.objects(), strict=True):
        assert offset == at
        at += obj.size
    lines = sum(
        int(log.store.head_object(log.location.container, o.name)["x-object-meta-lines"])
        for o in log.objects()
    )
    assert lines == data.count(b"\n") == log.state().lines


@pytest.mark.parametrize("then", ["followed", "on demand, past its age"])
def test_a_crash_at_any_step_of_a_rewrite_of_the_open_object(store, tmp_path, monkeypatch, then):
    """A followed publish fails at step 1, 2, ...; then fails again early (the settle, the
    rewrite); whatever the store holds meanwhile is a prefix of the log, and the next
    publish (followed, or on demand once the open object is old) completes it exactly."""
    monkeypatch.setattr(publishrun, "CHECKPOINT_OBJECTS", 2)
    data = BASE + NEW
    for at in range(1, 200):
        for again in (0, 1, 2, 3):
            case = tmp_path / f"crash-{at}-{again}"
            case.mkdir()
            log = LogHarness(store, case, limit=48)
            log.write(BASE)
            log.publisher().publish(follow=True)
            assert log.state().open_offset is not None  # its last line is an open object
            log.append(NEW + b"partial")
            if _crash_then_complete(log, store, data, at, again, then) is not None:
                assert at > 4, "the scenario should take several steps"
                _check_whole(log, data)
                return
            shutil.rmtree(case)
    pytest.fail("the publish never completed")


def _crash_then_complete(log, store, data: bytes, at: int, again: int, then: str):
    """A followed publish that fails at step `at` (then another at step `again`,
    if any), each leaving a prefix of the log, then the publish that completes it
    (`then`: followed, or on demand once the open object is old). Returns the
    `Crash` if the first publish ended before step `at` (nothing failed)."""
    crash = Crash(at)
    try:
        log.publisher(
            store=CrashingStore(store, crash),
            states=CrashingStates(str(log.state_dir), crash),
        ).publish(follow=True)
    except (StorageUnavailable, StateError):
        pass
    else:
        return crash
    assert data.startswith(log.published_bytes()), f"a crash at step {at}"
    if again:
        second = Crash(again)
        with contextlib.suppress(StorageUnavailable, StateError):
            log.publisher(
                store=CrashingStore(store, second),
                states=CrashingStates(str(log.state_dir), second),
            ).publish(follow=then == "followed")
        assert data.startswith(log.published_bytes()), f"crashes at {at}, {again}"
    if then == "followed":
        log.publisher().publish(follow=True)
    else:
        log.settings = dataclasses.replace(log.settings, object_age=1e-6)
        log.publisher().publish()
        assert log.state().open_offset is None
    _check_whole(log, data)
    return None


@pytest.mark.parametrize("then", ["followed", "on demand, past its age"])
def test_a_crash_at_any_step_of_a_growth_by_parts(devswift, tmp_path, monkeypatch, then):
    """As above, where Swift joins parts: the open object is copied into its first
    part, grows by a part and a manifest, fills, is made one object again, and
    objects follow; a crash at any of those steps (and at a second one after
    it) leaves a prefix of the log, and the next publish completes it exactly,
    with no part left, an action later, that no object needs."""
    from tests.conftest import swift_store

    monkeypatch.setattr(publishrun, "CHECKPOINT_OBJECTS", 2)
    store = swift_store(devswift)
    base, more = realistic_lines(30), realistic_lines(60, start=30)  # ~3 KB, then ~6 KB
    data = base + more
    try:
        for at in range(1, 200):
            for again in (0, 1, 3):
                case = tmp_path / f"crash-{at}-{again}"
                case.mkdir()
                log = LogHarness(store, case, limit=4096)
                log.write(base)
                log.publisher().publish(follow=True)
                assert log.state().open_offset == 0  # one open object
                log.append(more)
                crash = _crash_then_complete(log, store, data, at, again, then)
                if crash is not None:
                    kinds = [w.split(" ")[0] + ("_parts/" in w) * " part" for w in crash.seen]
                    # copied into its first part, a part, joined, made whole, then objects
                    assert kinds[:5] == ["save", "copy part", "put part", "join", "copy"], kinds
                    _check_whole(log, data)
                    return
                log.publisher().publish(follow=then == "followed")  # the next action
                loc = log.location
                objects = [o.name for o in log.objects()]
                needed = {p for name in objects for p in store.parts(loc.container, name) or ()}
                left = {o.name for o in store.list_objects(loc.container, loc.parts_prefix)}
                assert left <= needed, f"crashes at {at}, {again}: parts left {left - needed}"
                shutil.rmtree(case)
        pytest.fail("the publish never completed")
    finally:
        store.close()


def test_an_open_object_of_age_n_intervals_is_uploaded_n_times(store, tmp_path, monkeypatch):
    """Its age counts from the publish that opened it: 2x write amplification at age 3."""
    clock = {"now": 1_000_000.0}

    def time_passes() -> float:  # each look at the clock, 10 ms later: a publish takes time
        clock["now"] += 0.01
        return clock["now"]

    monkeypatch.setattr(publishrun, "time", SimpleNamespace(time=time_passes))
    log = LogHarness(store, tmp_path, limit=1_000_000)
    log.settings = dataclasses.replace(log.settings, object_age=3.0)
    new = uploaded = 0
    for second in range(12):  # one publish a second, each a line later
        clock["now"] = 1_000_000.0 + second
        (log.append if second else log.write)(b"line %02d\n" % second)
        report = log.publisher().publish(follow=True)
        new, uploaded = new + report.bytes_new, uploaded + report.bytes_published
    assert [p for _, p in log.positions()] == [0, 24, 48, 72]  # 3 lines each
    assert uploaded == 2 * new  # 1 + 2 + 3 lines uploaded for 3 lines
    _check_whole(log, b"".join(b"line %02d\n" % i for i in range(12)))


def test_the_open_object_is_rewritten_in_place_until_its_limit_or_its_age(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=48)
    log.write(b"one\n")
    log.publisher().publish(follow=True)
    log.append(b"two\n")
    report = log.publisher().publish(follow=True)
    assert [o.name for o in log.objects()] == [log.location.chunk_name(1, 0)]
    assert (report.bytes_published, report.bytes_new) == (8, 4)  # the object, whole
    log.append(b"abcdefghi\n" * 5)  # past the limit: full, then a new open object
    log.publisher().publish(follow=True)
    assert [p for _, p in log.positions()] == [0, 48]
    log.append(b"more\n")
    log.settings = dataclasses.replace(log.settings, object_age=1e-6)
    report = log.publisher().publish(follow=True)  # past its age: closed as it is
    assert (report.bytes_published, report.bytes_new) == (5, 5)
    assert [p for _, p in log.positions()] == [0, 48, 58]
    _check_whole(log, b"one\ntwo\n" + b"abcdefghi\n" * 5 + b"more\n")
    before = [(o.name, o.etag) for o in log.objects()]
    assert log.publisher().publish(follow=True).objects == 0  # nothing new: nothing moves
    assert [(o.name, o.etag) for o in log.objects()] == before


def test_an_open_object_grows_by_at_most_max_parts_and_closes_as_one_object(devswift, tmp_path):
    """Swift joins parts: a growing open object stays a manifest of at most
    MAX_PARTS parts (then one part again, copied by Swift), byte-exact at each
    step; closed, it is one object, and its parts go at the next action."""
    from tests.conftest import swift_store

    store = swift_store(devswift)
    try:
        log = LogHarness(store, tmp_path, limit=1 << 20)
        loc, data = log.location, b""
        name = loc.chunk_name(1, 0)
        most = 0
        for step in range(2 * publishrun.MAX_PARTS + 3):
            more = realistic_lines(20, start=20 * step)  # ~2 KB: more than a manifest
            data += more
            (log.append if step else log.write)(more)
            report = log.publisher().publish(follow=True)
            assert report.bytes_new == len(more)
            parts = store.parts(loc.container, name) or []
            most = max(most, len(parts))
            assert store.get_object(loc.container, name)[1] == data
            assert len(list(store.list_objects(loc.container, loc.parts_prefix))) <= len(parts) + (
                publishrun.MAX_PARTS
            )  # the older parts, until the next action
            if step:  # each publish sent its new bytes and a manifest, not the object
                assert report.bytes_published < len(more) + 200 * (len(parts) + 1)
        assert most == publishrun.MAX_PARTS
        _check_whole(log, data)

        log.publisher().publish(follow=False)  # closes it: one object again
        assert store.parts(loc.container, name) is None
        assert store.get_object(loc.container, name)[1] == data
        log.publisher().publish(follow=False)  # the next action: its parts go
        assert list(store.list_objects(loc.container, loc.parts_prefix)) == []
        _check_whole(log, data)
    finally:
        store.close()
