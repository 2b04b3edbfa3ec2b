"""The publisher of one log: its lock, its state, its figures; each action delegated.

`Publisher.publish` and `Publisher.discard` take the log's lock, load its
state (rebuilt by ``recovery.recover`` from the object store when the state
directory has none, or when it was recorded for another account) and hand
both to a ``publishrun.PublishRun``, which does the action; a failure is
recorded beside the last commit and named after the log. An action writes
into the agent's own store, or into the `Account` it is given (a project's
own, for that action only): the publisher keeps no reference to it.
`Publisher.figures` reads the state and the file without the lock and
without asking the object store, so a list never waits for a publish.
"""

import logging
import time
from collections.abc import Callable

from guestagent.logfile import OpenLog
from guestagent.logfile import stat as stat_file
from guestagent.progress import published_elsewhere
from guestagent.publishmodel import Account, Figures, LogSource, PublishReport, PublishSettings
from guestagent.publishrun import PublishRun
from guestagent.recovery import recover
from guestagent.rotation import rotated_files, rotation_reason
from guestagent.state import LogState, StateStore
from guestagent.uploads import Uploader
from logsvc.exceptions import ConfigError, LogFileMissing, LogFileUnreadable, LogsvcError
from logsvc.layout import LogLocation
from logsvc.storage import ObjectStore

LOG = logging.getLogger(__name__)


class Publisher:
    """Publishes, discards and measures one log."""

    def __init__(
        self,
        source: LogSource,
        location: LogLocation,
        store: ObjectStore | None,
        states: StateStore,
        settings: PublishSettings,
    ):
        self.source = source
        self.location = location
        self.store = store
        self.states = states
        self.settings = settings
        #: The log's upload threads and rate, from one publish to the next.
        self.uploader = Uploader(settings.concurrency, settings.max_rate)

    @property
    def name(self) -> str:
        return self.source.name

    # --- figures (no lock, no object-store request) --------------------------

    def state(self) -> LogState:
        return self.states.load(self.name) or LogState()

    def figures(self) -> Figures:
        state = self.state()
        if published_elsewhere(state, self.location):
            state = LogState(
                last_publish=state.last_publish, last_error=state.last_error, follow=state.follow
            )
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
            follow=state.follow,
        )

    # --- actions ----------------------------------------------------------------

    def publish(self, follow: bool = False, account: Account | None = None) -> PublishReport:
        """Upload what is new in the log file; see ``publishrun``.

        `follow`: a publish of a followed log, whose last object may stay open.
        `account`: where to (None: the agent's own store).
        """
        return self._locked(lambda run: run.publish(follow), account)

    def has_file(self) -> bool:
        """Whether the log's file exists (LogFileUnreadable when that cannot be told)."""
        return bool(self.source.path) and stat_file(self.source.path) is not None

    def set_follow(self, on: bool) -> LogState:
        """Switch continuous publishing on or off (kept in the log's state)."""
        with self.states.lock(self.name, self.settings.lock_timeout):
            # Only the switch changes: whatever account the state is of, it stays.
            state = self.states.load(self.name)
            if state is None:
                state = self._load(self._own()) if self.store is not None else LogState()
            if state.follow != on:
                state = state.replace(follow=on)
                self.states.save(self.name, state)
            return state

    def discard(self, account: Account | None = None) -> PublishReport:
        """Delete everything published of the log (in `account`); the next publish starts over."""
        return self._locked(PublishRun.discard, account)

    def recover(self) -> LogState:
        """Make sure the log has a local state, from the object store when it is gone."""
        with self.states.lock(self.name, self.settings.lock_timeout):
            return self._load(self._own())

    def _own(self) -> Account:
        if self.store is None:
            raise ConfigError(
                f"log {self.name!r}: this agent has no object store of its own "
                "([storage] account = project): only the API's actions, which carry the "
                "caller's credentials, publish"
            )
        return Account(self.store)

    def _locked(
        self, action: Callable[[PublishRun], None], account: Account | None = None
    ) -> PublishReport:
        started = time.monotonic()
        account = account or self._own()
        with self.states.lock(self.name, self.settings.lock_timeout):
            run = PublishRun(
                self.source,
                self.location,
                account.store,
                self.states,
                self.settings,
                self._load(account),
                self.uploader,
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

    def _load(self, account: Account) -> LogState:
        """The log's recorded state; recovered from `account`, and recorded, when there is
        none, or when it is another account's (its metafile and objects say where the log
        stands there: the adoption rules hold per account)."""
        state = self.states.load(self.name)
        if state is not None and state.account == account.id:
            return state
        recovered = recover(self.source, self.location, account.store, self.settings)
        recovered = recovered.replace(account=account.id)
        if state is not None:
            LOG.info("log %s: published into another account until now", self.name)
            recovered = recovered.replace(
                enabled=state.enabled,
                switch=state.switch,
                follow=state.follow,
                last_publish=state.last_publish,
            )
        self.states.save(self.name, recovered)
        return recovered


def _name_the_log(exc: LogsvcError, name: str) -> None:
    """Say which log failed, in the error's message, unless it says so already."""
    if f"log {name!r}" not in exc.message:
        exc.message = f"log {name!r}: {exc.message}"
        exc.args = (exc.message,)
