"""How the cost grows: epoch time against samples, batch size and threads;
prediction time and memory against the rows to predict. sknets beside PyTorch.

Two networks, those of ``bench_mlp.py`` and ``bench_convnet.py`` (float32,
Adam lr 1e-3, no L2 penalty here):

- ``MLP``: 784-256-128-10, ReLU;
- ``ConvNet``: Conv(16, 3x3, same) - MaxPool 2 - ReLU - Conv(32, 3x3, same) -
  MaxPool 2 - ReLU - Dense 128 - ReLU - Dense 10 (``ConvNetClassifier``'s
  layers; PyTorch's in its usual NCHW layout).

Training sweeps (one process; for each setting the peers take turns epoch by
epoch, after one warm-up epoch each, and the median of ``--repeats`` epochs
is kept):

- samples: the first 1k, 2k, 4k, 8k training rows, batch 128, 2 threads;
- batch size: 32, 64, 128, 256, 512 on 8k rows, 2 threads;
- threads: 1 and 2 (BLAS threads for sknets through threadpoolctl,
  ``torch.set_num_threads`` for PyTorch), 8k rows, batch 128.

Prediction sweep (sknets, trained one epoch first): ``predict`` on 10k, 50k,
100k, 200k rows (the 2,000 test rows tiled): time, and the peak of the memory
NumPy allocates during the call (``tracemalloc``, in a second call: it slows
allocation down), beside the size of the input itself. sknets predicts in
batches (2,048 rows for the MLP, 256 images for the ConvNet), so the peak
should stay flat: bounded by the batch, not the data (only the ``(n_rows,
n_classes)`` output grows). PyTorch's prediction time, under
``torch.no_grad()`` in batches of the same size (on the whole array at once
its ConvNet would need gigabytes for 200k images), is shown beside.

Printed as Markdown tables; the figures go to ``--out-dir`` (default: this
folder) as ``scaling_training.png`` and ``scaling_prediction.png``.

Usage::

    python benchmarks/bench_scaling.py path/to/mnist10k.npz            # about 10 minutes
    python benchmarks/bench_scaling.py --quick --out-dir /tmp/scaling  # tiny, seconds

``--quick`` runs every sweep on tiny sizes (a smoke test; the numbers mean
nothing). Data as the other benchmarks: ``mnist10k.npz`` from the argument or
``$SKNETS_MNIST``; without it scikit-learn's ``load_digits``.
"""

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from datetime import UTC, datetime

import numpy as np
from _mnist import load_mnist  # benchmarks/_mnist.py, beside this script

LR = 1e-3


def load_data(path):
    """(X_train, X_test, y_train, y_test, side, description), X float32 in [0, 1]."""
    if path and os.path.exists(path):
        return (*load_mnist(path, np.float32), 28, "mnist10k")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:1400], X[1400:], y[:1400], y[1400:], 8, "load_digits (no MNIST file)"


# ------------------------------------------------------------------ peers
def sknets_peer(net, batch_size, n_classes):
    """(epoch(X, y, threads), predict(X)) for a fresh sknets estimator."""
    from threadpoolctl import threadpool_limits

    from sknets import ConvNetClassifier, MLPClassifierScratch

    common = dict(solver="adam", learning_rate_init=LR, batch_size=batch_size, alpha=0.0,
                  tol=0.0, random_state=0, dtype="float32")
    if net == "MLP":
        clf = MLPClassifierScratch((256, 128), activation="relu", **common)
    else:
        clf = ConvNetClassifier(conv_filters=(16, 32), kernel_size=3, padding="same",
                                pooling="max", pool_size=2, hidden_layer_sizes=(128,), **common)
    classes = np.arange(n_classes)

    def epoch(X, y, threads):
        with threadpool_limits(threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X, y, classes=classes)

    def predict(X, threads):
        with threadpool_limits(threads):
            return clf.predict(X)
    return epoch, predict


def torch_peer(net, batch_size, n_classes, side):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if net == "MLP":
        model = nn.Sequential(nn.Linear(side * side, 256), nn.ReLU(), nn.Linear(256, 128),
                              nn.ReLU(), nn.Linear(128, n_classes))
        shape = (-1, side * side)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
            nn.Linear(32 * (side // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, n_classes))
        shape = (-1, 1, side, side)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)

    def epoch(X, y, threads):
        torch.set_num_threads(threads)
        Xt, yt = torch.from_numpy(X.reshape(shape)), torch.from_numpy(y)
        perm = torch.randperm(len(Xt), generator=gen)
        for i in range(0, len(Xt), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(Xt[idx]), yt[idx]).backward()
            opt.step()

    rows = 2048 if net == "MLP" else 256   # sknets' prediction batches

    def predict(X, threads):
        torch.set_num_threads(threads)
        Xt = torch.from_numpy(X.reshape(shape))
        with torch.no_grad():
            return torch.cat([model(Xt[i:i + rows]).argmax(1)
                              for i in range(0, len(Xt), rows)]).numpy()
    return epoch, predict


def make_peers(net, batch_size, n_classes, side, with_torch):
    peers = {"sknets": sknets_peer(net, batch_size, n_classes)}
    if with_torch:
        peers["torch"] = torch_peer(net, batch_size, n_classes, side)
    return peers


def epoch_times(peers, X, y, threads, repeats, warm_up=True):
    """Median seconds per epoch of each peer: one warm-up epoch, then turns."""
    times = {name: [] for name in peers}
    for epoch, _ in peers.values():
        if warm_up:
            epoch(X, y, threads)
    for _ in range(repeats):
        for name, (epoch, _) in peers.items():
            tic = time.perf_counter()
            epoch(X, y, threads)
            times[name].append(time.perf_counter() - tic)
    return {name: statistics.median(t) for name, t in times.items()}


def predict_costs(peers, X, threads, repeats):
    """{peer: (median seconds, peak MiB allocated during the call or NaN)}."""
    out = {}
    for name, (_, predict) in peers.items():
        predict(X[:64], threads)   # warm-up
        times = []
        for _ in range(repeats):
            tic = time.perf_counter()
            predict(X, threads)
            times.append(time.perf_counter() - tic)
        peak = float("nan")
        if name == "sknets":   # tracemalloc sees NumPy's allocations, not PyTorch's
            tracemalloc.start()
            predict(X, threads)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        out[name] = (statistics.median(times), peak)
    return out


# ----------------------------------------------------------------- sweeps
def run(args):
    Xtr, Xte, ytr, _, side, description = load_data(args.data)
    n_classes = int(ytr.max()) + 1
    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: sknets alone.")
            with_torch = False
    if args.quick:
        samples, batches, rows = [128, 256], [64], [500, 1000]
        n_full, repeats = 256, 1
    else:
        samples, batches, rows = [1000, 2000, 4000, 8000], [32, 64, 128, 256, 512], \
            [10_000, 50_000, 100_000, 200_000]
        n_full, repeats = len(Xtr), args.repeats
    samples = [s for s in samples if s <= len(Xtr)] or [len(Xtr)]
    n_full = min(n_full, len(Xtr))
    nets = ["MLP", "ConvNet"] if args.net == "both" else [args.net]
    threads_default = min(2, os.cpu_count() or 1)

    print(f"# Scaling benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}"
          + (f", PyTorch {torch.__version__}" if with_torch else "")
          + f"; data: {description}; {repeats} repeat(s); load average "
          f"{os.getloadavg()[0]:.1f}")
    train = []   # (net, sweep, value, peer, seconds)
    for net in nets:
        for n in samples:   # epoch time against the number of samples
            peers = make_peers(net, 128, n_classes, side, with_torch)
            for peer, s in epoch_times(peers, Xtr[:n], ytr[:n], threads_default,
                                       repeats, warm_up=not args.quick).items():
                train.append((net, "samples", n, peer, s))
        for b in batches:   # against the batch size
            peers = make_peers(net, b, n_classes, side, with_torch)
            for peer, s in epoch_times(peers, Xtr[:n_full], ytr[:n_full], threads_default,
                                       repeats, warm_up=not args.quick).items():
                train.append((net, "batch size", b, peer, s))
        for t in sorted({1, threads_default}):   # against the threads
            peers = make_peers(net, 128, n_classes, side, with_torch)
            for peer, s in epoch_times(peers, Xtr[:n_full], ytr[:n_full], t,
                                       repeats, warm_up=not args.quick).items():
                train.append((net, "threads", t, peer, s))
        print(f"  {net}: training sweeps done", file=sys.stderr, flush=True)

    predict = []   # (net, rows, peer, seconds, peak MiB, input MiB)
    for net in nets:
        peers = make_peers(net, 128, n_classes, side, with_torch)
        for epoch, _ in peers.values():
            epoch(Xtr[:n_full], ytr[:n_full], threads_default)
        for r in rows:
            X = np.resize(Xte, (r, Xte.shape[1]))   # the test rows tiled to r rows
            for peer, (s, peak) in predict_costs(peers, X, threads_default,
                                                 repeats).items():
                predict.append((net, r, peer, s, peak, X.nbytes / 2**20))
            del X
    print_tables(train, predict)
    plot(train, predict, args.out_dir)


def print_tables(train, predict):
    print("\n## Training: seconds per epoch (median)\n")
    print("| network | sweep | value | sknets s/epoch | PyTorch s/epoch | sknets / PyTorch |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    keys = sorted({(net, sweep, v) for net, sweep, v, _, _ in train},
                  key=lambda k: (k[0], k[1], k[2]))
    table = {(net, sweep, v, peer): s for net, sweep, v, peer, s in train}
    for net, sweep, v in keys:
        sk, th = table.get((net, sweep, v, "sknets")), table.get((net, sweep, v, "torch"))
        ratio = f"{sk / th:.2f}" if th else "-"
        print(f"| {net} | {sweep} | {v} | {sk:.3f} | "
              f"{'-' if th is None else f'{th:.3f}'} | {ratio} |")
    print("\n## Prediction: seconds and peak memory against the rows to predict\n")
    print("| network | rows | input MiB | sknets s | sknets peak MiB (tracemalloc) | PyTorch s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = {(net, r, peer): (s, peak, size) for net, r, peer, s, peak, size in predict}
    for net, r in sorted({(net, r) for net, r, *_ in predict}):
        s, peak, size = rows[(net, r, "sknets")]
        th = rows.get((net, r, "torch"))
        print(f"| {net} | {r} | {size:.1f} | {s:.3f} | {peak:.1f} | "
              f"{'-' if th is None else f'{th[0]:.3f}'} |")


def plot(train, predict, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    nets = sorted({t[0] for t in train}, reverse=True)
    sweeps = ["samples", "batch size", "threads"]
    fig, axes = plt.subplots(len(nets), 3, figsize=(12, 3.6 * len(nets)), squeeze=False)
    for i, net in enumerate(nets):
        for j, sweep in enumerate(sweeps):
            ax = axes[i][j]
            for peer, style in (("sknets", "o-"), ("torch", "s--")):
                pts = sorted((v, s) for n, sw, v, p, s in train
                             if n == net and sw == sweep and p == peer)
                if pts:
                    ax.plot(*zip(*pts), style, label="PyTorch CPU" if peer == "torch" else peer)
            values = sorted({v for n, sw, v, _, _ in train if n == net and sw == sweep})
            if sweep == "batch size":
                ax.set_xscale("log", base=2)
            if sweep != "samples":
                ax.set_xticks(values, [str(v) for v in values])
            ax.set_ylim(bottom=0)
            ax.set_xlabel({"samples": "training samples", "batch size": "batch size",
                           "threads": "threads"}[sweep])
            ax.set_ylabel("seconds per epoch")
            ax.set_title(f"{net}: epoch time vs {sweep}")
            ax.grid(alpha=0.3)
            ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "scaling_training.png"), dpi=100)
    plt.close(fig)

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4))
    for net in sorted({p[0] for p in predict}, reverse=True):
        for peer, style in (("sknets", "o-"), ("torch", "s--")):
            pts = sorted((r, s) for n, r, p, s, *_ in predict if n == net and p == peer)
            if pts:
                ax_t.plot(*zip(*pts), style,
                          label=f"{net}, {'PyTorch CPU' if peer == 'torch' else peer}")
        pts = sorted((r, peak) for n, r, p, _, peak, _ in predict if n == net and p == "sknets")
        ax_m.plot(*zip(*pts), "o-", label=f"{net}, sknets peak during predict")
    sizes = sorted({(r, size) for _, r, _, _, _, size in predict})
    ax_m.plot(*zip(*sizes), "k:", label="size of the input X")
    ax_t.set(xlabel="rows to predict", ylabel="seconds", title="prediction time")
    ax_m.set(xlabel="rows to predict", ylabel="MiB", title="memory allocated by predict")
    for ax in (ax_t, ax_m):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "scaling_prediction.png"), dpi=100)
    plt.close(fig)
    print(f"\nFigures: {os.path.join(out_dir, 'scaling_training.png')}, "
          f"{os.path.join(out_dir, 'scaling_prediction.png')}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?", default=os.environ.get("SKNETS_MNIST"),
                   help="path of mnist10k.npz (default: $SKNETS_MNIST, else load_digits)")
    p.add_argument("--net", choices=["MLP", "ConvNet", "both"], default="both")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per setting and peer")
    p.add_argument("--no-torch", action="store_true", help="sknets alone")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke test)")
    p.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)),
                   help="folder for the PNG figures (default: benchmarks/)")
    args = p.parse_args(argv)
    if args.data and not os.path.isfile(args.data):
        p.error(f"no such file: {args.data}")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
