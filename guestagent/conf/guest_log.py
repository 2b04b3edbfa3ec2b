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
        "end; a line longer than this is split. A publish holds about "
        "guest_log_upload_concurrency objects of this size in memory (two with one "
        "upload at a time).",
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
    cfg.IntOpt(
        "guest_log_upload_concurrency",
        default=4,
        help="Uploads a publish keeps in flight at once, from 1 (one after the other) "
        "to 32 (the most the backends take). The objects are still stored in log "
        "order, and listed with last-modified times in log order: each upload starts "
        "once the object store has taken the one before it (Swift: 100 Continue), and "
        "its last bytes go once the one before it is stored. The file backend takes "
        "the uploads in the same order; they gain little there, as each is a local "
        "write.",
    ),
    cfg.IntOpt(
        "guest_log_max_bytes_per_second",
        default=0,
        help="Bytes per second that the uploads of one log may take, evenly: each "
        "upload starts no sooner than the rate allows after the one before it, so "
        "no burst goes past the rate by more than one object. 0: no limit; "
        "otherwise at least one object of guest_log_limit a minute. Both backends "
        "honour it.",
    ),
]

# Continuous publishing of the logs whose follow is on: guestagent/follower.py.
follow_opts = [
    cfg.FloatOpt(
        "guest_log_publish_interval",
        default=1.0,
        help="Seconds within which a log whose follow is on is published after it "
        "grows, and the shortest time between two of its publishes. More than 0.",
    ),
    cfg.FloatOpt(
        "guest_log_object_age",
        default=60.0,
        help="Seconds during which the newest object of a followed log stays open: "
        "each publish rewrites it under its own name with its grown content, until "
        "it reaches guest_log_limit or this age; then the next bytes start a new "
        "object. A followed log thus has at most about one object per this many "
        "seconds plus one per guest_log_limit bytes. Rewriting costs uploads: at a "
        "slow rate about (this age / 2 x guest_log_publish_interval) times the "
        "bytes appended. More than 0.",
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

guest_log_opts = publish_opts + follow_opts + exposure_opts + datastore_opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(guest_log_opts)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("DEFAULT", guest_log_opts)]
