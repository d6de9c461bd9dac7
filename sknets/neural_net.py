"""Networks built from a plain list of layers, as first-class estimators.

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` take
``layers``, a list of :mod:`sknets.layers` specifications (optionally named:
``("drop", Dropout(0.5))``), add the output layer (its width from
``classes_`` or the targets) and the loss, and train with the same loop,
solvers, early stopping, callbacks, backends and dtype rules as the presets
(:class:`~sknets.MLPClassifierScratch` and :class:`~sknets.ConvNetClassifier`
are such lists). A layer's hyper-parameters are nested parameters, as a
:class:`~sklearn.pipeline.Pipeline`'s steps: ``layers__1__rate`` (by
position) or ``layers__drop__rate`` (by name), so a grid search can tune
them. ``fit`` builds clones of the given layers and never changes them.

Inputs are flat rows ``(n_samples, n_features)``, or arrays of samples of
any shape, e.g. channels-last sequences ``(n_samples, timesteps, features)``
or images ``(n_samples, height, width, channels)``: those are flattened for
validation and the network starts with a :class:`~sknets.layers.Reshape`
back to the sample shape (``input_shape_``); at prediction, samples of
another shape are refused (scikit-learn's validation would only compare the
flat width).
"""

import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseNetwork
from ._classifier import NetworkClassifierMixin
from ._dispatch import validation_dtypes
from ._docs import _SHARED_ATTRS_DOC, _TRAINING_PARAMS_DOC
from ._features import NetworkFeaturesMixin
from ._layer_lists import LayerListsMixin
from ._regressor import NetworkRegressorMixin
from ._set_output import FeatureNamesOutMixin
from ._solvers import SolverMixin
from ._warm_start import layer_architecture
from .layers import Activation, Dense, Reshape

_LAYERS_DOC = """
    layers : list of Layer or of (str, Layer), default=None
        The hidden layers, in order, as :mod:`sknets.layers` specifications
        (``Dense``, ``Conv2D``, ``Conv1D``, pooling, ``GRU``, ``LSTM``,
        ``SimpleRNN``, ``Bidirectional``, ``Residual``, ``Embedding``,
        ``Flatten``, ``Reshape``, ``Activation``, ``Dropout``,
        ``BatchNormalization``...); a
        ``(name, layer)`` pair names a layer for nested parameters. The
        estimator adds the output layer and the loss. None means
        ``[Dense(100), Activation("relu")]``, the default MLP.
"""


class BaseNeuralNet(LayerListsMixin, FeatureNamesOutMixin, NetworkFeaturesMixin, SolverMixin,
                    BaseNetwork):
    """The layer-list networks' shared parts (not for direct use)."""

    _parameter_constraints: dict = {
        **SolverMixin._parameter_constraints,
        "layers": [list, tuple, None],
    }

    _layer_lists: dict = {"layers": lambda: [Dense(100), Activation("relu")]}

    def _architecture(self):
        arch = super()._architecture()
        arch.update(layer_architecture(self._named_layers(strict=False)))
        return arch

    def _encoding_names(self):
        return super()._encoding_names() + ("input_shape_",)

    def _hidden_layers(self, input_shape):
        layers = self._cloned_layers("layers")
        sample_shape = getattr(self, "input_shape_", None)
        if len(input_shape) == 1 and sample_shape is not None and len(sample_shape) > 1:
            layers.insert(0, Reshape(sample_shape))   # flat rows back to the samples' shape
        return layers

    # ------------------------------------------------------------- validation
    def _flatten_samples(self, X, fitting):
        """Samples of any shape ``(n, ...)`` to flat rows; 2-D input untouched.

        Returns the rows and one sample's shape (None for flat rows).
        """
        ndim = getattr(X, "ndim", None)
        if ndim is None and isinstance(X, (list, tuple)):
            probe = np.asarray(X)
            if probe.ndim > 2:
                X, ndim = probe, probe.ndim
        if ndim is None or ndim <= 2 or sp.issparse(X):
            return X, None
        shape = tuple(int(s) for s in X.shape[1:])
        fitted = getattr(self, "input_shape_", None)
        if not fitting and fitted is not None and shape != fitted:
            raise ValueError(
                f"X holds samples of shape {shape}, but {type(self).__name__} was fitted on "
                f"samples of shape {fitted} (or flat rows of {math.prod(fitted)} values)."
            )
        n = X.shape[0]
        if isinstance(X, np.ndarray):
            return X.reshape(n, -1), shape
        from array_api_compat import array_namespace

        return array_namespace(X).reshape(X, (n, math.prod(shape))), shape

    def _validate_samples(self, X, y, reset, y_numeric):
        X, shape = self._flatten_samples(X, fitting=reset)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=y_numeric, dtype=validation_dtypes(X), reset=reset)
        if reset:
            self.input_shape_ = shape or (X.shape[1],)
        return X, y

    def _validated_X(self, X):
        X, _ = self._flatten_samples(X, fitting=False)
        return validate_data(self, X, accept_sparse=["csr", "csc"],
                             dtype=validation_dtypes(X), reset=False)

    def fit(self, X, y, sample_weight=None):
        """Fit the network to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
(n_samples, ...)
            Flat rows, or samples of any shape (e.g. channels-last sequences
            ``(n_samples, timesteps, features)`` or images), computed in
            ``dtype`` (by default the input's floating dtype).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (class labels or indicator rows for the classifier).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On NaN/inf input, invalid hyper-parameters (the estimator's or a
            layer's, when it is built), layers that do not fit the input shape,
            or divergence without early stopping
            (:class:`~sknets.exceptions.DivergenceError`).
        TypeError
            If ``layers`` holds something other than layers.
        """
        self._validate_params()
        self._named_layers()
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)


_ATTRS_DOC = _SHARED_ATTRS_DOC.replace("""    n_features_in_ : int""",
                                       """    input_shape_ : tuple of int
        One sample's shape as fitted: ``(n_features,)`` for flat rows, the
        samples' shape for higher-dimensional input.

    n_features_in_ : int""")


def _fill(cls):
    cls.__doc__ = (cls.__doc__.replace("%(params)s", (_LAYERS_DOC + _TRAINING_PARAMS_DOC)
                                       .strip())
                   .replace("%(attrs)s", _ATTRS_DOC.strip()))
    return cls


@_fill
class NeuralNetClassifier(NetworkClassifierMixin, BaseNeuralNet):
    """A classifier network built from a list of layers.

    The given hidden ``layers``, then a ``Dense`` output layer with softmax
    cross-entropy (multiclass) or sigmoid cross-entropy (binary, multilabel),
    trained as :class:`~sknets.MLPClassifierScratch` is (same solvers,
    stopping rules, fitted attributes and methods, ``transform`` and
    ``feature_layers`` included).

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
    MLPClassifierScratch, ConvNetClassifier : presets of fixed layer lists.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import NeuralNetClassifier
    >>> from sknets.layers import Activation, Dense, Dropout
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = NeuralNetClassifier([Dense(64), Activation("relu"), ("drop", Dropout(0.2))],
    ...                           max_iter=30, random_state=0).fit(X / 16, y)
    >>> clf.get_params()["layers__drop__rate"]
    0.2
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    def __init__(self, layers=None, *, solver="adam", alpha=0.0001, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, backend=None,
                 dtype=None):
        self.layers = layers
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

    def _validate_X_y(self, X, y, reset):
        return self._validate_samples(X, y, reset, y_numeric=False)


@_fill
class NeuralNetRegressor(NetworkRegressorMixin, BaseNeuralNet):
    """A regressor network built from a list of layers.

    The given hidden ``layers``, then a ``Dense`` output layer with an
    identity output and half squared error (or an exponential output and
    half Poisson deviance), trained as :class:`~sknets.MLPRegressorScratch`
    is.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        Loss to minimise (see :class:`~sknets.MLPRegressorScratch`).

    %(params)s

    Attributes
    ----------
    %(attrs)s

    See Also
    --------
    MLPRegressorScratch : the preset of a fixed layer list.
    """

    _parameter_constraints: dict = {
        **BaseNeuralNet._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(self, layers=None, *, loss="squared_error", solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, backend=None,
                 dtype=None):
        self.layers = layers
        self.loss = loss
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

    def _validate_X_y(self, X, y, reset):
        return self._validate_samples(X, y, reset, y_numeric=True)
