"""Fully connected layer."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

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
    trainable : bool, default=True
        False freezes the layer: ``fit`` leaves its weights as they are.
    weights : dict or None, default=None
        Initial ``{"W": (n_features, units), "b": (units,)}`` arrays instead
        of the initialisation, e.g. from a fitted network's
        ``feature_layers()``.

    Notes
    -----
    Input shape ``(n_samples, n_features)``, output ``(n_samples, units)``.
    ``params["W"]`` has shape ``(n_features, units)`` (scikit-learn's
    ``coefs_[i]`` layout) and ``params["b"]`` shape ``(units,)``.
    """

    _parameter_constraints = {
        "units": [Interval(Integral, 1, None, closed="left")],
        "initializer": [StrOptions(set(INITIALIZERS))],
        "init_factor": [Interval(Real, 0, None, closed="neither")],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def __init__(self, units, initializer="glorot_uniform", init_factor=6.0, trainable=True,
                 weights=None):
        self.units = units
        self.initializer = initializer
        self.init_factor = init_factor
        self.trainable = trainable
        self.weights = weights

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
        if training and self.trainable:
            self._cache_X = X
        Y = X @ self.params["W"]
        Y += self.params["b"]   # in place: one pass, no second output array
        return Y

    def backward(self, dY):
        if not self.trainable:
            return dY @ self.params["W"].T if self.need_input_grad else None
        xp = self.xp
        X = self._cache_X
        # written over last step's array where the backend can (a fresh
        # (n_in, n_out) array per step costs page faults)
        self.grads["W"] = self.backend.kernels.matmul(X.T, dY, work=self._work, name="grad_W")
        self.grads["b"] = xp.sum(dY, axis=0)
        if self.need_input_grad:
            return dY @ self.params["W"].T
        return None
