"""What the commands print of a server's answer: escaped, unless the format escapes it.

Names, containers, prefixes and every other value an answer holds come from
a server; a table, ``-f value`` or ``-f csv`` would print them raw, escape
sequences and all. JSON and YAML escape control characters themselves, and
carry the values exactly.
"""

from collections.abc import Iterable
from typing import Any

from logsvc.safetext import printable

_SELF_ESCAPING = ("json", "yaml")


def cells(args: Any, values: Iterable[Any]) -> tuple[Any, ...]:
    """`values` for cliff's formatter `args.formatter`: text made printable where needed."""
    if getattr(args, "formatter", None) in _SELF_ESCAPING:
        return tuple(values)
    return tuple(printable(v) if isinstance(v, str) else v for v in values)
