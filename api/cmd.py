"""``logsvc-api --config-file F``: serve the REST API."""

import ipaddress
import logging
import sys

from oslo_config import cfg
from oslo_log import log as oslo_logging

import logsvc
from api import conf as api_conf
from api import migrate
from api.db import Database
from api.server import ApiServer
from logsvc import bus, configcheck, logescape
from logsvc.conf import messaging
from logsvc.exceptions import ConfigError

LOG = logging.getLogger(__name__)
PROG = "logsvc-api"


def parse_args(argv: list[str] | None, conf: cfg.ConfigOpts) -> None:
    api_conf.register_opts(conf)
    oslo_logging.register_options(conf)
    configcheck.parse(conf, argv, PROG)
    messaging.register_if_named(conf)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(conf: cfg.ConfigOpts) -> None:
    """Refuse to start on a configuration that cannot work or is unsafe."""
    if (
        conf.api.auth_strategy == "noauth"
        and not _loopback(conf.api.bind_host)
        and not conf.api.allow_insecure_noauth
    ):
        raise ConfigError(
            f"[api] auth_strategy = noauth trusts whatever callers claim: it serves only "
            f"on loopback, not on {conf.api.bind_host} (set [api] allow_insecure_noauth "
            "to force it, never in production)"
        )
    if conf.agent.dispatch == "rpc" and not messaging.broker_url(conf):
        raise ConfigError("[agent] dispatch = rpc needs [DEFAULT] transport_url (the broker)")
    if messaging.broker_url(conf):
        absent = bus.check_broker(conf)  # a URL that cannot work: ConfigError
        if absent:
            LOG.error("%s = ...: %s", bus.OPTION, absent)
    database = Database.from_conf(conf)
    try:
        have, want = migrate.current(database.engine), migrate.head()
    except Exception as exc:
        raise ConfigError(
            f"[database] connection: cannot use the database ({str(exc).splitlines()[0]})"
        ) from None
    finally:
        database.dispose()  # the workers open their own, after the fork
    if have != want:
        raise ConfigError(
            f"the database schema is at {have or 'nothing'}, the code needs {want}: run "
            "logsvc-manage --config-file ... db upgrade"
        )


def main(argv: list[str] | None = None, wrap=None) -> int:
    conf = cfg.CONF
    try:
        parse_args(argv, conf)
        configcheck.check_values(conf)
    except (cfg.Error, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc.message}", file=sys.stderr)
        return 2
    oslo_logging.setup(conf, PROG, version=logsvc.__version__)
    logescape.install()  # a request must not write lines of its own into the log
    try:
        check(conf)
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc.message}", file=sys.stderr)
        return 2
    LOG.info(
        "%s %s on %s:%s (%s workers, %s threads each, auth %s)",
        PROG,
        logsvc.__version__,
        conf.api.bind_host,
        conf.api.bind_port,
        conf.api.workers,
        conf.api.threads,
        conf.api.auth_strategy,
    )
    server = ApiServer(conf, wrap=wrap)
    try:
        server.run()
    except SystemExit:  # gunicorn's master ends with sys.exit(0) when it stops
        if not server.failed:
            raise
    return 1 if server.failed else 0


if __name__ == "__main__":
    sys.exit(main())
