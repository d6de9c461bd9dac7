"""Two-dimensional convolution as one matrix product (im2col).

Image layout, used everywhere in sknets: **channels-last**
``(n_samples, height, width, channels)``. With it, the im2col matrix of a
batch is ``(n_samples * out_h * out_w, kh * kw * channels)`` with contiguous
rows, the output of the product ``cols @ W`` is already the channels-last
output, and no transpose is ever needed, forward or backward.

Forward: pad, take the strided window view
(:meth:`~sknets.backend.Backend.sliding_windows`), copy it once into the
im2col matrix, one GEMM with the kernel reshaped to
``(kh * kw * channels, filters)``, add the bias. Backward: the kernel
gradient is one GEMM ``cols.T @ dY``; the input gradient is col2im of the
column gradient ``dY @ W.T``, each kernel offset's ``(n, out_h, out_w,
channels)`` block added into the padded input gradient with a strided slice
addition: a loop over the ``kh * kw`` kernel offsets, never over pixels, and
no scatter-add. On NumPy each block is its own GEMM ``dY @ W[a, b].T``
(contiguous, cache-friendly); on other backends (a GPU) the column gradient
is one GEMM and the blocks are strided views of it (fewer kernel launches).
On NumPy, in training, the padded input, the im2col matrix, the output and
the input gradient are work arrays kept from one mini-batch to the next
(:meth:`~sknets.layers._base.Layer._work`), the bias is added along whole
samples (:func:`add_channel_bias`) and a layer on few channels takes its
kernel gradient one sample at a time (:func:`kernel_gradient`).

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

from array_api_compat import device as _device
from sklearn.utils._param_validation import Interval, StrOptions

from ..backend import ufunc_namespace
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


def col2im(xp, dcols, padded_shape, stride):
    """Sum window gradients back onto the (padded) input: the adjoint of windowing.

    Parameters
    ----------
    xp : namespace
    dcols : array of shape (n_samples, out_h, out_w, kh, kw, channels)
        Gradient with respect to each window's values.
    padded_shape : tuple of int
        ``(n_samples, height, width, channels)`` of the windowed input.
    stride : (int, int)

    Returns
    -------
    dX : array of shape ``padded_shape``
        ``dX[n, i*sh + a, j*sw + b, c] += dcols[n, i, j, a, b, c]`` for all
        ``i, j, a, b``, done as ``kh * kw`` strided slice additions.
    """
    n, oh, ow, kh, kw, c = dcols.shape
    sh, sw = stride
    dX = xp.zeros(padded_shape, dtype=dcols.dtype, device=_device(dcols))
    if (sh, sw) == (kh, kw) and padded_shape[1] == oh * kh and padded_shape[2] == ow * kw:
        # Non-overlapping windows tiling the input: a pure relayout.
        return xp.reshape(xp.permute_dims(dcols, (0, 1, 3, 2, 4, 5)), padded_shape)
    for a in range(kh):
        for b in range(kw):
            dX[:, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw, :] += \
                dcols[:, :, :, a, b, :]
    return dX


def add_channel_bias(xp, Y, b, is_numpy):
    """``Y += b`` in place for a channels-last ``Y`` of shape ``(n_samples, ..., channels)``.

    On NumPy the bias is tiled once along a whole sample, so the addition
    runs as one long inner loop per sample instead of one loop of
    ``channels`` values per pixel (about 5x faster for 16 channels); any
    other backend gets the plain broadcast addition.
    """
    if not is_numpy:
        Y += b
        return Y
    n = Y.shape[0]
    rows = xp.reshape(Y, (n, -1))
    rows += xp.tile(b, rows.shape[1] // b.shape[0])
    return Y


def kernel_gradient(xp, cols, dY2, n_samples, is_numpy):
    """``cols.T @ dY2``: the kernel gradient from the im2col matrix.

    ``cols`` is ``(n_samples * pixels, k)`` and ``dY2`` ``(n_samples * pixels,
    filters)``. When ``k`` is small (a first layer on one to a few channels:
    ``k = kh * kw * channels`` of 9 to a few dozen) a BLAS GEMM with a
    100k-long inner dimension and a tiny output is slow; on NumPy the sum of
    one product per sample (a batched matmul) is about 3x faster there. The
    sum's order differs, so the result differs by float rounding only.
    """
    k, f = cols.shape[1], dY2.shape[1]
    if not is_numpy or k >= 64:
        return cols.T @ dY2
    per_sample = xp.matmul(xp.permute_dims(xp.reshape(cols, (n_samples, -1, k)), (0, 2, 1)),
                           xp.reshape(dY2, (n_samples, -1, f)))
    return xp.sum(per_sample, axis=0)


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

    Raises
    ------
    ValueError
        At build time if a hyper-parameter is invalid, the input is not
        ``(height, width, channels)`` or the kernel does not fit in the padded
        input.
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

    def _pad(self, X, reuse=False):
        (pt, pb), (pl, pr) = self._pads(self.input_shape_)
        if pt == pb == pl == pr == 0:
            return X
        n, h, w, c = X.shape
        shape = (n, h + pt + pb, w + pl + pr, c)
        if reuse:   # only the inside is written: the kept buffer's border stays zero
            Xp = self._work("padded", shape, X.dtype, zero=True)
        else:
            Xp = self.xp.zeros(shape, dtype=X.dtype, device=_device(X))
        Xp[:, pt:pt + h, pl:pl + w, :] = X
        return Xp

    def _im2col(self, Xp, n, reuse=False):
        """The im2col matrix ``(n * out_h * out_w, kh * kw * channels)`` of padded
        ``Xp`` (written into a kept work array when ``reuse``, NumPy only)."""
        xp = self.xp
        oh, ow, _ = self.output_shape_
        (kh, kw), (sh, sw) = self.kernel_size_, self.stride_
        c = Xp.shape[3]
        shape = (n, oh, ow, kh, kw, c)
        if c >= 8 or not self.backend.is_numpy:
            # One copy of the strided window view; rows are runs of kw * c values
            # (on a GPU one copy is one kernel launch, whatever the channels).
            windows = self.backend.sliding_windows(Xp, self.kernel_size_, self.stride_)
            if not reuse:
                return xp.reshape(windows, (n * oh * ow, kh * kw * c))
            cols = self._work("cols", shape, Xp.dtype)
            cols[...] = windows
            return xp.reshape(cols, (n * oh * ow, kh * kw * c))
        # Few channels: one slice copy per kernel offset has far longer inner runs.
        cols = (self._work("cols", shape, Xp.dtype) if reuse
                else xp.empty(shape, dtype=Xp.dtype, device=_device(Xp)))
        for a in range(kh):
            for b in range(kw):
                cols[:, :, :, a, b, :] = Xp[:, a:a + sh * (oh - 1) + 1:sh,
                                            b:b + sw * (ow - 1) + 1:sw, :]
        return xp.reshape(cols, (n * oh * ow, kh * kw * c))

    def forward(self, X, training=False):
        xp = self.xp
        n = X.shape[0]
        oh, ow, f = self.output_shape_
        # In training on NumPy the padded input, the im2col matrix and the
        # output are written over the last batch's (no page faults).
        reuse = training and self.backend.is_numpy
        Xp = self._pad(X, reuse)
        cols = self._im2col(Xp, n, reuse)
        W = xp.reshape(self.params["W"], (-1, f))
        if reuse:
            Y = self._work("output", (n * oh * ow, f), xp.result_type(cols, W))
            ufunc_namespace(Y).matmul(cols, W, out=Y)
        else:
            Y = cols @ W
        Y = xp.reshape(Y, (n, oh, ow, f))
        add_channel_bias(xp, Y, self.params["b"], self.backend.is_numpy)
        if training:
            self._cache_cols = cols
            self._cache_padded_shape = tuple(Xp.shape)
        return Y

    def backward(self, dY):
        xp = self.xp
        f = self.filters
        W = self.params["W"]
        dY2 = xp.reshape(dY, (-1, f))
        if self.trainable:   # a frozen layer computes no weight gradients
            self.grads["W"] = xp.reshape(
                kernel_gradient(xp, self._cache_cols, dY2, dY.shape[0], self.backend.is_numpy),
                W.shape)
            # A GEMV with ones: NumPy's column sum of a tall, narrow matrix is ~20x slower.
            ones = xp.ones((dY2.shape[0],), dtype=dY2.dtype, device=_device(dY2))
            self.grads["b"] = ones @ dY2
        if not self.need_input_grad:
            return None
        n = dY.shape[0]
        oh, ow, _ = self.output_shape_
        (kh, kw), (sh, sw) = self.kernel_size_, self.stride_
        h, w, c = self.input_shape_
        # col2im: each kernel offset's (n, oh, ow, c) slice of the column
        # gradient is added at its strided place in the padded input.
        if self.backend.is_numpy:
            dXp = self._work("input_grad", self._cache_padded_shape, dY.dtype)
            dXp[...] = 0

            def part(a, b):   # dY @ W[a, b].T: a contiguous block, cache-friendly
                return xp.reshape(dY2 @ W[a, b, ...].T, (n, oh, ow, c))
        else:
            dXp = xp.zeros(self._cache_padded_shape, dtype=dY.dtype, device=_device(dY))
            # On a GPU kernel launches cost more than cache misses: one GEMM
            # for the whole column gradient, then a strided view per offset.
            dcols = xp.reshape(dY2 @ xp.reshape(W, (-1, f)).T, (n, oh, ow, kh, kw, c))

            def part(a, b):
                return dcols[:, :, :, a, b, :]
        for a in range(kh):
            for b in range(kw):
                dXp[:, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw, :] += part(a, b)
        (pt, _), (pl, _) = self._pads(self.input_shape_)
        if dXp.shape[1] == h and dXp.shape[2] == w:
            return dXp
        return dXp[:, pt:pt + h, pl:pl + w, :]
