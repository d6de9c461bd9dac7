"""Sizes before allocation: what a layer will hold, from its input shape alone.

:meth:`~sknets.layers.Layer.plan` returns a :class:`LayerPlan`: one sample's
output shape, the shapes of the weights (``params`` and ``state``) and of
what one training step keeps per sample (outputs, caches, work arrays). The
summary table and the memory estimate (:mod:`sknets._memory`) are computed
from plans, so a network of a billion weights is described, and refused when
it cannot fit, before anything is allocated.
"""

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LayerPlan", "ShapeOnlyRandomState", "shapes_of"]


@dataclass
class LayerPlan:
    """A layer's sizes for one sample's input shape (nothing allocated).

    Attributes
    ----------
    layer : Layer
    input_shape, output_shape : tuple of int
        One sample's shapes (no batch axis).
    param_shapes, state_shapes : dict of str to tuple of int
        Shapes of ``params`` (trained by gradient) and ``state``.
    activation_shapes : list of tuple of int
        Per-sample shapes of the arrays one training step keeps for the
        layer (its output, its caches and work arrays), for memory estimates.
    """

    layer: object
    input_shape: tuple
    output_shape: tuple
    param_shapes: dict = field(default_factory=dict)
    state_shapes: dict = field(default_factory=dict)
    activation_shapes: list = field(default_factory=list)
    #: ``(description, output shape, weight count)`` of a container's inner
    #: layers (the summary table's indented rows).
    nested: list = field(default_factory=list)
    #: the description, when the layer's own ``describe()`` needs its built
    #: attributes (a container's projection); None: ``layer.describe()``.
    label: str = None

    @property
    def description(self):
        return self.layer.describe() if self.label is None else self.label

    @property
    def n_params(self):
        """Number of scalars in ``params``."""
        return sum(math.prod(s) for s in self.param_shapes.values())

    @property
    def n_state(self):
        """Number of scalars in ``state``."""
        return sum(math.prod(s) for s in self.state_shapes.values())

    @property
    def n_trainable(self):
        """Scalars training updates by gradient (0 for a frozen layer)."""
        return self.n_params if self.layer.trainable else 0

    @property
    def activation_size(self):
        """Scalars one sample's training step keeps for this layer."""
        return sum(math.prod(s) for s in self.activation_shapes)

    def summary_row(self):
        """``(description, output shape, weight count, trainable count)``."""
        return (self.description, self.output_shape, self.n_params + self.n_state,
                self.n_trainable)


class ShapeOnlyRandomState:
    """A stand-in for ``numpy.random.RandomState`` whose draws are read-only
    zero-strided views of one zero (``numpy.broadcast_to``): any shape, no
    memory. :meth:`~sknets.layers.Layer.param_shapes` uses it to learn the
    shapes a layer's ``_init_params`` would draw without drawing them (the
    fallback for layers that do not declare their shapes)."""

    @staticmethod
    def _zeros(size):
        if size is None:
            return 0.0
        return np.broadcast_to(np.float64(0.0), tuple(np.atleast_1d(size).tolist())
                               if not isinstance(size, tuple) else size)

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._zeros(size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._zeros(size)

    def standard_normal(self, size=None):
        return self._zeros(size)

    def random_sample(self, size=None):
        return self._zeros(size)

    random = random_sample

    def rand(self, *dims):
        return self._zeros(dims or None)

    def randn(self, *dims):
        return self._zeros(dims or None)

    def randint(self, low, high=None, size=None, dtype=int):
        return 0 if size is None else np.broadcast_to(np.int64(0), tuple(np.atleast_1d(size)))


def shapes_of(arrays):
    """``{name: shape}`` of a dict of arrays."""
    return {k: tuple(int(d) for d in np.shape(v)) for k, v in arrays.items()}
