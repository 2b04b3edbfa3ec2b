"""``[postgresql]``: how the agent reaches the local PostgreSQL server, and where its log is
(guestagent/datastores/postgresql.py)."""

from oslo_config import cfg

postgresql_group = cfg.OptGroup("postgresql", title="The local PostgreSQL server")
postgresql_opts = [
    cfg.StrOpt(
        "host",
        default="127.0.0.1",
        help="Server address, or the directory of its unix socket.",
    ),
    cfg.PortOpt("port", default=5432, help="Server port."),
    cfg.StrOpt("user", default="postgres", help="A superuser account (ALTER SYSTEM)."),
    cfg.StrOpt("password", default="", secret=True, help="That account's password."),
    cfg.StrOpt("dbname", default="postgres", help="Database to connect to."),
    cfg.StrOpt(
        "log_dir",
        default="/var/log/postgresql",
        help="Directory of general.log; the server writes there.",
    ),
    cfg.FloatOpt("connect_timeout", default=5.0, min=1.0, help="Seconds to connect."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(postgresql_group)
    conf.register_opts(postgresql_opts, postgresql_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(postgresql_group, postgresql_opts)]
