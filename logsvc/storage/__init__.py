"""Object storage: the interface, its backends, and the one the configuration names.

The options, ``[storage]`` and ``[swift]``, are in logsvc/conf/storage.py and
logsvc/conf/swift.py.
"""

from typing import TYPE_CHECKING

from oslo_config import cfg

from logsvc.exceptions import ConfigError
from logsvc.storage.base import ObjectInfo, ObjectStore

if TYPE_CHECKING:
    from logsvc.storage.swift import SwiftRetry


def store_from_conf(conf: cfg.ConfigOpts) -> ObjectStore:
    """The object store that the configuration names."""
    if conf.storage.backend == "file":
        from logsvc.storage.file import FileStore

        return FileStore(conf.storage.file_root)
    from logsvc.storage.swift import SwiftAuth, SwiftStore

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
    return SwiftStore(auth, retry_from_conf(conf))


def retry_from_conf(conf: cfg.ConfigOpts) -> "SwiftRetry":
    """How often and how long Swift's requests are retried (``[swift]``)."""
    from logsvc.storage.swift import SwiftRetry

    s = conf.swift
    return SwiftRetry(s.retries, s.starting_backoff, s.max_backoff, s.timeout)


__all__ = ["ObjectInfo", "ObjectStore", "retry_from_conf", "store_from_conf"]
