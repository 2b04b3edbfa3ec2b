"""The storage contract: what every backend does, run against each of them."""

import hashlib
import threading
import time
import uuid

import psutil
import pytest
import requests_mock

from logsvc.exceptions import (
    InvalidObjectName,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
)
from logsvc.storage import swift as swift_backend
from logsvc.storage.file import FileStore
from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore
from tests.conftest import swift_store

BINARY = bytes(range(256)) * 3 + b"\r\n\x00\xff\xfe end"


def test_put_get_roundtrip_is_byte_exact(store, container):
    etag = store.put_object(container, "a/b/obj", BINARY)
    assert etag == hashlib.md5(BINARY).hexdigest()
    headers, body = store.get_object(container, "a/b/obj")
    assert body == BINARY
    assert int(headers["content-length"]) == len(BINARY)
    assert headers["etag"].strip('"') == etag


def test_a_given_etag_is_checked_and_mismatching_bytes_are_not_stored(store, container):
    right = hashlib.md5(b"sent\n").hexdigest()
    assert store.put_object(container, "ok", b"sent\n", {"ETag": right}) == right
    assert store.get_object(container, "ok")[1] == b"sent\n"
    with pytest.raises(StorageError) as err:
        store.put_object(container, "bad", b"other bytes\n", {"ETag": right})
    assert "bad" in err.value.message
    with pytest.raises(ObjectNotFound):
        store.head_object(container, "bad")


def test_metadata_travels_with_the_object(store, container):
    store.put_object(container, "o", b"x\n", {"X-Object-Meta-Lines": "1"})
    assert store.head_object(container, "o")["x-object-meta-lines"] == "1"
    # an overwrite replaces the metadata as it replaces the bytes
    store.put_object(container, "o", b"x\ny\n", {"X-Object-Meta-Lines": "2"})
    headers, body = store.get_object(container, "o")
    assert (headers["x-object-meta-lines"], body) == ("2", b"x\ny\n")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 4, b"0123"),
        (4, None, b"456789"),
        (3, 5, b"34"),
        (-3, None, b"789"),
        (8, 100, b"89"),
        (10, None, b""),
        (20, None, b""),
        (5, 5, b""),
    ],
)
def test_ranges_read_slices(store, container, start, end, expected):
    store.put_object(container, "digits", b"0123456789")
    assert store.get_object(container, "digits", start, end)[1] == expected


def test_stream_yields_the_whole_object_in_chunks(store, container):
    data = b"".join(b"%06d\n" % i for i in range(5000))
    store.put_object(container, "big", data)
    headers, chunks = store.stream_object(container, "big", chunk_size=4096)
    parts = list(chunks)
    assert b"".join(parts) == data
    assert len(parts) > 1
    assert int(headers["content-length"]) == len(data)


def test_missing_objects(store, container):
    with pytest.raises(ObjectNotFound):
        store.get_object(container, "nope")
    with pytest.raises(ObjectNotFound):
        store.head_object(container, "nope")
    with pytest.raises(ObjectNotFound):
        store.stream_object(container, "nope")
    assert store.delete_object(container, "nope") is False
    assert list(store.list_objects(container)) == []  # the container does not exist


def test_delete(store, container):
    store.put_object(container, "x/y", b"1")
    assert store.delete_object(container, "x/y") is True
    assert list(store.list_objects(container)) == []
    with pytest.raises(ObjectNotFound):
        store.get_object(container, "x/y")


def test_listing_is_in_name_order_with_prefix_and_markers(store, container):
    # '-' sorts before '/', which sorts before '0': names, not directories, decide
    names = ["a-c", "a/b", "a/b0", "a0", "b/x/y", "b/x-", "ab", "a/c/d"]
    for name in names:
        store.put_object(container, name, name.encode())
    listed = [o.name for o in store.list_objects(container)]
    assert listed == sorted(names)
    assert [o.name for o in store.list_objects(container, prefix="a/")] == ["a/b", "a/b0", "a/c/d"]
    assert [o.name for o in store.list_objects(container, prefix="a")] == [
        n for n in sorted(names) if n.startswith("a")
    ]
    assert [o.name for o in store.list_objects(container, marker="a/b0")] == [
        n for n in sorted(names) if n > "a/b0"
    ]
    assert [o.name for o in store.list_objects(container, marker="a-c", end_marker="ab")] == [
        "a/b",
        "a/b0",
        "a/c/d",
        "a0",
    ]
    info = next(iter(store.list_objects(container, prefix="b/x/y")))
    assert (info.size, info.etag) == (5, hashlib.md5(b"b/x/y").hexdigest())


def test_listing_walks_every_page(store, container, monkeypatch):
    monkeypatch.setattr(swift_backend, "_PAGE", 3)  # many pages from few objects
    names = [f"p/{i:03d}" for i in range(11)]
    for name in names:
        store.put_object(container, name, b"")
    assert [o.name for o in store.list_objects(container, prefix="p/")] == names
    assert [o.name for o in store.list_objects(container, prefix="p/", marker="p/004")] == names[5:]


def test_last_modified_follows_write_order(store, container):
    for i in range(30):
        store.put_object(container, f"t/{i:02d}", b"x")
    stamps = [o.last_modified for o in store.list_objects(container, prefix="t/")]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_expired_objects_disappear(store, container):
    store.put_object(container, "short", b"bye", {"X-Delete-After": "1"})
    store.put_object(container, "long", b"stay", {"X-Delete-After": "3600"})
    assert int(store.head_object(container, "long")["x-delete-at"]) > time.time() + 3500
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        names = [o.name for o in store.list_objects(container)]
        try:
            store.head_object(container, "short")
        except ObjectNotFound:
            if names == ["long"]:
                break
        time.sleep(0.2)
    else:
        pytest.fail("an object with X-Delete-After: 1 was still there after 20s")
    assert store.get_object(container, "long")[1] == b"stay"


def test_check_passes_on_a_working_store(store):
    store.check()


# --- backend specifics ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "/abs", "a//b", "a/../b", "..", "a/./b", "x\0y", "a/" + "n" * 300]
)
def test_file_store_refuses_names_that_could_escape(tmp_path, name):
    store = FileStore(tmp_path)
    with pytest.raises(InvalidObjectName):
        store.put_object("c", name, b"x")


@pytest.mark.parametrize("container", ["", ".meta", "a/b", "..", "x" * 300])
def test_file_store_refuses_bad_containers(tmp_path, container):
    with pytest.raises(InvalidObjectName):
        FileStore(tmp_path).put_object(container, "o", b"x")


def test_file_store_mirrors_objects_as_files(tmp_path):
    store = FileStore(tmp_path)
    store.put_object("logs", "i/file-app/log-1", b"abc")
    assert (tmp_path / "logs" / "i" / "file-app" / "log-1").read_bytes() == b"abc"
    store.delete_object("logs", "i/file-app/log-1")
    assert not (tmp_path / "logs" / "i").exists()  # empty directories go too


def test_file_store_object_and_directory_cannot_collide(tmp_path):
    store = FileStore(tmp_path)
    store.put_object("c", "a/b", b"1")
    with pytest.raises(InvalidObjectName):
        store.put_object("c", "a/b/c", b"2")
    with pytest.raises(InvalidObjectName):
        store.put_object("c", "a", b"3")


def test_swift_bad_credentials(devswift):
    creds = devswift.credentials()
    store = SwiftStore(
        SwiftAuth(
            auth_url=creds["auth_url"], auth_version="1", user=creds["user"], key="wrong-key-123"
        ),
        SwiftRetry(retries=0),
    )
    with pytest.raises(StorageAuthError) as err:
        store.check()
    assert "wrong-key-123" not in str(err.value)


class _FreeTurn:
    """An upload's turn that never waits (one upload at a time here)."""

    def start(self) -> None: ...

    def taken(self) -> None: ...

    def release(self) -> None: ...


def _sockets_to(port: int) -> int:
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def test_swift_closes_the_connections_of_threads_that_ended(devswift):
    """An agent runs each publish and each request in a thread of its own: their
    connections are closed once the thread has ended (bench/load.py saw an agent's
    sockets to Swift grow by one per publish or so, to 150 within a minute)."""
    store = swift_store(devswift)
    container = f"threads-{uuid.uuid4().hex[:8]}"
    port = int(devswift.proxy_url.rsplit(":", 1)[1])
    before = _sockets_to(port)

    def use(i: int) -> None:  # a plain request and an upload in turn, as a publish makes
        store.put_object(container, f"plain-{i}", b"x" * 10)
        store.put_object(container, f"turn-{i}", b"y" * 10, turn=_FreeTurn())

    for i in range(20):
        thread = threading.Thread(target=use, args=(i,))
        thread.start()
        thread.join()
    use(20)  # this thread's own: the ended threads' are closed as it makes them
    assert len(store._connections) == 1
    # This thread's two, and the first authentication's, which swiftclient leaves
    # to the garbage collector (without the fix: about one per thread).
    assert _sockets_to(port) - before <= 3
    assert len(list(store.list_objects(container, prefix="turn-"))) == 21
    store.close()
    assert _sockets_to(port) <= before  # (others' kept-alive ones may have closed since)


def test_swift_unreachable_is_unavailable_after_retries():
    store = SwiftStore(
        SwiftAuth(storage_url="http://127.0.0.1:9/v1/AUTH_x", token="t"),
        SwiftRetry(retries=2, starting_backoff=0.01, max_backoff=0.02, timeout=2),
    )
    with pytest.raises(StorageUnavailable) as err:
        store.put_object("c", "o", b"x")
    assert "unreachable" in err.value.message


def _fault_store() -> SwiftStore:
    return SwiftStore(
        SwiftAuth(storage_url="http://swift.test/v1/AUTH_x", token="tok"),
        SwiftRetry(retries=3, starting_backoff=0.01, max_backoff=0.05),
    )


def _body(request) -> bytes:
    body = request.body
    if hasattr(body, "read"):
        return body.read()
    return body if isinstance(body, bytes) else b"".join(body)


def test_swift_retries_5xx_then_succeeds():
    statuses, received = [503, 500, 201], []

    def answer(request, context):
        received.append(_body(request))
        context.status_code = statuses[len(received) - 1]
        context.headers["etag"] = hashlib.md5(received[-1]).hexdigest()
        return ""

    with requests_mock.Mocker() as m:
        m.put("http://swift.test/v1/AUTH_x/c/o", text=answer)
        _fault_store().put_object("c", "o", b"data")
    assert received == [b"data"] * 3  # every retry sends the whole object again


def test_swift_gives_up_after_the_configured_retries():
    with requests_mock.Mocker() as m:
        m.get("http://swift.test/v1/AUTH_x/c?format=json&limit=10000", status_code=503)
        with pytest.raises(StorageUnavailable):
            list(_fault_store().list_objects("c"))
        # the first try and three retries (counted by URL: a thread left by
        # another test may ask for something else meanwhile)
        listing = "http://swift.test/v1/AUTH_x/c?format=json&limit=10000"
        assert [r.url for r in m.request_history].count(listing) == 4


def test_swift_creates_a_missing_container_on_put():
    with requests_mock.Mocker() as m:
        answers = iter([404, 201])

        def answer(request, context):
            context.status_code = next(answers)
            context.headers["etag"] = hashlib.md5(_body(request)).hexdigest()
            return ""

        m.put("http://swift.test/v1/AUTH_x/c/o", text=answer)
        m.put("http://swift.test/v1/AUTH_x/c", status_code=201)
        _fault_store().put_object("c", "o", b"data")
        assert [r.url for r in m.request_history] == [
            "http://swift.test/v1/AUTH_x/c/o",
            "http://swift.test/v1/AUTH_x/c",
            "http://swift.test/v1/AUTH_x/c/o",
        ]


def test_swift_bytes_stored_differently_are_an_error():
    with requests_mock.Mocker() as m:
        m.put("http://swift.test/v1/AUTH_x/c/o", status_code=201, headers={"etag": "0" * 32})
        with pytest.raises(StorageError, match="stored other bytes than were sent"):
            _fault_store().put_object("c", "o", b"data")
