"""Stochastic optimizers that update parameters in place.

The update rules and learning-rate schedules of SGD and Adam follow
scikit-learn's ``neural_network._stochastic_optimizers`` so that a given
``random_state`` trains the same way; AdaGrad and RMSprop follow the book
"Deep Learning from Scratch" (``common/optimizer.py``), formulas, operation
order and defaults. State arrays (velocities, moments, squared-gradient
sums) live on the same backend as the parameters. The element-wise steps are
the backend's kernels (:mod:`sknets._kernels`: in place with reused scratch
arrays on NumPy, one fused kernel per parameter array on CuPy and with
``backend="numba"``), all doing the same operations in the same order.

References
----------
.. [1] I. Sutskever, J. Martens, G. Dahl and G. Hinton, "On the importance of
   initialization and momentum in deep learning", ICML 2013 (Nesterov).
.. [2] D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization",
   ICLR 2015.
.. [3] J. Duchi, E. Hazan and Y. Singer, "Adaptive subgradient methods for
   online learning and stochastic optimization", JMLR 12, 2011 (AdaGrad).
.. [4] T. Tieleman and G. Hinton, "Lecture 6.5 - RMSprop: divide the gradient
   by a running average of its recent magnitude", COURSERA: Neural Networks
   for Machine Learning, 2012.
.. [5] K. Saito, "Deep Learning from Scratch" (O'Reilly Japan, 2016),
   section 6.1 and ``common/optimizer.py`` (AdaGrad, RMSprop).
"""

import math

from ._docstrings import inherit_docstrings
from .backend import namespace_backend, to_numpy


class BaseOptimizer:
    """Shared learning-rate bookkeeping.

    Parameters
    ----------
    learning_rate_init : float
        Initial step size.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)

    def __init__(self, learning_rate_init=0.001):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)

    def update_params(self, params, grads):
        """Take one step: update each array of ``params`` in place.

        Parameters
        ----------
        params : list of array
            The network's trainable arrays, in the backend's namespace.
        grads : list of array
            Their gradients, in the same order and shapes.
        """
        raise NotImplementedError

    def iteration_ends(self, time_step):
        """Update the learning rate at the end of an epoch (its schedule).

        Parameters
        ----------
        time_step : int
            The number of samples seen so far.
        """

    def trigger_stopping(self, msg, verbose):
        """Decide whether training stops when it stalls.

        Parameters
        ----------
        msg : str
            Why training stalls (printed with ``verbose``).
        verbose : bool
            Print what is decided.

        Returns
        -------
        stop : bool
            True to stop training; the adaptive SGD schedule divides its
            step by 5 instead, until it is below 1e-6.
        """
        if verbose:
            print(msg + " Stopping.")
        return True

    def _state_arrays(self):
        return []

    def _kernels(self, params):
        """The kernels of the backend the parameters live on, and the dict
        where they may keep scratch arrays between steps (dropped by
        :meth:`to` and by pickling)."""
        backend = getattr(self, "backend", None)
        if backend is None:
            backend = namespace_backend(_namespace(params[0]))
        if getattr(self, "_work", None) is None:
            self._work = {}
        return backend.kernels, self._work

    def release_work(self):
        """Drop the work arrays of :meth:`_scratch` (made again when needed):
        a fitted model does not carry them."""
        self._work = None

    def to(self, backend):
        """Move the optimizer state to another backend, whose kernels then do the steps.

        Parameters
        ----------
        backend : Backend
            Where the state arrays go.

        Returns
        -------
        self : BaseOptimizer
            The optimizer, moved.
        """
        for name in self._state_arrays():
            setattr(self, name, [backend.asarray(a) for a in getattr(self, name)])
        self._work = {}
        self.backend = backend
        return self

    def copied(self, backend):
        """A copy whose state arrays are its own (to train further without
        changing this optimizer).

        Parameters
        ----------
        backend : Backend
            Where the copy's state arrays live.

        Returns
        -------
        optimizer : BaseOptimizer
            The copy.
        """
        twin = object.__new__(type(self))   # not copy.copy: __getstate__ converts to NumPy
        vars(twin).update(vars(self))
        xp = backend.xp
        for name in self._state_arrays():
            setattr(twin, name, [xp.asarray(backend.asarray(a), copy=True)
                                 for a in getattr(self, name)])
        twin._work = {}
        twin.backend = backend
        return twin

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("_work", None)
        state.pop("backend", None)
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
        The initial step size.
    lr_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        ``invscaling`` sets ``lr = learning_rate_init / (t + 1) ** power_t``
        after each epoch (``t`` samples seen); ``adaptive`` divides the rate by
        5 each time training stalls, until it falls below ``1e-6``.
    momentum : float, default=0.9
        The velocity's decay (0: plain SGD).
    nesterov : bool, default=True
        Use Nesterov's momentum.
    power_t : float, default=0.5
        Exponent of the ``invscaling`` schedule.
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
        if not params:
            return
        kernels, work = self._kernels(params)
        kernels.sgd_step(params, grads, self.velocities, learning_rate=self.learning_rate,
                         momentum=self.momentum, nesterov=self.nesterov, work=work)


class Adam(BaseOptimizer):
    """Adam: adaptive moment estimation [2]_.

    Parameters
    ----------
    params : list of arrays
        The parameters to optimize (used for the state's shapes).
    learning_rate_init : float, default=0.001
        The step size.
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
        if not params:
            return
        kernels, work = self._kernels(params)
        kernels.adam_step(params, grads, self.ms, self.vs, learning_rate=self.learning_rate,
                          beta_1=b1, beta_2=b2, epsilon=self.epsilon, work=work)


class AdaGrad(BaseOptimizer):
    """AdaGrad [3]_, as the book "Deep Learning from Scratch" writes it [5]_.

    Each parameter's step shrinks with the sum of its squared gradients::

        h += g * g
        p -= lr * g / (sqrt(h) + epsilon)

    ``h`` starts at zero. The operations and their order are the book's
    ``AdaGrad.update`` (``common/optimizer.py``), so the steps equal it to
    the rounding of each operation.

    Parameters
    ----------
    params : list of arrays
        The parameters to optimize (used for the state's shapes).
    learning_rate_init : float, default=0.01
        The step size ``lr`` (the book's default).
    epsilon : float, default=1e-7
        Added to ``sqrt(h)`` (the book's constant).
    """

    def __init__(self, params, learning_rate_init=0.01, epsilon=1e-7):
        super().__init__(learning_rate_init)
        self.epsilon = epsilon
        self.hs = [_zeros_like(p) for p in params]

    def _state_arrays(self):
        return ["hs"]

    def update_params(self, params, grads):
        if not params:
            return
        kernels, work = self._kernels(params)
        kernels.adagrad_step(params, grads, self.hs, learning_rate=self.learning_rate,
                             epsilon=self.epsilon, work=work)


class RMSprop(BaseOptimizer):
    """RMSprop [4]_, as the book "Deep Learning from Scratch" writes it [5]_.

    AdaGrad with a decaying average of the squared gradients::

        h = decay_rate * h + (1 - decay_rate) * g * g
        p -= lr * g / (sqrt(h) + epsilon)

    ``h`` starts at zero (no bias correction). The operations and their
    order are the book's ``RMSprop.update`` (``common/optimizer.py``).

    Parameters
    ----------
    params : list of arrays
        The parameters to optimize (used for the state's shapes).
    learning_rate_init : float, default=0.01
        The step size ``lr`` (the book's default).
    decay_rate : float, default=0.99
        Weight of the past in the average of squared gradients (the book's
        default; Keras calls it ``rho``).
    epsilon : float, default=1e-7
        Added to ``sqrt(h)`` (the book's constant).
    """

    def __init__(self, params, learning_rate_init=0.01, decay_rate=0.99, epsilon=1e-7):
        super().__init__(learning_rate_init)
        self.decay_rate = decay_rate
        self.epsilon = epsilon
        self.hs = [_zeros_like(p) for p in params]

    def _state_arrays(self):
        return ["hs"]

    def update_params(self, params, grads):
        if not params:
            return
        kernels, work = self._kernels(params)
        kernels.rmsprop_step(params, grads, self.hs, learning_rate=self.learning_rate,
                             decay_rate=self.decay_rate, epsilon=self.epsilon, work=work)


def _namespace(a):
    from array_api_compat import array_namespace

    return array_namespace(a)


def _zeros_like(a):
    return _namespace(a).zeros_like(a)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adagrad": AdaGrad, "rmsprop": RMSprop}
