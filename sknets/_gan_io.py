"""What a GAN's two networks see: noise and labels in, scaled samples out.

:class:`GANInputs` builds the generator's input (noise and one-hot labels),
the discriminator's input (samples and labels, flat or image-like) and the
gradient that flows from the discriminator's input back to the generated
samples; shared by :class:`~sknets.GenerativeAdversarialNetwork` (sampling)
and its trainer (:mod:`sknets._gan_trainer`).
"""

import math
import warnings

import numpy as np
from sklearn.base import clone

from .backend import get_backend
from .network import Sequential

__all__ = ["GANInputs", "output_shape"]


class GANInputs:
    """What the two networks see: noise and labels in, scaled samples out.

    The generator takes ``[z, onehot(y)]`` (``z`` standard normal noise of
    ``latent_dim`` values, drawn on the host) and returns flat rows in
    ``[-1, 1]``. The discriminator takes flat rows with the one-hot labels
    appended, or, for samples of shape ``(..., channels)``, the samples with
    one constant plane per class appended to the channels. Features that
    are constant in the training data are 0 in both real and generated
    rows (``mask``), so they tell the discriminator nothing.
    """

    def __init__(self, latent_dim, n_classes, sample_shape, mask, backend, dtype, rng):
        self.latent_dim = latent_dim
        self.n_classes = n_classes
        self.sample_shape = tuple(sample_shape)
        self.n_features = math.prod(self.sample_shape)
        self.backend = backend
        self.xp = backend.xp
        self.dtype = np.dtype(dtype)
        self.rng = rng
        self.mask = None if mask is None else backend.asarray(mask, dtype=self.dtype)

    @property
    def generator_input_shape(self):
        return (self.latent_dim + self.n_classes,)

    @property
    def discriminator_input_shape(self):
        if len(self.sample_shape) == 1:
            return (self.n_features + self.n_classes,)
        return self.sample_shape[:-1] + (self.sample_shape[-1] + self.n_classes,)

    def noise(self, n, rng=None):
        z = (self.rng if rng is None else rng).standard_normal((n, self.latent_dim))
        return self.backend.asarray(z, dtype=self.dtype)

    def generate(self, generator, n, C, training=False, z=None):
        """``n`` generated rows (scaled, masked) for one-hot labels ``C``."""
        z = self.noise(n) if z is None else z
        inputs = z if C is None else self.xp.concat([z, C], axis=1)
        out = generator.forward(inputs, training=training)
        return out if self.mask is None else out * self.mask

    def d_input(self, X, C):
        """The discriminator's input for flat scaled rows ``X`` and labels ``C``."""
        xp, n = self.xp, X.shape[0]
        if len(self.sample_shape) > 1:
            X = xp.reshape(X, (n,) + self.sample_shape)
        if C is None:
            return X
        if len(self.sample_shape) == 1:
            return xp.concat([X, C], axis=1)
        ones = (1,) * (len(self.sample_shape) - 1)
        planes = xp.broadcast_to(xp.reshape(C, (n,) + ones + (self.n_classes,)),
                                 (n,) + self.sample_shape[:-1] + (self.n_classes,))
        return xp.concat([X, planes], axis=-1)

    def fake_gradient(self, d_input_grad):
        """The gradient w.r.t. the generated rows, from the discriminator's input gradient."""
        xp, n = self.xp, d_input_grad.shape[0]
        g = d_input_grad[..., : self.sample_shape[-1]] if len(self.sample_shape) > 1 \
            else d_input_grad[:, : self.n_features]
        g = xp.reshape(g, (n, self.n_features))
        return g if self.mask is None else g * self.mask


def output_shape(layers, input_shape, dtype):
    """One sample's output shape of ``layers`` (built on copies, on NumPy)."""
    copies = Sequential([clone(layer) for layer in layers])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copies.build(input_shape, get_backend("numpy"), dtype, np.random.RandomState(0))
    return tuple(copies.output_shape_)
