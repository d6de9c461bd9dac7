"""Layers that generative networks use: upsampling, minibatch statistics.

References
----------
.. [1] T. Karras, T. Aila, S. Laine and J. Lehtinen, "Progressive growing of
   GANs for improved quality, stability, and variation", ICLR 2018,
   section 3 (the minibatch standard deviation).
.. [2] A. Odena, V. Dumoulin and C. Olah, "Deconvolution and checkerboard
   artifacts", Distill 2016 (nearest-neighbour upsampling then convolution).
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ._base import Layer
from .conv import _check_image_shape


class UpSampling2D(Layer):
    """Repeat each pixel ``size`` times along height and width (Keras' ``UpSampling2D``).

    Nearest-neighbour upsampling; a ``Conv2D`` after it makes a learned
    upsampling without the checkerboard artifacts of transposed
    convolutions [2]_.

    Parameters
    ----------
    size : int, default=2
        The factor of both the height and the width.

    Notes
    -----
    Input ``(n_samples, height, width, channels)``, output
    ``(n_samples, size * height, size * width, channels)``. The backward
    pass sums the gradient over each ``size x size`` block.
    """

    _parameter_constraints = {"size": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, size=2):
        self.size = size

    def output_shape(self, input_shape):
        h, w, c = _check_image_shape(self, input_shape)
        return (h * self.size, w * self.size, c)

    def describe(self):
        return f"UpSampling2D({self.size})"

    def forward(self, X, training=False):
        xp, s = self.xp, self.size
        n, h, w, c = X.shape
        wide = xp.broadcast_to(xp.reshape(X, (n, h, 1, w, 1, c)), (n, h, s, w, s, c))
        return xp.reshape(wide, (n, h * s, w * s, c))

    def backward(self, dY):
        if not self.need_input_grad:
            return None
        xp, s = self.xp, self.size
        n, H, W, c = dY.shape
        return xp.sum(xp.reshape(dY, (n, H // s, s, W // s, s, c)), axis=(2, 4))


class MinibatchStdDev(Layer):
    """Append the batch's mean standard deviation as one more feature [1]_.

    The standard deviation of each feature over the samples of the batch,
    averaged over the features, is appended to every sample (as one more
    value of flat rows, one more constant channel of images). A
    discriminator that sees it can tell a batch of generated samples that
    all look alike from a varied batch of real ones, which pushes the
    generator toward variety (against mode collapse; a simple form of
    Salimans et al.'s minibatch discrimination).

    Parameters
    ----------
    epsilon : float, default=1e-8
        Added to the variances before the square root.

    Notes
    -----
    Input ``(n_samples, n_features)`` or ``(n_samples, ..., channels)``;
    the output has one more feature or channel. The value depends on the
    whole batch, in training and in inference alike: pass real and
    generated samples in separate batches.
    """

    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, epsilon=1e-8):
        self.epsilon = epsilon

    def output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)

    def describe(self):
        return "MinibatchStdDev"

    def forward(self, X, training=False):
        xp = self.xp
        centred = X - xp.mean(X, axis=0, keepdims=True)
        std = xp.sqrt(xp.mean(centred * centred, axis=0) + self.epsilon)
        value = xp.mean(std)
        if training:
            self._cache = (centred, std)
        extra = xp.broadcast_to(xp.reshape(value, (1,) * X.ndim), X.shape[:-1] + (1,))
        return xp.concat([X, xp.astype(extra, X.dtype)], axis=-1)

    def backward(self, dY):
        if not self.need_input_grad:
            return None
        xp = self.xp
        centred, std = self._cache
        n, size = centred.shape[0], std.size
        d_value = xp.sum(dY[..., -1:])
        # d mean(std) / dX = (X - mean) / (n * size * std), feature by feature
        return dY[..., :-1] + centred * (d_value / (n * size)) / std
