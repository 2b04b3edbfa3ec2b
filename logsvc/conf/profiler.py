"""``[profiler]``: osprofiler's own options, with logsvc's defaults and secrets.

Off by default and without a default key (osprofiler ships ``SECRET_KEY``);
``connection_string`` is marked secret, as it can hold a password.
"""

from oslo_config import cfg
from osprofiler import opts as profiler_opts


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """osprofiler's ``[profiler]`` options, with logsvc's defaults and secrets."""
    opts = [
        opt
        for group, group_opts in profiler_opts.list_opts()
        if group == "profiler"
        for opt in group_opts
    ]
    for opt in opts:
        if opt.name in ("connection_string", "hmac_keys"):
            # osprofiler does not mark the connection string secret; it can hold a password
            opt.secret = True
    cfg.set_defaults(opts, enabled=False, hmac_keys="", trace_sqlalchemy=False)
    return [("profiler", opts)]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, opts in list_opts():
        conf.register_opts(opts, group)
