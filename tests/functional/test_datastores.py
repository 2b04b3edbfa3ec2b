"""The mysql and postgresql datastores against real servers on 127.0.0.1.

MySQL: the MariaDB server of these machines (127.0.0.1:3306, root without a
password); its general and slow-query logs are switched live and restored
off at the end. PostgreSQL: a cluster of the test's own (initdb and pg_ctl on
a temporary data directory, as the postgres user), since the flow needs a
restart.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pymysql
import pytest

from tests.ci_skips import server_absent
from tests.conftest import swift_store
from tests.processes import AgentProcess, free_port, swift_settings

MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "connect_timeout": 3}


# --- MySQL / MariaDB --------------------------------------------------------------------


@pytest.fixture
def mysql_server():
    try:
        conn = pymysql.connect(**MYSQL)
    except pymysql.MySQLError as exc:
        server_absent("MariaDB", f"nothing answers on 127.0.0.1:3306 as root ({exc.args[-1]})")
    with conn.cursor() as cur:
        cur.execute(
            "SELECT @@general_log_file, @@slow_query_log_file, @@long_query_time, @@log_output"
        )
        saved = cur.fetchone()
    conn.close()
    log_dir = tempfile.mkdtemp(prefix="logsvc-mysql-", dir="/tmp")
    os.chmod(log_dir, 0o777)  # the server writes its logs there
    yield log_dir
    conn = pymysql.connect(**MYSQL)
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL general_log = OFF")
        cur.execute("SET GLOBAL slow_query_log = OFF")
        cur.execute("SET GLOBAL general_log_file = %s", (saved[0],))
        cur.execute("SET GLOBAL slow_query_log_file = %s", (saved[1],))
        cur.execute("SET GLOBAL long_query_time = %s", (float(saved[2]),))
        cur.execute("SET GLOBAL log_output = %s", (saved[3],))
    conn.close()
    shutil.rmtree(log_dir, ignore_errors=True)


def query(*statements):
    conn = pymysql.connect(**MYSQL)  # a new session: it sees the new long_query_time
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
            cur.fetchall()
    conn.close()


def read_back(store, container, prefix) -> bytes:
    objects = store.list_objects(container, prefix)
    return b"".join(store.get_object(container, o.name)[1] for o in objects)


def test_mysql_general_and_slow_query_logs(mysql_server, tmp_path, devswift):
    container = f"logs-{uuid.uuid4().hex[:8]}"
    agent = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {"guest_log_container_name": container, "guest_log_long_query_time": 100},
            "agent": {"datastore": "mysql", "instance_id": "db-1"},
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "mysql": {"host": "127.0.0.1", "port": 3306, "user": "root", "log_dir": mysql_server},
        },
    ).start()
    store = swift_store(devswift)
    try:
        logs = agent.logs()
        assert {name: (entry["type"], entry["status"]) for name, entry in logs.items()} == {
            "guest": ("SYS", logs["guest"]["status"]),
            "error": ("SYS", logs["error"]["status"]),
            "general": ("USER", "Disabled"),
            "slow_query": ("USER", "Disabled"),
        }
        assert agent.act("general", enable=True)["status"] in ("Enabled", "Ready")
        assert agent.act("slow_query", enable=True)["status"] in ("Enabled", "Ready")
        marker = uuid.uuid4().hex
        query(f"SELECT 'fast {marker}'", f"SELECT SLEEP(0.3), 'slow {marker}'")

        for name in ("general", "slow_query"):
            log = agent.act(name, publish=True)
            assert log["status"] in ("Published", "Partial")
            data = read_back(store, container, f"db-1/mysql-{name}/")
            source = Path(mysql_server, f"{name}.log").read_bytes()
            assert len(data) == log["published"] > 0
            assert source.startswith(data)  # byte-exact: what was published is the file
            assert f"slow {marker}".encode() in data
        general = read_back(store, container, "db-1/mysql-general/")
        slow = read_back(store, container, "db-1/mysql-slow_query/")
        assert f"fast {marker}".encode() in general
        assert f"fast {marker}".encode() not in slow  # faster than long_query_time

        # the server, not the agent, says whether a log is on: right after a restart
        agent.stop()
        agent.start()
        assert agent.logs()["general"]["status"] != "Disabled"
        query("SET GLOBAL slow_query_log = OFF")  # switched by hand behind the agent's back
        assert agent.logs()["slow_query"]["status"] == "Disabled"
        assert agent.act("slow_query", enable=True)["status"] != "Disabled"

        assert agent.act("general", disable=True)["status"] == "Disabled"
        assert agent.act("slow_query", disable=True)["status"] == "Disabled"
        after = uuid.uuid4().hex
        query(f"SELECT 'after {after}'", f"SELECT SLEEP(0.3), 'after {after}'")
        for name in ("general", "slow_query"):
            assert after.encode() not in Path(mysql_server, f"{name}.log").read_bytes()

        error = agent.act("error", publish=True)  # the server's error log, a SYS log
        assert error["published"] > 0
    finally:
        agent.stop()


def test_mysql_refusing_the_switch_is_a_clear_error(mysql_server, tmp_path):
    user, password = f"logsvc_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    query(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")  # no privilege at all
    agent = AgentProcess(
        tmp_path,
        {
            "agent": {"datastore": "mysql"},
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "mysql": {"user": user, "password": password, "log_dir": mysql_server},
        },
    ).start()
    try:
        resp = agent.request("POST", "/v1/logs/slow_query", {"admin": True, "enable": True})
        assert resp.status_code == 409, resp.text
        error = resp.json()["error"]
        assert error["code"] == "datastore_refused"
        assert "MySQL server refused" in error["message"] and "denied" in error["message"]
        assert password not in resp.text
        assert agent.logs()["slow_query"]["status"] == "Disabled"
    finally:
        agent.stop()
        query(f"DROP USER '{user}'@'%'")


def test_mysql_unreachable_is_a_clear_error(tmp_path):
    (tmp_path / "logs").mkdir()
    agent = AgentProcess(
        tmp_path,
        {
            "agent": {"datastore": "mysql"},
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "mysql": {
                "port": free_port(),
                "log_dir": tmp_path / "logs",
                "error_log": "/nonexistent",
            },
        },
    ).start()
    try:
        resp = agent.request("POST", "/v1/logs/general", {"admin": True, "enable": True})
        assert resp.status_code == 503
        assert "MySQL server cannot be reached" in resp.json()["error"]["message"]
        assert agent.logs()["general"]["status"] == "Disabled"  # list still answers
    finally:
        agent.stop()


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return (
        os.path.dirname(found[-1])
        if found
        else shutil.which("pg_ctl") and os.path.dirname(shutil.which("pg_ctl"))
    )


@pytest.fixture
def pg_cluster():
    bindir = _pg_bin()
    if not bindir:
        server_absent("PostgreSQL", "no server binaries (initdb, pg_ctl) on this machine")
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        server_absent("PostgreSQL", "no 'postgres' user to run a test cluster as")
    if os.geteuid() not in (0, postgres.pw_uid):
        server_absent(
            "PostgreSQL", "a test cluster runs as the postgres user: run the tests as root"
        )
    base = tempfile.mkdtemp(prefix="logsvc-pg-", dir="/tmp")
    data, logs, sock = (os.path.join(base, d) for d in ("data", "logs", "sock"))
    for d in (data, logs, sock):
        os.makedirs(d)
        os.chown(d, postgres.pw_uid, postgres.pw_gid)
    os.chown(base, postgres.pw_uid, postgres.pw_gid)
    os.chmod(base, 0o755)
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def pg_ctl(*args):
        subprocess.run(
            [
                *as_postgres,
                os.path.join(bindir, "pg_ctl"),
                "-D",
                data,
                "-w",
                "-t",
                "60",
                "-l",
                os.path.join(base, "server.log"),
                *args,
            ],
            check=True,
            capture_output=True,
        )

    subprocess.run(
        [
            *as_postgres,
            os.path.join(bindir, "initdb"),
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sock}"
    pg_ctl("-o", options, "start")

    class Cluster:
        def restart(self):
            pg_ctl("-o", options, "restart")

    cluster = Cluster()
    cluster.port, cluster.log_dir = port, logs
    yield cluster
    subprocess.run(
        [*as_postgres, os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "fast", "stop"],
        capture_output=True,
    )
    shutil.rmtree(base, ignore_errors=True)


def test_postgresql_general_log_goes_through_a_restart(pg_cluster, tmp_path, devswift):
    import psycopg

    container = f"logs-{uuid.uuid4().hex[:8]}"
    agent = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {"guest_log_container_name": container, "guest_log_long_query_time": 0},
            "agent": {"datastore": "postgresql", "instance_id": "pg-1"},
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "postgresql": {"port": pg_cluster.port, "log_dir": pg_cluster.log_dir},
        },
    ).start()
    store = swift_store(devswift)
    try:
        assert agent.logs()["general"]["status"] == "Disabled"
        assert agent.act("general", enable=True)["status"] == "Restart Required"
        assert agent.logs()["general"]["status"] == "Restart Required"  # until a restart
        pg_cluster.restart()
        assert agent.logs()["general"]["status"] == "Restart Completed"
        assert agent.logs()["general"]["status"] == "Restart Completed"  # reading changes nothing

        marker = uuid.uuid4().hex
        with psycopg.connect(
            host="127.0.0.1",
            port=pg_cluster.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f"SELECT 'marker {marker}'")
        path = os.path.join(pg_cluster.log_dir, "general.log")
        deadline = time.monotonic() + 20
        while marker.encode() not in Path(path).read_bytes():  # the collector writes soon after
            assert time.monotonic() < deadline
            time.sleep(0.1)

        log = agent.act("general", publish=True)
        assert log["status"] in ("Published", "Partial")  # the usual statuses again
        data = read_back(store, container, "pg-1/postgresql-general/")
        assert len(data) == log["published"] and Path(path).read_bytes().startswith(data)
        assert f"marker {marker}".encode() in data

        assert agent.act("general", disable=True)["status"] == "Restart Required"
        pg_cluster.restart()
        assert agent.logs()["general"]["status"] == "Restart Completed"
        assert agent.act("general", publish=True, disable=True)["status"] == "Disabled"
        size = os.path.getsize(path)
        with psycopg.connect(
            host="127.0.0.1",
            port=pg_cluster.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f"SELECT 'after {marker}'")
        time.sleep(1)
        assert os.path.getsize(path) == size  # nothing logged once it is off
    finally:
        agent.stop()
