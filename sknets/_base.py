"""The shared estimator base.

Every sknets estimator is a network of layers (:class:`~sknets.network.Sequential`)
fitted by :meth:`BaseNetwork._fit`: validate the input (scikit-learn's own
helpers), build a new fitted state (:class:`~sknets.training.FitState`) or a
copy of the fitted one to train further, run a trainer on it
(:mod:`sknets.training`), and commit it in one step (:meth:`BaseNetwork._commit`,
the only place fitted attributes are assigned). An exception before the commit
leaves the estimator exactly as it was. Prediction runs on per-call placed
copies of the network and never changes the estimator. Subclasses say which
layers to stack, which loss to use and how targets are encoded.
"""

import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._checks import check_finite_output, check_input_range
from ._dispatch import _to_numpy_tree, dispatch_backend, float_dtype_name, host_copy
from ._html_repr import NetworkDiagramMixin
from ._interrupt import INTERRUPTED
from ._persistence import VersionedPickleMixin
from ._sparse import input_rows
from ._summary import SummaryMixin
from ._warm_start import check_unchanged
from .backend import get_backend, is_array, to_numpy
from .callbacks import CallbackSupportMixin, FitTasks, with_callbacks
from .layers import Dense

#: rows per forward pass at predict time: memory stays bounded for any n_samples.
PREDICT_BATCH_ROWS = 2048
#: Sparse input to a first layer that takes it: a prediction batch holds as
#: many rows as keep the widest activation within this many bytes (the rows
#: stay sparse, so slicing them into small batches is pure overhead).
SPARSE_PREDICT_BATCH_BYTES = 64 * 2**20


class BaseNetwork(VersionedPickleMixin, NetworkDiagramMixin, SummaryMixin, CallbackSupportMixin,
                  BaseEstimator, metaclass=ABCMeta):
    """Base class of the sknets network estimators (not for direct use).

    Holds the training parameters shared by every estimator, with
    scikit-learn's ``MLPClassifier`` names, defaults and meanings, plus
    ``backend`` and ``dtype``. A subclass provides the abstract hooks below;
    the classifier and regressor mixins (:mod:`sknets._classifier`,
    :mod:`sknets._regressor`) provide the target-side ones.
    """

    _parameter_constraints: dict = {
        "backend": [StrOptions({"numpy", "numba", "cupy", "auto"}), None],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64}),
                  None],
    }

    #: rows per forward pass at predict time (subclasses with large
    #: activations per row, e.g. convolutions, use fewer).
    _predict_batch_rows = PREDICT_BATCH_ROWS

    #: the parameters that define the network's shapes, layers, dtype and
    #: backend: a warm start or ``partial_fit`` may not change them.
    _architecture_params = ("dtype", "backend")

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _hidden_layers(self, input_shape):
        """Return new (unbuilt) layers mapping one sample of ``input_shape`` to
        the features the output layer sees: a preset's own, or clones of the
        user's ``layers``."""

    @abstractmethod
    def _make_loss(self, Y):
        """Return the :class:`~sknets.losses.Loss` for encoded targets ``Y``."""

    @abstractmethod
    def _validate_input(self, X, y, incremental, reset, classes=None):
        """Validate ``X, y`` (and set the encoding attributes when ``reset``);
        return ``X`` (2-D) and encoded targets ``Y``. Called on a copy of the
        estimator, so what it sets is committed only with the fit."""

    @abstractmethod
    def _validated_X(self, X):
        """Validate ``X`` at predict time: 2-D rows of ``n_features_in_`` values."""

    @abstractmethod
    def _decode_targets(self, Y):
        """Targets in the user's encoding, from encoded ``Y`` (for scoring)."""

    @abstractmethod
    def _score_from_output(self, output, y, sample_weight):
        """Score (accuracy, R²) of the output activation's values against ``y``."""

    @abstractmethod
    def _start_state(self, X, Y, backend, dtype, random_state, continues, incremental):
        """The :class:`~sknets.training.FitState` this fit trains: a copy of the
        fitted one (``continues``) or a new one, for validated ``X`` and
        encoded ``Y``. Called on the copy holding this fit's encoding."""

    @abstractmethod
    def _train(self, state, X, Y, sample_weight, incremental, tasks, random_state):
        """Run the estimator's trainer on ``state``; True when Ctrl-C stopped it."""

    @abstractmethod
    def _fitted_attributes(self, state):
        """Every fitted attribute of ``state``, by name (what the commit sets)."""

    @abstractmethod
    def _max_subtasks(self, incremental):
        """Epochs of this call for the callbacks (None when unknown)."""

    def _output_layer(self, n_outputs):
        """The ``Dense`` layer of ``n_outputs`` logits the estimator adds."""
        # scikit-learn draws Glorot's weights with factor 2 for logistic units.
        factor = 2.0 if getattr(self, "activation", None) == "logistic" else 6.0
        return Dense(n_outputs, init_factor=factor)

    def _build_layers(self, input_shape, n_outputs):
        """The network's layers: the hidden ones, then the output layer (the
        one code path of every estimator: presets and user-given layers)."""
        return list(self._hidden_layers(input_shape)) + [self._output_layer(n_outputs)]

    def _input_shape(self, n_features):
        """One sample's shape as the first layer sees it."""
        return (n_features,)

    def _encoding_names(self):
        """The attributes validation and target encoding set (committed with
        the fit): subclasses add theirs (``classes_``, a sample shape...)."""
        return ("n_features_in_", "feature_names_in_")

    def _encoding(self):
        """The values of :meth:`_encoding_names` that validation set."""
        return {k: getattr(self, k) for k in self._encoding_names() if hasattr(self, k)}

    def _architecture(self):
        """The values of the parameters that define the network (see
        :mod:`sknets._warm_start`)."""
        return {name: getattr(self, name) for name in self._architecture_params}

    # ---------------------------------------------------------- fitted state
    def __sklearn_is_fitted__(self):
        return "_state" in vars(self)

    @property
    def _network(self):
        """The fitted network (read-only view of the fitted state)."""
        return self.__dict__["_state"].network if "_state" in vars(self) else _missing("_network")

    @property
    def _loss(self):
        return self.__dict__["_state"].loss if "_state" in vars(self) else _missing("_loss")

    @property
    def _optimizer(self):
        return self._state.optimizer if "_state" in vars(self) else None

    @property
    def _best_weights(self):
        return self._state.best_weights if "_state" in vars(self) else None

    @property
    def _attribute_backend(self):
        return self._state.attribute_backend if "_state" in vars(self) else None

    def _compute_dtype(self):
        """The floating dtype of the computation: the fitted network's; before
        fit, ``dtype`` when set, else float64 (what array-likes become)."""
        if "_state" in vars(self):
            return self._state.dtype
        return np.dtype(np.float64 if self.dtype is None else self.dtype)

    def _new_fit_dtype(self, X):
        """The compute dtype a new fit on validated ``X`` uses: ``dtype`` when
        set, else the input's floating dtype (as scikit-learn's estimators)."""
        return np.dtype(float_dtype_name(X) if self.dtype is None else self.dtype)

    # ---------------------------------------------------------------- backend
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

    # ------------------------------------------------------------------- fit
    def _continues(self, incremental):
        """Whether this fit trains the fitted network further."""
        return self.__sklearn_is_fitted__() and (self.warm_start or incremental)

    def _resets(self, incremental):
        """Whether this fit validates anew (``reset``) and encodes targets anew."""
        return not self._continues(incremental)

    @with_callbacks
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None, **init):
        # CuPy inputs without array-API dispatch are validated on the host.
        X, y, sample_weight = host_copy(X), host_copy(y), host_copy(sample_weight)
        X_in, y_in = X, y  # what callbacks see (e.g. ScoringMonitor scores on them)
        continues = self._continues(incremental)
        if continues:   # refused before anything is done
            check_unchanged(self._state.architecture, self._architecture(), incremental)
        # Validation and target encoding set attributes: on a copy, committed
        # with the fit (or dropped with it).
        staged = object.__new__(type(self))   # not copy.copy: __getstate__ converts arrays
        vars(staged).update(vars(self))
        X, Y = staged._validate_input(X, y, incremental, self._resets(incremental), classes)
        Y = to_numpy(Y)   # encoded on the host, moved to the backend once
        Y = Y.reshape((-1, 1)) if Y.ndim == 1 else Y
        sample_weight = staged._fit_sample_weight(sample_weight, X)
        backend = self._select_backend(X)
        random_state = check_random_state(self.random_state)
        dtype = self._state.dtype if continues else self._new_fit_dtype(X)
        check_input_range(X, dtype)   # e.g. 1e39 computed in float32
        state = staged._start_state(X, Y, backend, dtype, random_state, continues,
                                    incremental, **init)
        tasks = FitTasks(self, X_in, y_in, sample_weight, self._max_subtasks(incremental),
                         snapshot=lambda: staged._fitted_attributes(state.snapshot()))
        interrupted = staged._train(state, X, Y, sample_weight, incremental, tasks,
                                    random_state)
        self._commit(staged._fitted_attributes(state))
        tasks.end()
        if interrupted:
            self._reraise_interrupt(state)
        return self

    def _fit_sample_weight(self, sample_weight, X):
        """Validated sample weights as NumPy (or None)."""
        if sample_weight is None:
            return None
        return to_numpy(_check_sample_weight(sample_weight, X, dtype=X.dtype))

    def _commit(self, attributes):
        """Make ``attributes`` (:meth:`_fitted_attributes`) the fitted state, in
        one step: the previous fit's attributes are all replaced."""
        stale = [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]
        previous = self.__dict__.get("_state")
        if previous is not None:
            stale += [k for k in previous.encoding if k in vars(self)]
        for key in set(stale) | {"_state"}:
            self.__dict__.pop(key, None)
        vars(self).update(attributes)

    def _reraise_interrupt(self, state):
        """After a Ctrl-C: the usable model is committed; warn, then raise
        ``KeyboardInterrupt`` so that a search, a cross-validation or a
        ``partial_fit`` loop around this fit stops too."""
        message = state.closing_message or f"Stopped: {INTERRUPTED}"
        warnings.warn(f"Training {message[0].lower()}{message[1:]} The model fitted up to "
                      "there is usable; the KeyboardInterrupt is raised again.",
                      UserWarning, stacklevel=4)
        raise KeyboardInterrupt(message)

    # ------------------------------------------------------------- predicting
    def _forward_output(self, X, fn=None, stop=None):
        """``fn(xp, logits)`` (default: the output activation) as NumPy, in batches.

        Runs on copies of the network placed for this call (the estimator is
        not changed). ``stop``: run only ``layers[:stop]`` (e.g. -1: all but
        the output layer). Raises ``ValueError`` for ``X`` beyond the compute
        dtype's range, and for a non-finite result (activations that
        overflowed).
        """
        dtype = self._compute_dtype()
        check_input_range(X, dtype)
        backend = self._predict_backend(X)
        net = self._network.placed(backend)
        if stop is not None:
            net = net._of(net.layers[:stop], backend)
        xp = backend.xp
        fn = self._loss.output if fn is None else fn
        outs = []
        for s in gen_batches(X.shape[0], self._predict_rows(net, X, dtype)):
            # a sparse X stays sparse for a first Dense layer (densified by
            # the batch before any other)
            z = net.forward(input_rows(X, s, backend, dtype))
            outs.append(backend.to_numpy(fn(xp, z)))
            check_finite_output(outs[-1], X, dtype)
        return np.concatenate(outs, axis=0) if len(outs) > 1 else outs[0]

    def _predict_rows(self, net, X, dtype):
        """Rows per prediction batch: ``_predict_batch_rows``; for sparse
        ``X`` into a layer that takes it, as many as keep the widest layer
        output within ``SPARSE_PREDICT_BATCH_BYTES``."""
        rows = self._predict_batch_rows
        if sp.issparse(X) and net.layers and net.layers[0].accepts_sparse:
            widest = max((int(np.prod(layer.output_shape_)) for layer in net.layers
                          if getattr(layer, "output_shape_", None)), default=1)
            rows = max(rows, SPARSE_PREDICT_BATCH_BYTES // (max(widest, 1) * dtype.itemsize))
        return rows

    # --------------------------------------------------------------- pickling
    def __getstate__(self):
        # A pickle holds NumPy arrays only, whatever namespace or device the
        # model was fitted on (layers and optimizers convert their own state):
        # it loads and predicts on a machine without CuPy.
        state = super().__getstate__()
        return {k: _to_numpy_tree(v) for k, v in state.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # The numeric core follows the input's namespace under array-API dispatch.
        tags.array_api_support = True
        return tags


def _missing(name):
    raise AttributeError(f"{name}: the estimator is not fitted")
