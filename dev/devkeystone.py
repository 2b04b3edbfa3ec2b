"""A real OpenStack Keystone on 127.0.0.1, from the PyPI `keystone` package, for tests.

Keystone and its pins live in a virtual environment of their own, outside the
work tree (``~/.cache/logsvc/keystone-<version>-py<X.Y>``, or
``$LOGSVC_KEYSTONE_VENV``), made on first use and kept: a fresh clone on the
same machine finds it ready. Beside it, made once with ``keystone-manage``
(``db_sync``, ``fernet_setup``, ``credential_setup``, ``bootstrap``), a
template: the SQLite database and the key repositories. Each `DevKeystone`
starts from a copy of the template, serves keystone's WSGI application with
the standard library's wsgiref (threaded, one request at a time: SQLite
takes one writer) on a free port, points the catalog's
identity endpoints at that port and adds what the tests use: a ``service``
user for keystonemiddleware, and users with the member role in projects of
their own. It is one process, stopped by its pid.

    python -m dev.devkeystone start --dir DIR   # prints where and who as JSON
    python -m dev.devkeystone stop --dir DIR
"""

import argparse
import contextlib
import fcntl
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests

from dev.devswift import free_port, process_alive

#: Pinned: the virtual environment and the template database are made for it.
KEYSTONE_VERSION = "30.0.0"
REGION = "RegionOne"
#: The bootstrap admin's password, in the template (a test-only Keystone).
ADMIN_PASSWORD = "logsvc-admin"
#: What the template's endpoints say until `start` points them at its port.
_PLACEHOLDER_URL = "http://127.0.0.1:9/v3"
_DOMAIN = {"id": "default"}

# Runs in Keystone's virtual environment. Tied to its parent (argv[3] is the
# parent's pid), it dies with the parent, so a killed test run leaves no
# Keystone behind. Keystone parses the command line as its own: it gets none.
_SERVE = """
import os, sys
if sys.argv[3] != "0":
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[3]):
        sys.exit("the parent is gone")
conf, port = sys.argv[1], int(sys.argv[2])
sys.argv = sys.argv[:1]
os.environ["OS_KEYSTONE_CONFIG_FILES"] = conf
import socketserver, threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from keystone.server import wsgi

class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

class Handler(WSGIRequestHandler):
    def log_message(self, *args):
        pass

# SQLite takes one writer, and a token request writes (the user's
# last_active_at): two at once and one fails "database is locked" (500).
# Requests run one at a time; connections still open in parallel.
app, one_at_a_time = wsgi.initialize_public_application(), threading.Lock()

def serialized(environ, start_response):
    with one_at_a_time:
        return list(app(environ, start_response))

make_server("127.0.0.1", port, serialized, Server, Handler).serve_forever()
"""


class KeystoneUnavailable(RuntimeError):
    """Keystone could not be installed or started; the message names the step."""


@dataclass(frozen=True)
class KeystoneUser:
    """A Keystone user with a role in a project (domain Default)."""

    name: str
    id: str
    password: str = field(repr=False)
    project_name: str
    project_id: str

    def password_auth(self) -> dict:
        """The body of a project-scoped password ``POST /v3/auth/tokens``."""
        return {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": self.name, "domain": _DOMAIN, "password": self.password}
                    },
                },
                "scope": {"project": {"name": self.project_name, "domain": _DOMAIN}},
            }
        }


# --- the virtual environment and the template ---------------------------------


def venv_dir() -> Path:
    """Where Keystone's virtual environment is (or will be made)."""
    if os.environ.get("LOGSVC_KEYSTONE_VENV"):
        return Path(os.environ["LOGSVC_KEYSTONE_VENV"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return cache / "logsvc" / f"keystone-{KEYSTONE_VERSION}-py{python}"


def ensure_installed(timeout: float = 1200.0) -> Path:
    """The virtual environment with Keystone and the template, made if missing.

    A lock keeps two test runs from making it at once; a half-made one (an
    interrupted run) is made again, as only a finished one is marked ready.
    """
    root = venv_dir()
    if (root / "ready").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "ready").exists():
            return root
        shutil.rmtree(root, ignore_errors=True)
        started = time.monotonic()
        _run([sys.executable, "-m", "venv", str(root)], "creating a virtual environment", 300)
        _run(
            [str(root / "bin" / "pip"), "install", "--quiet", f"keystone=={KEYSTONE_VERSION}"],
            f"pip install keystone=={KEYSTONE_VERSION} (into {root})",
            timeout,
        )
        installed = time.monotonic()
        _make_template(root)
        (root / "ready").write_text(
            json.dumps(
                {
                    "install_seconds": round(installed - started, 1),
                    "template_seconds": round(time.monotonic() - installed, 1),
                }
            )
        )
    return root


def _run(cmd: list[str], what: str, timeout: float) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise KeystoneUnavailable(f"{what}: no end within {timeout:.0f}s") from None
    except OSError as exc:
        raise KeystoneUnavailable(f"{what}: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise KeystoneUnavailable(f"{what} failed ({proc.returncode}):\n{tail}")


def _write_conf(directory: Path) -> Path:
    conf = directory / "keystone.conf"
    conf.write_text(
        f"[DEFAULT]\nlog_file = {directory / 'keystone.log'}\n\n"
        f"[database]\nconnection = sqlite:///{directory / 'keystone.db'}\n"
        "sqlite_synchronous = false\n\n"
        # Passwords and application credential secrets hash in a millisecond.
        "[identity]\npassword_hash_rounds = 4\n\n"
        "[token]\nprovider = fernet\n\n"
        f"[fernet_tokens]\nkey_repository = {directory / 'fernet-keys'}\n\n"
        f"[credential]\nkey_repository = {directory / 'credential-keys'}\n\n"
        # One process: its memory serves as the cache (a token costs a fifth of
        # the CPU, a validation a twentieth).
        "[cache]\nenabled = true\nbackend = dogpile.cache.memory\n"
    )
    return conf


def _make_template(root: Path) -> None:
    """keystone-manage's four set-up steps, once: their data is copied at each start."""
    work = root / "template.partial"
    shutil.rmtree(work, ignore_errors=True)
    for d in ("fernet-keys", "credential-keys"):
        (work / d).mkdir(parents=True)
    conf = _write_conf(work)
    manage = [str(root / "bin" / "keystone-manage"), "--config-file", str(conf)]
    owner = [
        "--keystone-user",
        pwd.getpwuid(os.getuid()).pw_name,
        "--keystone-group",
        grp.getgrgid(os.getgid()).gr_name,
    ]
    for step in (
        ["db_sync"],
        ["fernet_setup", *owner],
        ["credential_setup", *owner],
        [
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-region-id",
            REGION,
            "--bootstrap-admin-url",
            _PLACEHOLDER_URL,
            "--bootstrap-internal-url",
            _PLACEHOLDER_URL,
            "--bootstrap-public-url",
            _PLACEHOLDER_URL,
        ],
    ):
        _run([*manage, *step], f"keystone-manage {step[0]}", 300)
    (work / "keystone.log").unlink(missing_ok=True)
    (work / "keystone.conf").unlink()
    work.rename(root / "template")


# --- a running Keystone ---------------------------------------------------------


@dataclass
class DevKeystone:
    """A running (or stopped) local Keystone; `to_json` is what `start` prints."""

    workdir: str
    #: Stop with the process that started it (Linux); off for `devkeystone start`.
    tied: bool = True
    #: The identity v3 endpoint, e.g. ``http://127.0.0.1:PORT/v3``.
    url: str = ""
    port: int = 0
    pid: int = 0
    #: The user keystonemiddleware validates tokens as (role ``service``).
    service_password: str = ""

    def admin(self) -> KeystoneUser:
        """The bootstrap admin: role admin in project admin."""
        return KeystoneUser("admin", "", ADMIN_PASSWORD, "admin", "")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def load(cls, workdir: str | os.PathLike[str]) -> "DevKeystone":
        return cls(**json.loads((Path(workdir) / "devkeystone.json").read_text()))

    # --- lifecycle ---------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> "DevKeystone":
        """Start it, installing Keystone first where missing; `KeystoneUnavailable` if not."""
        root = ensure_installed()
        work = Path(self.workdir)
        work.mkdir(parents=True, exist_ok=True)
        for item in (root / "template").iterdir():
            if item.is_dir():
                shutil.copytree(item, work / item.name, dirs_exist_ok=True)
            else:
                shutil.copy2(item, work / item.name)
        conf = _write_conf(work)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v3"
        parent = str(os.getpid()) if self.tied and sys.platform == "linux" else "0"
        with open(work / "server.log", "ab") as log:
            proc = subprocess.Popen(
                [str(root / "bin" / "python"), "-c", _SERVE, str(conf), str(self.port), parent],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = proc.pid
        try:
            self._wait_ready(timeout)
            self._provision()
        except BaseException:
            self.stop()
            raise
        (work / "devkeystone.json").write_text(self.to_json())
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not process_alive(self.pid):
                tail = _tail(Path(self.workdir) / "server.log")
                raise KeystoneUnavailable(f"Keystone exited at start:\n{tail}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url, timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise KeystoneUnavailable(
                    f"Keystone did not answer within {timeout:.0f}s; see {self.workdir}"
                )
            time.sleep(0.1)

    def _provision(self) -> None:
        """The catalog's identity endpoints at our port, and the service user."""
        for endpoint in self._call("GET", "/endpoints")["endpoints"]:
            if endpoint["url"] == _PLACEHOLDER_URL:
                self._call("PATCH", f"/endpoints/{endpoint['id']}", {"endpoint": {"url": self.url}})
        self.service_password = secrets.token_urlsafe(16)
        self.create_user("service", "service", ("service",), self.service_password)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while process_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_alive(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, os.WNOHANG)

    # --- the identity API --------------------------------------------------------

    def token(self, user: KeystoneUser) -> str:
        """A new project-scoped token for `user` (password method)."""
        resp = requests.post(f"{self.url}/auth/tokens", json=user.password_auth(), timeout=30)
        if resp.status_code != 201:
            raise RuntimeError(f"Keystone refused a token for {user.name}: {resp.status_code}")
        return resp.headers["X-Subject-Token"]

    def revoke(self, token: str) -> None:
        """Revoke `token`: Keystone no longer validates it."""
        resp = requests.delete(
            f"{self.url}/auth/tokens",
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
            timeout=30,
        )
        if resp.status_code != 204:
            raise RuntimeError(f"Keystone did not revoke the token: {resp.status_code}")

    def _call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        resp = requests.request(
            method,
            self.url + path,
            json=body,
            headers={"X-Auth-Token": token or self.token(self.admin())},
            timeout=30,
        )
        if resp.status_code >= 300:
            raise RuntimeError(f"Keystone: {method} {path} answered {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def _find(self, kind: str, name: str, token: str) -> str | None:
        found = self._call("GET", f"/{kind}?name={quote(name)}", token=token)[kind]
        return found[0]["id"] if found else None

    def create_user(
        self,
        project: str,
        name: str,
        roles: tuple[str, ...] = ("member",),
        password: str | None = None,
    ) -> KeystoneUser:
        """A new user with `roles` in `project` (made if new), domain Default."""
        admin = self.token(self.admin())
        project_id = (
            self._find("projects", project, admin)
            or self._call(
                "POST", "/projects", {"project": {"name": project, "domain_id": "default"}}, admin
            )["project"]["id"]
        )
        password = password or secrets.token_urlsafe(16)
        user_id = self._call(
            "POST",
            "/users",
            {"user": {"name": name, "password": password, "domain_id": "default"}},
            admin,
        )["user"]["id"]
        for role in roles:
            role_id = self._find("roles", role, admin)
            self._call(
                "PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}", None, admin
            )
        return KeystoneUser(name, user_id, password, project, project_id)

    def application_credential(self, user: KeystoneUser, name: str = "logsvc") -> tuple[str, str]:
        """A new application credential of `user` for its project: (id, secret)."""
        made = self._call(
            "POST",
            f"/users/{user.id}/application_credentials",
            {"application_credential": {"name": name}},
            self.token(user),
        )["application_credential"]
        return made["id"], made["secret"]

    def add_endpoint(self, service_type: str, name: str, url: str) -> None:
        """A service in the catalog, with public, internal and admin endpoints at `url`."""
        admin = self.token(self.admin())
        service_id = self._call(
            "POST", "/services", {"service": {"type": service_type, "name": name}}, admin
        )["service"]["id"]
        for interface in ("public", "internal", "admin"):
            self._call(
                "POST",
                "/endpoints",
                {
                    "endpoint": {
                        "service_id": service_id,
                        "interface": interface,
                        "region_id": REGION,
                        "url": url,
                    }
                },
                admin,
            )

    def authtoken_settings(self) -> dict[str, str]:
        """keystonemiddleware's auth_token options for validating this Keystone's tokens."""
        return {
            "www_authenticate_uri": self.url,
            "auth_type": "password",
            "auth_url": self.url,
            "username": "service",
            "password": self.service_password,
            "user_domain_id": "default",
            "project_name": "service",
            "project_domain_id": "default",
            "region_name": REGION,
        }


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.devkeystone", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", help="working directory (start: a new temporary one by default)")
    args = parser.parse_args(argv)
    if args.action == "start":
        workdir = args.dir or tempfile.mkdtemp(prefix="logsvc-keystone-")
        print(DevKeystone(workdir, tied=False).start().to_json())
        return 0
    if not args.dir:
        parser.error("stop needs --dir")
    DevKeystone.load(args.dir).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
