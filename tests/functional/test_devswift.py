"""dev/devswift.py as the quickstart runs it: ``python -m dev.devswift`` from the checkout."""

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def devswift(*args, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dev.devswift", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_and_stop_from_the_checkout(tmp_path):
    started = devswift("start", "--dir", tmp_path / "swift")
    assert started.returncode == 0, started.stderr
    try:
        creds = json.loads(started.stdout)["accounts"]["test"]
        auth = requests.get(
            creds["auth_url"],
            headers={"X-Auth-User": creds["user"], "X-Auth-Key": creds["key"]},
            timeout=10,
        )
        assert auth.status_code == 200
    finally:
        stopped = devswift("stop", "--dir", tmp_path / "swift")
    assert stopped.returncode == 0, stopped.stderr


def test_without_the_swift_package_it_says_so(tmp_path):
    # A `swift` that fails to import the way an absent one does, first on the
    # path of every Python that devswift starts.
    shadow = tmp_path / "shadow" / "swift"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'swift'\", name='swift')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(shadow.parent))
    started = devswift("start", "--dir", tmp_path / "swift", env=env)
    assert started.returncode != 0
    assert "No module named 'swift'" in started.stderr
    assert "pip install -e '.[devswift]'" in started.stderr
    assert "Traceback" not in started.stderr, started.stderr


def test_the_ports_of_one_swift_are_distinct():
    """Its servers listen with SO_REUSEPORT: two given one port would share it."""
    from dev.devswift import free_ports

    for _ in range(20):
        ports = free_ports(6)
        assert len(set(ports)) == 6
