"""What the API tells its operators, and how it is traced.

- Each worker: a Guru Meditation Report (SIGUSR1 to the worker, or the file
  trigger of ``[oslo_reports]``) with the sections "Database Pool" and
  "Dispatches In Flight"; OSProfiler's middleware in front of the
  application, and its SQL tracing when ``[profiler] trace_sqlalchemy``.
- The gunicorn master: a report (SIGUSR1, which gunicorn then passes on to
  the workers) with the section "Gunicorn Workers".
- A process beside gunicorn (api/statusd.py): the status report
  (``[status]``, port 1816 by default) on the master and its workers, with
  the collectors ``api-instances`` (the agents' reachability: from their
  heartbeats, and for agents without a recent one, a signed probe of their
  ``/v1/info`` at the collector's interval) and ``database`` (reachability,
  latency, schema revision).
"""

import contextlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
        profiling.trace_sql(state.db.engine)  # statements only, never their parameters
    app.wsgi_app = profiling.middleware(app.wsgi_app, conf)
    gmr.setup(
        conf,
        f"logsvc-api-{os.getpid()}",
        {
            "Database Pool": lambda: pool_section(state.db.engine),
            "Dispatches In Flight": lambda: inflight_section(state.inflight),
        },
    )


def instrument_master(conf: cfg.ConfigOpts, arbiter) -> None:
    """Arm the gunicorn master's report (SIGUSR1), once it listens and before it forks.

    Its SIGUSR1 then writes the master's report and goes on to what gunicorn
    does with it, which passes it to every worker: one signal, a report of
    each process that serves. No file trigger here (see `gmr.setup`).
    """
    gmr.setup(
        conf,
        f"logsvc-api-master-{os.getpid()}",
        {"Gunicorn Workers": lambda: workers_section(arbiter)},
        watch_file=False,
    )


def workers_section(arbiter) -> str:
    pids = sorted(arbiter.WORKERS)
    return "\n".join(f"worker {pid}" for pid in pids) if pids else "none"


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
        files=_log_files(conf),
        secrets=secrets_from_conf(conf, opts.list_opts()),
        daemon_pid=master_pid,
    )
    engine = sqlalchemy.create_engine(conf.database.connection, poolclass=sqlalchemy.NullPool)
    probe = AgentProbe(conf.agent.shared_secret, conf.agent.connect_timeout)
    service.add_callable(
        "api-instances",
        lambda: instances_report(engine, conf.api.agent_silence_warning, probe),
        category=Category.INSTANCE,
        interval=30,
    )
    service.add_callable(
        "database", lambda: database_report(engine), category=Category.STORAGE, interval=30
    )
    return service


def _log_files(conf: cfg.ConfigOpts) -> list[str]:
    """The API's own log file, if it writes one (oslo.log's options)."""
    log_file = conf.log_file if "log_file" in conf else None
    if not log_file:
        return []
    log_dir = conf.log_dir if "log_dir" in conf else None
    return [os.path.join(log_dir, log_file) if log_dir else log_file]


# --- agents' reachability --------------------------------------------------------------

#: Probes at once; an agent that drops packets holds one for the connect timeout.
PROBE_THREADS = 16
#: Seconds an agent that accepted the connection has to answer /v1/info.
PROBE_READ_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProbeResult:
    """What one signed ``GET /v1/info`` to an agent told."""

    code: StatusCode
    message: str | None  # None when the agent answered as it should
    latency_ms: float | None = None


class AgentProbe:
    """A signed ``GET /v1/info`` to an agent: whether it answers, and as itself.

    For agents whose heartbeats do not keep their reachability current
    (``[agent] api_url`` unset, or heartbeats that stopped): the status
    report asks them directly, at the collector's interval.
    """

    def __init__(self, default_secret: str | None, connect_timeout: float):
        self.default_secret = default_secret
        self.timeout = (connect_timeout, PROBE_READ_TIMEOUT)

    def __call__(self, instance_id: str, agent_url: str, own_secret: str | None) -> ProbeResult:
        import requests

        from logsvc.signing import sign

        secret = own_secret or self.default_secret
        if not secret:
            return ProbeResult(StatusCode.UNKNOWN, "no secret to sign a probe with")
        started = time.monotonic()
        try:
            resp = requests.get(
                agent_url.rstrip("/") + "/v1/info",
                headers=sign(secret, "GET", "/v1/info", b"", instance=instance_id),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return ProbeResult(StatusCode.TEMP_BAD, "the agent did not answer in time")
        except requests.ConnectionError:
            return ProbeResult(StatusCode.TEMP_BAD, "the agent is unreachable")
        except requests.RequestException as exc:
            return ProbeResult(StatusCode.TEMP_BAD, f"the probe failed ({type(exc).__name__})")
        latency = round((time.monotonic() - started) * 1000, 1)
        if resp.status_code == 401:
            return ProbeResult(
                StatusCode.BAD,
                "the agent refused the API's signature: the secrets or the clocks differ, "
                "or another instance's agent answers at this URL",
                latency,
            )
        if resp.status_code != 200:
            return ProbeResult(
                StatusCode.TEMP_BAD, f"the agent answered {resp.status_code}", latency
            )
        try:
            answered = resp.json().get("instance_id")
        except (ValueError, AttributeError):
            answered = None
        if answered != instance_id:
            return ProbeResult(
                StatusCode.BAD,
                "what answers at the agent's URL is not this instance's agent",
                latency,
            )
        return ProbeResult(StatusCode.OK, None, latency)


def instances_report(engine, silence: int, probe: AgentProbe | None = None) -> dict[str, Any]:
    """Every registered instance and whether its agent is heard from.

    An agent is heard from by its heartbeats, when the last is at most
    `silence` seconds old; the others are asked by `probe` (all at once, in
    a few threads). Without a probe, an agent that never sent a heartbeat is
    unknown (status 2: it may have no ``api_url``), one whose heartbeats
    stopped is silent (status 1).
    """
    from api.models import Instance

    now = time.time()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Instance.id,
                Instance.datastore,
                Instance.agent_version,
                Instance.agent_url,
                Instance.shared_secret,
                Instance.heartbeat_stamp,
            ).order_by(Instance.id)
        ).all()
    ages = {r.id: None if r.heartbeat_stamp is None else now - r.heartbeat_stamp for r in rows}
    unheard = [r for r in rows if ages[r.id] is None or ages[r.id] > silence]
    probed: dict[str, ProbeResult] = {}
    if probe is not None and unheard:
        with ThreadPoolExecutor(min(PROBE_THREADS, len(unheard)), "status-probe") as pool:
            results = pool.map(lambda r: probe(r.id, r.agent_url, r.shared_secret), unheard)
            probed = {r.id: result for r, result in zip(unheard, results, strict=True)}
    instances = []
    problems: dict[StatusCode, list[str]] = {}
    by_heartbeat = by_probe = 0
    for row in rows:
        age = ages[row.id]
        heartbeat = "never" if age is None else ("current" if age <= silence else "late")
        entry: dict[str, Any] = {
            "id": row.id,
            "datastore": row.datastore,
            "agent_version": row.agent_version,
            "seconds_since_heartbeat": None if age is None else round(age, 1),
            "heartbeat": heartbeat,
        }
        if heartbeat == "current":
            entry.update(agent_reachable=True, heard_by="heartbeat")
            by_heartbeat += 1
        elif row.id in probed:
            result = probed[row.id]
            ok = result.code == StatusCode.OK
            entry.update(
                agent_reachable=ok if result.code != StatusCode.UNKNOWN else None,
                heard_by="probe" if ok else None,
                probe={"latency_ms": result.latency_ms, "error": result.message},
            )
            if ok:
                by_probe += 1
            else:
                problems.setdefault(result.code, []).append(f"{row.id} ({result.message})")
        elif heartbeat == "never":
            entry.update(agent_reachable=None, heard_by=None)
            problems.setdefault(StatusCode.UNKNOWN, []).append(f"{row.id} (never heard)")
        else:
            entry.update(agent_reachable=False, heard_by=None)
            problems.setdefault(StatusCode.TEMP_BAD, []).append(
                f"{row.id} (silent for over {silence}s)"
            )
        instances.append(entry)
    checks = [
        Status(code, f"{len(ids)} of {len(rows)} agents: " + _some(ids))
        for code, ids in sorted(problems.items())
    ]
    ok_message = f"{len(rows)} instance{'' if len(rows) == 1 else 's'}, every agent heard from"
    if by_probe:
        ok_message += f" ({by_heartbeat} by heartbeat, {by_probe} by probe)"
    return {"status": worst(checks, ok_message), "instances": instances}


def _some(items: list[str], shown: int = 10) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


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
