"""``[swift]``: Swift's credentials, TLS and retries (for ``[storage] backend = swift``)."""

from oslo_config import cfg

swift_group = cfg.OptGroup("swift", title="OpenStack Swift credentials and retries")
swift_opts = [
    cfg.URIOpt("auth_url", help="Identity endpoint: tempauth's /auth/v1.0, or Keystone's v3."),
    cfg.StrOpt(
        "auth_version",
        default="3",
        choices=["1", "3"],
        help="1 for Swift's own auth (tempauth, swauth), 3 for Keystone v3.",
    ),
    cfg.StrOpt("user", help="User name (v1: account:user)."),
    cfg.StrOpt("key", secret=True, help="The user's password or key."),
    cfg.StrOpt("project_name", help="Keystone project to scope to (v3)."),
    cfg.StrOpt("user_domain_name", default="Default", help="Domain of the user (v3)."),
    cfg.StrOpt("project_domain_name", default="Default", help="Domain of the project (v3)."),
    cfg.StrOpt("application_credential_id", help="Keystone application credential id (v3)."),
    cfg.StrOpt(
        "application_credential_secret",
        secret=True,
        help="Keystone application credential secret (v3).",
    ),
    cfg.StrOpt("region_name", help="Region of the object-store endpoint in the catalog."),
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Which catalog endpoint of the object store to use.",
    ),
    cfg.StrOpt("cacert", help="CA bundle to verify Swift's and Keystone's TLS certificates."),
    cfg.BoolOpt("insecure", default=False, help="Skip TLS verification (testing only)."),
    cfg.IntOpt(
        "retries",
        default=5,
        min=0,
        max=100,
        help="Retries of a request that failed with a connection error or a 5xx answer.",
    ),
    cfg.FloatOpt(
        "starting_backoff",
        default=1.0,
        min=0.0,
        help="Seconds before the first retry; doubled for each next one.",
    ),
    cfg.FloatOpt("max_backoff", default=32.0, min=0.0, help="Longest wait between retries."),
    cfg.FloatOpt("timeout", default=60.0, min=0.1, help="Socket timeout of one request, seconds."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(swift_group)
    conf.register_opts(swift_opts, swift_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(swift_group, swift_opts)]
