"""log-tail: the end of a log, as raw bytes: through the API's read route, or
straight from the object store when the CLI has its settings (or --direct)."""

import sys

from cliff.command import Command


def report_gaps(stderr, gaps) -> None:
    """Tell the user which parts of the log are gone (expired, or deleted)."""
    for gap in gaps:
        stderr.write(f"warning: {gap}\n")


def add_direct(parser) -> None:
    parser.add_argument(
        "--direct",
        action="store_true",
        help="read the object store itself (its settings: --file-root or --os-*), "
        "not the API's read route",
    )


class LogTail(Command):
    """Print the last lines of a log.

    --lines N: the last N lines (default 50); a negative N starts past line
    -N; 0 prints the whole log. Bytes are printed as they are (no decoding).
    The bytes come through the API (its read route) unless object-store
    settings are given (--file-root, --os-*), or --direct asks for the store.
    A log with nothing published is an error either way, and so is a store
    that holds none of a published log (wrong settings, most likely).
    --follow: then print new lines as they become readable (a log published
    continuously: log-enable --follow), until Ctrl-C; a rotation, bytes gone
    and a blip of the object store or the API are told on stderr. It reads
    where the last lines came from (the API's read route, or the object
    store), each time only the bytes past those it has (a Range).
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
        add_direct(parser)
        parser.add_argument(
            "--follow",
            "-f",
            action="store_true",
            help="then print new lines as they become readable, until Ctrl-C",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="with --follow: seconds between two looks for new bytes (default 1)",
        )
        return parser

    def take_action(self, args):
        out = getattr(self.app.stdout, "buffer", None) or sys.stdout.buffer
        if args.follow:
            return self._follow(args, out)
        gaps = []
        for chunk in self.app.client.log_generator(
            args.instance,
            args.log,
            publish=args.publish,
            lines=args.lines,
            gaps=gaps,
            direct=True if args.direct else None,
        ):
            out.write(chunk)
        out.flush()
        report_gaps(self.app.stderr, gaps)
        return 0

    def _follow(self, args, out) -> int:
        if not args.interval > 0:
            self.app.stderr.write("error: --interval must be more than 0\n")
            return 2
        if args.publish:
            self.app.client.log_publish(args.instance, args.log)

        def notify(kind: str, message: str) -> None:
            self.app.stderr.write(message + "\n")
            self.app.stderr.flush()

        chunks = self.app.client.log_follow(
            args.instance,
            args.log,
            lines=max(args.lines, 0),
            interval=args.interval,
            notify=notify,
            direct=True if args.direct else None,
        )
        try:
            for chunk in chunks:
                out.write(chunk)
                out.flush()
        except KeyboardInterrupt:
            pass  # Ctrl-C: the end of a follow, not an error
        except BrokenPipeError:
            pass  # the reader of our output went away (| head)
        finally:
            chunks.close()
        return 0
