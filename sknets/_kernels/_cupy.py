"""The CuPy kernels: the reference's arithmetic in few GPU kernel launches.

On a GPU a mini-batch of a small network is bound by kernel launches, not by
arithmetic, so this implementation keeps the reference's shape where it is
already one launch per step and changes what is not:

- windows are strided views (``cupy.lib.stride_tricks.as_strided``): im2col
  is one copy whatever the channels, max pooling and its tie count are one
  reduction each;
- col2im of a convolution is one GEMM for the whole column gradient, then
  one strided addition per kernel offset (the reference's);
- optimizer steps are one fused element-wise kernel per parameter array
  (:mod:`sknets._cupy_kernels`), with CuPy's ufuncs writing into scratch
  arrays where a kernel cannot be compiled;
- the bias gradient is a GEMV with ones.
"""

from .._cupy_kernels import KERNELS, fused_step
from ._numpy import (
    scratch_pairs,
    ufunc_adagrad_step,
    ufunc_adam_step,
    ufunc_rmsprop_step,
    ufunc_sgd_step,
)
from ._reference import ArrayAPIKernels


class CupyKernels(ArrayAPIKernels):
    """The kernels on CuPy arrays (``xp`` is ``array_api_compat.cupy``)."""

    name = "cupy"

    @property
    def fast(self):
        import cupy

        return cupy

    def _windows(self, xpad, g):
        # pragma: no cover - needs CuPy (tests run it on the CuPy stand-in).
        # CuPy's as_strided has no ``writeable`` argument (its views are
        # always writeable): treat the view as read-only.
        from cupy.lib.stride_tricks import as_strided

        s0, s1, s2, s3 = xpad.strides
        return as_strided(xpad, (g.n, g.oh, g.ow, g.kh, g.kw, g.c),
                          (s0, s1 * g.sh, s2 * g.sw, s1 * g.dh, s2 * g.dw, s3))

    def matmul(self, a, b, *, work=None, name="product"):
        if not work or not isinstance(a, self.fast.ndarray) or not isinstance(b, self.fast.ndarray):
            return a @ b   # e.g. a sparse matrix: its own product
        out = work(name, (a.shape[0], b.shape[1]), self.xp.result_type(a, b))
        return self.fast.matmul(a, b, out=out)

    def sgd_step(self, params, grads, velocities, *, learning_rate, momentum, nesterov,
                 work=None):
        lr, mu = learning_rate, momentum
        kernel = "nesterov" if nesterov else "momentum"
        if all(fused_step(kernel, (g, mu, lr), (p, v))
               for p, v, g in zip(params, velocities, grads)):
            return   # one fused kernel per parameter array
        ufunc_sgd_step(self.fast, params, grads, velocities, lr, mu, nesterov,
                       scratch_pairs(self.fast, work, params))

    def adam_step(self, params, grads, ms, vs, *, learning_rate, beta_1, beta_2, epsilon,
                  work=None):
        b1, b2, lr, eps = beta_1, beta_2, learning_rate, epsilon
        if all(fused_step("adam", (g, b1, 1 - b1, b2, 1 - b2, lr, eps), (p, m, v))
               for p, m, v, g in zip(params, ms, vs, grads)):
            return
        ufunc_adam_step(self.fast, params, grads, ms, vs, lr, b1, b2, eps,
                        scratch_pairs(self.fast, work, params))

    def adagrad_step(self, params, grads, hs, *, learning_rate, epsilon, work=None):
        lr, eps = learning_rate, epsilon
        if "adagrad" in KERNELS and all(fused_step("adagrad", (g, lr, eps), (p, h))
                                        for p, h, g in zip(params, hs, grads)):
            return
        ufunc_adagrad_step(self.fast, params, grads, hs, lr, eps,
                           scratch_pairs(self.fast, work, params))

    def rmsprop_step(self, params, grads, hs, *, learning_rate, decay_rate, epsilon, work=None):
        lr, eps, d = learning_rate, epsilon, decay_rate
        if "rmsprop" in KERNELS and all(fused_step("rmsprop", (g, d, 1 - d, lr, eps), (p, h))
                                        for p, h, g in zip(params, hs, grads)):
            return
        ufunc_rmsprop_step(self.fast, params, grads, hs, lr, d, eps,
                           scratch_pairs(self.fast, work, params))
