"""One action on a log, under its lock: a publish or a discard, byte-exact.

A publish:

1. settles what an earlier action left unfinished: generations to purge, and
   objects of an upload that never committed (``inflight``);
2. checks the file against what was published (``rotation.rotation_reason``);
   on rotation either purges and starts a new generation (the spec's way, the
   default) or, with the ``keep`` policy, publishes the rotated files' tails
   first, each as a generation of its own;
3. uploads the new bytes in chunks cut by ``logfile.OpenLog.chunks`` (and
   prepared ahead by ``readahead.prepared``) to names that carry their
   position, then commits: the metafile, then the state (a long upload also
   commits every ``CHECKPOINT_OBJECTS`` objects).

A crash anywhere leaves the state pointing at the last commit and marks any
upload in flight, so the next publish removes what may be half-done and
uploads it again to the same names: no byte is lost or duplicated.

The run is given everything it works with; it holds no reference to the
`Publisher` that starts it.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from guestagent import metafile
from guestagent.logfile import OpenLog
from guestagent.progress import moved_on, next_generation, published_elsewhere
from guestagent.publishmodel import LogSource, PublishReport, PublishSettings
from guestagent.readahead import prepared
from guestagent.rotation import rotated_files, rotation_reason
from guestagent.state import LogState, StateStore
from logsvc.exceptions import LogFileMissing, LogsvcError, StateError
from logsvc.layout import LogLocation, parse_chunk_name
from logsvc.storage import ObjectStore

LOG = logging.getLogger(__name__)

#: A long publish commits its progress after this many objects: a crash or an
#: outage then costs at most that many uploads again, for one more metafile
#: write each time.
CHECKPOINT_OBJECTS = 64


class PublishRun:
    """One action on a log, holding its lock; `committed` is what is on disk."""

    def __init__(
        self,
        source: LogSource,
        location: LogLocation,
        store: ObjectStore,
        states: StateStore,
        settings: PublishSettings,
        state: LogState,
    ):
        self.source = source
        self.location = location
        self.store = store
        self.states = states
        self.settings = settings
        self.committed = state
        self.state = state
        self.report = PublishReport()

    # --- the two actions ---------------------------------------------------------

    def publish(self) -> None:
        if published_elsewhere(self.state, self.location):
            # guest_log_container_name changed: the new container gets the whole
            # log; what the old one holds stays there until it expires.
            LOG.warning(
                "log %s: published into container %s until now, %s from now on: "
                "publishing it from the start",
                self.source.name,
                self.state.container,
                self.location.container,
            )
            self.save(
                LogState(
                    generation=self.state.generation + 1,
                    enabled=self.state.enabled,
                    switch=self.state.switch,
                )
            )
        self.settle()
        path = self.source.path
        if not path:
            raise LogFileMissing(
                f"log {self.source.name!r} has no file on this instance (is its output on?)"
            )
        with OpenLog(path) as log:
            try:
                reason = rotation_reason(self.state, log)
                if reason:
                    self.rotate(log, reason)
                self.publish_file(log, final=False)
            finally:
                self.report.bytes_read += log.bytes_read
        self.commit(self.state.replace(last_publish=time.time(), last_error=None))
        LOG.info(
            "log %s: published %d bytes in %d objects",
            self.source.name,
            self.report.bytes_published,
            self.report.objects,
        )

    def discard(self) -> None:
        generation = self.state.generation + 1
        fresh = LogState(
            generation=generation,
            purge_below=generation,
            enabled=self.state.enabled,
            switch=self.state.switch,
        )
        self.commit(fresh)
        self.settle()

    # --- steps -------------------------------------------------------------------

    def settle(self) -> None:
        """Finish a purge and clear an uncommitted upload that an earlier action left."""
        below = self.state.purge_below
        if below:
            self.report.purged += self.delete_objects(lambda gen, _: gen < below)
            self.commit(self.state.replace(purge_below=0))
        if self.state.inflight is not None:
            gen, start = self.state.generation, self.state.inflight
            self.report.cleaned += self.delete_objects(
                lambda g, offset: g == gen and offset >= start,
                marker=self.location.chunk_name(gen, start - 1) if start else "",
                prefix=self.location.generation_prefix(gen),
            )
            self.save(self.state.replace(inflight=None))

    def rotate(self, log: OpenLog, reason: str) -> None:
        LOG.info("log %s: %s", self.source.name, reason)
        self.report.rotation = reason
        if self.settings.rotation_policy == "keep":
            rotated = rotated_files(self.source.path, self.state, log.ino)
            if not rotated or not rotated[0].continues:
                self.report.lost_tail = True
                LOG.warning(
                    "log %s: no rotated copy of the file was found; what was written to it "
                    "after the last publish, if anything, is not published",
                    self.source.name,
                )
            for old in rotated:
                with OpenLog(old.path) as old_log:
                    if not old.continues:
                        self.state = next_generation(self.state, old_log.ino)
                    self.publish_file(old_log, final=True)
                    self.report.bytes_read += old_log.bytes_read
            self.state = next_generation(self.state, log.ino)
            return
        generation = self.state.generation + 1
        self.commit(
            next_generation(self.state, log.ino).replace(purge_below=generation, published=0)
        )
        self.settle()

    def publish_file(self, log: OpenLog, final: bool) -> None:
        """Upload `log` from the state's offset on, then commit."""
        settings, loc, store = self.settings, self.location, self.store
        start = self.state
        with contextlib.closing(
            prepared(log.chunks(start.offset, settings.limit, final))
        ) as chunks:
            chunk = next(chunks, None)
            if chunk is None:
                if start.file_ino != log.ino:
                    self.commit(start.replace(file_ino=log.ino))
                return
            self.save(start.replace(inflight=start.offset))
            offset, lines, published, last = start.offset, start.lines, start.published, None
            headers = {"X-Delete-After": str(settings.expiry)} if settings.expiry else {}
            since_checkpoint = 0
            while chunk is not None:
                pos, data, count, etag = chunk
                chunk = None
                name = loc.chunk_name(start.generation, pos)
                store.put_object(
                    loc.container,
                    name,
                    data,
                    {**headers, "X-Object-Meta-Lines": str(count), "ETag": etag},
                )
                size = len(data)
                del data  # memory stays within two chunks: this one is done
                offset, lines, published, last = pos + size, lines + count, published + size, name
                self.report.bytes_published += size
                self.report.objects += 1
                since_checkpoint += 1
                chunk = next(chunks, None)
                if chunk is not None and since_checkpoint >= CHECKPOINT_OBJECTS:
                    # What is uploaded so far stays, should the rest be cut short.
                    self.commit(moved_on(start, log, offset, lines, published, last, offset, loc))
                    since_checkpoint = 0
            self.commit(moved_on(start, log, offset, lines, published, last, None, loc))

    def delete_objects(
        self, doomed: Callable[[int, int], bool], marker: str = "", prefix: str = ""
    ) -> int:
        """Delete this log's objects for which ``doomed(generation, offset)`` holds."""
        loc = self.location
        deleted = 0
        listing: Iterator = self.store.list_objects(
            loc.container, prefix or loc.prefix, marker=marker
        )
        for obj in listing:
            parsed = parse_chunk_name(loc.prefix, obj.name)
            if parsed is None or doomed(*parsed):
                deleted += self.store.delete_object(loc.container, obj.name)
        return deleted

    # --- commits -----------------------------------------------------------------

    def commit(self, state: LogState) -> None:
        """Record `state`: the metafile when the published figures moved, then locally."""
        old = self.committed
        if (state.generation, state.offset, state.published, state.purge_below) != (
            old.generation,
            old.offset,
            old.published,
            old.purge_below,
        ):
            self.write_metafile(state)
        self.save(state)

    def save(self, state: LogState) -> None:
        self.states.save(self.source.name, state)
        self.committed = self.state = state

    def write_metafile(self, state: LogState) -> None:
        loc, settings = self.location, self.settings
        if state.published == 0 and not state.purge_below:
            self.store.delete_object(loc.container, loc.metafile)
            return
        headers = {"X-Object-Meta-Lines": str(state.lines)}
        if settings.expiry:
            headers["X-Delete-After"] = str(settings.expiry)
        body = metafile.render(
            state,
            log_name=self.source.name,
            log_type=self.source.type,
            log_file=self.source.path or "",
        )
        self.store.put_object(loc.container, loc.metafile, body, headers)

    def record_error(self, exc: LogsvcError) -> None:
        """Keep the error beside the last committed state, if the disk lets us."""
        with contextlib.suppress(StateError):
            self.states.save(self.source.name, self.committed.replace(last_error=exc.message))
        LOG.warning("log %s: %s", self.source.name, exc.message)
