"""The perceptron's own epoch loop: scikit-learn's plain SGD, one sample at a time.

:class:`PerceptronSGD` is mixed into :class:`~sknets.PerceptronClassifier`:
it encodes the one-vs-rest problems, builds the one-layer network and runs
the epochs. The estimator's public API lives in :mod:`sknets.perceptron`.

Why the perceptron has its own epoch loop
-----------------------------------------
The shared loop (:class:`sknets._training.TrainingLoop`) reproduces the MLPs'
mini-batch training; scikit-learn's perceptron (its plain SGD) differs in
ways that loop cannot express without changing it for everybody:

- one update per sample, in an order drawn by scikit-learn's own xorshift
  Fisher-Yates shuffle (reproduced in :mod:`sknets._sgd_draws`, so
  ``random_state`` gives the same order as scikit-learn's);
- each one-vs-rest problem stops on its own (its own loss history, its own
  validation score), so ``n_iter_`` is the maximum over problems;
- the stopping rule compares the epoch's summed per-sample loss (plus the
  penalty) against the best by ``tol`` with ``>= n_iter_no_change``, and early
  stopping scores each problem on a held-out split without restoring weights;
- penalties are weight decay (L2) and Tsuruoka et al.'s cumulative truncated
  L1, applied at every sample; class weights weigh positive and negative
  samples of each problem differently.

So :meth:`PerceptronSGD._run_epochs` is a small per-sample loop on top of the
same layer (``Dense.forward``/``backward``) and loss objects; all array math
goes through the backend's array-API namespace ``xp``, the loop over samples
and the per-epoch bookkeeping run on the host.

References
----------
.. [1] Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
   training for L1-regularized log-linear models with cumulative penalty",
   ACL 2009.
"""

import time

import array_api_compat.numpy
import numpy as np
import scipy.sparse as sp
from sklearn.metrics import accuracy_score
from sklearn.utils import compute_class_weight
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.validation import _check_sample_weight

from ._checks import check_input_range, max_abs
from ._display import EpochTable
from ._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from ._dispatch import dispatch_backend, host_copy, take_rows
from .backend import read_back, to_numpy
from .callbacks import FitTasks, with_callbacks
from .exceptions import DivergenceError
from ._sgd_draws import sgd_shuffle_permutation, validation_split_and_seed
from .network import Sequential

#: rows moved to the backend at a time during an epoch (bounded memory for
#: sparse input, which is densified chunk by chunk).
_CHUNK_ROWS = 4096


class PerceptronSGD:
    """One-vs-rest encoding, the one-layer network and the per-sample epochs
    of :class:`~sknets.PerceptronClassifier` (a mixin; see the module)."""

    @with_callbacks
    def _partial_fit(self, X, y, max_iter, classes, sample_weight, coef_init, intercept_init,
                     allocate, keep_history, from_fit=False):
        first_call = from_fit or not hasattr(self, "classes_")
        # CuPy inputs without array-API dispatch are validated on the host.
        X, y, sample_weight = host_copy(X), host_copy(y), host_copy(sample_weight)
        X_in, y_in = X, y  # what callbacks see (e.g. ScoringMonitor scores on them)
        X, y = self._validate_input(X, y, incremental=not allocate, reset=first_call)
        self._check_labels(y, classes, from_fit)
        class_weight = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        if sample_weight is not None:
            sample_weight = to_numpy(sample_weight)
        sample_weight = _check_sample_weight(sample_weight, np.empty((X.shape[0], 0)),
                                             dtype=np.float64,
                                             allow_all_zero_weights=self.early_stopping)
        n_samples, n_features = X.shape
        n_outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        backend = self._select_backend(X)
        # Fitted attributes follow X's namespace under array-API dispatch, else NumPy.
        self._attribute_backend = dispatch_backend(X)
        check_input_range(X, self._new_fit_dtype(X) if allocate else self._compute_dtype())
        if allocate:
            self._resolve_dtype(X)
            self._allocate(n_features, n_outputs, backend, coef_init, intercept_init,
                           keep_history)
        else:
            self._place(backend)
        if from_fit or not hasattr(self, "t_"):
            self.t_ = 1.0  # scikit-learn's count starts at 1
        tasks = FitTasks(self, X_in, y_in, sample_weight, max_iter)  # sklearn.callback hooks
        Y, weights = self._encode_targets(y, sample_weight, class_weight)
        validation_mask, seed = validation_split_and_seed(self, y, sample_weight, n_outputs)
        n_iter = self._run_epochs(X, y, Y, weights, sample_weight, validation_mask, seed,
                                  max_iter, backend, tasks)
        self.n_iter_ = n_iter
        self.t_ += n_iter * n_samples
        self._sync_fitted_attributes()
        tasks.end()
        return self

    def _check_labels(self, y, classes, from_fit):
        if from_fit:
            self.classes_ = np.unique(y)  # fit: the labels of this call define the classes
        else:
            _check_partial_fit_first_call(self, classes)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {self.classes_[0]!r}."
            )
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}; pass every class to the first partial_fit call."
            )

    def _encode_targets(self, y, sample_weight, class_weight):
        """Targets in {-1, +1} and per-problem weights, shape (n_samples, n_outputs).

        Two classes: one problem, ``classes_[1]`` positive; weights
        ``class_weight[1]`` / ``class_weight[0]``. More classes: problem ``k``
        is ``classes_[k]`` against the rest; its positives weigh
        ``class_weight[k]``, its negatives 1 (scikit-learn's convention).
        """
        classes = self.classes_
        sw = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        if len(classes) == 2:
            pos = (y == classes[1])[:, None]
            weights = np.where(pos, class_weight[1], class_weight[0])
        else:
            pos = y[:, None] == classes[None, :]
            weights = np.where(pos, class_weight[None, :], 1.0)
        Y = np.where(pos, 1.0, -1.0)
        return Y, sw[:, None] * weights

    def _allocate(self, n_features, n_outputs, backend, coef_init, intercept_init,
                  keep_history):
        """Build the one-layer network with zero (or the given) initial weights."""
        dtype = self._compute_dtype()
        W = np.zeros((n_features, n_outputs))
        b = np.zeros(n_outputs)
        if coef_init is not None:
            coef = np.asarray(to_numpy(coef_init), dtype=np.float64)
            expected = (n_outputs, n_features)
            if n_outputs == 1:
                coef = coef.reshape(1, -1) if coef.size == n_features else coef
            if coef.shape != expected:
                raise ValueError(
                    f"coef_init has shape {np.shape(coef_init)} but the data needs "
                    f"{expected} ({n_outputs} one-vs-rest problem(s), {n_features} features)."
                )
            W = coef.T
        if intercept_init is not None:
            intercept = np.asarray(to_numpy(intercept_init), dtype=np.float64)
            if n_outputs == 1 and intercept.shape in ((), (1,)):
                intercept = intercept.reshape(1)
            if intercept.shape != (n_outputs,):
                raise ValueError(
                    f"intercept_init has shape {np.shape(intercept_init)} but the data "
                    f"needs ({n_outputs},)."
                )
            b = intercept
        self._loss = self._make_loss(None)
        # Dense draws Glorot weights when built; the perceptron starts from zeros
        # (or the given weights), so it is built from a throwaway RandomState.
        self._network = Sequential(self._build_layers((n_features,), n_outputs)).build(
            (n_features,), backend, dtype, np.random.RandomState(0))
        dense = self._network.layers[0]
        dense.params["W"] = backend.asarray(np.array(W, dtype=dtype, copy=True))
        dense.params["b"] = backend.asarray(np.array(b, dtype=dtype, copy=True))
        if not keep_history or not hasattr(self, "history_"):
            self.history_ = []

    # ------------------------------------------------------------ the loop
    def _run_epochs(self, X, y, Y, weights, sample_weight, validation_mask, seed, max_iter,
                    backend, tasks):
        """Per-sample perceptron updates for up to ``max_iter`` epochs.

        Follows scikit-learn's ``_plain_sgd`` for every one-vs-rest problem at
        once: for each training sample, the logits ``z`` (``Dense.forward``),
        the loss ``max(0, -y z)`` (and penalty) added to the epoch's objective,
        weight decay (L2), the perceptron update on mistakes (``Dense.backward``
        of the criterion's gradient times ``eta0``), then the cumulative L1
        penalty. Problems that have stopped are frozen (zero weight, no decay).

        Callbacks (``set_callbacks``) see each epoch as a task whose subtasks
        are chunks of ``_CHUNK_ROWS`` samples; one asking to stop ends training.

        Returns
        -------
        n_iter : int
            Epochs run (the maximum over the problems).
        """
        xp = backend.xp
        dtype = self._compute_dtype()
        net = self._network
        dense = net.layers[0]
        loss = self._loss
        n_samples, n_outputs = Y.shape
        sparse_X = sp.issparse(X)
        X_dev = None if sparse_X else backend.asarray(X, dtype=dtype)
        Y_dev = backend.asarray(Y, dtype=dtype)
        weights_dev = backend.asarray(weights, dtype=dtype)

        early_stopping = self.early_stopping
        is_train = ~validation_mask
        train_count = int(np.sum(is_train))
        if early_stopping:
            X_val = take_rows(X, np.flatnonzero(validation_mask))
            if not sparse_X:   # to the device once per fit, not every epoch
                X_val = backend.asarray(X_val, dtype=dtype)
            # scored on the host from the logits, read back once per epoch
            y_val = y[validation_mask]
            Y_val = np.asarray(Y[validation_mask], dtype=dtype)
            sw_val_host = sample_weight[validation_mask]
            sw_val = np.asarray(sw_val_host, dtype=dtype)
            sw_val_sum = np.sum(sw_val)

        tol = -np.inf if self.tol is None else float(self.tol)
        eta = float(self.eta0)
        alpha = float(self.alpha)
        l1_ratio = {None: 0.0, "l2": 0.0, "l1": 1.0}.get(self.penalty, float(self.l1_ratio))
        use_penalty = self.penalty is not None
        use_l2 = self.penalty in ("l2", "elasticnet")
        use_l1 = self.penalty in ("l1", "elasticnet")
        l2_decay = max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
        if use_l1:
            q = xp.zeros_like(dense.params["W"])
            u = xp.zeros_like(Y_dev[0:1, :])

        x_max = max_abs(X)   # for the logits' bound checked after each epoch
        perm = sgd_shuffle_permutation(n_samples, seed) if self.shuffle else None
        order = np.arange(n_samples)
        active = np.ones(n_outputs, dtype=bool)
        n_iter_problem = np.zeros(n_outputs, dtype=int)
        best = np.full(n_outputs, -np.inf if early_stopping else np.inf)
        no_improvement = np.zeros(n_outputs, dtype=int)
        epochs_before = len(self.history_)
        display = (EpochTable(verbose=self.verbose, max_epochs=max_iter)
                   if self.verbose else None)
        # On NumPy, skipping the update of a sample with no mistake saves work; on
        # a device, asking would synchronise with it at every sample: always update
        # there (a zero update leaves the weights exactly as they are).
        skip_if_correct = backend.is_numpy

        self.stop_reason_ = None
        interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after the current chunk
        interrupted = False
        try:
            for epoch in range(max_iter):
                if not active.any():
                    self.stop_reason_ = self._stopped_message(early_stopping, tol)
                    break
                tic = time.perf_counter()
                if perm is not None:
                    order = order[perm]
                train_order = order[is_train[order]]
                active_dev = backend.asarray(active.astype(dtype)[None, :])
                if use_l2:
                    decay = backend.asarray(np.where(active, l2_decay, 1.0).astype(dtype)[None, :])
                if use_l1:
                    l1_step = active_dev * (l1_ratio * eta * alpha)
                snapshot = net.get_weights()
                objective = xp.zeros_like(Y_dev[0:1, :])
                chunk_starts = range(0, train_count, _CHUNK_ROWS)
                epoch_ctx = tasks.epoch_begin(len(chunk_starts))

                for start in chunk_starts:
                    chunk_ctx = tasks.batch_begin(epoch_ctx)
                    rows = train_order[start:start + _CHUNK_ROWS]
                    if sparse_X:
                        Xc = backend.asarray(X[rows].toarray(), dtype=dtype)
                        rows_dev = backend.asarray(rows)
                    else:
                        rows_dev = backend.asarray(rows)
                        Xc = xp.take(X_dev, rows_dev, axis=0)
                    Yc = xp.take(Y_dev, rows_dev, axis=0)
                    Wc = xp.take(weights_dev, rows_dev, axis=0) * active_dev
                    for t in range(Xc.shape[0]):
                        x = Xc[t:t + 1, :]
                        yt = Yc[t:t + 1, :]
                        z = dense.forward(x, training=True)
                        objective = objective + loss.per_output(xp, z, yt)
                        W = dense.params["W"]
                        if use_penalty:
                            objective = objective + alpha * (
                                (1.0 - l1_ratio) * 0.5 * xp.sum(W * W, axis=0)
                                + l1_ratio * xp.sum(xp.abs(W), axis=0))
                        dz = loss.gradient(xp, z, yt, Wc[t:t + 1, :])
                        if use_l2:
                            W *= decay
                        if not skip_if_correct or bool(xp.any(dz != 0)):
                            dense.backward(eta * dz)
                            W -= dense.grads["W"]
                            if self.fit_intercept:
                                dense.params["b"] -= dense.grads["b"]
                        if use_l1:
                            u = u + l1_step
                            W_old = W
                            W_new = xp.where(W_old > 0, xp.maximum(W_old - (u + q), 0.0),
                                             xp.where(W_old < 0, xp.minimum(W_old + (u - q), 0.0),
                                                      W_old))
                            q = q + (W_new - W_old)
                            dense.params["W"] = W_new
                    tasks.batch_end(chunk_ctx)
                    interrupt.check()   # Ctrl-C: stop after this chunk, weights consistent

                # the epoch's objective and the flag "weights finite, and no logit
                # w @ x + b can overflow" (|z| <= sum|w| max|x| + |b|): one read-back
                with np.errstate(over="ignore", invalid="ignore"):
                    z_max = xp.max(xp.sum(xp.abs(dense.params["W"]), axis=0) * x_max
                                   + xp.abs(dense.params["b"]))
                ok = xp.logical_and(net.finite_flag(), xp.isfinite(z_max))
                objective, weights_ok = read_back(xp, objective, ok)
                if not (weights_ok and np.isfinite(objective).all()):
                    what = ("weights" if not net.weights_finite() else
                            "bound on the logits w @ x + b (they can overflow)")
                    net.set_weights(snapshot)
                    self._sync_fitted_attributes()
                    raise DivergenceError(
                        f"Floating-point under-/overflow occurred at epoch #{epoch + 1}: the "
                        f"{what} became non-finite in {np.dtype(dtype).name}; the weights "
                        "were restored to those before this epoch. Scaling input data with "
                        "StandardScaler or MinMaxScaler (the largest absolute value of X is "
                        f"{x_max:.3g}), a smaller eta0, or dtype=\"float64\" might help."
                    )
                n_iter_problem[active] = epoch + 1
                record = {"epoch": epochs_before + epoch + 1}
                train_objective = objective[0].astype(np.float64) / max(train_count, 1)
                record["train_loss"] = float(np.sum(train_objective))
                if early_stopping:
                    z_val = to_numpy(self._forward_logits(X_val, backend))
                    correct = ((z_val > 0) == (Y_val > 0)).astype(z_val.dtype)
                    scores = (np.sum(correct * sw_val[:, None], axis=0)
                              / sw_val_sum).astype(np.float64)
                    record["valid_loss"] = float(loss.loss(array_api_compat.numpy, z_val,
                                                           Y_val, sw_val, sw_val_sum))
                    record["valid_score"] = accuracy_score(
                        y_val, self._decode_targets(z_val), sample_weight=sw_val_host)
                    worse = scores < best + tol
                    best = np.where(active & (scores > best), scores, best)
                else:
                    worse = train_objective > best - tol
                    best = np.where(active & (train_objective < best), train_objective, best)
                no_improvement = np.where(active, np.where(worse, no_improvement + 1, 0),
                                          no_improvement)
                active &= no_improvement < self.n_iter_no_change
                if not active.any():
                    self.stop_reason_ = self._stopped_message(early_stopping, tol)
                record["learning_rate"] = eta
                record["dur"] = time.perf_counter() - tic
                self._log_epoch(record, display)
                if tasks.epoch_end(epoch_ctx):
                    self.stop_reason_ = "a callback asked to stop."
                    break
            else:
                self.stop_reason_ = (f"max_iter={max_iter} epoch(s) reached." if active.any() else
                                     self.stop_reason_)
        except TrainingInterrupted:
            interrupted = True
            self.stop_reason_ = INTERRUPTED
        finally:
            interrupt.uninstall()
        # best_epoch_, the closing line of the table, the warning on Ctrl-C
        self._end_of_training(display, early_stopping, False, interrupted)
        return int(n_iter_problem.max())

    def _stopped_message(self, early_stopping, tol):
        what = "Validation score" if early_stopping else "Training loss"
        return (f"{what} did not improve more than tol={tol:g} for {self.n_iter_no_change} "
                "consecutive epochs (every one-vs-rest problem).")
