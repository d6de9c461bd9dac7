"""MLPClassifierScratch vs scikit-learn's MLPClassifier (and PyTorch) on MNIST.

The same network for every peer: 784-256-128-10, ReLU, Adam (lr 1e-3),
L2 alpha 1e-4, mini-batches of 128, 10 epochs, no early stopping. Every peer
trains in this one process, one epoch at a time (``partial_fit`` for the
estimators: the same update as an epoch of ``fit``), and the peers take turns
epoch by epoch so that load from elsewhere on the machine spreads evenly over
them. The table shows the best and the median seconds per epoch over all
epochs of all repeats, the speed-up over scikit-learn with float64 input (from
the best epochs, and the median of the per-epoch ratios: the i-th epochs of
two peers ran seconds apart, under the same load), and the test accuracy
after the last epoch (median over repeats).

Peers:

- ``sklearn float64``: ``MLPClassifier`` on float64 input (its usual use).
- ``sklearn float32``: ``MLPClassifier`` on float32 input (it computes in float32).
- ``sknets float32``: ``MLPClassifierScratch`` on float32 data (the default
  ``dtype=None`` computes in the data's dtype).
- ``sknets float64``: ``MLPClassifierScratch(dtype="float64")``.
- ``sknets numba float32``, ``sknets numba float64``: the same with
  ``backend="numba"`` (NumPy arrays, compiled kernels: for an MLP, the
  optimizer step; ``--backend numpy`` leaves them out, as does a machine
  without numba).
- ``torch float32``: PyTorch on the CPU, same architecture, Glorot-uniform init,
  Adam, batch 128, ``torch.set_num_threads(<cores>)``; skipped when PyTorch is
  missing.
- ``GEMM lower bound``: only the matrix products of one epoch's forward and
  backward passes, in NumPy float32: no peer can do the epoch faster than this.

Data: ``mnist10k.npz`` (``X`` uint8 10000x784, ``y``; rows 0-7999 train,
8000-9999 test, X/255) from the path argument or ``$SKNETS_MNIST``; without
it, scikit-learn's ``load_digits`` (X/16, 25% stratified test split).

Usage::

    python benchmarks/bench_mlp.py path/to/mnist10k.npz --repeats 3
    SKNETS_MNIST=path/to/mnist10k.npz python benchmarks/bench_mlp.py --no-float64
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
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info

from sknets import MLPClassifierScratch

HIDDEN = (256, 128)
BATCH = 128
LR = 1e-3
ALPHA = 1e-4


def load_data(path):
    """(X_train, X_test, y_train, y_test, description) as float64 arrays."""
    if path:
        Xtr, Xte, ytr, yte = load_mnist(path)
        return (Xtr, Xte, ytr, yte,
                f"MNIST {os.path.basename(path)}: {len(Xtr)} train / {len(Xte)} test rows")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, stratify=y,
                                          random_state=0)
    return Xtr, Xte, ytr, yte, f"load_digits (no MNIST file): {len(ytr)} train / {len(yte)} test"


# ------------------------------------------------------------------ peers
# A peer is a function (Xtr, Xte, ytr, yte) -> (epoch, score): ``epoch()`` trains
# one epoch, ``score()`` is the test accuracy (NaN for the GEMM bound).
def sklearn_peer(cls, dtype, backend="numpy"):
    def setup(Xtr, Xte, ytr, yte):
        Xtr, Xte = Xtr.astype(dtype), Xte.astype(dtype)
        kw = {} if cls is MLPClassifier else {"dtype": np.dtype(dtype).name, "backend": backend}
        clf = cls(HIDDEN, activation="relu", solver="adam", alpha=ALPHA, batch_size=BATCH,
                  learning_rate_init=LR, tol=0.0, random_state=0, **kw)
        classes = np.unique(ytr)
        return (lambda: clf.partial_fit(Xtr, ytr, classes=classes)), (lambda: clf.score(Xte, yte))
    return setup


def torch_peer(n_threads):
    import torch

    def setup(Xtr, Xte, ytr, yte):
        torch.set_num_threads(n_threads)
        torch.manual_seed(0)
        sizes = (Xtr.shape[1], *HIDDEN, int(ytr.max()) + 1)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = torch.nn.Linear(n_in, n_out)
            bound = np.sqrt(6.0 / (n_in + n_out))  # Glorot uniform, biases too (as sklearn)
            torch.nn.init.uniform_(lin.weight, -bound, bound)
            torch.nn.init.uniform_(lin.bias, -bound, bound)
            layers += [lin] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else [])
        net = torch.nn.Sequential(*layers)
        weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
        opt = torch.optim.Adam(net.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
        X = torch.from_numpy(Xtr.astype(np.float32))
        y = torch.from_numpy(ytr.astype(np.int64))
        gen = torch.Generator().manual_seed(0)

        def epoch():
            perm = torch.randperm(len(X), generator=gen)
            for start in range(0, len(X), BATCH):
                idx = perm[start:start + BATCH]
                xb, yb = X[idx], y[idx]
                loss = torch.nn.functional.cross_entropy(net(xb), yb)
                # sklearn's L2 term: alpha / 2 * ||W||^2 / batch size
                loss = loss + 0.5 * ALPHA * sum((w * w).sum() for w in weights) / len(xb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

        def score():
            with torch.no_grad():
                pred = net(torch.from_numpy(Xte.astype(np.float32))).argmax(1).numpy()
            return float(np.mean(pred == yte))
        return epoch, score
    return setup


def gemm_peer(Xtr, Xte, ytr, yte):
    """The forward+backward matrix products of one epoch, NumPy float32."""
    rng = np.random.RandomState(0)
    sizes = (Xtr.shape[1], *HIDDEN, int(ytr.max()) + 1)
    W = [rng.uniform(-0.1, 0.1, (a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    X = Xtr.astype(np.float32)

    def epoch():
        for start in range(0, len(X), BATCH):
            acts = [X[start:start + BATCH]]
            for w in W:  # forward: one product per layer
                acts.append(acts[-1] @ w)
            d = acts[-1]
            for i in range(len(W) - 1, -1, -1):  # backward: dW, and dX except for the input
                _ = acts[i].T @ d
                if i:
                    d = d @ W[i].T
    return epoch, (lambda: float("nan"))


def blas_description():
    pools = {(p["internal_api"], p.get("version"), p["num_threads"])
             for p in threadpool_info() if p.get("user_api") == "blas"}
    return "; ".join(f"{api} {ver} ({n} threads)" for api, ver, n in sorted(pools)) or "none"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?", default=os.environ.get("SKNETS_MNIST"),
                   help="path of mnist10k.npz (default: $SKNETS_MNIST, else load_digits)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-float64", action="store_true", help="skip sknets float64")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    p.add_argument("--backend", default="numpy,numba",
                   help="sknets' CPU paths, comma-separated (default: numpy,numba; numba is "
                        "skipped where it is not installed)")
    args = p.parse_args(argv)

    if args.data and not os.path.isfile(args.data):
        p.error(f"no such file: {args.data}")
    Xtr, Xte, ytr, yte, description = load_data(args.data)
    n_cores = os.cpu_count() or 1
    peers = {"sklearn float64": sklearn_peer(MLPClassifier, np.float64),
             "sklearn float32": sklearn_peer(MLPClassifier, np.float32),
             "sknets float32": sklearn_peer(MLPClassifierScratch, np.float32)}
    if not args.no_float64:
        peers["sknets float64"] = sklearn_peer(MLPClassifierScratch, np.float64)
    if "numba" in args.backend.split(","):
        try:
            import numba  # noqa: F401
            peers["sknets numba float32"] = sklearn_peer(MLPClassifierScratch, np.float32,
                                                         "numba")
            if not args.no_float64:
                peers["sknets numba float64"] = sklearn_peer(MLPClassifierScratch, np.float64,
                                                             "numba")
        except ImportError:
            print("numba is not installed: no compiled path (pip install \"sknets[fast]\").")
    if not args.no_torch:
        try:
            import torch
            peers[f"torch {torch.__version__} float32"] = torch_peer(n_cores)
        except ImportError:
            print("PyTorch is not installed: skipping that peer.")
    peers["GEMM lower bound"] = gemm_peer

    import sklearn
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{n_cores} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
          f"scikit-learn {sklearn.__version__}")
    print(f"BLAS: {blas_description()}; load average {os.getloadavg()[0]:.1f}")
    print(f"Data: {description}; network {Xtr.shape[1]}-{'-'.join(map(str, HIDDEN))}-"
          f"{int(ytr.max()) + 1}, relu, adam, batch {BATCH}, {args.epochs} epochs, "
          f"{args.repeats} repeats")
    times = {name: [] for name in peers}
    scores = {name: [] for name in peers}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for r in range(args.repeats):
            runs = {name: setup(Xtr, Xte, ytr, yte) for name, setup in peers.items()}
            for _ in range(args.epochs):  # the peers take turns, epoch by epoch
                for name, (epoch, _) in runs.items():
                    tic = time.perf_counter()
                    epoch()
                    times[name].append(time.perf_counter() - tic)
            for name, (_, score) in runs.items():
                scores[name].append(score())
            print(f"  repeat {r + 1}: " + ", ".join(
                f"{name.split()[0]} {statistics.median(t[-args.epochs:]):.3f}"
                for name, t in times.items()) + f" s/epoch (median); load "
                f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
    scores = {name: statistics.median(s) for name, s in scores.items()}

    # Peers take turns epoch by epoch, so the i-th epochs of two peers ran under the
    # same load: the median of the per-epoch ratios resists load that comes and goes.
    ref = times["sklearn float64"]
    header = ("| peer                     | best s/epoch | median s/epoch | speed-up (best) "
              "| speed-up (median of per-epoch ratios) | test accuracy |")
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for name, t in times.items():
        ratio_best = min(ref) / min(t)
        ratio_med = statistics.median(r / x for r, x in zip(ref, t))
        acc = "-" if np.isnan(scores[name]) else f"{scores[name]:.4f}"
        print(f"| {name:<24} | {min(t):12.4f} | {statistics.median(t):14.4f} "
              f"| {ratio_best:14.2f}x | {ratio_med:36.2f}x | {acc:>13} |")
    # Issue 11's ratios (time of the first peer over the second's; lower is
    # faster), as medians of the per-epoch ratios of peers taking turns.
    torch_name = next((name for name in times if name.startswith("torch")), None)
    pairs = [("sknets float32", torch_name), ("sknets float64", "sklearn float64"),
             ("sknets float32", "sklearn float64"), ("sknets numba float32", torch_name),
             ("sknets numba float64", "sklearn float64"),
             ("sknets numba float32", "sknets float32")]
    for a, b in pairs:
        if a in times and b in times:
            ratio = statistics.median(x / y for x, y in zip(times[a], times[b]))
            print(f"time ratio {a} / {b}: {ratio:.2f} (median of per-epoch ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
