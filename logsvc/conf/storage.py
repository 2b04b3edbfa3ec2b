"""``[storage]``: where published logs are stored (the backend, the file backend's root,
and whose account: the service's, or each project's own).

The agent publishes into it; the API reads from it (its read route), so
both name the same store, and the same ``account``.
"""

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
        help="Where published logs are stored (the agent writes there, the API reads "
        "there for its read route: both name the same store).",
    ),
    cfg.StrOpt(
        "file_root",
        default="/var/lib/logsvc/objects",
        help="Root directory of the file backend: <file_root>/<container>/<object>.",
    ),
    cfg.StrOpt(
        "account",
        default="service",
        choices=[
            ("service", "the Swift account of [swift]'s credentials, for every project"),
            (
                "project",
                "each project's own Swift account (the Trove model): the API hands the "
                "caller's Keystone token and their project's object-store endpoint to the "
                "agent with each publish and discard, for that action only",
            ),
        ],
        help="Whose Swift account the logs are published into. project needs [storage] "
        "backend = swift and, on the API, [api] auth_strategy = keystone; set it alike on "
        "the API and on its agents (an agent refuses an action that does not match). "
        "With project, continuous publishing (follow) is refused: the agent holds no "
        "token between actions. See docs/deployment.md.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(storage_group)
    conf.register_opts(storage_opts, storage_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(storage_group, storage_opts)]
