"""Multilayer perceptrons trained by back-propagation.

Drop-in replacements for :class:`sklearn.neural_network.MLPClassifier` and
:class:`sklearn.neural_network.MLPRegressor`: the same parameters, defaults,
fitted attributes and methods, plus ``backend`` (NumPy or CuPy), ``dtype``
(by default the input's floating dtype, as scikit-learn), ``dropout`` and
``batch_normalization``, mini-batched prediction, ``transform`` (the last
hidden layer's activations), a per-epoch ``history_``, ``summary()`` and a
clear error when training diverges. Each is a preset: a layer list built from
``hidden_layer_sizes`` and trained by the same code as
:class:`~sknets.NeuralNetClassifier`'s layers.

References
----------
.. [1] D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning
   representations by back-propagating errors", Nature 323, 1986.
.. [2] X. Glorot and Y. Bengio, "Understanding the difficulty of training
   deep feedforward neural networks", AISTATS 2010.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseNetwork
from ._classifier import NetworkClassifierMixin
from ._dispatch import validation_dtypes
from ._docs import _fill_doc
from ._features import NetworkFeaturesMixin
from ._regressor import NetworkRegressorMixin
from ._set_output import FeatureNamesOutMixin
from ._solvers import SolverMixin
from .layers import Activation, BatchNormalization, Dense, Dropout


def dense_layers(sizes, activation, *, dropout=0.0, batch_normalization=False,
                 initializer="glorot_uniform", init_factor=6.0):
    """The presets' hidden dense stack, one block per size.

    Each block is ``Dense(units)``, then ``BatchNormalization()`` (with
    ``batch_normalization``), ``Activation(activation)`` and ``Dropout(dropout)``
    (with ``dropout > 0``).

    Parameters
    ----------
    sizes : list of int
        Units of each hidden layer.
    activation : str
        Activation of every block.
    dropout : float, default=0.0
    batch_normalization : bool, default=False
    initializer, init_factor :
        Passed to each :class:`~sknets.layers.Dense`.

    Returns
    -------
    layers : list of Layer
    """
    layers = []
    for units in sizes:
        layers.append(Dense(units, initializer=initializer, init_factor=init_factor))
        if batch_normalization:
            layers.append(BatchNormalization())
        layers.append(Activation(activation))
        if dropout > 0:
            layers.append(Dropout(dropout))
    return layers


def check_sizes(value, name):
    """``value`` (an int or ints) as a list of positive ints, else ValueError."""
    sizes = list(value) if hasattr(value, "__iter__") else [value]
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"{name} must be positive integers (one per layer), got {value!r}.")
    return [int(s) for s in sizes]


def _sizes_or_value(value):
    """Layer sizes as a tuple of ints when they are valid (``100`` and
    ``(100,)`` are the same network), else the value as given."""
    try:
        return tuple(check_sizes(value, "sizes"))
    except (TypeError, ValueError):
        return value


class BaseMLP(FeatureNamesOutMixin, NetworkFeaturesMixin, SolverMixin, BaseNetwork):
    """Shared parts of the MLP classifier and regressor (not for direct use)."""

    _parameter_constraints: dict = {
        **SolverMixin._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_normalization": ["boolean"],
    }

    _architecture_params = BaseNetwork._architecture_params + (
        "hidden_layer_sizes", "activation", "dropout", "batch_normalization")

    def _architecture(self):
        arch = super()._architecture()
        arch["hidden_layer_sizes"] = _sizes_or_value(self.hidden_layer_sizes)
        return arch

    def _hidden_layers(self, input_shape):
        # scikit-learn draws every layer with Glorot's factor 2 for logistic units.
        factor = 2.0 if self.activation == "logistic" else 6.0
        return dense_layers(check_sizes(self.hidden_layer_sizes, "hidden_layer_sizes"),
                            self.activation, dropout=self.dropout,
                            batch_normalization=self.batch_normalization, init_factor=factor)

    def _fit(self, X, y, sample_weight=None, incremental=False, **kwargs):
        check_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        return super()._fit(X, y, sample_weight=sample_weight, incremental=incremental, **kwargs)

    def _validated_X(self, X):
        return validate_data(self, X, accept_sparse=["csr", "csc"],
                             dtype=validation_dtypes(X), reset=False)

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; converted to ``dtype`` for the computation.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (class labels, or indicator rows for multilabel).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On NaN/inf input, invalid hyper-parameters, or divergence
            without early stopping (:class:`~sknets.exceptions.DivergenceError`).
        """
        self._validate_params()
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)


@_fill_doc
class MLPClassifierScratch(NetworkClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier, written from scratch.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`. The output is
    a softmax over classes with cross-entropy (multiclass), or one sigmoid per
    output with binary cross-entropy (binary and multilabel), both computed on
    logits.

    Parameters
    ----------
    %(params)s

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.

    %(attrs)s

    See Also
    --------
    sklearn.neural_network.MLPClassifier : the scikit-learn counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import MLPClassifierScratch
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifierScratch(max_iter=50, random_state=0).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dropout=0.0, batch_normalization=False,
                 backend=None, dtype=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.backend = backend
        self.dtype = dtype


@_fill_doc
class MLPRegressorScratch(NetworkRegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor, written from scratch.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`: identity
    output with half squared error, or exponential output with half Poisson
    deviance.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        Loss to minimise. With several outputs the squared error is summed
        over outputs (see :mod:`sknets.losses`).

    %(params)s

    Attributes
    ----------
    %(attrs)s

    See Also
    --------
    sklearn.neural_network.MLPRegressor : the scikit-learn counterpart.
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dropout=0.0, batch_normalization=False,
                 backend=None, dtype=None):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.backend = backend
        self.dtype = dtype
