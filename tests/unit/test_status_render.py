"""Rendering a status report for a person, and the command's exit status."""

from logsvc.status.render import exit_status, render_reports
from logsvc.status.report import Category, Kind, Report, Status, StatusCode, status_data
from logsvc.status.units import human_duration, human_size

T = 1_795_000_000_000_000_000

DAEMON = Report(
    "logsvc-guestagent",
    Category.DAEMON,
    Kind.STATUS,
    status_data(
        Status(StatusCode.OK, "running, pid 42"),
        {
            "pid": 42,
            "uptime": 7380.5,
            "cpu": {"user": 1.25, "system": 0.5, "percent": 0.4},
            "memory": {"rss": 50 * 2**20, "vms": 300 * 2**20},
            "threads": 9,
            "open_files": 3,
            "fds": 12,
            "fd_limit": 1024,
        },
    ),
    T,
)
NODE = Report(
    "node",
    None,
    Kind.PERFORMANCE,
    {
        "hostname": "db1",
        "cpus": {"count": 2, "physical": 1, "load_percent": [10.0, 30.0], "average_percent": 20.0},
        "load_average": [0.5, 0.25, 0.125],
        "memory": {"total": 4 * 2**30, "used": 2**30, "available": 3 * 2**30, "percent": 25.0},
        "swap": {"total": 0, "used": 0, "free": 0, "percent": 0.0},
        "filesystems": [
            {"mount_point": "/", "type": "ext4", "total": 10, "used": 5, "free": 5, "percent": 50.0}
        ],
        "network": [{"name": "eth0", "up": True}, {"name": "eth1", "up": False}],
    },
    T,
)
STORAGE = Report(
    "storage",
    Category.STORAGE,
    Kind.STATUS,
    status_data(
        Status(StatusCode.BAD, "credentials refused: Swift at http://s/auth refused our creds"),
        {
            "object_store": {
                "description": "Swift at http://s/auth",
                "reachable": False,
                "latency_ms": None,
                "error": "refused",
            },
            "directories": [
                {"path": "/var/log", "total": 2**30, "free": 2**29, "free_percent": 50.0},
                {"path": "/gone", "error": "No such file or directory"},
            ],
        },
    ),
    T + 5,
)
PLUGIN_TEXT = Report("motd.txt", None, Kind.PERFORMANCE, {"text": "hello\nworld"}, T, "P")
PLUGIN_STATUS = Report(
    "raid.sh",
    None,
    Kind.STATUS,
    status_data(Status(StatusCode.TEMP_BAD, "rebuilding\nsdb"), {"disks": 2, "nested": {"a": 1}}),
    T,
    "P",
)


def test_the_table_lists_every_collector_with_its_status_word_and_message():
    text = render_reports([DAEMON, NODE, STORAGE, PLUGIN_TEXT, PLUGIN_STATUS])
    lines = text.splitlines()
    assert lines[0].split() == ["COLLECTOR", "CATEGORY", "KIND", "STATUS", "MESSAGE"]
    assert lines[1].split()[:4] == ["logsvc-guestagent", "daemon", "status", "OK"]
    assert lines[2].split() == ["node", "default", "perf", "-"]
    assert lines[3].split()[:4] == ["storage", "storage", "status", "BAD"]
    assert "credentials refused" in lines[3]
    # a message on several lines stays on its row
    assert lines[5].split() == ["raid.sh", "default", "status", "TEMP-BAD", "rebuilding", "sdb"]
    # columns line up
    assert len({line.index("default") for line in (lines[2], lines[4], lines[5])}) == 1
    assert "worst status: BAD, 5 collectors" in text


def test_key_figures_follow_the_table():
    text = render_reports([DAEMON, NODE, STORAGE, PLUGIN_TEXT, PLUGIN_STATUS])
    figures = text.split("\n\n", 2)[2]
    assert (
        "logsvc-guestagent: pid 42, up 2 h 03 min, CPU 0.4 % (user 1.2 s, system 0.5 s), "
        "RSS 50.0 MiB, VMS 300.0 MiB, 9 threads, 3 open files" in figures
    )
    assert "node: 2 CPUs at 20 % (each: 10 30), load 0.50 0.25 0.12" in figures
    assert "memory 1.0 GiB used of 4.0 GiB (25 %)" in figures
    assert "/ 50 % used" in figures
    assert "interfaces up: eth0" in figures
    assert "eth1" not in figures
    assert "Swift at http://s/auth does not answer" in figures
    assert "/var/log 512.0 MiB free of 1.0 GiB (50 %)" in figures
    assert "/gone: No such file or directory" in figures
    assert "motd.txt: hello (+1 lines)" in figures
    assert "raid.sh: disks=2" in figures


def test_reports_of_unexpected_shapes_still_render():
    odd = [
        Report("a", None, Kind.PERFORMANCE, None, T),
        Report("b", None, Kind.PERFORMANCE, [1, 2, 3], T),
        Report("c", None, Kind.PERFORMANCE, {"cpu": 1, "memory": 2, "uptime": "x"}, T),
        Report("d", None, Kind.STATUS, {"status": "broken"}, T),
        Report("e", None, Kind.PERFORMANCE, 7, T),
    ]
    text = render_reports(odd)
    assert "b: 3 items" in text
    assert "e: 7" in text
    assert text.splitlines()[4].split()[:4] == ["d", "default", "status", "-"]
    assert exit_status(odd) == 1


def test_no_reports():
    assert render_reports([]) == "no collectors\n"
    assert exit_status([]) == 0


def test_exit_status_is_zero_only_when_every_status_is_ok():
    assert exit_status([DAEMON, NODE, PLUGIN_TEXT]) == 0
    assert exit_status([DAEMON, NODE, PLUGIN_STATUS]) == 1
    assert exit_status([STORAGE]) == 1


def test_units_for_people():
    assert human_size(0) == "0 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * 2**40) == "5.0 TiB"
    assert human_duration(42.9) == "42 s"
    assert human_duration(185) == "3 min 5 s"
    assert human_duration(7380) == "2 h 03 min"
    assert human_duration(3 * 86400 + 4 * 3600 + 5) == "3 d 4 h"
