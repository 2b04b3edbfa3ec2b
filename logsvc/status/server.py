"""The status API's HTTP server: cheroot's threaded WSGI server, in the background.

cheroot starts its worker threads as non-daemon threads unless the thread
that starts them is a daemon itself (threads inherit that flag); so the
server is prepared *and* served from our own daemon thread, and a daemon
that exits without calling ``stop()`` is not kept alive by it. Binding
happens before ``start()`` returns, so a port in use is an error of
``start()``, not a silent thread death.
"""

import logging
import os
import threading
from typing import Any

from cheroot import wsgi

LOG = logging.getLogger(__name__)

#: Requests are answered from memory; a few threads are plenty.
DEFAULT_THREADS = 4


class StatusServer:
    """A WSGI application served on `host`:`port` from a background thread."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        threads: int = DEFAULT_THREADS,
        request_timeout: float = 10.0,
    ):
        self.app = app
        self.host = host
        self.port = port
        self.threads = threads
        self.request_timeout = request_timeout
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (the real port once started, when 0 was asked)."""
        return self.host, self.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in the background; OSError when the address cannot be bound."""
        if self._thread is not None:
            raise RuntimeError("the status server was started already")
        if os.environ.get("LISTEN_PID"):
            # cheroot would take systemd's socket (file descriptor 3) as its own,
            # stealing the daemon's main listening socket.
            raise RuntimeError(
                "the status server cannot start under systemd socket activation "
                "(LISTEN_PID is set); set [status] enabled = false"
            )
        server = wsgi.Server(
            (self.host, self.port),
            self.app,
            numthreads=self.threads,
            server_name="logsvc-status",
            timeout=self.request_timeout,
        )
        server.error_log = _log_cheroot_error
        bound = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                server.prepare()
            except BaseException as exc:
                failure.append(exc)
                return
            finally:
                bound.set()
            server.serve()

        thread = threading.Thread(target=serve, name="status-server", daemon=True)
        thread.start()
        bound.wait()
        if failure:
            thread.join()
            raise OSError(f"the status server cannot listen on {self.url}: {failure[0]}")
        self.port = server.bind_addr[1]
        self._server, self._thread = server, thread
        LOG.info("status report served on %s", self.url)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving; idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.stop()
        thread.join(timeout)


def _log_cheroot_error(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    # cheroot writes its errors to stderr; ours go to the daemon's log.
    LOG.log(level, "status server: %s", msg, exc_info=traceback)
