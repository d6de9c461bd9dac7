"""Multilayer perceptrons trained by back-propagation.

Drop-in replacements for :class:`sklearn.neural_network.MLPClassifier` and
:class:`sklearn.neural_network.MLPRegressor`: the same parameters, defaults,
fitted attributes and methods, plus ``backend`` (NumPy or CuPy), ``dtype``
(by default the input's floating dtype, as scikit-learn), mini-batched prediction, a per-epoch ``history_``,
``summary()`` and a clear error when training diverges.

References
----------
.. [1] D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning
   representations by back-propagating errors", Nature 323, 1986.
.. [2] X. Glorot and Y. Bengio, "Understanding the difficulty of training
   deep feedforward neural networks", AISTATS 2010.
"""

from numbers import Integral

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._base import BaseNetwork
from ._docs import _fill_doc
from ._classifier import NetworkClassifierMixin
from ._dispatch import accepts_cupy, returns_input_namespace, validation_dtypes
from .backend import to_numpy
from .layers import Activation, Dense
from .losses import PoissonDeviance, SquaredError


class BaseMLP(BaseNetwork):
    """Shared parts of the MLP classifier and regressor (not for direct use)."""

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
    }

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers (one per hidden layer), "
                f"got {self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _build_layers(self, input_shape, n_outputs):
        # scikit-learn draws every layer with Glorot's factor 2 for logistic units.
        factor = 2.0 if self.activation == "logistic" else 6.0
        layers = []
        for units in self._hidden_layer_sizes():
            layers += [Dense(units, init_factor=factor), Activation(self.activation)]
        layers.append(Dense(n_outputs, init_factor=factor))
        return layers

    def _fit(self, X, y, sample_weight=None, incremental=False):
        self._hidden_layer_sizes()
        return super()._fit(X, y, sample_weight=sample_weight, incremental=incremental)

    def _sync_fitted_attributes(self):
        dense = [layer for layer in self._network.layers if isinstance(layer, Dense)]
        self.coefs_ = [self._to_attribute_namespace(layer.params["W"]) for layer in dense]
        self.intercepts_ = [self._to_attribute_namespace(layer.params["b"]) for layer in dense]
        self.n_layers_ = len(dense) + 1

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
                 n_iter_no_change=10, max_fun=15000, backend=None, dtype=None):
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
        self.backend = backend
        self.dtype = dtype


@_fill_doc
class MLPRegressorScratch(RegressorMixin, BaseMLP):
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
                 n_iter_no_change=10, max_fun=15000, backend=None, dtype=None):
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
        self.backend = backend
        self.dtype = dtype

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=validation_dtypes(X), reset=reset)
        y = to_numpy(y)  # targets are handled on the host
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        return X, y

    def _make_loss(self, Y):
        return PoissonDeviance() if self.loss == "poisson" else SquaredError()

    def _decode_targets(self, Y):
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _score_from_output(self, out, y, sample_weight):
        if not np.isfinite(out).all():
            return np.nan
        return r2_score(y, self._decode_targets(out), sample_weight=sample_weight)

    def _score(self, X, y, sample_weight=None):
        return self._score_from_output(self._forward_output(X), y, sample_weight)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    score = accepts_cupy(RegressorMixin.score)

    @returns_input_namespace
    def predict(self, X):
        """Predict target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._decode_targets(self._forward_output(self._validated_X(X)))
