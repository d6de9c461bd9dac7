"""Layers that only change the shape of the data."""

import math
from numbers import Integral

from ._base import Layer


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (e.g. flat rows to images).

    Parameters
    ----------
    target_shape : tuple of int
        One sample's output shape; its size must equal the input's.

    Notes
    -----
    Sparse input (flat rows) is densified one batch at a time by the
    network before this layer (:func:`sknets._sparse.densify`).
    """

    _parameter_constraints = {"target_shape": ["array-like"]}

    def __init__(self, target_shape):
        self.target_shape = target_shape

    def _shape(self):
        shape = tuple(self.target_shape)
        if not shape or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                                for s in shape):
            raise ValueError(
                f"Reshape's target_shape must be a tuple of positive ints, got "
                f"{self.target_shape!r}."
            )
        return tuple(int(s) for s in shape)

    def output_shape(self, input_shape):
        shape = self._shape()
        if math.prod(input_shape) != math.prod(shape):
            raise ValueError(
                f"Cannot reshape samples of shape {tuple(input_shape)} "
                f"({math.prod(input_shape)} values) to {shape}."
            )
        return shape

    def activation_shapes(self, input_shape):
        return []   # a view of its input

    def describe(self):
        return f"Reshape{self._shape()}"

    def forward(self, X, training=False):
        return self.xp.reshape(X, (X.shape[0],) + self.output_shape_)

    def backward(self, dY):
        return self.xp.reshape(dY, (dY.shape[0],) + self.input_shape_)


class Flatten(Layer):
    """Flatten each sample to one axis: ``(n, d1, d2, ...)`` to ``(n, d1*d2*...)``."""

    def __init__(self):
        pass

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def activation_shapes(self, input_shape):
        return []   # a view of its input

    def forward(self, X, training=False):
        return self.xp.reshape(X, (X.shape[0], -1))

    def backward(self, dY):
        return self.xp.reshape(dY, (dY.shape[0],) + self.input_shape_)
