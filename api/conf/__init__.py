"""Every option of the API, one leaf module per group (as Nova's nova/conf/).

``[api]`` (api.py), ``[database]`` (database.py), ``[agent]`` (agent.py),
``[oslo_policy]`` (oslo_policy.py), and the groups shared with the agent
(logsvc/conf/: ``[status]`` on port 1816, ``[profiler]``,
``[oslo_reports]``). These modules import oslo.config and what their options
need, never the code that reads the options: any module may import them.
"""

from oslo_config import cfg

from api.conf import agent, api, database, oslo_policy
from logsvc.conf import oslo_reports, profiler, status


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option of the API in `conf`."""
    for group in (api, database, agent, profiler):
        group.register_opts(conf)
    status.register_opts(conf, status.API_STATUS_PORT)
    oslo_policy.register_opts(conf)
    oslo_reports.register_opts(conf)


def list_opts() -> list[tuple[str | cfg.OptGroup | None, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point ``logsvc.api``.

    oslo.policy's and oslo.reports' options are in their own namespaces.
    """
    return [
        *api.list_opts(),
        *database.list_opts(),
        *agent.list_opts(),
        *status.list_opts(status.API_STATUS_PORT),
        *profiler.list_opts(),
    ]
