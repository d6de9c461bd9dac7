"""Where an epoch goes: time per layer and direction, beside the GEMM-only floor.

Trains the benchmark ConvNet of ``bench_convnet.py`` (or, with ``--mlp``, the
MLP 784-256-128-10 of ``bench_mlp.py``) one epoch at a time with
``partial_fit`` -- the estimator's own training loop, unchanged -- after
wrapping, on the fitted network, every layer's ``forward`` and ``backward``,
the loss and the optimizer step in timers. Each profiled epoch is followed by
a plain (unwrapped) epoch, so the table also shows what the timers cost.

Printed, as medians over the profiled epochs (seconds per epoch):

- one row per layer: forward, backward, and the time of the same layer's
  matrix products alone (the *GEMM floor*: im2col's ``cols @ W`` forward,
  ``cols.T @ dY`` and ``dY @ W.T`` backward for ``Conv2D``; the same three
  for ``Dense``; none for the others), timed on random arrays of the same
  shapes and dtype, batch by batch;
- ``loss`` (softmax cross-entropy and its gradient), ``optimizer`` (the Adam
  step over every parameter), ``other`` (the rest of the epoch: row gather of
  each mini-batch, L2 penalty, the loop itself);
- the epoch: instrumented, plain, and the GEMM floor of the whole network.

One table per CPU path (``--backend``, default every one installed:
``numpy``, and ``numba`` -- compiled kernels -- where numba is), the paths
profiled one after the other in the same process; on the compiled path a
max pooling and the ReLU after it run fused, so the ReLU's row is empty and
its time is in the pooling's.

Usage::

    python benchmarks/profile_convnet.py path/to/mnist10k.npz             # ConvNet, float32
    python benchmarks/profile_convnet.py path/to/mnist10k.npz --mlp       # the MLP
    python benchmarks/profile_convnet.py path/to/mnist10k.npz --mlp --dtype float64
    python benchmarks/profile_convnet.py --quick                          # tiny, on digits

Data as the other benchmarks: ``mnist10k.npz`` from the argument or
``$SKNETS_MNIST`` (rows 0-7999 train, X/255); without it scikit-learn's
``load_digits``.
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

BATCH = 128
LR = 1e-3
#: the clock of every timing: wall time, or with ``--clock cpu`` the process's
#: CPU time (robust on a busy machine when everything runs on one thread)
CLOCK = time.perf_counter


def load_data(path, n_samples, dtype):
    """Training rows ``(X, y, description)``, ``X`` scaled to [0, 1]."""
    if path and os.path.exists(path):
        X, _, y, _ = load_mnist(path, dtype)   # the training rows
        name = "mnist10k"
    else:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(dtype)
        name = "load_digits (no MNIST file)"
    if n_samples:
        X, y = X[:n_samples], y[:n_samples]
    return X, y, f"{name}, {len(X)} rows"


def make_estimator(mlp, dtype, alpha, batch_size, seed=0, backend="numpy"):
    common = dict(solver="adam", learning_rate_init=LR, batch_size=batch_size, alpha=alpha,
                  max_iter=1, tol=0.0, shuffle=True, random_state=seed,
                  dtype=np.dtype(dtype).name, backend=backend)
    if mlp:
        from sknets import MLPClassifierScratch

        return MLPClassifierScratch((256, 128), activation="relu", **common)
    from sknets import ConvNetClassifier

    return ConvNetClassifier(conv_filters=(16, 32), kernel_size=3, padding="same",
                             pooling="max", pool_size=2, hidden_layer_sizes=(128,), **common)


class Timers:
    """Accumulated seconds by key; ``wrap`` times a bound method under a key."""

    def __init__(self):
        self.total = {}

    def wrap(self, obj, name, key):
        method = getattr(type(obj), name).__get__(obj)
        total = self.total
        total.setdefault(key, 0.0)

        def timed(*args, **kwargs):
            tic = CLOCK()
            out = method(*args, **kwargs)
            total[key] += CLOCK() - tic
            return out
        setattr(obj, name, timed)

    @staticmethod
    def unwrap(obj, name):
        obj.__dict__.pop(name, None)


def instrument(state, timers):
    """Wrap the layers, loss and optimizer of a fitted state in ``timers``."""
    labels = []
    for i, layer in enumerate(state.network.layers):
        label = f"{i} {layer.describe()}"
        labels.append(label)
        timers.wrap(layer, "forward", (label, "forward"))
        timers.wrap(layer, "backward", (label, "backward"))
    timers.wrap(state.loss, "loss_and_grad", ("loss", "forward"))
    timers.wrap(state.optimizer, "update_params", ("optimizer", "update"))
    return labels


def uninstrument(state):
    for layer in state.network.layers:
        Timers.unwrap(layer, "forward")
        Timers.unwrap(layer, "backward")
    Timers.unwrap(state.loss, "loss_and_grad")
    Timers.unwrap(state.optimizer, "update_params")


class instrumented_fits:
    """Within ``with``, the state each ``partial_fit`` trains (a copy of the
    fitted one) is instrumented; ``labels`` holds its layers' labels."""

    def __init__(self, timers):
        self.timers, self.labels = timers, []

    def __enter__(self):
        from sknets.training import FitState

        self.original = original = FitState.continued

        def continued(state, backend):
            twin = original(state, backend)
            self.labels[:] = instrument(twin, self.timers)
            return twin

        FitState.continued = continued
        return self

    def __exit__(self, *exc):
        from sknets.training import FitState

        FitState.continued = self.original
        return False


def gemm_floor(net, n_samples, batch_size, dtype):
    """``{layer index: (forward s, backward s)}``: the layers' matrix products
    for one epoch, on random arrays of their shapes."""
    from sknets.layers import Conv2D, Dense

    rng = np.random.RandomState(0)
    sizes = [batch_size] * (n_samples // batch_size)
    if n_samples % batch_size:
        sizes.append(n_samples % batch_size)
    out = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Conv2D):
            (kh, kw), c = layer.kernel_size_, layer.input_shape_[2]
            oh, ow, f = layer.output_shape_
            rows_per_sample, k = oh * ow, kh * kw * c
        elif isinstance(layer, Dense):
            rows_per_sample, k, f = 1, layer.input_shape_[0], layer.units
        else:
            continue
        W = rng.standard_normal((k, f)).astype(dtype)
        fwd = bwd = 0.0
        arrays = {}
        for n in sizes:
            if n not in arrays:
                arrays[n] = (rng.standard_normal((n * rows_per_sample, k)).astype(dtype),
                             rng.standard_normal((n * rows_per_sample, f)).astype(dtype))
            cols, dY = arrays[n]
            t0 = CLOCK()
            cols @ W
            t1 = CLOCK()
            cols.T @ dY
            if layer.need_input_grad:
                dY @ W.T
            t2 = CLOCK()
            fwd += t1 - t0
            bwd += t2 - t1
        out[i] = (fwd, bwd)
    return out


def available_paths(requested):
    """The requested CPU paths that can run here."""
    paths = []
    for name in requested:
        if name == "numba":
            try:
                import numba  # noqa: F401
            except ImportError:
                print("numba is not installed: no compiled path (pip install \"sknets[fast]\").")
                continue
        paths.append(name)
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?", default=os.environ.get("SKNETS_MNIST"),
                   help="path of mnist10k.npz (default: $SKNETS_MNIST, else load_digits)")
    p.add_argument("--mlp", action="store_true", help="the MLP 784-256-128-10 instead")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--epochs", type=int, default=3, help="profiled epochs (each with a plain one)")
    p.add_argument("--n-samples", type=int, default=0, help="training rows (0: all, 8000)")
    p.add_argument("--batch-size", type=int, default=BATCH)
    p.add_argument("--alpha", type=float, default=None,
                   help="L2 penalty (default: 0 for the ConvNet, 1e-4 for the MLP, as the "
                        "benchmarks)")
    p.add_argument("--threads", type=int, default=2, help="BLAS threads")
    p.add_argument("--backend", default="numpy,numba",
                   help="CPU paths to profile, comma-separated (default: numpy,numba; "
                        "numba is skipped where it is not installed)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall time (default) or the process's CPU time (meaningful with "
                        "--threads 1 on a busy machine)")
    p.add_argument("--quick", action="store_true",
                   help="a tiny run: 1 epoch on at most 512 rows (a smoke test)")
    args = p.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.quick:
        args.epochs, args.n_samples = 1, args.n_samples or 512
    for i, backend in enumerate(available_paths(args.backend.split(","))):
        if i:
            print()
        profile(args, backend)
    return 0


def profile(args, backend):
    """Profile one CPU path and print its table."""
    alpha = args.alpha if args.alpha is not None else (1e-4 if args.mlp else 0.0)

    from threadpoolctl import threadpool_limits

    X, y, description = load_data(args.data, args.n_samples, args.dtype)
    clf = make_estimator(args.mlp, args.dtype, alpha, args.batch_size, backend=backend)
    classes = np.unique(y)
    timers = Timers()
    plain, instrumented = [], []
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X[:args.batch_size], y[:args.batch_size], classes=classes)  # build
        clf.partial_fit(X, y)   # a warm-up epoch: first-touch page faults, caches
        for _ in range(args.epochs):
            before = dict(timers.total)
            with instrumented_fits(timers) as fits:
                tic = CLOCK()
                clf.partial_fit(X, y)
                instrumented.append((CLOCK() - tic,
                                     {k: v - before.get(k, 0.0)
                                      for k, v in timers.total.items()}))
            labels = fits.labels
            uninstrument(clf._state)   # the committed state carries the timers: drop them
            tic = CLOCK()
            clf.partial_fit(X, y)
            plain.append(CLOCK() - tic)
        floor = gemm_floor(clf._network, len(X), args.batch_size, np.dtype(args.dtype))

    def med(key):
        return statistics.median(parts.get(key, 0.0) for _, parts in instrumented)

    net_name = (f"MLP {X.shape[1]}-256-128-10" if args.mlp
                else "ConvNet C16-P-C32-P-D128-D10")
    print(f"# {net_name} profile, backend={backend!r}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, {os.cpu_count()} cores, {args.threads} BLAS threads, "
          f"NumPy {np.__version__}, load average {os.getloadavg()[0]:.1f}, "
          f"sknets from {os.path.dirname(os.path.dirname(sys.modules['sknets'].__file__))}")
    print(f"# data: {description}; {args.dtype}, Adam, batch {args.batch_size}, alpha {alpha}; "
          f"medians over {args.epochs} profiled epochs, seconds per epoch ({args.clock} time)")
    print()
    print("| part | forward | backward | total | share | GEMM floor fwd | GEMM floor bwd |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    epoch = statistics.median(t for t, _ in instrumented)
    accounted = 0.0
    rows = []
    for i, label in enumerate(labels):
        fwd, bwd = med((label, "forward")), med((label, "backward"))
        accounted += fwd + bwd
        gf, gb = (f"{v:.4f}" for v in floor[i]) if i in floor else ("-", "-")
        rows.append((label, f"{fwd:.4f}", f"{bwd:.4f}", fwd + bwd, gf, gb))
    loss, opt = med(("loss", "forward")), med(("optimizer", "update"))
    accounted += loss + opt
    rows.append(("loss (softmax cross-entropy)", f"{loss:.4f}", "-", loss, "-", "-"))
    rows.append(("optimizer (Adam step)", "-", "-", opt, "-", "-"))
    rows.append(("other (batch gather, L2, loop)", "-", "-", max(epoch - accounted, 0.0),
                 "-", "-"))
    for label, fwd, bwd, total, gf, gb in rows:
        print(f"| {label} | {fwd} | {bwd} | {total:.4f} | {100 * total / epoch:.0f}% | "
              f"{gf} | {gb} |")
    floor_fwd = sum(f for f, _ in floor.values())
    floor_bwd = sum(b for _, b in floor.values())
    print(f"| **epoch (instrumented)** | {sum(med((lb, 'forward')) for lb in labels):.4f} | "
          f"{sum(med((lb, 'backward')) for lb in labels):.4f} | **{epoch:.4f}** | 100% | "
          f"{floor_fwd:.4f} | {floor_bwd:.4f} |")
    print()
    print(f"epoch without timers (median): {statistics.median(plain):.4f} s; "
          f"GEMM floor of the epoch: {floor_fwd + floor_bwd:.4f} s "
          f"({statistics.median(plain) / (floor_fwd + floor_bwd):.2f}x of it)")


if __name__ == "__main__":
    sys.exit(main())
