"""``[api]``: the API server, who may call it, and how it answers.

In the order of a request's life: where and how the server listens (gunicorn),
who the caller is (the auth strategy), what a request may carry, what
log-list answers from, what heartbeats are accepted, and when the status
report calls an agent silent.
"""

from oslo_config import cfg

from logsvc.conf.deadlines import client_deadline_opts
from logsvc.signing import DEFAULT_MAX_SKEW

GROUP = "api"

# Serving: api/server.py (gunicorn).
server_opts = [
    cfg.HostAddressOpt(
        "bind_host",
        default="127.0.0.1",
        help="Address the API listens on.",
    ),
    cfg.PortOpt("bind_port", default=8779, help="Port the API listens on (Trove's)."),
    cfg.IntOpt(
        "workers",
        default=2,
        min=1,
        help="Worker processes serving requests (each with [api] threads threads).",
    ),
    cfg.IntOpt(
        "threads",
        default=8,
        min=1,
        help="Threads per worker: requests each worker serves at once (a publish "
        "occupies one while the agent works).",
    ),
    cfg.ListOpt(
        "forwarded_allow_ips",
        default=["127.0.0.1", "::1"],
        help="Addresses of the TLS-terminating proxies whose X-Forwarded-Proto and "
        "X-Forwarded-For headers are trusted (gunicorn's forwarded_allow_ips); '*' "
        "trusts every peer, only right when nothing else can reach the API.",
    ),
    *client_deadline_opts(" Each request holds one of the [api] threads while it is read."),
    cfg.URIOpt(
        "public_endpoint",
        schemes=["http", "https"],
        help="Base URL clients reach the API by (https://logs.example.com:8779), for "
        "the links of GET / and of the Trove routes. Unset, the links are relative "
        "(/v1/): a request's Host and X-Forwarded-* headers never make them.",
    ),
    cfg.IntOpt(
        "graceful_timeout",
        default=30,
        min=0,
        help="Seconds a stopping server lets requests in progress finish.",
    ),
]

# Who calls: api/auth.py.
auth_opts = [
    cfg.StrOpt(
        "auth_strategy",
        default="token",
        choices=[
            ("keystone", "keystonemiddleware's auth_token, configured by [keystone_authtoken]"),
            ("token", "tokens made by 'logsvc-manage token create', stored hashed"),
            ("noauth", "development only: trust X-Project-Id and X-Roles as sent"),
        ],
        help="How the API learns who calls it.",
    ),
    cfg.BoolOpt(
        "allow_insecure_noauth",
        default=False,
        help="Let the noauth strategy listen on an address beyond loopback. Anyone "
        "who reaches the port is then whoever they claim to be: never in production.",
    ),
]

# What a request may carry: api/app.py.
app_opts = [
    cfg.IntOpt(
        "max_body_size",
        default=64 * 1024,
        min=1024,
        help="Largest request body accepted, in bytes; larger ones are refused with 413.",
    ),
]

# What log-list answers from: api/logs.py.
log_list_opts = [
    cfg.IntOpt(
        "log_list_max_age",
        default=10,
        min=0,
        help="Seconds for which log-list answers from the last state the agent "
        "reported (heartbeats, lists, actions) instead of asking it again; 0 asks the "
        "agent on every list. Whatever this says, a list answers from the last known "
        "state, marked stale, when the agent cannot be reached.",
    ),
]

# Which heartbeats are accepted: api/heartbeat.py.
heartbeat_opts = [
    cfg.FloatOpt(
        "heartbeat_max_clock_skew",
        default=DEFAULT_MAX_SKEW,
        min=1.0,
        help="Seconds an agent's heartbeat timestamp may differ from this clock; "
        "older or newer heartbeats are refused.",
    ),
]

# When an agent is silent: the status report (api/status_collectors.py).
status_opts = [
    cfg.IntOpt(
        "agent_silence_warning",
        default=90,
        min=1,
        help="Seconds without a heartbeat after which the status report calls an "
        "instance's agent unreachable.",
    ),
]

api_opts = server_opts + auth_opts + app_opts + log_list_opts + heartbeat_opts + status_opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(api_opts, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, api_opts)]
