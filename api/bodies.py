"""Reading what a client sent: JSON bodies, flags, ids and names, checked strictly.

Anything malformed is a BadRequest (400) with a message that says what is
wrong; a body that is not JSON at all is UnsupportedMediaType (415).
"""

import json
import re
from typing import Any

from flask import request

from logsvc.exceptions import BadRequest, UnsupportedMediaType
from logsvc.layout import not_a_log_name, not_an_instance_id, valid_instance_id, valid_log_name
from logsvc.requestbody import read_body

LOG_FLAGS = ("enable", "disable", "publish", "discard")
#: Keystone's project ids (32 hex digits) and the plain names deployments use as tenants.
_TENANT_RE = re.compile(r"(?!\.\.?\Z)[A-Za-z0-9_.-]{1,64}")
_WHOLE_RE = re.compile(r"([+-]?)([0-9]+)")


def json_object() -> dict[str, Any]:
    """The request's body, which must be a JSON object sent as application/json."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "the body must be JSON, sent with Content-Type: application/json "
            f"(not {request.mimetype or 'none'!r})"
        )
    data = read_body(request)  # over the size limit: 413
    if not data.strip():
        raise BadRequest("a JSON body is required")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"the body is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def instance_id(value: str) -> str:
    """An instance id from a URL, refused (400) when it cannot be one."""
    if not valid_instance_id(value):
        raise not_an_instance_id(value)
    return value


def tenant_id(value: Any, field: str = "tenant_id") -> str:
    """A tenant (a project's id, or the name used for it), refused (400) when it cannot be one.

    It ends up in URLs (the object store's of the project: api/callerstore.py),
    so only what Keystone's ids and plain names hold: never a '/', nor '.' or '..'.
    `field` names where it came from in the refusal.
    """
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string")
    if not _TENANT_RE.fullmatch(value):
        raise BadRequest(
            f"{field} {value[:80]!r} is not a project's id (letters, digits, '-', '_', "
            "'.'; at most 64; not '.' or '..')"
        )
    return value


def whole_number(name: str, text: str, low: int, high: int, meaning: str = "") -> int:
    """A whole number sent as text (a query parameter), from `low` to `high`.

    Refused (400) with a message that says which: not a whole number at all,
    or one out of bounds, and what the bounds are. `meaning` follows the
    bounds in the message ("(the last N lines)", say).
    """
    tail = f"{' ' + meaning if meaning else ''}, not {text[:40]!r}"
    match = _WHOLE_RE.fullmatch(text.strip())
    if not match:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}{tail}")
    sign, digits = match.groups()
    digits = digits.lstrip("0") or "0"
    # Longer than either bound is past it: int() of thousands of digits is slow
    # (and refused past 4,300).
    if len(digits) > max(len(str(abs(low))), len(str(abs(high)))):
        number = low - 1 if sign == "-" else high + 1
    else:
        number = int(sign + digits)
    if number < low:
        raise BadRequest(f"{name} must be at least {low}{tail}")
    if number > high:
        raise BadRequest(f"{name} must be at most {high}{tail}")
    return number


def log_name(value: Any) -> str:
    """A log name, refused (400) when it cannot be one."""
    if not isinstance(value, str):
        raise BadRequest("name must be a string")
    if not valid_log_name(value):
        raise not_a_log_name(value)
    return value


def flag(name: str, value: Any) -> bool:
    """A flag as Trove's clients send it: a JSON boolean, 0 or 1, or "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        # 1.0 too: JSON does not tell it from 1, and neither does the OpenAPI document.
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(
        f'{name} must be true or false (a JSON boolean, 0, 1, "true" or "false"), '
        f"not {json.dumps(value)[:40]}"
    )


def log_request(body: dict[str, Any]) -> tuple[str, dict[str, bool]]:
    """The log's name and the flags of a ``POST .../log`` body.

    The flags given true, and ``follow`` as given (true or false: on or off).
    """
    unknown = sorted(set(body) - {"name", "follow", *LOG_FLAGS})
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(u[:40] for u in unknown[:5])}; a log request "
            f"has name and the flags {', '.join(LOG_FLAGS)}, follow"
        )
    if "name" not in body:
        raise BadRequest("name (the log's name) is required")
    name = log_name(body["name"])
    flags = {f: flag(f, body[f]) for f in LOG_FLAGS if f in body}
    if flags.get("enable") and flags.get("disable"):
        raise BadRequest("enable and disable cannot be asked for together")
    chosen = {f: v for f, v in flags.items() if v}
    if "follow" in body:
        chosen["follow"] = flag("follow", body["follow"])
        if chosen["follow"] and flags.get("disable"):
            raise BadRequest("follow and disable cannot be asked for together")
    return name, chosen


def string(body: dict[str, Any], name: str, max_len: int, required: bool = True) -> str | None:
    """A string field of a body: present (when required), non-empty, not too long."""
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} must be a non-empty string")
    if len(value) > max_len:
        raise BadRequest(f"{name} must be at most {max_len} characters")
    return value
