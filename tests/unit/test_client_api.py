"""The client's reads and URLs, against the API's answers and the objects of a file store.

The API is played by requests_mock, its answers built by the API's own code: the
log's view as an agent reports it, and the read route's bytes and headers
(api/logread.py) over the same store the agent published into.
"""

import pytest
import requests_mock

from api import bodies, logread
from logsvc.client.api import Client
from logsvc.client.listing import Snapshot
from logsvc.client.published import PublishedLog
from logsvc.client.reader import LogReader
from logsvc.exceptions import BadRequest, ConfigError, LogsvcError
from logsvc.layout import LogLocation
from logsvc.storage.file import FileStore
from tests.tail_reference import reference

URL = "http://api.invalid:8779"
LOC = LogLocation("logs", "inst-1", "mysql", "general")
DATA = b"".join(b"line %03d\n" % i for i in range(100))
NOTHING = "log 'general' has nothing published yet: publish it first (log-publish)"


def published_view(published: int) -> dict:
    return {
        "name": "general",
        "type": "USER",
        "status": "Published",
        "published": published,
        "pending": 0,
        "container": LOC.container,
        "prefix": LOC.prefix,
        "metafile": LOC.metafile,
    }


UNPUBLISHED = {**published_view(0), "status": "Enabled", "container": None, "prefix": None}


class Api:
    """The API as the client sees it: `view` is the log's state, `store` the agents' store."""

    def __init__(self, mock: requests_mock.Mocker, store: FileStore):
        self.store = store
        self.view = published_view(len(DATA))
        base = f"{URL}/v1/instance/inst-1/log"
        mock.post(base, json=lambda request, context: {"log": self.view})
        mock.get(f"{base}/general/data", content=self._data)
        mock.get(f"{base}/general/objects", json=self._objects)

    def _reader(self) -> LogReader | None:
        if not self.view["container"]:
            return None
        return LogReader(self.store, LOC.container, LOC.prefix, LOC.metafile)

    def _data(self, request, context) -> bytes:
        reader = self._reader()
        layout = PublishedLog.of(reader.snapshot() if reader else Snapshot((), (), None))
        lines = request.qs.get("lines")
        answer = logread.answer(
            layout,
            reader,
            lines=int(lines[0]) if lines else None,
            range_header=request.headers.get("Range"),
        )
        context.status_code = answer.status
        context.headers.update(answer.headers)
        return b"".join(answer.chunks)

    def _objects(self, request, context) -> dict:
        # the objects route of a log with nothing published (api/tempurls.py)
        assert not self.view["container"], "only nothing published is played here"
        return {"container": None, "prefix": None, "size": 0, "objects": [], "gaps": []}


def put_log(store: FileStore, data: bytes, size: int, metafile: bool = True) -> None:
    """`data` in objects of `size` bytes, and its metafile, as an agent publishes it."""
    for pos in range(0, len(data), size):
        piece = data[pos : pos + size]
        headers = {"X-Object-Meta-Lines": str(piece.count(b"\n"))}
        store.put_object(LOC.container, LOC.chunk_name(1, pos), piece, headers)
    if metafile:
        body = f'{{"generation": 1, "log_size": {len(data)}, "published": {len(data)}}}'
        store.put_object(LOC.container, LOC.metafile, body.encode())


@pytest.fixture
def agents_store(tmp_path):
    return FileStore(tmp_path / "objects")


@pytest.fixture
def api(agents_store):
    with requests_mock.Mocker() as mock:
        yield Api(mock, agents_store)


def direct(root) -> Client:
    return Client(URL, "token", storage={"file_root": str(root)})


def test_a_store_that_holds_none_of_a_published_log_names_its_settings(api, tmp_path):
    put_log(api.store, DATA, 300)
    right = direct(tmp_path / "objects")
    assert b"".join(right.log_generator("inst-1", "general", lines=3)) == reference(DATA, 3)
    saved = tmp_path / "saved.log"
    right.log_save("inst-1", "general", filename=str(saved))
    assert saved.read_bytes() == DATA
    saved.unlink()
    for root in (tmp_path / "nonexistent", tmp_path):  # a typo; a directory, but not the store
        wrong = direct(root)
        with pytest.raises(ConfigError) as raised:
            b"".join(wrong.log_generator("inst-1", "general", lines=3))
        message = str(raised.value)
        assert f"log 'general' has {len(DATA)} bytes published" in message
        assert f"local directory {root} holds none of them" in message
        assert "--file-root" in message and "$LOGSVC_FILE_ROOT" in message
        with pytest.raises(ConfigError, match="holds none of them"):
            wrong.log_save("inst-1", "general", filename=str(saved))
        assert not saved.exists()  # no empty file that looks like a saved log
        with pytest.raises(ConfigError, match="holds none of them"):
            next(wrong.log_follow("inst-1", "general", lines=3))


def test_a_store_that_holds_less_than_published_and_no_metafile(api, tmp_path):
    put_log(api.store, DATA, 300)
    put_log(FileStore(tmp_path / "stale"), DATA[:300], 300, metafile=False)  # an old copy
    with pytest.raises(ConfigError, match=r"holds only 300 of them.*--file-root"):
        b"".join(direct(tmp_path / "stale").log_generator("inst-1", "general", lines=3))


def test_objects_gone_from_the_agents_store_are_gaps_not_an_error(api, tmp_path):
    put_log(api.store, DATA, 300)
    for pos in range(0, len(DATA), 300):  # all expired; the metafile says what was there
        api.store.delete_object(LOC.container, LOC.chunk_name(1, pos))
    gaps = []
    output = direct(tmp_path / "objects").log_generator("inst-1", "general", lines=3, gaps=gaps)
    assert b"".join(output) == b""
    assert [str(g) for g in gaps] == [
        f"bytes 0-{len(DATA) - 1} of generation 1 (900 bytes) are gone"
    ]


def test_nothing_published_is_the_same_error_on_every_path(api, tmp_path):
    api.view = UNPUBLISHED
    target = tmp_path / "general.log"
    for client in (direct(tmp_path / "objects"), Client(URL, "token")):
        with pytest.raises(LogsvcError) as raised:
            b"".join(client.log_generator("inst-1", "general", lines=3))
        assert str(raised.value) == NOTHING
        with pytest.raises(LogsvcError) as raised:
            client.log_save("inst-1", "general", filename=str(target))
        assert str(raised.value) == NOTHING
        assert not target.exists()
    with pytest.raises(LogsvcError) as raised:
        Client(URL, "token").tempurl_reader("inst-1", "general")
    assert str(raised.value) == NOTHING


def test_a_published_log_the_api_finds_nothing_of_is_an_error(api, tmp_path):
    # the agent says it published; the store the API reads holds nothing of it
    target = tmp_path / "general.log"
    through = Client(URL, "token")
    with pytest.raises(
        LogsvcError,
        match=f"has {len(DATA)} bytes published, but the object store the API reads holds none",
    ):
        b"".join(through.log_generator("inst-1", "general", lines=3))
    with pytest.raises(LogsvcError, match="the API reads holds none of them"):
        through.log_save("inst-1", "general", filename=str(target))
    assert not target.exists()


def test_the_api_path_reads_as_before(api, tmp_path):
    put_log(api.store, DATA, 300)
    through = Client(URL, "token")
    assert b"".join(through.log_generator("inst-1", "general", lines=3)) == reference(DATA, 3)
    target = tmp_path / "general.log"
    through.log_save("inst-1", "general", filename=str(target))
    assert target.read_bytes() == DATA


# --- the URLs -------------------------------------------------------------------------


@pytest.fixture
def any_answer():
    """Every request answered 404 (the API's 'no instance'), and recorded."""
    with requests_mock.Mocker() as mock:
        mock.register_uri(
            requests_mock.ANY,
            requests_mock.ANY,
            status_code=404,
            json={"error": {"code": "instance_not_found", "message": "no instance"}},
        )
        yield mock


def test_every_value_from_the_caller_is_one_segment_of_the_url(any_answer):
    client = Client(URL, "token")
    odd = "a?x=#y z%é"
    quoted = "a%3Fx%3D%23y%20z%25%C3%A9"
    calls = [
        (lambda: client.log_list(odd), f"/v1/instance/{quoted}/log"),
        (lambda: client.log_show(odd, "general"), f"/v1/instance/{quoted}/log"),
        (lambda: client.log_data(odd, odd), f"/v1/instance/{quoted}/log/{quoted}/data"),
        (
            lambda: client.log_data("i", odd, lines=3),
            f"/v1/instance/i/log/{quoted}/data?lines=3",
        ),
        (lambda: client.log_objects(odd, odd), f"/v1/instance/{quoted}/log/{quoted}/objects"),
        (lambda: client.instance_show(odd), f"/v1/instance/{quoted}"),
        (lambda: client.instance_delete(odd), f"/v1/instance/{quoted}"),
        (
            lambda: client.instance_register(odd, tenant_id="t", datastore="d", agent_url="u"),
            f"/v1/instance/{quoted}",
        ),
    ]
    for call, path in calls:
        with pytest.raises(LogsvcError, match="no instance"):
            call()
        assert any_answer.last_request.url == URL + path


@pytest.mark.parametrize("value", ["..", ".", "", "a/b", "demo-instance/log?x=", "x/../../y"])
def test_a_value_http_cannot_carry_as_one_segment_is_refused_as_the_api_words_it(any_answer, value):
    client = Client(URL, "token")
    with pytest.raises(BadRequest) as api_says:
        bodies.instance_id(value)
    for call in (client.log_list, client.instance_show, client.instance_delete):
        with pytest.raises(BadRequest) as raised:
            call(value)
        assert str(raised.value) == str(api_says.value)
    with pytest.raises(BadRequest) as api_says:
        bodies.log_name(value)
    for call in (client.log_data, client.log_objects):
        with pytest.raises(BadRequest) as raised:
            call("inst-1", value)
        assert str(raised.value) == str(api_says.value)
    assert any_answer.call_count == 0  # nothing was sent
