"""Masking secrets: what the status report, the Guru Meditation Report and
the traces run over their text before anyone can read it.

Our code is written not to put credentials in what it reports, but a
plugin's output or an exception's text is not ours to vouch for. So every
configured secret is masked wherever it appears: in a status report before
it is cached (logsvc.status), in a Guru Meditation Report before it is
written (logsvc.gmr), in every trace point before it is sent
(logsvc.profiling).

Three kinds of masking: the configured secrets (the values of options marked
``secret=True``, and the password inside those that are URLs), the
password of any URL with one (``scheme://user:password@host``), configured
or not, marked secret or not, and anything shaped like a Keystone token
(Fernet or JWS): with ``[storage] account = project`` a caller's token
travels to the agent with an action, and no configuration names it. The
daemons' log lines are masked alike (logsvc.logescape).
"""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from oslo_config import cfg

from logsvc.conf import registered_opts

MASK = "***"
#: Shorter values would mask ordinary words and numbers all over the report.
MIN_SECRET_LENGTH = 4

# scheme://user:password@ -- the password is what lies between the first ':'
# after the scheme's '//' and the last '@' before the host.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@")


# Keystone's Fernet tokens (base64url of 0x80 and a timestamp: "gAAAAA...",
# about 180 characters or more) and JWS tokens (three base64url parts, "eyJ...").
_KEYSTONE_TOKEN = re.compile(
    r"gAAAAA[A-Za-z0-9_\-]{40,}={0,2}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
)


def mask_tokens(text: str) -> str:
    """`text` with everything shaped like a Keystone token masked."""
    if "gAAAAA" not in text and "eyJ" not in text:
        return text
    return _KEYSTONE_TOKEN.sub(MASK, text)


def mask_url_passwords(text: str) -> str:
    """`text` with the password of every ``scheme://user:password@host`` masked."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)


def url_password(value: str) -> str | None:
    """The password of `value` if it is a URL that carries one, else None."""
    if "://" not in value or "@" not in value:
        return None
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return None
    return password or None


class Redactor:
    """Replaces each of some secret strings with ``***`` in JSON values."""

    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so that a secret containing another is masked whole.
        self.secrets = sorted(
            {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )

    def text(self, value: str) -> str:
        """`value` with every secret, every URL's password and every Keystone token masked."""
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        value = mask_tokens(value)
        return mask_url_passwords(value) if "://" in value else value

    def value(self, value: Any) -> Any:
        """A JSON value with every secret masked in its strings and keys."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        return value


def secrets_in_conf(conf: cfg.ConfigOpts) -> list[str]:
    """The values of every option marked ``secret=True`` that `conf` has registered.

    The one way to learn what to mask: every option registered counts, ours
    and the libraries' (keystonemiddleware's, osprofiler's), so no caller
    needs a daemon's option lists (``logsvc.conf.registered_opts``).
    """
    found: list[str] = []
    for group_name, opt in registered_opts(conf):
        if not opt.secret:
            continue
        try:
            value = conf[opt.dest] if group_name is None else conf[group_name][opt.dest]
        except (cfg.Error, KeyError, ValueError):
            continue  # unset, or a value that does not parse: nothing to mask
        found.extend(_secret_values(value))
    return found


def _secret_values(value: Any) -> list[str]:
    """An option's value as the strings to mask.

    A URL's secret is its password: a database URL with one gives the
    password (as written, and decoded), so that reports still say which
    database they speak of; a URL without a password or query holds no
    secret. Any other value is masked whole.
    """
    found = []
    for v in value if isinstance(value, list | tuple) else [value]:
        if not v:
            continue
        text = str(v)
        password = url_password(text)
        if password:
            found += [password, unquote(password)]
        elif not _plain_url(text):
            found.append(text)
    return found


def _plain_url(text: str) -> bool:
    """Whether `text` is a URL with neither credentials nor a query."""
    if "://" not in text:
        return False
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return False
    return bool(parts.scheme) and not parts.query and "@" not in parts.netloc
