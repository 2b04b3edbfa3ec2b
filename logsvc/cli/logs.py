"""log-list, log-show, log-enable, log-disable, log-publish, log-discard."""

from cliff.lister import Lister
from cliff.show import ShowOne

from logsvc.cli.output import cells
from logsvc.logmodel import LogView

LIST_COLUMNS = ("Name", "Type", "Status", "Published", "Pending", "Container", "Prefix")
SHOW_FIELDS = ("name", "type", "status", "published", "pending", "container", "prefix", "metafile")


class LogList(Lister):
    """The logs of an instance (spec: log-list)."""

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
            cells(args, (v.name, v.type, v.status, v.published, v.pending, v.container, v.prefix))
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
        view = self.act(args).to_dict()
        return SHOW_FIELDS, cells(args, (view[f] for f in SHOW_FIELDS))


class LogShow(_OneLog):
    """One log of an instance (spec: log-show)."""

    def act(self, args):
        return self.app.client.log_show(args.instance, args.log)


class LogEnable(_OneLog):
    """Start writing a USER log (spec: log-enable)."""

    def act(self, args):
        return self.app.client.log_enable(args.instance, args.log)


class LogDisable(_OneLog):
    """Stop writing a USER log (spec: log-disable)."""

    def act(self, args):
        return self.app.client.log_disable(args.instance, args.log)


class LogPublish(_OneLog):
    """Publish what is new of a log to the object store (spec: log-publish)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--disable", action="store_true", help="disable the log afterwards")
        parser.add_argument(
            "--discard", action="store_true", help="discard what was published first"
        )
        return parser

    def act(self, args):
        return self.app.client.log_publish(
            args.instance, args.log, disable=args.disable, discard=args.discard
        )


class LogDiscard(_OneLog):
    """Delete what was published of a log (spec: log-discard)."""

    def act(self, args):
        return self.app.client.log_discard(args.instance, args.log)
