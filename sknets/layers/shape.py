"""Layers that only change the shape of the data."""

import math

from ._base import Layer


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (e.g. flat rows to images).

    Parameters
    ----------
    target_shape : tuple of int
        One sample's output shape; its size must equal the input's.
    """

    def __init__(self, target_shape):
        super().__init__()
        self.target_shape = tuple(int(s) for s in target_shape)

    def output_shape(self, input_shape):
        if math.prod(input_shape) != math.prod(self.target_shape):
            raise ValueError(
                f"Cannot reshape samples of shape {tuple(input_shape)} "
                f"({math.prod(input_shape)} values) to {self.target_shape}."
            )
        return self.target_shape

    def describe(self):
        return f"Reshape{self.target_shape}"

    def forward(self, X, training=False):
        return self.xp.reshape(X, (X.shape[0],) + self.target_shape)

    def backward(self, dY):
        return self.xp.reshape(dY, (dY.shape[0],) + self.input_shape_)


class Flatten(Layer):
    """Flatten each sample to one axis: ``(n, d1, d2, ...)`` to ``(n, d1*d2*...)``."""

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, X, training=False):
        return self.xp.reshape(X, (X.shape[0], -1))

    def backward(self, dY):
        return self.xp.reshape(dY, (dY.shape[0],) + self.input_shape_)
