"""``[storage]``: where published logs are stored (the backend, and the file backend's root)."""

from oslo_config import cfg

storage_group = cfg.OptGroup("storage", title="Object storage")
storage_opts = [
    cfg.StrOpt(
        "backend",
        default="file",
        choices=[
            ("swift", "OpenStack Swift, configured in [swift]"),
            ("file", "a local directory tree (file_root); the embedded default"),
        ],
        help="Where published logs are stored.",
    ),
    cfg.StrOpt(
        "file_root",
        default="/var/lib/logsvc/objects",
        help="Root directory of the file backend: <file_root>/<container>/<object>.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(storage_group)
    conf.register_opts(storage_opts, storage_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(storage_group, storage_opts)]
