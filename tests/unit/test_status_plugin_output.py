"""What a plugin's output means (no processes: the bytes alone)."""

import json

import pytest

from logsvc.status.plugin_output import (
    MAX_OUTPUT,
    OutputMode,
    PluginFailure,
    parse_output,
)
from logsvc.status.report import Kind, StatusCode


def test_a_json_object_with_a_status_is_a_status_report():
    raw = b'{"disks": 2, "status": {"code": 1, "message": "rebuilding"}}\n'
    answer = parse_output(raw)
    assert answer.kind == Kind.STATUS
    assert list(answer.data) == ["status", "disks"]
    assert answer.data["status"] == {"code": 1, "message": "rebuilding"}


@pytest.mark.parametrize("value", [{"temperature": 41}, [1, 2], 42, "quoted", None])
def test_other_json_is_performance_data_as_it_is(value):
    answer = parse_output(json.dumps(value).encode())
    assert (answer.kind, answer.data) == (Kind.PERFORMANCE, value)


def test_text_that_is_not_json_is_kept_as_text():
    answer = parse_output(b"RAID ok\n2 disks\t(sda, sdb)\n")
    assert answer.kind == Kind.PERFORMANCE
    assert answer.data == {"text": "RAID ok\n2 disks\t(sda, sdb)"}


def test_a_text_file_stays_text_even_when_it_looks_like_json():
    assert parse_output(b'{"a": 1}', OutputMode.TEXT).data == {"text": '{"a": 1}'}


@pytest.mark.parametrize(
    ("raw", "mode", "why"),
    [
        (b"\x01\x02\xff", OutputMode.AUTO, "not UTF-8"),
        (b"ok\x00\x07", OutputMode.AUTO, "control characters"),
        (b'{"status": {"code": 0,', OutputMode.AUTO, "not valid JSON"),
        (b"plain words", OutputMode.JSON, "not valid JSON"),
        (b'{"status": {"code": 3, "message": "?"}}', OutputMode.AUTO, "invalid status"),
        (b'{"status": "fine"}', OutputMode.AUTO, "invalid status"),
        (b'{"load": NaN}', OutputMode.AUTO, "NaN"),
        (b"x" * (MAX_OUTPUT + 1), OutputMode.AUTO, "larger than"),
    ],
)
def test_garbage_is_a_failure_with_status_unknown(raw, mode, why):
    with pytest.raises(PluginFailure) as failure:
        parse_output(raw, mode)
    assert failure.value.code == StatusCode.UNKNOWN
    assert why in failure.value.message
