"""Bidirectional recurrent layers.

References
----------
.. [1] M. Schuster and K. K. Paliwal, "Bidirectional recurrent neural
   networks", IEEE Transactions on Signal Processing 45(11), 1997.
"""

from sklearn.utils._param_validation import HasMethods, StrOptions

from ._container import _Container
from .recurrent import _Recurrent


class Bidirectional(_Container):
    """Run a recurrent layer forwards and a copy of it backwards in time,
    and merge their outputs (Keras' ``Bidirectional``) [1]_.

    The backward copy reads the sequence from its last timestep to its
    first; with ``return_sequences=True`` its outputs are put back in the
    input's time order before the merge, so step ``t`` of the output sees
    the whole sequence.

    Parameters
    ----------
    layer : SimpleRNN, GRU or LSTM
        The recurrent layer (a specification; two clones are built, each
        with its own weights).
    merge_mode : {"concat", "sum", "ave", "mul"}, default="concat"
        How the two outputs combine: concatenated along the last axis
        (``2 * units`` features), added, averaged or multiplied.
    trainable : bool, default=True
        False freezes both directions.
    weights : dict or None, default=None
        Initial weights by the names of :meth:`get_weights`:
        ``"forward.<name>"`` and ``"backward.<name>"`` (e.g. ``"forward.W"``).

    Raises
    ------
    TypeError
        At build time if ``layer`` is not a recurrent layer.

    Notes
    -----
    Input ``(n_samples, timesteps, features)``; output ``(n_samples, units)``
    (``2 * units`` with ``"concat"``), or per timestep with the layer's
    ``return_sequences=True``.
    """

    _parameter_constraints = {
        "layer": [HasMethods(["forward", "backward"])],
        "merge_mode": [StrOptions({"concat", "sum", "ave", "mul"})],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def __init__(self, layer, merge_mode="concat", trainable=True, weights=None):
        self.layer = layer
        self.merge_mode = merge_mode
        self.trainable = trainable
        self.weights = weights

    def _inner_specs(self):
        if not isinstance(self.layer, _Recurrent):
            raise TypeError("Bidirectional wraps a recurrent layer (SimpleRNN, GRU, LSTM), "
                            f"got {self.layer!r}.")
        return [("forward.", self.layer), ("backward.", self.layer)]

    def _merge_shapes(self, shapes):
        shape = shapes[0]
        if self.merge_mode == "concat":
            return tuple(shape[:-1]) + (2 * shape[-1],)
        return shape

    def output_shape(self, input_shape):
        return self._merge_shapes([self._inner_specs()[0][1].output_shape(input_shape)])

    def describe(self):
        merge = "" if self.merge_mode == "concat" else f", {self.merge_mode}"
        return f"Bidirectional({self.layer.describe()}{merge})"

    def _run(self, X, step, training):
        xp = self.xp
        self._sync()
        forward, backward = self.inner_
        forward.need_input_grad = backward.need_input_grad = self.need_input_grad
        Yf = step(forward, X)
        Yb = step(backward, xp.flip(X, axis=1))
        sequences = Yf.ndim == 3
        if sequences:
            Yb = xp.flip(Yb, axis=1)
        if training and self.merge_mode == "mul":
            self._cache_outputs = Yf, Yb
        if training:
            self._cache_sequences = sequences
        if self.merge_mode == "concat":
            return xp.concat([Yf, Yb], axis=-1)
        if self.merge_mode == "sum":
            return Yf + Yb
        if self.merge_mode == "ave":
            return (Yf + Yb) * 0.5
        return Yf * Yb

    def backward(self, dY):
        xp = self.xp
        forward, backward = self.inner_
        if self.merge_mode == "concat":
            u = dY.shape[-1] // 2
            dYf, dYb = dY[..., :u], dY[..., u:]
        elif self.merge_mode == "sum":
            dYf = dYb = dY
        elif self.merge_mode == "ave":
            dYf = dYb = dY * 0.5
        else:
            Yf, Yb = self._cache_outputs
            dYf, dYb = dY * Yb, dY * Yf
        if self._cache_sequences:
            dYb = xp.flip(dYb, axis=1)
        dXf = forward.backward(dYf)
        dXb = backward.backward(dYb)
        self._collect_grads()
        if not self.need_input_grad:
            return None
        return dXf + xp.flip(dXb, axis=1)
