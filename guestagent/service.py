"""The agent daemon: the signed endpoint on a threaded WSGI server, and heartbeats.

A publish of one log holds only that log's lock, and list and show take no
lock at all, so the server's threads keep answering while a long publish runs.
"""

import json
import logging
import os
import signal
import sys
import threading
import traceback

from cheroot import errors as cheroot_errors
from cheroot import server as cheroot_server
from cheroot import wsgi
from oslo_config import cfg

import logsvc
from guestagent import endpoint, reports
from guestagent.manager import LogManager
from logsvc import gmr, http, profiling
from logsvc.exceptions import BadRequest, ConfigError, LogsvcError
from logsvc.httperrors import error_body
from logsvc.readdeadline import DeadlineSocket
from logsvc.redact import secrets_in_conf
from logsvc.signing import Verifier, sign
from logsvc.status import Category, StatusService
from logsvc.storage import store_from_conf

LOG = logging.getLogger(__name__)


class _Request(cheroot_server.HTTPRequest):
    """cheroot's request, read within deadlines, its own errors answered as JSON."""

    def parse_request(self) -> None:
        # A deadline that runs out raises a timeout, which cheroot answers 408.
        self.conn.socket.arm("headers", self.server.header_timeout)
        super().parse_request()
        self.conn.socket.arm("body", self.server.body_timeout)

    def simple_response(self, status, msg="") -> None:
        code = int(str(status)[:3])
        if code < 400:
            super().simple_response(status, msg)
            return
        if isinstance(msg, bytes):
            msg = msg.decode("latin-1")
        domain = (
            BadRequest(msg[:200] or str(status)[4:])
            if code < 500
            else LogsvcError("internal error")
        )
        body = error_body(domain)
        body["error"]["status"] = code
        payload = json.dumps(body).encode()
        self.close_connection = True
        head = (
            f"{self.server.protocol} {status}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        try:
            self.conn.wfile.write(head.encode("latin-1") + payload)
        except OSError as exc:
            if exc.args[0] not in cheroot_errors.socket_errors_to_ignore:
                raise


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _Request

    def __init__(self, server, sock, makefile=cheroot_server.MakeFile):
        super().__init__(server, DeadlineSocket(sock), makefile)


class AgentServer(wsgi.Server):
    """cheroot's WSGI server with read deadlines (logsvc.readdeadline), JSON errors, and
    its error log through logging (where control characters are escaped)."""

    ConnectionClass = _Connection

    def __init__(self, conf: cfg.ConfigOpts, app) -> None:
        super().__init__(
            (conf.agent.bind_host, conf.agent.bind_port),
            app,
            numthreads=conf.agent.threads,
            server_name="logsvc-guestagent",
        )
        self.header_timeout = conf.agent.client_header_timeout
        self.body_timeout = conf.agent.client_body_timeout

    def error_log(self, msg="", level=logging.INFO, traceback=False) -> None:
        logging.getLogger("cheroot").log(level, "%s", msg, exc_info=traceback)


class AgentService:
    """The endpoint, the recovery of lost state, and the heartbeat, in one process."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        secret = conf.agent.shared_secret
        if not secret:
            raise ConfigError("[agent] shared_secret is required to serve")
        self.store = store_from_conf(conf)
        self.manager = LogManager.from_conf(conf, self.store)
        self.verifier = Verifier(
            [secret],
            conf.agent.max_clock_skew,
            journal=os.path.join(conf.agent.state_dir, "nonces"),
        )
        self.app = endpoint.create_app(self.manager, self.verifier)
        self.app.wsgi_app = profiling.middleware(self.app.wsgi_app, conf)
        self.status = StatusService.from_conf(
            conf,
            daemon_name="logsvc-guestagent",
            store=self.store,
            directories=[conf.agent.state_dir],
            files=[p.source.path for p in self.manager.publishers.values() if p.source.path],
            secrets=secrets_in_conf(conf),
        )
        self.status.add_callable(
            "guest-logs",
            reports.status_collector(self.manager),
            category=Category.INSTANCE,
            interval=30,
        )
        self.server = AgentServer(conf, self.app)
        self.stopping = threading.Event()
        self._http = http.new_session()  # heartbeats: no redirect, one deadline
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        # The status report first: once the agent's port answers, all of it does.
        self.status.start()
        if self.status.enabled:
            LOG.info("status report on %s", self.status.url)
        self.server.prepare()  # binds now, so a port in use fails start-up
        host, port = self.server.bind_addr[:2]
        LOG.info(
            "logsvc-guestagent %s serving instance %s (%s) on %s:%s",
            logsvc.__version__,
            self.manager.instance_id,
            self.manager.datastore.name,
            host,
            port,
        )
        self._spawn(self.server.serve, "server")
        self._spawn(self._recover, "recover")
        if self.conf.agent.api_url:
            self._spawn(self._heartbeat_loop, "heartbeat")

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> bool:
        """Stop serving; False when a request was still running after the grace time."""
        self.stopping.set()
        self.status.stop()
        stopper = threading.Thread(target=self.server.stop, name="stop", daemon=True)
        stopper.start()
        stopper.join(self.conf.agent.graceful_shutdown_timeout)
        if stopper.is_alive():
            return False
        self.store.close()
        return True

    def wait(self) -> None:
        self.stopping.wait()

    def _recover(self) -> None:
        """Rebuild lost local state from the metafiles, once, off the request path."""
        for publisher in self.manager.publishers.values():
            if self.stopping.is_set():
                return
            try:
                publisher.recover()
            except Exception as exc:
                LOG.warning("log %s: cannot recover its state yet: %s", publisher.name, exc)

    def _heartbeat_loop(self) -> None:
        while not self.stopping.is_set():
            self.heartbeat()
            self.stopping.wait(self.conf.agent.heartbeat_interval)

    def heartbeat(self) -> bool:
        """Tell the API we are alive, with our logs' state; False when it did not hear."""
        instance_id = self.manager.instance_id
        path = f"/v1/instance/{instance_id}/heartbeat"
        try:
            logs = [v.to_dict() for v in self.manager.list_logs(admin=True)]
        except Exception as exc:
            LOG.warning("heartbeat: cannot list the logs: %s", exc)
            logs = None
        body = json.dumps(
            {
                "instance_id": instance_id,
                "datastore": self.manager.datastore.name,
                "version": logsvc.__version__,
                "logs": logs,
            }
        ).encode()
        headers = sign(self.conf.agent.shared_secret, "POST", path, body, instance=instance_id)
        headers["Content-Type"] = "application/json"
        try:
            answer = http.call(
                self._http,
                "POST",
                self.conf.agent.api_url.rstrip("/") + path,
                what="the API",
                timeout=10,
                data=body,
                headers=headers,
            )
        except LogsvcError as exc:  # no answer in time, no connection, a redirect
            LOG.warning("heartbeat: %s", exc.message)
            return False
        if answer.status >= 300:
            LOG.warning("heartbeat: the API answered %s", answer.status)
            return False
        return True


#: Seconds granted, beyond the grace time of requests, to the rest of a stop.
_STOP_MARGIN = 10.0


def _abandon_stop(margin: float) -> None:
    stacks = "".join(
        f"\nthread {thread.name}:\n" + "".join(traceback.format_stack(frame))
        for thread in threading.enumerate()
        if (frame := sys._current_frames().get(thread.ident)) is not None
    )
    LOG.error(
        "the stop overran its grace time by %ss; exiting now. Threads:%s",
        margin,
        stacks,
        extra={"verbatim": True},  # our own stacks, multi-line (logsvc.logescape)
    )
    logging.shutdown()
    os._exit(1)


def serve(conf: cfg.ConfigOpts) -> int:
    """Run the daemon until SIGTERM or SIGINT."""
    profiling.init(conf, "logsvc-guestagent")
    service = AgentService(conf)
    trigger = gmr.setup(
        conf, "logsvc-guestagent", {"Guest Logs": reports.gmr_section(service.manager)}
    )
    LOG.info("Guru Meditation Report on %s", trigger)
    service.start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: service.stopping.set())
    service.wait()
    LOG.info("logsvc-guestagent stopping")
    # Whatever hangs in the way out, the process ends, and says where it hung.
    watchdog = threading.Timer(
        conf.agent.graceful_shutdown_timeout + _STOP_MARGIN, _abandon_stop, [_STOP_MARGIN]
    )
    watchdog.daemon = True
    watchdog.start()
    if not service.stop():
        LOG.warning("stopped with a request still in progress (a publish is safe to retry)")
        logging.shutdown()
        os._exit(0)  # its worker thread would otherwise keep the process alive
    return 0
