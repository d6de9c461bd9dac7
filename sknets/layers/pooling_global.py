"""Global average pooling of channels-last images."""

from array_api_compat import device as _device

from ._base import Layer
from .conv import _check_image_shape


class GlobalAvgPool2D(Layer):
    """Global average pooling: the mean of each channel over the image
    (Keras' ``GlobalAveragePooling2D``).

    Notes
    -----
    Input ``(n_samples, height, width, channels)``, output
    ``(n_samples, channels)``: a flat input for a ``Dense`` head, whatever
    the image size. The backward pass spreads each channel's gradient evenly
    over its ``height * width`` pixels.
    """

    def __init__(self):
        pass

    def output_shape(self, input_shape):
        _, _, c = _check_image_shape(self, input_shape)
        return (c,)

    def forward(self, X, training=False):
        xp = self.xp
        n, h, w, c = X.shape
        # A batched matrix-vector product: NumPy's mean over the pixel axis of
        # (n, h * w, c) is several times slower.
        weights = xp.full((h * w,), 1.0 / (h * w), dtype=X.dtype, device=_device(X))
        return weights @ xp.reshape(X, (n, h * w, c))

    def backward(self, dY):
        if not self.need_input_grad:
            return None
        h, w, _ = self.input_shape_
        n, c = dY.shape
        # A read-only broadcast view: no (n, h, w, c) array is written.
        share = self.xp.reshape(dY / (h * w), (n, 1, 1, c))
        return self.xp.broadcast_to(share, (n, h, w, c))
