"""Log lines that a request cannot forge: control characters in a message are escaped.

A request's path, headers or body reach log messages (an error names the
request it failed on; the WSGI servers log a malformed request line). Decoded,
a path may hold a newline: written raw, the rest of it would read as a line of
its own, such as a forged ``CRITICAL``, in a log that tenants may read (the
agent's log is the published log ``guest``). Every handler of the daemons
escapes them, whoever logs: logsvc, Flask, gunicorn or cheroot.

A traceback stays multi-line: the formatter adds it after the escaped message.
A record logged with ``extra={"verbatim": True}`` is left as it is: only for
text the daemon wrote itself, such as the stacks of its threads.

The same filter masks anything shaped like a Keystone token
(``logsvc.redact.mask_tokens``): a caller's token that an agent holds for
one action (``[storage] account = project``) must not reach a log, whoever
would log it.
"""

import logging

from logsvc.redact import mask_tokens
from logsvc.safetext import printable


def escape(text: str) -> str:
    """`text` on one line: what is not printable but a tab, as its Python escape (``\\n``)."""
    return printable(text, limit=None, keep="\t")


class EscapeControlCharacters(logging.Filter):
    """Escapes control characters in a record's message, arguments interpolated.

    Installed on handlers, so that it sees every record they write, also those
    propagated from other loggers. The record is rewritten in place (its
    message formatted once), which every later handler then shares: escaping
    is idempotent.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "verbatim", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed call; logging reports it as it would
            return True
        escaped = mask_tokens(escape(message))
        if escaped != message or record.args:
            record.msg, record.args = escaped, None
        return True


def install(*loggers: logging.Logger) -> None:
    """Put the filter on every handler of `loggers` (the root logger when none)."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(f, EscapeControlCharacters) for f in handler.filters):
                handler.addFilter(EscapeControlCharacters())
