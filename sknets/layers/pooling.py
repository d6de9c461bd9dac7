"""Max and average pooling over the spatial axes of channels-last images.

Images are ``(n_samples, height, width, channels)`` (see
:mod:`sknets.layers.conv`). Windows are ``pool_size`` pixels, ``stride``
apart (default: ``pool_size``, non-overlapping). Sizes that are not covered
by whole windows are cropped, like ``"valid"`` padding: the last rows and
columns that do not fill a window are dropped (their gradient is zero).

When ``stride == pool_size`` (the usual case) pooling is a reshape to
``(n, out_h, ph, out_w, pw, channels)`` (a view); otherwise the windows come
from :meth:`~sknets.backend.Backend.sliding_windows` and the backward pass sums
window gradients with :func:`~sknets.layers.conv.col2im`. On NumPy the
maximum (or sum) is taken element-wise over the ``ph * pw`` offset slices,
much faster there than a reduction over two strided axes; on other backends
(a GPU) max pooling and its tie count are single reductions, one kernel
launch each instead of a chain. In training on NumPy, tiled max pooling
first gathers the window offsets into contiguous planes
(:meth:`MaxPool2D._phases`), so that its element-wise work runs over long
contiguous runs rather than runs of ``channels`` values. Max-pooling's
backward pass routes the gradient through a mask of the window maxima (no
scatter);
when several values tie for a window's maximum the gradient is split equally
between them, a valid subgradient of ``max`` (a constant region, such as the
blank border of a digit, would otherwise pass the gradient several times).
"""

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ..backend import ufunc_namespace
from ._base import Layer
from .conv import _check_image_shape, _device, _pair, col2im


class _Pool2D(Layer):
    """Shared geometry of the pooling layers."""

    _parameter_constraints = {
        "pool_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "stride": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
    }

    def __init__(self, pool_size=2, stride=None):
        self.pool_size = pool_size
        self.stride = stride

    def _geometry(self):
        """``pool_size`` and ``stride`` (default: the pool size) as pairs."""
        pool = _pair(self.pool_size, "pool_size")
        return pool, (pool if self.stride is None else _pair(self.stride, "stride"))

    def _setup(self):
        self.pool_size_, self.stride_ = self._geometry()

    @property
    def _tiled(self):
        return self.stride_ == self.pool_size_

    def output_shape(self, input_shape):
        h, w, c = _check_image_shape(self, input_shape)
        (ph, pw), (sh, sw) = self._geometry()
        if h < ph or w < pw:
            raise ValueError(
                f"{type(self).__name__} pool_size {(ph, pw)} is larger than its "
                f"{h}x{w} input."
            )
        return ((h - ph) // sh + 1, (w - pw) // sw + 1, c)

    def activation_shapes(self, input_shape):
        # the output, and the window mask (max) or window gradient: input-sized
        return [self.output_shape(input_shape), tuple(input_shape)]

    def describe(self):
        (ph, pw), stride = self._geometry()
        extra = "" if stride == (ph, pw) else f", stride={stride}"
        return f"{type(self).__name__}({ph}x{pw}{extra})"

    def _windows(self, X):
        """Windows and the axes to reduce: a reshape when tiled, else strided views."""
        xp = self.xp
        n = X.shape[0]
        oh, ow, c = self.output_shape_
        ph, pw = self.pool_size_
        if self._tiled:
            if X.shape[1] != oh * ph or X.shape[2] != ow * pw:
                X = X[:, :oh * ph, :ow * pw, :]
            return xp.reshape(X, (n, oh, ph, ow, pw, c)), (2, 4)
        return self.backend.sliding_windows(X, self.pool_size_, self.stride_), (3, 4)

    def _expand(self, Y):
        """``Y`` of shape (n, oh, ow, c) broadcastable against the windows."""
        if self._tiled:
            return Y[:, :, None, :, None, :]
        return Y[:, :, :, None, None, :]

    def _offsets(self, win):
        """The ``ph * pw`` slices ``(n, oh, ow, c)`` of the windows, one per offset."""
        ph, pw = self.pool_size_
        for a in range(ph):
            for b in range(pw):
                yield win[:, :, a, :, b, :] if self._tiled else win[:, :, :, a, b, :]

    def _input_grad(self, dwin):
        """Input gradient from the gradient ``dwin`` of the windows."""
        xp = self.xp
        n = dwin.shape[0]
        h, w, c = self.input_shape_
        oh, ow, _ = self.output_shape_
        ph, pw = self.pool_size_
        if self._tiled:
            dX = xp.reshape(dwin, (n, oh * ph, ow * pw, c))
            if oh * ph == h and ow * pw == w:
                return dX
            full = xp.zeros((n, h, w, c), dtype=dwin.dtype, device=_device(dwin))
            full[:, :oh * ph, :ow * pw, :] = dX
            return full
        return col2im(xp, dwin, (n, h, w, c), self.stride_)


class MaxPool2D(_Pool2D):
    """Max pooling.

    Parameters
    ----------
    pool_size : int or (int, int), default=2
        Window height and width.
    stride : int, (int, int) or None, default=None
        Step between windows; ``None`` means ``pool_size``.

    Notes
    -----
    Input ``(n_samples, height, width, channels)``, output
    ``(n_samples, (height - ph) // sh + 1, (width - pw) // sw + 1, channels)``.
    """

    def forward(self, X, training=False):
        xp = self.xp
        win, axes = self._windows(X)
        phases = None
        if not self.backend.is_numpy:
            # On a GPU one reduction kernel beats a chain of maxima.
            Y = xp.max(win, axis=axes)
        elif self._tiled and training:
            phases = self._phases(win)
            Y = phases[0]
            for part in phases[1:]:
                Y = xp.maximum(Y, part)
        elif self._tiled:
            Y = self._tiled_max(win)
        else:
            # Element-wise maxima of the offset slices: much faster than a
            # reduction over two strided axes.
            Y = None
            for part in self._offsets(win):
                Y = part if Y is None else xp.maximum(Y, part)
        if training:
            self._cache_win, self._cache_axes = win, axes
            self._cache_Y, self._cache_phases = Y, phases
        return Y

    def _phases(self, win):
        """The ``ph * pw`` window offsets of tiled windows ``(n, oh, ph, ow,
        pw, c)`` gathered by one copy into contiguous planes ``(ph * pw, n,
        oh, ow, c)`` (a kept work array; NumPy, training). The maxima, and in
        backward the mask, the tie count and the scaling, then run over long
        contiguous runs instead of runs of ``c`` values (about 2x faster for
        16 channels, gather included)."""
        xp = self.xp
        n, oh, ph, ow, pw, c = win.shape
        planes = self._work("phases", (ph, pw, n, oh, ow, c), win.dtype)
        planes[...] = xp.permute_dims(win, (2, 4, 0, 1, 3, 5))
        return xp.reshape(planes, (ph * pw, n, oh, ow, c))

    def _phases_backward(self, dY):
        """Window gradient ``(n, oh, ph, ow, pw, c)`` from the planes of
        :meth:`_phases`: the same arithmetic as the general path."""
        xp, fast = self.xp, ufunc_namespace(dY)
        planes, Y = self._cache_phases, self._cache_Y
        _, n, oh, ow, c = planes.shape
        (ph, pw) = self.pool_size_
        hit = self._work("mask", planes.shape, dY.dtype)
        fast.equal(planes, Y[None, ...], out=hit)
        count = xp.sum(hit, axis=0)   # small integers: exact in any order
        fast.multiply(hit, (dY / count)[None, ...], out=hit)
        dwin = self._work("input_grad", (n, oh, ph, ow, pw, c), dY.dtype)
        # one copy back to the window layout (a view of the input gradient)
        xp.permute_dims(dwin, (2, 4, 0, 1, 3, 5))[...] = xp.reshape(hit, (ph, pw, n, oh, ow, c))
        return dwin

    def _tiled_max(self, win):
        """Window maxima of tiled windows ``(n, oh, ph, ow, pw, c)`` in two
        stages: over the ``ph`` window rows first, whole image rows at a time
        (long contiguous runs), then over the ``pw`` columns of what is left
        (a ``ph``-th of the data): about half the time of ``ph * pw`` offset
        slices, whose runs are only ``c`` values long."""
        xp = self.xp
        n, oh, ph, ow, pw, c = win.shape
        rows = xp.reshape(win, (n, oh, ph, ow * pw * c))
        M = rows[:, :, 0, :]
        for a in range(1, ph):
            M = xp.maximum(M, rows[:, :, a, :])
        M = xp.reshape(M, (n, oh, ow, pw, c))
        Y = M[:, :, :, 0, :]
        for b in range(1, pw):
            Y = xp.maximum(Y, M[:, :, :, b, :])
        return Y

    def backward(self, dY):
        xp = self.xp
        if getattr(self, "_cache_phases", None) is not None:
            return self._input_grad(self._phases_backward(dY))
        win, Y = self._cache_win, self._cache_Y
        fast = ufunc_namespace(win) if self.backend.is_numpy else None
        if fast is not None:
            # NumPy: the 0/1 mask written straight in the gradient's dtype, then
            # scaled in place (two passes over the windows instead of four).
            hit = self._work("input_grad", win.shape, dY.dtype)
            fast.equal(win, self._expand(Y), out=hit)
        else:
            hit = xp.astype(win == self._expand(Y), dY.dtype)
        if not self.backend.is_numpy:
            count = xp.sum(hit, axis=self._cache_axes)
        else:
            count = None
            for part in self._offsets(hit):
                count = part if count is None else count + part
        # Ties (e.g. a constant region) share the gradient instead of copying it.
        if fast is not None:
            fast.multiply(hit, self._expand(dY / count), out=hit)
            return self._input_grad(hit)
        return self._input_grad(hit * self._expand(dY / count))


class AvgPool2D(_Pool2D):
    """Average pooling.

    Parameters
    ----------
    pool_size : int or (int, int), default=2
        Window height and width.
    stride : int, (int, int) or None, default=None
        Step between windows; ``None`` means ``pool_size``.

    Notes
    -----
    Input ``(n_samples, height, width, channels)``, output
    ``(n_samples, (height - ph) // sh + 1, (width - pw) // sw + 1, channels)``.
    """

    def forward(self, X, training=False):
        win, _ = self._windows(X)
        total = None
        for part in self._offsets(win):
            total = part if total is None else total + part
        ph, pw = self.pool_size_
        return total / (ph * pw)

    def backward(self, dY):
        xp = self.xp
        n = dY.shape[0]
        oh, ow, c = self.output_shape_
        ph, pw = self.pool_size_
        share = self._expand(dY / (ph * pw))
        shape = (n, oh, ph, ow, pw, c) if self._tiled else (n, oh, ow, ph, pw, c)
        return self._input_grad(xp.broadcast_to(share, shape))
