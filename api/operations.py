"""What the API tells its operators, and how it is traced.

- Each worker: a Guru Meditation Report (SIGUSR1 to the worker, or the file
  trigger of ``[oslo_reports]``) with the sections "Database Pool" and
  "Dispatches In Flight"; OSProfiler's middleware in front of the
  application, and its SQL tracing when ``[profiler] trace_sqlalchemy``.
- A process beside gunicorn (api/statusd.py): the status report
  (``[status]``, port 1816 by default) on the master and its workers, with
  the collectors ``api-instances`` (the agents' reachability, from their
  heartbeats) and ``database`` (reachability, latency, schema revision).
"""

import contextlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from oslo_config import cfg
from sqlalchemy import select, text

from logsvc import gmr, profiling
from logsvc.status import Category, Status, StatusCode, StatusService, secrets_from_conf, worst

operations_opts = [
    cfg.IntOpt(
        "agent_silence_warning",
        default=90,
        min=1,
        help="Seconds without a heartbeat after which the status report calls an "
        "instance's agent unreachable.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(operations_opts, "api")


# --- dispatches in flight ------------------------------------------------------------


@dataclass(frozen=True)
class Dispatch:
    instance_id: str
    method: str
    path: str
    started: float


class InFlight:
    """The calls to agents that this process has under way."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, Dispatch] = {}
        self._ids = itertools.count()

    @contextlib.contextmanager
    def track(self, instance_id: str, method: str, path: str) -> Iterator[None]:
        key = next(self._ids)
        with self._lock:
            self._calls[key] = Dispatch(instance_id, method, path, time.time())
        try:
            yield
        finally:
            with self._lock:
                del self._calls[key]

    def snapshot(self) -> list[Dispatch]:
        with self._lock:
            return sorted(self._calls.values(), key=lambda d: d.started)


# --- a worker --------------------------------------------------------------------------


def instrument_worker(app, conf: cfg.ConfigOpts) -> None:
    """Arm a worker (after the fork): its report, and tracing of its requests."""
    from api.state import EXTENSION

    state = app.extensions[EXTENSION]
    if profiling.init(conf, "logsvc-api") and conf.profiler.trace_sqlalchemy:
        from osprofiler import sqlalchemy as traced_sql

        traced_sql.add_tracing(sqlalchemy, state.db.engine, "db")
    app.wsgi_app = profiling.middleware(app.wsgi_app, conf)
    gmr.setup(
        conf,
        f"logsvc-api-{os.getpid()}",
        {
            "Database Pool": lambda: pool_section(state.db.engine),
            "Dispatches In Flight": lambda: inflight_section(state.inflight),
        },
    )


def pool_section(engine) -> str:
    pool = engine.pool
    return f"database: {engine.url.render_as_string(hide_password=True)}\npool: {pool.status()}"


def inflight_section(inflight: InFlight) -> str:
    calls = inflight.snapshot()
    if not calls:
        return "none"
    now = time.time()
    return "\n".join(
        f"{d.method} {d.path} to the agent of {d.instance_id}, for {now - d.started:.1f}s"
        for d in calls
    )


# --- the master's status report ----------------------------------------------------------


def status_service(conf: cfg.ConfigOpts, master_pid: int) -> StatusService:
    """The API's status report, with its own collectors (see api/statusd.py)."""
    from api import opts

    url = sqlalchemy.engine.make_url(conf.database.connection)
    directories = (
        [os.path.dirname(os.path.abspath(url.database))]
        if url.get_backend_name() == ("sqlite") and url.database
        else []
    )
    # alembic says what it does at INFO; every 30 s that is only noise
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    service = StatusService.from_conf(
        conf,
        daemon_name="logsvc-api",
        directories=directories,
        secrets=secrets_from_conf(conf, opts.list_opts()),
        daemon_pid=master_pid,
    )
    engine = sqlalchemy.create_engine(conf.database.connection, poolclass=sqlalchemy.NullPool)
    service.add_callable(
        "api-instances",
        lambda: instances_report(engine, conf.api.agent_silence_warning),
        category=Category.INSTANCE,
        interval=30,
    )
    service.add_callable(
        "database", lambda: database_report(engine), category=Category.STORAGE, interval=30
    )
    return service


def instances_report(engine, silence: int) -> dict[str, Any]:
    """Every registered instance and whether its agent is heard from."""
    from api.models import Instance

    now = time.time()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Instance.id,
                Instance.datastore,
                Instance.agent_version,
                Instance.heartbeat_stamp,
                Instance.last_seen,
            )
        ).all()
    instances, silent = [], []
    for row in rows:
        age = None if row.heartbeat_stamp is None else now - row.heartbeat_stamp
        reachable = age is not None and age <= silence
        if not reachable:
            silent.append(row.id)
        instances.append(
            {
                "id": row.id,
                "datastore": row.datastore,
                "agent_version": row.agent_version,
                "seconds_since_heartbeat": None if age is None else round(age, 1),
                "agent_reachable": reachable,
            }
        )
    checks = []
    if silent:
        checks.append(
            Status(
                StatusCode.TEMP_BAD,
                f"{len(silent)} of {len(rows)} agents silent for over {silence}s: "
                + ", ".join(silent[:10])
                + (" ..." if len(silent) > 10 else ""),
            )
        )
    return {
        "status": worst(checks, f"{len(rows)} instances, every agent heard from"),
        "instances": instances,
    }


def database_report(engine) -> dict[str, Any]:
    """Whether the database answers, how fast, and whether its schema is current."""
    from api import migrate

    started = time.monotonic()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        latency = time.monotonic() - started
        have, want = migrate.current(engine), migrate.head()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        return {
            "status": Status(StatusCode.BAD, f"the database does not answer: {type(exc).__name__}"),
            "backend": engine.url.get_backend_name(),
        }
    checks = []
    if have != want:
        checks.append(
            Status(StatusCode.BAD, f"schema at {have}, the code needs {want}: db upgrade")
        )
    return {
        "status": worst(checks, "the database answers, schema current"),
        "backend": engine.url.get_backend_name(),
        "latency_ms": round(latency * 1000, 2),
        "schema_revision": have,
    }
