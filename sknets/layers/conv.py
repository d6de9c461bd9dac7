"""Two-dimensional convolution as one matrix product (im2col).

Image layout, used everywhere in sknets: **channels-last**
``(n_samples, height, width, channels)``. With it, the im2col matrix of a
batch is ``(n_samples * out_h * out_w, kh * kw * channels)`` with contiguous
rows, the output of the product ``cols @ W`` is already the channels-last
output, and no transpose is ever needed, forward or backward.

Forward: im2col of the (zero-padded) input with a last column of ones, one
GEMM with the kernel reshaped to ``(kh * kw * channels, filters)`` and the
bias as its last row (the bias costs no pass of its own). Backward: the
kernel gradient is one GEMM ``cols.T @ dY``, whose last row is the bias
gradient; the input gradient is col2im of the column gradient ``dY @ W.T``:
each kernel offset's ``(n, out_h, out_w, channels)`` block added at its
strided place in the input, no scatter-add.
These passes are the backend's kernels (:mod:`sknets._kernels`: im2col and
col2im for 1-D and 2-D windows), each in the form its array library
runs fastest; in training, their work arrays (padded input, im2col matrix,
output, input gradient) are kept from one mini-batch to the next
(:meth:`~sknets.layers._base.Layer._work`).

References
----------
.. [1] K. Chellapilla, S. Puri and P. Simard, "High performance
   convolutional neural networks for document processing", IWFHR 2006
   (convolution unrolled into a matrix product).
.. [2] K. Saito, "Deep Learning from Scratch", O'Reilly Japan 2016,
   ``common/util.py`` (``im2col`` / ``col2im``).
"""

import math
from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from ..initializers import INITIALIZERS
from ._base import Layer

#: The largest kernel, stride, pool or padding side accepted, in pixels:
#: beyond any plausible image, so that such a value (e.g. ``kernel_size=10**9``)
#: is refused at once, naming the parameter, instead of failing to allocate.
MAX_IMAGE_SIDE = 2 ** 16


def _check_side(values, name, original):
    if max(values) > MAX_IMAGE_SIDE:
        raise ValueError(
            f"{name}={original!r} is larger than any plausible image (at most "
            f"{MAX_IMAGE_SIDE:,} pixels a side)."
        )


def _pair(value, name):
    """``value`` as a pair of positive ints (an int ``k`` means ``(k, k)``), at
    most :data:`MAX_IMAGE_SIDE`."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}.")
    if min(pair) < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}.")
    _check_side(pair, name, value)
    return pair


def _check_image_shape(layer, input_shape):
    if len(input_shape) != 3:
        raise ValueError(
            f"{type(layer).__name__} expects images of shape (height, width, channels) "
            f"per sample (channels-last), got {tuple(input_shape)}; put a Reshape layer "
            "before it."
        )
    return tuple(int(s) for s in input_shape)


def _padding_amounts(padding, size, kernel, stride):
    """``((top, bottom), (left, right))`` zero padding for one sample's ``size``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            # TensorFlow's rule: output ceil(size / stride); the odd pixel goes last.
            pads = []
            for n, k, s in zip(size, kernel, stride):
                total = max((math.ceil(n / s) - 1) * s + k - n, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"padding must be 'valid', 'same', an int or a pair, got {padding!r}.")
    if isinstance(padding, Integral) and not isinstance(padding, bool):
        padding = (padding, padding)
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, Integral) and not isinstance(p, bool) and p >= 0
                    for p in padding)):
        _check_side(padding, "padding", padding)
        return (int(padding[0]),) * 2, (int(padding[1]),) * 2
    raise ValueError(
        f"padding must be 'valid', 'same', a non-negative int or a pair of them, "
        f"got {padding!r}."
    )


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or (int, int)
        Window height and width.
    stride : int or (int, int), default=1
        Step between windows.
    padding : {"valid", "same"}, int or (int, int), default="valid"
        ``"valid"``: no padding; ``"same"``: zero padding so the output is
        ``ceil(input / stride)`` pixels (TensorFlow's rule, the extra pixel
        at the bottom/right); an int or pair: that many zeros on both sides
        of the height and width axes.
    initializer : {"he_uniform", "glorot_uniform"}, default="he_uniform"
        Kernel initialisation (:mod:`sknets.initializers`) with
        ``fan_in = kh * kw * in_channels``; He's uniform scheme suits ReLU
        and matches PyTorch's default bound up to a constant factor. Biases
        start at zero.
    trainable : bool, default=True
        False freezes the layer: ``fit`` leaves its weights as they are.
    weights : dict or None, default=None
        Initial ``{"W": (kh, kw, in_channels, filters), "b": (filters,)}``
        arrays instead of the initialisation (e.g. ``feature_layers()``).

    Raises
    ------
    ValueError
        At build time if a hyper-parameter is invalid, the input is not
        ``(height, width, channels)`` or the kernel does not fit in the padded
        input.

    Notes
    -----
    Sparse input is densified one batch at a time, before the first layer
    that needs dense input (:func:`sknets._sparse.densify`, called by
    :class:`~sknets.network.Sequential`), never as a whole.
    Input ``(n_samples, height, width, in_channels)``, output
    ``(n_samples, out_h, out_w, filters)`` with
    ``out_h = (height + pad_top + pad_bottom - kh) // sh + 1``.
    ``params["W"]`` has shape ``(kh, kw, in_channels, filters)``,
    ``params["b"]`` shape ``(filters,)``.
    """

    _parameter_constraints = {
        "filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "stride": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "padding": [StrOptions({"valid", "same"}), Interval(Integral, 0, None, closed="left"),
                    tuple, list],
        "initializer": [StrOptions(set(INITIALIZERS))],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def __init__(self, filters, kernel_size, stride=1, padding="valid",
                 initializer="he_uniform", trainable=True, weights=None):
        self.filters = filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.initializer = initializer
        self.trainable = trainable
        self.weights = weights

    def _geometry(self):
        """``kernel_size`` and ``stride`` as pairs; ``padding`` checked."""
        kernel, stride = _pair(self.kernel_size, "kernel_size"), _pair(self.stride, "stride")
        _padding_amounts(self.padding, (1, 1), kernel, stride)
        return kernel, stride

    def _setup(self):
        self.kernel_size_, self.stride_ = self._geometry()

    def _pads(self, input_shape):
        return _padding_amounts(self.padding, input_shape[:2], self.kernel_size_, self.stride_)

    def output_shape(self, input_shape):
        h, w, _ = _check_image_shape(self, input_shape)
        (kh, kw), (sh, sw) = self._geometry()
        (pt, pb), (pl, pr) = _padding_amounts(self.padding, (h, w), (kh, kw), (sh, sw))
        if h + pt + pb < kh or w + pl + pr < kw:
            raise ValueError(
                f"Conv2D kernel_size {(kh, kw)} does not fit in inputs of "
                f"{h}x{w} pixels with padding {self.padding!r}; use a smaller kernel "
                "or padding='same'."
            )
        return ((h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1, self.filters)

    def param_shapes(self, input_shape):
        _, _, c = _check_image_shape(self, input_shape)
        (kh, kw), _ = self._geometry()
        return {"W": (kh, kw, c, self.filters), "b": (self.filters,)}

    def activation_shapes(self, input_shape):
        h, w, c = _check_image_shape(self, input_shape)
        (kh, kw), stride = self._geometry()
        (pt, pb), (pl, pr) = _padding_amounts(self.padding, (h, w), (kh, kw), stride)
        oh, ow, f = self.output_shape(input_shape)
        padded = (h + pt + pb, w + pl + pr, c)
        # the padded input, the im2col matrix, the output, the input gradient
        shapes = [(oh * ow, kh * kw * c), (oh, ow, f), padded]
        return shapes + ([padded] if padded != (h, w, c) else [])

    def size_parameter(self, input_shape):
        h, w, c = _check_image_shape(self, input_shape)
        (kh, kw), stride = self._geometry()
        (pt, pb), (pl, pr) = _padding_amounts(self.padding, (h, w), (kh, kw), stride)
        if not isinstance(self.padding, str) and (h + pt + pb) * (w + pl + pr) > 4 * h * w:
            return f"padding={self.padding!r}"
        if kh * kw > h * w or kh * kw * c >= self.filters:
            return f"kernel_size={self.kernel_size!r}"
        return f"filters={self.filters}"

    def _init_params(self, input_shape, rng):
        _, _, c = _check_image_shape(self, input_shape)
        kh, kw = self.kernel_size_
        shapes = self.param_shapes(input_shape)
        init = INITIALIZERS[self.initializer]
        W, b = init(rng, kh * kw * c, kh * kw * self.filters, shapes["W"], shapes["b"])
        if self.initializer == "glorot_uniform":
            b = b * 0.0
        return {"W": W, "b": b}

    def describe(self):
        (kh, kw), stride = self._geometry()
        extra = "" if stride == (1, 1) else f", stride={stride[0]}"
        if stride[0] != stride[1]:
            extra = f", stride={stride}"
        return f"Conv2D({self.filters}, {kh}x{kw}{extra}, {self.padding})"

    def forward(self, X, training=False):
        xp, kernels = self.xp, self.backend.kernels
        f = self.filters
        # in training the im2col matrix and the output are written over the
        # last batch's (work arrays); at inference every output is new
        work = self._work if training else None
        cols = kernels.im2col(X, self.kernel_size_, self.stride_, self._pads(self.input_shape_),
                              ones=True, work=work)
        # the bias as the kernel's last row, against the im2col matrix's column of ones
        Wb = xp.concat([xp.reshape(self.params["W"], (-1, f)),
                        xp.reshape(self.params["b"], (1, f))], axis=0)
        Y = kernels.matmul(cols, Wb, work=work, name="output")
        if training:
            self._cache_cols = cols
        return xp.reshape(Y, (X.shape[0],) + self.output_shape_)

    def backward(self, dY):
        xp, kernels = self.xp, self.backend.kernels
        W = self.params["W"]
        if self.trainable:   # a frozen layer computes no weight gradients
            # one product: the kernel gradient, and the bias gradient as its last row
            G = kernels.kernel_gradient(self._cache_cols, dY)
            self.grads["W"] = xp.reshape(G[:-1, ...], W.shape)
            self.grads["b"] = G[-1, ...]
        if not self.need_input_grad:
            return None
        return kernels.conv_input_grad(dY, W, (dY.shape[0],) + self.input_shape_, self.stride_,
                                       self._pads(self.input_shape_), work=self._work)
