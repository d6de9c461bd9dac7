"""Fully connected layer."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..initializers import INITIALIZERS
from ._base import Layer


class Dense(Layer):
    """Fully connected layer: ``Y = X @ W + b``.

    A sparse ``X`` (SciPy's CSR/CSC, or ``cupyx.scipy.sparse`` on a GPU)
    stays sparse: ``X @ W`` and the weight gradient ``X.T @ dY`` are
    sparse-dense products, whose cost follows the non-zeros (scikit-learn's
    MLP does the same with ``safe_sparse_dot``). The gradient of a sparse
    input is never needed (a network's first layer computes none).

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

    accepts_sparse = True

    def __init__(self, units, initializer="glorot_uniform", init_factor=6.0, trainable=True,
                 weights=None):
        self.units = units
        self.initializer = initializer
        self.init_factor = init_factor
        self.trainable = trainable
        self.weights = weights

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs of shape (n_features,), got {tuple(input_shape)}; "
                "put a Flatten layer before it."
            )
        return (self.units,)

    def param_shapes(self, input_shape):
        self.output_shape(input_shape)   # checks that the input is flat
        return {"W": (int(input_shape[0]), self.units), "b": (self.units,)}

    def size_parameter(self, input_shape):
        if self.units >= input_shape[0]:
            return f"units={self.units}"
        return None   # the input's width sets the size

    def _init_params(self, input_shape, rng):
        shapes = self.param_shapes(input_shape)
        fan_in = input_shape[0]
        init = INITIALIZERS[self.initializer]
        kwargs = {"factor": self.init_factor} if self.initializer == "glorot_uniform" else {}
        W, b = init(rng, fan_in, self.units, shapes["W"], shapes["b"], **kwargs)
        return {"W": W, "b": b}

    def describe(self):
        return f"Dense({self.units})"

    def forward(self, X, training=False):
        if training and self.trainable:
            self._cache_X = X
        # A sparse X (SciPy, or CuPy's on a GPU) times the dense W is a dense
        # array: a sparse-dense product, X is never densified.
        Y = X @ self.params["W"]
        Y += self.params["b"]   # in place: one pass, no second output array
        return Y

    def backward(self, dY):
        if not self.trainable:
            return dY @ self.params["W"].T if self.need_input_grad else None
        xp = self.xp
        X = self._cache_X
        # written over last step's array where the backend can (a fresh
        # (n_in, n_out) array per step costs page faults); a sparse X makes
        # X.T @ dY a sparse-dense product
        self.grads["W"] = self.backend.kernels.matmul(X.T, dY, work=self._work, name="grad_W")
        self.grads["b"] = xp.sum(dY, axis=0)
        if self.need_input_grad:
            return dY @ self.params["W"].T
        return None
