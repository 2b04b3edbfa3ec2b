"""Plugins: scripts, files and unix sockets of a directory, one report each.

The plugin directory holds, directly or in a subdirectory named after a
category (``instance/``, ``storage/``, ``daemon/``, ``hypervisor/``; files at
the top have no category):

- ``*.json`` and ``*.txt`` files, read and put into the report;
- ``*.sock`` unix sockets, connected to and read until the other end closes;
- executables (any other name), run without a shell, without arguments and
  with a small environment, and killed with their children at the timeout.

A report is named after its file (``raid-check.sh``, ``motd.txt``). What the
output means is decided in plugin_output.py. A plugin that fails gives a
status report: code 2 when we could not tell (it hung, its output cannot be
read), code 4 when it failed (non-zero exit, cannot be run, nothing listens
on its socket). The directory is read when the service is built; plugins
added later are seen after a restart.
"""

import abc
import logging
import os
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from logsvc.status.collector import Collector, valid_name
from logsvc.status.plugin_output import (
    MAX_OUTPUT,
    OutputMode,
    PluginAnswer,
    PluginFailure,
    parse_output,
)
from logsvc.status.report import PLUGIN_VERSION, Category, Kind, Status, StatusCode, status_data

LOG = logging.getLogger(__name__)

# Left behind by editors and package managers; never plugins.
_IGNORED_SUFFIXES = ("~", ".bak", ".swp", ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".rpmnew")


class PluginCollector(Collector):
    """A plugin: its kind is that of its last answer (status until it first answers)."""

    version = PLUGIN_VERSION

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        category: Category | None,
        timeout: float,
        interval: float,
    ):
        self.path = Path(path)
        super().__init__(self.path.name, category=category, kind=Kind.STATUS, interval=interval)
        self.timeout = timeout

    def collect(self) -> Any:
        try:
            answer = self.answer()
        except PluginFailure as exc:
            self.kind = Kind.STATUS
            return _failure_data(exc)
        self.kind = answer.kind
        return answer.data

    @abc.abstractmethod
    def answer(self) -> PluginAnswer:
        """What the plugin says; PluginFailure when it says nothing usable."""


def _failure_data(failure: PluginFailure) -> dict[str, Any]:
    """The data of the status report that tells of a plugin's failure."""
    return status_data(Status(failure.code, failure.message))


class FilePlugin(PluginCollector):
    """A ``*.json`` or ``*.txt`` file, read at every refresh."""

    def answer(self) -> PluginAnswer:
        mode = OutputMode.JSON if self.path.suffix == ".json" else OutputMode.TEXT
        try:
            # Non-blocking, so that a FIFO put here cannot hang the refresh.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            raise PluginFailure(StatusCode.BAD, f"{self.path} no longer exists") from None
        except OSError as exc:
            raise PluginFailure(
                StatusCode.BAD, f"cannot open {self.path}: {exc.strerror}"
            ) from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise PluginFailure(StatusCode.BAD, f"{self.path} is not a regular file")
            raw = f.read(MAX_OUTPUT + 1)
        return parse_output(raw, mode)


class SocketPlugin(PluginCollector):
    """A ``*.sock`` unix socket: connect, read until the other end closes."""

    def answer(self) -> PluginAnswer:
        deadline = time.monotonic() + self.timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            try:
                sock.connect(os.fspath(self.path))
            except FileNotFoundError:
                raise PluginFailure(
                    StatusCode.BAD, f"socket {self.path} no longer exists"
                ) from None
            except ConnectionRefusedError:
                raise PluginFailure(
                    StatusCode.BAD, f"nothing listens on {self.path} (connection refused)"
                ) from None
            except TimeoutError:
                raise PluginFailure(
                    StatusCode.UNKNOWN,
                    f"connecting to {self.path} timed out after {self.timeout:g} s",
                ) from None
            except OSError as exc:
                raise PluginFailure(
                    StatusCode.BAD, f"cannot connect to {self.path}: {exc.strerror or exc}"
                ) from None
            chunks, size = [], 0
            while size <= MAX_OUTPUT:
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise TimeoutError
                    sock.settimeout(remaining)
                    chunk = sock.recv(65536)
                except TimeoutError:
                    raise PluginFailure(
                        StatusCode.UNKNOWN,
                        f"{self.path} did not finish its answer within {self.timeout:g} s",
                    ) from None
                except OSError as exc:
                    raise PluginFailure(
                        StatusCode.UNKNOWN, f"reading {self.path} failed: {exc.strerror or exc}"
                    ) from None
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        return parse_output(b"".join(chunks))


class ScriptPlugin(PluginCollector):
    """An executable, run at every refresh; its standard output is the answer."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False

    def answer(self) -> PluginAnswer:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise PluginFailure(StatusCode.BAD, f"{self.path} no longer exists") from None
        if mode & stat.S_IWOTH:
            raise PluginFailure(StatusCode.BAD, f"refusing to run {self.path}: anyone may write it")
        # Output goes to files, not pipes: a child the plugin left behind
        # holding a pipe open cannot make us wait, and we read only MAX_OUTPUT.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            returncode = self._run(out, err)
            out.seek(0)
            raw = out.read(MAX_OUTPUT + 1)
            if returncode != 0:
                err.seek(0)
                raise PluginFailure(StatusCode.BAD, self._exit_message(returncode, err.read(4096)))
        return parse_output(raw)

    def _run(self, out: Any, err: Any) -> int:
        with self._lock:
            if self._closed:
                raise PluginFailure(StatusCode.UNKNOWN, "the status service is stopping")
            try:
                proc = subprocess.Popen(
                    [os.fspath(self.path)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    cwd=self.path.parent,
                    env=_plugin_environment(),
                    close_fds=True,
                    # Its own process group, so that the timeout kills its children too.
                    start_new_session=True,
                )
            except OSError as exc:
                raise PluginFailure(
                    StatusCode.BAD, f"cannot run {self.path}: {exc.strerror or exc}"
                ) from None
            self._proc = proc
        try:
            returncode = proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise PluginFailure(
                StatusCode.UNKNOWN, f"{self.path} timed out after {self.timeout:g} s and was killed"
            ) from None
        finally:
            with self._lock:
                self._proc = None
        if self._closed:
            raise PluginFailure(StatusCode.UNKNOWN, "stopped with the status service")
        return returncode

    def _exit_message(self, returncode: int, stderr: bytes) -> str:
        if returncode < 0:
            try:
                why = f"was killed by {signal.Signals(-returncode).name}"
            except ValueError:
                why = f"was killed by signal {-returncode}"
        else:
            why = f"exited with status {returncode}"
        last = stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{self.path} {why}" + (f": {last[-1][:200]}" if last else "")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a plugin that has not been waited for yet, and every process of its group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.kill()
    proc.wait()


def _plugin_environment() -> dict[str, str]:
    # Not the daemon's environment: plugins need a PATH, not what else it holds.
    return {
        "PATH": os.environ.get("PATH") or os.defpath,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def discover_plugins(
    directory: str | os.PathLike[str], *, timeout: float, interval: float
) -> list[PluginCollector]:
    """A collector for every plugin in `directory` and its category subdirectories."""
    root = Path(directory)
    if not root.is_dir():
        LOG.warning("status plugin directory %s does not exist; no plugins", root)
        return []
    found: list[PluginCollector] = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir():
            try:
                category = Category(entry.name)
            except ValueError:
                LOG.warning(
                    "ignoring %s: plugin subdirectories are named after a category (%s)",
                    entry,
                    ", ".join(c.value for c in Category),
                )
                continue
            found.extend(
                p
                for sub in sorted(entry.iterdir())
                if (p := _plugin(sub, category, timeout, interval)) is not None
            )
        elif (plugin := _plugin(entry, None, timeout, interval)) is not None:
            found.append(plugin)
    return found


def _plugin(
    path: Path, category: Category | None, timeout: float, interval: float
) -> PluginCollector | None:
    name = path.name
    if name.startswith(".") or name.endswith(_IGNORED_SUFFIXES):
        return None
    if not valid_name(name):
        LOG.warning("ignoring status plugin %s: its name is not a collector name", path)
        return None
    kwargs: dict[str, Any] = {"category": category, "timeout": timeout, "interval": interval}
    if path.suffix == ".sock":
        return SocketPlugin(path, **kwargs)
    if path.suffix in (".json", ".txt"):
        return FilePlugin(path, **kwargs)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        LOG.warning("ignoring status plugin %s: %s", path, exc.strerror)
        return None
    if stat.S_ISREG(mode) and os.access(path, os.X_OK):
        return ScriptPlugin(path, **kwargs)
    if not stat.S_ISDIR(mode):
        LOG.warning("ignoring %s: not an executable, *.json, *.txt nor *.sock", path)
    return None
