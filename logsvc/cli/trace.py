"""trace show (also trace-show): an OSProfiler trace as a tree, and as a page that works offline."""

from cliff.command import Command

from logsvc.exceptions import LogsvcError


class TraceShow(Command):
    """Print a trace (from --profile) as a tree; --html writes it as a web page."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("trace_id", help="the trace id --profile printed")
        parser.add_argument("--html", metavar="FILE", help="also write an HTML page")
        return parser

    def take_action(self, args):
        from logsvc.profiling import render

        store = self.app.settings.get("trace_store")
        if not store:
            raise LogsvcError(
                "where are traces kept? --trace-store or $LOGSVC_TRACE_STORE "
                "(the daemons' [profiler] connection_string)"
            )
        try:
            report = render.load(store, args.trace_id)
        except LookupError as exc:
            raise LogsvcError(str(exc)) from None
        self.app.stdout.write(render.render_text(report, args.trace_id))
        if args.html:
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(render.render_html(report, args.trace_id))
            self.app.stdout.write(f"written: {args.html}\n")
        return 0
