"""The status report model: reports, statuses, the worst status, one collection."""

import json
import math

import pytest

from logsvc.exceptions import StorageUnavailable
from logsvc.redact import Redactor
from logsvc.status.cache import ReportCache
from logsvc.status.collector import FunctionCollector, valid_name
from logsvc.status.report import (
    Category,
    Kind,
    Report,
    Status,
    StatusCode,
    category_path,
    parse_category,
    status_data,
    worst,
)

REPORT_KEYS = ["name", "version", "format_version", "timestamp", "category", "kind", "data"]


def test_report_members_in_ganeti_order_and_category_always_present():
    report = Report("node", None, Kind.PERFORMANCE, {"x": 1}, timestamp=1_700_000_000_000_000_000)
    wire = report.to_dict()
    assert list(wire) == REPORT_KEYS
    assert wire["category"] is None
    assert wire["kind"] == 0
    assert wire["version"] == "B"
    assert wire["format_version"] == 1
    assert json.loads(json.dumps(wire)) == wire


def test_report_round_trips_through_its_wire_shape():
    report = Report(
        "storage",
        Category.STORAGE,
        Kind.STATUS,
        status_data(Status(StatusCode.BAD, "down")),
        timestamp=123,
    )
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))) == report


@pytest.mark.parametrize(
    "wire",
    [
        {},
        {"name": "x", "category": "nope", "kind": 0, "data": 1, "timestamp": 1},
        {"name": "x", "category": None, "kind": 7, "data": 1, "timestamp": 1},
        {"name": "x", "category": None, "kind": 0, "data": 1, "timestamp": "soon"},
    ],
)
def test_a_malformed_report_is_refused(wire):
    wire = {"version": "B", "format_version": 1} | wire
    with pytest.raises(ValueError):
        Report.from_dict(wire)


def test_categories_and_their_path_names():
    assert [c.value for c in Category] == ["instance", "storage", "daemon", "hypervisor"]
    assert category_path(None) == "default"
    assert category_path(Category.DAEMON) == "daemon"
    assert parse_category("default") is None
    assert parse_category("storage") is Category.STORAGE
    with pytest.raises(ValueError):
        parse_category("all")


def test_status_codes_are_ganetis_bits():
    assert [int(c) for c in StatusCode] == [0, 1, 2, 4]
    assert [c.word for c in StatusCode] == ["OK", "TEMP-BAD", "UNKNOWN", "BAD"]


def test_status_data_puts_status_first():
    data = status_data(Status(StatusCode.TEMP_BAD, "busy"), {"a": 1, "status": "ignored"})
    assert list(data) == ["status", "a"]
    assert data["status"] == {"code": 1, "message": "busy"}


@pytest.mark.parametrize(
    "value",
    [None, "ok", {"code": 3, "message": ""}, {"code": True}, {"code": 0, "message": 5}, {}],
)
def test_an_invalid_status_is_refused(value):
    with pytest.raises(ValueError):
        Status.from_value(value)


def test_worst_status_wins_and_every_failing_message_is_kept():
    statuses = [
        Status(StatusCode.OK, "fine"),
        Status(StatusCode.TEMP_BAD, "disk filling"),
        Status(StatusCode.BAD, "store down"),
        Status(StatusCode.UNKNOWN, "no answer"),
    ]
    verdict = worst(statuses)
    assert verdict.code == StatusCode.BAD
    assert verdict.message == "store down; no answer; disk filling"


def test_worst_of_unknown_and_temporarily_bad_is_unknown():
    assert worst([Status(StatusCode.TEMP_BAD), Status(StatusCode.UNKNOWN)]).code == 2


def test_worst_of_nothing_failing_is_ok_with_the_ok_message():
    assert worst([Status(StatusCode.OK, "a")], ok_message="all good") == Status(
        StatusCode.OK, "all good"
    )
    assert worst([]).code == StatusCode.OK


def test_status_of_a_report():
    ok = Report("x", None, Kind.STATUS, status_data(Status(StatusCode.OK, "y")), 1)
    assert ok.status == Status(StatusCode.OK, "y")
    assert Report("x", None, Kind.PERFORMANCE, {"status": {"code": 0}}, 1).status is None
    assert Report("x", None, Kind.STATUS, {"status": "?"}, 1).status is None


# --- one collection ----------------------------------------------------------


def test_collector_names_must_fit_in_a_url():
    assert valid_name("raid-check.sh")
    assert not valid_name("a/b")
    assert not valid_name("")
    assert not valid_name(".hidden")
    with pytest.raises(ValueError):
        FunctionCollector("has space", dict)
    with pytest.raises(ValueError):
        FunctionCollector("x", dict, interval=0)


def test_a_status_collector_report_puts_its_status_first():
    collector = FunctionCollector(
        "logs",
        lambda: {"logs": ["general"], "status": Status(StatusCode.OK, "2 logs")},
        category=Category.INSTANCE,
    )
    report = collector.run()
    assert report.kind == Kind.STATUS
    assert list(report.data) == ["status", "logs"]
    assert report.data["status"] == {"code": 0, "message": "2 logs"}
    assert report.category is Category.INSTANCE
    assert isinstance(report.timestamp, int) and report.timestamp > 10**18


def test_a_status_may_be_given_as_a_plain_object():
    collector = FunctionCollector("x", lambda: {"status": {"code": 4, "message": "down"}})
    assert collector.run().status == Status(StatusCode.BAD, "down")


def test_a_collector_that_raises_reports_status_unknown_with_the_error():
    def broken():
        raise RuntimeError("database is locked")

    report = FunctionCollector("x", broken, kind=Kind.PERFORMANCE).run()
    assert report.kind == Kind.STATUS
    assert report.status.code == StatusCode.UNKNOWN
    assert "database is locked" in report.status.message


def test_a_domain_error_is_reported_by_its_message():
    def broken():
        raise StorageUnavailable("Swift at x is unreachable")

    report = FunctionCollector("x", broken).run()
    assert report.status.message == "collector failed: Swift at x is unreachable"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"logs": []}, "no status"),
        ({"status": {"code": 9, "message": ""}}, "invalid status"),
        ("text", "no status"),
    ],
)
def test_a_status_collector_without_a_valid_status_reports_unknown(data, why):
    report = FunctionCollector("x", lambda: data).run()
    assert report.status.code == StatusCode.UNKNOWN
    assert why in report.status.message


@pytest.mark.parametrize("data", [{"when": object()}, {"ratio": math.nan}, {1.5j: 1}])
def test_data_that_is_not_json_reports_unknown(data):
    report = FunctionCollector("x", lambda: data, kind=Kind.PERFORMANCE).run()
    assert report.status.code == StatusCode.UNKNOWN


def test_the_report_is_a_copy_of_what_the_collector_returned():
    state = {"logs": ["a"]}
    report = FunctionCollector("x", lambda: state, kind=Kind.PERFORMANCE).run()
    state["logs"].append("b")
    assert report.data == {"logs": ["a"]}


# --- the cache -----------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_collector_not_collected_yet_reports_unknown():
    cache = ReportCache()
    cache.add(FunctionCollector("x", dict, kind=Kind.PERFORMANCE))
    report = cache.get("x")
    assert report.status == Status(StatusCode.UNKNOWN, "not collected yet")
    assert cache.get("y") is None


def test_two_collectors_may_not_share_a_name():
    cache = ReportCache()
    cache.add(FunctionCollector("x", dict))
    with pytest.raises(ValueError):
        cache.add(FunctionCollector("x", dict, category=Category.DAEMON))


def test_a_stuck_collection_is_reported_as_unknown_not_as_old_figures():
    clock = Clock()
    cache = ReportCache(monotonic=clock)
    collector = FunctionCollector("x", lambda: {"status": Status(StatusCode.OK)}, interval=10)
    cache.add(collector)
    cache.begin("x")
    cache.put(collector.run())
    assert cache.get("x").status.code == StatusCode.OK
    cache.begin("x")
    clock.now += 59
    assert cache.get("x").status.code == StatusCode.OK
    clock.now += 2
    stuck = cache.get("x")
    assert stuck.status.code == StatusCode.UNKNOWN
    assert "running for 61 s" in stuck.status.message
    cache.put(collector.run())
    assert cache.get("x").status.code == StatusCode.OK


def test_the_cache_masks_secrets_everywhere_in_a_report():
    cache = ReportCache(Redactor(["hunter2-key", "abc"]))
    collector = FunctionCollector(
        "x",
        lambda: {
            "status": Status(StatusCode.BAD, "auth failed for key hunter2-key"),
            "hunter2-key": ["x hunter2-key y", 3],
            "abc": "short secrets are not masked: abc",
        },
    )
    cache.add(collector)
    cache.put(collector.run())
    text = json.dumps(cache.get("x").to_dict())
    assert "hunter2-key" not in text
    assert "auth failed for key ***" in text
    assert "short secrets are not masked: abc" in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("redis://:pw-1@127.0.0.1:6379/3", "redis://:***@127.0.0.1:6379/3"),
        (
            "to postgresql+psycopg://postgres:pg@db/x failed",
            "to postgresql+psycopg://postgres:***@db/x failed",
        ),
        ("http://u:a@h/ and ftp://b:c@d", "http://u:***@h/ and ftp://b:***@d"),
        ("http://host:8080/path@x", "http://host:8080/path@x"),
        ("file:///var/lib/traces", "file:///var/lib/traces"),
        ("user:pw@host is not a URL", "user:pw@host is not a URL"),
    ],
)
def test_a_url_password_is_masked_even_when_not_configured(text, masked):
    assert Redactor().value({"message": text}) == {"message": masked}
