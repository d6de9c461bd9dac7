"""The backends' kernels one by one on the benchmark ConvNet's shapes.

Each kernel of ``sknets._kernels`` that the ConvNet of ``bench_convnet.py``
runs per mini-batch of 128 (float32; conv1 on 28x28x1 images, conv2 on
14x14x16, pool1 on 28x28x16, pool2 on 14x14x32, Adam over its 206k
parameters), for every CPU path (``numpy``, and ``numba`` where installed),
the paths taking turns call by call; BLAS on one thread. Timed with the
calling thread's CPU time (``time.thread_time``: robust on a busy machine,
as every kernel here runs on that one thread), best and median of
``--repeats`` calls, in milliseconds, and the ratio numba / numpy of the
medians. Work arrays are kept between calls, as in training.

Usage::

    python benchmarks/bench_kernels.py --repeats 30
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime

import numpy as np


def work_store():
    store = {}

    def work(name, shape, dtype, zero=False):
        a = store.get(name)
        if a is None or a.shape != tuple(shape) or a.dtype != dtype:
            a = store[name] = (np.zeros if zero else np.empty)(shape, dtype=dtype)
        return a
    return work


def cases(kernels, rng):
    """``{name: callable}``: one mini-batch's call of each kernel."""
    n, same = 128, ((1, 1), (1, 1))
    f32 = np.float32
    x1 = rng.standard_normal((n, 28, 28, 1)).astype(f32)
    x2 = rng.standard_normal((n, 14, 14, 16)).astype(f32)
    c1 = rng.standard_normal((n, 28, 28, 16)).astype(f32)
    c2 = rng.standard_normal((n, 14, 14, 32)).astype(f32)
    W2 = rng.standard_normal((3, 3, 16, 32)).astype(f32)
    dY2 = rng.standard_normal((n, 14, 14, 32)).astype(f32)
    shapes = [(3, 3, 1, 16), (16,), (3, 3, 16, 32), (32,), (1568, 128), (128,), (128, 10), (10,)]
    params = [rng.standard_normal(s).astype(f32) for s in shapes]
    grads = [rng.standard_normal(s).astype(f32) * 0.01 for s in shapes]
    ms, vs = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    opt_work, w = {}, work_store()
    k = kernels

    def pool_step(c):
        Y, cache = k.max_pool(c, 2, activation="relu", training=True, work=w)
        return k.max_pool_backward(np.ones_like(Y), cache, work=w)

    return {
        "conv1 im2col (c=1, +ones)": lambda: k.im2col(x1, 3, 1, same, ones=True, work=w),
        "conv2 im2col (c=16, +ones)": lambda: k.im2col(x2, 3, 1, same, ones=True, work=w),
        "conv2 input gradient": lambda: k.conv_input_grad(dY2, W2, x2.shape, 1, same,
                                                          work=w),
        "pool1 + ReLU forward": lambda: k.max_pool(c1, 2, activation="relu", training=True,
                                                   work=w),
        "pool1 + ReLU forward + backward": lambda: pool_step(c1),
        "pool2 + ReLU forward + backward": lambda: pool_step(c2),
        "Adam step (206k parameters)": lambda: k.adam_step(
            params, grads, ms, vs, learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
            epsilon=1e-8, work=opt_work),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args(argv)

    import array_api_compat.numpy as xnp
    from threadpoolctl import threadpool_limits

    from sknets._kernels import kernels_for

    paths = ["numpy"]
    try:
        import numba  # noqa: F401
        paths.append("numba")
    except ImportError:
        print("numba is not installed: NumPy's kernels alone.")
    runs = {path: cases(kernels_for(path, xnp), np.random.RandomState(0)) for path in paths}
    times = {(path, name): [] for path in paths for name in runs[path]}
    with threadpool_limits(1):
        for path in paths:   # compile or load every kernel, fill the work arrays
            for fn in runs[path].values():
                fn()
        for _ in range(args.repeats):
            for name in runs["numpy"]:
                for path in paths:
                    tic = time.thread_time()
                    runs[path][name]()
                    times[path, name].append(time.thread_time() - tic)
    print(f"# kernels, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, NumPy {np.__version__}, 1 BLAS thread, load average "
          f"{os.getloadavg()[0]:.1f}; ms of thread CPU time per call, best / median of "
          f"{args.repeats}")
    print()
    print("| kernel (one mini-batch of 128) | " + " | ".join(paths)
          + (" | numba / numpy (medians) |" if len(paths) > 1 else " |"))
    print("| --- |" + " ---: |" * (len(paths) + (len(paths) > 1)))
    for name in runs["numpy"]:
        cells = [f"{1e3 * min(times[path, name]):.3f} / "
                 f"{1e3 * statistics.median(times[path, name]):.3f}" for path in paths]
        if len(paths) > 1:
            ratio = (statistics.median(times["numba", name])
                     / statistics.median(times["numpy", name]))
            cells.append(f"{ratio:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
