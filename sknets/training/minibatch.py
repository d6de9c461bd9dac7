"""The mini-batch trainer: SGD, Adam, AdaGrad or RMSprop over shuffled mini-batches,
with early stopping.

It reproduces scikit-learn's ``BaseMultilayerPerceptron._fit_stochastic``
step by step (same shuffling, validation split, stopping rule and
learning-rate schedules), so with float64 input a network trains to the same
weights as ``sklearn.neural_network.MLPClassifier``. Per epoch it reads back
to the host one copy (the loss with a finite-weights flag), plus the
validation logits under early stopping.
"""

import time
import warnings
from dataclasses import dataclass
from typing import Any

import array_api_compat.numpy
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches, shuffle

from .._checks import divergence_cause, scale_hint, training_loss_bound
from .._dispatch import take_rows
from .._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .._sparse import input_rows, sparse_batch
from ..backend import read_back, to_numpy
from ..exceptions import DivergenceError
from ..optimizers import OPTIMIZERS
from ._common import NON_FINITE_MESSAGE, EpochLog, TrainerConfig, batch_loss_and_grads

__all__ = ["STOCHASTIC_SOLVERS", "MiniBatchConfig", "MiniBatchTrainer", "make_optimizer",
           "forward_in_batches"]

STOCHASTIC_SOLVERS = ("sgd", "adam", "adagrad", "rmsprop")


@dataclass
class MiniBatchConfig(TrainerConfig):
    """The training parameters of a mini-batch fit (scikit-learn's MLP names).

    ``random_state`` is the ``RandomState`` of this fit (the split and the
    shuffles draw from it); ``stratify`` splits the validation set by the
    binary target (scikit-learn's classifiers with one output).
    """

    solver: str = "adam"
    alpha: float = 0.0001
    batch_size: Any = "auto"
    learning_rate: str = "constant"
    learning_rate_init: float = 0.001
    power_t: float = 0.5
    max_iter: int = 200
    shuffle: bool = True
    tol: float = 1e-4
    verbose: Any = False
    momentum: float = 0.9
    nesterovs_momentum: bool = True
    early_stopping: bool = False
    validation_fraction: float = 0.1
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    n_iter_no_change: Any = 10
    random_state: Any = None
    stratify: bool = False
    predict_batch_rows: int = 2048


def make_optimizer(config, params):
    """The stochastic optimizer ``config.solver`` names, for ``params``
    (AdaGrad and RMSprop with the book's constants: ``epsilon=1e-7``,
    RMSprop's ``decay_rate=0.99``; ``epsilon``, ``beta_1`` and ``beta_2``
    are Adam's)."""
    if config.solver == "sgd":
        return OPTIMIZERS["sgd"](params, config.learning_rate_init, config.learning_rate,
                                 config.momentum, config.nesterovs_momentum, config.power_t)
    if config.solver in ("adagrad", "rmsprop"):
        return OPTIMIZERS[config.solver](params, config.learning_rate_init)
    return OPTIMIZERS["adam"](params, config.learning_rate_init, config.beta_1,
                              config.beta_2, config.epsilon)


def forward_in_batches(network, X, dtype, rows):
    """Inference logits of validated 2-D ``X`` (dense or sparse), ``rows`` at a time."""
    backend = network.backend
    outs = []
    for s in gen_batches(X.shape[0], rows):   # a sparse X stays sparse
        outs.append(network.forward(input_rows(X, s, backend, dtype)))
    return outs[0] if len(outs) == 1 else backend.xp.concat(outs, axis=0)


class _Data:
    """One fit's training arrays on the backend, and the mini-batches."""

    def __init__(self, backend, dtype, X, Y, sw, batch_size):
        self.sparse = sp.issparse(X)
        self.n_samples = X.shape[0]
        self.X = X if self.sparse else backend.asarray(X, dtype=dtype)
        self.Y = backend.asarray(Y, dtype=dtype)
        self.sw = None if sw is None else backend.asarray(sw, dtype=dtype)
        self.batches = list(gen_batches(self.n_samples, batch_size))
        self.order = np.arange(self.n_samples)
        self.order_dev = None

    def batch(self, backend, dtype, s, shuffled):
        """Inputs, targets and weights of batch ``s`` (a slice of the order)."""
        xp = backend.xp
        if self.sparse:
            rows = self.order[s]
            Xb = sparse_batch(self.X, backend, dtype, rows)   # CSR rows, never densified
            rows = backend.asarray(rows)
        elif shuffled:
            rows = self.order_dev[s]
            Xb = xp.take(self.X, rows, axis=0)
        else:
            Xb, Yb = self.X[s, ...], self.Y[s, ...]
            return Xb, Yb, None if self.sw is None else self.sw[s]
        Yb = xp.take(self.Y, rows, axis=0)
        swb = None if self.sw is None else xp.take(self.sw, rows, axis=0)
        return Xb, Yb, swb


class MiniBatchTrainer:
    """Trains a :class:`~sknets.training.FitState` with SGD, Adam, AdaGrad or RMSprop.

    Parameters
    ----------
    state : FitState
        The state to train (changed in place; the estimator commits it).
    config : MiniBatchConfig
    decode_targets : callable
        ``decode_targets(Y)``: encoded targets back to the user's (for scoring).
    score_output : callable
        ``score_output(output, y, sample_weight)``: the validation score
        (accuracy, R²) of the output activation's values.
    tasks : FitTasks
        The callback hooks of this fit.

    The steps, in the order :meth:`run` calls them: :meth:`prepare`
    (optimizer, validation split, arrays on the backend), then per epoch
    :meth:`run_epoch`, :meth:`check_divergence`, :meth:`record_epoch` (with
    :meth:`validate`), :meth:`should_stop`; finally :meth:`finish`.
    """

    def __init__(self, state, config, decode_targets, score_output, tasks):
        self.state = state
        self.config = config
        self.decode_targets = decode_targets
        self.score_output = score_output
        self.tasks = tasks

    # ------------------------------------------------------------ the steps
    def prepare(self, X, Y, sample_weight, incremental):
        """Optimizer (new unless continuing a ``partial_fit``), validation
        split, the loss bound and the training arrays on the backend."""
        state, config = self.state, self.config
        if config.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not incremental or state.optimizer is None:
            state.optimizer = make_optimizer(config, state.network.params).to(
                state.network.backend)   # the backend's kernels do its steps
        if config.early_stopping and state.validation_scores is None:
            state.validation_scores, state.best_validation_score = [], -np.inf
        elif (config.early_stopping and state.best_weights is None
              and np.isfinite(state.best_validation_score)):
            # A warm start: the last fit ended on its best weights and dropped
            # the copy; the network's weights are that copy.
            state.best_weights = state.network.get_weights()
        elif not config.early_stopping and state.best_loss is None:
            state.best_loss = np.inf
        train, self.val = self.split_validation(X, Y, sample_weight)
        X, Y, sw = train
        self.bound = training_loss_bound(state.network, state.loss, config.alpha, Y, sw)
        self.X_train = X   # for the messages
        backend, dtype = state.network.backend, state.dtype
        n = X.shape[0]
        if config.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if config.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                              "It is going to be clipped", stacklevel=2)
            batch_size = int(np.clip(config.batch_size, 1, n))
        self.data = _Data(backend, dtype, X, Y, sw, batch_size)

    def split_validation(self, X, Y, sample_weight):
        """``(X, Y, sw)`` to train on and the validation ``(X, Y, y, sw)`` (None
        without early stopping), split as scikit-learn's MLP splits."""
        config = self.config
        if not config.early_stopping:
            return (X, Y, sample_weight), None
        # The binary target as a bool, as scikit-learn stratifies (the same
        # split, and its message when a class is too small to split).
        stratify = Y.astype(bool) if config.stratify and Y.shape[1] == 1 else None
        # Row indices (the same rows as splitting the arrays), so X can be of
        # any namespace; Y and sample_weight are NumPy here.
        train, val = train_test_split(np.arange(X.shape[0]), random_state=config.random_state,
                                      test_size=config.validation_fraction, stratify=stratify)
        sw_train = sw_val = None
        if sample_weight is not None:
            sw_train, sw_val = sample_weight[train], sample_weight[val]
        X_val = take_rows(X, val)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        if not sp.issparse(X_val):   # to the device once, not per epoch
            X_val = self.state.network.backend.asarray(X_val, dtype=self.state.dtype)
        Y_val = Y[val]
        return (take_rows(X, train), Y[train], sw_train), (X_val, Y_val,
                                                           self.decode_targets(Y_val), sw_val)

    def run_epoch(self, interrupt):
        """One pass over the shuffled mini-batches; the summed loss (0-d, on
        the backend). Ctrl-C stops it after the current batch."""
        state, config, data = self.state, self.config, self.data
        net, backend, dtype = state.network, state.network.backend, state.dtype
        if config.shuffle:
            data.order = shuffle(data.order, random_state=config.random_state)
            data.order_dev = None if data.sparse else backend.asarray(data.order)
        epoch_ctx = self.tasks.epoch_begin(len(data.batches))
        self.epoch_ctx = epoch_ctx
        self.accumulated, self.seen = 0.0, 0
        for s in data.batches:
            batch_ctx = self.tasks.batch_begin(epoch_ctx)
            Xb, Yb, swb = data.batch(backend, dtype, s, config.shuffle)
            batch_loss = batch_loss_and_grads(net, state.loss, config.alpha, Xb, Yb, swb)
            self.accumulated = self.accumulated + batch_loss * (s.stop - s.start)
            self.seen = s.stop
            state.optimizer.update_params(net.params, net.grads)
            self.tasks.batch_end(batch_ctx)
            interrupt.check()
        return self.accumulated

    def check_divergence(self, loss_sum, snapshot, tic):
        """After an epoch: True when it diverged (loss or weights non-finite, or
        the loss past its bound).

        The epoch's weights are then replaced by those before it. Without
        early stopping (or before any validation score) this raises
        :class:`~sknets.exceptions.DivergenceError`: the fit fails and the
        estimator stays as it was. With early stopping, as scikit-learn's MLP,
        the epoch is recorded (``nan`` validation score) and training stops
        on the best epoch's weights, with a warning.
        """
        state, net = self.state, self.state.network
        loss_sum, weights_ok = read_back(net.backend.xp, loss_sum, net.finite_flag())
        state.loss_value = loss_sum / self.data.n_samples
        if np.isfinite(state.loss_value) and weights_ok and state.loss_value <= self.bound:
            return False
        net.set_weights(snapshot)
        what = divergence_cause(state.loss_value, weights_ok, self.bound)
        learning_rate = state.optimizer.learning_rate
        state.optimizer = None   # its state (moments, velocities) is spoiled too
        if not (self.config.early_stopping and state.best_weights is not None):
            raise DivergenceError(
                f"{NON_FINITE_MESSAGE} Training diverged at epoch {state.n_iter}: {what}. "
                "The estimator was left as it was before this fit. " + scale_hint(self.X_train))
        state.loss_curve.append(state.loss_value)
        state.validation_scores.append(np.nan)
        self.log.record({"epoch": len(state.loss_curve), "train_loss": state.loss_value,
                         "valid_loss": np.nan, "valid_score": np.nan,
                         "learning_rate": learning_rate, "dur": time.perf_counter() - tic})
        state.stop_reason = f"Diverged at epoch {state.n_iter}: {what}."
        return True

    def validate(self):
        """Validation loss and score of the epoch; keeps the best weights.

        The validation logits are read back to the host once (the score is
        scikit-learn's, computed there); the loss is computed there from them.
        """
        state = self.state
        X_val, Y_val, y_val, sw_val = self.val
        xp_host = array_api_compat.numpy
        z = to_numpy(forward_in_batches(state.network, X_val, state.dtype,
                                        self.config.predict_batch_rows))
        Y = np.asarray(Y_val, dtype=z.dtype)
        sw = None if sw_val is None else np.asarray(sw_val, dtype=z.dtype)
        sw_sum = None if sw is None else np.sum(sw)
        valid_loss = float(state.loss.loss(xp_host, z, Y, sw, sw_sum))
        score = self.score_output(state.loss.output(xp_host, z), y_val, sw_val)
        state.validation_scores.append(score)
        if score > state.best_validation_score:
            state.best_weights = state.network.get_weights()
        return {"valid_loss": valid_loss, "valid_score": score}

    def record_epoch(self, tic):
        """Loss curve, validation, the stopping rule's counters, schedule and
        history record of the epoch just run."""
        state, config = self.state, self.config
        state.t += self.data.n_samples
        state.loss_curve.append(state.loss_value)
        record = {"epoch": len(state.loss_curve), "train_loss": state.loss_value}
        if config.early_stopping:
            record.update(self.validate())
        self._update_no_improvement_count()
        record["learning_rate"] = state.optimizer.learning_rate
        state.optimizer.iteration_ends(state.t)
        record["dur"] = time.perf_counter() - tic
        self.log.record(record)

    def _update_no_improvement_count(self):
        state, tol = self.state, self.config.tol
        if self.config.early_stopping:
            last = state.validation_scores[-1]
            worse = last < state.best_validation_score + tol
            if last > state.best_validation_score:
                state.best_validation_score = last
        else:
            last = state.loss_curve[-1]
            worse = last > state.best_loss - tol
            if last < state.best_loss:
                state.best_loss = last
        state.no_improvement_count = state.no_improvement_count + 1 if worse else 0

    def should_stop(self, incremental):
        """The reason to stop after this epoch, or None (scikit-learn's rule:
        more than ``n_iter_no_change`` epochs without improvement by ``tol``)."""
        state, config = self.state, self.config
        if state.no_improvement_count > config.n_iter_no_change:
            what = "Validation score" if config.early_stopping else "Training loss"
            msg = (f"{what} did not improve more than tol={config.tol:f} for "
                   f"{config.n_iter_no_change} consecutive epochs.")
            if state.optimizer.trigger_stopping(msg, False):
                return msg
            state.no_improvement_count = 0
        if incremental:
            return "partial_fit runs one epoch."
        if state.n_iter == config.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({config.max_iter}) "
                          "reached and the optimization hasn't converged yet.",
                          ConvergenceWarning, stacklevel=2)
            return f"max_iter={config.max_iter} epochs reached."
        return None

    # -------------------------------------------------------------- the run
    def run(self, X, Y, sample_weight, incremental):
        """Train on validated ``X`` and encoded ``Y`` (NumPy); returns True when
        Ctrl-C stopped training (the state is then consistent and usable)."""
        state, config = self.state, self.config
        self.prepare(X, Y, sample_weight, incremental)
        self.log = EpochLog(state, config.verbose, 1 if incremental else config.max_iter)
        state.stop_reason = None
        diverged = interrupted = False
        interrupt = DeferredInterrupt().install()  # Ctrl-C: stop after the current batch
        try:
            state.n_iter = 0   # as scikit-learn: the epochs of this call only
            for _ in range(config.max_iter):
                tic = time.perf_counter()
                snapshot = state.network.get_weights()
                loss_sum = self.run_epoch(interrupt)
                state.n_iter += 1
                if self.check_divergence(loss_sum, snapshot, tic):
                    diverged = True
                    break
                self.record_epoch(tic)
                if self.tasks.epoch_end(self.epoch_ctx):
                    state.stop_reason = "a callback asked to stop."
                    break
                state.stop_reason = self.should_stop(incremental)
                if state.stop_reason is not None:
                    break
        except TrainingInterrupted:
            interrupted = True
            state.stop_reason = INTERRUPTED
            if state.n_iter == 0:   # stopped within this call's first epoch:
                state.loss_value = float(self.accumulated) / self.seen   # its batches' mean
        finally:
            interrupt.uninstall()
            state.network.release_work()
        self.finish(diverged)
        if state.optimizer is not None:
            # The moments or velocities stay (a partial_fit continues them, as
            # scikit-learn's); the work arrays of the in-place updates go.
            state.optimizer.release_work()
        return interrupted

    def finish(self, diverged):
        """Best weights restored (early stopping), ``best_epoch``, the closing line."""
        state, early = self.state, self.config.early_stopping
        restored = early and state.best_weights is not None
        if restored:
            state.network.set_weights(state.best_weights)
            # The network now holds the best weights: the copy is dropped (a
            # warm start takes it from the network again, see prepare).
            state.best_weights = None
        state.best_epoch = self.log.best_epoch("valid_score_best" if early else
                                               "train_loss_best")
        last = state.history[-1]["epoch"] if state.history else 0
        message = f"Stopped after epoch {last}: {state.stop_reason}"
        if restored:
            message += f" Restored the best weights, from epoch {state.best_epoch}."
        self.log.message(message)
        state.closing_message = message
        if diverged:
            reason = state.stop_reason
            warnings.warn(f"Training {reason[0].lower()}{reason[1:]} Stopped and restored the "
                          f"best weights, from epoch {state.best_epoch}. "
                          + scale_hint(self.X_train), ConvergenceWarning, stacklevel=5)
