"""etc/policy.yaml.sample is what oslopolicy-sample-generator makes of the rules in code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "etc" / "oslo-policy-generator" / "api.conf"


def test_policy_sample_is_current(tmp_path):
    sample = ROOT / "etc" / "policy.yaml.sample"
    fresh = tmp_path / "policy.yaml.sample"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from oslo_policy.generator import generate_sample; "
            "sys.exit(generate_sample())",
            "--config-file",
            str(GENERATOR),
            "--output-file",
            str(fresh),
        ],
        check=True,
        cwd=ROOT,
    )
    assert fresh.read_text() == sample.read_text(), (
        f"{sample.relative_to(ROOT)} is stale: regenerate it with "
        f"oslopolicy-sample-generator --config-file {GENERATOR.relative_to(ROOT)}"
    )
