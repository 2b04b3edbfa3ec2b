"""Guru Meditation sections, profiler settings, trace scrubbing and trace show, in process."""

import json
import re

import pytest
from oslo_config import cfg
from oslo_reports import guru_meditation_report as gmr_lib

from logsvc import gmr, profiling
from logsvc.conf import oslo_reports, profiler
from logsvc.exceptions import ConfigError


def test_a_failing_section_does_not_lose_the_report():
    def broken():
        raise RuntimeError("the database is on fire")

    gmr_lib.TextGuruMeditation.persistent_sections = []
    gmr_lib.TextGuruMeditation.register_section("Broken", gmr.guarded("Broken", broken))
    gmr_lib.TextGuruMeditation.register_section("Fine", gmr.guarded("Fine", lambda: "all good"))
    try:
        report = gmr_lib.TextGuruMeditation(gmr.VersionInfo()).run()
    finally:
        gmr_lib.TextGuruMeditation.persistent_sections = []
    assert "(this section failed: RuntimeError: the database is on fire)" in report
    assert "all good" in report and "Package" in report


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    profiler.register_opts(conf)
    conf([], project="logsvc")
    return conf


def test_profiling_is_off_by_default_with_no_key(conf):
    assert conf.profiler.enabled is False
    assert conf.profiler.hmac_keys == ""
    assert profiling.init(conf, "test") is False


@pytest.mark.parametrize("keys", ["", "SECRET_KEY", "mine,SECRET_KEY"])
def test_profiling_refuses_no_key_or_the_well_known_one(conf, keys):
    conf.set_override("enabled", True, "profiler")
    conf.set_override("hmac_keys", keys, "profiler")
    conf.set_override("connection_string", "file:///tmp/x", "profiler")
    with pytest.raises(ConfigError, match="hmac_keys"):
        profiling.init(conf, "test")


def test_the_connection_string_is_a_secret():
    ((_, opts),) = profiler.list_opts()
    secret = {o.name for o in opts if o.secret}
    assert {"connection_string", "hmac_keys"} <= secret


# --- no secret in a trace ---------------------------------------------------------------


@pytest.fixture
def recorded():
    """Trace points this thread sends, in a profiler of its own (osprofiler's globals restored)."""
    from osprofiler import notifier, profiler

    points: list[dict] = []
    before = notifier.get()
    notifier.set(points.append)
    profiler.clean()
    profiler.init("unit-test-key")
    try:
        yield points
    finally:
        profiler.clean()
        notifier.set(before)


def test_sql_is_traced_without_its_parameters(recorded, tmp_path):
    import sqlalchemy as sa

    from logsvc.profiling import sql

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    sql.trace_sql(engine)
    sql.trace_sql(engine)  # twice is once
    secret = "instance-agent-secret-41c7"
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id TEXT PRIMARY KEY, secret TEXT)"))
        conn.execute(sa.text("INSERT INTO t VALUES (:id, :secret)"), {"id": "i1", "secret": secret})
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("INSERT INTO t VALUES (:id, :s)"), {"id": "i1", "s": secret})
    names = [p["name"] for p in recorded]
    assert names.count("db-start") == names.count("db-stop") >= 3
    statements = [p["info"]["db"]["statement"] for p in recorded if p["name"] == "db-start"]
    assert "INSERT INTO t VALUES (?, ?)" in statements
    failed = [p for p in recorded if p["name"] == "db-stop" and "etype" in p["info"]]
    assert [p["info"]["etype"] for p in failed] == ["IntegrityError"]
    assert secret not in json.dumps(recorded)
    assert all("params" not in p.get("info", {}).get("db", {}) for p in recorded)


def test_a_database_error_before_any_statement_stops_no_span_of_the_caller(recorded, tmp_path):
    import sqlalchemy as sa
    from osprofiler import profiler

    from logsvc.profiling import sql

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite'}")
    sql.trace_sql(engine)
    profiler.start("wsgi", info={})
    with pytest.raises(sa.exc.OperationalError):
        engine.connect()
    profiler.stop()
    assert [p["name"] for p in recorded] == ["wsgi-start", "wsgi-stop"]


def test_scrubbing_a_trace_point():
    from logsvc.profiling.scrub import ScrubbingNotifier, scrub

    sent: list[dict] = []
    notify = ScrubbingNotifier(sent.append, ["configured-key-5e1d"])
    notify(
        {
            "name": "db-start",
            "info": {
                "db": {"statement": "SELECT ?", "params": {"p": "s3cr3t-param"}},
                "note": "key configured-key-5e1d and redis://:redis-pw@h:6379",
            },
        }
    )
    notify({"name": "db-stop", "info": {"etype": "E", "message": "Key (id)=(x)", "db": {}}})
    notify({"name": "http-start", "info": {"requests": {"query": "a=1&temp_url_sig=abcd"}}})
    text = json.dumps(sent)
    for leaked in ("s3cr3t-param", "configured-key-5e1d", "redis-pw", "Key (id)", "abcd"):
        assert leaked not in text
    assert sent[0]["info"]["db"] == {"statement": "SELECT ?"}
    assert sent[2]["info"]["requests"]["query"] == "a=1&temp_url_sig=***"
    assert scrub({"x": [{"db": {"statement": "S", "result": "[('row',)]"}}]}) == {
        "x": [{"db": {"statement": "S"}}]
    }


def _write_trace(directory, base_id: str, with_params: bool = False) -> None:
    """Trace points as a daemon of an older logsvc stored them (parameters included)."""
    from logsvc.profiling.filestore import FileDriver

    driver = FileDriver(f"file://{directory}", project="logsvc", service="logsvc-api", host="h")
    db = {"statement": "SELECT tokens.id FROM tokens WHERE tokens.token_hash = ?"}
    if with_params:
        db["params"] = ["token-hash-of-alice-9f2b"]
    points = [
        ("wsgi-start", base_id, base_id, {"request": {"method": "GET", "path": "/v1/instance"}}),
        ("db-start", "t-db", base_id, {"db": db}),
        ("db-stop", "t-db", base_id, {}),
        ("wsgi-stop", base_id, base_id, {}),
    ]
    for n, (name, trace_id, parent, info) in enumerate(points):
        driver.notify(
            {
                "name": name,
                "base_id": base_id,
                "trace_id": trace_id,
                "parent_id": parent if trace_id != parent else "root",
                "timestamp": f"2026-01-01T00:00:00.{n:06d}",
                "info": {**info, "host": "h"},
            }
        )


@pytest.mark.parametrize("command", [["trace", "show"], ["trace-show"]])
def test_trace_show_prints_the_tree_and_writes_the_page(tmp_path, capsys, command):
    from logsvc.cli.app import main

    base_id = "0b5e7a52-7d4f-4a8e-9a5e-2b6a8f1e3c11"
    _write_trace(tmp_path / "traces", base_id, with_params=True)
    page = tmp_path / "trace.html"
    store = f"file://{tmp_path / 'traces'}"
    assert main(["--trace-store", store, *command, base_id, "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"trace {base_id}: ")
    assert "GET /v1/instance" in out
    assert "SELECT tokens.id FROM tokens WHERE tokens.token_hash = ?" in out
    assert f"written: {page}" in out
    html = page.read_text()
    assert "SELECT tokens.id" in html
    # a trace that an older logsvc stored with its SQL parameters is shown without them
    assert "token-hash-of-alice-9f2b" not in out + html


def test_trace_show_of_an_unknown_trace_fails(tmp_path, capsys):
    from logsvc.cli.app import main

    assert main(["--trace-store", f"file://{tmp_path}", "trace", "show", "0123abcd-00"]) == 1
    assert "no trace 0123abcd-00 in file store" in capsys.readouterr().err


# --- no secret in a Guru Meditation Report ------------------------------------------------


def test_the_report_masks_configured_secrets_and_url_passwords_everywhere():
    conf = cfg.ConfigOpts()
    conf.register_opts(
        [
            cfg.StrOpt("connection", secret=True),
            cfg.StrOpt("api_url"),  # not marked secret, yet may carry a password
        ]
    )
    conf([])
    conf.set_override("connection", "postgresql+psycopg://postgres:pg-pw-31ab@db/x")
    report = gmr.report_class(conf)
    report.register_section(
        "Leaky",
        gmr.guarded(
            "Leaky",
            lambda: "error: password pg-pw-31ab refused; heartbeat to http://u:url-pw-77@api:8779",
        ),
    )
    text = report(gmr.VersionInfo()).run()
    title = re.compile(r"^=+\s+Leaky\s+=+$", re.MULTILINE)
    assert title.search(text) and "error: password *** refused" in text
    assert "http://u:***@api:8779" in text
    assert "pg-pw-31ab" not in text and "url-pw-77" not in text
    # a class of its own: oslo.reports' class got no section
    assert not title.search(gmr_lib.TextGuruMeditation(gmr.VersionInfo()).run())


def test_sigusr1_is_armed_with_and_without_the_file_trigger(tmp_path):
    import signal

    conf = cfg.ConfigOpts()
    oslo_reports.register_opts(conf)
    conf([])
    conf.set_override("log_dir", str(tmp_path), "oslo_reports")
    before = signal.getsignal(signal.SIGUSR1)
    try:
        assert gmr.setup(conf, "unit-test") == "SIGUSR1"
        handler = signal.getsignal(signal.SIGUSR1)
        assert callable(handler)
        handler(signal.SIGUSR1, None)  # what the signal does, without sending it
        [written] = tmp_path.iterdir()
        assert written.name.startswith("unit-test_gurumeditation_")
        assert "Package" in written.read_text()
    finally:
        signal.signal(signal.SIGUSR1, before)


def test_a_child_that_ends_while_the_report_reads_it_loses_no_report():
    """oslo.reports' Processes section reads each child's command line; a child that
    has ended but is not yet reaped (a zombie) made it raise, and the report was lost."""
    import subprocess
    import sys
    import time

    import psutil

    conf = cfg.ConfigOpts()
    conf([])
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the child never ended"
            time.sleep(0.05)
        text = gmr.report_class(conf)(gmr.VersionInfo()).run()
    finally:
        child.wait()
    assert "(this section failed: ZombieProcess" in text
    assert re.search(r"^=+\s+Configuration\s+=+$", text, re.MULTILINE)  # the rest is there
