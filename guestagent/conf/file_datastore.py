"""``[file_datastore]``: the log files of the 'file' datastore (guestagent/datastores/file.py)."""

from oslo_config import cfg

file_datastore_group = cfg.OptGroup("file_datastore", title="Logs of the 'file' datastore")
file_datastore_opts = [
    cfg.ListOpt(
        "logs",
        default=[],
        item_type=cfg.types.String(),
        help="Log files to offer, each as name:SYS|USER:/absolute/path, for example "
        "app:USER:/var/log/app/app.log. SYS logs are always on; USER logs start "
        "disabled until a user enables or publishes them. Names: lower-case "
        "letters, digits and '_'; 'guest' is the agent's own log.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(file_datastore_group)
    conf.register_opts(file_datastore_opts, file_datastore_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(file_datastore_group, file_datastore_opts)]
