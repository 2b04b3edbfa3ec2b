"""The actions' semantics (docs/api.md#routes), on the file datastore and the file store."""

import pytest

from guestagent.datastores.file import FileDatastore, parse_entry
from guestagent.manager import LogManager
from guestagent.publisher import Publisher
from guestagent.publishmodel import PublishSettings
from guestagent.state import LogState, StateStore
from logsvc.exceptions import ConfigError, InvalidAction, LogBusy, LogNotFound
from logsvc.layout import LogLocation
from logsvc.logmodel import RestartState
from logsvc.storage.file import FileStore


@pytest.fixture
def manager(tmp_path):
    def make(exposed=None):
        states = StateStore(str(tmp_path / "state"))
        (tmp_path / "app.log").write_bytes(b"one\ntwo\n")
        (tmp_path / "sys.log").write_bytes(b"boot\n")
        sources = [
            parse_entry(f"app:USER:{tmp_path / 'app.log'}"),
            parse_entry(f"sys:SYS:{tmp_path / 'sys.log'}"),
            parse_entry(f"hidden:USER:{tmp_path / 'hidden.log'}"),
        ]
        datastore = FileDatastore(sources, states, guest_log=None)
        store = FileStore(tmp_path / "objects")
        publishers = {
            s.name: Publisher(
                s, LogLocation("logs", "i", "file", s.name), store, states, PublishSettings()
            )
            for s in datastore.log_sources()
        }
        return LogManager("i", datastore, publishers, exposed)

    return make


def uploaded(manager, name):
    """The log's objects in the store, by name."""
    publisher = manager.publishers[name]
    store, location = publisher.store, publisher.location
    objects = store.list_objects(location.container, location.prefix)
    return {o.name: store.get_object(location.container, o.name)[1] for o in objects}


def statuses(manager, admin=True):
    return {v.name: v.status.value for v in manager.list_logs(admin=admin)}


def test_initial_statuses(manager):
    assert statuses(manager()) == {
        "app": "Disabled",
        "guest": "Unavailable",
        "hidden": "Disabled",
        "sys": "Ready",
    }


def test_publish_enables_a_user_log(manager):
    m = manager()
    view = m.act("app", admin=True, publish=True)
    assert (view.status.value, view.published, view.pending) == ("Published", 8, 0)
    assert b"".join(uploaded(m, "app").values()) == b"one\ntwo\n"


def test_publish_with_disable_publishes_then_disables(manager):
    view = manager().act("app", admin=True, publish=True, disable=True)
    assert (view.status.value, view.published) == ("Disabled", 8)


def test_publish_with_discard_discards_first(manager):
    m = manager()
    m.act("app", admin=True, publish=True)
    first = uploaded(m, "app")
    view = m.act("app", admin=True, publish=True, discard=True)
    assert (view.status.value, view.published) == ("Published", 8)
    again = uploaded(m, "app")  # published again, from the start, under new names
    assert b"".join(again.values()) == b"one\ntwo\n" and not set(again) & set(first)


def test_discard(manager):
    m = manager()
    m.act("sys", admin=True, publish=True)
    view = m.act("sys", admin=True, discard=True)
    assert (view.status.value, view.published, view.pending, view.container, view.prefix) == (
        "Ready",
        0,
        5,
        None,
        None,
    )


def test_enable_and_disable_together_is_refused(manager):
    with pytest.raises(InvalidAction, match="together"):
        manager().act("app", admin=True, enable=True, disable=True)


@pytest.mark.parametrize("flag", ["enable", "disable"])
def test_sys_logs_cannot_be_switched(manager, flag):
    with pytest.raises(InvalidAction, match="SYS log"):
        manager().act("sys", admin=True, **{flag: True})


def test_no_flag_is_a_show(manager):
    m = manager()
    assert m.act("app", admin=True) == m.show("app", admin=True)


def test_unexposed_logs_are_for_admins_only(manager):
    m = manager(exposed=frozenset({"app", "sys"}))
    assert set(statuses(m, admin=False)) == {"app", "sys"}
    assert set(statuses(m, admin=True)) == {"app", "sys", "guest", "hidden"}
    for action in ({}, {"enable": True}, {"publish": True}):
        with pytest.raises(LogNotFound) as hidden:
            m.act("hidden", admin=False, **action)
        with pytest.raises(LogNotFound) as unknown:
            m.act("nope", admin=False, **action)
        # an unexposed log and a log that does not exist are refused alike
        assert hidden.value.message.replace("hidden", "X") == unknown.value.message.replace(
            "nope", "X"
        )
    assert m.act("hidden", admin=True, enable=True).status.value == "Enabled"


@pytest.mark.parametrize(
    "entry", ["app", "app:USER", "App:USER:/x", "app:OTHER:/x", "app:USER:relative", "guest:SYS:/x"]
)
def test_bad_file_datastore_entries(entry):
    with pytest.raises(ConfigError):
        parse_entry(entry)


class RestartedDatastore(FileDatastore):
    """A file datastore whose every USER log has just seen its restart complete."""

    def restart_state(self, source):
        state = self.states.load(source.name)
        return RestartState.COMPLETED if state and state.switch else RestartState.NONE

    def acknowledge(self, source):
        self.states.save(source.name, self.states.load(source.name).replace(switch={}))


def test_a_completed_restart_is_acknowledged_under_the_logs_lock(tmp_path):
    states = StateStore(str(tmp_path / "state"))
    (tmp_path / "app.log").write_bytes(b"one\n")
    source = parse_entry(f"app:USER:{tmp_path / 'app.log'}")
    datastore = RestartedDatastore([source], states, guest_log=None)
    settings = PublishSettings(lock_timeout=0.2)
    publisher = Publisher(
        source, LogLocation("logs", "i", "file", "app"), FileStore(tmp_path / "o"), states, settings
    )
    m = LogManager("i", datastore, {"app": publisher}, None)
    states.save("app", LogState(enabled=True, switch={"want": True, "started": "t0"}))
    with states.lock("app", 1):  # a publish of the log is under way
        assert m.act("app", admin=True).name == "app"  # a show does not wait for it
        assert states.load("app").switch  # ...nor rewrite the state it commits
        with pytest.raises(LogBusy):
            m.act("app", admin=True, publish=True)
    view = m.act("app", admin=True, publish=True)
    assert states.load("app").switch == {} and view.published == 4


def file_manager(tmp_path, datastore) -> LogManager:
    store = FileStore(tmp_path / "objects")
    publishers = {
        s.name: Publisher(
            s, LogLocation("logs", "i", "file", s.name), store, datastore.states, PublishSettings()
        )
        for s in datastore.log_sources()
    }
    return LogManager("i", datastore, publishers, None)


@pytest.mark.parametrize(
    ("restart_required", "status"),
    [(None, "Ready"), (["file"], "Restart Required"), (["postgresql"], "Ready")],
)
def test_the_datastores_that_need_a_restart_are_named_by_configuration(
    tmp_path, restart_required, status
):
    from oslo_config import cfg

    from guestagent import conf as agent_conf
    from guestagent import datastores

    conf = cfg.ConfigOpts()
    agent_conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("datastore", "file", "agent")
    conf.set_override("logs", [f"app:USER:{tmp_path / 'app.log'}"], "file_datastore")
    if restart_required is not None:
        conf.set_override("restart_required_datastores", restart_required, "agent")
    (tmp_path / "app.log").write_bytes(b"one\n")
    datastore = datastores.load(conf, StateStore(str(tmp_path / "state")), None)
    m = file_manager(tmp_path, datastore)
    assert m.act("app", admin=True, enable=True).status.value == status
    assert m.act("app", admin=True).status.value == status  # until a restart


class Rebooting(FileDatastore):
    """The file datastore, with a boot time the test moves."""

    boot = "t0"

    def started(self) -> str:
        return self.boot


def test_a_file_datastore_needing_a_restart_goes_through_one(tmp_path):
    (tmp_path / "app.log").write_bytes(b"one\n")
    source = parse_entry(f"app:USER:{tmp_path / 'app.log'}")
    datastore = Rebooting([source], StateStore(str(tmp_path / "state")), guest_log=None)
    datastore.restart_required = True
    m = file_manager(tmp_path, datastore)
    assert m.act("app", admin=True, enable=True).status.value == "Restart Required"
    assert statuses(m)["app"] == "Restart Required"
    datastore.boot = "t1"
    assert statuses(m)["app"] == "Restart Completed"
    assert m.act("app", admin=True).status.value == "Ready"  # the next request acknowledges
    assert m.act("app", admin=True, disable=True).status.value == "Restart Required"
