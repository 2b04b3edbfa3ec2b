"""Every option of the guest agent, for registration and oslo-config-generator."""

from oslo_config import cfg

from guestagent import manager, publisher, service
from guestagent.datastores import base as datastore_base
from guestagent.datastores import file as file_datastore
from guestagent.datastores import mysql, postgresql
from logsvc import gmr, profiling, status, storage


def register_opts(conf: cfg.ConfigOpts) -> None:
    publisher.register_opts(conf)
    manager.register_opts(conf)
    service.register_opts(conf)
    datastore_base.register_opts(conf)
    file_datastore.register_opts(conf)
    mysql.register_opts(conf)
    postgresql.register_opts(conf)
    storage.register_opts(conf)
    status.register_opts(conf, status.AGENT_STATUS_PORT)
    gmr.register_opts(conf)
    profiling.register_opts(conf)


def list_opts() -> list[tuple[str | cfg.OptGroup | None, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point ``logsvc.guestagent``."""
    return [
        ("DEFAULT", publisher.publish_opts + manager.exposure_opts + datastore_base.datastore_opts),
        (manager.agent_group, manager.agent_opts + service.service_opts),
        (file_datastore.file_datastore_group, file_datastore.file_datastore_opts),
        (mysql.mysql_group, mysql.mysql_opts),
        (postgresql.postgresql_group, postgresql.postgresql_opts),
        *storage.list_opts(),
        *status.list_opts(status.AGENT_STATUS_PORT),
        *profiling.list_opts(),
    ]
