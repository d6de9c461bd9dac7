"""Helpers shared by the sequence layers.

Sequences are channels-last, ``(n_samples, timesteps, features)``, as in
Keras and tslearn: one sample is ``(timesteps, features)``.

Some layers compute with layers of their own (``Conv1D`` with a ``Conv2D``,
``Bidirectional`` with two recurrent layers, ``Residual`` with its block):
those *inner* layers are working objects, built from clones and kept in an
attribute listed in ``_inner_attrs``. The outer layer owns the weights (its
``params`` and ``state``, the arrays optimizers update and pickles store);
each forward pass hands them to the inner layers (:meth:`_sync`), so
whatever replaces or updates the outer arrays (an optimizer step, L-BFGS,
restoring a snapshot, a move to another backend) reaches the inner layers.
:class:`InnerLayersMixin` gives such a layer inference copies, moves and
pickles whose inner layers are bare copies (no weights, no caches).
"""

import copy

from ..backend import SMALL_PRODUCT as _SMALL_PRODUCT
from ._base import Layer

#: below this many multiply-adds, a matrix product inside a loop over time
#: runs on one BLAS thread (see :func:`loop_blas_threads`).
SMALL_PRODUCT = _SMALL_PRODUCT


def check_sequence_shape(layer, input_shape):
    """``(timesteps, features)`` of one sample, or a ValueError naming the layer."""
    if len(input_shape) != 2:
        raise ValueError(
            f"{type(layer).__name__} expects sequences of shape (timesteps, features) per "
            f"sample (channels-last), got {tuple(input_shape)}; put a Reshape layer before "
            "it (e.g. Reshape((timesteps, 1)) for flat rows of a single signal)."
        )
    return tuple(int(s) for s in input_shape)


def sigmoid(xp, z):
    """The logistic function as ``0.5 + 0.5 * tanh(z / 2)``: one transcendental
    per value and stable for any ``z`` (the gates of the recurrent layers)."""
    return 0.5 * xp.tanh(0.5 * z) + 0.5


def loop_blas_threads(backend, n_mult_adds):
    """A context in which the small matrix products of a loop over time run
    on one BLAS thread (NumPy backend, products under :data:`SMALL_PRODUCT`
    multiply-adds; elsewhere it does nothing).

    A recurrent step's product ``h @ U`` (e.g. 64 x 64 by 64 x 192) is too
    small to share between threads: with two BLAS threads on two cores it
    gains little on an idle machine, and on a busy one each of the hundreds
    of products per batch waits for a descheduled thread (measured: a GRU
    batch 15 to 25 times slower). scikit-learn limits BLAS threads the same
    way (``threadpoolctl``) around its own small-product loops.
    """
    return backend.small_product_threads(n_mult_adds)


def bare_copy(layer, backend):
    """A shallow copy of a built ``layer`` on ``backend`` without weights,
    gradients or caches (its outer layer hands it the weights); inner layers
    of its own are bare copies too."""
    twin = copy.copy(layer)
    for key in [k for k in vars(twin) if k.startswith("_cache")]:
        delattr(twin, key)
    twin.params, twin.state, twin.grads = {}, {}, {}
    twin.backend = backend
    for attr in getattr(twin, "_inner_attrs", ()):
        setattr(twin, attr, [bare_copy(inner, backend) for inner in getattr(twin, attr)])
    return twin


class InnerLayersMixin:
    """Placement, moves and pickling of a layer with inner layers (see the
    module docstring); the layer defines ``_inner_attrs`` and ``_sync``."""

    #: names of the attributes that hold lists of built inner layers.
    _inner_attrs = ()

    def placed(self, backend, copy_weights=False):
        twin = Layer.placed(self, backend, copy_weights)
        for attr in self._inner_attrs:
            setattr(twin, attr, [bare_copy(inner, backend) for inner in getattr(self, attr)])
        return twin

    def to(self, backend):
        Layer.to(self, backend)
        for attr in self._inner_attrs:
            setattr(self, attr, [bare_copy(inner, self.backend)
                                 for inner in getattr(self, attr)])
        return self

    placed.__doc__ = Layer.placed.__doc__
    to.__doc__ = Layer.to.__doc__

    def __getstate__(self):
        state = Layer.__getstate__(self)
        for attr in self._inner_attrs:
            if attr in state:
                state[attr] = [bare_copy(inner, state["backend"]) for inner in state[attr]]
        return state
