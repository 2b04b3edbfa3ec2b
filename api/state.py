"""What one API process holds for its requests: configuration, database,
policy, authentication, the transports to the agents (HTTP, the bus), and
the object store the read route reads (with the threads that read ahead)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from api.inflight import InFlight

if TYPE_CHECKING:
    import requests
    from oslo_config import cfg
    from oslo_policy import policy

    from api.auth import Strategy
    from api.db import Database
    from api.rpcdispatch import RpcTransport
    from logsvc.storage.base import ObjectStore

EXTENSION = "logsvc"


@dataclass
class ApiState:
    """The process's long-lived objects, built once by the application factory."""

    conf: "cfg.ConfigOpts"
    db: "Database"
    enforcer: "policy.Enforcer"
    auth: "Strategy"
    http: "requests.Session"
    inflight: InFlight = field(default_factory=InFlight)
    _store: "ObjectStore | None" = field(default=None, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def object_store(self) -> "ObjectStore":
        """The object store of ``[storage]``, made on first use (after the fork).

        One per process, shared by its threads (a Swift store keeps one
        connection per thread).
        """
        from logsvc.storage import store_from_conf

        with self._lock:
            if self._store is None:
                self._store = store_from_conf(self.conf)
            return self._store

    def read_pool(self) -> ThreadPoolExecutor:
        """The threads that fetch objects ahead of a read, shared by the process's requests.

        Kept for the process's life, so that their connections to the store
        are too. Twice the request threads: each read keeps three fetches
        under way, and line counts are asked ahead.
        """
        with self._lock:
            if self._pool is None:
                workers = max(8, 2 * int(self.conf.api.threads))
                self._pool = ThreadPoolExecutor(workers, thread_name_prefix="logsvc-read")
            return self._pool

    #: calls to the agents over the message bus, with [agent] dispatch = rpc
    rpc: "RpcTransport | None" = None


def app_state() -> ApiState:
    """The current application's state."""
    return current_app.extensions[EXTENSION]
