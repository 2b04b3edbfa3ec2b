"""``logsvc-guestagent``: the agent daemon, and one-shot commands.

    logsvc-guestagent --config-file F [serve]       # the daemon (the default)
    logsvc-guestagent --config-file F list
    logsvc-guestagent --config-file F show|publish|discard|enable|disable LOG
    logsvc-guestagent --config-file F publish LOG [--discard] [--disable]

Each prints the result as JSON (the API's shapes: ``{"logs": [...]}`` or
``{"log": {...}}``) and exits 0, or prints one line on stderr and exits 1
(2 for a configuration error). One-shot commands act as an admin: an
operator on the instance sees every log.
"""

import json
import logging
import sys

from oslo_config import cfg
from oslo_log import log as oslo_logging

import logsvc
from guestagent import conf as agent_conf
from guestagent import service
from guestagent.manager import PROJECT, LogManager
from logsvc import configcheck, logescape
from logsvc.conf import messaging
from logsvc.exceptions import ConfigError, LogsvcError
from logsvc.storage import store_from_conf

LOG = logging.getLogger(__name__)
PROG = "logsvc-guestagent"

_LOG_COMMANDS = ("show", "publish", "discard", "enable", "disable")
COMMANDS = ("serve", "list", *_LOG_COMMANDS)

# Plain positional options rather than oslo.config's SubCommandOpt: the value
# of a SubCommandOpt cannot be copied, which breaks the Guru Meditation
# Report's Configuration section.
cli_opts = [
    cfg.StrOpt(
        "command",
        positional=True,
        required=False,
        default="serve",
        choices=COMMANDS,
        help="serve (the daemon, the default), list, or an action on one log: "
        + ", ".join(_LOG_COMMANDS),
    ),
    cfg.StrOpt("log", positional=True, required=False, help="the log's name (see 'list')"),
    cfg.BoolOpt("discard", default=False, help="publish: discard what was published first"),
    cfg.BoolOpt("disable", default=False, help="publish: disable the log afterwards"),
]


def parse_args(argv: list[str] | None, conf: cfg.ConfigOpts) -> None:
    agent_conf.register_opts(conf)
    # The agent's log is the published log `guest`: swiftclient's line for each
    # request would make every publish write more to publish.
    oslo_logging.set_defaults(
        default_log_levels=[*oslo_logging.get_default_log_levels(), "swiftclient=WARN"]
    )
    oslo_logging.register_options(conf)
    conf.register_cli_opts(cli_opts)
    configcheck.parse(conf, argv, PROG)
    messaging.register_if_named(conf)
    if conf.command in _LOG_COMMANDS and not conf.log:
        raise cfg.Error(f"{conf.command} needs the name of a log")
    if conf.command not in _LOG_COMMANDS and conf.log:
        raise cfg.Error(f"{conf.command} takes no log name")
    if (conf.discard or conf.disable) and conf.command != "publish":
        raise cfg.Error("--discard and --disable go with publish")


def run_command(conf: cfg.ConfigOpts) -> dict:
    """Do the one-shot command that `conf` holds; its JSON answer."""
    # [storage] account = project: no store of the agent's own; a publish or a
    # discard is then refused (only the API's actions carry a caller's token).
    store = store_from_conf(conf) if conf.storage.account != PROJECT else None
    manager = LogManager.from_conf(conf, store)
    if conf.command == "list":
        return {"logs": [v.to_dict() for v in manager.list_logs(admin=True)]}
    if conf.command == "show":
        return {"log": manager.show(conf.log, admin=True).to_dict()}
    flags = {conf.command: True}
    if conf.command == "publish":
        flags.update(discard=conf.discard, disable=conf.disable)
    return {"log": manager.act(conf.log, admin=True, **flags).to_dict()}


def main(argv: list[str] | None = None) -> int:
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
        if conf.command == "serve":
            return service.serve(conf)
        result = run_command(conf)
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc.message}", file=sys.stderr)
        return 2
    except LogsvcError as exc:
        print(f"{PROG}: {exc.message}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
