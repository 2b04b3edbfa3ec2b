"""log-list, log-show, log-enable, log-disable, log-publish, log-discard."""

from cliff.lister import Lister
from cliff.show import ShowOne

from logsvc.cli.output import cells
from logsvc.logmodel import LogView

LIST_COLUMNS = (
    "Name",
    "Type",
    "Status",
    "Published",
    "Pending",
    "Container",
    "Prefix",
    "Follow",
)
SHOW_FIELDS = (
    "name",
    "type",
    "status",
    "published",
    "pending",
    "container",
    "prefix",
    "metafile",
    "follow",
)


class LogList(Lister):
    """The logs of an instance."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("instance", help="the instance's id")
        return parser

    def take_action(self, args):
        logs = self.app.client.log_list(args.instance)
        if logs.stale:
            self.app.stderr.write(
                f"warning: {logs.message or 'the agent is unreachable'}; "
                f"this is the last known state ({logs.last_seen or 'time unknown'})\n"
            )
        rows = [
            # None stays None: tables print it as the spec's do, -f json as null.
            cells(
                args,
                (v.name, v.type, v.status, v.published, v.pending, v.container, v.prefix, v.follow),
            )
            for v in logs
        ]
        return LIST_COLUMNS, rows


class _OneLog(ShowOne):
    """Base of the commands that act on one log and show it."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("instance", help="the instance's id")
        parser.add_argument("log", help="the log's name (see log-list)")
        return parser

    def act(self, args) -> LogView:
        raise NotImplementedError

    def take_action(self, args):
        self._last = self.act(args)
        view = self._last.to_dict()
        return SHOW_FIELDS, cells(args, (view[f] for f in SHOW_FIELDS))


class LogShow(_OneLog):
    """One log of an instance."""

    def act(self, args):
        return self.app.client.log_show(args.instance, args.log)


class LogEnable(_OneLog):
    """Start writing a USER log.

    --follow: publish it continuously as it grows (a SYS log too: it is always
    on), so that ``log-tail --follow`` shows new lines within seconds;
    --no-follow: stop that (the log stays on).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--follow",
            dest="follow",
            action="store_const",
            const=True,
            default=None,
            help="publish the log continuously (docs/follow.md)",
        )
        group.add_argument(
            "--no-follow",
            dest="follow",
            action="store_const",
            const=False,
            help="stop publishing it continuously",
        )
        return parser

    def act(self, args):
        return self.app.client.log_enable(args.instance, args.log, follow=args.follow)


class LogDisable(_OneLog):
    """Stop writing a USER log."""

    def act(self, args):
        return self.app.client.log_disable(args.instance, args.log)


class LogPublish(_OneLog):
    """Publish what is new of a log to the object store.

    Waits until the publish ends (a progress line on a terminal), and exits
    non-zero with the agent's error when it failed; --no-wait returns once
    the API has answered (within its [api] publish_wait), the publish maybe
    still running (then said on stderr).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--disable", action="store_true", help="disable the log afterwards")
        parser.add_argument(
            "--discard", action="store_true", help="discard what was published first"
        )
        parser.add_argument(
            "--no-wait",
            dest="wait",
            action="store_false",
            help="do not wait for a publish that runs on after the API's answer",
        )
        return parser

    def act(self, args):
        progress = _Progress(self.app.stderr) if _isatty(self.app.stderr) else None
        try:
            return self.app.client.log_publish(
                args.instance,
                args.log,
                disable=args.disable,
                discard=args.discard,
                wait=args.wait,
                progress=progress,
            )
        finally:
            if progress is not None:
                progress.done()

    def take_action(self, args):
        columns, values = super().take_action(args)
        outcome = self._last.publish
        if outcome is not None and outcome.running:
            self.app.stderr.write(
                f"the publish runs on (since {outcome.started_at}); log-show {args.instance} "
                f"{args.log} tells when it has ended\n"
            )
        return columns, values


class _Progress:
    """One line on a terminal, rewritten: how far the publish is."""

    def __init__(self, stream):
        self.stream = stream
        self.shown = False

    def __call__(self, view: LogView) -> None:
        since = view.publish.started_at if view.publish else "?"
        line = (
            f"publishing {view.name}: {view.published} bytes published, "
            f"{view.pending} pending (since {since})"
        )
        self.stream.write(f"\r{line[:150]}\x1b[K")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class LogDiscard(_OneLog):
    """Delete what was published of a log."""

    def act(self, args):
        return self.app.client.log_discard(args.instance, args.log)
