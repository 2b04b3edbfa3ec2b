"""The option groups that both daemons share, one leaf module per group.

``[storage]`` and ``[swift]`` (storage.py, swift.py), ``[status]``
(status.py, with each daemon's default port), ``[profiler]`` (profiler.py)
and ``[oslo_reports]`` (oslo_reports.py). Each imports only oslo.config and
what its options need; the daemons' own lists (api/conf, guestagent/conf)
gather them, and code that reads an option never imports these modules.
"""

from typing import Any

from oslo_config import cfg


def config_args(conf: cfg.ConfigOpts) -> list[str]:
    """The command-line arguments that give another process the same configuration
    files and directories as `conf` (the API's processes beside gunicorn)."""
    args: list[str] = []
    for path in conf.config_file or []:
        args += ["--config-file", path]
    for path in conf.config_dir or []:
        args += ["--config-dir", path]
    return args


def registered_opts(conf: cfg.ConfigOpts) -> list[tuple[str | None, cfg.Opt]]:
    """Every option `conf` has registered, ours and the libraries', with its group.

    oslo.config has no public walk of its registered options; this is the one
    oslo.reports' Configuration section does, kept in one place. Sub-command
    options (positional command lines) are left out: they hold no setting.
    """
    places: list[tuple[str | None, dict[str, Any]]] = [(None, getattr(conf, "_opts", {}))]
    places += [(name, getattr(group, "_opts", {})) for name, group in conf._groups.items()]
    return [
        (group_name, info["opt"])
        for group_name, opts in places
        for info in opts.values()
        if info.get("opt") is not None and not isinstance(info["opt"], cfg.SubCommandOpt)
    ]
