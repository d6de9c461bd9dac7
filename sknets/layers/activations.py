"""Element-wise activation functions as layers.

Each activation is a pair of small functions in plain tables, as in
scikit-learn's ``neural_network._base``: the forward function of the
pre-activation ``z`` and the backward function of the cached output ``a``
and the upstream gradient. All are written with the array-API namespace
``xp`` only.
"""

from sklearn.utils._param_validation import StrOptions

from ._base import Layer

#: negative slope of ``"leaky_relu"`` (Keras' default, the usual one in GANs).
LEAKY_SLOPE = 0.2


def _sigmoid(xp, z):
    # Numerically stable logistic: never evaluates exp of a large positive number.
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _identity(xp, z):
    return z


def _tanh(xp, z):
    return xp.tanh(z)


def _relu(xp, z):
    return xp.maximum(z, 0.0)


def _leaky_relu(xp, z):
    return xp.where(z > 0, z, LEAKY_SLOPE * z)


def _step(xp, z):
    return xp.astype(z > 0, z.dtype)


ACTIVATIONS = {
    "identity": _identity,
    "logistic": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "step": _step,
}


def _d_identity(xp, a, dY):
    return dY


def _d_logistic(xp, a, dY):
    return dY * a * (1.0 - a)


def _d_tanh(xp, a, dY):
    return dY * (1.0 - a * a)


def _d_relu(xp, a, dY):
    # A multiply by the 0/1 mask: NumPy's where() is an order of magnitude slower.
    return dY * xp.astype(a > 0, dY.dtype)


def _d_leaky_relu(xp, a, dY):
    # a > 0 exactly where z > 0 (the slope is positive).
    return xp.where(a > 0, dY, LEAKY_SLOPE * dY)


def _d_step(xp, a, dY):
    # The step function has zero derivative almost everywhere; the perceptron
    # rule treats it as the identity (straight-through), as Rosenblatt's does.
    return dY


DERIVATIVES = {
    "identity": _d_identity,
    "logistic": _d_logistic,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "leaky_relu": _d_leaky_relu,
    "step": _d_step,
}


class Activation(Layer):
    """Element-wise activation layer.

    Parameters
    ----------
    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "step"}
        ``logistic`` is the sigmoid ``1 / (1 + exp(-z))``, computed stably;
        ``leaky_relu`` is ``z`` for ``z > 0`` and ``0.2 z`` otherwise (Keras'
        ``leaky_relu`` and its default slope; Maas et al., "Rectifier
        nonlinearities improve neural network acoustic models", ICML 2013);
        ``step`` is Heaviside's step ``1[z > 0]`` (the perceptron's output).
    """

    _parameter_constraints = {"activation": [StrOptions(set(ACTIVATIONS))]}

    def __init__(self, activation):
        self.activation = activation

    def describe(self):
        return f"Activation({self.activation})"

    def forward(self, X, training=False):
        A = ACTIVATIONS[self.activation](self.xp, X)
        if training:
            self._cache_A = A
        return A

    def backward(self, dY):
        return DERIVATIVES[self.activation](self.xp, self._cache_A, dY)
