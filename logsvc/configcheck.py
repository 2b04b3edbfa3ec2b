"""Every option's value checked at start-up, so a bad one is one line on stderr and exit 2.

oslo.config converts a value only when it is first read: a daemon with
``workers = two`` or ``trace_requests = true   # a comment`` (oslo.config has
no inline comments) would start, then die with a traceback that goes to its
log file alone, and systemd would restart it forever (the units stop
restarting on exit status 2 only). Reading every registered option once,
right after parsing, turns any such value into a :class:`ConfigError` that
names the group, the option and the value (masked for a secret option).
"""

import contextlib
import io
import sys
from typing import Any

from oslo_config import cfg

import logsvc
from logsvc.conf import registered_opts
from logsvc.exceptions import ConfigError

_REASON = " is not valid: "


def parse(conf: cfg.ConfigOpts, argv: list[str] | None, prog: str) -> None:
    """Parse `argv` (the command line when None) as logsvc's command `prog` does.

    A bad value of a command-line option in a file raises ConfigError.

    oslo.config checks those values itself, writes a line to stderr and exits
    1 (``argument --debug: Invalid Boolean value: maybe``): that line becomes
    the error's message, and the exit status the caller's 2.
    """
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            conf(
                list(sys.argv[1:] if argv is None else argv),
                project="logsvc",
                prog=prog,
                version=logsvc.__version__,
            )
    except SystemExit as exc:
        if exc.code == 1 and captured.getvalue().strip():
            raise ConfigError(" ".join(captured.getvalue().split())) from None
        sys.stderr.write(captured.getvalue())  # argparse's usage and errors, as they were
        raise
    sys.stderr.write(captured.getvalue())


def check_values(conf: cfg.ConfigOpts) -> None:
    """Read every registered option; the first that does not convert raises ConfigError."""
    for group_name, opt in registered_opts(conf):
        try:
            if group_name is None:
                conf[opt.dest]
            else:
                conf[group_name][opt.dest]
        except (cfg.Error, ValueError) as exc:  # a bad value, a $reference to nothing
            raise ConfigError(_describe(conf, group_name, opt, exc)) from None


def _describe(conf: cfg.ConfigOpts, group_name: str | None, opt: cfg.Opt, exc: Exception) -> str:
    text = str(getattr(exc, "msg", exc))
    reason = text.split(_REASON, 1)[1] if _REASON in text else text
    raw, where = _raw_value(conf, group_name, opt)
    if opt.secret:
        # The reason quotes the value too ("invalid literal ...: 'the value'").
        shown, reason = "(a secret, not shown)", "not a valid value"
    else:
        shown = repr(raw) if raw is not None else "(its value)"
    place = f" in {where}" if where else ""
    line = f"[{group_name or 'DEFAULT'}] {opt.dest} = {shown}{place}: {reason}"
    return " ".join(line.split())  # one line, whatever the value held


def _raw_value(conf: cfg.ConfigOpts, group_name: str | None, opt: cfg.Opt) -> tuple[Any, str]:
    """The value as written, and the file it came from ("" when unknown)."""
    try:
        value, location = opt._get_from_namespace(conf._namespace, group_name)
    except (KeyError, AttributeError, cfg.Error):
        return None, ""
    if isinstance(value, list) and len(value) == 1 and not opt.multi:
        value = value[0]
    return value, getattr(location, "detail", "") or ""
