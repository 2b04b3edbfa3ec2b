"""Reading ahead: results in order, errors at their turn, memory bounded, nothing left running."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from logsvc.client.readahead import ordered_chunks, ordered_results


@pytest.fixture
def pool():
    with ThreadPoolExecutor(4) as executor:
        yield executor


class Source:
    """A source of numbered chunks that records how far it was read."""

    def __init__(self, name: str, count: int, fail_at: int | None = None):
        self.name, self.count, self.fail_at = name, count, fail_at
        self.produced = 0
        self.closed = threading.Event()

    def __call__(self):
        try:
            for i in range(self.count):
                if i == self.fail_at:
                    raise OSError(f"{self.name} failed at {i}")
                self.produced += 1
                yield f"{self.name}{i}".encode()
        finally:
            self.closed.set()


def test_chunks_come_in_the_order_of_the_sources(pool):
    sources = [Source(n, c) for n, c in (("a", 3), ("b", 0), ("c", 5), ("d", 1))]
    out = list(ordered_chunks(pool, sources, ahead=2, queued=2))
    assert out == [b"a0", b"a1", b"a2", b"c0", b"c1", b"c2", b"c3", b"c4", b"d0"]


def test_an_error_is_raised_at_its_turn(pool):
    sources = [Source("a", 2), Source("b", 5, fail_at=1), Source("c", 2)]
    out = []
    with pytest.raises(OSError, match="b failed at 1"):
        for chunk in ordered_chunks(pool, sources, ahead=2):
            out.append(chunk)
    assert out == [b"a0", b"a1", b"b0"]


def test_sources_ahead_hold_few_chunks(pool):
    sources = [Source(n, 100) for n in "abc"]
    chunks = ordered_chunks(pool, sources, ahead=2, queued=3)
    assert next(chunks) == b"a0"
    time.sleep(0.2)  # let the sources ahead run as far as they may
    # each is stopped by its full queue: the queued chunks, plus one waiting to be put
    assert all(s.produced <= 3 + 2 for s in sources)
    chunks.close()


def test_stopping_early_releases_every_source(pool):
    sources = [Source(n, 100) for n in "abcdef"]
    chunks = ordered_chunks(pool, sources, ahead=2, queued=2)
    assert next(chunks) == b"a0"
    chunks.close()
    for source in sources[:3]:  # the running ones finish and close their iterators
        assert source.closed.wait(5)
    assert all(s.produced == 0 for s in sources[3:])  # the others never start
    pool.shutdown(wait=True)  # nothing is left blocked


def test_results_are_asked_ahead_in_a_growing_window(pool):
    asked = []
    lock = threading.Lock()

    def ask(item):
        with lock:
            asked.append(item)
        return item * 10

    results = ordered_results(pool, ask, range(100), most=8)
    item, future = next(results)
    assert (item, future.result()) == (0, 0)
    assert len(asked) == 1  # the first item alone: a walk that stops here asks no more
    for _ in range(5):
        item, future = next(results)
        assert future.result() == item * 10
    results.close()
    pool.shutdown(wait=True)
    assert len(asked) <= 6 + 8
    assert sorted(asked)[:6] == [0, 1, 2, 3, 4, 5]
