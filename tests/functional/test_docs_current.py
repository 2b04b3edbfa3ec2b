"""The generated references in docs/ are what scripts/gen_docs.py makes of the code.

docs/configuration.md from the options' list_opts() entry points, and
docs/rest-api.md from the OpenAPI document, like the etc/ samples
(test_config_samples.py): change an option or a route, regenerate.
"""

import subprocess
import sys
from pathlib import Path

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
    from api import opts as api_opts
    from guestagent import opts as agent_opts

    text = (ROOT / "docs" / "configuration.md").read_text()
    for list_opts in (api_opts.list_opts, agent_opts.list_opts):
        for group, options in list_opts():
            name = getattr(group, "name", None) or group
            for opt in options:
                assert f"#### [{name}] {opt.dest}\n" in text, f"[{name}] {opt.dest}"
