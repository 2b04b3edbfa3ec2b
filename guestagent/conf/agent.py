"""``[agent]``: which instance and datastore the agent serves, where it keeps its
state (guestagent/manager.py), and how it serves the API (guestagent/service.py)."""

from oslo_config import cfg

from logsvc.conf.deadlines import client_deadline_opts
from logsvc.signing import DEFAULT_MAX_SKEW

agent_group = cfg.OptGroup("agent", title="The guest agent")

# Who the agent is, and where its state lives: guestagent/manager.py.
instance_opts = [
    cfg.StrOpt(
        "instance_id",
        help="Id of the database instance this agent serves (as the API knows it). "
        "It names the instance's objects: letters, digits, '.', '_', '-'.",
    ),
    cfg.StrOpt(
        "datastore",
        default="file",
        choices=[
            ("mysql", "MySQL or MariaDB: guest, error, general, slow_query"),
            ("postgresql", "PostgreSQL: guest, general"),
            ("file", "log files listed in [file_datastore] logs"),
        ],
        help="Which kind of database server runs on this instance.",
    ),
    cfg.ListOpt(
        "restart_required_datastores",
        default=["postgresql"],
        item_type=cfg.types.String(choices=["postgresql", "file"]),
        help="Datastores whose USER log switches take effect only when the server "
        "restarts: a switched log reports Restart Required until the agent sees the "
        "server started after the switch, then Restart Completed. The file datastore "
        "has no server to ask: a reboot of the instance counts. (MySQL's switches take "
        "effect at once.)",
    ),
    cfg.StrOpt(
        "state_dir",
        default="/var/lib/logsvc/guestagent",
        help="Where the agent records how far each log is published. Keep it on a "
        "persistent disk: it is what lets a publish continue after a restart.",
    ),
]

# How it serves the API and sends it heartbeats: guestagent/service.py.
service_opts = [
    cfg.HostAddressOpt(
        "bind_host",
        default="127.0.0.1",
        help="Address the agent listens on for the API's requests. Set it to the "
        "instance's address on the network the API reaches it by.",
    ),
    cfg.PortOpt("bind_port", default=8780, help="Port the agent listens on."),
    cfg.ListOpt(
        "serve",
        item_type=cfg.types.String(choices=["http", "rpc"]),
        help="Where the agent serves the API's signed requests: http (bind_host, "
        "bind_port), rpc (the message bus of [DEFAULT] transport_url: topic "
        "logsvc-guestagent, server = instance_id; no port listens), or both while a "
        "cloud moves from one to the other. Unset: rpc when transport_url is set, "
        "else http. With transport_url set, heartbeats go over the bus.",
    ),
    cfg.StrOpt(
        "shared_secret",
        secret=True,
        help="Secret shared with the API: every request must be signed with it "
        "(HMAC-SHA256). Required to serve.",
    ),
    cfg.FloatOpt(
        "max_clock_skew",
        default=DEFAULT_MAX_SKEW,
        min=1.0,
        help="Seconds a signed request's timestamp may differ from this clock; "
        "older or newer requests are refused as stale.",
    ),
    cfg.IntOpt(
        "threads",
        default=8,
        min=2,
        max=256,
        help="Requests served at once (a publish occupies one while it runs).",
    ),
    *client_deadline_opts(),
    cfg.URIOpt(
        "api_url",
        help="Base URL of the logsvc API (http://host:8779); when set, the agent "
        "sends it a signed heartbeat with its logs' state.",
    ),
    cfg.FloatOpt(
        "graceful_shutdown_timeout",
        default=30.0,
        min=0.0,
        help="Seconds a stopping agent lets requests in progress, and publishes that "
        "run on after their request was answered, finish. A publish cut short is "
        "safe: the next one continues where it stopped.",
    ),
    cfg.IntOpt(
        "heartbeat_interval",
        default=30,
        min=1,
        help="Seconds between two heartbeats to the API.",
    ),
]

agent_opts = instance_opts + service_opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(agent_group)
    conf.register_opts(agent_opts, agent_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(agent_group, agent_opts)]
