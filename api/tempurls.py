"""A log's objects as Swift temp URLs, so that its bytes need not flow through the API.

``GET /v1/instance/<id>/log/<name>/objects`` answers the log's objects in log
order, each with where its bytes sit (``offset`` in its generation's file,
``start``/``end`` in the published log, the bytes ``log-save`` writes), its
line count (``X-Object-Meta-Lines``, asked of Swift unless the caller passes
``line_counts=false``) and a GET URL signed with ``[api] temp_url_key`` by
Swift's tempurl scheme, valid for ``[api] temp_url_ttl`` seconds; the
metafile's URL too, and the gaps (bytes expired). A URL signed for GET also
serves HEAD. Only with ``[storage] backend = swift`` and a temp-URL key: else
501 ``temp_urls_unavailable``.

Who may: ``logsvc:log:read`` (owner or admin); a log the agent does not
expose is listed for admins only (the agent answers 404 to the others), an
instance the caller may not see is 404, as everywhere. The log's container
and prefix come from the agent (a show), or its last known state when the
agent is out of reach.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session
from swiftclient.utils import generate_temp_url

from api import callerstore, instances, logs, policies
from api.auth import Caller
from logsvc.client.listing import Gap, LogObject, take_snapshot
from logsvc.client.published import PublishedLog, object_lines
from logsvc.exceptions import ObjectNotFound, TempUrlsUnavailable

if TYPE_CHECKING:
    from api.state import ApiState
    from logsvc.storage.swift import SwiftStore

#: Line counts asked of Swift at once (one HEAD per object).
_HEADS_AT_ONCE = 8


def object_list(
    session: Session,
    state: "ApiState",
    caller: Caller,
    instance_id: str,
    name: str,
    line_counts: bool = True,
) -> dict[str, Any]:
    """The answer of the objects route: objects, gaps, metafile, each URL signed."""
    instance = instances.find(session, state.enforcer, caller, instance_id)
    policies.authorize(state.enforcer, caller, policies.LOG_READ, instance.tenant_id)
    admin = policies.allowed(state.enforcer, caller, policies.LOG_UNEXPOSED, instance.tenant_id)
    store = swift_store(state)
    agent = logs.agent_for(state, instance)
    silence = state.conf.api.agent_silence_warning
    view, _stale = logs.show_log(session, instance, agent, name, admin, silence)
    ttl = state.conf.api.temp_url_ttl
    expires = int(time.time()) + ttl
    answer: dict[str, Any] = {
        "instance_id": instance.id,
        "log": view.name,
        "container": view.container,
        "prefix": view.prefix,
        "size": 0,
        "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "objects": [],
        "gaps": [],
        "metafile": None,
    }
    if not view.container or not view.prefix:
        return answer  # nothing published
    snap = take_snapshot(store, view.container, view.prefix, view.metafile or "")
    layout = PublishedLog.of(snap)  # the positions the read route serves, too
    sign = _signer(store.account_url(), state.conf.api.temp_url_key, expires)
    counts: list[int | None] = [None] * len(layout.objects)
    if line_counts and layout.objects:
        with ThreadPoolExecutor(min(_HEADS_AT_ONCE, len(layout.objects))) as pool:
            counts = list(pool.map(lambda p: _lines(store, view.container, p.obj), layout.objects))
    for placed, lines in zip(layout.objects, counts, strict=True):
        obj = placed.obj
        answer["objects"].append(
            {
                "name": obj.name,
                "generation": obj.generation,
                "offset": obj.offset,
                "size": obj.size,
                "start": placed.start,
                "end": placed.end,
                "lines": lines,
                "url": sign(view.container, obj.name),
            }
        )
    answer["size"] = layout.size
    answer["gaps"] = [_gap(g) for g in layout.gaps]
    if view.metafile and snap.figures is not None:
        answer["metafile"] = {"name": view.metafile, "url": sign(view.container, view.metafile)}
    return answer


def swift_store(state: "ApiState") -> "SwiftStore":
    """The API's Swift, when it may hand out temp URLs; TempUrlsUnavailable otherwise."""
    conf = state.conf
    callerstore.refuse_temp_urls(conf)
    if conf.storage.backend != "swift" or not conf.api.temp_url_key:
        raise TempUrlsUnavailable(
            "this deployment hands out no temp URLs (they need [storage] backend = swift "
            "and [api] temp_url_key); read the log with object-store credentials"
        )
    return state.object_store()  # type: ignore[return-value]


def _signer(account_url: str, key: str, expires: int):
    parts = urlsplit(account_url)
    base = f"{parts.scheme}://{parts.netloc}"
    account_path = parts.path.rstrip("/")

    def sign(container: str, name: str) -> str:
        # Swift checks the signature against the path as decoded: sign it raw, send it quoted.
        path = f"{account_path}/{container}/{name}"
        signed = generate_temp_url(path, expires, key, "GET", absolute=True)
        query = signed[len(path) :]
        return base + quote(path) + query

    return sign


def _lines(store: "SwiftStore", container: str, obj: LogObject) -> int | None:
    try:
        return object_lines(store, container, obj)
    except ObjectNotFound:
        return None  # expired since the listing: the client finds it gone


def _gap(gap: Gap) -> dict[str, Any]:
    return {"generation": gap.generation, "start": gap.start, "end": gap.end, "size": gap.size}
