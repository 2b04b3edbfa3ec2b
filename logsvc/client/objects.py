"""The object store a user's client reads logs from, built from what the user holds.

Three ways in: the user's own Swift credentials (tempauth v1, or Keystone v3
with a password or an application credential), a token and storage URL that
the user already has (``openstack token issue``, the catalog), or a local
directory (the file backend, where the agent publishes on one machine).
"""

from logsvc.exceptions import ConfigError
from logsvc.storage.base import ObjectStore
from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore


def open_store(
    *,
    file_root: str | None = None,
    storage_url: str | None = None,
    token: str | None = None,
    auth_url: str | None = None,
    auth_version: str = "3",
    user: str | None = None,
    key: str | None = None,
    project_name: str | None = None,
    user_domain_name: str = "Default",
    project_domain_name: str = "Default",
    application_credential_id: str | None = None,
    application_credential_secret: str | None = None,
    region_name: str | None = None,
    interface: str = "public",
    cacert: str | None = None,
    insecure: bool = False,
    retry: SwiftRetry | None = None,
) -> ObjectStore:
    """An object store from one of: `file_root`; `token` and `storage_url`; credentials.

    With credentials, `storage_url` (when given) replaces the endpoint that
    authentication returns. Raises ConfigError naming what is missing.
    """
    swift_given = any((storage_url, token, auth_url, user, key, application_credential_id))
    if file_root:
        if swift_given:
            raise ConfigError("give either a local directory or Swift settings, not both")
        from logsvc.storage.file import FileStore

        return FileStore(file_root)
    if token:
        if not storage_url:
            raise ConfigError("a token needs the storage URL it is valid for")
        auth = SwiftAuth(storage_url=storage_url, token=token, cacert=cacert, insecure=insecure)
        return SwiftStore(auth, retry)
    if not auth_url:
        raise ConfigError(
            "no object store: give a local directory, a token and storage URL, "
            "or an auth URL with credentials"
        )
    version = str(auth_version)
    if version not in ("1", "3"):
        raise ConfigError(f"auth version {auth_version!r}: 1 or 3")
    has_app_credential = bool(application_credential_id and application_credential_secret)
    if not (user and key) and not (version == "3" and has_app_credential):
        raise ConfigError(
            "Swift credentials need a user and key, or (auth version 3) an "
            "application credential id and secret"
        )
    auth = SwiftAuth(
        auth_url=auth_url,
        auth_version=version,
        user=user,
        key=key,
        project_name=project_name,
        user_domain_name=user_domain_name,
        project_domain_name=project_domain_name,
        region_name=region_name,
        interface=interface,
        application_credential_id=application_credential_id,
        application_credential_secret=application_credential_secret,
        storage_url=storage_url,
        cacert=cacert,
        insecure=insecure,
    )
    return SwiftStore(auth, retry)
