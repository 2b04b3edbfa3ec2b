"""``[DEFAULT] guest_log_*``: the guest-log options Trove's agent has, in Trove's group.

Where published logs go and how (guestagent/publishrun.py), which logs users
may see (guestagent/manager.py), and the datastores' threshold of a slow
statement (guestagent/datastores/).
"""

from oslo_config import cfg

# Publishing: guestagent/publishmodel.py (PublishSettings), read by the run.
publish_opts = [
    cfg.StrOpt(
        "guest_log_container_name",
        default="database_logs",
        help="Container that holds published logs. A pattern: %(instance_id)s, "
        "%(datastore)s and %(log)s are replaced, so one container per instance "
        "or per log is possible.",
    ),
    cfg.IntOpt(
        "guest_log_limit",
        default=1000000,
        min=1,
        max=5 * 1024**3,
        help="Largest object, in bytes, that a publish writes. Objects end at a line "
        "end; a line longer than this is split. A publish holds about two objects "
        "of this size in memory.",
    ),
    cfg.IntOpt(
        "guest_log_expiry",
        default=2592000,
        min=0,
        help="Seconds after which each published object is deleted by the object "
        "store (X-Delete-After); 0 keeps objects until they are discarded.",
    ),
    cfg.StrOpt(
        "guest_log_rotation_policy",
        default="purge",
        choices=[
            (
                "purge",
                "delete what was published of the old file, then publish the new one "
                "(the guest-log specification's behaviour)",
            ),
            (
                "keep",
                "publish the rest of the rotated file, and keep it as history before the new file",
            ),
        ],
        help="What a publish does when it finds the log file rotated.",
    ),
    cfg.FloatOpt(
        "guest_log_lock_timeout",
        default=60.0,
        min=0.0,
        help="Seconds an action waits for another action on the same log to end "
        "before it answers that the log is busy.",
    ),
]

# Which logs users see: guestagent/manager.py.
exposure_opts = [
    cfg.ListOpt(
        "guest_log_exposed_logs",
        default=["ALL"],
        help="Logs that users may see and act on, or ALL. Admins see every log. A USER "
        "log not listed here cannot be enabled by a user.",
    ),
]

# What the datastores log: guestagent/datastores/.
datastore_opts = [
    cfg.IntOpt(
        "guest_log_long_query_time",
        default=1000,
        min=0,
        help="Milliseconds a statement must run to be logged: MySQL's slow_query log "
        "(long_query_time), PostgreSQL's general log (log_min_duration_statement).",
    ),
]

guest_log_opts = publish_opts + exposure_opts + datastore_opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(guest_log_opts)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("DEFAULT", guest_log_opts)]
