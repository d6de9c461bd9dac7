"""Fully connected layer."""

from ..initializers import INITIALIZERS
from ._base import Layer


class Dense(Layer):
    """Fully connected layer: ``Y = X @ W + b``.

    Parameters
    ----------
    units : int
        Number of output units.
    initializer : {"glorot_uniform", "he_uniform"}, default="glorot_uniform"
        Weight initialisation scheme (see :mod:`sknets.initializers`).
    init_factor : float, default=6.0
        Glorot's factor (``2.0`` for logistic units, as scikit-learn uses).

    Notes
    -----
    Input shape ``(n_samples, n_features)``, output ``(n_samples, units)``.
    ``params["W"]`` has shape ``(n_features, units)`` (scikit-learn's
    ``coefs_[i]`` layout) and ``params["b"]`` shape ``(units,)``.
    """

    def __init__(self, units, initializer="glorot_uniform", init_factor=6.0):
        super().__init__()
        self.units = int(units)
        self.initializer = initializer
        self.init_factor = init_factor

    def _init_params(self, input_shape, rng):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs of shape (n_features,), got {input_shape}; "
                "put a Flatten layer before it."
            )
        fan_in = input_shape[0]
        init = INITIALIZERS[self.initializer]
        kwargs = {"factor": self.init_factor} if self.initializer == "glorot_uniform" else {}
        W, b = init(rng, fan_in, self.units, (fan_in, self.units), (self.units,), **kwargs)
        return {"W": W, "b": b}

    def output_shape(self, input_shape):
        return (self.units,)

    def describe(self):
        return f"Dense({self.units})"

    def forward(self, X, training=False):
        if training:
            self._cache_X = X
        return X @ self.params["W"] + self.params["b"]

    def backward(self, dY):
        xp = self.xp
        X = self._cache_X
        self.grads["W"] = X.T @ dY
        self.grads["b"] = xp.sum(dY, axis=0)
        if self.need_input_grad:
            return dY @ self.params["W"].T
        return None
