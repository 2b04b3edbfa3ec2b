"""Every option of the API, one leaf module per group (as Nova's nova/conf/).

``[api]`` (api.py), ``[database]`` (database.py), ``[agent]`` (agent.py),
``[oslo_policy]`` (oslo_policy.py), ``[storage] project_url`` (storage.py: the
API's own option of a shared group), and the groups shared with the agent
(logsvc/conf/: ``[storage]`` and ``[swift]``, the object store the agents
publish into, which the read route reads; ``[status]`` on port 1816,
``[profiler]``, ``[oslo_reports]``; oslo.messaging's when a broker is named:
logsvc/conf/messaging.py). These modules import oslo.config and what their options
need, never the code that reads the options: any module may import them.
"""

from oslo_config import cfg

from api.conf import agent, api, database, oslo_policy
from api.conf import storage as project_storage
from logsvc.conf import oslo_reports, profiler, status, storage, swift


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option of the API in `conf`."""
    for group in (api, database, agent, storage, project_storage, swift, profiler):
        group.register_opts(conf)
    status.register_opts(conf, status.API_STATUS_PORT)
    oslo_policy.register_opts(conf)
    oslo_reports.register_opts(conf)


def list_opts() -> list[tuple[str | cfg.OptGroup | None, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point ``logsvc.api``.

    oslo.policy's, oslo.reports' and oslo.messaging's options are in their own
    namespaces.
    """
    return [
        *api.list_opts(),
        *database.list_opts(),
        *agent.list_opts(),
        *storage.list_opts(),
        *project_storage.list_opts(),
        *swift.list_opts(),
        *status.list_opts(status.API_STATUS_PORT),
        *profiler.list_opts(),
    ]
