"""Embedding of integer token ids.

References
----------
.. [1] Y. Bengio, R. Ducharme, P. Vincent and C. Jauvin, "A neural
   probabilistic language model", JMLR 3, 2003 (learned word vectors).
"""

from numbers import Integral

from array_api_compat import device as _device
from sklearn.utils._param_validation import Interval

from ._base import Layer


class Embedding(Layer):
    """A learned vector per token id (Keras' ``Embedding``) [1]_.

    Parameters
    ----------
    input_dim : int
        Number of token ids: ids are ``0 .. input_dim - 1``.
    output_dim : int
        Length of each token's vector.
    trainable : bool, default=True
        False freezes the vectors (e.g. pre-trained ones given by ``weights``).
    weights : dict or None, default=None
        Initial ``{"W": (input_dim, output_dim)}``, row ``i`` the vector of id ``i``.

    Raises
    ------
    ValueError
        At ``forward`` when an id is not an integer in ``[0, input_dim)``.

    Notes
    -----
    Input ``(n_samples, timesteps)`` of integer ids (the estimators hand
    them over as floats: integral values are required), output
    ``(n_samples, timesteps, output_dim)``, a sequence for the recurrent and
    1-D convolution layers. Vectors start uniform in ``[-0.05, 0.05]``
    (Keras' default). The gradient of ``W`` adds each position's output
    gradient into its id's row (a one-hot matrix product, so it runs on any
    array-API backend); ids have no gradient, so the layer comes first.
    """

    _parameter_constraints = {
        "input_dim": [Interval(Integral, 1, None, closed="left")],
        "output_dim": [Interval(Integral, 1, None, closed="left")],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def __init__(self, input_dim, output_dim, trainable=True, weights=None):
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.trainable = trainable
        self.weights = weights

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Embedding expects one sequence of token ids per sample, shape "
                f"(timesteps,), got {tuple(input_shape)}.")
        return (int(input_shape[0]), self.output_dim)

    def _init_params(self, input_shape, rng):
        return {"W": rng.uniform(-0.05, 0.05, (self.input_dim, self.output_dim))}

    def describe(self):
        return f"Embedding({self.input_dim}, {self.output_dim})"

    def _ids(self, X):
        xp = self.xp
        ids = xp.astype(X, xp.int64) if xp.isdtype(X.dtype, "real floating") else X
        bad = xp.any((ids < 0) | (ids >= self.input_dim)
                     | (xp.astype(ids, X.dtype) != X))
        if bool(bad):
            raise ValueError(f"{self.describe()}: the input must hold integer token ids in "
                             f"[0, {self.input_dim}).")
        return xp.reshape(ids, (-1,))

    def forward(self, X, training=False):
        xp = self.xp
        ids = self._ids(X)
        if training:
            self._cache_ids = ids
        Y = xp.take(self.params["W"], ids, axis=0)
        return xp.reshape(Y, tuple(X.shape) + (self.output_dim,))

    def backward(self, dY):
        xp = self.xp
        if self.trainable:
            ids = self._cache_ids
            onehot = xp.astype(ids[:, None] == xp.arange(self.input_dim, device=_device(ids)),
                               dY.dtype)
            self.grads["W"] = onehot.T @ xp.reshape(dY, (-1, self.output_dim))
        if not self.need_input_grad:
            return None
        n, t, _ = dY.shape
        return xp.zeros((n, t), dtype=dY.dtype, device=_device(dY))
