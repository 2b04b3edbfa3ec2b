"""Guru Meditation Reports (oslo.reports) for logsvc's daemons.

``kill -USR1 <pid>`` prints a report to the daemon's stderr, or writes it to
``[oslo_reports] log_dir``: Package, Threads, Processes, Configuration and the
daemon's own sections. Where a WSGI server owns the signals,
``[oslo_reports] file_event_handler`` names a file whose modification
triggers a report too (oslo.reports watches it); SIGUSR1 keeps working
beside it, since an unhandled SIGUSR1 would kill the daemon.

No secret in a report: oslo.reports prints the options marked secret as
``***``; on top of that the whole text is masked before it is written, for
the values of those options wherever they appear (the password of a
database URL quoted in an error, say) and for the password of any URL
(``scheme://user:password@host``), whether its option is marked secret or
not.

A section of ours that fails shows its error in its place; oslo.reports would
otherwise lose the whole report.
"""

import logging
import signal
from collections.abc import Callable

from oslo_config import cfg
from oslo_reports import guru_meditation_report as gmr

import logsvc
from logsvc.redact import Redactor, secrets_in_conf

LOG = logging.getLogger(__name__)


class VersionInfo:
    """What oslo.reports' Package section asks of a version object."""

    def vendor_string(self) -> str:
        return "logsvc"

    def product_string(self) -> str:
        return "logsvc"

    def version_string_with_package(self) -> str:
        return logsvc.__version__


def guarded(title: str, generator: Callable[[], object]) -> Callable[[], object]:
    """`generator`, but an exception becomes the section's text."""

    def section() -> object:
        try:
            return generator()
        except Exception as exc:  # any failure: the rest of the report must survive
            LOG.warning("Guru Meditation section %r failed: %s", title, exc)
            return f"(this section failed: {type(exc).__name__}: {exc})"

    return section


def report_class(conf: cfg.ConfigOpts) -> type[gmr.TextGuruMeditation]:
    """oslo.reports' text report, with every secret of `conf` masked in the whole text.

    A class of its own (with its own sections), so that nothing is added to
    oslo.reports' class for every other user of it in the process.
    """

    class MaskedGuruMeditation(gmr.TextGuruMeditation):
        persistent_sections: list = []  # its own: not oslo.reports' class's

        def add_section(self, heading, generator, index=None) -> None:  # type: ignore[no-untyped-def]
            # Every section guarded, oslo.reports' own too: its Processes section
            # raised, and the whole report was lost, when a child of the process
            # ended while it was being read (psutil.ZombieProcess; CI saw it).
            super().add_section(heading, guarded(str(heading), generator), index)

        def run(self) -> str:
            # The secrets as they are now: read at each report, not at start-up.
            return Redactor(secrets_in_conf(conf)).text(super().run())

    return MaskedGuruMeditation


def setup(
    conf: cfg.ConfigOpts,
    service_name: str,
    sections: dict[str, Callable[[], object]] | None = None,
    watch_file: bool = True,
) -> str:
    """Arm the report for this process; returns how it is triggered, for the log.

    SIGUSR1 as the Guru Meditation spec documents it, and also changes to
    ``[oslo_reports] file_event_handler`` when that is set (oslo.reports
    alone would then leave SIGUSR1 unhandled, and the signal would kill the
    process). Call it in the process that serves, after any fork: the
    signal handler is the process's, the file watcher a thread of its own.
    A process that forks (the gunicorn master) passes ``watch_file=False``:
    a fork while the watcher's thread holds a lock leaves it held in the
    child. A handler SIGUSR1 had (gunicorn's: reopen the log files, and in
    the master pass the signal on to the workers) still runs after the
    report. The Configuration section shows the options of oslo.config's
    global CONF (the daemons' configuration).
    """
    report = report_class(conf)
    for title, generator in (sections or {}).items():
        report.register_section(title, generator)  # guarded, as every section
    version = VersionInfo()
    log_dir = conf.oslo_reports.log_dir
    before = signal.getsignal(signal.SIGUSR1)

    def on_sigusr1(signum: int, frame: object) -> None:
        report.handle_signal(version, service_name, log_dir, frame)
        if callable(before):
            before(signum, frame)

    signal.signal(signal.SIGUSR1, on_sigusr1)
    trigger_file = conf.oslo_reports.file_event_handler
    if trigger_file and watch_file:
        # Without signum, setup_autorun watches the file (and would arm SIGUSR2 without it).
        report.setup_autorun(version, service_name=service_name, conf=conf)
        return f"SIGUSR1 and changes to {trigger_file}"
    return "SIGUSR1"
