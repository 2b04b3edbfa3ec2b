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
"""

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from logsvc.exceptions import LogsvcError

LOG = logging.getLogger(__name__)

HEADER_TIMESTAMP = "X-Logsvc-Timestamp"
HEADER_NONCE = "X-Logsvc-Nonce"
HEADER_SIGNATURE = "X-Logsvc-Signature"
DEFAULT_MAX_SKEW = 60.0
#: Appends to a nonce journal between two rewrites that drop the expired ones.
_JOURNAL_COMPACT_EVERY = 10_000


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
        self.max_skew = max_skew
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._journal = journal
        self._appended = 0
        if journal:
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
    ) -> None:
        """Return if the request about `instance` is genuine and new; else a SignatureError."""
        get = _getter(headers)
        timestamp, nonce, signature = (
            get(HEADER_TIMESTAMP),
            get(HEADER_NONCE),
            get(HEADER_SIGNATURE),
        )
        if not (timestamp and nonce and signature):
            raise Unsigned()
        message = _message(method, path, timestamp, nonce, instance, body)
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
            if self._journal:
                try:
                    self._record(nonce, sent)
                except OSError as exc:  # replays are still refused until a restart
                    LOG.warning("cannot write the nonce journal %s: %s", self._journal, exc)

    def _forget_before(self, horizon: float) -> None:
        while self._seen:
            _, sent = next(iter(self._seen.items()))
            if sent >= horizon and len(self._seen) < 1_000_000:
                return
            self._seen.popitem(last=False)

    # --- the journal ----------------------------------------------------------------

    def _load_journal(self, now: float) -> None:
        try:
            with open(self._journal, encoding="ascii", errors="replace") as f:
                entries = [line.split() for line in f]
        except FileNotFoundError:
            entries = []
        for entry in entries:
            with contextlib.suppress(ValueError, IndexError):  # a line cut short
                sent, nonce = float(entry[0]), entry[1]
                if sent >= now - 2 * self.max_skew:
                    self._seen[nonce] = sent
        try:
            self._rewrite_journal()
        except OSError as exc:
            LOG.warning("cannot write the nonce journal %s: %s", self._journal, exc)

    def _record(self, nonce: str, sent: float) -> None:
        # Appended without fsync: a crash of the agent keeps it (the kernel has
        # it); losing the machine's power takes longer than the window anyway.
        if self._appended >= _JOURNAL_COMPACT_EVERY:
            self._rewrite_journal()
        with open(self._journal, "a", encoding="ascii") as f:
            f.write(f"{sent:.6f} {nonce}\n")
        self._appended += 1

    def _rewrite_journal(self) -> None:
        """The journal, holding only the nonces still remembered."""
        tmp = f"{self._journal}.tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.writelines(f"{sent:.6f} {nonce}\n" for nonce, sent in self._seen.items())
        os.replace(tmp, self._journal)
        self._appended = 0


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
    import sys
    from urllib.parse import urlsplit

    import requests

    parser = argparse.ArgumentParser(prog="python -m logsvc.signing", description=main.__doc__)
    parser.add_argument("method", choices=["GET", "POST", "PUT", "DELETE"])
    parser.add_argument("url", help="for example http://127.0.0.1:8780/v1/logs?admin=true")
    parser.add_argument("body", nargs="?", help="a JSON body")
    parser.add_argument("--instance", required=True, help="the id of the instance the agent serves")
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
    headers = sign(secret, args.method, path, body, instance=args.instance)
    if body:
        headers["Content-Type"] = "application/json"
    try:
        resp = requests.request(args.method, args.url, data=body, headers=headers, timeout=600)
    except requests.RequestException as exc:
        print(f"cannot reach {url.scheme}://{url.netloc}: {type(exc).__name__}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(resp.json(), indent=2))
    except ValueError:
        print(f"{resp.status_code} {resp.reason}: {resp.text[:200]}")
    return 0 if resp.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
