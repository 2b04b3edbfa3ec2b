"""Every option of the guest agent, one leaf module per group (as Nova's nova/conf/).

``[DEFAULT] guest_log_*`` (guest_log.py), ``[agent]`` (agent.py), the
datastores' ``[file_datastore]``, ``[mysql]``, ``[postgresql]``, and the
groups shared with the API (logsvc/conf/: ``[storage]``, ``[swift]``,
``[status]`` on port 1815, ``[profiler]``, ``[oslo_reports]``; oslo.messaging's when a
broker is named: logsvc/conf/messaging.py). These modules
import oslo.config and what their options need, never the code that reads
the options: any module may import them.
"""

from oslo_config import cfg

from guestagent.conf import agent, file_datastore, guest_log, mysql, postgresql
from logsvc.conf import oslo_reports, profiler, status, storage, swift

_GROUPS = (guest_log, agent, file_datastore, mysql, postgresql, storage, swift)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option of the guest agent in `conf`."""
    for group in _GROUPS:
        group.register_opts(conf)
    status.register_opts(conf, status.AGENT_STATUS_PORT)
    profiler.register_opts(conf)
    oslo_reports.register_opts(conf)


def list_opts() -> list[tuple[str | cfg.OptGroup | None, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point ``logsvc.guestagent``.

    oslo.reports' and oslo.messaging's options are in their own namespaces.
    """
    return [
        *(item for group in _GROUPS for item in group.list_opts()),
        *status.list_opts(status.AGENT_STATUS_PORT),
        *profiler.list_opts(),
    ]
