"""Publishes in threads of their own, so that no caller's timeout ends one.

A publish (with the flags that come with it: enable first, discard first,
disable after) runs in a thread of the agent; the request that asked for it
waits at most the seconds it names (the API's ``[api] publish_wait``) and is
answered either with the result or with the log's state and the marker that
the publish runs (``PublishOutcome``, state ``running``). A publish asked
while one runs on the same log joins it, unless it asks for more than the
running one does (a discard, say): that, and every other action on the log,
is refused with LogBusy (409) at once.

Each log's last outcome is kept in ``<state_dir>/<log>.publish`` (JSON,
replaced atomically): running, published, or failed and why. It outlives the
process: an outcome that still says running, written by a process that is
gone (or by an earlier process of the same pid), is answered as failed, "the
agent stopped during the publish". `on_end` is called after each publish
ends (the daemon then sends a heartbeat at once).
"""

import datetime as dt
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from osprofiler import profiler

from logsvc import atomicfile
from logsvc.exceptions import LogBusy, LogsvcError, StateError
from logsvc.logmodel import MAX_ERROR, PublishOutcome, PublishState

LOG = logging.getLogger(__name__)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


@dataclass
class Job:
    """One publish running (or just ended) in its thread."""

    log: str
    flags: frozenset[str]
    outcome: PublishOutcome
    done: threading.Event = field(default_factory=threading.Event)
    error: LogsvcError | None = None


class PublishJobs:
    """The publishes of one agent's logs: at most one per log at a time."""

    def __init__(self, state_dir: str, on_end: Callable[[], None] | None = None):
        self.state_dir = state_dir
        self.on_end = on_end
        self._lock = threading.Lock()
        self._running: dict[str, Job] = {}

    # --- reads (no lock but the dictionary's) -------------------------------

    def running(self, log: str) -> Job | None:
        with self._lock:
            return self._running.get(log)

    def outcome(self, log: str) -> PublishOutcome | None:
        """The log's last publish: the one running here, else what the file says."""
        job = self.running(log)
        if job is not None:
            return job.outcome
        try:
            with open(self._path(log), "rb") as f:
                data = json.loads(f.read())
            outcome = PublishOutcome.from_dict(data)
            pid, started = data.get("pid"), data.get("process")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            LOG.warning("log %s: its last publish's outcome cannot be read: %s", log, exc)
            return None
        if outcome.running and not _alive(pid, started):
            return PublishOutcome(
                outcome.id,
                PublishState.FAILED,
                outcome.started_at,
                None,
                "the agent stopped during the publish; publish again to finish it",
            )
        return outcome

    def wait_all(self, timeout: float) -> bool:
        """Wait for the publishes that run to end; False when one still runs after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            jobs = list(self._running.values())
        return all(job.done.wait(max(0.0, deadline - time.monotonic())) for job in jobs)

    # --- the one write path ----------------------------------------------------

    def start_or_join(self, log: str, flags: frozenset[str], work: Callable[[], None]) -> Job:
        """The publish of `log` that runs `work`: a new one, or the running one joined.

        LogBusy when a publish runs that does less than `flags` asks.
        """
        with self._lock:
            job = self._running.get(log)
            if job is not None:
                if flags <= job.flags:
                    return job
                raise busy(job)
            job = Job(log, flags, PublishOutcome(uuid.uuid4().hex, PublishState.RUNNING, _now()))
            self._running[log] = job  # taken: a publish asked from now on joins it
        # Written outside the lock, which every show and list takes: they never
        # wait on the disk (an fsync behind a busy Swift took seconds).
        try:
            self._save(log, job.outcome)
        except OSError as exc:
            job.error = StateError(
                f"log {log!r}: cannot record that a publish starts: {exc.strerror}"
            )
            job.outcome = _ended(job.outcome, PublishState.FAILED, job.error.message)
            with self._lock:
                self._running.pop(log, None)
            job.done.set()  # those who joined meanwhile get the same error
            raise job.error from None
        threading.Thread(
            target=_traced,
            args=(profiler.get(), self._run, job, work),
            name=f"publish-{log}",
            daemon=True,
        ).start()
        return job

    def _run(self, job: Job, work: Callable[[], None]) -> None:
        started = job.outcome
        try:
            work()
        except LogsvcError as exc:
            job.error = exc
            job.outcome = _ended(started, PublishState.FAILED, exc.message)
        except Exception as exc:
            LOG.exception("log %s: the publish failed", job.log)
            job.error = LogsvcError(f"log {job.log!r}: internal error in the agent ({exc})")
            job.outcome = _ended(started, PublishState.FAILED, job.error.message)
        else:
            job.outcome = _ended(started, PublishState.PUBLISHED, None)
        try:
            self._save(job.log, job.outcome)
        except OSError as exc:
            LOG.warning("log %s: the publish's outcome cannot be recorded: %s", job.log, exc)
        with self._lock:
            self._running.pop(job.log, None)
        LOG.info(
            "log %s: publish %s %s%s",
            job.log,
            job.outcome.id,
            job.outcome.state,
            f": {job.outcome.error}" if job.outcome.error else "",
        )
        job.done.set()  # after the log line: a waiter may tear the logging down
        if self.on_end is not None:
            try:
                self.on_end()
            except Exception:
                LOG.exception("log %s: after the publish", job.log)

    def _path(self, log: str) -> str:
        return os.path.join(self.state_dir, f"{log}.publish")

    def _save(self, log: str, outcome: PublishOutcome) -> None:
        record = {**outcome.to_dict(), "pid": os.getpid(), "process": _process_start(os.getpid())}
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        atomicfile.write_bytes(self._path(log), json.dumps(record).encode())


def _traced(trace, run: Callable[..., None], *args) -> None:
    """`run` in this thread, inside the trace of the request that started it, if any.

    OSProfiler keeps a trace per thread: without this, a publish that a traced
    request started would leave its object-store requests out of that trace.
    """
    if trace is not None:
        profiler.init(trace.hmac_key, base_id=trace.get_base_id(), parent_id=trace.get_id())
    try:
        run(*args)
    finally:
        if trace is not None:
            profiler.clean()


def busy(job: Job) -> LogBusy:
    return LogBusy(
        f"log {job.log!r} is busy: it is being published (since "
        f"{job.outcome.started_at}); only another publish may join it: try again when it ends"
    )


def _ended(started: PublishOutcome, state: PublishState, error: str | None) -> PublishOutcome:
    if error is not None and len(error) > MAX_ERROR:
        error = error[: MAX_ERROR - 3] + "..."
    return PublishOutcome(started.id, state, started.started_at, _now(), error)


def _process_start(pid: int) -> str | None:
    """The start time (clock ticks since boot) and boot of a process; None if none runs."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{boot}:{fields[19]}"


def _alive(pid: object, started: object) -> bool:
    """Whether the process that wrote a running outcome still runs (another than us)."""
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False  # ours, with no job running here: an earlier process's
    now = _process_start(pid)
    if started is not None and now is not None:
        return now == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
