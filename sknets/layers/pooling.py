"""Max and average pooling over the spatial axes of channels-last images.

Images are ``(n_samples, height, width, channels)`` (see
:mod:`sknets.layers.conv`). Windows are ``pool_size`` pixels, ``stride``
apart (default: ``pool_size``, non-overlapping). Sizes that are not covered
by whole windows are cropped, like ``"valid"`` padding: the last rows and
columns that do not fill a window are dropped (their gradient is zero).

The passes are the backend's kernels (:mod:`sknets._kernels`: max and
average pooling for 1-D and 2-D windows), each in the form its array library
runs fastest (strided views and element-wise chains on NumPy, reductions on a
GPU, compiled loops with ``backend="numba"``). Max-pooling's backward pass
routes the gradient to the window maxima (no scatter); when several values
tie for a window's maximum the gradient is split equally between them, a
valid subgradient of ``max`` (a constant region, such as the blank border of
a digit, would otherwise pass the gradient several times).
"""

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import Layer
from .conv import _check_image_shape, _pair


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

    #: Activations the forward pass can apply itself (see :meth:`forward`).
    fuses_activation = ("relu",)

    def forward(self, X, training=False, activation=None):
        """Window maxima of ``X``, and the ReLU after them when fused.

        Parameters
        ----------
        X : array of shape (n_samples, height, width, channels)
            The batch.
        training : bool, default=False
            A training pass (caches the argmax for :meth:`backward`).
        activation : {None, "relu"}, default=None
            ``"relu"`` also applies a ReLU (the network passes it when it
            fuses this layer with the ReLU layer after it: one pass instead
            of two, the same values).

        Returns
        -------
        Y : array of shape (n_samples, out_height, out_width, channels)
            The maxima.
        """
        Y, cache = self.backend.kernels.max_pool(
            X, self.pool_size_, self.stride_, activation=activation, training=training,
            work=self._work if training else None)
        if training:
            self._cache_pool = cache
        return Y

    def backward(self, dY):
        return self.backend.kernels.max_pool_backward(dY, self._cache_pool, work=self._work)


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
        return self.backend.kernels.avg_pool(X, self.pool_size_, self.stride_)

    def backward(self, dY):
        return self.backend.kernels.avg_pool_backward(
            dY, (dY.shape[0],) + self.input_shape_, self.pool_size_, self.stride_)
