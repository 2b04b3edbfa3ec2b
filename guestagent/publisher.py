"""The publisher of one log: its lock, its state, its figures; each action delegated.

`Publisher.publish` and `Publisher.discard` take the log's lock, load its
state (rebuilt by ``recovery.recover`` from the object store when the state
directory has none) and hand both to a ``publishrun.PublishRun``, which does
the action; a failure is recorded beside the last commit and named after the
log. `Publisher.figures` reads the state and the file without the lock and
without asking the object store, so a list never waits for a publish.
"""

import time
from collections.abc import Callable

from guestagent.logfile import OpenLog
from guestagent.logfile import stat as stat_file
from guestagent.progress import published_elsewhere
from guestagent.publishmodel import Figures, LogSource, PublishReport, PublishSettings
from guestagent.publishrun import PublishRun
from guestagent.recovery import recover
from guestagent.rotation import rotated_files, rotation_reason
from guestagent.state import LogState, StateStore
from logsvc.exceptions import LogFileMissing, LogFileUnreadable, LogsvcError
from logsvc.layout import LogLocation
from logsvc.storage import ObjectStore


class Publisher:
    """Publishes, discards and measures one log."""

    def __init__(
        self,
        source: LogSource,
        location: LogLocation,
        store: ObjectStore,
        states: StateStore,
        settings: PublishSettings,
    ):
        self.source = source
        self.location = location
        self.store = store
        self.states = states
        self.settings = settings

    @property
    def name(self) -> str:
        return self.source.name

    # --- figures (no lock, no object-store request) --------------------------

    def state(self) -> LogState:
        return self.states.load(self.name) or LogState()

    def figures(self) -> Figures:
        state = self.state()
        if published_elsewhere(state, self.location):
            state = LogState(last_publish=state.last_publish, last_error=state.last_error)
        pending, rotated, problem = 0, False, None
        try:
            if self.source.path and stat_file(self.source.path) is not None:
                with OpenLog(self.source.path) as log:
                    rotated = rotation_reason(state, log) is not None
                    pending = log.size if rotated else log.size - state.offset
                    if rotated and self.settings.rotation_policy == "keep":
                        pending += sum(
                            (s.size if (s := stat_file(f.path)) else 0) - f.start
                            for f in rotated_files(self.source.path, state, log.ino)
                        )
        except (LogFileMissing, LogFileUnreadable) as exc:
            problem = exc.message
        return Figures(
            published=state.published,
            pending=max(0, pending),
            rotated=rotated,
            last_publish=state.last_publish,
            last_error=state.last_error or problem,
        )

    # --- actions ----------------------------------------------------------------

    def publish(self) -> PublishReport:
        """Upload what is new in the log file; see ``publishrun``."""
        return self._locked(PublishRun.publish)

    def discard(self) -> PublishReport:
        """Delete everything published of the log; the next publish starts over."""
        return self._locked(PublishRun.discard)

    def recover(self) -> LogState:
        """Make sure the log has a local state, from the object store when it is gone."""
        with self.states.lock(self.name, self.settings.lock_timeout):
            return self._load()

    def _locked(self, action: Callable[[PublishRun], None]) -> PublishReport:
        started = time.monotonic()
        with self.states.lock(self.name, self.settings.lock_timeout):
            run = PublishRun(
                self.source, self.location, self.store, self.states, self.settings, self._load()
            )
            try:
                action(run)
            except LogsvcError as exc:
                _name_the_log(exc, self.name)
                run.record_error(exc)
                raise
            finally:
                run.report.seconds = time.monotonic() - started
            return run.report

    def _load(self) -> LogState:
        """The log's recorded state; recovered, and recorded, when there is none."""
        state = self.states.load(self.name)
        if state is None:
            state = recover(self.source, self.location, self.store, self.settings)
            self.states.save(self.name, state)
        return state


def _name_the_log(exc: LogsvcError, name: str) -> None:
    """Say which log failed, in the error's message, unless it says so already."""
    if f"log {name!r}" not in exc.message:
        exc.message = f"log {name!r}: {exc.message}"
        exc.args = (exc.message,)
