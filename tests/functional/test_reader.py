"""Reading published logs back: tail and save, against the real Swift and the file store.

Logs are published by the real engine (LogHarness); the reference for tail
is the system's ``tail`` command run on the bytes that were published.
"""

import os
import time

import pytest
import requests

from logsvc.client.listing import Gap
from logsvc.client.objects import open_store
from logsvc.client.reader import LogReader
from logsvc.exceptions import ConfigError, ObjectNotFound, StorageUnavailable
from logsvc.storage import swift as swift_backend
from tests.helpers import LogHarness, realistic_lines
from tests.store_wrappers import CountingStore, FailingStream
from tests.tail_reference import real_tail, reference

NEGATIVE = [-1, -2, -3, -7, -20, -50, -99, -100, -101, -1000]


def reader_of(log: LogHarness, store=None) -> LogReader:
    loc = log.location
    return LogReader(store or log.store, loc.container, loc.prefix, loc.metafile)


def check_tail_against_tail(reader: LogReader, published: bytes, tmp_path, counts) -> None:
    path = tmp_path / "published.log"
    path.write_bytes(published)
    for n in counts:
        expected = real_tail(str(path), n)
        assert reference(published, n) == expected, f"the Python reference, n={n}"
        assert b"".join(reader.tail(n)) == expected, f"n={n}"


# --- tail is tail -n ------------------------------------------------------------------


def awkward_log() -> bytes:
    """Non-UTF-8, CRLF, NUL, empty lines, lines longer than the object limit."""
    parts = []
    for i in range(160):
        if i % 53 == 0:
            parts.append(b"L%03d" % i + b"\xe9" * 9000 + b"\n")  # split across objects
        elif i % 7 == 0:
            parts.append(b"crlf %d\r\n" % i)
        elif i % 11 == 0:
            parts.append(b"\n")
        elif i % 13 == 0:
            parts.append(b"\xff\xfe\x00 binary \xc3\x28 %d\n" % i)
        else:
            parts.append(realistic_lines(1, start=i))
    return b"".join(parts)


def test_tail_is_tail_on_an_awkward_log(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=4096)
    data = awkward_log()
    for cut in (len(data) // 3, len(data) // 2, len(data)):  # several publishes
        log.write(data[:cut])
        log.publish()
    # the last line grows past the limit without its newline: its full pieces are
    # published, so the log ends in an object without newline
    log.append(b"Z" * 8200)
    log.publish()
    published = data + b"Z" * 8192
    assert log.state().published == len(published)
    assert log.published_bytes() == published
    last = store.get_object(log.location.container, log.objects()[-1].name)[1]
    assert not last.endswith(b"\n")
    check_tail_against_tail(reader_of(log), published, tmp_path, [*range(1, 101), 0, *NEGATIVE])


def test_tail_is_tail_across_kept_generations(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=2000, policy="keep")
    first = realistic_lines(40)
    log.write(first)
    log.publish()
    log.append(b"first file, unpublished\r\n" + b"\x80\x81 and its last line, no newline")
    os.rename(log.path, str(log.path) + ".1")
    second = realistic_lines(30, start=40) + b"\xff" * 4500 + b"\n"
    log.write(second)
    log.publish()
    os.rename(str(log.path) + ".1", str(log.path) + ".2")
    os.rename(log.path, str(log.path) + ".1")
    third = realistic_lines(25, start=70)
    log.write(third)
    log.publish()
    published = (
        first
        + b"first file, unpublished\r\n\x80\x81 and its last line, no newline"
        + second
        + third
    )
    assert log.published_bytes() == published
    assert len({g for g, _ in log.positions()}) == 3
    check_tail_against_tail(reader_of(log), published, tmp_path, [*range(1, 101), 0, *NEGATIVE])


# --- tail reads only what it prints -----------------------------------------------------


def test_tail_downloads_at_most_two_objects(store, tmp_path):
    limit = 64 * 1024
    log = LogHarness(store, tmp_path, limit=limit)
    data = realistic_lines(25_000)  # about 2.4 MB: some 38 objects
    log.write(data)
    log.publish()
    counting = CountingStore(store)
    reader = reader_of(log, counting)
    assert b"".join(reader.tail(50)) == reference(data, 50)
    assert counting.bytes_read <= limit  # one range of the last object
    # a last publish of three lines: the 50 lines span two objects
    more = realistic_lines(3, start=25_000)
    log.append(more)
    log.publish()
    data += more
    for n in (1, 3, 4, 50, 500):
        counting.reset()
        assert b"".join(reader.tail(n)) == reference(data, n)
        assert counting.bytes_read <= 2 * limit, n
    counting.reset()
    assert b"".join(reader.tail(-24_990)) == reference(data, -24_990)
    assert counting.bytes_read <= 2 * limit  # earlier objects skipped by their line counts


def test_a_listing_of_many_pages(store, tmp_path, monkeypatch):
    monkeypatch.setattr(swift_backend, "_PAGE", 7)  # many pages from few objects
    log = LogHarness(store, tmp_path, limit=100)
    data = realistic_lines(80)
    log.write(data)
    log.publish()
    reader = reader_of(log)
    assert len(reader.snapshot().objects) == len(log.objects()) > 7 * 10
    assert b"".join(reader.tail(0)) == data
    assert b"".join(reader.tail(60)) == reference(data, 60)


# --- save ------------------------------------------------------------------------------


def test_save_is_the_published_log(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=4096)
    data = awkward_log() + realistic_lines(2000)
    log.write(data)
    log.publish()
    progress = []
    target = tmp_path / "saved" / "general.log"
    target.parent.mkdir()
    saved = reader_of(log).save(str(target), lambda d, t: progress.append((d, t)))
    assert target.read_bytes() == data
    assert (saved.bytes_written, saved.gaps) == (len(data), ())
    assert progress[-1] == (len(data), len(data))
    assert os.listdir(target.parent) == ["general.log"]


@pytest.mark.parametrize("at", [1, 3])
def test_a_save_that_fails_midway_leaves_no_file(store, tmp_path, at):
    log = LogHarness(store, tmp_path, limit=4096)
    log.write(realistic_lines(1000))
    log.publish()
    target = tmp_path / "saved" / "general.log"
    target.parent.mkdir()
    with pytest.raises(StorageUnavailable):
        reader_of(log, FailingStream(store, at=at)).save(target)
    assert os.listdir(target.parent) == []  # neither the file nor a temporary one


# --- gaps -------------------------------------------------------------------------------


def wait_until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_expired_objects_are_reported_as_gaps(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=300, expiry=1)
    old = realistic_lines(20)
    log.write(old)
    log.publish()
    wait_until(lambda: not log.objects())
    log.settings = log.settings.__class__(**{**log.settings.__dict__, "expiry": 0})
    new = realistic_lines(30, start=20)
    log.append(new)
    log.publish()
    missing = Gap(1, 0, len(old))
    reader = reader_of(log)
    assert reader.snapshot().gaps == (missing,)
    out = reader.tail(0)
    assert b"".join(out) == new
    assert out.gaps == [missing]
    out = reader.tail(10)
    assert b"".join(out) == reference(new, 10)
    assert out.gaps == []  # the last ten lines are all there
    out = reader.tail(40)
    assert b"".join(out) == new  # only 30 lines are left
    assert out.gaps == [missing]
    out = reader.tail(-5)
    assert b"".join(out) == reference(new, -5)  # lines are counted in what is left
    assert out.gaps == [missing]
    saved = reader.save(tmp_path / "saved.log")
    assert (tmp_path / "saved.log").read_bytes() == new
    assert saved.gaps == (missing,)
    assert "are gone" in str(saved.gaps[0])


def test_objects_expiring_between_listing_and_reading(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=300, expiry=3)
    data = realistic_lines(20)
    log.write(data)
    log.publish()
    objects = log.objects()
    reader = reader_of(log)
    out = reader.tail(0)  # listed now, read below
    assert out.gaps == []

    def expired():
        try:
            store.head_object(log.location.container, objects[-1].name)
        except ObjectNotFound:
            return True
        return False

    wait_until(expired)
    assert b"".join(out) == b""
    assert sum(g.size for g in out.gaps) == len(data)
    assert all(g.while_reading for g in out.gaps)


# --- the ways to the store ---------------------------------------------------------------


def published_log(store, tmp_path) -> tuple[LogHarness, bytes]:
    log = LogHarness(store, tmp_path, limit=1000)
    data = realistic_lines(100)
    log.write(data)
    log.publish()
    return log, data


def test_with_a_token_and_storage_url(devswift, tmp_path):
    creds = devswift.credentials()
    store = open_store(
        auth_url=creds["auth_url"], auth_version="1", user=creds["user"], key=creds["key"]
    )
    log, data = published_log(store, tmp_path)
    answer = requests.get(
        creds["auth_url"],
        headers={"X-Auth-User": creds["user"], "X-Auth-Key": creds["key"]},
        timeout=10,
    )
    answer.raise_for_status()
    by_token = open_store(
        storage_url=answer.headers["X-Storage-Url"], token=answer.headers["X-Auth-Token"]
    )
    try:
        assert b"".join(reader_of(log, by_token).tail(5)) == reference(data, 5)
        assert b"".join(reader_of(log, store).tail(-95)) == reference(data, -95)
    finally:
        by_token.close()
        store.close()


def test_from_the_file_backend(tmp_path):
    store = open_store(file_root=str(tmp_path / "objects"))
    log, data = published_log(store, tmp_path)
    assert b"".join(reader_of(log, store).tail(0)) == data


def test_settings_that_name_no_store():
    with pytest.raises(ConfigError, match="storage URL"):
        open_store(token="t")
    with pytest.raises(ConfigError, match="no object store"):
        open_store()
    with pytest.raises(ConfigError, match="user and key"):
        open_store(auth_url="http://x/auth/v1.0", auth_version="1", user="u")
    with pytest.raises(ConfigError, match="not both"):
        open_store(file_root="/tmp/x", token="t", storage_url="http://x")
