"""`python -m build` makes an sdist and a wheel that install and run on a clean virtualenv.

One test, in steps, because each step needs the one before and the whole
takes a minute or two (the wheel's dependencies come from PyPI, through pip's
cache): build from a copy of the working tree (the sdist first, then the
wheel from the unpacked sdist, which is what `build` does by default, so a
working wheel proves the sdist complete); check what each archive carries;
install the wheel into a new venv; run the four console scripts from there,
outside the source tree, and migrate an SQLite database with the migrations
the wheel shipped.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.1.0"
SCRIPTS = ("logsvc", "logsvc-api", "logsvc-guestagent", "logsvc-manage")
# What a source release needs besides the code (MANIFEST.in).
SDIST_MUST_HOLD = [
    "README.md",
    "pyproject.toml",
    "start.sh",
    "etc/api.conf.sample",
    "etc/guestagent.conf.sample",
    "etc/policy.yaml.sample",
    "etc/oslo-config-generator/api.conf",
    "etc/systemd/logsvc-guestagent.service",
    "docs/architecture.md",
    "migrations/env.py",
    "migrations/script.py.mako",
    "scripts/venv.sh",
    "tests/conftest.py",
    "dev/devswift.py",
]
WHEEL_MUST_HOLD = [
    "migrations/env.py",
    "migrations/script.py.mako",
    "api/app.py",
    # the web console's templates and vendored script, served from the package
    "api/console/templates/console/base.html",
    "api/console/static/console.js",
    "api/console/static/console.css",
    "guestagent/cmd.py",
    "logsvc/cli/app.py",
]
IGNORED = (".venv", ".git", ".demo", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


def run(*args, cwd: Path, env: dict | None = None, timeout: float = 900) -> str:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n"
        f"{proc.stderr[-4000:]}"
    )
    return proc.stdout


def outside_env(venv: Path) -> dict[str, str]:
    """An environment in which only the new venv's packages can be imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
def test_sdist_and_wheel_install_and_run_on_a_clean_venv(tmp_path):
    src, dist, venv, work = (tmp_path / d for d in ("src", "dist", "venv", "work"))
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    run(sys.executable, "-m", "build", "--outdir", dist, src, cwd=tmp_path)

    (sdist,) = dist.glob(f"logsvc-{VERSION}.tar.gz")
    (wheel,) = dist.glob(f"logsvc-{VERSION}-py3-none-any.whl")
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    missing = [p for p in SDIST_MUST_HOLD if p not in in_sdist]
    assert not missing, f"the sdist lacks {missing} (MANIFEST.in)"
    assert any(p.startswith("migrations/versions/0") for p in in_sdist)
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
    missing = [p for p in WHEEL_MUST_HOLD if p not in in_wheel]
    assert not missing, f"the wheel lacks {missing}"
    shipped = sorted(p for p in in_wheel if p.startswith("migrations/versions/0"))
    assert shipped, "the wheel ships no migration"
    # Only what a deployment runs: no tests, no development tools (a local Swift).
    dev_only = [p for p in in_wheel if p.startswith(("tests/", "dev/")) or "devswift" in p]
    assert not dev_only, f"the wheel ships development files: {dev_only}"

    # A venv without pip of its own, filled by this interpreter's pip (--python): a
    # recent pip resolves the dependencies several times faster than the one
    # ensurepip bundles, and the venv holds only logsvc and what it declares.
    # --no-compile: byte-compiling every installed module costs more than
    # compiling the few that the commands below import.
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    env = outside_env(venv)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", python]
    run(*pip, "install", "--quiet", "--no-compile", wheel, cwd=tmp_path, env=env)
    run(*pip, "check", cwd=tmp_path, env=env)

    work.mkdir()
    # Imported from the venv, not from a source tree.
    where = run(
        python, "-c", "import api, migrations; print(migrations.__file__)", cwd=work, env=env
    )
    assert where.startswith(str(venv)), where
    # The web console's templates and script, found where Flask looks for them.
    run(
        python,
        "-c",
        "import importlib.resources as r; c = r.files('api.console'); "
        "assert (c / 'templates' / 'console' / 'instance.html').is_file(); "
        "assert (c / 'static' / 'console.js').is_file()",
        cwd=work,
        env=env,
    )
    for script in SCRIPTS:
        path = venv / "bin" / script
        assert path.exists(), f"{script} was not installed"
        assert "usage" in run(path, "--help", cwd=work, env=env).lower()
        assert VERSION in run(path, "--version", cwd=work, env=env)

    # The schema, from the migrations the wheel carries.
    conf = work / "api.conf"
    conf.write_text(f"[database]\nconnection = sqlite:///{work / 'api.sqlite'}\n")
    manage = venv / "bin" / "logsvc-manage"
    head = Path(shipped[-1]).name.split("_", 1)[0]
    upgraded = run(manage, "--config-file", conf, "db", "upgrade", cwd=work, env=env)
    assert upgraded.split()[-1].startswith(head), upgraded
    current = run(manage, "--config-file", conf, "db", "current", cwd=work, env=env)
    assert current.strip() == upgraded.strip()

    # The agent's one-shot commands, and the options' entry points, from the wheel.
    (work / "app.log").write_bytes(b"one\ntwo\n")
    agent_conf = work / "guestagent.conf"
    agent_conf.write_text(
        f"[agent]\ninstance_id = i-1\nstate_dir = {work / 'state'}\n\n"
        f"[storage]\nbackend = file\nfile_root = {work / 'objects'}\n\n"
        f"[file_datastore]\nlogs = app:SYS:{work / 'app.log'}\n"
    )
    agent = venv / "bin" / "logsvc-guestagent"
    published = run(agent, "--config-file", agent_conf, "publish", "app", cwd=work, env=env)
    assert '"published": 8' in published, published
    generator = venv / "bin" / "oslo-config-generator"
    ns = ("--namespace", "logsvc.api", "--namespace", "logsvc.guestagent")
    sample = run(generator, *ns, cwd=work, env=env)
    assert "From logsvc.api" in sample and "From logsvc.guestagent" in sample
