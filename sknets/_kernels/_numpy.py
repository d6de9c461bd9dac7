"""The NumPy kernels: the reference's arithmetic, tuned for NumPy's loops.

NumPy runs one operation at a time over whole arrays, so what counts is how
long its inner loops are and how many arrays it allocates:

- windows are strided views (``as_strided``, no copy);
- in training, the padded input, the im2col matrix, products and gradients
  are work arrays written over the last batch's (no page faults);
- a few input channels: im2col copies one kernel offset at a time (long
  runs) instead of one window at a time (runs of ``channels`` values);
- col2im of a convolution: one small GEMM per kernel offset added in place
  (contiguous, cache-friendly) instead of one GEMM and strided reads;
- tiled max pooling gathers the window offsets into contiguous planes first;
  maxima and sums are element-wise chains over the offsets, much faster
  than reductions over two strided axes;
- the bias is tiled along whole samples; the bias gradient is a GEMV;
- optimizer steps write into reused scratch arrays (``out=``).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._geometry import offset_index
from ._reference import ArrayAPIKernels


def ufunc_sgd_step(fast, params, grads, velocities, lr, mu, nesterov, scratch):
    """The reference momentum step with NumPy/CuPy ufuncs (``fast``) writing
    into the scratch pairs: the same operations in the same order."""
    for p, v, g, (t1, t2) in zip(params, velocities, grads, scratch):
        v *= mu
        fast.multiply(g, lr, out=t1)
        v -= t1                          # v = mu v - lr g
        if nesterov:
            fast.multiply(v, mu, out=t2)
            t2 -= t1
            p += t2                      # p += mu v - lr g
        else:
            p += v


def ufunc_adam_step(fast, params, grads, ms, vs, lr, b1, b2, eps, scratch):
    """The reference Adam step with ufuncs writing into the scratch pairs (an
    Adam step is a dozen passes; fresh temporaries cost as much again)."""
    for p, m, v, g, (t1, t2) in zip(params, ms, vs, grads, scratch):
        m *= b1
        fast.multiply(g, 1 - b1, out=t1)
        m += t1                          # m = b1 m + (1 - b1) g
        v *= b2
        fast.multiply(g, g, out=t1)
        t1 *= 1 - b2
        v += t1                          # v = b2 v + (1 - b2) g^2
        fast.sqrt(v, out=t1)
        t1 += eps
        fast.multiply(m, lr, out=t2)
        fast.divide(t2, t1, out=t2)
        p -= t2                          # p -= lr m / (sqrt(v) + eps)


def ufunc_adagrad_step(fast, params, grads, hs, lr, eps, scratch):
    """The reference AdaGrad step with ufuncs writing into the scratch pairs."""
    for p, h, g, (t1, t2) in zip(params, hs, grads, scratch):
        fast.multiply(g, g, out=t1)
        h += t1                          # h += g g
        fast.sqrt(h, out=t1)
        t1 += eps
        fast.multiply(g, lr, out=t2)
        fast.divide(t2, t1, out=t2)
        p -= t2                          # p -= lr g / (sqrt(h) + eps)


def ufunc_rmsprop_step(fast, params, grads, hs, lr, decay, eps, scratch):
    """The reference RMSprop step with ufuncs writing into the scratch pairs."""
    for p, h, g, (t1, t2) in zip(params, hs, grads, scratch):
        h *= decay
        fast.multiply(g, 1 - decay, out=t1)
        t1 *= g
        h += t1                          # h = d h + (1 - d) g g
        fast.sqrt(h, out=t1)
        t1 += eps
        fast.multiply(g, lr, out=t2)
        fast.divide(t2, t1, out=t2)
        p -= t2                          # p -= lr g / (sqrt(h) + eps)


def scratch_pairs(fast, work, params):
    """Two scratch arrays per parameter, kept in the optimizer's ``work`` dict."""
    if work is None:
        return [(fast.empty_like(p), fast.empty_like(p)) for p in params]
    pairs = work.get("pairs")
    if (pairs is None or len(pairs) != len(params)
            or any(t.shape != p.shape or t.dtype != p.dtype or type(t) is not type(p)
                   for (t, _), p in zip(pairs, params))):
        pairs = work["pairs"] = [(fast.empty_like(p), fast.empty_like(p)) for p in params]
    return pairs


class NumpyKernels(ArrayAPIKernels):
    """The kernels on NumPy arrays (``xp`` is ``array_api_compat.numpy``)."""

    name = "numpy"
    #: the module whose ufuncs take ``out=``
    fast = np

    def _strided(self, x, shape, strides):
        return as_strided(x, shape, strides, writeable=False)

    def _windows(self, xpad, g):
        """A strided view ``(n, oh, ow, kh, kw, c)`` of a padded batch: no copy."""
        s0, s1, s2, s3 = xpad.strides
        return self._strided(xpad, (g.n, g.oh, g.ow, g.kh, g.kw, g.c),
                             (s0, s1 * g.sh, s2 * g.sw, s1 * g.dh, s2 * g.dw, s3))

    def _pad(self, x, g, work):
        if g.unpadded:
            return x
        # a kept buffer's border is never written: it stays zero
        xpad = (work("padded", g.padded, x.dtype, zero=True) if work
                else np.zeros(g.padded, dtype=x.dtype))
        xpad[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w, :] = x
        return xpad

    # -------------------------------------------------------- convolution
    def _im2col(self, x, g, ones, work):
        xpad = self._pad(x, g, work)
        width = g.k + 1 if ones else g.k
        shape = (g.n, g.oh, g.ow, width)
        if g.c >= 8 and not ones and not work:
            # one copy of the strided window view; rows are runs of kw * c values
            return np.reshape(self._windows(xpad, g), (g.n * g.oh * g.ow, g.k))
        cols = work("cols", shape, x.dtype) if work else np.empty(shape, dtype=x.dtype)
        # the window part of each row as (n, oh, ow, kh, kw, c), written in place
        s0, s1, s2, s3 = cols.strides
        inside = as_strided(cols, (g.n, g.oh, g.ow, g.kh, g.kw, g.c),
                            (s0, s1, s2, g.kw * g.c * s3, g.c * s3, s3))
        if g.c >= 8:
            inside[...] = self._windows(xpad, g)
        else:
            # few channels: one slice copy per kernel offset has far longer runs
            for a in range(g.kh):
                for b in range(g.kw):
                    inside[:, :, :, a, b, :] = xpad[offset_index(g, a, b)]
        if ones:
            cols[..., g.k] = 1
        return np.reshape(cols, (g.n * g.oh * g.ow, width))

    def _col2im(self, cols, g, work):
        if g.tiled and g.h == g.oh * g.kh and g.w == g.ow * g.kw:
            # windows tiling the input exactly: a pure relayout
            dcols = np.reshape(cols, (g.n, g.oh, g.ow, g.kh, g.kw, g.c))
            dx = np.reshape(np.transpose(dcols, (0, 1, 3, 2, 4, 5)), (g.n, g.h, g.w, g.c))
            return self._crop(dx, g)
        return super()._col2im(cols, g, work)

    def _conv_input_grad(self, dY, W, g, work):
        f = W.shape[-1]
        dY2 = np.reshape(dY, (-1, f))
        W4 = np.reshape(W, (g.kh, g.kw, g.c, f))
        dxpad = work("input_grad", g.padded, dY.dtype) if work else np.empty(g.padded, dY.dtype)
        dxpad[...] = 0
        for a in range(g.kh):
            for b in range(g.kw):
                # dY @ W[a, b].T: a contiguous block, cache-friendly
                part = np.reshape(dY2 @ W4[a, b].T, (g.n, g.oh, g.ow, g.c))
                dxpad[offset_index(g, a, b)] += part
        return self._crop(dxpad, g)

    def kernel_gradient(self, cols, dY):
        """``cols.T @ dY``; when ``k`` is small (a first layer on one to a few
        channels: ``k`` of 9 to a few dozen) a GEMM with a 100k-long inner
        dimension and a tiny output is slow, and the sum of one product per
        sample (a batched matmul) is about 3x faster. The sum's order
        differs: the result differs by float rounding only."""
        n, f, k = dY.shape[0], dY.shape[-1], cols.shape[1]
        dY2 = np.reshape(dY, (-1, f))
        if k >= 64:
            return cols.T @ dY2
        per_sample = np.matmul(np.reshape(cols, (n, -1, k)).transpose(0, 2, 1),
                               np.reshape(dY2, (n, -1, f)))
        return np.sum(per_sample, axis=0)

    def add_channel_bias(self, Y, b):
        # The bias tiled once along a whole sample: one long inner loop per
        # sample instead of one loop of ``channels`` values per pixel.
        rows = np.reshape(Y, (Y.shape[0], -1))
        rows += np.tile(b, rows.shape[1] // b.shape[0])
        return Y

    def matmul(self, a, b, *, work=None, name="product"):
        if not work or not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
            return a @ b   # e.g. a sparse matrix: its own product
        out = work(name, (a.shape[0], b.shape[1]), np.result_type(a, b))
        return np.matmul(a, b, out=out)

    # ------------------------------------------------------------ pooling
    def _max_pool(self, x, g, activation, training, work):
        if g.tiled and training and work:
            phases = self._phases(x, g, work)
            Ypool = phases[0]
            for part in phases[1:]:
                Ypool = np.maximum(Ypool, part)
            cache = ("phases", phases, Ypool)
        else:
            Ypool = self._tiled_max(x, g) if g.tiled else self._offset_max(x, g)
            cache = ("windows", self._windows(x, g), Ypool)
        Y = Ypool if activation is None else np.maximum(Ypool, 0.0)
        return Y, ((cache, g, activation) if training else None)

    def _offset_max(self, x, g):
        """Element-wise maxima of the ``kh * kw`` offset slices of the windows:
        much faster than a reduction over two strided axes."""
        win = self._windows(x, g)
        Y = win[:, :, :, 0, 0, :]
        for a in range(g.kh):
            for b in range(g.kw):
                if a or b:
                    Y = np.maximum(Y, win[:, :, :, a, b, :])
        return Y

    def _tiled_view(self, x, g):
        """Tiled windows as a reshape ``(n, oh, kh, ow, kw, c)`` (cropped)."""
        if g.h != g.oh * g.kh or g.w != g.ow * g.kw:
            x = x[:, :g.oh * g.kh, :g.ow * g.kw, :]
        return np.reshape(x, (g.n, g.oh, g.kh, g.ow, g.kw, g.c))

    def _tiled_max(self, x, g):
        """Maxima of tiled windows in two stages: over the window rows first,
        whole image rows at a time (long runs), then over the columns of what
        is left: about half the time of the offset slices."""
        rows = np.reshape(self._tiled_view(x, g), (g.n, g.oh, g.kh, g.ow * g.kw * g.c))
        M = rows[:, :, 0, :]
        for a in range(1, g.kh):
            M = np.maximum(M, rows[:, :, a, :])
        M = np.reshape(M, (g.n, g.oh, g.ow, g.kw, g.c))
        Y = M[:, :, :, 0, :]
        for b in range(1, g.kw):
            Y = np.maximum(Y, M[:, :, :, b, :])
        return Y

    def _phases(self, x, g, work):
        """The window offsets of tiled windows gathered by one copy into
        contiguous planes ``(kh * kw, n, oh, ow, c)`` (a kept work array): the
        maxima, the mask, the tie count and the scaling then run over long
        runs instead of runs of ``c`` values (about 2x faster for 16
        channels, gather included)."""
        planes = work("phases", (g.kh, g.kw, g.n, g.oh, g.ow, g.c), x.dtype)
        planes[...] = np.transpose(self._tiled_view(x, g), (2, 4, 0, 1, 3, 5))
        return np.reshape(planes, (g.kh * g.kw, g.n, g.oh, g.ow, g.c))

    def _max_pool_backward(self, dY, cache, work):
        (kind, win, Ypool), g, activation = cache
        dY = np.reshape(dY, (g.n, g.oh, g.ow, g.c))
        if activation == "relu":
            dY = dY * (Ypool > 0).astype(dY.dtype)
        if kind == "phases":
            hit = work("mask", win.shape, dY.dtype)
            np.equal(win, Ypool[None], out=hit)
            count = np.sum(hit, axis=0)   # small integers: exact in any order
            np.multiply(hit, (dY / count)[None], out=hit)
            dwin = work("input_grad", (g.n, g.oh, g.kh, g.ow, g.kw, g.c), dY.dtype)
            # one copy back to the window layout
            np.transpose(dwin, (2, 4, 0, 1, 3, 5))[...] = np.reshape(
                hit, (g.kh, g.kw, g.n, g.oh, g.ow, g.c))
            return self._tiled_input_grad(dwin, g)
        # the 0/1 mask written straight in the gradient's dtype, then scaled in place
        hit = work("input_grad", win.shape, dY.dtype) if work else np.empty(win.shape, dY.dtype)
        np.equal(win, Ypool[:, :, :, None, None, :], out=hit)
        count = None
        for a in range(g.kh):
            for b in range(g.kw):
                part = hit[:, :, :, a, b, :]
                count = part if count is None else count + part
        np.multiply(hit, (dY / count)[:, :, :, None, None, :], out=hit)
        return self._col2im(hit, g, None)

    def _tiled_input_grad(self, dwin, g):
        """Input gradient from the gradient of tiled windows ``(n, oh, kh, ow,
        kw, c)``: a reshape, zeros where no window reaches (cropped edges)."""
        dx = np.reshape(dwin, (g.n, g.oh * g.kh, g.ow * g.kw, g.c))
        if g.oh * g.kh != g.h or g.ow * g.kw != g.w:
            full = np.zeros((g.n, g.h, g.w, g.c), dtype=dwin.dtype)
            full[:, :g.oh * g.kh, :g.ow * g.kw, :] = dx
            dx = full
        return self._crop(dx, g)

    # ---------------------------------------------------------- optimizers
    def sgd_step(self, params, grads, velocities, *, learning_rate, momentum, nesterov,
                 work=None):
        ufunc_sgd_step(self.fast, params, grads, velocities, learning_rate, momentum,
                       nesterov, scratch_pairs(self.fast, work, params))

    def adam_step(self, params, grads, ms, vs, *, learning_rate, beta_1, beta_2, epsilon,
                  work=None):
        ufunc_adam_step(self.fast, params, grads, ms, vs, learning_rate, beta_1, beta_2,
                        epsilon, scratch_pairs(self.fast, work, params))

    def adagrad_step(self, params, grads, hs, *, learning_rate, epsilon, work=None):
        ufunc_adagrad_step(self.fast, params, grads, hs, learning_rate, epsilon,
                           scratch_pairs(self.fast, work, params))

    def rmsprop_step(self, params, grads, hs, *, learning_rate, decay_rate, epsilon, work=None):
        ufunc_rmsprop_step(self.fast, params, grads, hs, learning_rate, decay_rate, epsilon,
                           scratch_pairs(self.fast, work, params))
