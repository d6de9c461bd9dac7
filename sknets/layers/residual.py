"""Residual blocks: ``output = shortcut(input) + block(input)``.

References
----------
.. [1] K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for image
   recognition", CVPR 2016 (identity shortcuts, and 1x1 projections where
   the shape changes).
"""

import math

import numpy as np
from array_api_compat import device as _device

from ..initializers import glorot_uniform
from ._base import Layer
from ._container import _Container


def _shortcut_strides(input_shape, output_shape):
    """Strides per spatial axis of a 1x1 projection from ``input_shape`` to
    ``output_shape`` (channels-last, same rank), or None if there is none:
    each axis keeps its length or shrinks to ``ceil(length / stride)``."""
    if len(input_shape) != len(output_shape):
        return None
    strides = []
    for n_in, n_out in zip(input_shape[:-1], output_shape[:-1]):
        s = math.ceil(n_in / n_out)
        if math.ceil(n_in / s) != n_out:
            return None
        strides.append(s)
    return tuple(strides)


class Residual(_Container):
    """A residual block: the input plus the output of its layers [1]_.

    ``Y = X + F(X)``, where ``F`` applies ``layers`` in order, so a ResNet is
    a flat list of layers: ``[Conv1D(32, 5, padding="same"),
    Residual([Conv1D(32, 3, padding="same"), BatchNormalization(),
    Activation("relu"), Conv1D(32, 3, padding="same")]),
    Activation("relu"), ...]``. When ``F`` changes the shape (more
    channels, or fewer timesteps or pixels by a stride) the shortcut is a
    learned 1x1 projection, ``Y = X[::s] @ P + p + F(X)`` with ``s`` the
    stride that maps the input's length to the output's (``ceil(length /
    s)``, as ``padding="same"`` gives).

    Parameters
    ----------
    layers : list of Layer
        The block ``F``, as layer specifications (cloned when the block is
        built, never changed).
    trainable : bool, default=True
        False freezes the whole block (every layer in it, and the
        projection); a layer of the block can also be frozen on its own.
    weights : dict or None, default=None
        Initial weights by the names of :meth:`get_weights`: ``"<i>.<name>"``
        for the ``i``-th layer's (e.g. ``"0.W"``) and ``"shortcut.W"``
        ``(in_channels, out_channels)``, ``"shortcut.b"`` for the projection.

    Raises
    ------
    ValueError
        At build time if ``layers`` is empty or holds something else than
        layers, or when no 1x1 projection maps the input shape to the block's
        output shape (e.g. a ``"valid"`` convolution that trims the sequence).

    Notes
    -----
    Input and output: any channels-last shape, ``(n_samples, timesteps,
    channels)`` or ``(n_samples, height, width, channels)`` (or flat
    ``(n_samples, features)``, where the projection is a dense map). The
    projection starts Glorot-uniform with a zero bias; the L2 penalty applies
    to its ``W`` and to the layers' weights.
    """

    _parameter_constraints = {
        "layers": [list, tuple],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    _own_row = "shortcut: 1x1 projection"

    def __init__(self, layers, trainable=True, weights=None):
        self.layers = layers
        self.trainable = trainable
        self.weights = weights

    def _inner_specs(self):
        if not isinstance(self.layers, (list, tuple)) or not self.layers or not all(
                isinstance(layer, Layer) for layer in self.layers):
            raise ValueError(f"Residual's layers must be a non-empty list of sknets layers, "
                             f"got {self.layers!r}.")
        return [(f"{i}.", layer) for i, layer in enumerate(self.layers)]

    def _inner_input_shape(self, prefix, shapes):
        return shapes[-1] if shapes else self.input_shape_

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for _, spec in self._inner_specs():
            shape = tuple(spec.output_shape(shape))
        self._check_shortcut(tuple(input_shape), shape)
        return shape

    def _check_shortcut(self, input_shape, output_shape):
        if input_shape != output_shape and _shortcut_strides(input_shape, output_shape) is None:
            raise ValueError(
                f"Residual: the block maps samples of shape {input_shape} to {output_shape}, "
                "which no 1x1 projection of the input matches (the channels may change, and "
                "each other axis keep its length or shrink to ceil(length / stride)); use "
                "padding='same' in the block's convolutions."
            )

    def _own_params(self, input_shape, output_shape, rng):
        self._check_shortcut(input_shape, output_shape)
        if input_shape == output_shape:
            self.shortcut_strides_ = None
            return {}
        self.shortcut_strides_ = _shortcut_strides(input_shape, output_shape)
        c_in, c_out = input_shape[-1], output_shape[-1]
        W, _ = glorot_uniform(rng, c_in, c_out, (c_in, c_out), (0,))
        return {"shortcut.W": W, "shortcut.b": np.zeros(c_out)}

    def describe(self):
        n = len(self.layers) if isinstance(self.layers, (list, tuple)) else "?"
        projected = ", projection" if getattr(self, "shortcut_strides_", None) is not None \
            else ""
        return f"Residual({n} layer{'s' if n != 1 else ''}{projected})"

    def nested_rows(self):
        rows = super().nested_rows()
        if self.shortcut_strides_ is not None:
            n = sum(int(np.prod(self.params[k].shape)) for k in ("shortcut.W", "shortcut.b"))
            rows.append(("shortcut: 1x1 projection", self.output_shape_, n))
        return rows

    # -- computation ------------------------------------------------------------
    def _subsample(self, X):
        """``X`` at the projection's strides: ``X[:, ::s1, ::s2, ..., :]``."""
        steps = tuple(slice(None, None, s) for s in self.shortcut_strides_)
        return X[(slice(None),) + steps + (slice(None),)]

    def _shortcut(self, X, training):
        if self.shortcut_strides_ is None:
            return X
        xp = self.xp
        Xs = self._subsample(X)
        c_in = X.shape[-1]
        Xs2 = xp.reshape(Xs, (-1, c_in))
        if training:
            self._cache_shortcut = Xs2, X.shape
        S = Xs2 @ self.params["shortcut.W"] + self.params["shortcut.b"]
        return xp.reshape(S, tuple(Xs.shape[:-1]) + (S.shape[1],))

    def _run(self, X, step, training):
        self._sync()
        need = self.need_input_grad
        Z = X
        for layer, (pkeys, _) in zip(self.inner_, self.inner_keys_):
            # like Sequential: no input gradient where nothing before needs it
            layer.need_input_grad = need
            need = need or bool(layer.trainable and pkeys)
            Z = step(layer, Z)
        return Z + self._shortcut(X, training)

    def backward(self, dY):
        xp = self.xp
        dZ = dY
        for layer in reversed(self.inner_):
            dZ = layer.backward(dZ)
            if not layer.need_input_grad:
                break
        self._collect_grads()
        if self.shortcut_strides_ is None:
            return dZ + dY if self.need_input_grad else None
        Xs2, x_shape = self._cache_shortcut
        dY2 = xp.reshape(dY, (-1, dY.shape[-1]))
        if self.trainable:
            self.grads["shortcut.W"] = Xs2.T @ dY2
            self.grads["shortcut.b"] = xp.sum(dY2, axis=0)
        if not self.need_input_grad:
            return None
        dXs = xp.reshape(dY2 @ self.params["shortcut.W"].T,
                         tuple(dY.shape[:-1]) + (x_shape[-1],))
        dX = xp.zeros(x_shape, dtype=dY.dtype, device=_device(dY))
        steps = tuple(slice(None, None, s) for s in self.shortcut_strides_)
        dX[(slice(None),) + steps + (slice(None),)] = dXs
        return dX + dZ
