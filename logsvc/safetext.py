"""Text that came from elsewhere (a server, a store), made safe to print on a terminal.

A server's error message, a log's container or a trace point's name could
hold escape sequences (ANSI colours, OSC 52 which writes the clipboard, a
cursor move that hides the line before) or run to megabytes. What is printed
of them passes `printable` first: every character that is not printable
(controls, line and paragraph separators, bidirectional overrides) becomes
its Python escape, and long text is cut with a note of how much was left out.
"""

#: Characters of a message printed for a person, at most (the rest is cut).
MESSAGE_LIMIT = 500


def printable(text: object, limit: int | None = MESSAGE_LIMIT, keep: str = "") -> str:
    """`text` on one line, with its unprintable characters escaped, cut after `limit`.

    The characters of `keep` (a tab, say) are left as they are.
    """
    text = str(text)
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"... ({len(text) - limit} more characters)"
        text = text[:limit]
    if not text.isprintable():
        text = "".join(
            c if c.isprintable() or c in keep else c.encode("unicode_escape").decode("ascii")
            for c in text
        )
    return text + cut


def printable_lines(text: str) -> str:
    """Each line of `text` made `printable`, whatever its length; the newlines kept."""
    return "\n".join(printable(line, None) for line in text.split("\n"))
