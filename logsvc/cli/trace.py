"""trace show (also trace-show): an OSProfiler trace as a tree, and as a page that works offline.

Also what ``--profile`` says after a command: the trace id, and whether the
daemons recorded anything under it (when the trace store is known), since a
daemon with the profiler off, or without the key among its ``hmac_keys``,
serves the command untraced and says nothing.
"""

from cliff.command import Command

from logsvc.exceptions import LogsvcError
from logsvc.safetext import printable, printable_lines

#: What to check when a trace has no point: the daemons' side of --profile.
CHECK = (
    "check on the API's and the agent's hosts that [profiler] enabled = true, that the "
    "key given to --profile is one of their hmac_keys, and that their connection_string "
    "names this store"
)


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
            raise LogsvcError(f"{exc}{_holding(store)}: {CHECK}") from None
        except ValueError as exc:  # not a trace id
            raise LogsvcError(printable(exc)) from None
        # what the store holds came from the daemons' requests: printed escaped
        self.app.stdout.write(printable_lines(render.render_text(report, args.trace_id)))
        if args.html:
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(render.render_html(report, args.trace_id))
            self.app.stdout.write(f"written: {args.html}\n")
        return 0


def _holding(store: str) -> str:
    from logsvc.profiling import render

    try:
        count = render.trace_count(store)
    except Exception:  # a remark only: the store answered the load
        return ""
    return " (it holds no trace at all)" if count == 0 else f" (it holds {count} other traces)"


def profiled(store: str | None, base_id: str) -> str:
    """What to print after a command run with --profile."""
    shown = f"Trace ID: {base_id}\nShow it with: logsvc trace show {base_id}\n"
    if not store:
        return shown + (
            "(whether the daemons traced it is not checked: "
            "--trace-store or $LOGSVC_TRACE_STORE says where to look)\n"
        )
    from logsvc.profiling import render

    try:
        render.load(store, base_id)
    except LookupError:
        return (
            f"warning: nothing was traced: the daemons recorded no point of trace {base_id} "
            f"in the {store.split('://', 1)[0]} store{_holding(store)}; {CHECK}\n"
        )
    except Exception as exc:  # the command itself went well
        return shown + f"(the trace store could not be read: {type(exc).__name__})\n"
    return shown
