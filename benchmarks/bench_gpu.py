"""sknets on a GPU (CuPy) vs sknets on the CPU (NumPy) vs PyTorch CUDA, on MNIST.

Two networks, the same for every peer:

- ``MLP``: 784-256-128-10, ReLU, Adam (lr 1e-3);
- ``CNN``: Conv(16, 3x3, same)-ReLU-MaxPool(2)-Conv(32, 3x3, same)-ReLU-MaxPool(2)
  -Dense(128)-ReLU-Dense(10), Adam (lr 1e-3);

each at mini-batches of 128 and 512, no L2 penalty, no early stopping (all
epochs run). Peers, all in this one process:

- ``sknets-cupy``: ``MLPClassifierScratch`` / ``ConvNetClassifier`` with
  ``backend="cupy"`` (float32);
- ``sknets-numpy``: the same estimators with ``backend="numpy"`` on this
  machine's CPU (fewer epochs: it is the slow one);
- ``torch-cuda``: PyTorch on the GPU, the same layers, data on the device
  once, a device-side permutation per epoch, one loss read-back per epoch.

Seconds per epoch are medians over the epochs after the first (the first
epoch pays CUDA kernel compilation and cuBLAS/cuDNN set-up); sknets' epoch
times come from ``history_[i]["dur"]``, which ends on the epoch's loss
read-back, so GPU work is finished when it is taken. Printed ratios:
``cupy/torch`` (time of sknets-CuPy over PyTorch CUDA; issue target for the
CNN at batch 512: <= 2) and ``numpy/cupy`` (speed-up of the GPU over sknets on
the CPU; target: >= 10).

Data: ``mnist10k.npz`` (``X`` uint8 10000x784, ``y``; rows 0-7999 train,
8000-9999 test, X/255) from the path argument or ``$SKNETS_MNIST``; without
it, scikit-learn's ``load_digits`` (8x8 images, X/16).

Without CuPy or a CUDA GPU the script prints why and exits with status 0;
``--dry-run`` then checks the script itself with CPU stand-ins on a tiny
subset (no timing meaning).

Usage::

    python benchmarks/bench_gpu.py path/to/mnist10k.npz
    SKNETS_MNIST=path/to/mnist10k.npz python benchmarks/bench_gpu.py --epochs 5
"""

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime

import numpy as np
from _mnist import load_mnist  # benchmarks/_mnist.py, beside this script
from sklearn.exceptions import ConvergenceWarning

from sknets import ConvNetClassifier, MLPClassifierScratch
from sknets.backend import gpu_available

LR = 1e-3
HIDDEN = (256, 128)
CONV = (16, 32)
DENSE = (128,)


def load_data(path, dry_run=False):
    """(X_train, X_test, y_train, y_test, image_shape, description), float32 X."""
    if path:
        Xtr, Xte, ytr, yte = load_mnist(path, np.float32)
        side = int(round(np.sqrt(Xtr.shape[1])))
        out = [Xtr, Xte, ytr, yte, (side, side),
               f"MNIST {os.path.basename(path)}: {len(Xtr)} train / {len(Xte)} test"]
    else:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        out = [X[:1400], X[1400:], y[:1400], y[1400:], (8, 8),
               "load_digits (no MNIST file): 1400 train / 397 test"]
    if dry_run:
        out[0], out[2] = out[0][:600], out[2][:600]
        out[5] += " (dry run: 600 train rows)"
    return tuple(out)


# ----------------------------------------------------------------- peers
def _sknets_estimator(net, batch, epochs, backend, image_shape):
    common = dict(solver="adam", learning_rate_init=LR, alpha=0.0, batch_size=batch,
                  max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, random_state=0,
                  backend=backend)
    if net == "MLP":
        return MLPClassifierScratch(HIDDEN, activation="relu", **common)
    return ConvNetClassifier(image_shape=image_shape, conv_filters=CONV, kernel_size=3,
                             padding="same", pooling="max", pool_size=2,
                             hidden_layer_sizes=DENSE, activation="relu", **common)


def sknets_peer(net, batch, epochs, backend, image_shape):
    def run(Xtr, Xte, ytr, yte):
        clf = _sknets_estimator(net, batch, epochs, backend, image_shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(Xtr, ytr)
        durations = [h["dur"] for h in clf.history_]
        steady = durations[1:] or durations
        return statistics.median(steady), clf.score(Xte, yte)
    return run


def _torch_net(net, n_features, n_classes, image_shape):
    import torch
    from torch import nn

    if net == "MLP":
        sizes = (n_features, *HIDDEN, n_classes)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
        return nn.Sequential(*layers)
    h, w = image_shape
    layers, channels = [nn.Unflatten(1, (1, h, w))], 1
    for filters in CONV:
        layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        channels, h, w = filters, h // 2, w // 2
    layers += [nn.Flatten(), nn.Linear(channels * h * w, DENSE[0]), nn.ReLU(),
               nn.Linear(DENSE[0], n_classes)]
    torch.manual_seed(0)
    return nn.Sequential(*layers)


def torch_peer(net, batch, epochs, device, image_shape):
    import torch

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def run(Xtr, Xte, ytr, yte):
        torch.manual_seed(0)
        model = _torch_net(net, Xtr.shape[1], int(ytr.max()) + 1, image_shape).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        X = torch.from_numpy(Xtr).to(device)  # on the device once
        y = torch.from_numpy(ytr).to(device)
        durations = []
        for _ in range(epochs):
            sync()
            tic = time.perf_counter()
            perm = torch.randperm(len(X), device=device)
            total = torch.zeros((), device=device)
            for start in range(0, len(X), batch):
                idx = perm[start:start + batch]
                loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach() * len(idx)
            float(total) / len(X)  # one read-back per epoch, as sknets' loss_curve_
            sync()
            durations.append(time.perf_counter() - tic)
        with torch.no_grad():
            pred = model(torch.from_numpy(Xte).to(device)).argmax(1).cpu().numpy()
        steady = durations[1:] or durations
        return statistics.median(steady), float(np.mean(pred == yte))
    return run


def _versions():
    """Python, the array libraries, CuPy and its GPU, PyTorch, the CPU: one line."""
    import scipy
    import sklearn

    import sknets

    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}",
             f"scipy {scipy.__version__}", f"scikit-learn {sklearn.__version__}",
             f"sknets {sknets.__version__}"]
    try:
        import cupy

        runtime = cupy.cuda.runtime
        props = runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        parts += [f"cupy {cupy.__version__}", f"GPU {name}",
                  f"CUDA runtime {runtime.runtimeGetVersion()}",
                  f"driver {runtime.driverGetVersion()}"]
    except Exception as exc:  # pragma: no cover - depends on the machine
        parts.append(f"cupy unusable ({type(exc).__name__}: {exc})")
    try:
        import torch

        parts.append(f"torch {torch.__version__} (CUDA available: {torch.cuda.is_available()})")
    except ImportError:
        parts.append("torch not installed")
    parts.append(f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()})")
    return ", ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=os.environ.get("SKNETS_MNIST"),
                        help="mnist10k.npz (default: $SKNETS_MNIST, else load_digits)")
    parser.add_argument("--epochs", type=int, default=4,
                        help="epochs for the GPU peers (median of all but the first)")
    parser.add_argument("--cpu-epochs", type=int, default=2,
                        help="epochs for sknets-numpy on the CPU")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--nets", nargs="+", default=["MLP", "CNN"], choices=["MLP", "CNN"])
    parser.add_argument("--dry-run", action="store_true",
                        help="without a GPU: run every code path with CPU stand-ins")
    args = parser.parse_args(argv)

    gpu = gpu_available()
    if not gpu and not args.dry_run:
        print("bench_gpu: no usable GPU here (CuPy missing or no CUDA device): nothing to "
              "measure. Install CuPy with `pip install \"sknets[gpu]\"` on a machine with "
              "an NVIDIA GPU; `--dry-run` checks the script on the CPU.")
        return 0
    try:
        import torch

        torch_device = "cuda" if gpu and torch.cuda.is_available() else (
            "cpu" if args.dry_run else None)
    except ImportError:
        torch_device = None
    gpu_backend = "cupy" if gpu else "numpy"
    if args.dry_run:
        args.epochs, args.cpu_epochs = 2, 1

    Xtr, Xte, ytr, yte, image_shape, description = load_data(args.path, args.dry_run)
    print(f"# sknets GPU benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# data: {description}")
    print(f"# {_versions()}")
    if args.dry_run:
        print("# DRY RUN: the 'GPU' peers run on the CPU; timings mean nothing")
    if torch_device is None:
        print("# torch-cuda: skipped (PyTorch or its CUDA support missing)")
    print()
    header = (f"{'net':<4} {'batch':>5}  {'peer':<13} {'s/epoch':>9} {'test acc':>9}")
    print(header)
    print("-" * len(header))
    summary = []
    for net in args.nets:
        for batch in args.batch_sizes:
            peers = [("sknets-cupy", sknets_peer(net, batch, args.epochs, gpu_backend,
                                                 image_shape)),
                     ("sknets-numpy", sknets_peer(net, batch, args.cpu_epochs, "numpy",
                                                  image_shape))]
            if torch_device is not None:
                peers.append(("torch-cuda", torch_peer(net, batch, args.epochs, torch_device,
                                                       image_shape)))
            times = {}
            for name, run in peers:
                seconds, acc = run(Xtr, Xte, ytr, yte)
                times[name] = seconds
                print(f"{net:<4} {batch:>5}  {name:<13} {seconds:>9.3f} {acc:>9.4f}", flush=True)
            summary.append((net, batch, times))
    print()
    print("ratios (< 1 is faster for the first name):")
    for net, batch, times in summary:
        parts = []
        if "torch-cuda" in times:
            r = times["sknets-cupy"] / times["torch-cuda"]
            target = "  (target <= 2)" if net == "CNN" and batch == 512 else ""
            parts.append(f"cupy/torch = {r:.2f}{target}")
        speedup = times["sknets-numpy"] / times["sknets-cupy"]
        target = "  (target >= 10)" if net == "CNN" and batch == 512 else ""
        parts.append(f"numpy/cupy speed-up = {speedup:.1f}x{target}")
        print(f"  {net} batch {batch}: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
