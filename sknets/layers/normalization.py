"""Batch normalization.

References
----------
.. [1] S. Ioffe and C. Szegedy, "Batch normalization: accelerating deep
   network training by reducing internal covariate shift", ICML 2015.
"""

from numbers import Real

import numpy as np
from array_api_compat import device as _device
from sklearn.utils._param_validation import Interval

from ._base import Layer


class BatchNormalization(Layer):
    """Batch normalization [1]_ over every axis but the last (the features
    or channels), Keras' ``BatchNormalization`` with ``axis=-1``.

    In training, each feature is standardised with the mean and the (biased)
    variance of the mini-batch, then scaled and shifted:
    ``Y = gamma * (X - mean) / sqrt(var + epsilon) + beta``; the moving
    statistics follow the batch ones. In inference (prediction, or a frozen
    layer) the moving statistics take their place, which makes the layer an
    affine map of each feature.

    Parameters
    ----------
    momentum : float in [0, 1], default=0.99
        Weight of the past in the moving statistics (Keras' rule):
        ``moving = momentum * moving + (1 - momentum) * batch``.
    epsilon : float > 0, default=1e-3
        Added to the variance before the square root.
    trainable : bool, default=True
        False freezes the layer as in Keras: it runs in inference mode even
        in training (moving statistics, which do not move) and ``fit``
        leaves ``gamma`` and ``beta`` as they are.
    weights : dict or None, default=None
        Initial ``{"gamma", "beta", "moving_mean", "moving_variance"}``
        arrays, each of shape ``(n_features,)``, instead of ones, zeros,
        zeros and ones; e.g. from a fitted network's ``feature_layers()``.

    Notes
    -----
    Input and output shapes are equal: ``(n_samples, n_features)`` after a
    dense layer, ``(n_samples, height, width, channels)`` after a convolution
    (statistics per channel, over the samples and pixels). ``params``:
    ``gamma`` and ``beta``; ``state``: ``moving_mean`` and
    ``moving_variance``, all of shape ``(n_features,)``. The moving variance
    averages the batch variances as computed (biased, divided by the batch
    size), as Keras does; Ioffe and Szegedy's unbiased correction
    ``m / (m - 1)`` is not applied. The L2 penalty ``alpha`` does not apply
    to ``gamma`` or ``beta``.

    References
    ----------
    .. [1] S. Ioffe and C. Szegedy, "Batch normalization: accelerating deep
       network training by reducing internal covariate shift", ICML 2015.
    """

    penalized = ()

    #: The moving statistics are running state (see ``set_running_state``).
    keeps_running_state = True

    _parameter_constraints = {
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def __init__(self, momentum=0.99, epsilon=1e-3, trainable=True, weights=None):
        self.momentum = momentum
        self.epsilon = epsilon
        self.trainable = trainable
        self.weights = weights

    def output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(
                "BatchNormalization needs inputs with a feature axis, got one-sample "
                f"shape {tuple(input_shape)}."
            )
        return tuple(input_shape)

    def param_shapes(self, input_shape):
        c = self.output_shape(input_shape)[-1]
        return {"gamma": (c,), "beta": (c,)}

    def state_shapes(self, input_shape):
        c = self.output_shape(input_shape)[-1]
        return {"moving_mean": (c,), "moving_variance": (c,)}

    def activation_shapes(self, input_shape):
        return [tuple(input_shape)] * 2   # the normalised input and the output

    def _init_params(self, input_shape, rng):
        c = self.param_shapes(input_shape)["gamma"][0]
        return {"gamma": np.ones(c), "beta": np.zeros(c)}

    def _init_state(self, input_shape):
        c = self.state_shapes(input_shape)["moving_mean"][0]
        return {"moving_mean": np.zeros(c), "moving_variance": np.ones(c)}

    def describe(self):
        defaults = {"momentum": 0.99, "epsilon": 1e-3}
        changed = [f"{k}={getattr(self, k)!r}" for k, v in defaults.items()
                   if getattr(self, k) != v]
        return f"BatchNormalization({', '.join(changed)})" if changed else "BatchNormalization"

    def _colsum(self, A):
        """Column sums of a 2-D ``A`` as one matrix-vector product (NumPy's
        column sum of a tall, narrow matrix is many times slower)."""
        ones = getattr(self, "_cache_ones", None)
        if ones is None or ones.shape[0] != A.shape[0] or ones.dtype != A.dtype:
            ones = self.xp.ones((A.shape[0],), dtype=A.dtype, device=_device(A))
            self._cache_ones = ones
        return ones @ A

    def forward(self, X, training=False):
        # Rows are samples (and pixels), columns the features: a view of X.
        X2 = self.xp.reshape(X, (-1, X.shape[-1]))
        if training and self.trainable:
            Y = self._forward_batch(X2)
        else:
            Y = self._forward_moving(X2)
        return self.xp.reshape(Y, X.shape)

    def set_running_state(self, X):
        """Normalise ``X`` with its own statistics (training mode) and make
        them the moving statistics, exactly (no moving average).

        A full-batch solver (L-BFGS) calls it once at the end of training on
        the whole training set, so that inference on that data equals the
        training forward. A frozen layer keeps its statistics.

        Parameters
        ----------
        X : array of shape ``(n_samples, *input_shape_)``
            The batch whose statistics become the moving statistics.

        Returns
        -------
        Y : array of shape ``(n_samples, *input_shape_)``
            ``X`` normalised with its own statistics (the training output).
        """
        if not self.trainable:
            return self.forward(X, training=True)
        X2 = self.xp.reshape(X, (-1, X.shape[-1]))
        return self.xp.reshape(self._forward_batch(X2, momentum=0.0), X.shape)

    def _forward_batch(self, X2, momentum=None):
        momentum = self.momentum if momentum is None else momentum
        xp, m = self.xp, X2.shape[0]
        mean = self._colsum(X2) / m
        xhat = X2 - mean
        var = self._colsum(xhat * xhat) / m
        inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        xhat *= inv_std                                   # centred, then scaled in place
        for key, batch in (("moving_mean", mean), ("moving_variance", var)):
            moving = self.state[key]
            moving *= momentum
            moving += (1.0 - momentum) * batch
        self._cache_batch = True
        self._cache_xhat, self._cache_inv_std = xhat, inv_std
        Y = xhat * self.params["gamma"]
        Y += self.params["beta"]
        return Y

    def _forward_moving(self, X2):
        inv_std = 1.0 / self.xp.sqrt(self.state["moving_variance"] + self.epsilon)
        scale = self.params["gamma"] * inv_std
        shift = self.params["beta"] - self.state["moving_mean"] * scale
        self._cache_batch = False
        self._cache_scale = scale
        if self.trainable:   # gamma and beta still get gradients (Keras' training=False)
            self._cache_X, self._cache_inv_std = X2, inv_std
        Y = X2 * scale
        Y += shift
        return Y

    def backward(self, dY):
        xp = self.xp
        dY2 = xp.reshape(dY, (-1, dY.shape[-1]))
        if self._cache_batch:
            dX = self._backward_batch(dY2)
        else:
            if self.trainable:
                xhat = (self._cache_X - self.state["moving_mean"]) * self._cache_inv_std
                self.grads["gamma"] = self._colsum(dY2 * xhat)
                self.grads["beta"] = self._colsum(dY2)
            dX = dY2 * self._cache_scale if self.need_input_grad else None
        return None if dX is None else xp.reshape(dX, dY.shape)

    def _backward_batch(self, dY2):
        """Ioffe and Szegedy's closed form, from the cached normalised input:
        ``dX = gamma / std * (dY - mean(dY) - xhat * mean(dY * xhat))``."""
        xhat, m = self._cache_xhat, dY2.shape[0]
        dbeta = self._colsum(dY2)
        dgamma = self._colsum(dY2 * xhat)
        self.grads["gamma"], self.grads["beta"] = dgamma, dbeta
        if not self.need_input_grad:
            return None
        dX = dY2 - dbeta / m
        dX -= xhat * (dgamma / m)
        dX *= self.params["gamma"] * self._cache_inv_std
        return dX
