"""The generated references in docs/ are what scripts/gen_docs.py makes of the code.

docs/configuration.md from the options' list_opts() entry points, and
docs/rest-api.md from the OpenAPI document, like the etc/ samples
(test_config_samples.py): change an option or a route, regenerate.
"""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"{proc.stderr.strip()}\n{proc.stdout}\nregenerate them with: python scripts/gen_docs.py"
    )


def test_every_option_is_documented():
    from api import conf as api_conf
    from guestagent import conf as agent_conf

    text = (ROOT / "docs" / "configuration.md").read_text()
    for list_opts in (api_conf.list_opts, agent_conf.list_opts):
        for group, options in list_opts():
            name = getattr(group, "name", None) or group
            for opt in options:
                assert f"#### [{name}] {opt.dest}\n" in text, f"[{name}] {opt.dest}"


EXAMPLES = sorted((ROOT / "etc" / "examples").glob("*.conf"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_configurations_are_valid(example):
    """Every option an example sets exists, and every value parses as its type."""
    daemon = "guestagent" if example.name.startswith("guestagent") else "api"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oslo_config.validator",
            "--config-file",
            str(ROOT / "etc" / "oslo-config-generator" / f"{daemon}.conf"),
            "--input-file",
            str(example),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    from oslo_config import cfg

    module = importlib.import_module(f"{daemon}.conf")
    conf = cfg.ConfigOpts()
    module.register_opts(conf)
    conf(["--config-file", str(example)], project="logsvc", default_config_files=[])
    for group, options in module.list_opts():
        name = getattr(group, "name", None) or group
        section = conf if name == "DEFAULT" else conf[name]
        for opt in options:
            getattr(section, opt.dest)  # raises on a value of the wrong type


def test_links_between_docs_resolve():
    """Every relative link of README.md and docs/*.md names a file, and a heading there."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_docs import github_anchor

    def prose(path: Path) -> str:
        return re.sub(r"```.*?```", "", path.read_text(), flags=re.S)

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    headings = {
        page: {github_anchor(h) for h in re.findall(r"^#+ (.*)$", prose(page), re.M)}
        for page in pages
    }
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in headings.get(linked, ()):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
