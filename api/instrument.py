"""Arming an API worker after the fork: how it is traced and what it reports.

Each worker gets a Guru Meditation Report (SIGUSR1 to the worker, or the
file trigger of ``[oslo_reports]``) with the sections "Database Pool" and
"Dispatches In Flight", OSProfiler's middleware in front of the application,
and its SQL tracing when ``[profiler] trace_sqlalchemy``. The status report
is another process's (api/statusd.py, api/status_collectors.py).

The gunicorn master has a report too (SIGUSR1, which gunicorn then passes on
to the workers) with the section "Gunicorn Workers".
"""

import logging
import os
import time

from flask import Flask
from oslo_config import cfg

from api.inflight import InFlight
from api.state import EXTENSION
from logsvc import gmr, profiling

LOG = logging.getLogger(__name__)


def instrument_worker(app: Flask, conf: cfg.ConfigOpts) -> None:
    """Arm a worker (after the fork): its report, and tracing of its requests."""
    state = app.extensions[EXTENSION]
    if profiling.init(conf, "logsvc-api") and conf.profiler.trace_sqlalchemy:
        profiling.trace_sql(state.db.engine)  # statements only, never their parameters
    app.wsgi_app = profiling.middleware(app.wsgi_app, conf)
    trigger = gmr.setup(
        conf,
        f"logsvc-api-{os.getpid()}",
        {
            "Database Pool": lambda: pool_section(state.db.engine),
            "Dispatches In Flight": lambda: inflight_section(state.inflight),
        },
    )
    LOG.info("worker %s: Guru Meditation Report on %s", os.getpid(), trigger)


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
