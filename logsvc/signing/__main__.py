"""``python -m logsvc.signing``: one signed request to an agent, by hand."""

import argparse
import json
import os
import sys
from urllib.parse import urlsplit

from logsvc import http
from logsvc.exceptions import LogsvcError
from logsvc.safetext import printable
from logsvc.signing import sign


def main(argv: list[str] | None = None) -> int:
    """``python -m logsvc.signing``: send one signed request to an agent, print the answer.

    The secret comes from a file or $LOGSVC_SHARED_SECRET, never from the
    command line (where other users of the machine could read it).
    """
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
        answer = http.call(
            http.new_session(),
            args.method,
            args.url,
            what=f"{url.scheme}://{url.netloc}",
            timeout=600,
            data=body,
            headers=headers,
        )
    except LogsvcError as exc:  # no answer in time, no connection, a redirect (not followed)
        print(exc.message, file=sys.stderr)
        return 1
    try:
        print(json.dumps(json.loads(answer.body), indent=2))
    except ValueError:
        print(f"{answer.status} {answer.reason}: {printable(answer.body[:200].decode('latin-1'))}")
    return 0 if answer.status < 400 else 1


if __name__ == "__main__":
    raise SystemExit(main())
