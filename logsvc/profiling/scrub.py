"""What a trace point may hold: no SQL parameter, no error text of the database, no secret.

osprofiler's own SQL tracing records every statement with its parameters,
and its error hook the database's message; both carry data (an instance's
agent secret on registration, token hashes on every authenticated request,
key values in a duplicate-key error). logsvc records SQL with its own hooks
(`logsvc.profiling.sql`), and every trace point passes through `scrub`
before it leaves the process, so that a hook of someone else's, or a
secret in a URL or a query string, is caught too. Traces read back are
scrubbed again before they are shown (they may come from an older logsvc,
or from another tool writing into the same store).
"""

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from logsvc.redact import MASK, Redactor

#: What a ``db`` trace point keeps: the statement (placeholders, never values).
_DB_KEPT = ("statement",)
#: Query parameters whose values are credentials (Swift temp URLs, tokens, ...).
_SECRET_QUERY_WORDS = ("sig", "signature", "token", "key", "password", "secret", "auth")


def scrub(payload: Any, redactor: Redactor | None = None) -> Any:
    """A copy of a trace point (or any part of one) that is safe to keep and show."""
    return (redactor or Redactor()).value(_scrubbed(payload))


def _scrubbed(value: Any) -> Any:
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "db" and isinstance(item, dict):
            out[key] = {k: v for k, v in item.items() if k in _DB_KEPT}
        elif key == "message" and isinstance(value.get("db"), dict):
            # the database's error text quotes values ("Key (id)=(...) already exists")
            continue
        elif key == "query" and isinstance(item, str | bytes):
            out[key] = _masked_query(item.decode("latin-1") if isinstance(item, bytes) else item)
        else:
            out[key] = _scrubbed(item)
    return out


def _masked_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret_name(name) for name, _ in pairs):
        return query
    return urlencode([(n, MASK if _secret_name(n) else v) for n, v in pairs], safe="*")


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_QUERY_WORDS)


class ScrubbingNotifier:
    """osprofiler's notifier, fed only scrubbed trace points."""

    def __init__(self, notify: Callable[..., None], secrets: Iterable[str] = ()):
        self._notify = notify
        self._redactor = Redactor(secrets)

    def __call__(self, info: dict[str, Any], **kwargs: Any) -> None:
        self._notify(scrub(info, self._redactor), **kwargs)
