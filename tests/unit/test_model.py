"""Statuses, names and the wire shape of a log."""

import pytest

from logsvc.exceptions import ConfigError
from logsvc.layout import LogLocation, container_name, parse_chunk_name, valid_instance_id
from logsvc.logmodel import (
    LogStatus,
    LogType,
    LogView,
    PublishOutcome,
    PublishState,
    RestartState,
    derive_status,
)

SYS, USER = LogType.SYS, LogType.USER


@pytest.mark.parametrize(
    ("log_type", "enabled", "published", "pending", "rotated", "restart", "status"),
    [
        (USER, False, 0, 10, False, RestartState.NONE, LogStatus.DISABLED),
        (USER, False, 5, 10, True, RestartState.NONE, LogStatus.DISABLED),
        (USER, True, 0, 0, False, RestartState.NONE, LogStatus.ENABLED),
        (SYS, True, 0, 0, False, RestartState.NONE, LogStatus.UNAVAILABLE),
        (SYS, True, 0, 4, False, RestartState.NONE, LogStatus.READY),
        (USER, True, 3, 0, False, RestartState.NONE, LogStatus.PUBLISHED),
        (USER, True, 3, 4, False, RestartState.NONE, LogStatus.PARTIAL),
        (SYS, True, 3, 4, True, RestartState.NONE, LogStatus.ROTATED),
        (USER, True, 0, 0, False, RestartState.REQUIRED, LogStatus.RESTART_REQUIRED),
        (USER, False, 0, 0, False, RestartState.COMPLETED, LogStatus.RESTART_COMPLETED),
    ],
)
def test_every_status_is_reachable(log_type, enabled, published, pending, rotated, restart, status):
    assert (
        derive_status(
            log_type,
            enabled=enabled,
            published=published,
            pending=pending,
            rotated=rotated,
            restart=restart,
        )
        is status
    )


def test_every_status_of_the_spec_is_covered():
    assert {s.value for s in LogStatus} == {
        "Disabled",
        "Enabled",
        "Unavailable",
        "Ready",
        "Published",
        "Partial",
        "Rotated",
        "Restart Required",
        "Restart Completed",
    }


def test_wire_shape():
    view = LogView("general", USER, LogStatus.PARTIAL, 10, 4, "c", "i/mysql-general/", "m")
    wire = view.to_dict()
    assert list(wire) == [
        "name",
        "type",
        "status",
        "published",
        "pending",
        "container",
        "prefix",
        "metafile",
        "publish",
        "follow",
    ]
    assert isinstance(wire["published"], int) and wire["status"] == "Partial"
    assert LogView.from_dict(wire) == view


def test_a_publish_outcome_travels_with_the_log_and_is_checked():
    outcome = PublishOutcome("p1", PublishState.FAILED, "2026-12-02T12:00:00Z", None, "gone")
    view = LogView("general", USER, LogStatus.READY, 0, 4, None, None, "m", outcome)
    wire = view.to_dict()
    assert wire["publish"] == {
        "id": "p1",
        "state": "failed",
        "started_at": "2026-12-02T12:00:00Z",
        "ended_at": None,
        "error": "gone",
    }
    assert LogView.from_dict(wire) == view
    for bad, says in (
        ("running", "publish must be an object"),
        ({**wire["publish"], "state": "done"}, "publish.state must be one of"),
        ({**wire["publish"], "id": 5}, "id must be a string"),
        ({**wire["publish"], "error": "x" * 2000}, "error must be a string of 1 to 1024"),
    ):
        with pytest.raises(ValueError, match=says):
            LogView.from_dict({**wire, "publish": bad})


def test_names_carry_their_position_and_sort_in_log_order():
    loc = LogLocation("database_logs", "inst", "mysql", "general")
    assert loc.prefix == "inst/mysql-general/"
    assert loc.metafile == "inst/mysql-general_metafile"
    names = [
        loc.chunk_name(g, o) for g, o in [(1, 0), (1, 9), (1, 10), (1, 10**12), (2, 0), (10, 5)]
    ]
    assert names == sorted(names)
    assert parse_chunk_name(loc.prefix, names[3]) == (1, 10**12)
    assert parse_chunk_name(loc.prefix, "inst/mysql-general/other") is None
    assert parse_chunk_name(loc.prefix, "elsewhere/log-00000001-00000000000000000000") is None


def test_container_patterns():
    assert container_name("database_logs", "i", "mysql", "general") == "database_logs"
    assert container_name("log-%(datastore)s-%(log)s-%(instance_id)s", "i", "mysql", "general") == (
        "log-mysql-general-i"
    )
    for bad in ("%(nope)s", "a/%(log)s", "%(log)", ""):
        with pytest.raises(ConfigError):
            container_name(bad, "i", "mysql", "general")


@pytest.mark.parametrize(
    "value", ["", "../x", "a/b", ".hidden", "x" * 129, "a..b", "ü", "a b", "a\nb"]
)
def test_instance_ids_that_could_steer_paths_are_refused(value):
    assert not valid_instance_id(value)


def test_ordinary_instance_ids():
    assert valid_instance_id("fa8c452e-6568-438a-9f04-b2878290fb90")
    assert valid_instance_id("demo-instance")
