"""Serving the API with gunicorn (gthread workers), embedded: ``ApiServer(conf).run()``.

Start-up, in order: the master parses the configuration, checks the schema
and binds (``when_ready``); each worker, after the fork, runs ``post_fork``
(per-worker initialisation: the place for Guru Meditation Reports,
OSProfiler and the like, which must not cross a fork) and then loads its own
application, database engine and HTTP sessions (``load``), so that no
connection is shared between processes.
"""

import logging
import subprocess
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from oslo_config import cfg

from api import operations, statusd
from api.app import create_app

LOG = logging.getLogger(__name__)

server_opts = [
    cfg.HostAddressOpt(
        "bind_host",
        default="127.0.0.1",
        help="Address the API listens on.",
    ),
    cfg.PortOpt("bind_port", default=8779, help="Port the API listens on (Trove's)."),
    cfg.IntOpt(
        "workers",
        default=2,
        min=1,
        help="Worker processes serving requests (each with [api] threads threads).",
    ),
    cfg.IntOpt(
        "threads",
        default=8,
        min=1,
        help="Threads per worker: requests each worker serves at once (a publish "
        "occupies one while the agent works).",
    ),
    cfg.ListOpt(
        "forwarded_allow_ips",
        default=["127.0.0.1", "::1"],
        help="Addresses of the TLS-terminating proxies whose X-Forwarded-Proto and "
        "X-Forwarded-For headers are trusted (gunicorn's forwarded_allow_ips); '*' "
        "trusts every peer, only right when nothing else can reach the API.",
    ),
    cfg.IntOpt(
        "graceful_timeout",
        default=30,
        min=0,
        help="Seconds a stopping server lets requests in progress finish.",
    ),
]

WsgiApp = Callable[..., Any]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(server_opts, "api")


def post_fork(conf: cfg.ConfigOpts, worker_pid: int) -> None:
    """Per-worker initialisation, in the new worker, before it loads the application."""
    LOG.info("worker %s started", worker_pid)


class ApiServer(BaseApplication):
    """gunicorn, configured from ``[api]``, serving ``create_app(conf)`` in each worker.

    ``wrap`` wraps each worker's WSGI application (tests check every response
    against the OpenAPI document this way).
    """

    def __init__(self, conf: cfg.ConfigOpts, wrap: Callable[[WsgiApp], WsgiApp] | None = None):
        self.conf = conf
        self.wrap = wrap
        self.status: subprocess.Popen | None = None
        super().__init__()

    def load_config(self) -> None:
        api = self.conf.api
        host = f"[{api.bind_host}]" if ":" in api.bind_host else api.bind_host
        settings = {
            "bind": [f"{host}:{api.bind_port}"],
            "workers": api.workers,
            "threads": api.threads,
            "worker_class": "gthread",
            # A worker is killed when its main loop is silent that long; gthread's
            # loop keeps beating while a long publish runs in one of its threads.
            "timeout": 60,
            "graceful_timeout": api.graceful_timeout,
            "forwarded_allow_ips": ",".join(api.forwarded_allow_ips),
            "keepalive": 5,
            "proc_name": "logsvc-api",
            "accesslog": None,
            "errorlog": "-",
            "when_ready": lambda arbiter: self._start_status(arbiter.pid),
            "post_fork": lambda _server, worker: post_fork(self.conf, worker.pid),
            "on_exit": lambda _server: self._stop_status(),
        }
        # gunicorn 27's control socket sits at one path per user: two APIs on a
        # machine would fight over it, and logsvc does not use it.
        settings["control_socket_disable"] = True
        for key, value in settings.items():
            if key in self.cfg.settings:  # older gunicorn lacks some
                self.cfg.set(key, value)

    def _start_status(self, master_pid: int) -> None:
        """The status report: a process of its own (api/statusd.py), one port for all."""
        self.status = statusd.spawn(self.conf, master_pid)

    def _stop_status(self) -> None:
        if self.status is not None and self.status.poll() is None:
            self.status.terminate()
            try:
                self.status.wait(10)
            except subprocess.TimeoutExpired:
                self.status.kill()

    def load(self) -> WsgiApp:
        app = create_app(self.conf)
        operations.instrument_worker(app, self.conf)
        return self.wrap(app) if self.wrap else app
