"""ConvNetClassifier vs PyTorch (CPU) on MNIST: seconds per epoch, accuracy, memory.

The same network for both peers::

    Conv(16, 3x3, same) - MaxPool 2 - ReLU - Conv(32, 3x3, same) - MaxPool 2 - ReLU
    - Flatten - Dense 128 - ReLU - Dense 10 (softmax cross-entropy)

(ReLU after the pooling, as ``ConvNetClassifier`` stacks them: max-pooling
and ReLU commute, so this is the usual Conv-ReLU-Pool network, with the ReLU
on a quarter of the values; both peers use this order.)

Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), mini-batches of 128 shuffled each
epoch, 5 epochs, no weight decay, float32. PyTorch starts from *the same
initial weights* as sknets (He-uniform kernels and hidden layer, Glorot output
layer, drawn by sknets and copied over, NCHW-permuted) and sees the samples in
*the same order* (sknets' shuffles replayed; ``--torch-shuffle`` gives it its
own ``randperm`` instead), so the two differ only in their implementation and
float32 rounding.

sknets runs once per CPU path (``--backend``, default every one installed:
``numpy``, and ``numba`` -- NumPy arrays with compiled kernels -- where numba
is); ``--numba-threading`` adds the compiled path with its loops run in
parallel by numba's threading layers (``parallel``: the default layer,
``passive``: OpenMP with passive waiting, ``workqueue``), for the measurement
behind the serial default. The compiled kernels are loaded from numba's disk
cache, which a warm-up fit fills first; ``--compile-time`` also measures what
the first fit of a new machine costs (an empty cache) and a new process (the
cache filled), each as the extra time over a NumPy fit.

Each peer trains in its own child process (so the peak resident memory,
``ru_maxrss``, is its own); the peers take turns for each repeat so that load
from elsewhere on the machine spreads evenly over them. All use the same
number of threads (``--threads``, default 2: BLAS threads for sknets through
threadpoolctl, ``torch.set_num_threads`` for PyTorch, numba's threads for
the parallel modes). Reported: best and median seconds per epoch (fit time /
epochs: a compiled path's loading from the cache included), the ratio to
PyTorch of the medians, test accuracy (each repeat uses the next seed: initial
weights and order change, the same for every peer) and its mean, peak RSS and
its growth during the fit.

Data: ``mnist10k.npz`` (``X`` uint8 10000x784, ``y``; rows 0-7999 train,
8000-9999 test, X/255) from the path argument or ``$SKNETS_MNIST``; without
it, scikit-learn's ``load_digits`` (8x8, X/16, 25% stratified test split).
PyTorch is optional: without it only sknets runs.

Usage::

    python benchmarks/bench_convnet.py path/to/mnist10k.npz --repeats 3
    python benchmarks/bench_convnet.py path/to/mnist10k.npz --backend numba --threads 1
    python benchmarks/bench_convnet.py path/to/mnist10k.npz --compile-time \
        --numba-threading serial,parallel,passive,workqueue
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime

import numpy as np
from _mnist import load_mnist  # benchmarks/_mnist.py, beside this script

EPOCHS = 5
BATCH = 128
LR = 1e-3


def load_data(path):
    """Train/test split as float32 rows and the image side."""
    if path and os.path.exists(path):
        return (*load_mnist(path, np.float32), "mnist10k")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return X_tr, X_te, y_tr, y_te, "load_digits (no MNIST file)"


def make_sknets(seed, backend="numpy"):
    from sknets import ConvNetClassifier

    return ConvNetClassifier(
        conv_filters=(16, 32), kernel_size=3, padding="same", pooling="max", pool_size=2,
        hidden_layer_sizes=(128,), solver="adam", learning_rate_init=LR, batch_size=BATCH,
        alpha=0.0, max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS + 1, shuffle=True,
        random_state=seed, dtype="float32", backend=backend,
    )


def initial_weights_and_order(clf, n_samples, n_features, n_classes, seed):
    """The weights ``clf.fit`` starts from and the sample order of each epoch.

    ``fit`` draws the initial weights from ``RandomState(seed)``, then shuffles
    the sample indices with it at the start of every epoch (scikit-learn's
    ``shuffle``); this replays those draws.
    """
    from sklearn.utils import shuffle

    from sknets.backend import get_backend
    from sknets.network import Sequential

    rs = np.random.RandomState(seed)
    net = Sequential(clf._build_layers((n_features,), n_classes)).build(
        (n_features,), get_backend("numpy"), np.float32, rs)
    params = [{k: np.array(v) for k, v in layer.params.items()}
              for layer in net.layers if layer.params]
    order, idx = [], np.arange(n_samples)
    for _ in range(EPOCHS):
        idx = shuffle(idx, random_state=rs)
        order.append(idx)
    return params, order


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def set_numba_threading(mode, threads):
    """Run the compiled kernels' loops serially or on a numba threading layer."""
    from sknets._kernels import _numba

    _numba._set_threading(mode)
    if mode != "serial":
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def run_sknets(data, threads, seed, backend="numpy", threading="serial"):
    from threadpoolctl import threadpool_limits

    X_tr, X_te, y_tr, y_te, _ = data
    if backend == "numba":
        set_numba_threading(threading, threads)
    clf = make_sknets(seed, backend)
    rss0 = _rss_mib()
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tic, cpu = time.perf_counter(), time.process_time()
        clf.fit(X_tr, y_tr)
        fit_s, cpu_s = time.perf_counter() - tic, time.process_time() - cpu
        acc = clf.score(X_te, y_te)
    return dict(peer="sknets", s_per_epoch=fit_s / clf.n_iter_, acc=acc, fit_s=fit_s,
                cpu_per_epoch=cpu_s / clf.n_iter_,
                peak_mib=_peak_mib(), rss_before_mib=rss0,
                epochs=[round(h["dur"], 3) for h in clf.history_])


def run_torch(data, threads, seed, same_order=True):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    X_tr, X_te, y_tr, y_te, _ = data
    side = int(round(X_tr.shape[1] ** 0.5))
    n_classes = int(y_tr.max()) + 1
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * (side // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, n_classes),
    )
    # Same initial weights as sknets, permuted to PyTorch's NCHW layout.
    params, order = initial_weights_and_order(make_sknets(seed), len(X_tr), X_tr.shape[1],
                                              n_classes, seed)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    denses = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for m, p in zip(convs, params[:2]):
            m.weight.copy_(torch.from_numpy(p["W"].transpose(3, 2, 0, 1).copy()))
            m.bias.copy_(torch.from_numpy(p["b"]))
        s4 = side // 4
        W1 = params[2]["W"].reshape(s4, s4, 32, -1).transpose(2, 0, 1, 3).reshape(-1, 128)
        denses[0].weight.copy_(torch.from_numpy(W1.T.copy()))
        denses[0].bias.copy_(torch.from_numpy(params[2]["b"]))
        denses[1].weight.copy_(torch.from_numpy(params[3]["W"].T.copy()))
        denses[1].bias.copy_(torch.from_numpy(params[3]["b"]))
    Xt = torch.from_numpy(X_tr.reshape(-1, 1, side, side))
    yt = torch.from_numpy(y_tr)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    rss0 = _rss_mib()
    epochs = []
    tic, cpu = time.perf_counter(), time.process_time()
    for epoch in range(EPOCHS):
        t0 = time.perf_counter()
        perm = torch.from_numpy(order[epoch]) if same_order else torch.randperm(len(Xt))
        for i in range(0, len(Xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        epochs.append(round(time.perf_counter() - t0, 3))
    fit_s, cpu_s = time.perf_counter() - tic, time.process_time() - cpu
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te.reshape(-1, 1, side, side))).argmax(1).numpy()
    return dict(peer="torch", s_per_epoch=fit_s / EPOCHS, acc=float((pred == y_te).mean()),
                cpu_per_epoch=cpu_s / EPOCHS,
                peak_mib=_peak_mib(), rss_before_mib=rss0, epochs=epochs)


def compile_time(data, backend, threads):
    """Seconds of a 1-epoch fit on 1,024 rows (the compile or cache load
    included: this runs in a new process)."""
    from threadpoolctl import threadpool_limits

    X_tr, _, y_tr, _, _ = data
    clf = make_sknets(0, backend)
    clf.set_params(max_iter=1)
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tic = time.perf_counter()
        clf.fit(X_tr[:1024], y_tr[:1024])
        return time.perf_counter() - tic


def child(args):
    global EPOCHS
    EPOCHS = args.epochs
    data = load_data(args.data)
    if args.child == "sknets":
        res = run_sknets(data, args.threads, args.seed, args.backend, args.threading)
    elif args.child == "first-fit":
        res = dict(seconds=compile_time(data, args.backend, args.threads))
    else:
        res = run_torch(data, args.threads, args.seed, same_order=not args.torch_shuffle)
    print("RESULT " + json.dumps(res))


def _cpu_paths(requested, modes):
    """The sknets peers ``(label, backend, threading)`` to run."""
    peers = []
    for backend in requested:
        if backend == "numba":
            try:
                import numba  # noqa: F401
            except ImportError:
                print("numba is not installed: no compiled path (pip install \"sknets[fast]\").")
                continue
            peers += [("numba" if m == "serial" else f"numba/{m}", "numba", m) for m in modes]
        else:
            peers.append((backend, backend, "serial"))
    return peers


def _run_child(args, peer, backend="numpy", threading="serial", seed=0, env=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", peer,
           "--threads", str(args.threads), "--seed", str(seed), "--epochs", str(args.epochs),
           "--backend", backend, "--threading", threading]
    if args.torch_shuffle:
        cmd.append("--torch-shuffle")
    if args.data:
        cmd.insert(2, args.data)
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env=None if env is None else {**os.environ, **env})
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode or not lines:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(f"{peer} child failed (exit {out.returncode})")
    return json.loads(lines[-1][len("RESULT "):])


def first_fit_costs(args, modes):
    """Extra seconds of a first fit on the compiled path over NumPy's: with an
    empty numba cache (a new machine) and with it filled (a new process)."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        base = statistics.median(_run_child(args, "first-fit", "numpy")["seconds"]
                                 for _ in range(3))
        cold = _run_child(args, "first-fit", "numba", env=env)["seconds"]
        warm = statistics.median(_run_child(args, "first-fit", "numba", env=env)["seconds"]
                                 for _ in range(3))
    print(f"first fit on the compiled path (1 epoch of 1,024 rows, {modes[0]} loops): "
          f"NumPy {base:.2f} s; numba with an empty cache {cold:.2f} s "
          f"(+{cold - base:.2f} s: compiling), with the cache filled {warm:.2f} s "
          f"(+{warm - base:.2f} s: loading)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default=os.environ.get("SKNETS_MNIST"),
                        help="path of mnist10k.npz (default: $SKNETS_MNIST)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help=f"epochs per fit (default {EPOCHS}; fewer for a quick look)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random_state of the first repeat (then seed + 1, ...)")
    parser.add_argument("--backend", default="numpy,numba",
                        help="sknets' CPU paths, comma-separated (default: numpy,numba; "
                             "numba is skipped where it is not installed)")
    parser.add_argument("--numba-threading", default="serial",
                        help="how the compiled loops run, comma-separated: serial (the "
                             "default), parallel, passive, workqueue")
    parser.add_argument("--compile-time", action="store_true",
                        help="also measure the compiled path's first fit (empty and filled "
                             "cache)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--torch-shuffle", action="store_true",
                        help="PyTorch shuffles with its own randperm (default: sknets' order)")
    parser.add_argument("--child", choices=["sknets", "torch", "first-fit"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--threading", default="serial", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    modes = args.numba_threading.split(",")
    paths = _cpu_paths(args.backend.split(","), modes)
    peers = [(f"sknets {label}", "sknets", backend, mode) for label, backend, mode in paths]
    if not args.no_torch:
        try:
            import torch  # noqa: F401
            peers.append(("torch", "torch", "numpy", "serial"))
        except ImportError:
            print("PyTorch is not installed: benchmarking sknets alone.")
    dataset = load_data(args.data)[-1]
    print(f"# ConvNet benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads={args.threads}, data: {dataset}, {args.epochs} epochs, batch {BATCH}, "
          f"load average {os.getloadavg()[0]:.1f}")
    if any(backend == "numba" for _, _, backend, _ in peers):
        # fill numba's disk cache once, so that each fit below only loads it
        for mode in modes:
            _run_child(args, "first-fit", "numba", mode)
        if args.compile_time:
            first_fit_costs(args, modes)
    results = {label: [] for label, *_ in peers}
    for r in range(args.repeats):
        for label, kind, backend, mode in peers:
            res = _run_child(args, kind, backend, mode, seed=args.seed + r)
            results[label].append(res)
            print(f"  repeat {r + 1} {label:14s}: {res['s_per_epoch']:.2f} s/epoch "
                  f"(epochs {res['epochs']}; CPU {res['cpu_per_epoch']:.2f} s), "
                  f"acc {res['acc']:.4f}, load {os.getloadavg()[0]:.1f}, "
                  f"peak RSS {res['peak_mib']:.0f} MiB", flush=True)

    print(f"\nload average at the end {os.getloadavg()[0]:.1f}\n")
    print("| peer | s/epoch best | s/epoch median | ratio to torch (median) | test accuracy "
          "(per seed) | mean accuracy | peak RSS MiB | RSS growth during fit MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    med = {p: statistics.median(r["s_per_epoch"] for r in results[p]) for p in results}
    for peer, rs in results.items():
        ratio = f"{med[peer] / med['torch']:.2f}" if "torch" in med else "n/a"
        accs = "/".join(f"{r['acc']:.4f}" for r in rs)
        print(f"| {peer} | {min(r['s_per_epoch'] for r in rs):.2f} | {med[peer]:.2f} | "
              f"{ratio} | {accs} | {statistics.mean(r['acc'] for r in rs):.4f} | "
              f"{max(r['peak_mib'] for r in rs):.0f} | "
              f"{max(r['peak_mib'] - r['rss_before_mib'] for r in rs):.0f} |")
    if "torch" in results:
        print()
        for peer, rs in results.items():
            if peer != "torch":
                ratios = [a["s_per_epoch"] / b["s_per_epoch"]
                          for a, b in zip(rs, results["torch"])]
                gaps = [100 * (a["acc"] - b["acc"]) for a, b in zip(rs, results["torch"])]
                cpu = [a["cpu_per_epoch"] / b["cpu_per_epoch"]
                       for a, b in zip(rs, results["torch"])]
                print(f"{peer} / torch per repeat: "
                      f"{' '.join(f'{x:.2f}' for x in ratios)} (median "
                      f"{statistics.median(ratios):.2f}; CPU time "
                      f"{statistics.median(cpu):.2f}); accuracy gap in points: "
                      f"{' '.join(f'{g:+.2f}' for g in gaps)}")


if __name__ == "__main__":
    main()
