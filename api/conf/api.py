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

# How long a publish request waits for the publish: api/logs.py.
publish_opts = [
    cfg.FloatOpt(
        "publish_wait",
        default=10.0,
        min=0.0,
        max=120.0,
        help="Seconds a publish request waits for the publish to end. The agent runs "
        "the publish in a thread of its own and answers within this time (the value "
        "travels in the signed request): the log as published, or 202 with the log's "
        "current state, whose publish.state is running; the instance stays LOGGING "
        "and the agent reports the end in its heartbeats. Keep it well below [agent] "
        "call_timeout: each waiting request holds one of the [api] threads.",
    ),
]

# The log's objects as Swift temp URLs: api/tempurls.py.
temp_url_opts = [
    cfg.StrOpt(
        "temp_url_key",
        secret=True,
        help="The temp-URL key of the Swift account the agents publish into (its "
        "X-Account-Meta-Temp-URL-Key; Swift's tempurl middleware must be in the proxy's "
        "pipeline). Set, with [storage] backend = swift, the API hands out a log's "
        "objects as signed GET URLs (GET /v1/instance/<id>/log/<name>/objects), and "
        "clients read them straight from Swift. Unset, that route answers 501.",
    ),
    cfg.IntOpt(
        "temp_url_ttl",
        default=3600,
        min=1,
        max=7 * 24 * 3600,
        help="Seconds each temp URL stays valid. A client whose URL expired mid-read "
        "asks for the listing again and goes on where it was.",
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
        "instance's agent unreachable. A publish that its agent said runs counts "
        "(task LOGGING) only while the agent was heard from within this time; after "
        "it, the publish's outcome is shown as unknown.",
    ),
]

# The web console (api/console/).
console_opts = [
    cfg.IntOpt(
        "console_session_ttl",
        default=8 * 3600,
        min=60,
        help="Seconds a sign-in to the web console (/console/) lasts; a session "
        "of a Keystone token ends with the token's expiry if that comes first, "
        "a session of an API token as soon as the token is deleted.",
    ),
]

api_opts = (
    server_opts
    + auth_opts
    + app_opts
    + log_list_opts
    + publish_opts
    + temp_url_opts
    + heartbeat_opts
    + status_opts
    + console_opts
)


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(api_opts, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, api_opts)]
