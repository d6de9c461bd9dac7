"""The shared estimator base.

Every sknets estimator is a network of layers (:class:`~sknets.network.Sequential`)
trained by :meth:`BaseNetwork._fit`: input validation (scikit-learn's own
helpers) -> move to the backend -> the one training loop
(:class:`~sknets._training.TrainingLoop`: mini-batches -> forward -> loss ->
backward -> optimizer step -> history). Subclasses say which layers to stack,
which loss to use and how targets are encoded.
"""

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._checks import check_finite_output, check_input_range
from ._dispatch import (_to_numpy_tree, dispatch_backend, float_dtype_name, host_copy,
                        to_namespace)
from ._html_repr import NetworkDiagramMixin
from ._persistence import VersionedPickleMixin
from ._training import STOCHASTIC_SOLVERS, TrainingLoop
from .backend import get_backend, is_array, to_numpy
from .callbacks import CallbackSupportMixin, FitTasks, with_callbacks
from .layers import Dense
from .network import Sequential, format_summary

#: rows per forward pass at predict time: memory stays bounded for any n_samples.
PREDICT_BATCH_ROWS = 2048


class BaseNetwork(VersionedPickleMixin, NetworkDiagramMixin, TrainingLoop, CallbackSupportMixin,
                  BaseEstimator, metaclass=ABCMeta):
    """Base class of the sknets network estimators (not for direct use).

    Holds the training parameters shared by every estimator, with
    scikit-learn's ``MLPClassifier`` names, defaults and meanings, plus
    ``backend`` and ``dtype``.
    """

    _parameter_constraints: dict = {
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "backend": [StrOptions({"numpy", "cupy", "auto"}), None],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64}),
                  None],
    }

    #: rows per forward pass at predict time (subclasses with large
    #: activations per row, e.g. convolutions, use fewer).
    _predict_batch_rows = PREDICT_BATCH_ROWS

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _hidden_layers(self, input_shape):
        """Return new (unbuilt) layers mapping one sample of ``input_shape`` to
        the features the output layer sees: a preset's own, or clones of the
        user's ``layers``."""

    def _output_layer(self, n_outputs):
        """The ``Dense`` layer of ``n_outputs`` logits the estimator adds."""
        # scikit-learn draws Glorot's weights with factor 2 for logistic units.
        factor = 2.0 if getattr(self, "activation", None) == "logistic" else 6.0
        return Dense(n_outputs, init_factor=factor)

    def _build_layers(self, input_shape, n_outputs):
        """The network's layers: the hidden ones, then the output layer (the
        one code path of every estimator: presets and user-given layers)."""
        return list(self._hidden_layers(input_shape)) + [self._output_layer(n_outputs)]

    @abstractmethod
    def _make_loss(self, Y):
        """Return the :class:`~sknets.losses.Loss` for encoded targets ``Y``."""

    @abstractmethod
    def _validate_input(self, X, y, incremental, reset):
        """Validate ``X, y``; return ``X`` (2-D) and encoded targets ``Y``."""

    @abstractmethod
    def _decode_targets(self, Y):
        """Targets in the user's encoding, from encoded ``Y`` (for scoring)."""

    @abstractmethod
    def _score(self, X, y, sample_weight=None):
        """Score of validated ``X`` against ``y`` (accuracy or R²)."""

    def _input_shape(self, n_features):
        """One sample's shape as the first layer sees it."""
        return (n_features,)

    # ---------------------------------------------------------------- backend
    def _compute_dtype(self):
        """The floating dtype of the computation: the fitted network's; before
        fit, ``dtype`` when set, else float64 (what array-likes become)."""
        fitted = getattr(self, "_fit_dtype", None)
        if fitted is not None:
            return fitted
        return np.dtype(np.float64 if self.dtype is None else self.dtype)

    def _new_fit_dtype(self, X):
        """The compute dtype a new fit on validated ``X`` will use."""
        return np.dtype(float_dtype_name(X) if self.dtype is None else self.dtype)

    def _resolve_dtype(self, X):
        """Set the compute dtype of a new fit from validated ``X``.

        ``dtype`` when set; with ``dtype=None``, the input's floating dtype
        (float32 stays float32; validation has turned everything else into
        float64), as scikit-learn's estimators do.
        """
        self._fit_dtype = self._new_fit_dtype(X)
        return self._fit_dtype

    def _select_backend(self, X=None):
        """The backend to compute on for input ``X``.

        ``backend`` when set; with ``backend=None``, ``X``'s own namespace under
        scikit-learn's array-API dispatch (e.g. array_api_strict, CuPy), else
        ``sknets.get_config()["backend"]``. Raises (at fit) when ``"cupy"`` is
        asked for without CuPy or without a GPU.
        """
        if self.backend is None and X is not None:
            followed = dispatch_backend(X)
            if followed is not None:
                return followed
        return get_backend(self.backend)

    def _predict_backend(self, X):
        """The backend to predict on: as :meth:`_select_backend`, but a model
        loaded where its backend is unavailable (e.g. fitted on a GPU, loaded
        without CuPy) predicts where its weights are, with a warning."""
        try:
            return self._select_backend(X)
        except (ImportError, RuntimeError) as exc:
            current = self._network.backend
            warnings.warn(f"{exc} Predicting with the {current.name!r} backend instead.",
                          UserWarning, stacklevel=3)
            return current

    def _to_attribute_namespace(self, a):
        """A fitted array as users read it (``coefs_``, ``coef_``...): NumPy, or
        the namespace and device of fit's input under array-API dispatch."""
        return to_namespace(a, getattr(self, "_attribute_backend", None))

    @property
    def _namespace_reference_(self):
        """A public fitted array (not ``classes_``): its namespace and device are
        those of fit's input; ``check_same_namespace`` compares inputs with it."""
        for key, value in vars(self).items():
            if key.startswith("_") or not key.endswith("_") or key in (
                    "classes_", "feature_names_in_"):
                continue
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if is_array(v):
                    return v
        return None

    def _check_solver(self):
        """True for stochastic solvers; ``AttributeError`` hides ``partial_fit`` otherwise."""
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _place(self, backend):
        """Make sure the network and optimizer state live on ``backend``."""
        self._network.to(backend)
        if getattr(self, "_optimizer", None) is not None:
            self._optimizer.to(backend)

    # ------------------------------------------------------------------- fit
    @with_callbacks
    def _fit(self, X, y, sample_weight=None, incremental=False):
        # CuPy inputs without array-API dispatch are validated on the host.
        X, y, sample_weight = host_copy(X), host_copy(y), host_copy(sample_weight)
        X_in, y_in = X, y  # what callbacks see (e.g. ScoringMonitor scores on them)
        first_pass = not hasattr(self, "_network") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        # Targets and weights are encoded on the host (NumPy) and moved to the
        # backend once; X stays in its namespace (array-API dispatch) until then.
        Y = to_numpy(Y)
        if sample_weight is not None:
            sample_weight = to_numpy(_check_sample_weight(sample_weight, X, dtype=X.dtype))
        if Y.ndim == 1:
            Y = Y.reshape((-1, 1))
        backend = self._select_backend(X)
        # Fitted attributes follow X's namespace under array-API dispatch, else NumPy.
        self._attribute_backend = dispatch_backend(X)
        self._random_state = check_random_state(self.random_state)
        # e.g. 1e39 computed in float32: refused before anything is built
        check_input_range(X, self._new_fit_dtype(X) if first_pass else self._compute_dtype())
        if first_pass:
            self._resolve_dtype(X)
            self._initialize(X, Y, backend)
        else:
            if Y.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {Y.shape[1]} outputs but the fitted model has {self.n_outputs_}."
                )
            self._place(backend)

        if self.solver in STOCHASTIC_SOLVERS:
            tasks = FitTasks(self, X_in, y_in, sample_weight, 1 if incremental else self.max_iter)
            self._fit_stochastic(X, Y, sample_weight, backend, incremental, tasks)
        else:
            tasks = FitTasks(self, X_in, y_in, sample_weight, None)
            self._fit_lbfgs(X, Y, sample_weight, backend, tasks)
        self._sync_fitted_attributes()
        tasks.end()
        return self

    def _initialize(self, X, Y, backend):
        dtype = self._compute_dtype()
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self._loss = self._make_loss(Y)
        self.out_activation_ = self._loss.out_activation
        layers = self._build_layers(self._input_shape(X.shape[1]), self.n_outputs_)
        self._network = Sequential(layers).build(
            self._input_shape(X.shape[1]), backend, dtype, self._random_state
        )
        self._optimizer = None
        self.history_ = []
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.solver in STOCHASTIC_SOLVERS and self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._best_weights = None

    # ------------------------------------------------------------- predicting
    def _forward_logits(self, X, backend):
        """Logits for validated 2-D ``X``, in batches of PREDICT_BATCH_ROWS rows."""
        dtype = self._compute_dtype()
        outs = []
        for s in gen_batches(X.shape[0], self._predict_batch_rows):
            Xb = X[s].toarray() if sp.issparse(X) else X[s, ...]
            outs.append(self._network.forward(backend.asarray(Xb, dtype=dtype)))
        if len(outs) == 1:
            return outs[0]
        return backend.xp.concat(outs, axis=0)

    def _forward_output(self, X, fn=None, layers=None):
        """``fn(xp, logits)`` (default: the output activation) as NumPy, in batches.

        ``layers``: run only these (e.g. all but the output layer), in order.
        Raises ``ValueError`` for ``X`` beyond the compute dtype's range, and
        for a non-finite result (activations that overflowed).
        """
        check_input_range(X, self._compute_dtype())
        backend = self._predict_backend(X)
        self._place(backend)
        xp = backend.xp
        fn = self._loss.output if fn is None else fn
        outs = []
        dtype = self._compute_dtype()
        for s in gen_batches(X.shape[0], self._predict_batch_rows):
            Xb = X[s].toarray() if sp.issparse(X) else X[s, ...]
            z = backend.asarray(Xb, dtype=dtype)
            if layers is None:
                z = self._network.forward(z)
            else:
                for layer in layers:
                    z = layer.forward(z)
            outs.append(backend.to_numpy(fn(xp, z)))
            check_finite_output(outs[-1], X, dtype)
        return np.concatenate(outs, axis=0) if len(outs) > 1 else outs[0]

    # --------------------------------------------------------------- fitted
    def _sync_fitted_attributes(self):
        """``coefs_`` and ``intercepts_`` of the layers with weights ``W`` and
        ``b`` (dense and convolution layers), in the attributes' namespace,
        and ``n_layers_`` as scikit-learn's MLPs count (those layers, plus
        one for the input)."""
        layers = [layer for layer in self._network.layers
                  if "W" in layer.params and "b" in layer.params]
        self.coefs_ = [self._to_attribute_namespace(layer.params["W"]) for layer in layers]
        self.intercepts_ = [self._to_attribute_namespace(layer.params["b"]) for layer in layers]
        self.n_layers_ = len(layers) + 1

    def summary(self, input_shape=None, n_outputs=None, print_fn=print):
        """Print and return a table of the layers (Keras' ``model.summary()`` style).

        One row per layer: its description, one sample's output shape
        (``None`` stands for the batch axis) and its parameter count; then the
        total and trainable parameter counts and the memory the weights take.

        Parameters
        ----------
        input_shape : tuple of int or None, default=None
            One sample's input shape, e.g. ``(n_features,)``. Required for an
            unfitted estimator: the layers are then built on the CPU with a
            throwaway ``RandomState`` (the estimator is left unchanged). A
            fitted estimator describes its own network when it is None.
        n_outputs : int or None, default=None
            Units of the output layer when building from ``input_shape``
            (e.g. the number of classes); default: the fitted ``n_outputs_``,
            else 1.
        print_fn : callable or None, default=print
            Called with the table; ``None`` only returns it.

        Returns
        -------
        table : str

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted and ``input_shape`` is None.
        ValueError
            If ``input_shape`` or ``n_outputs`` is not made of positive ints.
        """
        if input_shape is None:
            check_is_fitted(self, "_network")
            net = self._network
        else:
            net = self._throwaway_network(input_shape, n_outputs)
        text = format_summary(net.summary_rows(), net.input_shape_, self._compute_dtype())
        if print_fn is not None:
            print_fn(text)
        return text

    def _throwaway_network(self, input_shape, n_outputs=None):
        """The network built for ``input_shape`` on NumPy, without fitting."""
        if isinstance(input_shape, Integral):
            input_shape = (input_shape,)
        shape = tuple(input_shape)
        if n_outputs is None:
            n_outputs = getattr(self, "n_outputs_", 1)
        if not shape or not all(isinstance(d, Integral) and d > 0 for d in shape + (n_outputs,)):
            raise ValueError(
                "summary() needs input_shape as a tuple of positive ints (one sample's "
                f"shape, no batch axis) and a positive int n_outputs; got "
                f"input_shape={input_shape!r}, n_outputs={n_outputs!r}."
            )
        if len(shape) == 1:
            shape = tuple(self._input_shape(int(shape[0])))
        layers = self._build_layers(shape, int(n_outputs))
        return Sequential(layers).build(
            shape, get_backend("numpy"), self._compute_dtype(), np.random.RandomState(0)
        )

    def __getstate__(self):
        # A pickle holds NumPy arrays only, whatever namespace or device the
        # model was fitted on (layers and optimizers convert their own state):
        # it loads and predicts on a machine without CuPy.
        state = super().__getstate__()
        state.pop("_attribute_backend", None)
        return {k: _to_numpy_tree(v) for k, v in state.items()}

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_network")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # The numeric core follows the input's namespace under array-API dispatch.
        tags.array_api_support = True
        return tags
