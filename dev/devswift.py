"""A real single-node OpenStack Swift on 127.0.0.1, from the PyPI `swift` package.

For the test suite, the benchmarks and ``start.sh --swift``: seven processes
(proxy with tempauth, account, container and object servers, the container
and object updaters, the object expirer) under one directory, on free ports,
each a single process (``workers = 0``) stopped by its pid. The updaters and
the expirer run every second, so ``X-Delete-After`` really deletes.

With ``keystone=`` (keystonemiddleware's auth_token options for a Keystone,
say dev/devkeystone.py's), the proxy also validates Keystone tokens: the
authtoken filter, then Swift's keystoneauth for the accounts
``KEY_<project id>``, while tempauth keeps serving ``/auth/v1.0`` and its
``AUTH_`` accounts.

From the checkout's top directory, with the ``swift`` package installed
(``pip install -e '.[devswift]'``); it is no part of the installed product:

    python -m dev.devswift start --dir DIR   # prints the credentials as JSON
    python -m dev.devswift stop --dir DIR

What it takes to run Swift this way, each found by a failure:

- The expirer and the updaters read ``/etc/swift/swift.conf`` whatever their
  configuration says, and every entry point loads the storage policies at
  import time: each process starts through a bootstrap that calls
  ``set_swift_dir`` before it imports its server module.
- Expiry needs both updaters: the expirer sees only the queue containers that
  the container-updater has registered, and the object-updater applies the
  clean-ups queued when an expiring object is overwritten.
- Ring part power 0: the container-updater forks once per partition each
  pass; at part power 8 a pass took seconds and expiry lagged as much.
- tempauth with Fernet tokens and an in-process cache filter in the proxy
  (possible because the proxy is one process) instead of memcached.
- The data directory needs user extended attributes (ext4, xfs; tmpfs from
  Linux 6.6 on).
- The ``slo`` middleware (static large objects: a followed log's open object
  grows by parts) sits after ``copy``, as in Swift's default pipeline.
- The ``tempurl`` middleware sits before the auth filters (it answers for
  the signed URLs itself, and leaves the rest to them); each tempauth account
  gets its own ``X-Account-Meta-Temp-URL-Key`` at start (``temp_url_keys``),
  as an operator sets it with ``swift post -m Temp-URL-Key:...``.
"""

import argparse
import base64
import contextlib
import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

ACCOUNTS = {
    # account: (user, key); user names are account:user in tempauth
    "test": ("tester", "testing"),
    "test2": ("tester2", "testing2"),
}

#: The account prefix of Keystone projects (tempauth keeps ``AUTH_``).
KEYSTONE_PREFIX = "KEY_"

_SERVERS = {
    # name: (module with main(), config file, takes a port)
    "proxy": ("swift.proxy.server", "proxy-server.conf", True),
    "account": ("swift.account.server", "account-server.conf", True),
    "container": ("swift.container.server", "container-server.conf", True),
    "object": ("swift.obj.server", "object-server.conf", True),
    "container-updater": ("swift.container.updater", "container-server.conf", False),
    "object-updater": ("swift.obj.updater", "object-server.conf", False),
    "object-expirer": ("swift.obj.expirer", "object-expirer.conf", False),
}

#: The checkout holding dev/: the proxy's pipeline names our cache filter as
#: dev.devswift, which is not installed anywhere.
CHECKOUT = str(Path(__file__).resolve().parents[1])

# Points the process at our swift.conf before Swift reads /etc/swift; when
# tied to its parent (argv[4] is the parent's pid), it dies with the parent,
# so a test run that is killed leaves no Swift behind.
_BOOTSTRAP = """
import os, sys
sys.path.insert(0, sys.argv[5])
if sys.argv[4] != "0":
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[4]):
        sys.exit("the parent is gone")
from swift.common.utils import set_swift_dir
set_swift_dir(sys.argv[1])
import importlib
module = importlib.import_module(sys.argv[2])
sys.argv = [sys.argv[2], sys.argv[3], "-v"]
sys.exit(module.main())
"""


class SwiftUnavailable(RuntimeError):
    """Swift could not be started here; the message says why."""


@dataclass
class DevSwift:
    """A running (or stopped) local Swift; `to_json` is what `start` prints."""

    workdir: str
    #: Stop with the process that started it (Linux); off for `devswift start`.
    tied: bool = True
    auth_url: str = ""
    proxy_url: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    #: keystonemiddleware auth_token options: Keystone tokens accepted too.
    keystone: dict[str, str] | None = None
    #: Each tempauth account's temp-URL key (its X-Account-Meta-Temp-URL-Key).
    temp_url_keys: dict[str, str] = field(default_factory=dict)

    def credentials(self, account: str = "test") -> dict[str, str]:
        user, key = ACCOUNTS[account]
        return {"auth_url": self.auth_url, "user": f"{account}:{user}", "key": key}

    def storage_url(self, account: str = "test") -> str:
        return f"{self.proxy_url}/v1/AUTH_{account}"

    def keystone_storage_url(self, project_id: str = "$(project_id)s") -> str:
        """The account of a Keystone project; by default the catalog's template for it."""
        return f"{self.proxy_url}/v1/{KEYSTONE_PREFIX}{project_id}"

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"accounts": self._accounts()}, indent=2)

    def _accounts(self) -> dict[str, dict[str, str]]:
        return {a: self.credentials(a) for a in ACCOUNTS}

    @classmethod
    def load(cls, workdir: str | os.PathLike[str]) -> "DevSwift":
        data = json.loads((Path(workdir) / "devswift.json").read_text())
        data.pop("accounts", None)
        return cls(**data)

    # --- lifecycle -----------------------------------------------------------

    def start(self, timeout: float = 30.0) -> "DevSwift":
        work = Path(self.workdir)
        etc, data, logs = work / "etc", work / "data", work / "log"
        for d in (etc, data / "sdb1", logs, work / "cache"):
            d.mkdir(parents=True, exist_ok=True)
        _check_xattrs(data)
        names = [name for name, (_, _, port) in _SERVERS.items() if port]
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        _write_configs(etc, data, self.ports, self.keystone)
        _build_rings(etc, self.ports)
        self.proxy_url = f"http://127.0.0.1:{self.ports['proxy']}"
        self.auth_url = f"{self.proxy_url}/auth/v1.0"
        for name in _SERVERS:
            self._spawn(name)
        try:
            self._wait_ready(timeout)
            self._set_temp_url_keys()
        except BaseException:
            self.stop()
            raise
        (work / "devswift.json").write_text(self.to_json())
        return self

    def _set_temp_url_keys(self) -> None:
        """A temp-URL key on each tempauth account, as its owner sets it."""
        for account, (user, key) in ACCOUNTS.items():
            auth = requests.get(
                self.auth_url,
                headers={"X-Auth-User": f"{account}:{user}", "X-Auth-Key": key},
                timeout=10,
            )
            auth.raise_for_status()
            temp_key = self.temp_url_keys.setdefault(account, secrets.token_urlsafe(24))
            resp = requests.post(
                self.storage_url(account),
                headers={
                    "X-Auth-Token": auth.headers["X-Auth-Token"],
                    "X-Account-Meta-Temp-URL-Key": temp_key,
                },
                timeout=10,
            )
            if resp.status_code not in (200, 204):
                raise SwiftUnavailable(
                    f"setting the temp-URL key of account {account}: {resp.status_code}"
                )

    def add_proxy(self, name: str, authtoken: dict[str, str]) -> str:
        """One more proxy server on the same rings and data, its URL; stopped with the rest.

        `authtoken`: options added to its keystonemiddleware filter, say
        ``{"token_cache_time": "-1"}``: every request's Keystone token is then
        validated anew, so a revocation shows at once (the main proxy caches
        a validated token for five minutes, as a deployment's proxies do).
        """
        if not self.keystone:
            raise SwiftUnavailable("add_proxy: this Swift does not validate Keystone tokens")
        etc = Path(self.workdir) / "etc"
        port = free_port()
        while port in self.ports.values():  # see free_ports
            port = free_port()
        text = (etc / "proxy-server.conf").read_text()
        text = text.replace(f"bind_port = {self.ports['proxy']}\n", f"bind_port = {port}\n", 1)
        extra = "".join(f"{k} = {v}\n" for k, v in authtoken.items())
        text = text.replace("[filter:authtoken]\n", f"[filter:authtoken]\n{extra}", 1)
        conf = f"proxy-server-{name}.conf"
        (etc / conf).write_text(text)
        self.ports[name] = port
        self._spawn(name, ("swift.proxy.server", conf))
        (Path(self.workdir) / "devswift.json").write_text(self.to_json())
        self._wait_ready(30.0)
        return f"http://127.0.0.1:{port}"

    def _spawn(self, name: str, server: tuple[str, str] | None = None) -> None:
        """Start one of the processes, its output into log/<name>.log."""
        work = Path(self.workdir)
        etc = work / "etc"
        module, conf = server or _SERVERS[name][:2]
        parent = str(os.getpid()) if self.tied and sys.platform == "linux" else "0"
        with open(work / "log" / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _BOOTSTRAP,
                    str(etc),
                    module,
                    str(etc / conf),
                    parent,
                    CHECKOUT,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pids[name] = proc.pid

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        user, key = ACCOUNTS["test"]
        while True:
            dead = [n for n, pid in self.pids.items() if not process_alive(pid)]
            if dead:
                raise SwiftUnavailable(
                    f"Swift {', '.join(dead)} exited at start; see {self.workdir}/log/"
                )
            try:
                ready = all(_port_open(p) for p in self.ports.values())
                if ready:
                    resp = requests.get(
                        self.auth_url,
                        headers={"X-Auth-User": f"test:{user}", "X-Auth-Key": key},
                        timeout=2,
                    )
                    if resp.status_code == 200:
                        return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SwiftUnavailable(
                    f"Swift did not answer within {timeout}s; see {self.workdir}/log/"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for pid in self.pids.values():
            while process_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if process_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _reap(pid)

    def stop_server(self, name: str) -> None:
        """Stop one process (say the proxy, to cut the store off mid-test)."""
        pid = self.pids[name]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not process_alive(pid):
                break
            time.sleep(0.05)
        _reap(pid)

    def start_server(self, name: str, timeout: float = 30.0) -> None:
        """Start again a process that `stop_server` stopped, on the same port."""
        self._spawn(name)
        (Path(self.workdir) / "devswift.json").write_text(self.to_json())
        self._wait_ready(timeout)


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a child of ours that exited is reaped, not counted)."""
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child (started by another process): ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports of 127.0.0.1 that nothing listens on now.

    Each probe stays bound until all are chosen: one after the other, the
    kernel may hand out a port twice. Swift's servers listen with SO_REUSEPORT
    (eventlet's default), so two of them given one port would both listen on
    it and share its connections (CI saw tempauth's request answered 400 by
    another server of the same Swift).
    """
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _check_xattrs(directory: Path) -> None:
    probe = directory / ".xattr-probe"
    probe.touch()
    try:
        os.setxattr(probe, "user.logsvc", b"1")
    except OSError as exc:
        raise SwiftUnavailable(
            f"Swift needs a filesystem with user extended attributes; {directory} has "
            f"none ({exc.strerror}). Use a directory on ext4 or xfs."
        ) from None
    finally:
        probe.unlink()


def _write_configs(
    etc: Path, data: Path, ports: dict[str, int], keystone: dict[str, str] | None = None
) -> None:
    user = pwd.getpwuid(os.getuid()).pw_name
    common = (
        f"[DEFAULT]\nbind_ip = 127.0.0.1\nworkers = 0\nuser = {user}\n"
        f"swift_dir = {etc}\ndevices = {data}\nmount_check = false\n"
        f"recon_cache_path = {etc.parent / 'cache'}\n"
        "disable_fallocate = true\nlog_level = WARNING\n"
    )
    if not (etc / "swift.conf").exists():  # stored data depends on its hash prefix and suffix
        suffix, prefix = secrets.token_hex(8), secrets.token_hex(8)
        (etc / "swift.conf").write_text(
            f"[swift-hash]\nswift_hash_path_suffix = {suffix}\n"
            f"swift_hash_path_prefix = {prefix}\n\n"
            "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
        )
    fernet = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    users = "".join(f"user_{account}_{u} = {k} .admin\n" for account, (u, k) in ACCOUNTS.items())
    auth, keystone_filters = "tempauth", ""
    if keystone:
        # keystoneauth before tempauth: each authorizes the accounts of its own
        # prefix, and tempauth leaves a request alone when the token is not its.
        # The decision is delayed so that tempauth's tokens get past authtoken.
        # (A Keystone token on an AUTH_ account gets a 500: keystoneauth leaves
        # REMOTE_USER a tuple, which tempauth's authorize cannot split.)
        auth = "authtoken keystoneauth tempauth"
        settings = "".join(f"{k} = {v}\n" for k, v in keystone.items())
        keystone_filters = (
            "\n[filter:authtoken]\n"
            "paste.filter_factory = keystonemiddleware.auth_token:filter_factory\n"
            f"delay_auth_decision = true\n{settings}\n"
            "[filter:keystoneauth]\nuse = egg:swift#keystoneauth\n"
            f"reseller_prefix = {KEYSTONE_PREFIX}\noperator_roles = admin, member\n"
        )
    (etc / "proxy-server.conf").write_text(
        common.replace("[DEFAULT]\n", f"[DEFAULT]\nbind_port = {ports['proxy']}\n")
        + "\n[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck proxy-logging "
        f"cache listing_formats tempurl {auth} copy slo proxy-logging proxy-server\n\n"
        "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n"
        "allow_account_management = true\n\n"
        "[filter:cache]\npaste.filter_factory = dev.devswift:cache_filter_factory\n\n"
        f"[filter:tempauth]\nuse = egg:swift#tempauth\n{users}"
        f"fernet_key_1 = {fernet}\nactive_fernet_key_id = 1\n\n"
        "[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n"
        "[filter:gatekeeper]\nuse = egg:swift#gatekeeper\n\n"
        "[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n"
        "[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n\n"
        "[filter:listing_formats]\nuse = egg:swift#listing_formats\n\n"
        "[filter:copy]\nuse = egg:swift#copy\n\n"
        "[filter:slo]\nuse = egg:swift#slo\n\n"
        "[filter:tempurl]\nuse = egg:swift#tempurl\n" + keystone_filters
    )
    for kind, egg, extra in (
        ("account", "account", ""),
        ("container", "container", "\n[container-updater]\ninterval = 1\n"),
        ("object", "object", "\n[object-updater]\ninterval = 1\n"),
    ):
        (etc / f"{kind}-server.conf").write_text(
            common.replace("[DEFAULT]\n", f"[DEFAULT]\nbind_port = {ports[kind]}\n")
            + f"\n[pipeline:main]\npipeline = {kind}-server\n\n"
            f"[app:{kind}-server]\nuse = egg:swift#{egg}\n{extra}"
        )
    (etc / "object-expirer.conf").write_text(
        common + "\n[object-expirer]\ninterval = 1\n\n"
        "[pipeline:main]\npipeline = catch_errors proxy-logging cache proxy-server\n\n"
        "[app:proxy-server]\nuse = egg:swift#proxy\n\n"
        "[filter:cache]\npaste.filter_factory = dev.devswift:cache_filter_factory\n\n"
        "[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n"
        "[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n"
    )


_RINGS = """
import json, sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], json.loads(sys.argv[2])
for kind in ("account", "container", "object"):
    builder = RingBuilder(0, 1, 1)  # part power 0: the updaters' passes stay short
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1",
                     "port": ports[kind], "device": "sdb1", "weight": 100})
    builder.rebalance()
    builder.save(f"{etc}/{kind}.builder")
    builder.get_ring().save(f"{etc}/{kind}.ring.gz")
"""


def _build_rings(etc: Path, ports: dict[str, int]) -> None:
    # In a child process: importing Swift brings eventlet's green modules into
    # the caller, which then confuse its own threads and servers. This is the
    # first import of Swift, so its failure says what is missing.
    proc = subprocess.run(
        [sys.executable, "-c", _RINGS, str(etc), json.dumps(ports)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        hint = ""
        if "No module named 'swift" in proc.stderr:
            hint = " (install it from the checkout: pip install -e '.[devswift]')"
        raise SwiftUnavailable(f"cannot build Swift's rings: {lines[-1]}{hint}")


class _LocalCache:
    """What the proxy asks of memcache, held in the proxy's own memory.

    The proxy runs as a single process here, so a dict serves as its cache
    of account and container info and of auth tokens.
    """

    def __init__(self) -> None:
        self._data: dict[str, tuple[object, float]] = {}

    def _live(self, key: str) -> object:
        value, expires = self._data.get(key, (None, 0.0))
        if expires and expires < time.time():
            self._data.pop(key, None)
            return None
        return value

    def get(self, key, raise_on_error=False):
        return self._live(key)

    def set(self, key, value, serialize=True, time=0, min_compress_len=0, raise_on_error=False):
        self._data[key] = (value, _expiry(time))

    def incr(self, key, delta=1, time=0):
        value = int(self._live(key) or 0) + delta
        self._data[key] = (value, _expiry(time))
        return value

    def decr(self, key, delta=1, time=0):
        return self.incr(key, -delta, time)

    def delete(self, key, server_key=None):
        self._data.pop(key, None)

    def set_multi(self, mapping, server_key, serialize=True, time=0, min_compress_len=0):
        for key, value in mapping.items():
            self.set(key, value, time=time)

    def get_multi(self, keys, server_key):
        return [self._live(k) for k in keys]


def _expiry(ttl: float) -> float:
    return time.time() + ttl if ttl else 0.0


def cache_filter_factory(global_conf, **local_conf):
    """Paste filter factory: puts a `_LocalCache` in ``env['swift.cache']``."""
    cache = _LocalCache()

    def make_filter(app):
        def cache_filter(env, start_response):
            env["swift.cache"] = cache
            return app(env, start_response)

        return cache_filter

    return make_filter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.devswift", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", help="working directory (start: a new temporary one by default)")
    args = parser.parse_args(argv)
    if args.action == "start":
        workdir = args.dir or tempfile.mkdtemp(prefix="logsvc-swift-")
        try:
            swift = DevSwift(workdir, tied=False).start()
        except SwiftUnavailable as exc:
            sys.exit(f"python -m dev.devswift: {exc}")
        print(swift.to_json())
        return 0
    if not args.dir:
        parser.error("stop needs --dir")
    DevSwift.load(args.dir).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
