"""What the benchmarks share: a realistic log, a Swift to reuse, memory figures.

Imported by the scripts in bench/ (run as ``python bench/<name>.py``, which
puts this directory on the import path).
"""

import contextlib
import random
import time
from pathlib import Path

MB = 1_000_000

_QUERIES = [
    "SELECT * FROM orders WHERE customer_id = {n} AND status IN ('new', 'paid')",
    "UPDATE stock SET qty = qty - {k} WHERE sku = 'SKU-{n:08d}'",
    "INSERT INTO audit (actor, action, detail) VALUES ('app-{k}', 'login', 'session {n:x}')",
    "SELECT u.name, u.email, COUNT(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id "
    "WHERE u.last_seen > NOW() - INTERVAL {k} MINUTE GROUP BY u.id ORDER BY 3 DESC LIMIT 50",
    "COMMIT",
    "SET autocommit=1",
    "DELETE FROM sessions WHERE expires_at < '2026-11-22 01:{k:02d}:00'",
]


def write_log(path: Path, size: int) -> None:
    """Append general-log lines to `path` until it holds `size` bytes."""
    rng = random.Random(42)
    have = path.stat().st_size if path.exists() else 0
    n = have // 100
    with open(path, "ab") as f:
        if have == 0:
            f.write(b"/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-log. started with:\n")
            f.write(b"Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n")
            f.write(b"Time\t\t    Id Command\tArgument\n")
        while have < size:
            # Blocks of up to 10,000 lines, the last one cut to the line that
            # reaches `size`: an appender asking for 5 KB appends 5 KB.
            lines, length = [], 0
            while len(lines) < 10_000 and have + length < size:
                n += 1
                k = rng.randrange(60)
                query = rng.choice(_QUERIES).format(n=n, k=k)
                line = (
                    f"2026-11-22T01:{k:02d}:{n % 60:02d}.{n % 1000000:06d}Z\t"
                    f"{n % 97 + 1:6d} Query\t{query}\n"
                )
                lines.append(line)
                length += len(line)  # ASCII: characters are bytes
            block = "".join(lines).encode()
            f.write(block)
            have += len(block)


def running_swift(work: Path):
    import requests

    from dev.devswift import DevSwift

    if not (work / "devswift.json").exists():
        return None
    swift = DevSwift.load(str(work))
    user, key = swift.credentials()["user"], swift.credentials()["key"]
    try:
        answer = requests.get(
            swift.auth_url, headers={"X-Auth-User": user, "X-Auth-Key": key}, timeout=2
        )
        if answer.status_code == 200:
            return swift
    except requests.RequestException:
        pass
    swift.stop()  # whatever is left of it
    return None


def swift_store(swift):
    from logsvc.client.objects import open_store

    creds = swift.credentials()
    return open_store(
        auth_url=creds["auth_url"], auth_version="1", user=creds["user"], key=creds["key"]
    )


def peak_rss() -> int:
    """This process's peak resident set since it started Python, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def current_rss() -> int:
    """This process's resident set now, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def start_swift(work: Path):
    """The Swift running in `work` (left by --keep), or a new one there."""
    import shutil

    from dev.devswift import DevSwift

    swift = running_swift(work)
    if swift is not None:
        print(f"swift: reusing the one running in {work}")
        return swift, True
    for stale in ("data", "etc", "log"):
        shutil.rmtree(work / stale, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    swift = DevSwift(str(work), tied=False).start()
    print(f"swift: started in {work} ({time.monotonic() - started:.1f} s)")
    return swift, False


@contextlib.contextmanager
def bench_broker(prefix: str):
    """A Broker (tests/broker.py) on a virtual host of its own, deleted afterwards (rabbitmqctl)."""
    import subprocess
    import uuid

    from tests.broker import Broker

    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    ctl = ["rabbitmqctl", "-q"]
    subprocess.run([*ctl, "add_vhost", vhost], check=True, capture_output=True)
    try:
        subprocess.run(
            [*ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        yield Broker(vhost, "logsvc-bench")
    finally:
        subprocess.run([*ctl, "delete_vhost", vhost], capture_output=True)
