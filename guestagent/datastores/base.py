"""What every datastore provides: its logs, and a switch for each USER log."""

import abc

from guestagent.publishmodel import LogSource
from guestagent.state import LogState, StateStore
from logsvc.logmodel import LogType, RestartState


class Datastore(abc.ABC):
    """A kind of database server, as far as its logs go.

    Every datastore offers the agent's own log as the SYS log ``guest``. The
    base class keeps a USER log's switch in the agent's state (so it survives
    a restart); datastores that can ask the server itself override
    `is_enabled` and `switch`.
    """

    #: Appears in object names: <instance>/<name>-<log>/.
    name: str = ""

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
        self.states.save(source.name, state.replace(enabled=on))

    def restart_state(self, source: LogSource) -> RestartState:
        return RestartState.NONE

    def check(self) -> None:  # noqa: B027 - a file datastore has no server to ask
        """Raise DatastoreError unless the database server answers."""

    def acknowledge(self, source: LogSource) -> None:  # noqa: B027 - most have nothing to do
        """A completed restart has been reported: forget it (the log's lock is held)."""
