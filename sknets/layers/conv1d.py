"""One-dimensional convolution of channels-last sequences, on the 2-D machinery.

A sequence batch ``(n_samples, timesteps, channels)`` is an image batch
``(n_samples, timesteps, 1, channels)``, and a 1-D convolution with kernel
``k`` and stride ``s`` is :class:`~sknets.layers.Conv2D` with kernel
``(k, 1)`` and stride ``(s, 1)`` on it (a reshape, no copy): the same
im2col/GEMM code runs both. Dilation ``d`` uses the same trick one step
further, as TensorFlow's atrous convolution does with ``space_to_batch``
[1]_: a sequence of length ``L = m * d`` reshaped to ``(m, d, channels)``
holds the timesteps ``i * d + j`` at ``(i, j)``, so the taps ``t, t + d,
..., t + (k - 1) * d`` of one dilated window are ``k`` consecutive rows of
one column, and the dilated convolution is a plain ``(k, 1)`` convolution of
that image (the sequence is padded to a multiple of ``d``; the outputs that
would read the extra zeros are dropped).

References
----------
.. [1] TensorFlow, ``tf.nn.atrous_conv2d`` ("atrous convolution is
   equivalent to ... space_to_batch ... conv2d ... batch_to_space").
.. [2] A. van den Oord et al., "WaveNet: a generative model for raw audio",
   arXiv:1609.03499, 2016 (causal and dilated convolutions).
"""

import math
from numbers import Integral

import numpy as np
from array_api_compat import device as _device
from sklearn.utils._param_validation import Interval, StrOptions

from ..initializers import INITIALIZERS
from ._base import Layer
from ._sequence import InnerLayersMixin, check_sequence_shape
from .conv import Conv2D


def _int(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    return int(value)


def conv1d_length(length, kernel_size, strides, padding, dilation_rate=1):
    """``(output length, (pad before, pad after))`` of a 1-D convolution (Keras' rules).

    ``"valid"``: no padding; ``"same"``: output ``ceil(length / strides)``,
    the odd zero after; ``"causal"``: ``(kernel_size - 1) * dilation_rate``
    zeros before, so output ``t`` sees inputs ``<= t`` only.
    """
    span = (kernel_size - 1) * dilation_rate + 1
    if padding == "valid":
        pads = (0, 0)
    elif padding == "same":
        total = max((math.ceil(length / strides) - 1) * strides + span - length, 0)
        pads = (total // 2, total - total // 2)
    else:
        pads = (span - 1, 0)
    padded = length + sum(pads)
    return (padded - span) // strides + 1 if padded >= span else 0, pads


class Conv1D(InnerLayersMixin, Layer):
    """1-D convolution over the timesteps of channels-last sequences
    (cross-correlation, Keras' ``Conv1D``).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int
        Window length in timesteps.
    strides : int, default=1
        Step between windows.
    padding : {"valid", "same", "causal"}, default="valid"
        ``"valid"``: no padding; ``"same"``: zeros so the output has
        ``ceil(timesteps / strides)`` steps (the odd zero at the end);
        ``"causal"``: ``(kernel_size - 1) * dilation_rate`` zeros at the
        start, so output ``t`` depends on inputs ``0..t`` only [2]_.
    dilation_rate : int, default=1
        Spacing between the kernel's taps; Keras' rule: ``strides`` and
        ``dilation_rate`` cannot both exceed 1.
    initializer : {"he_uniform", "glorot_uniform"}, default="he_uniform"
        Kernel initialisation with ``fan_in = kernel_size * in_channels``
        (see :class:`~sknets.layers.Conv2D`); biases start at zero.
    trainable : bool, default=True
        False freezes the layer: ``fit`` leaves its weights as they are.
    weights : dict or None, default=None
        Initial ``{"W": (kernel_size, in_channels, filters), "b": (filters,)}``
        (Keras' kernel layout; PyTorch's ``Conv1d.weight`` is
        ``W.transpose(2, 1, 0)``).

    Raises
    ------
    ValueError
        At build time if a hyper-parameter is invalid, the input is not
        ``(timesteps, channels)``, or the kernel's span does not fit.

    Notes
    -----
    Input ``(n_samples, timesteps, in_channels)``, output ``(n_samples,
    out_steps, filters)`` with ``out_steps = (timesteps + padding -
    span) // strides + 1`` and ``span = (kernel_size - 1) * dilation_rate +
    1``. ``forward`` takes other lengths than the one the layer was built
    for (the output length follows).
    """

    _inner_attrs = ("inner_",)

    _parameter_constraints = {
        "filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "strides": [Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions({"valid", "same", "causal"})],
        "dilation_rate": [Interval(Integral, 1, None, closed="left")],
        "initializer": [StrOptions(set(INITIALIZERS))],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1,
                 initializer="he_uniform", trainable=True, weights=None):
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.dilation_rate = dilation_rate
        self.initializer = initializer
        self.trainable = trainable
        self.weights = weights

    def _geometry(self):
        k, s = _int(self.kernel_size, "kernel_size"), _int(self.strides, "strides")
        d = _int(self.dilation_rate, "dilation_rate")
        if s > 1 and d > 1:
            raise ValueError(
                f"Conv1D: strides={s} and dilation_rate={d} cannot both exceed 1 "
                "(as in Keras)."
            )
        if self.padding not in ("valid", "same", "causal"):
            raise ValueError(
                f"Conv1D padding must be 'valid', 'same' or 'causal', got {self.padding!r}.")
        return k, s, d

    def output_shape(self, input_shape):
        timesteps, _ = check_sequence_shape(self, input_shape)
        k, s, d = self._geometry()
        out, _ = conv1d_length(timesteps, k, s, self.padding, d)
        if out < 1:
            raise ValueError(
                f"Conv1D kernel_size {k} (span {(k - 1) * d + 1} with dilation_rate {d}) does "
                f"not fit in sequences of {timesteps} timesteps with padding "
                f"{self.padding!r}; use a smaller kernel or padding='same'."
            )
        return (out, self.filters)

    def _init_params(self, input_shape, rng):
        _, c = check_sequence_shape(self, input_shape)
        k, f = self.kernel_size, self.filters
        W, b = INITIALIZERS[self.initializer](rng, k * c, k * f, (k, c, f), (f,))
        return {"W": W, "b": b * 0.0}

    def build(self, input_shape, backend, dtype, rng):
        shape = super().build(input_shape, backend, dtype, rng)
        self.inner_ = [self._conv2d(self.input_shape_[0], backend, dtype)]
        return shape

    def _conv2d(self, timesteps, backend, dtype):
        """The built Conv2D computing this layer on sequences of ``timesteps``
        (its own weights are placeholders: :meth:`_sync` hands it ours)."""
        k, s, d = self._geometry()
        _, pads = conv1d_length(timesteps, k, s, self.padding, d)
        padded = timesteps + sum(pads)
        conv = Conv2D(self.filters, (k, 1), stride=(s, 1), padding="valid",
                      trainable=self.trainable)
        conv.build((math.ceil(padded / d), d, self.input_shape_[1]), backend, dtype,
                   np.random.RandomState(0))
        return conv

    def describe(self):
        extra = "".join(f", {name}={value}" for name, value in
                        (("strides", self.strides), ("dilation_rate", self.dilation_rate))
                        if value != 1)
        return f"Conv1D({self.filters}, {self.kernel_size}{extra}, {self.padding})"

    def _sync(self, conv):
        k, c, f = self.params["W"].shape
        conv.params = {"W": self.xp.reshape(self.params["W"], (k, 1, c, f)),
                       "b": self.params["b"]}
        conv.need_input_grad = self.need_input_grad

    def _conv_for(self, timesteps):
        conv = self.inner_[0]
        if timesteps != self.input_shape_[0]:
            # another length than built for: a copy of the Conv2D for it
            by_length = self.__dict__.setdefault("_cache_by_length", {})
            if timesteps not in by_length:
                by_length[timesteps] = self._conv2d(timesteps, self.backend, self.dtype)
            conv = by_length[timesteps]
        self._sync(conv)
        return conv

    def forward(self, X, training=False):
        xp = self.xp
        n, timesteps, c = X.shape
        k, s, d = self._geometry()
        out, (before, after) = conv1d_length(timesteps, k, s, self.padding, d)
        if out < 1:
            raise ValueError(f"{self.describe()}: sequences of {timesteps} timesteps are too "
                             "short for the kernel.")
        conv = self._conv_for(timesteps)
        rows, cols, _ = conv.input_shape_
        if rows * cols != timesteps or before:
            shape = (n, rows * cols, c)
            if training and self.backend.reuses_buffers:   # only the inside is written
                Xp = self._work("padded", shape, X.dtype, zero=True)
            else:
                Xp = xp.zeros(shape, dtype=X.dtype, device=_device(X))
            Xp[:, before:before + timesteps, :] = X
            X = Xp
        Y = conv.forward(xp.reshape(X, (n, rows, cols, c)), training=training)
        if training:
            self._cache_conv, self._cache_crop = conv, (before, timesteps)
        Y = xp.reshape(Y, (n, -1, self.filters))
        return Y if Y.shape[1] == out else Y[:, :out, :]

    def backward(self, dY):
        xp = self.xp
        conv = self._cache_conv
        n, out, f = dY.shape
        oh, ow, _ = conv.output_shape_
        if oh * ow != out:   # the outputs dropped by forward get no gradient
            full = xp.zeros((n, oh * ow, f), dtype=dY.dtype, device=_device(dY))
            full[:, :out, :] = dY
            dY = full
        dX = conv.backward(xp.reshape(dY, (n, oh, ow, f)))
        if self.trainable:
            self.grads = {"W": xp.reshape(conv.grads["W"], self.params["W"].shape),
                          "b": conv.grads["b"]}
        if dX is None:
            return None
        rows, cols, c = conv.input_shape_
        dX = xp.reshape(dX, (n, rows * cols, c))
        before, timesteps = self._cache_crop
        return dX if rows * cols == timesteps else dX[:, before:before + timesteps, :]
