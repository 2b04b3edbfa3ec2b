"""A publish that outlasts every timeout: through the API and the CLI, on both transports.

For each transport (HTTP, then the RabbitMQ of 127.0.0.1, or both at once
with ``--parallel``, one process each) it starts a real logsvc-api and logsvc-guestagent on a
real Swift from the PyPI package, writes a backlog of realistic log lines,
and publishes it with ``logsvc log-publish`` as the instance's owner, on the
API's default configuration (``[api] publish_wait`` 10 s, ``[agent]
call_timeout`` 300 s). The agent is paced (``guest_log_max_bytes_per_second``)
so that the publish lasts ``--minutes``: the request is answered 202 after
``publish_wait``, and the CLI follows the log until the agent reports the
end. Then ``logsvc log-save`` fetches the log through the API's read route
(the CLI holds only the API's URL and a token) and the bytes are compared
with the source's.

It prints, per transport: the publish's duration, the CLI's exit status and
what it wrote to stderr (its last progress line), the instance's task during
and after, and whether the saved log is byte-exact. It asserts nothing about
time.

    python bench/long_publish.py [--minutes 10] [--rate-mb 1] [--parallel]
"""

import argparse
import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import MB, bench_broker, start_swift, write_log

from tests.apistack import INSTANCE, Stack


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def cli(stack: Stack, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """`logsvc ARGS` as the instance's owner, with nothing but the API's URL and token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "LOGSVC_"))}
    env.update(LOGSVC_URL=stack.api.url, LOGSVC_TOKEN=stack.alice)
    logsvc = Path(sys.executable).with_name("logsvc")
    return subprocess.run(
        [str(logsvc), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def run(transport: str, swift, broker, work: Path, size: int, rate: int, out: dict) -> None:
    stack = Stack(
        work,
        swift,
        transport=transport,
        broker=broker,
        # The API's defaults, as deployed (the test stack waits 120 s).
        api_sections={"api": {"publish_wait": 10.0}},
        # The agent's defaults too, but its pace (the test stack's objects are 16 KB).
        agent_sections={
            "DEFAULT": {"guest_log_max_bytes_per_second": rate, "guest_log_limit": 1_000_000}
        },
    )
    write_log(stack.paths["big"], size)
    stack.start()
    tasks: list[str] = []
    wrong: list[str] = []
    try:
        started = time.monotonic()
        done = threading.Event()

        def watch() -> None:
            # The instance's task, then the log's publish, as a user sees them: a
            # publish seen running must have been running when the task was read.
            while not done.wait(15):
                answer = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice)
                task = answer.json()["instance"].get("task_state", "?")
                logs = stack.logs(stack.alice).json().get("logs", [])
                big = next((log for log in logs if log.get("name") == "big"), {})
                state = (big.get("publish") or {}).get("state")
                tasks.append(task)
                if state == "running" and task != "LOGGING":
                    wrong.append(f"{task} while the publish ran")

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        publish = cli(stack, "log-publish", INSTANCE, "big", timeout=size / rate * 3 + 600)
        elapsed = time.monotonic() - started
        done.set()
        watcher.join()
        after = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
        saved = work / "saved.log"
        save = cli(stack, "log-save", INSTANCE, "big", "--file", str(saved), timeout=600)
        exact = save.returncode == 0 and digest(saved) == digest(stack.paths["big"])
        out.update(
            transport=transport,
            seconds=elapsed,
            publish_rc=publish.returncode,
            publish_out=publish.stdout.strip().splitlines()[-1:] or [""],
            publish_err=publish.stderr.strip().splitlines()[-2:],
            tasks_during=sorted(set(tasks)),
            wrong=wrong,
            task_after=after["instance"].get("task_state"),
            save_rc=save.returncode,
            save_err=save.stderr.strip().splitlines()[-2:],
            exact=exact,
            size=stack.paths["big"].stat().st_size,
        )
    except Exception as exc:  # reported with the others' figures
        out.update(transport=transport, error=f"{type(exc).__name__}: {exc}")
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long each publish lasts")
    parser.add_argument("--rate-mb", type=float, default=1.0, help="the agent's pace (MB/s)")
    parser.add_argument("--transports", default="http,rpc")
    parser.add_argument("--parallel", action="store_true", help="both transports at once")
    parser.add_argument("--workdir", default="/tmp/logsvc-bench-long-publish", type=Path)
    args = parser.parse_args()
    transports = [t for t in args.transports.split(",") if t]
    if args.parallel and len(transports) > 1:
        # One process each (two stacks set up in one process's threads crash SQLite).
        runs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--transports",
                    t,
                    "--minutes",
                    str(args.minutes),
                    "--rate-mb",
                    str(args.rate_mb),
                    "--workdir",
                    str(args.workdir / t),
                ]
            )
            for t in transports
        ]
        return max(run.wait() for run in runs)
    rate = int(args.rate_mb * MB)
    size = int(rate * args.minutes * 60)
    swift, _ = start_swift(args.workdir / "swift")
    results: list[dict] = []
    try:
        bus = bench_broker("bench-long") if "rpc" in transports else contextlib.nullcontext()
        with bus as broker:
            for transport in transports:
                work = Path(tempfile.mkdtemp(prefix=f"{transport}-", dir=args.workdir))
                results.append({})
                print(f"-- {transport}: {size / MB:.0f} MB at {args.rate_mb} MB/s ...", flush=True)
                run(transport, swift, broker, work, size, rate, results[-1])
    finally:
        swift.stop()
    print("\n== results")
    failed = False
    for res in results:
        if "error" in res:
            print(f"{res['transport']}: did not run to the end: {res['error']}")
            failed = True
            continue
        print(
            f"{res['transport']}: log-publish of {res['size'] / MB:.0f} MB took "
            f"{res['seconds']:.0f} s, exit {res['publish_rc']} "
            f"(stdout {res['publish_out'][0]!r}, stderr {res['publish_err']}); "
            f"task while it ran {res['tasks_during']} ({len(res['wrong'])} wrong), "
            f"after {res['task_after']!r}; "
            f"log-save exit {res['save_rc']} {res['save_err']}, "
            f"byte-exact: {res['exact']}"
        )
        failed |= res["publish_rc"] != 0 or res["save_rc"] != 0 or not res["exact"]
        failed |= bool(res["wrong"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
