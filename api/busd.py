"""The API's consumer of the message bus: agents' heartbeats, beside gunicorn.

With ``[DEFAULT] transport_url`` set, the gunicorn master starts this process
when it is ready (as it starts api/statusd.py) and stops it when it exits;
it dies with the master. It serves the topic ``logsvc-api`` (every API host
runs one; the broker hands each heartbeat to one of them) and records each
heartbeat as ``POST /v1/instance/<id>/heartbeat`` does (api/heartbeat.py:
signed with the instance's secret, newer than the last one accepted, the
same staleness window), so a heartbeat is recorded the same whichever way it
came. A broker that refuses this process what consuming needs (its user's
permissions) stops it with one line and status 1, and the API with it
(api/server.py). A heartbeat refused (malformed, too large, unsigned, badly signed,
stale, replayed, for an instance that is not registered: all alike) is one
line in the log, and the next one is read. One older than the last recorded
(the consumer's threads can take an agent's heartbeats out of order when they
queue up) is counted as superseded, not refused: the newer one said more.

    python -m api.busd --config-file api.conf --master-pid 1234 [--report-fd N]
"""

import argparse
import ctypes
import json
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

import oslo_messaging
import sqlalchemy.exc
from oslo_config import cfg
from oslo_log import log as oslo_logging

import logsvc
from api import bodies, heartbeat
from api import conf as api_conf
from api.db import Database
from logsvc import bus, gmr
from logsvc.conf import messaging
from logsvc.exceptions import BadRequest, ConfigError, LogsvcError
from logsvc.signing import Superseded, check_headers
from logsvc.stopsignals import STOPPED, StopSignals, report_end, stop_watchdog

PROG = "logsvc-api-bus"
LOG = logging.getLogger(__name__)


class HeartbeatEndpoint:
    """``heartbeat(envelope)``: one agent's signed heartbeat, checked and recorded."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, conf: cfg.ConfigOpts, database: Database):
        self.conf = conf
        self.database = database
        self.lock = threading.Lock()
        self.recorded = 0
        self.superseded = 0
        self.refused = 0

    def heartbeat(self, ctxt: Any, **kwargs: Any) -> None:
        refusal = None
        try:
            self._record(kwargs)
        except Superseded:  # taken after a newer one of its agent's: nothing is lost
            LOG.debug("a heartbeat was superseded by a newer one of its agent's")
            self._count(superseded=True)
            return
        except LogsvcError as exc:
            refusal = f"refused a heartbeat over the bus: {exc.code}"
        except sqlalchemy.exc.SQLAlchemyError as exc:
            refusal = f"cannot record a heartbeat: the database failed ({type(exc).__name__})"
        self._count(refused=refusal is not None)
        if refusal:  # one line, outside the handler: no traceback, nothing of the sender's
            LOG.warning("%s", refusal)

    def _record(self, kwargs: dict[str, Any]) -> None:
        if set(kwargs) != {"envelope"}:
            raise bus.Malformed("the cast's arguments are not one envelope")
        instance_id, body, headers = bus.open_heartbeat(
            kwargs["envelope"], self.conf.api.max_body_size
        )
        instance_id = bodies.instance_id(instance_id)
        max_skew = self.conf.api.heartbeat_max_clock_skew
        check_headers(headers, max_skew)  # unsigned, malformed or stale: before the body
        with self.database.sessions() as session:
            instance, stamp = heartbeat.authenticate(
                session,
                instance_id,
                "POST",
                bus.heartbeat_path(instance_id),
                body,
                headers,
                default_secret=self.conf.agent.shared_secret,
                max_skew=max_skew,
            )
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                raise BadRequest("the heartbeat is not JSON") from None
            if not isinstance(data, dict):
                raise BadRequest("the heartbeat is not a JSON object")
            heartbeat.record(session, instance, stamp, data)

    def _count(self, refused: bool = False, superseded: bool = False) -> None:
        with self.lock:
            if superseded:
                self.superseded += 1
            elif refused:
                self.refused += 1
            else:
                self.recorded += 1


#: Seconds the stop may take, from the signal (or the broker's refusal) to the end.
#: The API's master waits 10 s for this process when it stops it.
_STOP_WAIT = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("--master-pid", type=int, required=True)
    # the master's pipe, told why this process ends (api/server.py reads it)
    parser.add_argument("--report-fd", type=int)
    args, rest = parser.parse_known_args(argv)
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: die with the master
    conf = cfg.CONF
    api_conf.register_opts(conf)
    oslo_logging.register_options(conf)
    conf(rest, project="logsvc", prog=PROG, version=logsvc.__version__)
    messaging.register_if_named(conf)
    oslo_logging.setup(conf, PROG, version=logsvc.__version__)
    try:
        absent = bus.check_broker(conf)
    except ConfigError as exc:  # logsvc-api checked it before it started: changed since
        LOG.error("%s", exc.message)
        report_end(args.report_fd, "its configuration is wrong")
        return 2
    if absent:
        LOG.error("%s = ...: %s", bus.OPTION, absent)
    database = Database.from_conf(conf)
    endpoint = HeartbeatEndpoint(conf, database)
    transport = bus.rpc_transport(conf)
    server = oslo_messaging.get_rpc_server(
        transport,
        bus.target(bus.API_TOPIC, socket.gethostname()),
        [endpoint],
        access_policy=oslo_messaging.DefaultRPCAccessPolicy,
    )
    gmr.setup(conf, f"{PROG}-{os.getpid()}")
    stop, signals = threading.Event(), StopSignals()
    started = threading.Event()

    # Each heartbeat holds a database connection while it is recorded: no more
    # handlers than the pool has connections, or the others wait for one and,
    # past the pool's timeout, their heartbeats are dropped (bench/bus.py saw 44
    # of 2,664 at N = 1,000). Those beyond stay in the broker's queue meanwhile.
    handlers = min(conf.executor_thread_pool_size, database.connections)

    failure: list[str] = []

    def start() -> None:  # oslo.messaging waits for a broker that is away, and logs it
        try:
            server.start(override_pool_size=handlers)
        except Exception as exc:  # refused: this process would consume nothing
            failure.append(bus.refused_serving(exc))
            LOG.error("%s", failure[0])
            sys.stderr.write(f"{PROG}: {failure[0]}\n")
            stop.set()
            return
        started.set()
        LOG.info("consuming heartbeats on the message bus (topic %s)", bus.API_TOPIC)

    threading.Thread(target=start, name="bus", daemon=True).start()
    signals.wait(stop)
    report_end(args.report_fd, "the broker refused it" if failure else STOPPED)
    # Whatever hangs on the way out, the process ends, and its log says where.
    stop_watchdog(_STOP_WAIT)
    if started.is_set():
        server.stop()
        server.wait()
    # Said before the transport's cleanup, which may outlast the API's grace
    # time for this process (bench/bus.py at N = 1,000 read no count).
    LOG.info(
        "heartbeats over the bus: %d recorded, %d superseded, %d refused",
        endpoint.recorded,
        endpoint.superseded,
        endpoint.refused,
    )
    transport.cleanup()
    database.dispose()
    status = 1 if failure else 0
    return status


if __name__ == "__main__":
    sys.exit(main())
