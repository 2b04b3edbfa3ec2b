"""Serving the API with gunicorn (gthread workers), embedded: ``ApiServer(conf).run()``.

Start-up, in order: the master parses the configuration, checks the schema
and binds; ready (``when_ready``), it arms its Guru Meditation Report and
starts the status report's process (and, with a message bus, the heartbeats'
consumer: api/busd.py). Each worker, after the fork, logs its
start (``post_fork``) and then loads its own application, database engine
and HTTP sessions, and arms its report and OSProfiler
(``load``: api.instrument.instrument_worker), so that nothing of the kind
crosses a fork and no connection is shared between processes.
"""

import http
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from gunicorn import glogging, util
from gunicorn.app.base import BaseApplication
from gunicorn.http import RequestParser
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker
from oslo_config import cfg

from api.app import create_app
from api.instrument import instrument_master, instrument_worker
from logsvc import logescape
from logsvc.conf import config_args
from logsvc.conf.messaging import broker_url
from logsvc.exceptions import (
    BadRequest,
    ExpectationFailed,
    Forbidden,
    LogsvcError,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    UnsupportedTransferCoding,
    UriTooLong,
)
from logsvc.httperrors import error_body, status_for
from logsvc.readdeadline import DeadlineSocket, ReadDeadline
from logsvc.stopsignals import STOPPED

LOG = logging.getLogger(__name__)

WsgiApp = Callable[..., Any]


class _HeadersTimeout(Exception):
    """The headers did not arrive in time (not an OSError: gthread logs those as faults)."""


class _DeadlineParser(RequestParser):
    """gunicorn's parser, with a deadline for each request's headers, then for its body."""

    def __init__(self, cfg, sock: DeadlineSocket, client, header_timeout, body_timeout):
        super().__init__(cfg, sock, client)
        self.sock = sock
        self.timeouts = header_timeout, body_timeout

    def __next__(self):
        header_timeout, body_timeout = self.timeouts
        self.sock.arm("headers", header_timeout)
        try:
            request = super().__next__()
        except ReadDeadline as exc:
            raise _HeadersTimeout(exc.message) from None
        self.sock.arm("body", body_timeout)
        return request

    next = __next__


# gunicorn's errors about what a client sent, and the domain errors that answer
# them (their statuses and codes: logsvc.httperrors); the first that matches wins.
_CLIENT_ERRORS: list[tuple[type[Exception], type[LogsvcError]]] = [
    (_HeadersTimeout, RequestTimeout),
    (http_errors.LimitRequestLine, UriTooLong),
    (http_errors.LimitRequestHeaders, RequestHeaderFieldsTooLarge),
    (http_errors.UnsupportedTransferCoding, UnsupportedTransferCoding),
    (http_errors.ExpectationFailed, ExpectationFailed),
    (http_errors.ForbiddenProxyRequest, Forbidden),
    (http_errors.ParseException, BadRequest),
]


class ApiWorker(ThreadWorker):
    """gunicorn's gthread worker with read deadlines, and JSON for its own errors.

    A thread reads a request's headers within [api] client_header_timeout and
    the application its body within [api] client_body_timeout (in all, not per
    read); gthread already gives a connection that sends nothing back to its
    poller. Errors that gunicorn answers itself (a malformed or too long
    request line, too large headers, a timeout) get the API's JSON body, not
    gunicorn's HTML page. ``configured`` binds the deadlines to a subclass.
    """

    header_timeout = 10.0
    body_timeout = 10.0

    @classmethod
    def configured(cls, conf: cfg.ConfigOpts) -> type["ApiWorker"]:
        attrs = {
            "header_timeout": conf.api.client_header_timeout,
            "body_timeout": conf.api.client_body_timeout,
        }
        return type(cls.__name__, (cls,), attrs)

    def enqueue_req(self, conn) -> None:
        # Set up before gthread's TConn.init(), which then keeps this parser.
        if conn.parser is None and not self.cfg.is_ssl:
            conn.sock = DeadlineSocket(conn.sock)
            conn.parser = _DeadlineParser(
                self.cfg, conn.sock, conn.client, self.header_timeout, self.body_timeout
            )
        super().enqueue_req(conn)

    def handle_error(self, req, client, addr, exc) -> None:
        refusal = next((error for cls, error in _CLIENT_ERRORS if isinstance(exc, cls)), None)
        if refusal is None:
            self.log.exception("error handling a request")
            domain = LogsvcError("internal error; the API's log has the details")
        else:
            domain = refusal(str(exc)[:200])
            domain.message = domain.message or http.HTTPStatus(status_for(domain)).phrase
            self.log.info("refused a request from %s: %s", (addr or ("",))[0], domain.message)
        status = status_for(domain)
        payload = json.dumps(error_body(domain)).encode()
        head = (
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
            "Connection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + payload)
        except Exception:
            self.log.debug("could not send the error response")


class EscapingLogger(glogging.Logger):
    """gunicorn's logger, control characters escaped (it logs bad request lines)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        logescape.install(self.error_log, self.access_log)


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
        self.bus: subprocess.Popen | None = None
        self.stopping = False  # the master stops its children itself
        self.failed = False  # a child it cannot serve without stopped: exit 1
        super().__init__()

    def load_config(self) -> None:
        api = self.conf.api
        host = f"[{api.bind_host}]" if ":" in api.bind_host else api.bind_host
        settings = {
            "bind": [f"{host}:{api.bind_port}"],
            "workers": api.workers,
            "threads": api.threads,
            "worker_class": ApiWorker.configured(self.conf),
            "logger_class": EscapingLogger,
            # A worker is killed when its main loop is silent that long; gthread's
            # loop keeps beating while a long publish runs in one of its threads.
            "timeout": 60,
            "graceful_timeout": api.graceful_timeout,
            "forwarded_allow_ips": ",".join(api.forwarded_allow_ips),
            "keepalive": 5,
            "proc_name": "logsvc-api",
            "accesslog": None,
            "errorlog": "-",
            "when_ready": self._when_ready,
            "post_fork": lambda _server, worker: post_fork(self.conf, worker.pid),
            "on_exit": lambda _server: self._stop_children(),
        }
        # gunicorn 27's control socket sits at one path per user: two APIs on a
        # machine would fight over it, and logsvc does not use it.
        settings["control_socket_disable"] = True
        for key, value in settings.items():
            if key in self.cfg.settings:  # older gunicorn lacks some
                self.cfg.set(key, value)

    def _when_ready(self, arbiter) -> None:
        """In the master, listening, before the first fork: its report, and the status
        report's process (api/statusd.py; one port for all), and with a message bus
        the consumer of the agents' heartbeats (api/busd.py)."""
        instrument_master(self.conf, arbiter)
        if self.conf.status.enabled:
            self.status = self._spawn("api.statusd", arbiter.pid)
        if broker_url(self.conf):
            # busd says on a pipe why it ends: its exit status may be lost, as
            # gunicorn's master reaps every child that ends (waitpid(-1) on
            # SIGCHLD) and Popen then reads 0: the API ran on, deaf (CI, twice).
            reports, said = os.pipe()
            try:
                self.bus = self._spawn("api.busd", arbiter.pid, said)
            finally:
                os.close(said)  # busd's end only: EOF when busd ends
            threading.Thread(
                target=self._watch_bus, args=(arbiter.pid, reports), name="busd-watch", daemon=True
            ).start()

    def _spawn(
        self, module: str, master_pid: int, report_fd: int | None = None
    ) -> subprocess.Popen:
        """A process of the master's beside gunicorn, with the master's configuration."""
        argv = [sys.executable, "-m", module, "--master-pid", str(master_pid)]
        fds: tuple[int, ...] = ()
        if report_fd is not None:
            argv += ["--report-fd", str(report_fd)]
            fds = (report_fd,)
        return subprocess.Popen(
            [*argv, *config_args(self.conf)], stdin=subprocess.DEVNULL, pass_fds=fds
        )

    def _watch_bus(self, master_pid: int, reports: int) -> None:
        """The API stops, status 1, when its heartbeats' consumer stops on its own.

        Without it no heartbeat over the bus is recorded and every instance goes
        stale: better refused at start, where the operator looks, than deaf.
        busd writes why it ends to `reports` (``STOPPED`` when asked to stop);
        anything else, or nothing (killed), is a failure.
        """
        with os.fdopen(reports, "rb") as pipe:
            said = pipe.read(200).decode("ascii", "replace").strip()  # until busd ends
        if self.stopping or said == STOPPED:
            return
        LOG.error(
            "the heartbeats' consumer (api/busd.py) stopped (%s; its line above says "
            "why): logsvc-api stops too",
            said or "it said nothing: killed?",
        )
        self.failed = True
        os.kill(master_pid, signal.SIGTERM)

    def _stop_children(self) -> None:
        self.stopping = True
        for child in (self.status, self.bus):
            if child is not None and child.poll() is None:
                child.terminate()
        for child in (self.status, self.bus):
            if child is not None:
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def load(self) -> WsgiApp:
        app = create_app(self.conf)
        instrument_worker(app, self.conf)
        return self.wrap(app) if self.wrap else app
