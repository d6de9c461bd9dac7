"""The backends' kernels (``sknets._kernels``) against the reference.

Every implementation of every kernel runs on the same inputs as the
array-API reference (``ArrayAPIKernels`` on NumPy) and must give its
results: bit for bit where it does the same operations in the same order
(copies, maxima, col2im's additions, the optimizer steps), to float rounding
where it orders a sum differently (GEMMs split per kernel offset or per
sample). Implementations: NumPy's, the compiled one (``backend="numba"``,
skipped without numba), the reference itself on ``array_api_strict``, and
CuPy's on the tests' CuPy stand-in (in a child process). 1-D and 2-D
windows, stride, padding, dilation, cropped edges, overlapping windows,
ties, float32 and float64.
"""

import textwrap

import array_api_compat.numpy as xnp
import numpy as np
import pytest
from fake_cupy_run import run_with_fake_cupy

from sknets._kernels import ArrayAPIKernels, kernels_for, register_kernel, registered_kernels
from sknets._kernels._geometry import plan

REF = ArrayAPIKernels(xnp)


def _has_numba():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


needs_numba = pytest.mark.skipif(not _has_numba(), reason="needs numba (sknets[fast])")


def _strict_kernels():
    xps = pytest.importorskip("array_api_strict")
    return ArrayAPIKernels(xps)


IMPLEMENTATIONS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("numba", id="numba", marks=needs_numba),
    pytest.param("strict", id="array_api_strict"),
]


class Impl:
    """An implementation and the conversions to and from its arrays."""

    def __init__(self, name):
        if name == "strict":
            self.kernels = _strict_kernels()
            xps = self.kernels.xp
            self.put = lambda a: xps.asarray(a)
            self.get = lambda a: np.asarray(a)
        else:
            self.kernels = kernels_for(name, xnp)
            self.put = self.get = lambda a: a
        self.name = name
        self.store = {}

    def work(self, name, shape, dtype, zero=False):
        """A work allocator like ``Layer._work`` (kept arrays, reused)."""
        a = self.store.get(name)
        if a is None or a.shape != tuple(shape) or a.dtype != dtype:
            a = self.store[name] = (np.zeros if zero else np.empty)(shape, dtype=dtype)
        return a

    def works(self):
        """No work arrays, then kept ones (NumPy arrays only)."""
        return [None] if self.name == "strict" else [None, self.work]


# (batch shape, window, stride, pads, dilation): 2-D and 1-D; channels 3 (a
# generic build), 8 and 16 (builds of their own); windows 3x3 (its own build)
# and others
CONV_CASES = [
    ((2, 7, 6, 3), (3, 3), 1, ((1, 1), (1, 1)), None),
    ((2, 9, 8, 8), (2, 3), (2, 1), ((0, 1), (2, 0)), (2, 1)),
    ((2, 6, 5, 16), (3, 3), 1, ((1, 1), (1, 1)), None),
    ((2, 11, 8), (3,), 2, ((1, 2),), 2),
    ((3, 10, 2), (4,), 1, ((0, 0),), None),
]


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape, window, stride, pads, dilation", CONV_CASES)
def test_im2col_and_col2im_match_the_reference(impl_name, shape, window, stride, pads,
                                                dilation):
    """Copies (with and without the column of ones) and col2im's additions (in
    the order of the kernel offsets): bit for bit, in float32 and float64, with
    and without work arrays."""
    impl = Impl(impl_name)
    rng = np.random.RandomState(0)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(shape).astype(dtype)
        cols = REF.im2col(x, window, stride, pads, dilation)
        dcols = rng.standard_normal(cols.shape).astype(dtype)
        dx = REF.col2im(dcols, shape, window, stride, pads, dilation)
        assert dx.shape == shape
        with_ones = np.concatenate([cols, np.ones((len(cols), 1), dtype)], axis=1)
        for work in impl.works():
            for _ in range(2):   # the second time over kept work arrays
                got = impl.kernels.im2col(impl.put(x), window, stride, pads, dilation,
                                          work=work)
                np.testing.assert_array_equal(impl.get(got), cols)
                got = impl.kernels.im2col(impl.put(x), window, stride, pads, dilation,
                                          ones=True, work=work)
                np.testing.assert_array_equal(impl.get(got), with_ones)
                got = impl.kernels.col2im(impl.put(dcols), shape, window, stride, pads,
                                          dilation, work=work)
                np.testing.assert_array_equal(impl.get(got), dx)


def test_im2col_reads_the_padded_windows():
    """The reference's definition, checked against explicit loops."""
    rng = np.random.RandomState(1)
    x = rng.standard_normal((2, 5, 6, 3))
    (pt, pb), (pl, pr) = pads = ((2, 1), (0, 2))
    xpad = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    cols = REF.im2col(x, (2, 3), (2, 1), pads, (2, 1)).reshape(2, 3, 6, 2, 3, 3)
    for i in range(3):
        for j in range(6):
            for a in range(2):
                for b in range(3):
                    np.testing.assert_array_equal(cols[:, i, j, a, b],
                                                  xpad[:, 2 * i + 2 * a, j + b])


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape, window, stride, pads, dilation", CONV_CASES)
def test_convolution_gradients_match_the_reference(impl_name, shape, window, stride, pads,
                                                   dilation):
    """Input gradient (NumPy: one GEMM per kernel offset; the reference and
    the compiled kernels: one GEMM then col2im), kernel gradient (NumPy: one
    product per sample for few channels), bias gradient and bias addition."""
    impl = Impl(impl_name)
    k = impl.kernels
    rng = np.random.RandomState(2)
    f = 4
    out_shape = plan(shape, window, stride, pads, dilation).output_shape(f)
    for dtype, rtol in ((np.float32, 2e-5), (np.float64, 1e-12)):
        x = rng.standard_normal(shape).astype(dtype)
        W = rng.standard_normal(tuple(window) + (shape[-1], f)).astype(dtype)
        cols = REF.im2col(x, window, stride, pads, dilation)
        dY = rng.standard_normal(out_shape).astype(dtype)
        expected = REF.conv_input_grad(dY, W, shape, stride, pads, dilation)
        for work in impl.works():
            got = k.conv_input_grad(impl.put(dY), impl.put(W), shape, stride, pads, dilation,
                                    work=work)
            np.testing.assert_allclose(impl.get(got), expected, rtol=rtol, atol=rtol)
            if impl_name == "numba":   # NumPy's GEMMs and additions, in NumPy's order
                np.testing.assert_array_equal(got, kernels_for("numpy", xnp).conv_input_grad(
                    dY, W, shape, stride, pads, dilation))
        np.testing.assert_allclose(impl.get(k.kernel_gradient(impl.put(cols), impl.put(dY))),
                                   REF.kernel_gradient(cols, dY), rtol=rtol, atol=rtol)
        np.testing.assert_array_equal(impl.get(k.channel_bias_gradient(impl.put(dY))),
                                      REF.channel_bias_gradient(dY))
        b = rng.standard_normal(f).astype(dtype)
        Y = impl.put(dY.copy())
        assert k.add_channel_bias(Y, impl.put(b)) is Y   # in place
        np.testing.assert_array_equal(impl.get(Y), dY + b)


# (batch shape, pool, stride): tiled, cropped, overlapping, 1-D
POOL_CASES = [
    ((3, 8, 6, 8), 2, None),
    ((3, 7, 9, 3), 2, None),
    ((2, 7, 8, 3), 3, 2),
    ((2, 7, 8, 2), (2, 3), (1, 2)),
    ((2, 9, 5), (2,), None),
    ((2, 10, 4), (3,), (2,)),
]


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape, pool, stride", POOL_CASES)
def test_pooling_matches_the_reference(impl_name, shape, pool, stride):
    """Max pooling with and without the fused ReLU, forward and backward (ties
    split, cropped places zero), and average pooling: bit for bit."""
    impl = Impl(impl_name)
    k = impl.kernels
    rng = np.random.RandomState(3)
    for dtype in (np.float32, np.float64):
        x = rng.randint(-2, 3, size=shape).astype(dtype)   # many ties, zeros
        dY = None
        for activation in (None, "relu"):
            Y, cache = REF.max_pool(x, pool, stride, activation=activation, training=True)
            dY = rng.standard_normal(Y.shape).astype(dtype)
            dX = REF.max_pool_backward(dY, cache)
            assert dX.shape == shape
            for work in impl.works():
                for _ in range(2):
                    got, got_cache = k.max_pool(impl.put(x), pool, stride,
                                                activation=activation, training=True,
                                                work=work)
                    np.testing.assert_array_equal(impl.get(got), Y)
                    np.testing.assert_array_equal(
                        impl.get(k.max_pool_backward(impl.put(dY), got_cache, work=work)), dX)
            got, none = k.max_pool(impl.put(x), pool, stride, activation=activation)
            assert none is None
            np.testing.assert_array_equal(impl.get(got), Y)
        A = REF.avg_pool(x, pool, stride)
        np.testing.assert_array_equal(impl.get(k.avg_pool(impl.put(x), pool, stride)), A)
        np.testing.assert_array_equal(
            impl.get(k.avg_pool_backward(impl.put(dY), shape, pool, stride)),
            REF.avg_pool_backward(dY, shape, pool, stride))


def test_max_pool_with_relu_is_relu_after_max_pool():
    """The fused ReLU: the values, and the gradient of the composition."""
    rng = np.random.RandomState(4)
    x = rng.randint(-2, 3, size=(2, 6, 6, 3)).astype(np.float64)
    Y, cache = REF.max_pool(x, 2, activation=None, training=True)
    Yr, cache_r = REF.max_pool(x, 2, activation="relu", training=True)
    np.testing.assert_array_equal(Yr, np.maximum(Y, 0))
    dY = rng.standard_normal(Y.shape)
    np.testing.assert_array_equal(REF.max_pool_backward(dY, cache_r),
                                  REF.max_pool_backward(dY * (Y > 0), cache))
    with pytest.raises(ValueError, match="activation"):
        REF.max_pool(x, 2, activation="tanh")


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
def test_optimizer_steps_match_the_reference(impl_name):
    """Adam, momentum (plain and Nesterov), AdaGrad and RMSprop steps: bit for
    bit, float32 and float64, parameters and state updated in place over
    several steps."""
    impl = Impl(impl_name)
    rng = np.random.RandomState(5)
    for dtype in (np.float32, np.float64):
        shapes = [(3, 3, 2, 4), (4,), (7, 5)]
        params = [rng.standard_normal(s).astype(dtype) for s in shapes]
        for step in ("adam", "sgd", "nesterov", "adagrad", "rmsprop"):
            ref = [p.copy() for p in params]
            mine = [impl.put(p.copy()) for p in params]
            n_state = 2 if step == "adam" else 1
            ref_state = [[np.zeros_like(p) for p in params] for _ in range(n_state)]
            my_state = [[impl.put(np.zeros_like(p)) for p in params] for _ in range(n_state)]
            work = {}
            for t in range(3):
                grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
                for k, P, S, G, w in ((REF, ref, ref_state, grads, None),
                                      (impl.kernels, mine, my_state,
                                       [impl.put(g) for g in grads], work)):
                    if step == "adam":
                        k.adam_step(P, G, *S, learning_rate=0.01 * (t + 1), beta_1=0.9,
                                    beta_2=0.999, epsilon=1e-8, work=w)
                    elif step == "adagrad":
                        k.adagrad_step(P, G, *S, learning_rate=0.01, epsilon=1e-7, work=w)
                    elif step == "rmsprop":
                        k.rmsprop_step(P, G, *S, learning_rate=0.01, decay_rate=0.99,
                                       epsilon=1e-7, work=w)
                    else:
                        k.sgd_step(P, G, *S, learning_rate=0.1, momentum=0.9,
                                   nesterov=step == "nesterov", work=w)
                for a, b in zip(ref + sum(ref_state, []), mine + sum(my_state, [])):
                    np.testing.assert_array_equal(impl.get(b), a, err_msg=step)


def test_numpy_tiled_max_pool_planes_in_training():
    """NumPy's tiled max pooling gathers the window offsets into planes in
    training (a work array kept between batches), not at inference."""
    impl = Impl("numpy")
    x = np.random.RandomState(6).randint(0, 3, size=(3, 7, 8, 4)).astype(np.float32)
    _, cache = impl.kernels.max_pool(x, 2, training=True, work=impl.work)
    assert cache[0][0] == "phases" and "phases" in impl.store
    _, cache = impl.kernels.max_pool(x, (2, 3), (1, 2), training=True, work=impl.work)
    assert cache[0][0] == "windows"


def test_register_kernel_falls_back_along_the_backends():
    """A kernel added from elsewhere: each backend finds its implementation or
    the one it builds on (numba on NumPy, NumPy on the reference)."""
    calls = []
    register_kernel("_test_epoch", array_api=lambda: calls.append("array_api") or 1,
                    numpy=lambda: calls.append("numpy") or 2)
    try:
        assert "_test_epoch" in registered_kernels()
        assert REF._test_epoch() == 1
        assert kernels_for("numpy", xnp)._test_epoch() == 2
        if _has_numba():
            assert kernels_for("numba", xnp)._test_epoch() == 2
        assert calls == ["array_api", "numpy"] + (["numpy"] if _has_numba() else [])
        with pytest.raises(AttributeError, match="no kernel"):
            getattr(REF, "_no_such_kernel")  # noqa: B009 (the attribute lookup is what raises)
        with pytest.raises(ValueError, match="built-in"):
            register_kernel("im2col", array_api=len)
    finally:
        from sknets._kernels import _registry

        _registry._REGISTERED.pop("_test_epoch", None)


def test_window_geometry_errors():
    with pytest.raises(ValueError, match="does not fit"):
        REF.im2col(np.zeros((1, 2, 2, 1)), (3, 3))
    with pytest.raises(ValueError, match="2 value"):
        REF.im2col(np.zeros((1, 4, 4, 1)), (3, 3), stride=(1, 1, 1))
    with pytest.raises(ValueError, match="batches"):
        REF.im2col(np.zeros((4, 4)), (3,))


CUPY_SCRIPT = textwrap.dedent("""
    import numpy as np, cupy
    import array_api_compat.numpy as xnp
    from sknets.backend import get_backend
    from sknets._kernels import ArrayAPIKernels

    ref, k = ArrayAPIKernels(xnp), get_backend("cupy").kernels
    assert type(k).__name__ == "CupyKernels", k
    put, get = cupy.asarray, lambda a: a.get()
    rng = np.random.RandomState(0)
    for shape, window, stride, pads, dil in [((2, 7, 6, 3), (3, 3), 1, ((1, 1), (1, 1)), None),
                                             ((2, 11, 8), (3,), 2, ((1, 2),), 2)]:
        x = rng.standard_normal(shape)
        cols = ref.im2col(x, window, stride, pads, dil)
        assert np.array_equal(get(k.im2col(put(x), window, stride, pads, dil)), cols)
        assert np.array_equal(get(k.col2im(put(cols), shape, window, stride, pads, dil)),
                              ref.col2im(cols, shape, window, stride, pads, dil))
        W = rng.standard_normal(tuple(window) + (shape[-1], 4))
        dY = rng.standard_normal((cols.shape[0], 4))
        assert np.allclose(get(k.conv_input_grad(put(dY), put(W), shape, stride, pads, dil)),
                           ref.conv_input_grad(dY, W, shape, stride, pads, dil), rtol=1e-12)
    for shape, pool, stride in [((3, 7, 9, 3), 2, None), ((2, 7, 8, 3), 3, 2)]:
        x = rng.randint(-2, 3, size=shape).astype(np.float32)
        for act in (None, "relu"):
            Y, c = ref.max_pool(x, pool, stride, activation=act, training=True)
            Yc, cc = k.max_pool(put(x), pool, stride, activation=act, training=True)
            dY = rng.standard_normal(Y.shape).astype(np.float32)
            assert np.array_equal(get(Yc), Y)
            assert np.array_equal(get(k.max_pool_backward(put(dY), cc)),
                                  ref.max_pool_backward(dY, c))
    params = [rng.standard_normal((5, 3)), rng.standard_normal(3)]
    grads = [rng.standard_normal(p.shape) for p in params]
    P, M, V = [p.copy() for p in params], [np.zeros_like(p) for p in params], \\
        [np.zeros_like(p) for p in params]
    Pc, Mc, Vc = [put(p) for p in params], [cupy.zeros_like(put(p)) for p in params], \\
        [cupy.zeros_like(put(p)) for p in params]
    ref.adam_step(P, grads, M, V, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    cupy.LOG.clear()
    k.adam_step(Pc, [put(g) for g in grads], Mc, Vc, learning_rate=0.01, beta_1=0.9,
                beta_2=0.999, epsilon=1e-8, work={})
    assert cupy.LOG.count("kernel") == 2, cupy.LOG   # one fused kernel per array
    assert all(np.array_equal(get(b), a) for a, b in zip(P + M + V, Pc + Mc + Vc))
    for step, kw in (("adagrad_step", dict(epsilon=1e-7)),
                     ("rmsprop_step", dict(decay_rate=0.99, epsilon=1e-7))):
        H, Hc = [np.zeros_like(p) for p in params], [cupy.zeros_like(put(p)) for p in params]
        getattr(ref, step)(P, grads, H, learning_rate=0.01, **kw)
        getattr(k, step)(Pc, [put(g) for g in grads], Hc, learning_rate=0.01, work={}, **kw)
        assert all(np.array_equal(get(b), a) for a, b in zip(P + H, Pc + Hc)), step
    print("OK")
""")


def test_cupy_kernels_match_the_reference_on_the_stand_in():
    res = run_with_fake_cupy(["python", "-c", CUPY_SCRIPT])
    assert res.returncode == 0 and "OK" in res.stdout, res.stdout + res.stderr
