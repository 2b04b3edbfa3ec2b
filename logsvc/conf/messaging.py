"""oslo.messaging's own options (``[DEFAULT] transport_url``, ``[oslo_messaging_rabbit]``, ...).

Both daemons take the message bus's standard options; oslo-config-generator
lists them from oslo.messaging's namespace. They are registered only when
the configuration names a broker (``[DEFAULT] transport_url``, in a file or
in the environment): importing oslo.messaging costs a daemon about a second
of CPU at start, which a deployment without a bus should not pay. Then they
are read (and checked) at start like every other option.

oslo.messaging's default ``transport_url`` is ``rabbit://`` (a broker on
localhost); logsvc's is none: a daemon uses the bus only when its
configuration names a broker.
"""

from oslo_config import cfg

from logsvc.conf import config_args


def register_opts(conf: cfg.ConfigOpts) -> None:
    """``[DEFAULT] transport_url`` and the rest of oslo.messaging's options."""
    from oslo_messaging import opts as messaging_opts

    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_default("transport_url", None)


def register_if_named(conf: cfg.ConfigOpts) -> bool:
    """After parsing: register oslo.messaging's options when the files name a broker."""
    probe = cfg.ConfigOpts()
    probe.register_opt(cfg.StrOpt("transport_url"))
    probe(config_args(conf), project="logsvc", default_config_files=[], default_config_dirs=[])
    if not probe.transport_url:
        return False
    register_opts(conf)
    return True


def broker_url(conf: cfg.ConfigOpts) -> str | None:
    """``[DEFAULT] transport_url``, or None when the configuration names no broker."""
    return conf.transport_url if "transport_url" in conf else None
