"""The perceptron's per-sample trainer: scikit-learn's plain SGD, as it computes it.

scikit-learn's perceptron (its ``_plain_sgd``) differs from mini-batch
training in ways a mini-batch trainer cannot express:

- one update per sample, each one-vs-rest problem in its own order, drawn
  from its own seed by scikit-learn's xorshift Fisher-Yates shuffle
  (:mod:`sknets._sgd_draws`);
- each problem stops on its own (its own loss history, its own validation
  score), so ``n_iter`` is the maximum over problems;
- the stopping rule compares the epoch's summed per-sample loss (plus the
  penalty) against the best by ``tol`` with ``>= n_iter_no_change``, and early
  stopping scores each problem on a held-out split without restoring weights;
- penalties are weight decay (L2) and Tsuruoka et al.'s cumulative truncated
  L1 [1]_, applied at every sample; class weights weigh the positive and
  negative samples of each problem differently.

So :class:`PerceptronTrainer` runs the epochs with the functions of
:mod:`sknets._perceptron_epoch` (scikit-learn's arithmetic in its order, on
the host: compiled with numba when it is installed, else the NumPy
reference engine), in chunks of :data:`CHUNK_ROWS` training samples (what
callbacks see as batches; Ctrl-C stops training between two), and puts the
weights back into the network's ``Dense`` layer, on the network's backend,
after each epoch.

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
from sklearn.metrics import accuracy_score
from sklearn.utils.extmath import safe_sparse_dot

from .._checks import max_abs
from .._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .._perceptron_epoch import SGDRule, WeightState, begin_epoch, run_chunk
from .._perceptron_ovr import StoppingRule, validation_scores
from ..backend import to_numpy
from ..exceptions import DivergenceError
from ._common import EpochLog, TrainerConfig

__all__ = ["CHUNK_ROWS", "PerceptronConfig", "PerceptronTrainer"]

#: training samples per chunk: the callbacks' batches, and how often Ctrl-C is looked at.
CHUNK_ROWS = 4096


@dataclass
class PerceptronConfig(TrainerConfig):
    """The parameters of a perceptron fit (scikit-learn's ``Perceptron`` names),
    with the epoch functions' ``engine`` ("auto": numba when installed) and
    ``n_jobs`` (threads running the one-vs-rest problems side by side)."""

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
    n_jobs: Any = None
    engine: str = "auto"

    def rule(self):
        """The per-sample rule's constants."""
        return SGDRule(penalty=self.penalty, alpha=self.alpha, l1_ratio=self.l1_ratio,
                       eta0=self.eta0, fit_intercept=self.fit_intercept, shuffle=self.shuffle)


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
    epoch :meth:`run_epoch`, :meth:`check_divergence`, :meth:`score_epoch`,
    :meth:`update_problems`, :meth:`write_back` and the record; the closing
    line at the end.
    """

    def __init__(self, state, config, decode_targets, tasks):
        self.state = state
        self.config = config
        self.decode_targets = decode_targets
        self.tasks = tasks

    # ------------------------------------------------------------ the steps
    def prepare(self, problems, y):
        """The weight vectors from the network's layer (scikit-learn starts a
        new one each call), the stopping rule, the held-out rows' targets."""
        config = self.config
        dense = self.state.network.layers[0]
        coef = to_numpy(dense.params["W"]).T.astype(self.state.dtype)
        self.problems = problems
        self.weights = WeightState(coef, to_numpy(dense.params["b"]), problems.Y.shape[1])
        self.rule = config.rule()
        self.tol = -np.inf if config.tol is None else float(config.tol)
        self.stopping = StoppingRule(problems.Y.shape[0], config.tol, config.n_iter_no_change,
                                     config.early_stopping)
        self.train_count = problems.train_count
        self.train_objective = np.zeros(problems.Y.shape[0])
        self.x_max = max_abs(problems.X)   # for the logits' bound checked after each epoch
        if config.early_stopping:
            mask = problems.validation_mask
            self.X_val, self.y_val = problems.X[mask], y[mask]
            self.Y_val = np.ascontiguousarray(problems.Y[:, mask].T)
            self.sw_val = problems.sample_weight[mask]

    def run_epoch(self, interrupt):
        """One pass of every active problem over its training samples, chunk
        by chunk; returns the problems that ran and the epoch's sums.
        Ctrl-C stops it after a chunk."""
        config, problems = self.config, self.problems
        ran = self.stopping.active.copy()
        result = begin_epoch(problems, self.weights, self.rule, ran, config.engine)
        starts = range(0, self.train_count, CHUNK_ROWS)
        self.epoch_ctx = self.tasks.epoch_begin(len(starts))
        for start in starts:
            chunk_ctx = self.tasks.batch_begin(self.epoch_ctx)
            run_chunk(problems, self.weights, self.rule, ran, result, start,
                      min(start + CHUNK_ROWS, self.train_count), config.engine, config.n_jobs)
            self.tasks.batch_end(chunk_ctx)
            interrupt.check()   # Ctrl-C: stop after this chunk, weights consistent
        return ran, result

    def coef(self):
        """The weights ``w * wscale``, shape (n_problems, n_features) (a copy:
        scikit-learn folds ``wscale`` into ``w`` only at the end of a call)."""
        w = self.weights
        return w.w * w.wscale[:, None].astype(w.w.dtype)

    def check_divergence(self, ran, result, epoch):
        """Raise DivergenceError unless the weights are finite and no logit
        ``w @ x + b`` can overflow the compute dtype."""
        dtype = self.state.dtype
        with np.errstate(over="ignore", invalid="ignore"):
            bound = np.max(np.sum(np.abs(self.coef()), axis=1, dtype=np.float64) * self.x_max
                           + np.abs(self.weights.intercept))
            fits = np.isfinite(dtype.type(bound))
        if result.finite[ran].all() and fits:
            return
        what = ("weights" if not result.finite[ran].all() else
                "bound on the logits w @ x + b (they can overflow)")
        raise DivergenceError(
            f"Floating-point under-/overflow occurred at epoch #{epoch + 1}: the {what} "
            f"became non-finite in {dtype.name}; the estimator was left as it "
            "was before this fit. Scaling input data with StandardScaler or MinMaxScaler "
            f"(the largest absolute value of X is {self.x_max:.3g}), a smaller eta0, or "
            "dtype=\"float64\" might help.")

    def score_epoch(self, ran, result, record):
        """Fill the record's losses and scores; return each problem's figure
        for the stopping rule (validation accuracy, or training objective)."""
        self.train_objective[ran] = result.objective[ran] / self.train_count
        # the problems' objectives, a stopped problem's as it last was
        record["train_loss"] = float(np.sum(self.train_objective))
        if not self.config.early_stopping:
            return result.objective / self.train_count
        z_val = (safe_sparse_dot(self.X_val, self.coef().T, dense_output=True)
                 + self.weights.intercept).astype(self.state.dtype)
        sw_sum = np.sum(self.sw_val)
        record["valid_loss"] = float(self.state.loss.loss(array_api_compat.numpy, z_val,
                                                          self.Y_val, self.sw_val, sw_sum))
        record["valid_score"] = accuracy_score(self.y_val, self.decode_targets(z_val),
                                               sample_weight=self.sw_val)
        return validation_scores(self.problems, self.weights)   # scikit-learn's figures

    def update_problems(self, figures, epoch):
        """Each active problem's stopping rule after ``epoch``."""
        self.stopping.update(epoch, figures)

    def write_back(self):
        """The weights into the network's ``Dense`` layer, on its backend."""
        net = self.state.network
        dense, dtype = net.layers[0], self.state.dtype
        dense.params["W"] = net.backend.asarray(np.ascontiguousarray(self.coef().T, dtype=dtype))
        dense.params["b"] = net.backend.asarray(self.weights.intercept.astype(dtype))

    def stopped_message(self):
        what = "Validation score" if self.config.early_stopping else "Training loss"
        return (f"{what} did not improve more than tol={self.tol:g} for "
                f"{self.config.n_iter_no_change} consecutive epochs (every one-vs-rest problem).")

    # -------------------------------------------------------------- the run
    def run(self, problems, y, max_iter):
        """Up to ``max_iter`` epochs of the one-vs-rest ``problems``
        (:class:`~sknets._perceptron_epoch.Problems`; ``y`` the labels); sets
        ``state.n_iter`` (the maximum over the problems); returns True when
        Ctrl-C stopped training."""
        state = self.state
        self.prepare(problems, y)
        epochs_before = len(state.history)
        self.log = EpochLog(state, self.config.verbose, max_iter)
        state.stop_reason = None
        interrupted = False
        interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after the current chunk
        try:
            for epoch in range(max_iter):
                if not self.stopping.active.any():
                    state.stop_reason = self.stopped_message()
                    break
                tic = time.perf_counter()
                ran, result = self.run_epoch(interrupt)
                self.check_divergence(ran, result, epoch)
                record = {"epoch": epochs_before + epoch + 1}
                self.update_problems(self.score_epoch(ran, result, record), epoch)
                self.write_back()   # what callbacks see of the model
                if not self.stopping.active.any():
                    state.stop_reason = self.stopped_message()
                record["learning_rate"] = float(self.config.eta0)
                record["dur"] = time.perf_counter() - tic
                self.log.record(record)
                if self.tasks.epoch_end(self.epoch_ctx):
                    state.stop_reason = "a callback asked to stop."
                    break
            else:
                if self.stopping.active.any():
                    state.stop_reason = f"max_iter={max_iter} epoch(s) reached."
        except TrainingInterrupted:
            interrupted = True
            state.stop_reason = INTERRUPTED
        finally:
            interrupt.uninstall()
        self.write_back()
        state.n_iter = int(self.stopping.n_iter.max())
        state.best_epoch = self.log.best_epoch("valid_score_best" if self.config.early_stopping
                                               else "train_loss_best")
        last = state.history[-1]["epoch"] if state.history else 0
        state.closing_message = f"Stopped after epoch {last}: {state.stop_reason}"
        self.log.message(state.closing_message)
        return interrupted
