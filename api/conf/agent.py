"""``[agent]`` of the API: how it signs its calls to the guest agents, and waits for them
(api/dispatch.py)."""

from oslo_config import cfg

agent_group = cfg.OptGroup("agent", title="Calls to the guest agents")
agent_opts = [
    cfg.StrOpt(
        "dispatch",
        default="http",
        choices=[
            ("http", "signed HTTP to each instance's agent_url"),
            (
                "rpc",
                "the same signed requests over the message bus ([DEFAULT] transport_url): "
                "the agents connect outward to RabbitMQ, the API needs no route to them",
            ),
        ],
        help="How the API calls the agents. With rpc, each agent serves its instance "
        "on the topic logsvc-guestagent (server: its instance id); the timeouts below "
        "apply alike (an agent that does not take a call within connect_timeout is "
        "unreachable). See docs/deployment.md, 'The message bus'.",
    ),
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
        help="Seconds to wait for an agent to accept a connection (over the bus: to take "
        "the call); beyond, the agent is unreachable (503, and log-list answers from the "
        "last known state).",
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
