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


def _run_script(name, *args, timeout=120):
    res = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", name), *args],
                         capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                         env={**os.environ, "SKNETS_MNIST": "", "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


@pytest.mark.parametrize("flags", [(), ("--mlp", "--dtype", "float64")])
def test_profile_script_accounts_for_the_whole_epoch(flags):
    """``profile_convnet.py --quick`` (on digits): a row per layer, the loss, the
    optimizer and the rest, whose shares add up to the instrumented epoch."""
    out = _run_script("profile_convnet.py", "--quick", "--threads", "1", *flags)
    rows = re.findall(r"^\| ([^|*]+?) \| [-0-9.]+ \| [-0-9.]+ \| ([0-9.]+) \| ([0-9]+)% \|",
                      out, flags=re.M)
    names = [name for name, _, _ in rows]
    assert any("Dense" in n for n in names)
    assert ("Conv2D" in " ".join(names)) == (not flags)
    assert {"loss (softmax cross-entropy)", "optimizer (Adam step)"} <= set(names)
    epoch = float(re.search(r"\*\*epoch \(instrumented\)\*\* .*?\*\*([0-9.]+)\*\*", out).group(1))
    assert sum(float(total) for _, total, _ in rows) == pytest.approx(epoch, rel=0.02, abs=2e-4)
    assert "GEMM floor of the epoch" in out


def test_scaling_script_quick_run_writes_tables_and_figures(tmp_path):
    out = _run_script("bench_scaling.py", "--quick", "--out-dir", str(tmp_path), timeout=300)
    for net in ("MLP", "ConvNet"):
        for sweep in ("samples", "batch size", "threads"):
            assert re.search(rf"^\| {net} \| {sweep} \| \d+ \| [0-9.]+ \|", out, flags=re.M)
        assert len(re.findall(rf"^\| {net} \| \d+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|",
                              out, flags=re.M)) == 2
    assert {p.name for p in tmp_path.iterdir()} == {"scaling_training.png",
                                                   "scaling_prediction.png"}


def test_gan_benchmark_quick_run_reports_every_peer_and_measure():
    """``bench_gan.py --quick`` (2 epochs, 1 seed): a row per mode and peer with
    time and every quality measure, and the time ratio to PyTorch."""
    out = _run_script("bench_gan.py", "--quick", "--threads", "1", timeout=600)
    rows = re.findall(r"^\| (conditional|unconditional) \| (sknets|sknets best|torch) \| "
                      r"([0-9.]+) \| ([-0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| "
                      r"([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|$", out, flags=re.M)
    peers = {"sknets", "sknets best"} | ({"torch"} if "torch" in out else set())
    assert {(mode, peer) for mode, peer, *_ in rows} == {
        (mode, peer) for mode in ("conditional", "unconditional") for peer in peers}
    for mode, _, seconds, accuracy, share, *measures in rows:
        assert float(seconds) > 0
        assert (accuracy == "-") == (mode == "unconditional")
        assert all(0 <= float(v) <= 1 for v in [share, *measures])
    if "torch" in peers:
        assert len(re.findall(r"time per epoch sknets / torch = [0-9.]+x", out)) == 2
