"""The GPU benchmark and the GPU check script run end to end without a GPU.

On a machine without one they are run with ``tests/fake_cupy`` (a strict,
NumPy-backed CuPy stand-in) on ``PYTHONPATH``, so every ``backend="cupy"``
code path of the scripts executes; their timings mean nothing here. What
this guards is that the scripts a GPU session runs once, with little device
time, work the first time.
"""

import os
import re
import subprocess
import sys

import pytest
from fake_cupy_run import run_with_fake_cupy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_gpu_dry_run_reports_every_net_batch_and_ratio():
    res = run_with_fake_cupy(
        ["python", os.path.join(ROOT, "benchmarks", "bench_gpu.py"), "--dry-run"], cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = re.findall(r"^(MLP|CNN)\s+(128|512)\s+(sknets-cupy|sknets-numpy|torch-cuda)\s+"
                      r"([0-9.]+)\s+([0-9.]+)$", res.stdout, flags=re.M)
    peers = {"sknets-cupy", "sknets-numpy"} | {r[2] for r in rows if r[2] == "torch-cuda"}
    assert {(net, batch, peer) for net, batch, peer, _, _ in rows} == {
        (net, batch, peer) for net in ("MLP", "CNN") for batch in ("128", "512")
        for peer in peers}
    assert all(float(seconds) > 0 and 0 <= float(acc) <= 1 for *_, seconds, acc in rows)
    ratios = re.findall(r"^  (MLP|CNN) batch (128|512): .*numpy/cupy speed-up = ([0-9.]+)x",
                        res.stdout, flags=re.M)
    assert len(ratios) == 4


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_gpu_check_script_runs_every_step(tmp_path):
    out = tmp_path / "checks"
    res = run_with_fake_cupy(
        ["bash", os.path.join(ROOT, "benchmarks", "gpu_checks.sh"), "", str(out)],
        timeout=600, cwd=tmp_path, PYTHON=sys.executable)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    logs = {p.name: p.read_text() for p in out.iterdir()}
    assert set(logs) == {"versions.txt", "test_gpu.log", "array_api_cupy.log", "bench_gpu.txt"}
    assert "gpu_available(): True" in logs["versions.txt"]
    # every GPU test ran (none skipped), and scikit-learn's CuPy checks ran for
    # each estimator (their torch-on-CUDA variants skip without CUDA)
    gpu_tests = logs["test_gpu.log"].splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in .*", gpu_tests), gpu_tests
    checks = logs["array_api_cupy.log"].splitlines()[-1]
    assert re.match(r"(\d+) passed", checks) and int(checks.split()[0]) >= 4, checks
    assert "failed" not in checks and "error" not in checks, checks
    assert "numpy/cupy speed-up" in logs["bench_gpu.txt"]


def test_fused_optimizer_kernels_halve_an_mlp_batch_s_launches():
    """``count_gpu_launches.py`` counts kernel launches per mini-batch on the
    stand-in; the fused optimizer steps must cut them, by about half for the
    MLP (a dozen element-wise operations per weight array become one)."""
    def launches(*flags):
        res = subprocess.run(
            [sys.executable, os.path.join(ROOT, "benchmarks", "count_gpu_launches.py"),
             "--batch-size", "64", *flags], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        return [float(line.split()[-1]) for line in res.stdout.splitlines()[1:]]

    (mlp_fused, cnn_fused), (mlp_unfused, cnn_unfused) = launches(), launches("--unfused")
    assert mlp_fused <= 0.55 * mlp_unfused, (mlp_fused, mlp_unfused)
    assert cnn_fused < 0.7 * cnn_unfused, (cnn_fused, cnn_unfused)
