"""Keeping configured secrets out of every report.

Our collectors are written not to put credentials in what they report, but
a plugin's output or an exception's text is not ours to vouch for. The
service therefore masks every configured secret wherever it appears in a
report before the report is cached, and so before anyone can read it.
"""

from collections.abc import Iterable
from typing import Any

from oslo_config import cfg

MASK = "***"
#: Shorter values would mask ordinary words and numbers all over the report.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Replaces each of some secret strings with ``***`` in JSON values."""

    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so that a secret containing another is masked whole.
        self.secrets = sorted(
            {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, value: str) -> str:
        """`value` with every secret masked."""
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def value(self, value: Any) -> Any:
        """A JSON value with every secret masked in its strings and keys."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        return value


def secrets_from_conf(
    conf: cfg.ConfigOpts,
    opt_lists: Iterable[tuple[str | cfg.OptGroup | None, Iterable[cfg.Opt]]],
) -> list[str]:
    """The values of the options marked ``secret=True`` among `opt_lists`.

    `opt_lists` is what a daemon's ``list_opts()`` returns; options not
    registered in `conf` are skipped.
    """
    found: list[str] = []
    for group, opts in opt_lists:
        group_name = group.name if isinstance(group, cfg.OptGroup) else group
        for opt in opts:
            if not opt.secret:
                continue
            try:
                if group_name in (None, "DEFAULT"):
                    value = conf[opt.dest]
                else:
                    value = conf[group_name][opt.dest]
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError):
                continue
            values = value if isinstance(value, list | tuple) else [value]
            found.extend(str(v) for v in values if v)
    return found
