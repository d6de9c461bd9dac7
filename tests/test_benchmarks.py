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

# Each test runs a benchmark script end to end in a child process (seconds to
# minutes): part of the full run (``.ci/run``), not of the quick one.
pytestmark = pytest.mark.slow


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
                         env={**os.environ, "SKNETS_MNIST": "", "OMP_NUM_THREADS": "1",
                              # this checkout's sknets, not an installed one
                              "PYTHONPATH": os.pathsep.join(
                                  [ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


@pytest.mark.parametrize("flags", [(), ("--mlp", "--dtype", "float64")])
def test_profile_script_accounts_for_the_whole_epoch(flags):
    """``profile_convnet.py --quick`` (on digits): a row per layer, the loss, the
    optimizer and the rest, whose shares add up to the instrumented epoch."""
    out = _run_script("profile_convnet.py", "--quick", "--threads", "1", "--backend", "numpy",
                      *flags)
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


def test_perceptron_benchmark_quick_run_reports_every_problem_and_peer():
    """``bench_perceptron.py --quick``: a row per problem and peer, each with a
    fit time, its ratio to scikit-learn, ``n_iter_`` and the distance of its
    ``coef_`` from scikit-learn's (zero for the epoch functions: same model)."""
    out = _run_script("bench_perceptron.py", "--quick", timeout=300)
    rows = re.findall(r"^\| (digits|synthetic|sparse-text) \| (sklearn|sknets \w+) \| 1 \| "
                      r"([0-9.]+) \| ([0-9.]+)x \| (\d+) \| ([0-9.e+-]+) \|$", out, flags=re.M)
    peers = {"sklearn", "sknets numpy", "sknets estimator"}
    if "numba: not installed" not in out:
        peers.add("sknets numba")
    assert {(problem, peer) for problem, peer, *_ in rows} == {
        (problem, peer) for problem in ("digits", "synthetic", "sparse-text") for peer in peers}
    n_iter = {(problem, peer): it for problem, peer, _, _, it, _ in rows}
    for problem, peer, seconds, ratio, it, diff in rows:
        assert float(seconds) > 0 and float(ratio) > 0
        if peer in ("sknets numba", "sknets numpy"):
            assert float(diff) == 0.0 and it == n_iter[(problem, "sklearn")]


def test_sparse_benchmark_quick_run_compares_both_models():
    """``bench_sparse.py --quick``: fit and predict time and peak memory of
    sknets and scikit-learn for the MLP and the perceptron at each width,
    then a row of ratios for each."""
    out = _run_script("bench_sparse.py", "--quick", timeout=300)
    for width in ("2,000", "5,000"):
        for model in ("MLP", "Perceptron"):
            for peer in ("sknets", "scikit-learn"):
                assert re.search(rf"^\| {width} \| [0-9.]+% \| [0-9.]+ \| {model} \| {peer} \| "
                                 r"[0-9.]+ \| [0-9.]+ \| [0-9.,]+ \| [0-9.,]+ \| [0-9.]+ \|$",
                                 out, flags=re.M), (width, model, peer)
            assert re.search(rf"^\| {width} \| {model} \| (?:[0-9.]+x \| ){{3}}[0-9.]+x \|$", out,
                             flags=re.M), (width, model)
def test_sequence_benchmark_quick_run_compares_both_peers_on_the_same_start():
    """``bench_sequence.py --quick``: a row per network and peer; PyTorch
    starts from sknets' initial weights and sample order, so both peers'
    first-epoch losses agree (float32 rounding apart)."""
    pytest.importorskip("mnist1d")
    pytest.importorskip("torch")
    res = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_sequence.py"), "--quick",
         "--threads", "1"], capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    losses = dict(((net, peer), float(loss)) for net, peer, loss in re.findall(
        r"^  (\w+)\s+repeat 1 (\w+)\s*: [0-9.]+ s/epoch, first-epoch loss ([0-9.]+)",
        res.stdout, flags=re.M))
    assert set(losses) == {(n, p) for n in ("conv", "gru", "resnet")
                           for p in ("sknets", "torch")}
    for net in ("conv", "gru", "resnet"):
        assert losses[net, "sknets"] == pytest.approx(losses[net, "torch"], rel=1e-3), net
    rows = re.findall(r"^\| (conv|gru|resnet) \| (sknets|torch) \| [0-9.]+ \| [0-9.]+ \| "
                      r"([0-9.]+) \|", res.stdout, flags=re.M)
    assert len(rows) == 6 and all(float(r) > 0 for *_, r in rows)
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
