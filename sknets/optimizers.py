"""Stochastic optimizers that update parameters in place.

The update rules and learning-rate schedules follow scikit-learn's
``neural_network._stochastic_optimizers`` so that a given ``random_state``
trains the same way. State arrays (velocities, moments) live on the same
backend as the parameters.

References
----------
.. [1] I. Sutskever, J. Martens, G. Dahl and G. Hinton, "On the importance of
   initialization and momentum in deep learning", ICML 2013 (Nesterov).
.. [2] D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization",
   ICLR 2015.
"""

import math

import numpy as np

from ._cupy_kernels import fused_step
from .backend import to_numpy, ufunc_namespace


class BaseOptimizer:
    """Shared learning-rate bookkeeping.

    Parameters
    ----------
    learning_rate_init : float
        Initial step size.
    """

    def __init__(self, learning_rate_init=0.001):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)

    def update_params(self, params, grads):
        """Update each array of ``params`` in place from ``grads``."""
        raise NotImplementedError

    def iteration_ends(self, time_step):
        """Hook at the end of an epoch; ``time_step`` counts samples seen."""

    def trigger_stopping(self, msg, verbose):
        """Called when training stalls; return True to stop training."""
        if verbose:
            print(msg + " Stopping.")
        return True

    def _state_arrays(self):
        return []

    def _scratch(self, params, n):
        """``n`` work arrays per parameter for in-place updates (NumPy/CuPy),
        allocated once and reused at every step."""
        scratch = getattr(self, "_work", None)
        if (scratch is None or len(scratch) != len(params)
                or any(w[0].shape != p.shape or w[0].dtype != p.dtype
                       or type(w[0]) is not type(p) for w, p in zip(scratch, params))):
            scratch = [tuple(ufunc_namespace(p).empty_like(p) for _ in range(n))
                       for p in params]
            self._work = scratch
        return scratch

    def to(self, backend):
        """Move the optimizer state to ``backend``."""
        for name in self._state_arrays():
            setattr(self, name, [backend.asarray(a) for a in getattr(self, name)])
        self._work = None
        return self

    def copied(self, backend):
        """A copy whose state arrays are its own, on ``backend`` (to train
        further without changing this optimizer)."""
        twin = object.__new__(type(self))   # not copy.copy: __getstate__ converts to NumPy
        vars(twin).update(vars(self))
        xp = backend.xp
        for name in self._state_arrays():
            setattr(twin, name, [xp.asarray(backend.asarray(a), copy=True)
                                 for a in getattr(self, name)])
        twin._work = None
        return twin

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("_work", None)
        for name in self._state_arrays():
            state[name] = [to_numpy(a).copy() for a in state[name]]
        return state


class SGD(BaseOptimizer):
    """Stochastic gradient descent with momentum and learning-rate schedules.

    Parameters
    ----------
    params : list of arrays
        The parameters to optimize (used for the state's shapes).
    learning_rate_init : float, default=0.1
    lr_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        ``invscaling`` sets ``lr = learning_rate_init / (t + 1) ** power_t``
        after each epoch (``t`` samples seen); ``adaptive`` divides the rate by
        5 each time training stalls, until it falls below ``1e-6``.
    momentum : float, default=0.9
    nesterov : bool, default=True
        Use Nesterov's momentum.
    power_t : float, default=0.5
    """

    def __init__(self, params, learning_rate_init=0.1, lr_schedule="constant",
                 momentum=0.9, nesterov=True, power_t=0.5):
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocities = [_zeros_like(p) for p in params]

    def _state_arrays(self):
        return ["velocities"]

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            try:
                self.learning_rate = (float(self.learning_rate_init)
                                      / (time_step + 1) ** self.power_t)
            except OverflowError:   # (t + 1) ** power_t beyond a float: no step left
                self.learning_rate = 0.0

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False

    def update_params(self, params, grads):
        lr, mu = self.learning_rate, self.momentum
        fast = ufunc_namespace(params[0]) if params else None
        if fast is not None and fast is not np and all(
                fused_step("nesterov" if self.nesterov else "momentum", (g, mu, lr), (p, v))
                for p, v, g in zip(params, self.velocities, grads)):
            return   # CuPy: one fused kernel per parameter array
        if fast is not None:  # NumPy/CuPy: the same arithmetic, no temporaries
            for p, v, g, (t1, t2) in zip(params, self.velocities, grads,
                                         self._scratch(params, 2)):
                v *= mu
                fast.multiply(g, lr, out=t1)
                v -= t1                          # v = mu v - lr g
                if self.nesterov:
                    fast.multiply(v, mu, out=t2)
                    t2 -= t1
                    p += t2                      # p += mu v - lr g
                else:
                    p += v
            return
        for p, v, g in zip(params, self.velocities, grads):
            v *= mu
            v -= lr * g
            if self.nesterov:
                p += mu * v - lr * g
            else:
                p += v


class Adam(BaseOptimizer):
    """Adam: adaptive moment estimation [2]_.

    Parameters
    ----------
    params : list of arrays
    learning_rate_init : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Numerical stability term.
    """

    def __init__(self, params, learning_rate_init=0.001, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8):
        super().__init__(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [_zeros_like(p) for p in params]
        self.vs = [_zeros_like(p) for p in params]

    def _state_arrays(self):
        return ["ms", "vs"]

    def update_params(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        self.learning_rate = (
            self.learning_rate_init
            * math.sqrt(1 - b2**self.t)
            / (1 - b1**self.t)
        )
        lr, eps = self.learning_rate, self.epsilon
        if not params:
            return
        fast = ufunc_namespace(params[0])
        if fast is not None and fast is not np and all(
                fused_step("adam", (g, b1, 1 - b1, b2, 1 - b2, lr, eps), (p, m, v))
                for p, m, v, g in zip(params, self.ms, self.vs, grads)):
            return   # CuPy: one fused kernel per parameter array
        if fast is not None:
            # NumPy/CuPy: the same operations in the same order (so the same
            # rounding) written into reused work arrays: an Adam step is a
            # dozen passes over the parameters, and fresh temporaries for each
            # cost as much again in allocation and cache misses.
            for p, m, v, g, (t1, t2) in zip(params, self.ms, self.vs, grads,
                                            self._scratch(params, 2)):
                m *= b1
                fast.multiply(g, 1 - b1, out=t1)
                m += t1                          # m = b1 m + (1 - b1) g
                v *= b2
                fast.multiply(g, g, out=t1)
                t1 *= 1 - b2
                v += t1                          # v = b2 v + (1 - b2) g^2
                fast.sqrt(v, out=t1)
                t1 += eps
                fast.multiply(m, lr, out=t2)
                fast.divide(t2, t1, out=t2)
                p -= t2                          # p -= lr m / (sqrt(v) + eps)
            return
        xp = _namespace(params[0])
        for p, m, v, g in zip(params, self.ms, self.vs, grads):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= lr * m / (xp.sqrt(v) + eps)


def _namespace(a):
    from array_api_compat import array_namespace

    return array_namespace(a)


def _zeros_like(a):
    return _namespace(a).zeros_like(a)


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
