"""Signed requests between the API and the agents.

The API signs every request it sends to an agent (and an agent signs its
heartbeats to the API) with a shared secret: HMAC-SHA256 over the method, the
path with its query, a timestamp, a nonce, the instance the request is about
and the SHA-256 of the body. The receiver refuses a request that is unsigned,
badly signed (a request for another instance included: agents that share a
secret do not accept each other's requests), too old or too new (clock skew),
or seen before (a replay, also across a restart of the receiver when it keeps
a journal of nonces), each with its own error and no detail that would help
an attacker.

The user's credentials never travel to the guest: only this signature does.
The nonce journal is `logsvc.signing.journal`; ``python -m logsvc.signing``
(`logsvc.signing.__main__`) sends one signed request by hand.
"""

import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from logsvc.exceptions import LogsvcError
from logsvc.signing.journal import NonceJournal

LOG = logging.getLogger(__name__)

HEADER_TIMESTAMP = "X-Logsvc-Timestamp"
HEADER_NONCE = "X-Logsvc-Nonce"
HEADER_SIGNATURE = "X-Logsvc-Signature"
DEFAULT_MAX_SKEW = 60.0

# What `sign` sends, and no more: plain ASCII digits for the timestamp (so no
# "nan", "inf" or "1e400", which would make the accepted window endless), a
# nonce that is one word of a journal line, and a lower-case hex digest.
_TIMESTAMP_RE = re.compile(r"[0-9]{1,11}(\.[0-9]{1,9})?")
_NONCE_RE = re.compile(r"[0-9A-Za-z_-]{16,128}")
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")


class SignatureError(LogsvcError):
    """A request that the receiver refuses; `code` says which refusal."""

    code = "bad_signature"


class Unsigned(SignatureError):
    code = "unsigned"

    def __init__(self) -> None:
        super().__init__("the request is not signed")


class BadSignature(SignatureError):
    code = "bad_signature"

    def __init__(self) -> None:
        super().__init__("the request's signature does not match")


class StaleRequest(SignatureError):
    code = "stale"

    def __init__(self) -> None:
        super().__init__("the request's timestamp is outside the accepted window")


class ReplayedRequest(SignatureError):
    code = "replayed"

    def __init__(self, message: str = "the request was already received once") -> None:
        super().__init__(message)


class Superseded(ReplayedRequest):
    """Signed and in the window, but older than one already taken: refused as a replay.

    Heartbeats handled in parallel (over the bus) can arrive out of order; the
    older one then carries nothing the newer one has not said.
    """

    code = "superseded"

    def __init__(self) -> None:
        super().__init__("a newer request was already received")


def _message(
    method: str, path: str, timestamp: str, nonce: str, instance: str, body: bytes
) -> bytes:
    return "\n".join(
        [method.upper(), path, timestamp, nonce, instance, hashlib.sha256(body).hexdigest()]
    ).encode()


def _mac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    now: float | None = None,
    *,
    instance: str,
) -> dict[str, str]:
    """Headers that sign a request about `instance`; `path` includes the query, if any."""
    timestamp = f"{(time.time() if now is None else now):.6f}"
    nonce = secrets.token_hex(16)
    return {
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: _mac(secret, _message(method, path, timestamp, nonce, instance, body)),
    }


def parse_timestamp(text: str) -> float | None:
    """The seconds of a timestamp as `sign` writes it; None for anything else."""
    if not _TIMESTAMP_RE.fullmatch(text):
        return None
    return float(text)


class SignedHeaders(NamedTuple):
    """The signing headers of a request, well-formed (not yet checked against a secret)."""

    timestamp: str
    sent: float
    nonce: str
    signature: str


def check_headers(
    headers: Mapping[str, str], max_skew: float, now: float | None = None
) -> SignedHeaders:
    """What can be checked before the body is read: the headers' form and the timestamp.

    Unsigned without the three headers, BadSignature when one of them is not
    what `sign` writes, StaleRequest outside `max_skew` seconds of `now`.
    """
    get = _getter(headers)
    timestamp, nonce, signature = (
        get(HEADER_TIMESTAMP),
        get(HEADER_NONCE),
        get(HEADER_SIGNATURE),
    )
    if not (timestamp and nonce and signature):
        raise Unsigned()
    sent = parse_timestamp(timestamp)
    if sent is None or not _NONCE_RE.fullmatch(nonce) or not _SIGNATURE_RE.fullmatch(signature):
        raise BadSignature()
    now = time.time() if now is None else now
    if not now - max_skew <= sent <= now + max_skew:
        raise StaleRequest()
    return SignedHeaders(timestamp, sent, nonce, signature)


class Verifier:
    """Checks signed requests against one or more secrets (rotation: old and new).

    Nonces are remembered for twice the accepted skew, which is as long as a
    request carrying them could pass the timestamp check. With a `journal`
    file they are remembered across restarts too: each accepted nonce is
    appended to it, and those still within the window are read back at start.
    """

    def __init__(
        self,
        secrets_: Iterable[str],
        max_skew: float = DEFAULT_MAX_SKEW,
        journal: str | None = None,
    ):
        self.secrets = [s for s in secrets_ if s]
        if not self.secrets:
            raise ValueError("a Verifier needs at least one secret")
        if not (math.isfinite(max_skew) and max_skew > 0):
            raise ValueError(f"the accepted clock skew must be a positive number, not {max_skew}")
        self.max_skew = max_skew
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._journal = NonceJournal(journal) if journal else None
        if self._journal:
            self._load_journal(time.time())

    def verify(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        now: float | None = None,
        *,
        instance: str,
    ) -> float:
        """The signed timestamp, if the request about `instance` is genuine and new.

        Else a SignatureError (`check_headers` says which come first).
        """
        now = time.time() if now is None else now
        signed = check_headers(headers, self.max_skew, now)
        try:
            message = _message(method, path, signed.timestamp, signed.nonce, instance, body)
        except UnicodeError:  # a path that no signer could have encoded
            raise BadSignature() from None
        given = signed.signature.encode("ascii")
        if not any(hmac.compare_digest(_mac(s, message).encode(), given) for s in self.secrets):
            raise BadSignature()
        with self._lock:
            self._forget_before(now - 2 * self.max_skew)
            if signed.nonce in self._seen:
                raise ReplayedRequest()
            self._seen[signed.nonce] = signed.sent
            if self._journal:
                try:
                    self._journal.append(signed.nonce, signed.sent, self._seen.items())
                except OSError as exc:  # replays are still refused until a restart
                    LOG.warning("cannot write the nonce journal %s: %s", self._journal.path, exc)
        return signed.sent

    def _forget_before(self, horizon: float) -> None:
        while self._seen:
            _, sent = next(iter(self._seen.items()))
            if sent >= horizon and len(self._seen) < 1_000_000:
                return
            self._seen.popitem(last=False)

    def _load_journal(self, now: float) -> None:
        for timestamp, nonce in self._journal.read():
            sent = parse_timestamp(timestamp)
            if sent is not None and _NONCE_RE.fullmatch(nonce) and sent >= now - 2 * self.max_skew:
                self._seen[nonce] = sent
        try:
            self._journal.rewrite(self._seen.items())
        except OSError as exc:
            LOG.warning("cannot write the nonce journal %s: %s", self._journal.path, exc)


def _getter(headers: Mapping[str, str]):
    lowered = {k.lower(): v for k, v in headers.items()}
    return lambda name: lowered.get(name.lower(), "")
