"""Inverted dropout.

References
----------
.. [1] N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and
   R. Salakhutdinov, "Dropout: a simple way to prevent neural networks from
   overfitting", JMLR 15, 2014.
"""

import numpy as np

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
    The masks are drawn on the host from a NumPy ``RandomState`` seeded, at
    ``build``, from the network's random state (so a fixed ``random_state``
    gives the same masks on every backend), then moved to the backend with
    :meth:`~sknets.backend.Backend.asarray`.
    """

    def __init__(self, rate=0.5):
        super().__init__()
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)

    def _init_params(self, input_shape, rng):
        self._rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        return {}

    def describe(self):
        return f"Dropout({self.rate:g})"

    def forward(self, X, training=False):
        if not training or self.rate == 0.0:
            return X
        keep = self._rng.random_sample(tuple(X.shape)) >= self.rate
        mask = self.backend.asarray(keep / (1.0 - self.rate), dtype=self.dtype)
        self._cache_mask = mask
        return X * mask

    def backward(self, dY):
        if self.rate == 0.0:
            return dY
        return dY * self._cache_mask
