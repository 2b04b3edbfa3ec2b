"""The sample configuration files in etc/ are what oslo-config-generator makes of the code."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATORS = sorted((ROOT / "etc" / "oslo-config-generator").glob("*.conf"))


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda p: p.name)
def test_sample_is_current(generator, tmp_path):
    sample = ROOT / "etc" / f"{generator.stem}.conf.sample"
    fresh = tmp_path / sample.name
    subprocess.run(
        [
            sys.executable,
            "-m",
            "oslo_config.generator",
            "--config-file",
            str(generator),
            "--output-file",
            str(fresh),
        ],
        check=True,
        cwd=ROOT,
    )
    assert fresh.read_text() == sample.read_text(), (
        f"{sample.relative_to(ROOT)} is stale: regenerate it with "
        f"oslo-config-generator --config-file {generator.relative_to(ROOT)}"
    )
