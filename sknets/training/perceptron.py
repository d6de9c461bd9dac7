"""The perceptron's per-sample trainer: scikit-learn's plain SGD, one sample at a time.

scikit-learn's perceptron (its ``_plain_sgd``) differs from mini-batch
training in ways a mini-batch trainer cannot express:

- one update per sample, in an order drawn by scikit-learn's own xorshift
  Fisher-Yates shuffle (reproduced in :mod:`sknets._sgd_draws`);
- each one-vs-rest problem stops on its own (its own loss history, its own
  validation score), so ``n_iter`` is the maximum over problems;
- the stopping rule compares the epoch's summed per-sample loss (plus the
  penalty) against the best by ``tol`` with ``>= n_iter_no_change``, and early
  stopping scores each problem on a held-out split without restoring weights;
- penalties are weight decay (L2) and Tsuruoka et al.'s cumulative truncated
  L1 [1]_, applied at every sample; class weights weigh the positive and
  negative samples of each problem differently.

So :class:`PerceptronTrainer` runs a per-sample loop on the same layer
(``Dense.forward``/``backward``) and loss objects; all array math goes
through the backend's namespace ``xp``; the loop over samples and the
per-epoch bookkeeping run on the host.

References
----------
.. [1] Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
   training for L1-regularized log-linear models with cumulative penalty",
   ACL 2009.
"""

import time
from dataclasses import dataclass
from typing import Any

import array_api_compat.numpy
import numpy as np
import scipy.sparse as sp
from sklearn.metrics import accuracy_score

from .._checks import max_abs
from .._dispatch import take_rows
from .._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .._sgd_draws import sgd_shuffle_permutation
from ..backend import read_back, to_numpy
from ..exceptions import DivergenceError
from ._common import EpochLog, TrainerConfig
from .minibatch import forward_in_batches

__all__ = ["PerceptronConfig", "PerceptronTrainer"]

#: rows moved to the backend at a time during an epoch (bounded memory for
#: sparse input, which is densified chunk by chunk).
CHUNK_ROWS = 4096


@dataclass
class PerceptronConfig(TrainerConfig):
    """The parameters of a perceptron fit (scikit-learn's ``Perceptron`` names)."""

    penalty: Any = None
    alpha: float = 0.0001
    l1_ratio: float = 0.15
    fit_intercept: bool = True
    tol: Any = 1e-3
    shuffle: bool = True
    verbose: Any = 0
    eta0: float = 1.0
    early_stopping: bool = False
    n_iter_no_change: int = 5


class _Problems:
    """The one-vs-rest problems' stopping bookkeeping (on the host)."""

    def __init__(self, n_outputs, early_stopping):
        self.active = np.ones(n_outputs, dtype=bool)
        self.n_iter = np.zeros(n_outputs, dtype=int)
        self.best = np.full(n_outputs, -np.inf if early_stopping else np.inf)
        self.no_improvement = np.zeros(n_outputs, dtype=int)


class PerceptronTrainer:
    """Trains the one-layer network of a perceptron's :class:`FitState`.

    Parameters
    ----------
    state : FitState
        Its network is one ``Dense`` layer (one unit per one-vs-rest problem).
    config : PerceptronConfig
    decode_targets : callable
        ``decode_targets(logits)``: labels from logits (the validation accuracy).
    tasks : FitTasks
        The callback hooks (an epoch is a task, its chunks of ``CHUNK_ROWS``
        samples the subtasks; a callback asking to stop ends training).

    The steps, in the order :meth:`run` calls them: :meth:`prepare`, then per
    epoch :meth:`run_epoch` (:meth:`update_chunk` per chunk of samples),
    :meth:`check_divergence`, :meth:`score_epoch`, :meth:`update_problems`,
    and the record; the closing line at the end.
    """

    def __init__(self, state, config, decode_targets, tasks):
        self.state = state
        self.config = config
        self.decode_targets = decode_targets
        self.tasks = tasks

    # ------------------------------------------------------------ the steps
    def prepare(self, X, y, Y, weights, sample_weight, validation_mask):
        """Arrays on the backend, the validation split, the penalty terms."""
        state, config = self.state, self.config
        backend, dtype = state.network.backend, state.dtype
        xp = backend.xp
        self.sparse = sp.issparse(X)
        self.X = X
        self.X_dev = None if self.sparse else backend.asarray(X, dtype=dtype)
        self.Y_dev = backend.asarray(Y, dtype=dtype)
        self.weights_dev = backend.asarray(weights, dtype=dtype)
        self.is_train = ~validation_mask
        self.train_count = int(np.sum(self.is_train))
        if config.early_stopping:
            X_val = take_rows(X, np.flatnonzero(validation_mask))
            # on the device once per fit; scored on the host from the logits
            self.X_val = X_val if self.sparse else backend.asarray(X_val, dtype=dtype)
            self.y_val = y[validation_mask]
            self.Y_val = np.asarray(Y[validation_mask], dtype=dtype)
            self.sw_val_host = sample_weight[validation_mask]
            self.sw_val = np.asarray(self.sw_val_host, dtype=dtype)
        self.tol = -np.inf if config.tol is None else float(config.tol)
        self.eta, self.alpha = float(config.eta0), float(config.alpha)
        self.l1_ratio = {None: 0.0, "l2": 0.0, "l1": 1.0}.get(config.penalty,
                                                            float(config.l1_ratio))
        self.use_l2 = config.penalty in ("l2", "elasticnet")
        self.use_l1 = config.penalty in ("l1", "elasticnet")
        self.l2_decay = max(0.0, 1.0 - (1.0 - self.l1_ratio) * self.eta * self.alpha)
        if self.use_l1:   # Tsuruoka's cumulative penalty: applied (q) and total (u)
            self.q = xp.zeros_like(state.network.layers[0].params["W"])
            self.u = xp.zeros_like(self.Y_dev[0:1, :])
        self.x_max = max_abs(X)   # for the logits' bound checked after each epoch
        # On NumPy, skipping the update of a sample with no mistake saves work;
        # on a device, asking would synchronise with it at every sample.
        self.skip_if_correct = backend.is_numpy

    def run_epoch(self, order, problems, interrupt):
        """One pass over the training samples in ``order``; the epoch's
        objective per problem (on the backend). Ctrl-C stops it after a chunk."""
        backend, dtype = self.state.network.backend, self.state.dtype
        xp = backend.xp
        train_order = order[self.is_train[order]]
        active = problems.active
        self.active_dev = backend.asarray(active.astype(dtype)[None, :])
        if self.use_l2:
            self.decay = backend.asarray(np.where(active, self.l2_decay, 1.0).astype(dtype)[None, :])
        if self.use_l1:
            self.l1_step = self.active_dev * (self.l1_ratio * self.eta * self.alpha)
        objective = xp.zeros_like(self.Y_dev[0:1, :])
        starts = range(0, self.train_count, CHUNK_ROWS)
        self.epoch_ctx = self.tasks.epoch_begin(len(starts))
        for start in starts:
            chunk_ctx = self.tasks.batch_begin(self.epoch_ctx)
            rows = train_order[start:start + CHUNK_ROWS]
            rows_dev = backend.asarray(rows)
            Xc = (backend.asarray(self.X[rows].toarray(), dtype=dtype) if self.sparse
                  else xp.take(self.X_dev, rows_dev, axis=0))
            Yc = xp.take(self.Y_dev, rows_dev, axis=0)
            Wc = xp.take(self.weights_dev, rows_dev, axis=0) * self.active_dev
            objective = self.update_chunk(Xc, Yc, Wc, objective)
            self.tasks.batch_end(chunk_ctx)
            interrupt.check()   # Ctrl-C: stop after this chunk, weights consistent
        return objective

    def update_chunk(self, Xc, Yc, Wc, objective):
        """scikit-learn's per-sample updates over one chunk, every problem at
        once: the logits, the loss ``max(0, -y z)`` (and penalty) added to the
        objective, weight decay (L2), the update on mistakes, then the
        cumulative L1 penalty. Stopped problems have zero weight and no decay."""
        dense, loss = self.state.network.layers[0], self.state.loss
        xp = self.state.network.backend.xp
        alpha, l1_ratio, eta = self.alpha, self.l1_ratio, self.eta
        for t in range(Xc.shape[0]):
            x, yt = Xc[t:t + 1, :], Yc[t:t + 1, :]
            z = dense.forward(x, training=True)
            objective = objective + loss.per_output(xp, z, yt)
            W = dense.params["W"]
            if self.config.penalty is not None:
                objective = objective + alpha * ((1.0 - l1_ratio) * 0.5 * xp.sum(W * W, axis=0)
                                                 + l1_ratio * xp.sum(xp.abs(W), axis=0))
            dz = loss.gradient(xp, z, yt, Wc[t:t + 1, :])
            if self.use_l2:
                W *= self.decay
            if not self.skip_if_correct or bool(xp.any(dz != 0)):
                dense.backward(eta * dz)
                W -= dense.grads["W"]
                if self.config.fit_intercept:
                    dense.params["b"] -= dense.grads["b"]
            if self.use_l1:
                self.u = self.u + self.l1_step
                W_new = xp.where(W > 0, xp.maximum(W - (self.u + self.q), 0.0),
                                 xp.where(W < 0, xp.minimum(W + (self.u - self.q), 0.0), W))
                self.q = self.q + (W_new - W)
                dense.params["W"] = W_new
        return objective

    def check_divergence(self, objective, snapshot, epoch):
        """Read back the epoch's objective with the flag "weights finite and
        no logit ``w @ x + b`` can overflow"; raise DivergenceError if not."""
        net = self.state.network
        xp, dense = net.backend.xp, net.layers[0]
        with np.errstate(over="ignore", invalid="ignore"):
            z_max = xp.max(xp.sum(xp.abs(dense.params["W"]), axis=0) * self.x_max
                           + xp.abs(dense.params["b"]))
        ok = xp.logical_and(net.finite_flag(), xp.isfinite(z_max))
        objective, weights_ok = read_back(xp, objective, ok)
        if weights_ok and np.isfinite(objective).all():
            return objective
        what = ("weights" if not net.weights_finite() else
                "bound on the logits w @ x + b (they can overflow)")
        net.set_weights(snapshot)
        raise DivergenceError(
            f"Floating-point under-/overflow occurred at epoch #{epoch + 1}: the {what} "
            f"became non-finite in {self.state.dtype.name}; the estimator was left as it "
            "was before this fit. Scaling input data with StandardScaler or MinMaxScaler "
            f"(the largest absolute value of X is {self.x_max:.3g}), a smaller eta0, or "
            "dtype=\"float64\" might help.")

    def score_epoch(self, objective, record):
        """Fill the record's losses and scores; return each problem's figure
        for the stopping rule (validation accuracy, or training objective)."""
        train_objective = objective[0].astype(np.float64) / max(self.train_count, 1)
        record["train_loss"] = float(np.sum(train_objective))
        if not self.config.early_stopping:
            return train_objective
        state = self.state
        z_val = to_numpy(forward_in_batches(state.network, self.X_val, state.dtype, 2048))
        correct = ((z_val > 0) == (self.Y_val > 0)).astype(z_val.dtype)
        sw_sum = np.sum(self.sw_val)
        scores = (np.sum(correct * self.sw_val[:, None], axis=0) / sw_sum).astype(np.float64)
        record["valid_loss"] = float(state.loss.loss(array_api_compat.numpy, z_val, self.Y_val,
                                                     self.sw_val, sw_sum))
        record["valid_score"] = accuracy_score(self.y_val, self.decode_targets(z_val),
                                               sample_weight=self.sw_val_host)
        return scores

    def update_problems(self, problems, figures, epoch):
        """Each active problem's stopping rule after ``epoch``."""
        active = problems.active
        problems.n_iter[active] = epoch + 1
        if self.config.early_stopping:
            worse = figures < problems.best + self.tol
            problems.best = np.where(active & (figures > problems.best), figures, problems.best)
        else:
            worse = figures > problems.best - self.tol
            problems.best = np.where(active & (figures < problems.best), figures, problems.best)
        problems.no_improvement = np.where(
            active, np.where(worse, problems.no_improvement + 1, 0), problems.no_improvement)
        active &= problems.no_improvement < self.config.n_iter_no_change

    def stopped_message(self):
        what = "Validation score" if self.config.early_stopping else "Training loss"
        return (f"{what} did not improve more than tol={self.tol:g} for "
                f"{self.config.n_iter_no_change} consecutive epochs (every one-vs-rest problem).")

    # -------------------------------------------------------------- the run
    def run(self, X, y, Y, weights, sample_weight, validation_mask, seed, max_iter):
        """Up to ``max_iter`` epochs; sets ``state.n_iter`` (the maximum over
        the problems); returns True when Ctrl-C stopped training."""
        state = self.state
        self.prepare(X, y, Y, weights, sample_weight, validation_mask)
        perm = sgd_shuffle_permutation(X.shape[0], seed) if self.config.shuffle else None
        order = np.arange(X.shape[0])
        problems = _Problems(Y.shape[1], self.config.early_stopping)
        epochs_before = len(state.history)
        self.log = EpochLog(state, self.config.verbose, max_iter)
        state.stop_reason = None
        interrupted = False
        interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after the current chunk
        try:
            for epoch in range(max_iter):
                if not problems.active.any():
                    state.stop_reason = self.stopped_message()
                    break
                tic = time.perf_counter()
                if perm is not None:
                    order = order[perm]
                snapshot = state.network.get_weights()
                objective = self.run_epoch(order, problems, interrupt)
                objective = self.check_divergence(objective, snapshot, epoch)
                record = {"epoch": epochs_before + epoch + 1}
                self.update_problems(problems, self.score_epoch(objective, record), epoch)
                if not problems.active.any():
                    state.stop_reason = self.stopped_message()
                record["learning_rate"] = self.eta
                record["dur"] = time.perf_counter() - tic
                self.log.record(record)
                if self.tasks.epoch_end(self.epoch_ctx):
                    state.stop_reason = "a callback asked to stop."
                    break
            else:
                if problems.active.any():
                    state.stop_reason = f"max_iter={max_iter} epoch(s) reached."
        except TrainingInterrupted:
            interrupted = True
            state.stop_reason = INTERRUPTED
        finally:
            interrupt.uninstall()
        state.n_iter = int(problems.n_iter.max())
        state.best_epoch = self.log.best_epoch("valid_score_best" if self.config.early_stopping
                                               else "train_loss_best")
        last = state.history[-1]["epoch"] if state.history else 0
        state.closing_message = f"Stopped after epoch {last}: {state.stop_reason}"
        self.log.message(state.closing_message)
        return interrupted
