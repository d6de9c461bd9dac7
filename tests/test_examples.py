"""Every example runs headless (Agg) and saves its figure into a given folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_examples_found():
    assert len(EXAMPLES) >= 7


# Each example is a child process of several seconds; the documentation build
# (``.ci/run``) runs the gallery's as well.
@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "SKNETS_EXAMPLE_FAST": "1",
           "PYTHONWARNINGS": "ignore"}
    env.pop("SKNETS_EXAMPLE_OUTPUT", None)
    out = tmp_path / "figures"
    res = subprocess.run([sys.executable, str(script), str(out)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    if script.stem.startswith("plot_"):
        figure = out / f"{script.stem[len('plot_'):]}.png"
        assert figure.is_file() and figure.stat().st_size > 10_000, res.stdout
        assert f"saved {figure}" in res.stdout
    else:
        assert res.stdout.strip()
    assert not list(tmp_path.glob("*.png")), "figures must go to the given folder"
