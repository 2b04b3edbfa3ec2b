"""``[oslo_policy]``: oslo.policy's own options (policy_file ...).

oslo-config-generator lists them from oslo.policy's namespace; this only
registers them. The rules themselves are in api/policies.py.
"""

from oslo_config import cfg
from oslo_policy import opts as policy_opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    policy_opts.set_defaults(conf)
