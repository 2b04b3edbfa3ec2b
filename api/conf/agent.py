"""``[agent]`` of the API: how it signs its calls to the guest agents, and waits for them
(api/dispatch.py)."""

from oslo_config import cfg

agent_group = cfg.OptGroup("agent", title="Calls to the guest agents")
agent_opts = [
    cfg.StrOpt(
        "shared_secret",
        secret=True,
        help="Secret shared with the agents (their [agent] shared_secret) for "
        "instances registered without a secret of their own: requests to the agents "
        "and their heartbeats are signed with it.",
    ),
    cfg.FloatOpt(
        "connect_timeout",
        default=5.0,
        min=0.1,
        help="Seconds to wait for an agent to accept a connection; beyond, the agent "
        "is unreachable (503, and log-list answers from the last known state).",
    ),
    cfg.FloatOpt(
        "call_timeout",
        default=300.0,
        min=1.0,
        help="Seconds to wait for an agent's answer once connected (a publish of a "
        "large backlog takes a while); beyond, the request answers 504.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(agent_group)
    conf.register_opts(agent_opts, agent_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(agent_group, agent_opts)]
