"""A log's objects as Swift temp URLs: the API's listing, and the client reading through it.

Real processes: logsvc-api (with [storage] backend = swift and the account's
temp-URL key), a logsvc-guestagent publishing into the session's Swift,
whose proxy runs the tempurl middleware (dev/devswift.py).
"""

import time

import pytest
import requests

from logsvc.client.api import Client
from logsvc.client.tempurls import TempUrlStore
from logsvc.exceptions import InstanceNotFound, LogNotFound, TempUrlsUnavailable
from tests.apistack import INSTANCE, Stack
from tests.helpers import realistic_lines
from tests.processes import swift_settings


def tempurl_stack(tmp_path, swift, ttl: int = 3600, key: str | None = "") -> Stack:
    api = {"temp_url_ttl": ttl}
    if key is not None:
        api["temp_url_key"] = key or swift.temp_url_keys["test"]
    sections = {"api": api, "storage": {"backend": "swift"}, "swift": swift_settings(swift)}
    return Stack(tmp_path, swift, api_sections=sections)


@pytest.fixture
def stack(tmp_path, devswift):
    s = tempurl_stack(tmp_path, devswift).start()
    yield s
    s.stop()


def objects(stack: Stack, token: str, log: str, query: str = "") -> requests.Response:
    return stack.api.request("GET", f"/v1/instance/{INSTANCE}/log/{log}/objects{query}", token)


def publish(stack: Stack, token: str, log: str, data: bytes) -> None:
    with open(stack.paths[log], "ab") as f:
        f.write(data)
    resp = stack.post(token, {"name": log, "publish": True})
    assert resp.status_code == 200, resp.text


def test_the_listing_signs_each_object_and_the_client_reads_through_it(stack, tmp_path):
    empty = objects(stack, stack.alice, "big")
    assert empty.status_code == 200, empty.text
    assert empty.json()["objects"] == [] and empty.json()["size"] == 0

    data = realistic_lines(2000)
    publish(stack, stack.alice, "big", data)
    resp = objects(stack, stack.alice, "big")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"
    listing = resp.json()
    entries = listing["objects"]
    assert len(entries) > 3 and listing["size"] == len(data) and listing["gaps"] == []
    # Each URL alone, with no credential: the bytes of its range, its line count.
    joined = b""
    for entry in entries:
        got = requests.get(entry["url"], timeout=30)
        assert got.status_code == 200
        assert got.content == data[entry["start"] : entry["end"]]
        assert entry["lines"] == got.content.count(b"\n")
        joined += got.content
    assert joined == data
    # A Range on a URL, and HEAD.
    first = entries[0]["url"]
    assert requests.get(first, headers={"Range": "bytes=10-19"}, timeout=30).content == data[10:20]
    assert requests.head(first, timeout=30).status_code == 200
    # Signed for GET only: no PUT, no DELETE through it.
    assert requests.delete(first, timeout=30).status_code == 401
    assert (
        requests.get(first.replace("temp_url_sig=", "temp_url_sig=0"), timeout=30).status_code
        == 401
    )
    assert listing["metafile"]["name"].endswith("_metafile")
    assert requests.get(listing["metafile"]["url"], timeout=30).status_code == 200
    no_counts = objects(stack, stack.alice, "big", "?line_counts=false").json()
    assert [e["lines"] for e in no_counts["objects"]] == [None] * len(entries)

    # The client with only the API's URL and token: save and tail, straight from Swift.
    client = Client(stack.api.url, stack.alice)
    with client.tempurl_reader(INSTANCE, "big") as reader:
        saved = reader.save(tmp_path / "big.log")
        assert (tmp_path / "big.log").read_bytes() == data and saved.gaps == ()
        tail = b"".join(reader.tail(7))
        assert tail == b"".join(data.splitlines(keepends=True)[-7:])
        assert b"".join(reader.tail(0)) == data
        assert reader.store.listings >= 3  # each snapshot lists anew


def test_the_listing_is_refused_as_a_read_is(stack):
    publish(stack, stack.alice, "big", realistic_lines(50))
    publish(stack, stack.admin, "hidden", realistic_lines(50))
    # Another project's instance: 404, as if it did not exist.
    other = objects(stack, stack.bob, "big")
    assert other.status_code == 404 and other.json()["error"]["code"] == "instance_not_found"
    # A log the agent does not expose: for admins only.
    hidden = objects(stack, stack.alice, "hidden")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "log_not_found"
    assert objects(stack, stack.admin, "hidden").json()["objects"]
    assert objects(stack, stack.admin, "big").status_code == 200
    with pytest.raises(InstanceNotFound):
        Client(stack.api.url, stack.bob).log_objects(INSTANCE, "big")
    with pytest.raises(LogNotFound):
        Client(stack.api.url, stack.alice).log_objects(INSTANCE, "hidden")
    assert objects(stack, "", "big").status_code == 401
    # Bad input: a clear 400.
    for query in ("?line_counts=maybe", "?lines=5"):
        bad = objects(stack, stack.alice, "big", query)
        assert bad.status_code == 400, query
    assert objects(stack, stack.alice, "No-Such").status_code == 400
    assert objects(stack, stack.alice, "nosuch").status_code == 404


def test_urls_that_expire_mid_read_are_asked_for_again(tmp_path, devswift):
    # 5 s: fresh URLs must outlive the listing that brings them, on a busy machine too
    stack = tempurl_stack(tmp_path, devswift, ttl=5).start()
    try:
        data = realistic_lines(3000)
        publish(stack, stack.alice, "big", data)
        client = Client(stack.api.url, stack.alice)
        reader = client.tempurl_reader(INSTANCE, "big")
        store = reader.store
        assert isinstance(store, TempUrlStore)
        first_url = client.log_objects(INSTANCE, "big", line_counts=False)["objects"]
        expired = {"waited": False}

        def progress(done: int, total: int) -> None:
            # Once the first bytes are written, wait for the URLs of the listing to expire.
            if done and not expired["waited"]:
                expired["waited"] = True
                while requests.head(first_url[-1]["url"], timeout=10).status_code != 401:
                    time.sleep(0.2)

        with reader:
            saved = reader.save(tmp_path / "big.log", progress)
        assert expired["waited"]
        assert (tmp_path / "big.log").read_bytes() == data and saved.gaps == ()
        # the snapshot's listing (whenever it was taken), and a fresh one after expiry
        assert store.listings >= 2
    finally:
        stack.stop()


def test_no_temp_urls_without_a_key(tmp_path, devswift):
    stack = tempurl_stack(tmp_path, devswift, key=None).start()
    try:
        publish(stack, stack.alice, "small", realistic_lines(10))
        resp = objects(stack, stack.alice, "small")
        assert resp.status_code == 501, resp.text
        assert resp.json()["error"]["code"] == "temp_urls_unavailable"
        # The isolation comes first: another project's instance is still 404.
        assert objects(stack, stack.bob, "small").status_code == 404
        with pytest.raises(TempUrlsUnavailable, match="temp_url_key"):
            Client(stack.api.url, stack.alice).tempurl_reader(INSTANCE, "small")
    finally:
        stack.stop()
