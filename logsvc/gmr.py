"""Guru Meditation Reports (oslo.reports) for logsvc's daemons.

``kill -USR1 <pid>`` prints a report to the daemon's stderr, or writes it to
``[oslo_reports] log_dir``: Package, Threads, Processes, Configuration (every
option marked secret masked) and the daemon's own sections. Where a WSGI
server owns the signals, ``[oslo_reports] file_event_handler`` names a file
whose modification triggers a report instead (oslo.reports watches it).

A section of ours that fails shows its error in its place; oslo.reports would
otherwise lose the whole report.
"""

import logging
import signal
from collections.abc import Callable

from oslo_config import cfg
from oslo_reports import guru_meditation_report as gmr
from oslo_reports import opts as gmr_opts

import logsvc

LOG = logging.getLogger(__name__)


class VersionInfo:
    """What oslo.reports' Package section asks of a version object."""

    def vendor_string(self) -> str:
        return "logsvc"

    def product_string(self) -> str:
        return "logsvc"

    def version_string_with_package(self) -> str:
        return logsvc.__version__


def register_opts(conf: cfg.ConfigOpts) -> None:
    """``[oslo_reports] log_dir, file_event_handler, file_event_handler_interval``."""
    gmr_opts.set_defaults(conf)


def guarded(title: str, generator: Callable[[], object]) -> Callable[[], object]:
    """`generator`, but an exception becomes the section's text."""

    def section() -> object:
        try:
            return generator()
        except Exception as exc:  # any failure: the rest of the report must survive
            LOG.warning("Guru Meditation section %r failed: %s", title, exc)
            return f"(this section failed: {type(exc).__name__}: {exc})"

    return section


def setup(
    conf: cfg.ConfigOpts,
    service_name: str,
    sections: dict[str, Callable[[], object]] | None = None,
) -> str:
    """Arm the report for this process; returns how it is triggered, for the log.

    SIGUSR1 as the Guru Meditation spec documents it, unless
    ``[oslo_reports] file_event_handler`` is set (then that file's changes).
    The Configuration section shows the options of oslo.config's global
    CONF (the daemons' configuration), secrets masked.
    """
    gmr.TextGuruMeditation.persistent_sections = []
    for title, generator in (sections or {}).items():
        gmr.TextGuruMeditation.register_section(title, guarded(title, generator))
    trigger_file = conf.oslo_reports.file_event_handler
    if trigger_file:
        gmr.TextGuruMeditation.setup_autorun(VersionInfo(), service_name=service_name, conf=conf)
        return f"changes to {trigger_file}"
    gmr.TextGuruMeditation.setup_autorun(
        VersionInfo(), service_name=service_name, conf=conf, signum=signal.SIGUSR1
    )
    return "SIGUSR1"
