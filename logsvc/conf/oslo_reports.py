"""``[oslo_reports]``: oslo.reports' own options (log_dir, file_event_handler, ...).

oslo-config-generator lists them from oslo.reports' namespace; this only
registers them.
"""

from oslo_config import cfg
from oslo_reports import opts as gmr_opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    """``[oslo_reports] log_dir, file_event_handler, file_event_handler_interval``."""
    gmr_opts.set_defaults(conf)
