"""Where the CLI's settings come from: flags, then the environment, then a file.

The file (``--config FILE``, ``$LOGSVC_CONFIG``, or ``~/.config/logsvc/logsvc.conf``)
is INI with one section ``[logsvc]`` whose keys are the flags' names with
``_`` for ``-`` (``url``, ``token``, ``file_root``, ``os_auth_url`` ...).
Environment: ``LOGSVC_URL``, ``LOGSVC_TOKEN``, ``LOGSVC_TIMEOUT``,
``LOGSVC_FILE_ROOT``, ``LOGSVC_TRACE_STORE``, and the usual ``OS_*`` for Swift.
"""

import configparser
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from logsvc.exceptions import ConfigError
from logsvc.safetext import printable

DEFAULT_FILE = os.path.join("~", ".config", "logsvc", "logsvc.conf")
#: The longest timeout taken (a day): what is larger is more likely a typo.
MAX_TIMEOUT = 86400.0

#: setting -> (flag destination, environment variables, in order)
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "url": ("url", ("LOGSVC_URL",)),
    "token": ("token", ("LOGSVC_TOKEN",)),
    "timeout": ("timeout", ("LOGSVC_TIMEOUT",)),
    "file_root": ("file_root", ("LOGSVC_FILE_ROOT",)),
    "trace_store": ("trace_store", ("LOGSVC_TRACE_STORE",)),
    "os_auth_url": ("os_auth_url", ("OS_AUTH_URL", "ST_AUTH")),
    "os_auth_version": ("os_auth_version", ("OS_AUTH_VERSION", "OS_IDENTITY_API_VERSION")),
    "os_username": ("os_username", ("OS_USERNAME", "ST_USER")),
    "os_password": ("os_password", ("OS_PASSWORD", "ST_KEY")),
    "os_project_name": ("os_project_name", ("OS_PROJECT_NAME", "OS_TENANT_NAME")),
    "os_user_domain_name": ("os_user_domain_name", ("OS_USER_DOMAIN_NAME",)),
    "os_project_domain_name": ("os_project_domain_name", ("OS_PROJECT_DOMAIN_NAME",)),
    "os_application_credential_id": (
        "os_application_credential_id",
        ("OS_APPLICATION_CREDENTIAL_ID",),
    ),
    "os_application_credential_secret": (
        "os_application_credential_secret",
        ("OS_APPLICATION_CREDENTIAL_SECRET",),
    ),
    "os_region_name": ("os_region_name", ("OS_REGION_NAME",)),
    "os_storage_url": ("os_storage_url", ("OS_STORAGE_URL",)),
    "os_auth_token": ("os_auth_token", ("OS_AUTH_TOKEN",)),
}


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, str]
    #: Where each value came from, as a person gives it: ``--url``, ``$LOGSVC_URL``,
    #: ``url in ~/.config/logsvc/logsvc.conf``.
    origins: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name) or default

    def url(self) -> str | None:
        """The API's URL (``url``), an http:// or https:// one with a host; None if not given."""
        text = self.get("url")
        if text is None:
            return None
        given = f"{self.origins.get('url', 'url')} is '{printable(text, 200)}'"
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - a port out of range raises here
        except ValueError as exc:
            raise ConfigError(f"the API's URL is not well-formed ({exc}): {given}") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"the API's URL must start with http:// or https:// and name a host: {given}"
            )
        return text

    def timeout(self, default: float) -> float:
        """Seconds a call may take in all (``timeout``), or `default`."""
        text = self.get("timeout")
        if text is None:
            return default
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not 0 < seconds <= MAX_TIMEOUT:  # nan too
            raise ConfigError(
                f"the timeout is a number of seconds, above 0 and at most {MAX_TIMEOUT:g}, "
                f"not {printable(text, 40)}"
            )
        return seconds

    def storage(self) -> dict[str, Any]:
        """Arguments of ``logsvc.client.objects.open_store``."""
        v = self.get
        if v("file_root"):
            return {"file_root": v("file_root")}
        if v("os_auth_token") and v("os_storage_url"):
            return {"token": v("os_auth_token"), "storage_url": v("os_storage_url")}
        auth_version = v("os_auth_version") or (
            "1" if "/auth/v1" in (v("os_auth_url") or "") else "3"
        )
        return {
            "auth_url": v("os_auth_url"),
            "auth_version": auth_version.split(".")[0],
            "user": v("os_username"),
            "key": v("os_password"),
            "project_name": v("os_project_name"),
            "user_domain_name": v("os_user_domain_name") or "Default",
            "project_domain_name": v("os_project_domain_name") or "Default",
            "application_credential_id": v("os_application_credential_id"),
            "application_credential_secret": v("os_application_credential_secret"),
            "region_name": v("os_region_name"),
            "storage_url": v("os_storage_url"),
        }


def resolve(options: Any, environ: Mapping[str, str] = os.environ) -> Settings:
    """Each setting from the first of: its flag, its environment variables, the file.

    Each one's origin is kept, for errors that name where a wrong value came from.
    """
    path = getattr(options, "config", None) or environ.get("LOGSVC_CONFIG") or DEFAULT_FILE
    path = os.path.expanduser(path)
    from_file: dict[str, str] = {}
    if os.path.exists(path):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
        if parser.has_section("logsvc"):
            from_file = dict(parser.items("logsvc"))
    elif getattr(options, "config", None):
        raise FileNotFoundError(f"the configuration file {path} does not exist")
    values, origins = {}, {}
    for name, (dest, env_names) in SOURCES.items():
        env = next((e for e in env_names if environ.get(e)), None)
        for value, origin in (
            (getattr(options, dest, None), "--" + dest.replace("_", "-")),
            (environ[env] if env else None, f"${env}"),
            (from_file.get(name), f"{name} in {path}"),
        ):
            if value is not None:
                values[name], origins[name] = value, origin
                break
    return Settings(values, origins)
