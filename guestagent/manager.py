"""The actions on an instance's logs, with the semantics of the guest-log API.

list, show, enable, disable, publish (optionally discarding first and
disabling after) and discard, over the datastore's logs; exposure decides
which logs a non-admin caller may see at all.

Whose Swift account a publish or a discard writes into is ``[storage]
account``: the service's (the agent's own store), or, with ``project``, the
caller's, whose token and storage URL come with the action
(logsvc.storage.caller). Their store is made for that action, lives in its
publish job only and is closed when it ends; a mismatch between the API's
setting and the agent's is refused (409), and so is follow with ``project``
(400): the agent holds no token between actions.
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from oslo_config import cfg

from guestagent import datastores
from guestagent.datastores.base import Datastore
from guestagent.publisher import Publisher
from guestagent.publishjobs import PublishJobs, busy
from guestagent.publishmodel import Account, PublishSettings
from guestagent.state import StateStore
from logsvc.exceptions import (
    ConfigError,
    Conflict,
    InvalidAction,
    LogBusy,
    LogNotFound,
    StorageAuthError,
)
from logsvc.layout import LogLocation, container_name, valid_instance_id
from logsvc.logmodel import LogType, LogView, RestartState, derive_status
from logsvc.storage import ObjectStore, retry_from_conf
from logsvc.storage.caller import CallerStorage

if TYPE_CHECKING:
    from logsvc.storage.swift import SwiftRetry

#: ``[storage] account``: the service's account, or each project's own.
SERVICE, PROJECT = "service", "project"


class LogManager:
    """The logs of one instance and what may be done with them."""

    def __init__(
        self,
        instance_id: str,
        datastore: Datastore,
        publishers: dict[str, Publisher],
        exposed: frozenset[str] | None,
        jobs: PublishJobs | None = None,
        account: str = SERVICE,
        retry: "SwiftRetry | None" = None,
    ):
        """`account`: ``[storage] account``; `retry`: the SwiftRetry of the callers' stores."""
        self.instance_id = instance_id
        self.datastore = datastore
        self.publishers = publishers
        self.exposed = exposed  # None: every log
        # The publishes in their threads; their outcomes beside the logs' states.
        states = {p.states.state_dir for p in publishers.values()}
        self.jobs = jobs or PublishJobs(states.pop() if len(states) == 1 else ".")
        #: Called with a log's name when its follow was switched (the follower wakes).
        self.on_follow: Callable[[str], None] | None = None
        self.account = account
        self.retry = retry

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, store: ObjectStore | None) -> "LogManager":
        """`store`: the agent's own (None with ``[storage] account = project``)."""
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
        # With account = project each action's store is a caller's Swift store.
        settings.check((store or ObjectStore).max_upload_concurrency)
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
        account = conf.storage.account
        if account == PROJECT and conf.storage.backend != "swift":
            raise ConfigError("[storage] account = project needs [storage] backend = swift")
        return cls(
            instance_id,
            datastore,
            publishers,
            exposed,
            PublishJobs(conf.agent.state_dir),
            account=account,
            retry=retry_from_conf(conf) if account == PROJECT else None,
        )

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
            publish=self.jobs.outcome(source.name),
            follow=figures.follow,
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
        wait: float | None = None,
        follow: bool | None = None,
        storage: CallerStorage | None = None,
    ) -> LogView:
        """One request of the API: flags in the documented order.

        enable; discard; follow on or off (on enables a USER log first, and
        publishes what its file holds at once, if there is a file yet);
        publish (which enables a USER log first, unless `disable` is given
        too); disable. No flag at all is a show.

        A publish runs in a thread of its own (``publishjobs``); the answer
        comes when it ends, or after `wait` seconds (None: when it ends) with
        the log's state, whose ``publish`` says it runs. Any other action on
        a log that publishes is refused (LogBusy) at once.

        `storage`: the caller's account, where a publish or a discard writes
        (``[storage] account = project``).
        """
        publisher = self.publisher(name, admin)
        self._check_account(storage, writes=publish or discard, follow=bool(follow))
        source = publisher.source
        if enable and disable:
            raise InvalidAction("enable and disable cannot be asked for together")
        if (enable or disable) and source.type is LogType.SYS:
            raise InvalidAction(
                f"log {name!r} is a SYS log: it is always on and cannot be enabled or disabled"
            )
        if follow and disable:
            raise InvalidAction("follow and disable cannot be asked for together")

        def act(publish: bool) -> None:
            # The caller's store is made in the thread that acts and lives with it only.
            with self._caller_account(storage) as account:
                self._do(
                    publisher,
                    enable=enable,
                    disable=disable,
                    publish=publish,
                    discard=discard,
                    follow=follow,
                    account=account,
                )

        if not publish:
            running = self.jobs.running(name)
            if running is not None and (enable or disable or discard):
                raise busy(running)
            act(False)
            return self.view(publisher)
        flags = frozenset(
            f for f, on in (("enable", enable), ("disable", disable), ("discard", discard)) if on
        ) | {"publish"}
        if follow is not None:
            flags |= {"follow" if follow else "nofollow"}

        job = self.jobs.start_or_join(name, flags, lambda: act(True))
        if job.done.wait(wait) and job.error is not None:
            raise job.error
        return self.view(publisher)

    def _do(
        self,
        publisher: Publisher,
        *,
        enable: bool,
        disable: bool,
        publish: bool,
        discard: bool,
        follow: bool | None = None,
        account: Account | None = None,
    ) -> None:
        source = publisher.source
        self._acknowledge(
            publisher, wait=enable or disable or publish or discard or follow is not None
        )
        if enable or (
            (publish or follow)
            and source.type is LogType.USER
            and not disable
            and not self.datastore.is_enabled(source)
        ):
            self._switch(publisher, True)
        if discard:
            publisher.discard(account)
        published = False
        if follow is not None:
            if follow and publisher.has_file():
                # what the file holds now, at once: and the errors of a publish
                publisher.publish(follow=True)
                published = True
            publisher.set_follow(follow)
            if self.on_follow is not None:
                self.on_follow(publisher.name)
        if publish and not published:
            publisher.publish(follow=publisher.state().follow, account=account)
        if disable:
            self._switch(publisher, False)

    def _check_account(self, storage: CallerStorage | None, writes: bool, follow: bool) -> None:
        """Refuse what the agent's ``[storage] account`` cannot do, before anything is done."""
        if self.account != PROJECT:
            if storage is not None:
                raise Conflict(
                    "the API sent the caller's credentials, but this agent publishes into the "
                    "service's Swift account ([storage] account = service on the agent): set "
                    "[storage] account alike on the API and its agents"
                )
            return
        if follow:
            raise InvalidAction(
                "continuous publishing (follow) is not available with [storage] account = "
                "project: the agent holds the caller's token for one action only; publish "
                "instead"
            )
        if writes and storage is None:
            raise Conflict(
                "this agent publishes into each project's own Swift account ([storage] "
                "account = project), with the caller's credentials that the API sends with "
                "each publish and discard, and this request carries none: is [storage] "
                "account = project set on the API too? (a one-shot command cannot publish here)"
            )

    @contextlib.contextmanager
    def _caller_account(self, storage: CallerStorage | None) -> Iterator[Account | None]:
        """The caller's account for one action (None: the agent's own), closed after it.

        A token that expires or is revoked during the action makes Swift answer
        401: what was committed stays, and a retry with a fresh token goes on
        from there.
        """
        if storage is None:
            yield None
            return
        store = storage.store(self.retry)
        try:
            yield Account(store, storage.account_id)
        except StorageAuthError as exc:
            raise StorageAuthError(
                f"{exc.message}: the caller's token was refused (it expired or was revoked "
                "during the action, or the caller's role may not write in the project's "
                "account); what was published before stays, and publishing again with a "
                "fresh token goes on from there"
            ) from None
        finally:
            store.close()

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
