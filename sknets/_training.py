"""The one training loop: mini-batch SGD/Adam and L-BFGS, with early stopping.

:class:`TrainingLoop` is mixed into :class:`~sknets._base.BaseNetwork`; its
``_fit_stochastic`` and ``_fit_lbfgs`` train ``self._network`` (a
:class:`~sknets.network.Sequential`) on data already validated and encoded
by :meth:`BaseNetwork._fit`: move to the backend -> mini-batches -> forward
-> loss -> backward -> optimizer step -> history, one epoch at a time.

The stochastic loop reproduces scikit-learn's ``BaseMultilayerPerceptron``
step by step (same initialisation, shuffling, validation split, stopping
rule and learning-rate schedules), so with float64 input it trains to the
same weights as ``sklearn.neural_network.MLPClassifier``. Per epoch it reads
back to the host one copy (the loss with a finite-weights flag), plus the
validation logits under early stopping.
"""

import time
import warnings

import array_api_compat.numpy
import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches, shuffle
from sklearn.utils.optimize import _check_optimize_result

from ._checks import divergence_cause, scale_hint, training_loss_bound
from ._display import EpochTable, mark_best
from ._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from ._dispatch import take_rows
from .backend import read_back, to_numpy
from .callbacks import FitTasks
from .exceptions import DivergenceError
from .optimizers import OPTIMIZERS

STOCHASTIC_SOLVERS = ("sgd", "adam")

#: scikit-learn's MLP message for non-finite weights (user code matches on it).
NON_FINITE_MESSAGE = ("Solver produced non-finite parameter weights. The input data may "
                      "contain large values and need to be preprocessed.")


class TrainingLoop:
    """The training loop of the network estimators (a mixin of ``BaseNetwork``).

    Uses the estimator's parameters (``solver``, ``batch_size``,
    ``learning_rate_init``, ``early_stopping``...) and its hooks
    (``_loss``, ``_network``, ``_decode_targets``, ``_score_from_output``,
    ``_forward_logits``, ``_sync_fitted_attributes``).
    """

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
            penalty = net.squared_weights()
            for layer, k in net.penalized_weights():
                layer.grads[k] += scale * layer.params[k]  # in place: no new gradient array
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
            self._optimizer.to(backend)   # the backend's kernels do its steps
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
        bound = training_loss_bound(self, Y_train, sw_train)   # a loss past it: diverged
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
        max_epochs = 1 if incremental else self.max_iter
        display = EpochTable(verbose=self.verbose, max_epochs=max_epochs) if self.verbose else None
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
                if not (np.isfinite(self.loss_) and weights_ok and self.loss_ <= bound):
                    net.set_weights(snapshot)
                    diverged = self._diverged(divergence_cause(self.loss_, weights_ok, bound),
                                              early_stopping, display, tic, X_train)
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
            net.release_work()

        restored = early_stopping and self._best_weights is not None
        if restored:
            net.set_weights(self._best_weights)
        self._end_of_training(display, early_stopping, restored, interrupted)
        if diverged:
            warnings.warn(
                f"Training {self.stop_reason_[0].lower()}{self.stop_reason_[1:]} Stopped "
                f"and restored the best weights, from epoch {self.best_epoch_}. "
                + scale_hint(X_train),
                ConvergenceWarning, stacklevel=4)

    def _diverged(self, what, early_stopping, display, tic, X):
        """The epoch just run made the loss or the weights non-finite, or the
        loss meaningless (``what`` says which; ``X``: for the message).

        Its weights are already replaced by those before it. Without early
        stopping (or before any finite validation score) raise
        :class:`DivergenceError`; with it, as scikit-learn's MLP, record the
        epoch (``nan`` validation score) and keep the best epoch's weights
        (restored by the caller), but stop here, with a warning (scikit-learn
        trains on through ``nan`` epochs).
        """
        learning_rate = self._optimizer.learning_rate
        self._optimizer = None   # its state (moments, velocities) is spoiled too
        if not (early_stopping and self._best_weights is not None):
            self._sync_fitted_attributes()
            raise DivergenceError(
                f"{NON_FINITE_MESSAGE} Training diverged at epoch {self.n_iter_}: {what}. "
                "The weights were restored to those before this epoch. " + scale_hint(X)
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
        if any(type(layer).__name__ == "Dropout" and layer.rate > 0 for layer in net.layers):
            raise ValueError(
                "solver='lbfgs' needs a deterministic loss, but the network has Dropout "
                "layers (a new random mask at every evaluation); use solver='adam' or "
                "'sgd', or a dropout rate of 0."
            )
        dtype = self._compute_dtype()
        X_dev = backend.asarray(X.toarray() if sp.issparse(X) else X, dtype=dtype)
        Y_dev = backend.asarray(Y, dtype=dtype)
        sw_dev = None if sample_weight is None else backend.asarray(sample_weight, dtype=dtype)
        slots = [(layer, k) for layer in net.trainable_layers for k in layer.params]
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
        bound = training_loss_bound(self, Y, sample_weight)   # a final loss past it: diverged
        self.loss_curve_ = []

        last = {"x": theta0, "fun": np.nan}   # the last accepted iterate
        interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after this iteration
        self.stop_reason_ = None
        self.best_epoch_ = None

        display = (EpochTable(verbose=self.verbose, max_epochs=self.max_iter)
                   if self.verbose else None)
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
            net.release_work()
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
        if not (net.weights_finite() and self.loss_ <= bound):
            raise DivergenceError(f"{NON_FINITE_MESSAGE} L-BFGS: "
                                  f"{divergence_cause(self.loss_, True, bound)}. {scale_hint(X)}")
