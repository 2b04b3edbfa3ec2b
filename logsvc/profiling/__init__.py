"""OSProfiler in logsvc's daemons: who may trace, and where traces go.

``[profiler] enabled, hmac_keys, trace_sqlalchemy, trace_requests,
connection_string`` (osprofiler's own options, with our defaults: see
logsvc/conf/profiler.py). A request is traced only when
its trace headers are signed with one of ``hmac_keys``; anything else is served
untraced. Off by default, and there is no default key: enabling it without
keys is a configuration error. ``connection_string`` may carry a password
(``redis://:password@host``): it is masked like a secret in reports and logs.

Where traces are kept: ``redis://host:6379`` (a Redis server), or
``file:///var/lib/logsvc/traces`` (our own store, a directory; see
`logsvc.profiling.filestore`), for one machine without any server.

What a trace holds: SQL statements without their parameters
(`logsvc.profiling.sql`, in place of osprofiler's ``add_tracing``), and no
configured secret nor URL password anywhere (`logsvc.profiling.scrub`,
applied to every trace point before it is sent).
"""

import logging
import socket

from oslo_config import cfg
from osprofiler import initializer, notifier, web

from logsvc.exceptions import ConfigError
from logsvc.profiling import filestore  # noqa: F401 - registers the file:// driver
from logsvc.profiling.scrub import ScrubbingNotifier
from logsvc.redact import secrets_in_conf

#: What osprofiler ships as a default key; never accepted.
_KNOWN_DEFAULT_KEYS = {"SECRET_KEY", ""}


def hmac_keys(conf: cfg.ConfigOpts) -> list[str]:
    return [k.strip() for k in (conf.profiler.hmac_keys or "").split(",") if k.strip()]


def init(conf: cfg.ConfigOpts, service: str) -> bool:
    """Start sending traces where ``connection_string`` says, if enabled.

    Call it once per process (after fork under a pre-forking server).
    """
    if not conf.profiler.enabled:
        web.disable()
        return False
    keys = hmac_keys(conf)
    if not keys or any(k in _KNOWN_DEFAULT_KEYS for k in keys):
        raise ConfigError(
            "[profiler] enabled needs hmac_keys: secret keys of your own "
            "(osprofiler's default SECRET_KEY is refused)"
        )
    if not conf.profiler.connection_string:
        raise ConfigError("[profiler] enabled needs a connection_string (redis:// or file://)")
    # osprofiler logs the connection string at INFO, password included
    logging.getLogger("osprofiler.notifier").setLevel(logging.WARNING)
    initializer.init_from_conf(
        conf=conf, context={}, project="logsvc", service=service, host=socket.gethostname()
    )
    notifier.set(ScrubbingNotifier(notifier.get(), secrets_in_conf(conf)))
    return True


def trace_sql(engine) -> None:
    """Trace `engine`'s statements, without their parameters (see logsvc.profiling.sql)."""
    from logsvc.profiling import sql

    sql.trace_sql(engine)


def middleware(app, conf: cfg.ConfigOpts):
    """Wrap a WSGI callable so that signed trace headers start a trace."""
    return web.WsgiMiddleware(
        app, hmac_keys=",".join(hmac_keys(conf)), enabled=conf.profiler.enabled
    )
