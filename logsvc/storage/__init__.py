"""Object storage: the interface, its backends, and their configuration."""

from oslo_config import cfg

from logsvc.exceptions import ConfigError
from logsvc.storage.base import ObjectInfo, ObjectStore

storage_group = cfg.OptGroup("storage", title="Object storage")
storage_opts = [
    cfg.StrOpt(
        "backend",
        default="file",
        choices=[
            ("swift", "OpenStack Swift, configured in [swift]"),
            ("file", "a local directory tree (file_root); the embedded default"),
        ],
        help="Where published logs are stored.",
    ),
    cfg.StrOpt(
        "file_root",
        default="/var/lib/logsvc/objects",
        help="Root directory of the file backend: <file_root>/<container>/<object>.",
    ),
]

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
    conf.register_group(storage_group)
    conf.register_opts(storage_opts, storage_group)
    conf.register_group(swift_group)
    conf.register_opts(swift_opts, swift_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(storage_group, storage_opts), (swift_group, swift_opts)]


def store_from_conf(conf: cfg.ConfigOpts) -> ObjectStore:
    """The object store that the configuration names."""
    if conf.storage.backend == "file":
        from logsvc.storage.file import FileStore

        return FileStore(conf.storage.file_root)
    from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore

    s = conf.swift
    if not s.auth_url:
        raise ConfigError("[storage] backend = swift needs [swift] auth_url")
    if not (s.user and s.key) and not (
        s.auth_version == "3" and s.application_credential_id and s.application_credential_secret
    ):
        raise ConfigError(
            "[swift] needs user and key, or (auth_version 3) application_credential_id "
            "and application_credential_secret"
        )
    auth = SwiftAuth(
        auth_url=s.auth_url,
        auth_version=s.auth_version,
        user=s.user,
        key=s.key,
        project_name=s.project_name,
        user_domain_name=s.user_domain_name,
        project_domain_name=s.project_domain_name,
        region_name=s.region_name,
        interface=s.interface,
        application_credential_id=s.application_credential_id,
        application_credential_secret=s.application_credential_secret,
        cacert=s.cacert,
        insecure=s.insecure,
    )
    retry = SwiftRetry(s.retries, s.starting_backoff, s.max_backoff, s.timeout)
    return SwiftStore(auth, retry)


__all__ = ["ObjectInfo", "ObjectStore", "list_opts", "register_opts", "store_from_conf"]
