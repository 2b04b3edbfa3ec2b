"""``[storage]``, the API's own option in it: where each project's account is.

The group's shared options (backend, account) are in logsvc/conf/storage.py;
``project_url`` matters to the API only, which hands the URL to the agents.
"""

from oslo_config import cfg

from logsvc.conf.storage import storage_group

project_opts = [
    cfg.StrOpt(
        "project_url",
        help="With account = project, on the API: the storage URL of a project's account, "
        "%(project_id)s standing for the caller's project (say "
        "https://swift.example.com/v1/AUTH_%(project_id)s), used instead of the "
        "object-store endpoint of the caller's service catalog (for agents that reach "
        "Swift at another address than the catalog's). Unset: the catalog's endpoint of "
        "[swift] interface in [swift] region_name.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(storage_group)
    conf.register_opts(project_opts, storage_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(storage_group, project_opts)]
