"""Pooling over the timesteps of channels-last sequences ``(n_samples, timesteps, channels)``.

:class:`MaxPool1D` and :class:`AvgPool1D` are the 2-D pooling layers on the
sequences seen as images ``(n_samples, timesteps, 1, channels)`` with windows
``(pool_size, 1)`` (a reshape, no copy), so the 2-D code (and its tie rule
for maxima: a tie splits the gradient equally) runs both. The global
poolings reduce the whole time axis, whatever its length.
"""

from numbers import Integral

import numpy as np
from array_api_compat import device as _device
from sklearn.utils._param_validation import Interval

from ._base import Layer
from ._sequence import InnerLayersMixin, check_sequence_shape
from .pooling import AvgPool2D, MaxPool2D


class _Pool1D(InnerLayersMixin, Layer):
    """Shared parts of the 1-D window poolings (not for direct use)."""

    _pool2d = None
    _inner_attrs = ("inner_",)

    _parameter_constraints = {
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "strides": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, pool_size=2, strides=None):
        self.pool_size = pool_size
        self.strides = strides

    def _geometry(self):
        for name in ("pool_size", "strides"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Integral)
                                      or isinstance(value, bool) or value < 1):
                raise ValueError(f"{type(self).__name__} {name} must be an int >= 1, "
                                 f"got {value!r}.")
        return int(self.pool_size), int(self.pool_size if self.strides is None else self.strides)

    def output_shape(self, input_shape):
        timesteps, c = check_sequence_shape(self, input_shape)
        p, s = self._geometry()
        if timesteps < p:
            raise ValueError(f"{type(self).__name__} pool_size {p} is longer than its "
                             f"input of {timesteps} timesteps.")
        return ((timesteps - p) // s + 1, c)

    def describe(self):
        p, s = self._geometry()
        return f"{type(self).__name__}({p}{'' if s == p else f', strides={s}'})"

    def build(self, input_shape, backend, dtype, rng):
        shape = super().build(input_shape, backend, dtype, rng)
        self.inner_ = [self._pool_for(self.input_shape_[0])]
        return shape

    def _pool_for(self, timesteps):
        """The built 2-D pooling layer for sequences of ``timesteps``."""
        if getattr(self, "inner_", None) and timesteps == self.input_shape_[0]:
            return self.inner_[0]
        by_length = self.__dict__.setdefault("_cache_by_length", {})
        if timesteps not in by_length:
            p, s = self._geometry()
            if timesteps < p:
                raise ValueError(f"{self.describe()}: sequences of {timesteps} timesteps are "
                                 "shorter than the pool.")
            pool = self._pool2d((p, 1), (s, 1))
            pool.build((timesteps, 1, self.input_shape_[1]), self.backend, self.dtype,
                       np.random.RandomState(0))
            by_length[timesteps] = pool
        return by_length[timesteps]

    def forward(self, X, training=False):
        n, timesteps, c = X.shape
        pool = self._pool_for(timesteps)
        pool.need_input_grad = True
        Y = pool.forward(self.xp.reshape(X, (n, timesteps, 1, c)), training=training)
        if training:
            self._cache_pool = pool
        return self.xp.reshape(Y, (n, -1, c))

    def backward(self, dY):
        if not self.need_input_grad:
            return None
        n, out, c = dY.shape
        dX = self._cache_pool.backward(self.xp.reshape(dY, (n, out, 1, c)))
        return self.xp.reshape(dX, (n, -1, c))


class MaxPool1D(_Pool1D):
    """Max pooling over windows of timesteps (Keras' ``MaxPooling1D``).

    Parameters
    ----------
    pool_size : int, default=2
        Window length in timesteps.
    strides : int or None, default=None
        Step between windows; ``None`` means ``pool_size``.

    Notes
    -----
    Input ``(n_samples, timesteps, channels)``, output ``(n_samples,
    (timesteps - pool_size) // strides + 1, channels)`` (Keras' ``"valid"``
    padding: timesteps that fill no window are dropped). When several values
    tie for a window's maximum, the gradient is split equally between them
    (see :class:`~sknets.layers.MaxPool2D`).
    """

    _pool2d = MaxPool2D


class AvgPool1D(_Pool1D):
    """Average pooling over windows of timesteps (Keras' ``AveragePooling1D``).

    Parameters
    ----------
    pool_size : int, default=2
        Window length in timesteps.
    strides : int or None, default=None
        Step between windows; ``None`` means ``pool_size``.

    Notes
    -----
    Input ``(n_samples, timesteps, channels)``, output ``(n_samples,
    (timesteps - pool_size) // strides + 1, channels)``.
    """

    _pool2d = AvgPool2D


class GlobalAvgPool1D(Layer):
    """The mean of each channel over the timesteps (Keras' ``GlobalAveragePooling1D``).

    Notes
    -----
    Input ``(n_samples, timesteps, channels)`` of any length, output
    ``(n_samples, channels)``.
    """

    def __init__(self):
        pass

    def output_shape(self, input_shape):
        return (check_sequence_shape(self, input_shape)[1],)

    def forward(self, X, training=False):
        xp = self.xp
        n, t, c = X.shape
        if training:
            self._cache_timesteps = t
        # a batched matrix-vector product (faster than NumPy's mean over axis 1)
        return xp.full((t,), 1.0 / t, dtype=X.dtype, device=_device(X)) @ X

    def backward(self, dY):
        if not self.need_input_grad:
            return None
        n, c = dY.shape
        t = self._cache_timesteps
        return self.xp.broadcast_to(self.xp.reshape(dY / t, (n, 1, c)), (n, t, c))


class GlobalMaxPool1D(Layer):
    """The maximum of each channel over the timesteps (Keras' ``GlobalMaxPooling1D``).

    Notes
    -----
    Input ``(n_samples, timesteps, channels)`` of any length, output
    ``(n_samples, channels)``. The gradient goes to the maximum; values that
    tie for it share it equally (a valid subgradient, as in
    :class:`~sknets.layers.MaxPool2D`).
    """

    def __init__(self):
        pass

    def output_shape(self, input_shape):
        return (check_sequence_shape(self, input_shape)[1],)

    def forward(self, X, training=False):
        Y = self.xp.max(X, axis=1)
        if training:
            self._cache_X, self._cache_Y = X, Y
        return Y

    def backward(self, dY):
        if not self.need_input_grad:
            return None
        xp = self.xp
        hit = xp.astype(self._cache_X == self._cache_Y[:, None, :], dY.dtype)
        count = xp.sum(hit, axis=1)
        return hit * (dY / count)[:, None, :]
