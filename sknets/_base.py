"""The shared estimator base and the one training loop.

Every sknets estimator is a network of layers (:class:`~sknets.network.Sequential`)
trained by :meth:`BaseNetwork._fit`: input validation (scikit-learn's own
helpers) -> move to the backend -> mini-batches -> forward -> loss -> backward
-> optimizer step -> history. Subclasses say which layers to stack, which loss
to use and how targets are encoded.

The stochastic loop reproduces scikit-learn's ``BaseMultilayerPerceptron``
step by step (same initialisation, shuffling, validation split, stopping
rule and learning-rate schedules), so with ``dtype="float64"`` it trains to
the same weights as ``sklearn.neural_network.MLPClassifier``.
"""

import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import array_api_compat.numpy
import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._display import EpochTable, mark_best
from ._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .backend import (_to_numpy_tree, dispatch_backend, float_dtype_name, get_backend,
                      host_copy, is_array, read_back, take_rows, to_namespace, to_numpy)
from .callbacks import CallbackSupportMixin, FitTasks, with_callbacks
from .exceptions import DivergenceError
from .network import Sequential, format_summary
from .optimizers import OPTIMIZERS

_STOCHASTIC_SOLVERS = ("sgd", "adam")

#: scikit-learn's MLP message for non-finite weights (user code matches on it).
NON_FINITE_MESSAGE = ("Solver produced non-finite parameter weights. The input data may "
                      "contain large values and need to be preprocessed.")

#: rows per forward pass at predict time: memory stays bounded for any n_samples.
PREDICT_BATCH_ROWS = 2048


class BaseNetwork(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
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
    def _build_layers(self, input_shape, n_outputs):
        """Return the list of layers mapping one sample to ``n_outputs`` logits."""

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

    def _resolve_dtype(self, X):
        """Set the compute dtype of a new fit from validated ``X``.

        ``dtype`` when set; with ``dtype=None``, the input's floating dtype
        (float32 stays float32; validation has turned everything else into
        float64), as scikit-learn's estimators do.
        """
        self._fit_dtype = np.dtype(float_dtype_name(X) if self.dtype is None else self.dtype)
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
        if self.solver not in _STOCHASTIC_SOLVERS:
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
        if first_pass:
            self._resolve_dtype(X)
            self._initialize(X, Y, backend)
        else:
            if Y.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {Y.shape[1]} outputs but the fitted model has {self.n_outputs_}."
                )
            self._place(backend)

        if self.solver in _STOCHASTIC_SOLVERS:
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
        if self.solver in _STOCHASTIC_SOLVERS and self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._best_weights = None

    def _batch_loss_and_grads(self, Xb, Yb, swb):
        """Forward, loss (+ L2), backward for one batch; returns the loss (0-d)."""
        xp = self._network.backend.xp
        net = self._network
        z = net.forward(Xb, training=True)
        sw_sum = z.shape[0] if swb is None else xp.sum(swb)
        loss, dz = self._loss.loss_and_grad(xp, z, Yb, swb, sw_sum)
        net.backward(dz)
        if self.alpha > 0:
            scale = self.alpha / sw_sum
            penalty = 0.0
            for layer in net.layers:
                for k in layer.penalized:
                    if k in layer.params:
                        W = layer.params[k]
                        flat = xp.reshape(W, (-1,))
                        penalty = penalty + xp.vecdot(flat, flat)
                        layer.grads[k] += scale * W  # in place: no new gradient array
            loss = loss + (0.5 * self.alpha) * penalty / sw_sum
        return loss

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. "
                "It is going to be clipped"
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _fit_stochastic(self, X, Y, sample_weight, backend, incremental, tasks=None):
        net = self._network
        xp = backend.xp
        dtype = self._compute_dtype()
        if not incremental or self._optimizer is None:
            params = net.params
            if self.solver == "sgd":
                self._optimizer = OPTIMIZERS["sgd"](
                    params, self.learning_rate_init, self.learning_rate,
                    self.momentum, self.nesterovs_momentum, self.power_t,
                )
            else:
                self._optimizer = OPTIMIZERS["adam"](
                    params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon,
                )
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        sw_train = sw_val = None
        if early_stopping:
            # The binary target as a bool, as scikit-learn stratifies (the same
            # split, and its message when a class is too small to split).
            stratify = Y.astype(bool) if (is_classifier(self) and self.n_outputs_ == 1) else None
            # Split row indices (the same rows as splitting the arrays), so X can
            # be of any namespace; Y and sample_weight are NumPy here.
            train, val = train_test_split(
                np.arange(X.shape[0]), random_state=self._random_state,
                test_size=self.validation_fraction, stratify=stratify,
            )
            X_train, X_val = take_rows(X, train), take_rows(X, val)
            Y_train, Y_val = Y[train], Y[val]
            if sample_weight is not None:
                sw_train, sw_val = sample_weight[train], sample_weight[val]
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            y_val = self._decode_targets(Y_val)
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight
            X_val = y_val = None

        n_samples = X_train.shape[0]
        batch_size = self._batch_size(n_samples)
        sparse_X = sp.issparse(X_train)
        X_dev = X_train if sparse_X else backend.asarray(X_train, dtype=dtype)
        Y_dev = backend.asarray(Y_train, dtype=dtype)
        sw_dev = None if sw_train is None else backend.asarray(sw_train, dtype=dtype)
        if early_stopping:  # the validation inputs too go to the device once, not per epoch
            X_val = X_val if sparse_X else backend.asarray(X_val, dtype=dtype)
        sample_idx = np.arange(n_samples)
        batches = list(gen_batches(n_samples, batch_size))
        tasks = FitTasks(self, None, None, None, 0) if tasks is None else tasks
        display = EpochTable() if self.verbose else None
        self.stop_reason_ = None
        interrupted = diverged = False

        interrupt = DeferredInterrupt().install()  # Ctrl-C: stop after the current batch
        try:
            # As scikit-learn: n_iter_ counts the epochs of this call only.
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                tic = time.perf_counter()
                snapshot = net.get_weights()
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                    idx_dev = None if sparse_X else backend.asarray(sample_idx)
                epoch_ctx = tasks.epoch_begin(len(batches))
                accumulated, seen = 0.0, 0
                for s in batches:
                    batch_ctx = tasks.batch_begin(epoch_ctx)
                    if sparse_X:
                        rows = sample_idx[s]
                        Xb = backend.asarray(X_dev[rows].toarray(), dtype=dtype)
                        Yb = xp.take(Y_dev, backend.asarray(rows), axis=0)
                        swb = None if sw_dev is None else xp.take(sw_dev, backend.asarray(rows), axis=0)
                    elif self.shuffle:
                        rows = idx_dev[s]
                        Xb = xp.take(X_dev, rows, axis=0)
                        Yb = xp.take(Y_dev, rows, axis=0)
                        swb = None if sw_dev is None else xp.take(sw_dev, rows, axis=0)
                    else:
                        Xb, Yb = X_dev[s, ...], Y_dev[s, ...]
                        swb = None if sw_dev is None else sw_dev[s]
                    batch_loss = self._batch_loss_and_grads(Xb, Yb, swb)
                    accumulated = accumulated + batch_loss * (s.stop - s.start)
                    seen = s.stop
                    self._optimizer.update_params(net.params, net.grads)
                    tasks.batch_end(batch_ctx)
                    interrupt.check()

                self.n_iter_ += 1
                # The loss is measured before each update: the epoch's last
                # step can still take the weights to inf/NaN, so check them too
                # (once per epoch, a reduction read back with the loss, in one
                # device-to-host copy).
                loss_sum, weights_ok = read_back(xp, accumulated, net.finite_flag())
                self.loss_ = loss_sum / n_samples
                if not (np.isfinite(self.loss_) and weights_ok):
                    net.set_weights(snapshot)
                    diverged = self._diverged(weights_ok, early_stopping, display, tic)
                    break
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                record = {"epoch": len(self.loss_curve_), "train_loss": self.loss_}
                if early_stopping:
                    record.update(self._validation_record(X_val, Y_val, y_val, sw_val))
                self._update_no_improvement_count(early_stopping)
                record["learning_rate"] = self._optimizer.learning_rate
                self._optimizer.iteration_ends(self.t_)
                record["dur"] = time.perf_counter() - tic
                self._log_epoch(record, display)
                if tasks.epoch_end(epoch_ctx):
                    self.stop_reason_ = "a callback asked to stop."
                    break

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than tol=%f for %d "
                            "consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f for %d "
                            "consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    if self._optimizer.trigger_stopping(msg, False):
                        self.stop_reason_ = msg
                        break
                    self._no_improvement_count = 0
                if incremental:
                    self.stop_reason_ = "partial_fit runs one epoch."
                    break
                if self.n_iter_ == self.max_iter:
                    self.stop_reason_ = f"max_iter={self.max_iter} epochs reached."
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                        "optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except TrainingInterrupted:
            interrupted = True
            self.stop_reason_ = INTERRUPTED
            if not hasattr(self, "loss_"):   # stopped within the first epoch:
                self.loss_ = float(accumulated) / seen   # the mean over its batches
        finally:
            interrupt.uninstall()

        restored = early_stopping and self._best_weights is not None
        if restored:
            net.set_weights(self._best_weights)
        self._end_of_training(display, early_stopping, restored, interrupted)
        if diverged:
            warnings.warn(
                f"Training {self.stop_reason_[0].lower()}{self.stop_reason_[1:]} Stopped "
                f"and restored the best weights, from epoch {self.best_epoch_}. Lower "
                "learning_rate_init, or scale the input (e.g. StandardScaler).",
                ConvergenceWarning, stacklevel=4)

    def _diverged(self, weights_ok, early_stopping, display, tic):
        """The epoch just run made the loss or the weights non-finite.

        Its weights are already replaced by those before it. Without early
        stopping (or before any finite validation score) raise
        :class:`DivergenceError`; with it, as scikit-learn's MLP, record the
        epoch (``nan`` validation score) and keep the best epoch's weights
        (restored by the caller), but stop here, with a warning (scikit-learn
        trains on through ``nan`` epochs).
        """
        what = (f"the loss became {self.loss_}" if not np.isfinite(self.loss_)
                else "the weights became non-finite")
        learning_rate = self._optimizer.learning_rate
        self._optimizer = None   # its state (moments, velocities) is spoiled too
        if not (early_stopping and self._best_weights is not None):
            self._sync_fitted_attributes()
            raise DivergenceError(
                f"{NON_FINITE_MESSAGE} Training diverged at epoch {self.n_iter_}: {what}. "
                "The weights were restored to those before this epoch. Lower "
                "learning_rate_init, or scale the input (e.g. StandardScaler)."
            )
        self.loss_curve_.append(self.loss_)
        self.validation_scores_.append(np.nan)
        record = {"epoch": len(self.loss_curve_), "train_loss": self.loss_,
                  "valid_loss": np.nan, "valid_score": np.nan,
                  "learning_rate": learning_rate, "dur": time.perf_counter() - tic}
        self._log_epoch(record, display)
        self.stop_reason_ = f"Diverged at epoch {self.n_iter_}: {what}."
        return True

    def _log_epoch(self, record, display):
        """Flag the record's best values, append it to ``history_``, print its row."""
        mark_best(record, self.history_)
        self.history_.append(record)
        if display is not None:
            display.print_epoch(record)

    def _end_of_training(self, display, early_stopping, restored, interrupted):
        """Set ``best_epoch_``; report the stop (table line, warning on Ctrl-C)."""
        flag = "valid_score_best" if early_stopping else "train_loss_best"
        best = [h["epoch"] for h in self.history_ if h.get(flag)]
        self.best_epoch_ = best[-1] if best else None
        last = self.history_[-1]["epoch"] if self.history_ else 0
        message = f"Stopped after epoch {last}: {self.stop_reason_}"
        if restored:
            message += f" Restored the best weights, from epoch {self.best_epoch_}."
        if display is not None:
            display.print_message(message)
        if interrupted:
            warnings.warn(f"Training {message[0].lower()}{message[1:]} The model is usable.",
                          UserWarning, stacklevel=4)

    def _validation_record(self, X_val, Y_val, y_val, sw_val):
        """Validation loss and score for one epoch; updates the best weights.

        The validation logits are read back to the host once (the score is
        scikit-learn's, computed there); the loss is computed there from them.
        """
        xp_host = array_api_compat.numpy
        z = to_numpy(self._forward_logits(X_val, self._network.backend))
        Y = np.asarray(Y_val, dtype=z.dtype)
        sw = None if sw_val is None else np.asarray(sw_val, dtype=z.dtype)
        sw_sum = None if sw is None else np.sum(sw)
        valid_loss = float(self._loss.loss(xp_host, z, Y, sw, sw_sum))
        val_score = self._score_from_output(self._loss.output(xp_host, z), y_val, sw_val)
        self.validation_scores_.append(val_score)
        if val_score > self.best_validation_score_:
            self._best_weights = self._network.get_weights()
        return {"valid_loss": valid_loss, "valid_score": val_score}

    def _update_no_improvement_count(self, early_stopping):
        if early_stopping:
            last = self.validation_scores_[-1]
            if last < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last > self.best_validation_score_:
                self.best_validation_score_ = last
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # ----------------------------------------------------------------- L-BFGS
    def _fit_lbfgs(self, X, Y, sample_weight, backend, tasks=None):
        net = self._network
        dtype = self._compute_dtype()
        X_dev = backend.asarray(X.toarray() if sp.issparse(X) else X, dtype=dtype)
        Y_dev = backend.asarray(Y, dtype=dtype)
        sw_dev = None if sample_weight is None else backend.asarray(sample_weight, dtype=dtype)
        slots = [(layer, k) for layer in net.layers for k in layer.params]
        shapes = [tuple(layer.params[k].shape) for layer, k in slots]
        sizes = [int(np.prod(s)) for s in shapes]
        bounds = np.cumsum([0] + sizes)

        def unpack(theta):
            for (layer, k), shape, a, b in zip(slots, shapes, bounds[:-1], bounds[1:]):
                layer.params[k] = backend.asarray(theta[a:b].reshape(shape), dtype=dtype)

        def fun(theta):
            unpack(theta)
            loss = self._batch_loss_and_grads(X_dev, Y_dev, sw_dev)
            grad = np.concatenate(
                [to_numpy(layer.grads[k]).ravel() for layer, k in slots]
            ).astype(np.float64)
            return float(loss), grad

        theta0 = np.concatenate([to_numpy(p).ravel() for p in net.params]).astype(np.float64)
        self.loss_curve_ = []

        last = {"x": theta0, "fun": np.nan}   # the last accepted iterate
        interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after this iteration
        self.stop_reason_ = None
        self.best_epoch_ = None

        display = EpochTable() if self.verbose else None
        self.history_ = []
        tic = time.perf_counter()

        def callback(intermediate_result):
            nonlocal tic
            last["x"], last["fun"] = intermediate_result.x.copy(), intermediate_result.fun
            self.loss_curve_.append(float(intermediate_result.fun))
            # one history record (and table row) per L-BFGS iteration
            now = time.perf_counter()
            record = {"epoch": len(self.loss_curve_), "train_loss": self.loss_curve_[-1],
                      "dur": now - tic}
            tic = now
            self._log_epoch(record, display)
            if tasks is not None and tasks.iteration():
                self.stop_reason_ = "a callback asked to stop."
                raise StopIteration
            interrupt.check()

        try:
            opt_res = scipy.optimize.minimize(
                fun, theta0, method="L-BFGS-B", jac=True, callback=callback,
                options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
            )
        except (TrainingInterrupted, StopIteration) as exc:   # StopIteration: scipy < 1.11
            opt_res = None
            if isinstance(exc, TrainingInterrupted):
                self.stop_reason_ = INTERRUPTED
        finally:
            interrupt.uninstall()
        if opt_res is None or self.stop_reason_ is not None:
            self.n_iter_ = len(self.loss_curve_)
            self.loss_ = float(last["fun"])
            unpack(last["x"])
            if self.stop_reason_ == INTERRUPTED:
                warnings.warn(f"Training {self.stop_reason_[:-1]} after iteration "
                              f"{self.n_iter_}; the model is usable.", UserWarning, stacklevel=4)
        else:
            self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
            self.loss_ = float(opt_res.fun)
            self.stop_reason_ = str(opt_res.message)
            unpack(opt_res.x)
        if display is not None:
            display.print_message(f"Stopped after iteration {self.n_iter_}: {self.stop_reason_}")
        if not net.weights_finite():
            raise DivergenceError(NON_FINITE_MESSAGE)

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

    def _forward_output(self, X, fn=None):
        """``fn(xp, logits)`` (default: the output activation) as NumPy, in batches."""
        backend = self._predict_backend(X)
        self._place(backend)
        xp = backend.xp
        fn = self._loss.output if fn is None else fn
        outs = []
        dtype = self._compute_dtype()
        for s in gen_batches(X.shape[0], self._predict_batch_rows):
            Xb = X[s].toarray() if sp.issparse(X) else X[s, ...]
            z = self._network.forward(backend.asarray(Xb, dtype=dtype))
            outs.append(backend.to_numpy(fn(xp, z)))
        return np.concatenate(outs, axis=0) if len(outs) > 1 else outs[0]

    # --------------------------------------------------------------- fitted
    def _sync_fitted_attributes(self):
        """Expose fitted weights as NumPy arrays (hook for subclasses)."""

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
