"""The compiled CPU kernels (``backend="numba"``): NumPy arrays, numba loops.

NumPy cannot fuse element-wise passes or skip its temporaries: max pooling
(maxima, then a mask, tie counts, a division and a product for its
gradient), the ReLU after it and the optimizer steps (a dozen passes for
Adam) each cost several passes over memory. Here each is one compiled loop
(:mod:`._numba_loops`) doing the reference's arithmetic in the same order, so
results stay bit-identical to it; so is the addition of a stride-1
convolution's per-offset input gradients (each output row gathers its
offsets while in cache, in NumPy's order). Everything else is NumPy's
(:class:`NumpyKernels`): the matrix products (BLAS), and im2col, whose
strided NumPy copies compiled loops measured no faster
(``benchmarks/RESULTS.md``).

**Threads.** The loops are compiled single-threaded: between two BLAS calls
they run on the calling thread while BLAS owns the cores, and numba's
threading layer is never started, so no pool of spinning threads fights
BLAS's (numba's default OpenMP layer made the benchmark ConvNet's epoch
several times slower) and nothing depends on ``OMP_*``/``NUMBA_*``
environment variables. ``benchmarks/RESULTS.md`` has the measurements of the
alternatives (parallel loops with the default, passive-waiting and workqueue
layers) behind this choice; :func:`_set_threading` selects one of them for
such measurements.

**Compilation.** Each loop is compiled on first use for the dtype it meets
(float32, float64) and cached on disk (numba's ``cache=True``): next to this
module in ``__pycache__`` or, where the package folder is read-only, in the
user's cache folder (``~/.cache/numba`` on Linux; ``NUMBA_CACHE_DIR``
chooses another). A new process then loads the kernels in a fraction of a
second instead of compiling them again (about ten seconds for all of them).
Where no folder is writable the kernels are compiled in every process, with
a warning.
"""

import types
import warnings

import numpy as np

from . import _numba_loops
from ._numpy import NumpyKernels

#: how the loops are compiled and run: "serial" (the default), or parallel
#: loops on numba's default threading layer ("parallel"), on OpenMP with
#: passive waiting ("passive"), on the workqueue layer ("workqueue")
THREADING_MODES = ("serial", "parallel", "passive", "workqueue")
_threading = "serial"

#: helpers the loops call (compiled with each build)
_HELPERS = ("_max", "_window_share")

#: channel counts and windows that get builds of their own (constant trip
#: counts for the short inner loops: unrolled and vectorized); others use a
#: generic build
SPECIALIZED_CHANNELS = frozenset(range(8, 129, 8))
SPECIALIZED_WINDOWS = frozenset({(2, 2), (3, 3)})

#: (loop name, channels or 0, window or (0, 0), parallel) -> numba dispatcher
_compiled = {}


def numba_import_error():
    """None when numba can be imported, else the error to raise (clear, with
    the fix)."""
    try:
        import numba  # noqa: F401
    except ImportError as exc:
        return ImportError(
            "backend='numba' needs numba, which could not be imported "
            f"({type(exc).__name__}: {exc}). Install it with "
            "`pip install \"sknets[fast]\"`, or use backend='numpy' (the same "
            "results, without the compiled kernels).")
    return None


def _set_threading(mode):
    """Select how the loops run (for measurements; process-wide, before the
    first compiled kernel runs in the parallel modes)."""
    global _threading
    if mode not in THREADING_MODES:
        raise ValueError(f"threading must be one of {THREADING_MODES}, got {mode!r}.")
    if mode != "serial":
        import os

        import numba

        if mode == "passive":
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            numba.config.THREADING_LAYER = "omp"
        elif mode == "workqueue":
            numba.config.THREADING_LAYER = "workqueue"
    _threading = mode


def _jit(fn, namespace, suffix, **options):
    """``fn`` compiled by numba with ``namespace`` as its globals and a disk
    cache; each build has a name of its own (``suffix``), so its own cache entry."""
    import numba

    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__)
    copy.__qualname__ = fn.__qualname__ + suffix
    copy.__module__ = fn.__module__
    # IEEE division (x / 0 is inf or NaN, as NumPy's), no ZeroDivisionError test
    options["error_model"] = "numpy"
    try:
        return numba.njit(cache=True, **options)(copy)
    except RuntimeError as exc:   # no writable cache folder anywhere
        warnings.warn(
            f"sknets: the compiled kernels cannot be cached on disk ({exc}); they are "
            "compiled again in each process (about ten seconds). Set NUMBA_CACHE_DIR "
            "to a writable folder to keep them.", RuntimeWarning, stacklevel=4)
        return numba.njit(cache=False, **options)(copy)


def _build(channels, window, parallel):
    """The globals of one build: the module's, ``C``, ``KH``, ``KW``, and the
    helpers compiled for them."""
    key = ("namespace", channels, window, parallel)
    namespace = _compiled.get(key)
    if namespace is None:
        suffix = ((f"_c{channels}" if channels else "")
                  + (f"_{window[0]}x{window[1]}" if window[0] else "")
                  + ("_parallel" if parallel else ""))
        namespace = dict(vars(_numba_loops), C=channels, KH=window[0], KW=window[1],
                         _suffix=suffix)
        for helper in _HELPERS:   # inlined into the loops
            namespace[helper] = _jit(getattr(_numba_loops, helper), namespace, suffix,
                                     inline="always")
        _compiled[key] = namespace
    return namespace


def loop(name, channels=0, window=(0, 0)):
    """The compiled loop ``name`` of :mod:`._numba_loops`, built once per
    process for ``channels`` and ``window`` (values in
    :data:`SPECIALIZED_CHANNELS`, :data:`SPECIALIZED_WINDOWS`; others get a
    generic build) and the threading mode."""
    channels = channels if channels in SPECIALIZED_CHANNELS else 0
    window = tuple(window) if tuple(window) in SPECIALIZED_WINDOWS else (0, 0)
    parallel = _threading != "serial"
    key = (name, channels, window, parallel)
    found = _compiled.get(key)
    if found is None:
        namespace = _build(channels, window, parallel)
        found = _compiled[key] = _jit(getattr(_numba_loops, name), namespace,
                                      namespace["_suffix"], parallel=parallel)
    return found


def _compiled_dtype(*arrays):
    """True when every array is a C-contiguous float32/float64 NumPy array of
    one dtype: what the loops are compiled for."""
    dtype = arrays[0].dtype
    return dtype in (np.float32, np.float64) and all(
        isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous
        for a in arrays)


class NumbaKernels(NumpyKernels):
    """The NumPy kernels with the hot passes compiled by numba.

    Raises
    ------
    ImportError
        At construction, if numba cannot be imported.
    """

    name = "numba"
    #: max pooling and a ReLU after it run as one compiled pass
    fuses_pool_activation = True

    def __init__(self, xp):
        error = numba_import_error()
        if error is not None:
            raise error
        super().__init__(xp)

    # -------------------------------------------------------- convolution
    def _conv_input_grad(self, dY, W, g, work):
        """NumPy's col2im of one GEMM per kernel offset, with the additions
        compiled: each output row gathers its offsets while it is in cache
        (NumPy adds each offset over the whole batch in turn). The same
        additions in the same order: NumPy's results, bit for bit."""
        f = W.shape[-1]
        dY2 = np.reshape(dY, (-1, f))
        if (g.sh, g.sw) != (1, 1) or not _compiled_dtype(dY2, W):
            return super()._conv_input_grad(dY, W, g, work)
        W4 = np.reshape(W, (g.kh, g.kw, g.c, f))
        shape = (g.kh * g.kw, g.n, g.oh, g.ow, g.c)
        parts = work("offset_grads", shape, dY.dtype) if work else np.empty(shape, dY.dtype)
        for a in range(g.kh):
            for b in range(g.kw):
                np.matmul(dY2, W4[a, b].T, out=np.reshape(parts[a * g.kw + b], (-1, g.c)))
        dx_shape = (g.n, g.h, g.w, g.c)
        dx = work("input_grad", dx_shape, dY.dtype) if work else np.empty(dx_shape, dY.dtype)
        loop("sum_offsets")(parts, dx, g.kh, g.kw, g.dh, g.dw, g.pt, g.pl)
        return np.reshape(dx, g.input_shape) if g.one_d else dx

    # ------------------------------------------------------------ pooling
    def _max_pool(self, x, g, activation, training, work):
        if not _compiled_dtype(x) or g.dh != 1 or g.dw != 1 or not g.unpadded:
            return super()._max_pool(x, g, activation, training, work)
        shape = (g.n, g.oh, g.ow, g.c)
        Y = work("output", shape, x.dtype) if work else np.empty(shape, dtype=x.dtype)
        loop("max_pool", g.c, (g.kh, g.kw))(x, Y, g.kh, g.kw, g.sh, g.sw, activation == "relu")
        return Y, ((("compiled", x, None), g, activation) if training else None)

    def _max_pool_backward(self, dY, cache, work):
        (kind, x, _), g, activation = cache
        if kind != "compiled":
            return super()._max_pool_backward(dY, cache, work)
        dY = np.ascontiguousarray(np.reshape(dY, (g.n, g.oh, g.ow, g.c)))
        if not _compiled_dtype(x, dY):
            return super()._max_pool_backward(dY, self._numpy_cache(x, g, activation), work)
        shape = (g.n, g.h, g.w, g.c)
        dx = work("input_grad", shape, dY.dtype) if work else np.empty(shape, dY.dtype)
        relu, zero = activation == "relu", dY.dtype.type(0)
        if g.sh >= g.kh and g.sw >= g.kw:
            covered = (g.sh, g.sw) == (g.kh, g.kw) and (g.oh * g.kh, g.ow * g.kw) == (g.h, g.w)
            loop("max_pool_backward_tiled", g.c, (g.kh, g.kw))(
                x, dY, dx, g.kh, g.kw, g.sh, g.sw, relu, zero, dY.dtype.type(1), covered)
        else:
            maxima, shares = np.empty_like(dY), np.empty_like(dY)
            loop("max_pool_backward", g.c, (g.kh, g.kw))(
                x, dY, dx, g.kh, g.kw, g.sh, g.sw, relu, zero, dY.dtype.type(1), maxima, shares)
        return np.reshape(dx, g.input_shape) if g.one_d else dx

    def _numpy_cache(self, x, g, activation):
        Ypool = self._offset_max(x, g)
        return ("windows", self._windows(x, g), Ypool), g, activation

    # ---------------------------------------------------------- optimizers
    def sgd_step(self, params, grads, velocities, *, learning_rate, momentum, nesterov,
                 work=None):
        if not all(_compiled_dtype(p, g, v) for p, g, v in zip(params, grads, velocities)):
            return super().sgd_step(params, grads, velocities, learning_rate=learning_rate,
                                    momentum=momentum, nesterov=nesterov, work=work)
        step = loop("momentum")
        for p, g, v in zip(params, grads, velocities):
            t = p.dtype.type
            step(p.reshape(-1), g.reshape(-1), v.reshape(-1), t(momentum), t(learning_rate),
                 bool(nesterov))

    def adam_step(self, params, grads, ms, vs, *, learning_rate, beta_1, beta_2, epsilon,
                  work=None):
        if not all(_compiled_dtype(p, g, m, v) for p, g, m, v in zip(params, grads, ms, vs)):
            return super().adam_step(params, grads, ms, vs, learning_rate=learning_rate,
                                     beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, work=work)
        step = loop("adam")
        for p, g, m, v in zip(params, grads, ms, vs):
            t = p.dtype.type
            # the scalars as NumPy's ufuncs see them: Python floats cast to the dtype
            step(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t(beta_1),
                 t(1 - beta_1), t(beta_2), t(1 - beta_2), t(learning_rate), t(epsilon))

    def adagrad_step(self, params, grads, hs, *, learning_rate, epsilon, work=None):
        if not all(_compiled_dtype(p, g, h) for p, g, h in zip(params, grads, hs)):
            return super().adagrad_step(params, grads, hs, learning_rate=learning_rate,
                                        epsilon=epsilon, work=work)
        step = loop("adagrad")
        for p, g, h in zip(params, grads, hs):
            t = p.dtype.type
            step(p.reshape(-1), g.reshape(-1), h.reshape(-1), t(learning_rate), t(epsilon))

    def rmsprop_step(self, params, grads, hs, *, learning_rate, decay_rate, epsilon, work=None):
        if not all(_compiled_dtype(p, g, h) for p, g, h in zip(params, grads, hs)):
            return super().rmsprop_step(params, grads, hs, learning_rate=learning_rate,
                                        decay_rate=decay_rate, epsilon=epsilon, work=work)
        step = loop("rmsprop")
        for p, g, h in zip(params, grads, hs):
            t = p.dtype.type
            step(p.reshape(-1), g.reshape(-1), h.reshape(-1), t(decay_rate), t(1 - decay_rate),
                 t(learning_rate), t(epsilon))
