"""``[storage] account = project``: the caller's own Swift account, from their request.

Under ``[api] auth_strategy = keystone``, keystonemiddleware has validated
the caller's X-Auth-Token and set X-Service-Catalog (the token's catalog, in
its v2 form: ``[{"type", "endpoints": [{"region", "publicURL", ...}]}]``).
The project's storage URL is the object-store endpoint of that catalog, of
``[swift] interface`` in ``[swift] region_name`` (any region when unset), or
``[storage] project_url`` with the caller's project in it. The API hands both
to the agent with each publish and discard (api.logs), and reads the log
with them on its read route (api.logread); it keeps neither.
"""

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oslo_config import cfg

from logsvc.exceptions import BadRequest, ConfigError, InvalidAction, TempUrlsUnavailable
from logsvc.storage import retry_from_conf
from logsvc.storage.caller import CallerStorage

if TYPE_CHECKING:
    from logsvc.storage.swift import SwiftStore

PROJECT = "project"


def per_project(conf: cfg.ConfigOpts) -> bool:
    """Whether logs go into each project's own account."""
    return conf.storage.account == PROJECT


def check_conf(conf: cfg.ConfigOpts) -> None:
    """ConfigError for ``account = project`` without what it needs."""
    if not per_project(conf):
        return
    if conf.storage.backend != "swift":
        raise ConfigError("[storage] account = project needs [storage] backend = swift")
    if conf.api.auth_strategy != "keystone":
        raise ConfigError(
            "[storage] account = project needs [api] auth_strategy = keystone: the agents "
            "write with the caller's Keystone token"
        )
    url = conf.storage.project_url
    if url and "%(project_id)s" not in url:
        raise ConfigError("[storage] project_url must hold %(project_id)s")


def check_follow(conf: cfg.ConfigOpts, flags: Mapping[str, bool]) -> None:
    """InvalidAction for switching follow on when the agents hold no token between actions."""
    if per_project(conf) and flags.get("follow"):
        raise InvalidAction(
            "continuous publishing (follow) is not available here: logs are published into "
            "each project's own account ([storage] account = project), with the caller's "
            "token, which the agent holds for one action only; publish instead"
        )


def refuse_temp_urls(conf: cfg.ConfigOpts) -> None:
    """TempUrlsUnavailable with account = project: the API holds no project's temp-URL key."""
    if per_project(conf):
        raise TempUrlsUnavailable(
            "temp URLs are not offered: the logs are in your project's own Swift account "
            "([storage] account = project); read them with your own Swift credentials, or "
            "through the read route (GET /v1/instance/<id>/log/<name>/data)"
        )


def for_request(
    conf: cfg.ConfigOpts, headers: Mapping[str, str], caller_project: str, tenant_id: str
) -> CallerStorage:
    """The caller's token and the storage URL of the instance's project (`tenant_id`).

    BadRequest when the request has no token, or the token's catalog no
    object store. An admin acting on another project's instance writes into
    that project's account (the catalog's URL ends with the caller's project
    id, which is swapped for the instance's): Swift decides whether the
    admin's token may.
    """
    token = headers.get("X-Auth-Token", "")
    if not token:
        raise BadRequest(
            "[storage] account = project: publishing, discarding and reading need your "
            "Keystone token in X-Auth-Token (the web console keeps none: use the CLI or the API)"
        )
    if conf.storage.project_url:
        url = conf.storage.project_url.replace("%(project_id)s", tenant_id)
    else:
        url = _catalog_url(
            headers.get("X-Service-Catalog"), conf.swift.interface, conf.swift.region_name
        )
        if caller_project != tenant_id:
            if not url.rstrip("/").endswith(caller_project):
                raise BadRequest(
                    "[storage] account = project: the object-store URL of your catalog does "
                    "not end with your project id, so the account of the instance's project "
                    "cannot be told; act as a member of that project, or set [storage] "
                    "project_url"
                )
            url = url.rstrip("/")[: -len(caller_project)] + tenant_id
    return CallerStorage.from_wire({"url": url, "token": token})


def reader(
    conf: cfg.ConfigOpts, headers: Mapping[str, str], caller_project: str, tenant_id: str
) -> "SwiftStore":
    """A store of the instance's project's account, for one read (close it after)."""
    storage = for_request(conf, headers, caller_project, tenant_id)
    return storage.store(retry_from_conf(conf))


def _catalog_url(raw: str | None, interface: str, region: str | None) -> str:
    try:
        catalog: Any = json.loads(raw or "null")
    except ValueError:
        catalog = None
    if not isinstance(catalog, list):
        raise BadRequest(
            "[storage] account = project: the token's service catalog is missing "
            "(keystonemiddleware's include_service_catalog must stay on)"
        )
    key = f"{interface}URL"
    for service in catalog:
        if not isinstance(service, dict) or service.get("type") != "object-store":
            continue
        for endpoint in service.get("endpoints") or []:
            if not isinstance(endpoint, dict) or not isinstance(endpoint.get(key), str):
                continue
            if region and endpoint.get("region") != region:
                continue
            return endpoint[key]
    where = f" in region {region}" if region else ""
    raise BadRequest(
        f"your token's service catalog has no {interface} object-store endpoint{where}: "
        "logs are published into your project's own Swift account ([storage] account = project)"
    )
