"""What every datastore provides: its logs, and a switch for each USER log."""

import abc

import psutil

from guestagent.publishmodel import LogSource
from guestagent.state import LogState, StateStore
from logsvc.exceptions import DatastoreError
from logsvc.logmodel import LogType, RestartState


class Datastore(abc.ABC):
    """A kind of database server, as far as its logs go.

    Every datastore offers the agent's own log as the SYS log ``guest``. The
    base class keeps a USER log's switch in the agent's state (so it survives
    a restart); datastores that can ask the server itself override
    `is_enabled` and `switch`.

    Where a switch takes effect only at the server's next start
    (``[agent] restart_required_datastores``), the switch records when the
    server had started (`started`); the log is then Restart Required until
    the server reports a later start, and Restart Completed until that is
    acknowledged.
    """

    #: Appears in object names: <instance>/<name>-<log>/.
    name: str = ""
    #: Set from ``[agent] restart_required_datastores``.
    restart_required: bool = False

    def __init__(self, states: StateStore, guest_log: str | None):
        self.states = states
        self.guest_log = guest_log

    def log_sources(self) -> list[LogSource]:
        return [LogSource("guest", LogType.SYS, self.guest_log), *self.own_logs()]

    @abc.abstractmethod
    def own_logs(self) -> list[LogSource]:
        """The datastore's logs besides ``guest``."""

    def is_enabled(self, source: LogSource) -> bool:
        if source.type is LogType.SYS:
            return True
        state = self.states.load(source.name)
        return bool(state and state.enabled)

    def switch(self, source: LogSource, on: bool) -> None:
        """Turn a USER log on or off; called with the log's lock held."""
        state = self.states.load(source.name) or LogState()
        changed = bool(state.enabled) != on
        switch = {"want": on, "started": self.started()} if changed else state.switch
        if not self.restart_required:
            switch = {}
        self.states.save(source.name, state.replace(enabled=on, switch=switch))

    def started(self) -> str:
        """When the server last started. With no server to ask: when the instance booted
        (the agent's own start would not do: each one-shot command is a new process)."""
        return str(psutil.boot_time())

    def restart_state(self, source: LogSource) -> RestartState:
        state = self.states.load(source.name)
        if not self.restart_required or state is None or not state.switch:
            return RestartState.NONE
        try:
            started = self.started()
        except DatastoreError:
            return RestartState.REQUIRED
        if started == state.switch["started"]:
            return RestartState.REQUIRED
        return RestartState.COMPLETED

    def check(self) -> None:  # noqa: B027 - a file datastore has no server to ask
        """Raise DatastoreError unless the database server answers."""

    def acknowledge(self, source: LogSource) -> None:
        """A completed restart has been reported: forget it (the log's lock is held)."""
        state = self.states.load(source.name)
        if state is not None and state.switch:
            self.states.save(source.name, state.replace(switch={}))
