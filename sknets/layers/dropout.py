"""Inverted dropout.

References
----------
.. [1] N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and
   R. Salakhutdinov, "Dropout: a simple way to prevent neural networks from
   overfitting", JMLR 15, 2014.
"""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import Layer


class Dropout(Layer):
    """Inverted dropout: zero each value with probability ``rate`` in training.

    Kept values are scaled by ``1 / (1 - rate)`` during training, so the layer
    is the identity at prediction time and needs no rescaling there.

    Parameters
    ----------
    rate : float in [0, 1), default=0.5
        Probability of dropping each value.

    Notes
    -----
    The masks are drawn on the backend, by its own generator
    (:meth:`~sknets.backend.Backend.uniform_sampler`), seeded at ``build``
    from the network's random state: a fixed ``random_state`` gives the same
    masks run after run, with no host draw and upload per mini-batch on a
    GPU. The stream of masks goes on across ``warm_start`` fits and
    ``partial_fit`` calls; a pickled layer restarts it from that seed.
    """

    _parameter_constraints = {"rate": [Interval(Real, 0, 1, closed="left")]}

    def __init__(self, rate=0.5):
        self.rate = rate

    def _init_params(self, input_shape, rng):
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        return {}

    def param_shapes(self, input_shape):
        return {}   # no weights: a seed for the masks only

    def activation_shapes(self, input_shape):
        return [tuple(input_shape)] * 2   # the mask and the output

    def describe(self):
        return f"Dropout({self.rate:g})"

    @property
    def stochastic(self):
        """True when ``rate > 0``: a new random mask at every training forward."""
        return self.rate > 0

    def forward(self, X, training=False):
        if not training or self.rate == 0.0:
            return X
        draw = getattr(self, "_sampler", None)
        if draw is None:
            draw = self._sampler = self.backend.uniform_sampler(self._seed)
        keep = draw(tuple(X.shape), self.dtype) >= self.rate
        mask = self.xp.astype(keep, X.dtype) * (1.0 / (1.0 - self.rate))
        self._cache_mask = mask
        return X * mask

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_sampler", None)   # a pickled layer restarts its masks from the seed
        return state

    def backward(self, dY):
        if self.rate == 0.0:
            return dY
        return dY * self._cache_mask
