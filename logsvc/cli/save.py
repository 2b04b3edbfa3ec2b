"""log-save: a whole log into a file, streamed through the API's read route, or
straight from the object store when the CLI has its settings (or --direct)."""

import os
import time

from cliff.command import Command

from logsvc.atomicfile import NotRegularFile
from logsvc.cli.tail import add_direct, report_gaps
from logsvc.exceptions import LogsvcError


class Progress:
    """A progress line on a terminal (and nothing when stderr is not one)."""

    def __init__(self, stream):
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and done < total):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6) / 1e6
        share = f"{100 * done / total:5.1f}%" if total else "     "
        self.stream.write(f"\r{share} {done / 1e6:10.1f} of {total / 1e6:.1f} MB, {rate:6.1f} MB/s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class LogSave(Command):
    """Save a whole log to a file; <log>.log by default.

    The file appears only once it is complete (written aside in its
    directory, then renamed over it). Only a new file or a regular file is
    written: a symbolic link is followed, and the file it points to is
    replaced (in that file's directory; the link stays). A device, a FIFO or
    a directory is refused; to send a log into one, use
    log-tail --lines 0 > TARGET. The bytes come through the API (its read
    route; an answer that breaks off is asked again from where it stopped)
    unless object-store settings are given, or --direct asks for the store.
    Nothing is written for a log with nothing published, nor from a store
    that holds none of a published log (wrong settings, most likely): an error.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("instance", help="the instance's id")
        parser.add_argument("log", help="the log's name (see log-list)")
        parser.add_argument(
            "--file",
            metavar="FILE",
            help="where to save it (default <log>.log): a new or a regular file, "
            "or a link to one (the file it points to is replaced)",
        )
        parser.add_argument("--publish", action="store_true", help="publish first, and wait for it")
        add_direct(parser)
        return parser

    def take_action(self, args):
        progress = Progress(self.app.stderr)
        client = self.app.client
        target = args.file or f"{args.log}.log"
        try:
            path = client.log_save(
                args.instance,
                args.log,
                publish=args.publish,
                filename=target,
                progress=progress,
                direct=True if args.direct else None,
            )
        except NotRegularFile as exc:
            instead = (
                f"--file {os.path.join(target, args.log + '.log')} saves it in that directory"
                if os.path.isdir(target)
                else f"log-tail --lines 0 > {target} sends a log anywhere"
            )
            raise LogsvcError(
                f"not saved: {target} is {exc.strerror}; log-save writes files only ({instead})"
            ) from None
        except OSError as exc:
            raise LogsvcError(f"cannot save to {target}: {exc.strerror}") from None
        finally:
            progress.finish()
        report_gaps(self.app.stderr, client.last_gaps)
        self.app.stdout.write(f"{path}\n")
        return 0
