"""The read route, ``GET /v1/instance/<id>/log/<name>/data``: real API, agent and Swift
(and the file backend), the bytes compared with the log file's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apistack import INSTANCE, OTHER_TENANT, TENANT, Stack
from tests.helpers import realistic_lines
from tests.tail_reference import reference

#: Bytes that a decoder would change: CR, NUL, bytes that are not UTF-8, a tab.
ODD = b"caf\xc3\xa9 \xff\xfe\x00 \r\n\tend of odd line\n"


def publish(stack: Stack, log: str, data: bytes, token: str | None = None) -> dict:
    stack.paths[log].write_bytes(data)
    resp = stack.post(token or stack.alice, {"name": log, "publish": True})
    assert resp.status_code == 200, resp.text
    return resp.json()["log"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, devswift):
    """One stack for the module's tests (each starts a Swift account's worth of processes)."""
    s = Stack(tmp_path_factory.mktemp("read"), devswift).start()
    yield s
    s.stop()


@pytest.fixture
def big(stack) -> bytes:
    """`big` published in many objects (guest_log_limit 16 KiB), odd bytes among its lines.

    Published once for the module; a test that changes it leaves the file as published.
    """
    if not stack.paths["big"].stat().st_size:
        data = realistic_lines(1500) + ODD + realistic_lines(1500, 1500)
        log = publish(stack, "big", data)
        assert log["published"] == len(data)
    return stack.paths["big"].read_bytes()


def test_the_whole_log_byte_exact_with_its_validators(stack, big):
    resp = stack.data(stack.alice, "big")
    assert resp.status_code == 200, resp.text
    assert resp.content == big
    h = resp.headers
    assert h["Content-Type"] == "application/octet-stream"
    assert int(h["Content-Length"]) == int(h["X-Log-Size"]) == int(h["X-Log-Published"]) == len(big)
    assert h["Accept-Ranges"] == "bytes" and "X-Log-Missing-Ranges" not in h
    assert h["ETag"].startswith('"') and h["Last-Modified"].endswith(" GMT")
    # the same through Trove's prefix
    trove = stack.api.request(
        "GET", f"/v1.0/{TENANT}/instances/{INSTANCE}/log/big/data", stack.alice
    )
    assert trove.status_code == 200 and trove.content == big and trove.headers["ETag"] == h["ETag"]
    # nothing new: 304; something new: a new ETag, and the new bytes from the old size on
    unchanged = stack.data(stack.alice, "big", headers={"If-None-Match": h["ETag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    more = realistic_lines(20, 9000)
    publish(stack, "big", big + more)
    since = stack.data(stack.alice, "big", headers={"Range": f"bytes={len(big)}-"})
    assert since.status_code == 206 and since.content == more
    assert since.headers["ETag"] != h["ETag"]
    assert (
        since.headers["Content-Range"]
        == f"bytes {len(big)}-{len(big) + len(more) - 1}/{len(big) + len(more)}"
    )
    # If-Range with the old ETag: the log changed, so all of it comes back
    stale = stack.data(stack.alice, "big", headers={"Range": "bytes=0-9", "If-Range": h["ETag"]})
    assert stale.status_code == 200 and stale.content == big + more
    fresh = stack.data(
        stack.alice, "big", headers={"Range": "bytes=0-9", "If-Range": since.headers["ETag"]}
    )
    assert fresh.status_code == 206 and fresh.content == big[:10]


def test_ranges(stack, big):
    size = len(big)
    for header, start, end in (
        ("bytes=0-0", 0, 1),
        ("bytes=100-20000", 100, 20001),  # across objects
        (f"bytes={size - 5}-{size + 1000}", size - 5, size),  # an end past the end is cut
        ("bytes=-77", size - 77, size),
        (f"bytes=-{size * 10}", 0, size),
        ("bytes=16380-", 16380, size),
        ("BYTES = 3-4", 3, 5),
    ):
        resp = stack.data(stack.alice, "big", headers={"Range": header})
        assert resp.status_code == 206, (header, resp.text)
        assert resp.content == big[start:end], header
        assert resp.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}", header
        assert int(resp.headers["Content-Length"]) == end - start
    for header in (
        f"bytes={size}-",
        f"bytes={size}-{size + 5}",
        "bytes=-0",
        "bytes=" + "9" * 40 + "-",
    ):
        resp = stack.data(stack.alice, "big", headers={"Range": header})
        assert resp.status_code == 416, (header, resp.text)
        assert resp.headers["Content-Range"] == f"bytes */{size}"
        assert resp.json()["error"]["code"] == "range_not_satisfiable"
        # "nothing new" still tells where the log stands (a follower's next Range)
        assert resp.headers["X-Log-Size"] == str(size)
        assert resp.headers["X-Log-Runs"] == f"1:0+{size}@0"  # generation 1, whole
        assert resp.headers["Content-Type"].startswith("application/json")
    for header in (
        "bytes=abc",
        "bytes=5-3",
        "bytes=",
        "bytes=--5",
        "bytes=1-2-3",
        "nonsense",
        "bytes=1-2,x",
    ):
        resp = stack.data(stack.alice, "big", headers={"Range": header})
        assert resp.status_code == 400, (header, resp.text)
        assert "Range" in resp.json()["error"]["message"]
    # several ranges, or another unit: the whole log (RFC 9110 lets a server ignore them)
    for header in ("bytes=0-1,5-9", "lines=1-2", "bytes=0-1, -3"):
        resp = stack.data(stack.alice, "big", headers={"Range": header})
        assert resp.status_code == 200 and resp.content == big, header
    trove = stack.api.request(
        "GET",
        f"/v1.0/{TENANT}/instances/{INSTANCE}/log/big/data",
        stack.alice,
        headers={"Range": f"bytes={size}-"},
    )
    assert trove.status_code == 416 and set(trove.json()) == {"requestedRangeNotSatisfiable"}


def test_lines_as_log_tail_means_them(stack, big):
    for n in (1, 3, 50, 1499, 1502, 10**6, 0, -1, -1500, -2999, -3002, -(10**9)):
        resp = stack.data(stack.alice, "big", params={"lines": n})
        assert resp.status_code == 200, (n, resp.text)
        assert resp.content == reference(big, n), n
        assert resp.headers["Accept-Ranges"] == "none"
        assert int(resp.headers["X-Log-Size"]) == len(big)
    whole = stack.data(stack.alice, "big")
    last = stack.data(stack.alice, "big", params={"lines": 5})
    assert last.headers["ETag"] != whole.headers["ETag"]
    # a Range beside lines is not applied
    ranged = stack.data(stack.alice, "big", params={"lines": 2}, headers={"Range": "bytes=0-0"})
    assert ranged.status_code == 200 and ranged.content == reference(big, 2)
    for bad in ("abc", "", "1.5", "5x", "9" * 30, "--1"):
        resp = stack.data(stack.alice, "big", params={"lines": bad})
        assert resp.status_code == 400, (bad, resp.text)
        assert "lines" in resp.json()["error"]["message"]


def test_who_may_read(stack, big):
    # another project: as an instance that does not exist, on both prefixes
    missing = stack.data(stack.bob, "big", instance_id="inst-nope")
    for resp in (
        stack.data(stack.bob, "big"),
        stack.data(stack.bob, "big", params={"lines": 5}),
        stack.data(stack.bob, "big", headers={"Range": "bytes=0-5"}),
    ):
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["message"].replace(INSTANCE, "X") == missing.json()["error"][
            "message"
        ].replace("inst-nope", "X")
        assert big[:20] not in resp.content
    for tenant in (OTHER_TENANT, TENANT):
        trove = stack.api.request(
            "GET", f"/v1.0/{tenant}/instances/{INSTANCE}/log/big/data", stack.bob
        )
        assert trove.status_code == 404 and set(trove.json()) == {"itemNotFound"}
    assert stack.data(None, "big").status_code == 401
    # a log the agent does not expose: admins only
    publish(stack, "hidden", b"hidden line\n", token=stack.admin)
    assert stack.data(stack.alice, "hidden").status_code == 404
    admin = stack.data(stack.admin, "hidden")
    assert admin.status_code == 200 and admin.content == b"hidden line\n"
    assert stack.data(stack.admin, "big").content == big
    # a log that does not exist; a name that cannot be one
    assert stack.data(stack.alice, "nosuch").status_code == 404
    assert stack.data(stack.alice, "Bad-Name").status_code == 400


def test_a_log_with_nothing_published(stack):
    resp = stack.data(stack.alice, "small")
    assert resp.status_code == 200, resp.text
    assert resp.content == b"" and resp.headers["X-Log-Size"] == "0"
    assert resp.headers["Content-Length"] == "0" and "Last-Modified" not in resp.headers
    assert stack.data(stack.alice, "small", params={"lines": 10}).content == b""
    empty = stack.data(stack.alice, "small", headers={"Range": "bytes=0-"})
    assert empty.status_code == 416 and empty.headers["Content-Range"] == "bytes */0"
    # discarded: nothing published again
    publish(stack, "small", b"a\n")
    assert stack.data(stack.alice, "small").content == b"a\n"
    assert stack.post(stack.alice, {"name": "small", "discard": True}).status_code == 200
    assert stack.data(stack.alice, "small").content == b""


def only_the_api(stack: Stack, token: str) -> dict[str, str]:
    """The environment of a user who holds the API's URL and a token, and nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGSVC_", "OS_", "ST_"))}
    return env | {
        "LOGSVC_URL": stack.api.url,
        "LOGSVC_TOKEN": token,
        "LOGSVC_CONFIG": "/nonexistent/logsvc.conf",
    }


def cli(env, *args, cwd=None):
    proc = subprocess.run(
        [sys.executable, "-m", "logsvc.cli.app", *args], env=env, capture_output=True, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def test_the_cli_with_only_the_url_and_a_token(stack, big, tmp_path):
    env = only_the_api(stack, stack.alice)
    cli(env, "log-save", INSTANCE, "big", "--file", "saved.log", cwd=tmp_path)
    assert (tmp_path / "saved.log").read_bytes() == big
    assert cli(env, "log-tail", INSTANCE, "big", "--lines", "0").stdout == big
    for n in (1, 7, 2000, -2990):
        assert cli(env, "log-tail", INSTANCE, "big", "--lines", str(n)).stdout == reference(big, n)
    # --publish, then read: what was appended comes too
    more = realistic_lines(3, 7000)
    stack.paths["big"].write_bytes(big + more)
    out = cli(env, "log-tail", INSTANCE, "big", "--lines", "3", "--publish").stdout
    assert out == more
    # --direct without store settings: the store is asked for, and named missing
    proc = subprocess.run(
        [sys.executable, "-m", "logsvc.cli.app", "log-tail", INSTANCE, "big", "--direct"],
        env=env,
        capture_output=True,
    )
    assert proc.returncode != 0 and b"object store" in proc.stderr
    # another project's token: as an instance that does not exist
    bob = subprocess.run(
        [sys.executable, "-m", "logsvc.cli.app", "log-save", INSTANCE, "big"],
        env=only_the_api(stack, stack.bob),
        capture_output=True,
        cwd=tmp_path,
    )
    assert bob.returncode != 0 and b"no instance" in bob.stderr
    assert not (tmp_path / "big.log").exists()


def test_the_python_client_reads_ranges_and_resumes(stack, big, tmp_path):
    from logsvc.client.api import Client

    client = Client(stack.api.url, stack.alice)
    data = client.log_data(INSTANCE, "big", start=10, end=110)
    assert (data.status, b"".join(data)) == (206, big[10:110])
    assert data.size == len(big) and data.etag
    assert b"".join(client.log_data(INSTANCE, "big", lines=4)) == reference(big, 4)
    assert b"".join(client.log_generator(INSTANCE, "big", lines=-5)) == reference(big, -5)
    path = client.log_save(INSTANCE, "big", filename=str(tmp_path / "whole.log"))
    assert Path(path).read_bytes() == big and client.last_gaps == []
    # an answer that breaks off (a fault no real server here makes on cue) is asked
    # again from where it stopped
    cut = {"left": 1}
    real = client.log_data

    def breaking(*args, **kwargs):
        answer = real(*args, **kwargs)
        if cut["left"] and "start" not in kwargs:
            cut["left"] -= 1
            chunks = answer._chunks

            def short():
                yield next(chunks)[:1000]
                chunks.close()  # the connection goes
                from logsvc.exceptions import ServerUnreachable

                raise ServerUnreachable("the API broke off its answer")

            answer._chunks = short()
        return answer

    client.log_data = breaking
    path = client.log_save(INSTANCE, "big", filename=str(tmp_path / "resumed.log"))
    assert Path(path).read_bytes() == big and cut["left"] == 0


def test_the_route_reads_only_what_it_serves(stack, big, tmp_path):
    """The API's reads counted by a wrapper around its real store (Swift): a tail of 50
    lines reads at most two objects' bytes, a range its own bytes, the whole log once."""
    from tests.store_wrappers import CountingStore
    from tests.unit.conftest import ADMIN, ALICE, checked_app, make_conf

    conf = make_conf(tmp_path, stack.api.conf.read_text())  # its [storage] and [swift]
    app, checker = checked_app(conf)
    counting = CountingStore(app.extensions["logsvc"].object_store())
    app.extensions["logsvc"]._store = counting
    client = app.test_client()
    body = {"tenant_id": TENANT, "datastore": "file", "agent_url": stack.agent.url}
    assert client.put(f"/v1/instance/{INSTANCE}", json=body, headers=ADMIN).status_code == 201
    url = f"/v1/instance/{INSTANCE}/log/big/data"
    sizes = [o.size for o in stack.store.list_objects(stack.container, f"{INSTANCE}/file-big/")]
    assert len(sizes) > 10
    try:
        resp = client.get(url, query_string={"lines": 50}, headers=ALICE)
        assert resp.status_code == 200 and resp.data == reference(big, 50)
        assert 0 < counting.bytes_read <= 2 * max(sizes), (counting.bytes_read, max(sizes))
        names = sorted(
            o.name for o in stack.store.list_objects(stack.container, "inst-1/file-big/")
        )
        read = {g[0] for g in counting.object_gets}
        assert read <= set(names[-3:])  # the end of the log only (its last objects are small)
        counting.reset()
        resp = client.get(url, headers=ALICE | {"Range": "bytes=40000-40999"})
        assert resp.status_code == 206 and resp.data == big[40000:41000]
        assert counting.bytes_read == 1000
        counting.reset()
        resp = client.get(url, headers=ALICE)
        assert resp.data == big and counting.bytes_read == len(big)
    finally:
        app.extensions["logsvc"].db.dispose()
    assert not checker.problems, checker.problems


# last of the module's stack: it deletes objects of `big`
def test_expired_objects_are_named_not_papered_over(stack, big):
    objects = list(stack.store.list_objects(stack.container, f"{INSTANCE}/file-big/"))
    assert len(objects) > 4
    gone = [objects[0], objects[2]]  # as if expired: the first, and one in the middle
    for o in gone:
        assert stack.store.delete_object(stack.container, o.name)
    starts, pos = {}, 0
    for o in objects:
        starts[o.name] = pos
        pos += o.size
    held = b"".join(big[starts[o.name] : starts[o.name] + o.size] for o in objects if o not in gone)
    resp = stack.data(stack.alice, "big")
    assert resp.status_code == 200 and resp.content == held
    expected = ",".join(f"{starts[o.name]}-{starts[o.name] + o.size - 1}" for o in gone)
    assert resp.headers["X-Log-Missing-Ranges"] == expected
    assert int(resp.headers["X-Log-Size"]) == len(held)
    assert int(resp.headers["X-Log-Published"]) == len(big)
    part = stack.data(stack.alice, "big", headers={"Range": "bytes=10-29"})
    assert part.status_code == 206 and part.content == held[10:30]
    assert part.headers["X-Log-Missing-Ranges"] == expected


def test_the_file_backend(tmp_path, devswift):
    stack = Stack(tmp_path, devswift, backend="file").start()
    try:
        data = realistic_lines(600) + ODD
        publish(stack, "big", data)
        assert stack.published("big") == data  # it is in the directory, not in Swift
        resp = stack.data(stack.alice, "big")
        assert resp.status_code == 200 and resp.content == data
        part = stack.data(stack.alice, "big", headers={"Range": "bytes=20000-20100"})
        assert part.status_code == 206 and part.content == data[20000:20101]
        assert stack.data(stack.alice, "big", params={"lines": 7}).content == reference(data, 7)
    finally:
        stack.stop()
