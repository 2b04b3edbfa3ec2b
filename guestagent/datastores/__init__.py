"""Datastores: the logs each kind of database server offers, and their switches."""

from oslo_config import cfg

from guestagent.datastores.base import Datastore
from guestagent.state import StateStore
from logsvc.exceptions import ConfigError


def load(conf: cfg.ConfigOpts, states: StateStore, guest_log: str | None) -> Datastore:
    """The datastore `[agent] datastore` names."""
    kind = conf.agent.datastore
    if kind == "file":
        from guestagent.datastores.file import FileDatastore as cls
    elif kind == "mysql":
        from guestagent.datastores.mysql import MySQLDatastore as cls
    elif kind == "postgresql":
        from guestagent.datastores.postgresql import PostgreSQLDatastore as cls
    else:
        raise ConfigError(f"[agent] datastore {kind!r} is not supported")
    datastore = cls.from_conf(conf, states, guest_log)
    datastore.restart_required = kind in conf.agent.restart_required_datastores
    return datastore
