"""The agent daemon: the signed endpoint on a threaded WSGI server, and heartbeats.

A publish of one log runs in a thread of its own (guestagent.publishjobs) and
holds only that log's lock, and list and show take no lock at all, so the
server's threads keep answering while a long publish runs. When a publish
ends, a heartbeat goes at once: it carries every log's last publish outcome.

With ``[DEFAULT] transport_url`` the endpoint is served over the message bus
too (guestagent/busserver.py; ``[agent] serve`` says which), and the
heartbeats go over the bus.
"""

import json
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from cheroot import errors as cheroot_errors
from cheroot import server as cheroot_server
from cheroot import wsgi
from oslo_config import cfg

import logsvc
from guestagent import endpoint, reports
from guestagent.follower import Follower
from guestagent.manager import PROJECT, LogManager
from logsvc import bus, gmr, http, profiling
from logsvc.conf.messaging import broker_url
from logsvc.exceptions import ConfigError, LogsvcError
from logsvc.httperrors import error_body, error_for_http_status
from logsvc.readdeadline import DeadlineSocket
from logsvc.redact import secrets_in_conf
from logsvc.signing import Verifier, sign
from logsvc.status import Category, StatusService
from logsvc.stopsignals import StopSignals, stop_watchdog
from logsvc.storage import store_from_conf

if TYPE_CHECKING:
    from guestagent.busserver import BusAgent

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
        domain = error_for_http_status(code, msg[:200] or str(status)[4:])
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
        # With [storage] account = project the agent writes with its callers'
        # credentials only, and needs none of its own.
        own_account = conf.storage.account != PROJECT
        self.store = store_from_conf(conf) if own_account else None
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
        url = broker_url(conf)
        served = conf.agent.serve or (["rpc"] if url else ["http"])
        if "rpc" in served and not url:
            raise ConfigError("[agent] serve = rpc needs [DEFAULT] transport_url (the broker)")
        self.bus: BusAgent | None = None
        self.serve_rpc = "rpc" in served
        if url:
            from guestagent import busserver  # oslo.messaging: only with a broker

            absent = bus.check_broker(conf)  # a URL that cannot work: ConfigError, exit 2
            if absent:
                LOG.error("%s = ...: %s", bus.OPTION, absent)
            self.bus = busserver.BusAgent(
                conf, self.app, self.manager.instance_id, endpoint.MAX_BODY
            )
        self.server = AgentServer(conf, self.app) if "http" in served else None
        self.stopping = threading.Event()
        self.failure: str | None = None  # why the agent stopped by itself
        self._beat_now = threading.Event()  # set when a publish ends
        self.manager.jobs.on_end = self._beat_now.set
        self.follower = Follower(
            # no token between actions, no follow (LogManager refuses to switch it on)
            self.manager.publishers if own_account else {},
            conf.guest_log_publish_interval,
            self.stopping,
        )
        self.manager.on_follow = self.follower.wake
        self._follow_thread: threading.Thread | None = None
        self._http = http.new_session()  # heartbeats: no redirect, one deadline
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        # The status report first: once the agent's port answers, all of it does.
        self.status.start()
        if self.status.enabled:
            LOG.info("status report on %s", self.status.url)
        LOG.info(
            "logsvc-guestagent %s for instance %s (%s)",
            logsvc.__version__,
            self.manager.instance_id,
            self.manager.datastore.name,
        )
        if self.server is not None:
            self.server.prepare()  # binds now, so a port in use fails start-up
            host, port = self.server.bind_addr[:2]
            LOG.info("serving instance %s on %s:%s", self.manager.instance_id, host, port)
            self._spawn(self.server.serve, "server")
        if self.bus is not None and self.serve_rpc:
            # oslo.messaging waits for a broker that is away, and says so in the log.
            self._spawn(self._serve_bus, "bus")
        self._spawn(self._recover, "recover")
        self._follow_thread = threading.Thread(target=self._follow, name="follower", daemon=True)
        self._follow_thread.start()
        if self.conf.agent.api_url or self.bus is not None:
            self._spawn(self._heartbeat_loop, "heartbeat")

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> bool:
        """Stop serving; False when a request was still running after the grace time."""
        self.stopping.set()
        self._beat_now.set()
        self.follower.wake()
        self.status.stop()
        grace = self.conf.agent.graceful_shutdown_timeout
        deadline = time.monotonic() + grace
        stopper = threading.Thread(target=self._stop_serving, name="stop", daemon=True)
        stopper.start()
        stopper.join(grace)
        if stopper.is_alive():
            return False
        # Publishes that outlived their requests run in threads of their own: they
        # too may finish within the grace time (else the next start reports them
        # failed, and the next publish completes them).
        if not self.manager.jobs.wait_all(max(0.0, deadline - time.monotonic())):
            return False
        if self._follow_thread is not None:
            self._follow_thread.join(max(0.0, deadline - time.monotonic()))
        if self.store is not None:
            self.store.close()
        return True

    def _stop_serving(self) -> None:
        if self.bus is not None:
            self.bus.stop()  # takes no new call; those running finish
        if self.server is not None:
            self.server.stop()

    def wait(self, signals: StopSignals) -> None:
        """Until SIGTERM or SIGINT, or a stop of the agent's own (logsvc.stopsignals)."""
        signals.wait(self.stopping)

    def _serve_bus(self) -> None:
        """Serve on the bus; a broker that refuses what serving needs stops the agent.

        It exits 1 then, with one line that says why (bus.refused_serving),
        rather than run without taking a call.
        """
        try:
            self.bus.start()  # type: ignore[union-attr]
        except Exception as exc:  # whatever it is, the agent cannot serve
            self.failure = bus.refused_serving(exc)
            LOG.error("%s", self.failure)
            self.stopping.set()

    def _recover(self) -> None:
        """Rebuild lost local state from the metafiles, once, off the request path.

        (With [storage] account = project, each action recovers from its caller's
        account instead: the agent has none of its own.)
        """
        if self.store is None:
            return
        for publisher in self.manager.publishers.values():
            if self.stopping.is_set():
                return
            try:
                publisher.recover()
            except Exception as exc:
                LOG.warning("log %s: cannot recover its state yet: %s", publisher.name, exc)

    def _follow(self) -> None:
        """Publish the followed logs as they grow; never dies of an error of its own."""
        while not self.stopping.is_set():
            try:
                self.follower.run()
            except Exception:
                LOG.exception("follow: the follower failed; starting it again")
                self.stopping.wait(self.conf.guest_log_publish_interval)

    def _heartbeat_loop(self) -> None:
        while not self.stopping.is_set():
            self._beat_now.clear()
            self.heartbeat()
            self._beat_now.wait(self.conf.agent.heartbeat_interval)

    def heartbeat(self) -> bool:
        """Tell the API we are alive, with our logs' state; False when it did not hear."""
        path, body, headers = heartbeat_message(self.manager, self.conf.agent.shared_secret)
        if self.bus is not None:
            try:
                self.bus.heartbeat(body, headers)
            except Exception as exc:  # the broker away: the next heartbeat follows
                LOG.warning("heartbeat over the message bus: %s", str(exc).splitlines()[0])
                return False
            return True
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


def heartbeat_message(manager: LogManager, secret: str) -> tuple[str, bytes, dict[str, str]]:
    """A signed heartbeat: its path, body and headers (over HTTP and over the bus alike)."""
    instance_id = manager.instance_id
    path = f"/v1/instance/{instance_id}/heartbeat"
    try:
        logs = [v.to_dict() for v in manager.list_logs(admin=True)]
    except Exception as exc:
        LOG.warning("heartbeat: cannot list the logs: %s", exc)
        logs = None
    body = json.dumps(
        {
            "instance_id": instance_id,
            "datastore": manager.datastore.name,
            "version": logsvc.__version__,
            "logs": logs,
        }
    ).encode()
    headers = sign(secret, "POST", path, body, instance=instance_id)
    headers["Content-Type"] = "application/json"
    return path, body, headers


#: Seconds granted, beyond the grace time of requests, to the rest of a stop.
_STOP_MARGIN = 10.0


def serve(conf: cfg.ConfigOpts) -> int:
    """Run the daemon until SIGTERM or SIGINT."""
    profiling.init(conf, "logsvc-guestagent")
    service = AgentService(conf)
    trigger = gmr.setup(
        conf, "logsvc-guestagent", {"Guest Logs": reports.gmr_section(service.manager)}
    )
    LOG.info("Guru Meditation Report on %s", trigger)
    service.start()
    service.wait(StopSignals())
    LOG.info("logsvc-guestagent stopping")
    # Whatever hangs in the way out, the process ends, and says where it hung.
    stop_watchdog(conf.agent.graceful_shutdown_timeout + _STOP_MARGIN)
    status = 1 if service.failure else 0
    if service.failure:  # on the terminal too, as the other reasons not to run
        sys.stderr.write(f"logsvc-guestagent: {service.failure}\n")
    if not service.stop():
        LOG.warning("stopped with a request still in progress (a publish is safe to retry)")
        logging.shutdown()
        os._exit(status)  # its worker thread would otherwise keep the process alive
    return status
