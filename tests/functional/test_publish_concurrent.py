"""Several uploads in flight per publish (guestagent/uploads.py), against the real Swift
and the file store: log order kept in names and in last-modified times, a
prefix of the log at every moment, and the rate limit."""

import itertools
import random
import threading
import time

import pytest

from guestagent import uploads
from guestagent.publishmodel import PublishSettings
from logsvc.exceptions import ConfigError
from logsvc.layout import parse_chunk_name
from logsvc.storage.file import FileStore
from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore
from tests.faultproxy import Cut, FaultProxy
from tests.helpers import LogHarness, in_log_order, realistic_lines
from tests.store_wrappers import Passthrough

CONCURRENCY = 4


def test_last_modified_order_is_log_order_with_uploads_in_flight(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=512, expiry=3600, concurrency=CONCURRENCY)
    data = realistic_lines(200)  # some 40 objects
    log.write(data)
    report = log.publish()
    assert report.objects > 30 and report.bytes_published == len(data)
    more = realistic_lines(50, start=200)
    log.append(more)
    log.publish()
    objects = log.objects()
    in_log_order(objects)
    assert log.published_bytes() == data + more
    for obj in objects[:: len(objects) // 5]:
        headers = store.head_object(log.location.container, obj.name)
        assert "x-delete-at" in headers and "x-object-meta-lines" in headers


class Jittery(Passthrough):
    """Each upload's thread dawdles a little before it reaches the store: later ones
    often get there first."""

    def __init__(self, inner):
        super().__init__(inner)
        self.rng = random.Random(7)

    def put_object(self, container, name, data, headers=None, turn=None):
        time.sleep(self.rng.random() * 0.004)
        return super().put_object(container, name, data, headers, turn)


def test_uploads_that_reach_the_store_out_of_turn_are_still_stored_in_order(tmp_path):
    store = FileStore(tmp_path / "objects")
    log = LogHarness(store, tmp_path, limit=200, concurrency=8)
    data = realistic_lines(150)
    log.write(data)
    log.publish(store=Jittery(store))
    in_log_order(log.objects())
    assert log.published_bytes() == data


class Watching(Passthrough):
    """Lists the log each time an upload is stored: what a reader would find then."""

    def __init__(self, inner, log):
        super().__init__(inner)
        self.log, self.seen, self.lock = log, [], threading.Lock()

    def put_object(self, container, name, data, headers=None, turn=None):
        etag = super().put_object(container, name, data, headers, turn)
        if not name.endswith("_metafile"):
            with self.lock:
                self.seen.append(self.log.objects())
        return etag


def test_a_reader_finds_a_prefix_of_the_log_at_every_moment(store, tmp_path):
    log = LogHarness(store, tmp_path, limit=500, concurrency=CONCURRENCY)
    data = realistic_lines(120)
    log.write(data)
    watching = Watching(store, log)
    log.publish(store=watching)
    assert len(watching.seen) > 15
    for listed in watching.seen:
        in_log_order(listed)
        expected = 0
        for obj in listed:
            assert parse_chunk_name(log.location.prefix, obj.name) == (1, expected), (
                "a hole: an object became visible before the one before it"
            )
            expected += obj.size


def test_a_retried_upload_restarts_the_ones_that_started_after_it(devswift, tmp_path):
    """The third object is stored but its answer is lost: swiftclient stores it again,
    later; the uploads that had started behind it start over, behind the retry."""
    answered = []

    def lose_one_answer(stage, exchange):
        if stage == "answered" and exchange.method == "PUT" and "/log-" in exchange.path:
            answered.append(exchange.path)
            if len(answered) == 3:
                raise Cut()

    proxy = FaultProxy(devswift.proxy_url, lose_one_answer).start()
    creds = devswift.credentials()
    store = SwiftStore(
        SwiftAuth(
            auth_url=f"{proxy.url}/auth/v1.0",
            auth_version="1",
            user=creds["user"],
            key=creds["key"],
        ),
        SwiftRetry(retries=2, starting_backoff=0.05, max_backoff=0.2),
    )
    try:
        log = LogHarness(store, tmp_path, limit=300, concurrency=CONCURRENCY)
        data = b"".join(b"line %05d %s\n" % (i, b"x" * 80) for i in range(40))
        log.write(data)
        log.publish()
        objects = log.objects()
        # the retry of the third, and the uploads that started over behind it
        puts = [e for e in proxy.exchanges if e.method == "PUT" and "/log-" in e.path]
        assert len(puts) > len(objects) + 1
        in_log_order(objects)
        assert log.published_bytes() == data
    finally:
        proxy.stop()
        store.close()


# --- the rate limit ------------------------------------------------------------------


def test_the_rate_limit_spaces_the_uploads_by_their_size(store, tmp_path):
    """Each upload starts size / rate after the one before it; idle time is not saved up.

    The clock is the test's: no test waits for a rate.
    """
    clock = {"now": 1000.0}
    starts = []

    class Starts(Passthrough):
        def put_object(self, container, name, data, headers=None, turn=None):
            if not name.endswith("_metafile"):
                starts.append((clock["now"], len(data)))
            return super().put_object(container, name, data, headers, turn)

    rate = 10_000
    log = LogHarness(store, tmp_path, limit=1000, max_rate=rate, concurrency=1)
    data = realistic_lines(200)
    log.write(data)
    publisher = log.publisher(store=Starts(store))
    publisher.uploader.pacer = uploads.Pacer(
        rate, lambda: clock["now"], lambda s: clock.__setitem__("now", clock["now"] + s)
    )
    publisher.publish()
    assert len(starts) > 10
    for (before, size), (after, _) in itertools.pairwise(starts):
        assert after == pytest.approx(before + size / rate)
    clock["now"] += 3600  # idle for an hour: the next publish does not burst
    starts.clear()
    log.append(realistic_lines(100, start=200))
    publisher.publish()
    for (before, size), (after, _) in itertools.pairwise(starts):
        assert after == pytest.approx(before + size / rate)
    assert log.published_bytes() == data + realistic_lines(100, start=200)


# --- bad values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        ({"concurrency": 0}, "guest_log_upload_concurrency"),
        ({"concurrency": 33}, "guest_log_upload_concurrency"),
        ({"concurrency": -2}, "guest_log_upload_concurrency"),
        ({"max_rate": 16_666}, "guest_log_max_bytes_per_second"),
        ({"max_rate": -1}, "guest_log_max_bytes_per_second"),
    ],
)
def test_bad_values_are_refused_naming_the_option(changes, option):
    settings = PublishSettings(limit=1_000_000, **changes)
    with pytest.raises(ConfigError, match=option):
        settings.check(32)


def test_good_values_pass():
    PublishSettings(limit=1_000_000, concurrency=32, max_rate=16_667).check(32)
    PublishSettings(limit=1_000_000, concurrency=1, max_rate=0).check(32)
