"""GPU kernel launches per mini-batch of sknets on CuPy, counted without a GPU.

A small network's mini-batch on a GPU is bound by kernel launches (and the
Python overhead of each) rather than by arithmetic, so their number is what
moves its epoch time there. This script trains ``bench_gpu.py``'s MLP and CNN
for one epoch with ``backend="cupy"`` on the CuPy stand-in of the tests
(``tests/fake_cupy``, NumPy underneath), counting every operation that would
launch a kernel: element-wise operations and reductions (also on 0-d arrays),
matrix products, copies, assignments into slices, fused kernels. Views
(slicing, reshape, transpose) launch none and are not counted. Library calls
that launch several kernels count once, so the figures are lower bounds.

Usage::

    python benchmarks/count_gpu_launches.py [--batch-size 512] [--unfused] [-v]

``--unfused`` disables the fused optimizer kernels (the element-wise path);
``-v`` lists the counts by operation.
"""

import argparse
import collections
import os
import sys
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake_cupy"))
sys.path.insert(1, ROOT)

import cupy  # noqa: E402  (the stand-in)

#: functions that return views, not new data
VIEWS = {"reshape", "transpose", "permute_dims", "broadcast_to", "expand_dims", "squeeze",
         "asarray", "matrix_transpose"}
#: operators of device arrays that launch a kernel
OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
             "xor", "lt", "le", "gt", "ge", "eq", "ne", "neg", "abs")

counts = collections.Counter()
counting = [False]


def _count(name):
    if counting[0]:
        counts[name] += 1


def _instrument():
    def function(name, f):
        def counted(*args, **kwargs):
            result = f(*args, **kwargs)
            if name not in VIEWS:
                _count(name)
            return result
        return counted

    for name in dir(cupy):
        obj = getattr(cupy, name)
        if (callable(obj) and not isinstance(obj, type) and not name.startswith("_")
                and name not in ("asnumpy", "get_array_module")):
            setattr(cupy, name, function(name, obj))

    def method(name, f, skip_same=False):
        def counted(self, *args, **kwargs):
            result = f(self, *args, **kwargs)
            if result is not NotImplemented and not (skip_same and result is self):
                _count(name)
            return result
        return counted

    for attr in dir(cupy.ndarray):
        if attr.startswith("__") and attr.endswith("__") and attr[2:-2].lstrip("ri") in OPERATORS:
            setattr(cupy.ndarray, attr, method(attr, getattr(cupy.ndarray, attr)))
    for attr in ("astype", "copy", "sum", "max", "any", "all", "__setitem__"):
        setattr(cupy.ndarray, attr, method(attr, getattr(cupy.ndarray, attr),
                                           skip_same=attr == "astype"))
    kernel_call = cupy.ElementwiseKernel.__call__

    def fused(self, *args):
        _count("fused " + self.name)
        return kernel_call(self, *args)

    cupy.ElementwiseKernel.__call__ = fused


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--unfused", action="store_true",
                        help="disable the fused optimizer kernels")
    parser.add_argument("-v", action="store_true", help="list the counts by operation")
    args = parser.parse_args(argv)

    _instrument()
    import sknets
    import sknets._cupy_kernels

    if args.unfused:
        sknets._cupy_kernels._broken = True
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    n = 8 * args.batch_size
    X = rng.rand(n, 784).astype(np.float32)
    y = rng.randint(0, 10, n)
    common = dict(batch_size=args.batch_size, max_iter=1, backend="cupy", random_state=0)
    nets = {
        "MLP 784-256-128-10": sknets.MLPClassifierScratch((256, 128), **common),
        "CNN Conv16-Pool-Conv32-Pool-Dense128": sknets.ConvNetClassifier(
            image_shape=(28, 28), conv_filters=(16, 32), kernel_size=3, padding="same",
            pooling="max", pool_size=2, hidden_layer_sizes=(128,), **common),
    }
    print(f"kernel launches per mini-batch of {args.batch_size}, Adam, "
          f"{'element-wise' if args.unfused else 'fused'} optimizer step")
    for name, est in nets.items():
        est.fit(X, y)                  # set-up and first-call work not counted
        counts.clear()
        counting[0] = True
        est.partial_fit(X, y)          # one epoch of 8 mini-batches
        counting[0] = False
        per_batch = {k: v / 8 for k, v in counts.items()}
        print(f"  {name:<38} {sum(per_batch.values()):6.1f}")
        if args.v:
            for op, c in sorted(per_batch.items(), key=lambda kv: -kv[1]):
                print(f"      {c:6.1f}  {op}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
