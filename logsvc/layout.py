"""Where a log lives in the object store: container, prefix, object names.

Object names carry their position: ``<prefix>log-<generation>-<offset>``,
both zero-padded, so that a listing in name order is the log in order and a
retried upload of the same bytes lands on the same name. A generation is one
incarnation of the log file (a rotation or a discard starts the next one);
the offset is the byte offset of the object's first byte in that file.
"""

import re
from dataclasses import dataclass

from logsvc.exceptions import BadRequest, ConfigError

# Instance ids and log names end up in object names and in file names of the
# agent's state directory: only these characters, so neither can steer a path.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_LOG_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_GEN_WIDTH = 8
_OFFSET_WIDTH = 20
_CHUNK_RE = re.compile(rf"^log-(\d{{{_GEN_WIDTH}}})-(\d{{{_OFFSET_WIDTH}}})$")
_CONTAINER_KEYS = ("instance_id", "datastore", "log")


def valid_instance_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value)) and ".." not in value


def valid_log_name(value: str) -> bool:
    return bool(_LOG_NAME_RE.fullmatch(value))


def not_an_instance_id(value: str) -> BadRequest:
    """The error that refuses `value` as an instance id, in the API's words."""
    return BadRequest(
        f"{value[:80]!r} is not an instance id (letters, digits, '.', '_', '-'; at most 128)"
    )


def not_a_log_name(value: str) -> BadRequest:
    """The error that refuses `value` as a log name, in the API's words."""
    return BadRequest(
        f"{value[:80]!r} is not a log name (lower-case letters, digits and '_'; at most 64)"
    )


def valid_container_name(value: str) -> bool:
    """A name Swift and a directory store both take as one container: no '/', no control."""
    return (
        0 < len(value.encode()) <= 256
        and "/" not in value
        and value not in (".", "..")
        and value.isprintable()
    )


def container_name(pattern: str, instance_id: str, datastore: str, log: str) -> str:
    """Expand ``guest_log_container_name``: %(instance_id)s, %(datastore)s, %(log)s."""
    try:
        name = pattern % {"instance_id": instance_id, "datastore": datastore, "log": log}
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"guest_log_container_name {pattern!r} is not a valid pattern; it may "
            f"use {', '.join('%(' + k + ')s' for k in _CONTAINER_KEYS)}: {exc}"
        ) from None
    if not valid_container_name(name):
        raise ConfigError(
            f"guest_log_container_name {pattern!r} gives {name!r}, which is not a "
            "container name (1 to 256 bytes, printable, no '/', not '.' or '..')"
        )
    return name


@dataclass(frozen=True)
class LogLocation:
    """The object-store address of one log of one instance."""

    container: str
    instance_id: str
    datastore: str
    log: str

    @property
    def prefix(self) -> str:
        return f"{self.instance_id}/{self.datastore}-{self.log}/"

    @property
    def metafile(self) -> str:
        return f"{self.instance_id}/{self.datastore}-{self.log}_metafile"

    def chunk_name(self, generation: int, offset: int) -> str:
        return f"{self.generation_prefix(generation)}{offset:0{_OFFSET_WIDTH}d}"

    def generation_prefix(self, generation: int) -> str:
        return f"{self.prefix}log-{generation:0{_GEN_WIDTH}d}-"

    @property
    def parts_prefix(self) -> str:
        """Where the parts of the log's objects are (outside `prefix`, as the metafile)."""
        return f"{self.instance_id}/{self.datastore}-{self.log}_parts/"

    def part_name(self, chunk: str, start: int, end: int) -> str:
        """The part of object `chunk` (a `chunk_name`) holding bytes [start, end) of the file.

        Both ends in the name: a part holds the same bytes whenever it is written.
        """
        return f"{self.parts_of(chunk)}{start}-{end}"

    def parts_of(self, chunk: str) -> str:
        """The prefix of every part of object `chunk`."""
        return f"{self.parts_prefix}{chunk.removeprefix(self.prefix)}/"


def parse_chunk_name(prefix: str, name: str) -> tuple[int, int] | None:
    """(generation, offset) of an object named by `LogLocation.chunk_name`."""
    if not name.startswith(prefix):
        return None
    match = _CHUNK_RE.fullmatch(name[len(prefix) :])
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))
