"""Signed requests between the API and the agents.

The API signs every request it sends to an agent (and an agent signs its
heartbeats to the API) with a shared secret: HMAC-SHA256 over the method, the
path with its query, a timestamp, a nonce and the SHA-256 of the body. The
receiver refuses a request that is unsigned, badly signed, too old or too new
(clock skew), or seen before (a replay), each with its own error and no
detail that would help an attacker.

The user's credentials never travel to the guest: only this signature does.
"""

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from logsvc.exceptions import LogsvcError

HEADER_TIMESTAMP = "X-Logsvc-Timestamp"
HEADER_NONCE = "X-Logsvc-Nonce"
HEADER_SIGNATURE = "X-Logsvc-Signature"
DEFAULT_MAX_SKEW = 60.0


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

    def __init__(self) -> None:
        super().__init__("the request was already received once")


def _message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join(
        [method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    ).encode()


def _mac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: str, method: str, path: str, body: bytes = b"", now: float | None = None
) -> dict[str, str]:
    """Headers that sign a request; `path` includes the query string, if any."""
    timestamp = f"{(time.time() if now is None else now):.6f}"
    nonce = secrets.token_hex(16)
    return {
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: _mac(secret, _message(method, path, timestamp, nonce, body)),
    }


class Verifier:
    """Checks signed requests against one or more secrets (rotation: old and new).

    Nonces are remembered for twice the accepted skew, which is as long as a
    request carrying them could pass the timestamp check.
    """

    def __init__(self, secrets_: Iterable[str], max_skew: float = DEFAULT_MAX_SKEW):
        self.secrets = [s for s in secrets_ if s]
        if not self.secrets:
            raise ValueError("a Verifier needs at least one secret")
        self.max_skew = max_skew
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def verify(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        now: float | None = None,
    ) -> None:
        """Return if the request is genuine and new; raise a SignatureError otherwise."""
        get = _getter(headers)
        timestamp, nonce, signature = (
            get(HEADER_TIMESTAMP),
            get(HEADER_NONCE),
            get(HEADER_SIGNATURE),
        )
        if not (timestamp and nonce and signature):
            raise Unsigned()
        message = _message(method, path, timestamp, nonce, body)
        if not any(hmac.compare_digest(_mac(s, message), signature) for s in self.secrets):
            raise BadSignature()
        now = time.time() if now is None else now
        try:
            sent = float(timestamp)
        except ValueError:
            raise BadSignature() from None
        if abs(now - sent) > self.max_skew:
            raise StaleRequest()
        with self._lock:
            self._forget_before(now - 2 * self.max_skew)
            if nonce in self._seen:
                raise ReplayedRequest()
            self._seen[nonce] = sent

    def _forget_before(self, horizon: float) -> None:
        while self._seen:
            _, sent = next(iter(self._seen.items()))
            if sent >= horizon and len(self._seen) < 1_000_000:
                return
            self._seen.popitem(last=False)


def _getter(headers: Mapping[str, str]):
    lowered = {k.lower(): v for k, v in headers.items()}
    return lambda name: lowered.get(name.lower(), "")


def main(argv: list[str] | None = None) -> int:
    """``python -m logsvc.signing``: send one signed request to an agent, print the answer.

    The secret comes from a file or $LOGSVC_SHARED_SECRET, never from the
    command line (where other users of the machine could read it).
    """
    import argparse
    import json
    import os
    from urllib.parse import urlsplit

    import requests

    parser = argparse.ArgumentParser(prog="python -m logsvc.signing", description=main.__doc__)
    parser.add_argument("method", choices=["GET", "POST", "PUT", "DELETE"])
    parser.add_argument("url", help="for example http://127.0.0.1:8780/v1/logs?admin=true")
    parser.add_argument("body", nargs="?", help="a JSON body")
    parser.add_argument("--secret-file", help="file holding the shared secret")
    args = parser.parse_args(argv)
    if args.secret_file:
        with open(args.secret_file, encoding="utf-8") as f:
            secret = f.read().strip()
    else:
        secret = os.environ.get("LOGSVC_SHARED_SECRET", "")
    if not secret:
        parser.error("give --secret-file or set LOGSVC_SHARED_SECRET")
    body = json.dumps(json.loads(args.body)).encode() if args.body else b""
    url = urlsplit(args.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    headers = sign(secret, args.method, path, body)
    if body:
        headers["Content-Type"] = "application/json"
    resp = requests.request(args.method, args.url, data=body, headers=headers, timeout=600)
    print(json.dumps(resp.json(), indent=2) if resp.content else resp.status_code)
    return 0 if resp.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
