"""The actions on an instance's logs, with the semantics of the guest-log API.

list, show, enable, disable, publish (optionally discarding first and
disabling after) and discard, over the datastore's logs; exposure decides
which logs a non-admin caller may see at all.
"""

import os

from oslo_config import cfg

from guestagent import datastores
from guestagent.datastores.base import Datastore
from guestagent.publisher import Publisher, PublishReport, PublishSettings
from guestagent.state import StateStore
from logsvc.exceptions import ConfigError, InvalidAction, LogBusy, LogNotFound
from logsvc.layout import LogLocation, container_name, valid_instance_id
from logsvc.logmodel import LogType, LogView, RestartState, derive_status
from logsvc.storage import ObjectStore

agent_group = cfg.OptGroup("agent", title="The guest agent")
agent_opts = [
    cfg.StrOpt(
        "instance_id",
        help="Id of the database instance this agent serves (as the API knows it). "
        "It names the instance's objects: letters, digits, '.', '_', '-'.",
    ),
    cfg.StrOpt(
        "datastore",
        default="file",
        choices=[
            ("mysql", "MySQL or MariaDB: guest, error, general, slow_query"),
            ("postgresql", "PostgreSQL: guest, general"),
            ("file", "log files listed in [file_datastore] logs"),
        ],
        help="Which kind of database server runs on this instance.",
    ),
    cfg.ListOpt(
        "restart_required_datastores",
        default=["postgresql"],
        item_type=cfg.types.String(choices=["postgresql", "file"]),
        help="Datastores whose USER log switches take effect only when the server "
        "restarts: a switched log reports Restart Required until the agent sees the "
        "server started after the switch, then Restart Completed. The file datastore "
        "has no server to ask: a reboot of the instance counts. (MySQL's switches take "
        "effect at once.)",
    ),
    cfg.StrOpt(
        "state_dir",
        default="/var/lib/logsvc/guestagent",
        help="Where the agent records how far each log is published. Keep it on a "
        "persistent disk: it is what lets a publish continue after a restart.",
    ),
]

exposure_opts = [
    cfg.ListOpt(
        "guest_log_exposed_logs",
        default=["ALL"],
        help="Logs that users may see and act on, or ALL. Admins see every log. A USER "
        "log not listed here cannot be enabled by a user.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(agent_group)
    conf.register_opts(agent_opts, agent_group)
    conf.register_opts(exposure_opts)


class LogManager:
    """The logs of one instance and what may be done with them."""

    def __init__(
        self,
        instance_id: str,
        datastore: Datastore,
        publishers: dict[str, Publisher],
        exposed: frozenset[str] | None,
    ):
        self.instance_id = instance_id
        self.datastore = datastore
        self.publishers = publishers
        self.exposed = exposed  # None: every log

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, store: ObjectStore) -> "LogManager":
        instance_id = conf.agent.instance_id
        if not instance_id:
            raise ConfigError("[agent] instance_id is required")
        if not valid_instance_id(instance_id):
            raise ConfigError(
                f"[agent] instance_id {instance_id!r} may hold only letters, digits, "
                "'.', '_' and '-' (at most 128)"
            )
        states = StateStore(conf.agent.state_dir)
        states.ensure_dir()
        datastore = datastores.load(conf, states, guest_log_path(conf))
        settings = PublishSettings.from_conf(conf)
        publishers = {}
        for source in datastore.log_sources():
            location = LogLocation(
                container_name(
                    settings.container_pattern, instance_id, datastore.name, source.name
                ),
                instance_id,
                datastore.name,
                source.name,
            )
            publishers[source.name] = Publisher(source, location, store, states, settings)
        exposed_opt = [e.strip() for e in conf.guest_log_exposed_logs if e.strip()]
        exposed = None if any(e.upper() == "ALL" for e in exposed_opt) else frozenset(exposed_opt)
        return cls(instance_id, datastore, publishers, exposed)

    # --- reads --------------------------------------------------------------------

    def list_logs(self, admin: bool) -> list[LogView]:
        return [
            self.view(p)
            for name, p in sorted(self.publishers.items())
            if self._visible(name, admin)
        ]

    def show(self, name: str, admin: bool) -> LogView:
        return self.view(self.publisher(name, admin))

    def publisher(self, name: str, admin: bool) -> Publisher:
        """The log's publisher; LogNotFound alike for unknown and hidden logs."""
        if name not in self.publishers or not self._visible(name, admin):
            raise LogNotFound(f"no log named {name!r} on this instance")
        return self.publishers[name]

    def _visible(self, name: str, admin: bool) -> bool:
        return admin or self.exposed is None or name in self.exposed

    def view(self, publisher: Publisher) -> LogView:
        source = publisher.source
        figures = publisher.figures()
        status = derive_status(
            source.type,
            enabled=self.datastore.is_enabled(source),
            published=figures.published,
            pending=figures.pending,
            rotated=figures.rotated,
            restart=self.datastore.restart_state(source),
        )
        location = publisher.location
        published = figures.published > 0
        return LogView(
            name=source.name,
            type=source.type,
            status=status,
            published=figures.published,
            pending=figures.pending,
            container=location.container if published else None,
            prefix=location.prefix if published else None,
            metafile=location.metafile,
        )

    # --- actions ------------------------------------------------------------------

    def act(
        self,
        name: str,
        *,
        admin: bool,
        enable: bool = False,
        disable: bool = False,
        publish: bool = False,
        discard: bool = False,
    ) -> tuple[LogView, PublishReport | None]:
        """One request of the API: flags in the documented order.

        enable; discard; publish (which enables a USER log first, unless
        `disable` is given too); disable. No flag at all is a show.
        """
        publisher = self.publisher(name, admin)
        source = publisher.source
        if enable and disable:
            raise InvalidAction("enable and disable cannot be asked for together")
        if (enable or disable) and source.type is LogType.SYS:
            raise InvalidAction(
                f"log {name!r} is a SYS log: it is always on and cannot be enabled or disabled"
            )
        report = None
        self._acknowledge(publisher, wait=enable or disable or publish or discard)
        if enable or (
            publish
            and source.type is LogType.USER
            and not disable
            and not self.datastore.is_enabled(source)
        ):
            self._switch(publisher, True)
        if discard:
            report = publisher.discard()
        if publish:
            report = publisher.publish()
        if disable:
            self._switch(publisher, False)
        return self.view(publisher), report

    def _acknowledge(self, publisher: Publisher, wait: bool) -> None:
        """Let the datastore forget a completed restart, now that it has been seen.

        Under the log's lock, since it rewrites the state a publish commits to;
        a show does not wait for a publish in progress (the next request will do).
        """
        if self.datastore.restart_state(publisher.source) is not RestartState.COMPLETED:
            return
        try:
            with publisher.states.lock(
                publisher.name, publisher.settings.lock_timeout if wait else 0
            ):
                self.datastore.acknowledge(publisher.source)
        except LogBusy:
            if wait:
                raise

    def _switch(self, publisher: Publisher, on: bool) -> None:
        with publisher.states.lock(publisher.name, publisher.settings.lock_timeout):
            self.datastore.switch(publisher.source, on)


def guest_log_path(conf: cfg.ConfigOpts) -> str | None:
    """The agent's own log file (oslo.log's log_file, in log_dir when relative)."""
    log_file = getattr(conf, "log_file", None)
    if not log_file:
        return None
    log_dir = getattr(conf, "log_dir", None)
    return os.path.join(log_dir, log_file) if log_dir else os.path.abspath(log_file)
