"""log-tail: the end of a log, read straight from the object store, as raw bytes."""

import sys

from cliff.command import Command


def report_gaps(stderr, gaps) -> None:
    """Tell the user which parts of the log are gone (expired, or deleted)."""
    for gap in gaps:
        stderr.write(f"warning: {gap}\n")


class LogTail(Command):
    """Print the last lines of a log (spec: log-tail).

    --lines N: the last N lines (default 50); a negative N starts past line
    -N; 0 prints the whole log. Bytes are printed as they are (no decoding).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("instance", help="the instance's id")
        parser.add_argument("log", help="the log's name (see log-list)")
        parser.add_argument(
            "--lines",
            type=int,
            default=50,
            metavar="N",
            help="last N lines; negative: from past line -N; 0: all (default 50)",
        )
        parser.add_argument("--publish", action="store_true", help="publish first, and wait for it")
        return parser

    def take_action(self, args):
        gaps = []
        out = getattr(self.app.stdout, "buffer", None) or sys.stdout.buffer
        for chunk in self.app.client.log_generator(
            args.instance, args.log, publish=args.publish, lines=args.lines, gaps=gaps
        ):
            out.write(chunk)
        out.flush()
        report_gaps(self.app.stderr, gaps)
        return 0
