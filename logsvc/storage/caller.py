"""A caller's own Swift account, for one action: ``[storage] account = project``.

The API takes the caller's Keystone token and their project's storage URL
(the object-store endpoint of their service catalog) and puts them in the
signed body of a publish or a discard (``{"storage": {"url", "token"}}``);
the agent builds a store of them for that action only. Neither is ever
written to disk or to a log: the token stays out of every ``repr``, the
store describes itself without the URL, and the agent's state records only
`account_id`, a digest of the URL that tells one account from another.
"""

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from logsvc.exceptions import BadRequest

if TYPE_CHECKING:
    from logsvc.storage.swift import SwiftRetry, SwiftStore

#: Longest storage URL and token taken (a Fernet token is about 200 characters,
#: a JWS one about 800).
MAX_URL = 2048
MAX_TOKEN = 8192
#: How the store names itself in errors (never the URL: it names the project).
DESCRIPTION = "the project's Swift account"


@dataclass(frozen=True)
class CallerStorage:
    """The caller's token and storage URL: where one action writes, and with what."""

    url: str
    token: str = field(repr=False)

    def to_wire(self) -> dict[str, str]:
        """The ``storage`` field of the agent's action body."""
        return {"url": self.url, "token": self.token}

    @classmethod
    def from_wire(cls, value: Any) -> "CallerStorage":
        """The ``storage`` field of an action body; BadRequest when it is not one."""
        if not isinstance(value, dict) or set(value) != {"url", "token"}:
            raise BadRequest("storage must be an object with exactly url and token")
        url, token = value["url"], value["token"]
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN or not token.isascii():
            raise BadRequest("storage.token must be a token")
        if not token.isprintable() or " " in token:
            raise BadRequest("storage.token must be a token")
        if not isinstance(url, str) or len(url) > MAX_URL or not _plain_http_url(url):
            raise BadRequest("storage.url must be an http(s) URL without credentials or query")
        return cls(url.rstrip("/"), token)

    @property
    def account_id(self) -> str:
        """What the agent's state records of the account: a digest of its URL."""
        return "project:" + hashlib.sha256(self.url.encode()).hexdigest()[:24]

    def store(self, retry: "SwiftRetry") -> "SwiftStore":
        """A store of the caller's account, for one action (close it after)."""
        from logsvc.storage.swift import SwiftAuth, SwiftStore

        store = SwiftStore(SwiftAuth(storage_url=self.url, token=self.token), retry)
        store.description = DESCRIPTION
        return store


def _plain_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not parts.query
        and not parts.fragment
        and url.isprintable()
        and " " not in url
    )
