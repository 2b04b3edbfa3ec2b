"""Continuous publishing of the logs whose follow is on (``log-enable --follow``).

One thread of the daemon. It notices that a followed log's file changed
(inotify on the file's directory where the kernel has it, else by ``stat``
every ``guest_log_publish_interval`` seconds) and publishes it with the
publish engine, as any publish (``Publisher.publish(follow=True)``: the
newest object stays open and grows in place, see docs/follow.md),
never more often than once per interval per log.

What goes wrong is told once, not at every attempt: the object store away
(retried, at most every ``_MAX_BACKOFF`` seconds, and the return said),
a file that disappears (published again once it is back), a file that
cannot be read. A followed log with no file yet waits quietly.
"""

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from guestagent.logfile import stat as stat_file
from guestagent.publisher import Publisher
from logsvc.exceptions import LogFileMissing, LogsvcError

LOG = logging.getLogger(__name__)

#: Longest wait, in seconds, between two attempts while a publish keeps failing.
_MAX_BACKOFF = 30.0
#: Even with inotify, each followed file is looked at this often (seconds): an
#: event can be missed (a directory created after the watch was asked for).
_RESCAN = 5.0
#: Seconds between two lines of figures in the agent's log.
_FIGURES_EVERY = 60.0

# inotify(7): what changes a log file or its directory.
_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
)


class _Inotify:
    """Watches on directories through libc's inotify (ctypes); `fd` to wait on."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("c")
        self._libc = ctypes.CDLL(name, use_errno=True)
        fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        self.fd = fd
        self._watched: set[str] = set()

    def watch(self, directories: Iterable[str]) -> None:
        for directory in set(directories) - self._watched:
            wd = self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _MASK)
            if wd >= 0:  # a directory that does not exist yet: the rescan looks at it
                self._watched.add(directory)

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while os.read(self.fd, 65536):
                pass

    def close(self) -> None:
        os.close(self.fd)


def _inotify() -> "_Inotify | None":
    try:
        return _Inotify()
    except (OSError, AttributeError) as exc:  # no inotify here: stat polling
        LOG.info("follow: inotify is not available (%s); files are polled", exc)
        return None


@dataclass
class _Followed:
    """What the follower knows of one followed log."""

    seen: tuple[int, int, int] | None = None  # (inode, size, mtime) at the last publish
    due: float = 0.0  # monotonic time from which it may be published again
    failures: int = 0
    problem: str | None = None  # what was last reported
    publishes: int = 0
    bytes_new: int = 0
    bytes_uploaded: int = 0
    objects: int = 0


class Follower:
    """Publishes the followed logs of `publishers` as they grow, until `stopping` is set."""

    def __init__(
        self, publishers: dict[str, Publisher], interval: float, stopping: threading.Event
    ):
        self.publishers = publishers
        self.interval = interval
        self.stopping = stopping
        self._logs: dict[str, _Followed] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._figures_at = time.monotonic()
        self._lock = threading.Lock()
        self._switched: set[str] = set()

    def wake(self, name: str = "") -> None:
        """Look at the logs now (`name`'s follow was switched: looked at from its state)."""
        if name:
            with self._lock:
                self._switched.add(name)
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"x")

    def run(self) -> None:
        notify = _inotify()
        try:
            while not self.stopping.is_set():
                wait = self.step(notify)
                self._sleep(notify, wait)
        finally:
            self._log_figures()
            if notify is not None:
                notify.close()

    def _sleep(self, notify: "_Inotify | None", wait: float) -> None:
        waiting = [self._wake_r] + ([notify.fd] if notify is not None else [])
        with contextlib.suppress(InterruptedError):
            select.select(waiting, [], [], max(0.0, wait))
        if notify is not None:
            notify.drain()
        with contextlib.suppress(BlockingIOError):
            os.read(self._wake_r, 4096)

    def followed(self) -> list[Publisher]:
        out = []
        for publisher in self.publishers.values():
            try:
                if publisher.state().follow:
                    out.append(publisher)
            except LogsvcError as exc:  # an unreadable state: said by list and show
                LOG.debug("follow: log %s: %s", publisher.name, exc.message)
        return out

    def step(self, notify: "_Inotify | None") -> float:
        """Publish what is due; seconds until the next look."""
        with self._lock:
            switched, self._switched = self._switched, set()
        for name in switched:  # looked at again from its state: its last publish
            self._logs.pop(name, None)
        followed = self.followed()
        names = {p.name for p in followed}
        for name in set(self._logs) - names:
            del self._logs[name]
        if notify is not None:
            notify.watch(os.path.dirname(p.source.path) for p in followed if p.source.path)
        wait = _RESCAN if notify is not None else self.interval
        for publisher in followed:
            if self.stopping.is_set():
                break
            wait = min(wait, self._one(publisher))
        if time.monotonic() - self._figures_at >= _FIGURES_EVERY:
            self._log_figures()
        return wait

    def _one(self, publisher: Publisher) -> float:
        """Publish one followed log if it changed and is due; seconds until it may be."""
        now = time.monotonic()
        log = self._logs.get(publisher.name)
        if log is None:  # never more often than the interval, across restarts too
            last = publisher.state().last_publish or 0.0
            wait = min(self.interval, max(0.0, last + self.interval - time.time()))
            log = _Followed(due=now + wait)
            self._logs[publisher.name] = log
        try:
            st = stat_file(publisher.source.path) if publisher.source.path else None
        except LogsvcError as exc:
            self._problem(publisher.name, log, exc.message)
            return self.interval
        if st is None:
            if log.seen is not None:  # it was there: say once that it is gone
                self._problem(publisher.name, log, "the log file disappeared; waiting for it")
                log.seen = None
            return self.interval
        seen = (st.ino, st.size, st.mtime_ns)
        if seen == log.seen and not log.failures:
            return _RESCAN
        if now < log.due:
            return log.due - now
        log.due = now + self.interval
        try:
            report = publisher.publish(follow=True)
        except LogFileMissing:
            self._problem(publisher.name, log, "the log file disappeared; waiting for it")
            log.seen = None
            return self.interval
        except LogsvcError as exc:
            log.failures += 1
            self._problem(publisher.name, log, exc.message)
            log.due = now + min(_MAX_BACKOFF, self.interval * 2**log.failures)
            return log.due - now
        if log.problem is not None:
            LOG.info("follow: log %s: publishing again", publisher.name)
        log.problem, log.failures, log.seen = None, 0, seen
        log.publishes += 1
        log.bytes_new += report.bytes_new
        log.bytes_uploaded += report.bytes_published
        log.objects += report.objects
        return self.interval

    def _problem(self, name: str, log: _Followed, message: str) -> None:
        if message != log.problem:
            LOG.warning("follow: log %s: %s", name, message)
            log.problem = message

    def _log_figures(self) -> None:
        self._figures_at = time.monotonic()
        for name, log in sorted(self._logs.items()):
            if log.publishes:
                LOG.info(
                    "follow: log %s: %d publishes, %d bytes new, %d bytes uploaded, "
                    "%d objects written",
                    name,
                    log.publishes,
                    log.bytes_new,
                    log.bytes_uploaded,
                    log.objects,
                )
