"""``[database]``: the API's database (api/db.py)."""

from oslo_config import cfg

database_group = cfg.OptGroup("database", title="The API's database")
database_opts = [
    cfg.StrOpt(
        "connection",
        default="sqlite:////var/lib/logsvc/api.sqlite",
        secret=True,
        help="SQLAlchemy URL of the database, as in every OpenStack service: "
        "sqlite:////path/file.sqlite, postgresql+psycopg://user:password@host/db, "
        "mysql+pymysql://user:password@host/db. Create or migrate the schema with "
        "'logsvc-manage db upgrade'.",
    ),
    cfg.IntOpt(
        "pool_size",
        default=10,
        min=1,
        help="Connections each API process keeps open; under load it opens as many "
        "more. The process that consumes heartbeats from the message bus records at most "
        "twice this many at once (the others wait in the broker's queue).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(database_group)
    conf.register_opts(database_opts, database_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(database_group, database_opts)]
