"""The ``[status]`` options of a daemon's status report.

Each daemon serves its report on its own port, so the default port is a
parameter: the guest agent takes Ganeti's 1815 (it is the node-local
daemon, as mond is), the API 1816. Both daemons may share a machine.
"""

from oslo_config import cfg, types

#: Default status port of the guest agent (Ganeti's monitoring daemon's).
AGENT_STATUS_PORT = 1815
#: Default status port of the REST API.
API_STATUS_PORT = 1816

STATUS_GROUP = "status"


def status_group() -> cfg.OptGroup:
    """A new ``[status]`` group.

    New at every call: a registered OptGroup keeps the overrides of the
    ConfigOpts it was registered in, and ConfigOpts copies it only
    shallowly, so one shared group would carry overrides from one
    configuration object into the next.
    """
    return cfg.OptGroup(
        STATUS_GROUP,
        title="Status report",
        help="A read-only HTTP report of the daemon's health, with the API of Ganeti's "
        "monitoring daemon: GET / , /1/list/collectors, /1/report/all, "
        "/1/report/<category>[/<collector>].",
    )


def status_opts(default_port: int = AGENT_STATUS_PORT) -> list[cfg.Opt]:
    """The options of ``[status]``, with `default_port` as the port's default."""
    return [
        cfg.BoolOpt(
            "enabled",
            default=True,
            help="Serve the status report. It never changes anything and holds no secret.",
        ),
        cfg.HostAddressOpt(
            "bind_host",
            default="127.0.0.1",
            help="Address the status report listens on. It has no authentication: keep it "
            "on loopback, or on an address that only monitoring can reach.",
        ),
        cfg.PortOpt(
            "bind_port",
            default=default_port,
            help="TCP port of the status report (the guest agent's default is 1815, "
            "Ganeti's monitoring daemon's; the API's is 1816).",
        ),
        cfg.StrOpt(
            "plugin_dir",
            help="Directory of status plugins: executables (run without a shell; their "
            "output is the report), *.json and *.txt files (read), *.sock unix sockets "
            "(read until closed). Subdirectories named instance, storage, daemon or "
            "hypervisor hold plugins of that category. Unset: no plugins.",
        ),
        cfg.FloatOpt(
            "plugin_timeout",
            default=5.0,
            min=0.1,
            max=600.0,
            help="Seconds a plugin may take; a script still running then is killed, "
            "with its children, and reported with status 2 (unknown).",
        ),
        cfg.FloatOpt(
            "plugin_interval",
            default=60.0,
            min=1.0,
            max=86400.0,
            help="Seconds between two runs of each plugin.",
        ),
        cfg.FloatOpt(
            "daemon_interval",
            default=10.0,
            min=1.0,
            max=86400.0,
            help="Seconds between two refreshes of the daemon's own figures.",
        ),
        cfg.FloatOpt(
            "node_interval",
            default=30.0,
            min=1.0,
            max=86400.0,
            help="Seconds between two refreshes of the node's OS figures.",
        ),
        cfg.FloatOpt(
            "storage_interval",
            default=60.0,
            min=1.0,
            max=86400.0,
            help="Seconds between two checks of the object store and of free disk space.",
        ),
        cfg.Opt(
            "collector_intervals",
            type=types.Dict(value_type=types.Float(min=1.0, max=86400.0)),
            default={},
            help="Seconds between two refreshes of named collectors, overriding the "
            "options above and the daemon's defaults, e.g. 'node:120,raid-check.sh:300'.",
        ),
        cfg.ListOpt(
            "watched_directories",
            default=[],
            help="Directories whose free space the storage collector reports, besides "
            "those the daemon watches itself (its state and log directories).",
        ),
        cfg.FloatOpt(
            "free_space_warning_percent",
            default=10.0,
            min=0.0,
            max=100.0,
            help="A watched directory's filesystem with less free space than this "
            "(percent) is reported with status 1.",
        ),
        cfg.FloatOpt(
            "free_space_critical_percent",
            default=5.0,
            min=0.0,
            max=100.0,
            help="A watched directory's filesystem with less free space than this "
            "(percent) is reported with status 4. At most free_space_warning_percent.",
        ),
    ]


def register_opts(conf: cfg.ConfigOpts, default_port: int = AGENT_STATUS_PORT) -> None:
    """Register ``[status]`` in `conf`; the agent keeps the default port, the API passes 1816."""
    group = status_group()
    conf.register_group(group)
    conf.register_opts(status_opts(default_port), group)


def list_opts(
    default_port: int = AGENT_STATUS_PORT,
) -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """``[status]`` for oslo-config-generator, with the daemon's default port."""
    return [(status_group(), status_opts(default_port))]
