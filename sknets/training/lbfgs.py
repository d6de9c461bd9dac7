"""The L-BFGS trainer: SciPy's L-BFGS-B on the full batch, as scikit-learn's MLP.

SciPy keeps the flat weight vector on the host: every evaluation copies the
weights to the backend and the gradient back. The loss must be a
deterministic function of the weights, so a network with a stochastic layer
(:attr:`~sknets.layers.Layer.stochastic`: dropout) is refused. Layers that
keep running state (:attr:`~sknets.layers.Layer.keeps_running_state`: batch
normalization) get it from one full pass over the training data at the end,
so inference on that data equals the training forward L-BFGS minimised.
"""

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.utils.optimize import _check_optimize_result

from .._checks import divergence_cause, scale_hint, training_loss_bound
from .._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .._sparse import sparse_batch
from ..backend import to_numpy
from ..exceptions import DivergenceError
from ._common import NON_FINITE_MESSAGE, EpochLog, TrainerConfig, batch_loss_and_grads

__all__ = ["LbfgsConfig", "LbfgsTrainer"]


@dataclass
class LbfgsConfig(TrainerConfig):
    """The parameters of an L-BFGS fit (scikit-learn's MLP names)."""

    alpha: float = 0.0001
    max_iter: int = 200
    max_fun: int = 15000
    tol: float = 1e-4
    verbose: Any = False


class _FlatWeights:
    """The trainable arrays of a network as one float64 vector (SciPy's view)."""

    def __init__(self, network, dtype):
        self.network, self.dtype = network, dtype
        self.slots = [(layer, k) for layer in network.trainable_layers for k in layer.params]
        self.shapes = [tuple(layer.params[k].shape) for layer, k in self.slots]
        self.bounds = np.cumsum([0] + [int(np.prod(s)) for s in self.shapes])

    def pack(self):
        return np.concatenate([to_numpy(layer.params[k]).ravel()
                               for layer, k in self.slots]).astype(np.float64)

    def unpack(self, theta):
        backend = self.network.backend
        for (layer, k), shape, a, b in zip(self.slots, self.shapes, self.bounds[:-1],
                                           self.bounds[1:]):
            layer.params[k] = backend.asarray(theta[a:b].reshape(shape), dtype=self.dtype)

    def gradient(self):
        return np.concatenate([to_numpy(layer.grads[k]).ravel()
                               for layer, k in self.slots]).astype(np.float64)


class LbfgsTrainer:
    """Trains a :class:`~sknets.training.FitState` with L-BFGS.

    Parameters
    ----------
    state : FitState
        The state to train (changed in place; the estimator commits it).
    config : LbfgsConfig
    tasks : FitTasks
        The callback hooks of this fit (each iteration is a leaf task).

    The steps, in the order :meth:`run` calls them: :meth:`check_network`,
    :meth:`prepare`, SciPy's minimisation with :meth:`objective` and
    :meth:`record_iteration`, then :meth:`finish` (final weights, running
    state, the divergence check).
    """

    def __init__(self, state, config, tasks):
        self.state = state
        self.config = config
        self.tasks = tasks

    def check_network(self):
        """Refuse stochastic layers: L-BFGS needs a deterministic loss."""
        stochastic = self.state.network.stochastic
        if stochastic:
            names = ", ".join(layer.describe() for layer in stochastic)
            raise ValueError(
                f"solver='lbfgs' needs a deterministic loss, but the network has layers "
                f"that draw random numbers in training ({names}: a new random mask at every "
                "evaluation); use solver='adam' or 'sgd', or a dropout rate of 0.")

    def prepare(self, X, Y, sample_weight):
        """The full batch on the backend, the flat weights, the loss bound."""
        state, backend = self.state, self.state.network.backend
        dtype = state.dtype
        # a sparse X stays sparse (a first Dense layer takes it as it is)
        self.X_dev = (sparse_batch(X, backend, dtype) if sp.issparse(X)
                      else backend.asarray(X, dtype=dtype))
        self.Y_dev = backend.asarray(Y, dtype=dtype)
        self.sw_dev = (None if sample_weight is None
                       else backend.asarray(sample_weight, dtype=dtype))
        self.flat = _FlatWeights(state.network, dtype)
        self.bound = training_loss_bound(state.network, state.loss, self.config.alpha, Y,
                                         sample_weight)
        self.X = X   # for the messages
        state.loss_curve = []
        state.history = []
        state.stop_reason = None
        state.best_epoch = None

    def objective(self, theta):
        """Loss and gradient (float64, on the host) at weights ``theta``."""
        self.flat.unpack(theta)
        state = self.state
        loss = batch_loss_and_grads(state.network, state.loss, self.config.alpha,
                                    self.X_dev, self.Y_dev, self.sw_dev)
        return float(loss), self.flat.gradient()

    def record_iteration(self, intermediate_result):
        """SciPy's callback: one history record (and table row) per iteration;
        a callback asking to stop, or Ctrl-C, ends the minimisation here."""
        self.last = (intermediate_result.x.copy(), intermediate_result.fun)
        state = self.state
        state.loss_curve.append(float(intermediate_result.fun))
        now = time.perf_counter()
        self.log.record({"epoch": len(state.loss_curve), "train_loss": state.loss_curve[-1],
                         "dur": now - self.tic})
        self.tic = now
        if self.tasks.iteration():
            state.stop_reason = "a callback asked to stop."
            raise StopIteration
        self.interrupt.check()

    def run(self, X, Y, sample_weight, incremental=False):
        """Train on validated ``X`` and encoded ``Y``; True when Ctrl-C stopped it."""
        self.check_network()
        self.prepare(X, Y, sample_weight)
        config, state = self.config, self.state
        theta0 = self.flat.pack()
        self.last = (theta0, np.nan)   # the last accepted iterate
        self.log = EpochLog(state, config.verbose, config.max_iter)
        self.tic = time.perf_counter()
        self.interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after this iteration
        try:
            result = scipy.optimize.minimize(
                self.objective, theta0, method="L-BFGS-B", jac=True,
                callback=self.record_iteration,
                options={"maxfun": config.max_fun, "maxiter": config.max_iter,
                         "gtol": config.tol})
        except (TrainingInterrupted, StopIteration) as exc:   # StopIteration: scipy < 1.11
            result = None
            if isinstance(exc, TrainingInterrupted):
                state.stop_reason = INTERRUPTED
        finally:
            self.interrupt.uninstall()
            state.network.release_work()
        self.finish(result)
        return state.stop_reason == INTERRUPTED

    def finish(self, result):
        """The final weights, ``n_iter``, running state from one full pass, the
        closing line; a meaningless final loss raises DivergenceError."""
        state = self.state
        if result is None or state.stop_reason is not None:
            state.n_iter = len(state.loss_curve)
            theta, state.loss_value = self.last[0], float(self.last[1])
        else:
            state.n_iter = _check_optimize_result("lbfgs", result, self.config.max_iter)
            theta, state.loss_value = result.x, float(result.fun)
            state.stop_reason = str(result.message)
        self.flat.unpack(theta)
        if any(layer.keeps_running_state for layer in state.network.layers):
            state.network.set_running_state(self.X_dev)
            state.network.release_work()
        message = f"Stopped after iteration {state.n_iter}: {state.stop_reason}"
        self.log.message(message)
        state.closing_message = message
        if not (state.network.weights_finite() and state.loss_value <= self.bound):
            raise DivergenceError(
                f"{NON_FINITE_MESSAGE} L-BFGS: "
                f"{divergence_cause(state.loss_value, True, self.bound)}. {scale_hint(self.X)}")
