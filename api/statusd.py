"""The API's status report, served by a process of its own beside gunicorn.

The gunicorn master forks workers, and forking a process whose threads are
busy (the report's server, its collectors querying the database) can leave a
lock held forever in the child: SQLite's own mutexes hung workers that way.
So the master starts this small process when it is ready and stops it when it
exits; it reports on the master and its workers (``--master-pid``) and dies
with the master.

    python -m api.statusd --config-file api.conf --master-pid 1234
"""

import argparse
import ctypes
import os
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as oslo_logging

import logsvc
from api import conf as api_conf
from api.status_collectors import status_service
from logsvc import gmr
from logsvc.stopsignals import StopSignals

PROG = "logsvc-api-status"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("--master-pid", type=int, required=True)
    args, rest = parser.parse_known_args(argv)
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: die with the master
    conf = cfg.CONF
    api_conf.register_opts(conf)
    oslo_logging.register_options(conf)
    conf(rest, project="logsvc", prog=PROG, version=logsvc.__version__)
    oslo_logging.setup(conf, PROG, version=logsvc.__version__)
    service = status_service(conf, args.master_pid)
    gmr.setup(conf, f"{PROG}-{os.getpid()}")
    stop, signals = threading.Event(), StopSignals()
    service.start()
    signals.wait(stop)
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
