"""Finite-difference gradient checks for layers, losses and whole networks.

Back-propagation is only as right as each layer's ``backward``. These helpers
compare the analytic gradients with central differences
``(f(x + h) - f(x - h)) / 2h`` of a random linear functional of the output,
in float64 on the NumPy backend, as every deep-learning text recommends
(e.g. Goodfellow, Bengio and Courville, "Deep Learning", MIT Press 2016,
section 11.5).
"""

import numpy as np

from .backend import get_backend


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of scalar ``f()`` w.r.t. array ``x`` (in place).

    Parameters
    ----------
    f : callable
        Takes no argument and returns a float; reads ``x``.
    x : numpy.ndarray of float64
        Perturbed in place, restored afterwards.
    eps : float, default=1e-6
        The step ``h`` of the central differences.

    Returns
    -------
    grad : numpy.ndarray of the shape of ``x``
        The numerical gradient of ``f`` with respect to each entry of ``x``.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_layer_gradients(layer, input_shape, n_samples=3, random_state=0,
                          training=True, rtol=1e-5, atol=1e-7):
    """Compare a layer's ``backward`` with finite differences, in float64.

    Builds ``layer`` for one-sample ``input_shape``, draws a random input and a
    random upstream gradient ``G``, and checks the gradients of
    ``sum(forward(X) * G)`` with respect to the input and every parameter
    (a frozen layer, ``trainable=False``: the input only, and no parameter
    gradient at all).

    Parameters
    ----------
    layer : Layer
        An unbuilt layer.
    input_shape : tuple of int
        One sample's input shape.
    n_samples : int, default=3
        Rows of the random input batch.
    random_state : int, default=0
        Seed of the layer's weights, the input and the upstream gradient.
    training : bool, default=True
        Passed to ``forward`` (layers such as dropout must be deterministic
        for the check, e.g. with a fixed mask).
    rtol, atol : float
        Tolerances of :func:`numpy.testing.assert_allclose`.

    Raises
    ------
    AssertionError
        If an analytic gradient differs from the numerical one.
    """
    rng = np.random.RandomState(random_state)
    backend = get_backend("numpy")
    out_shape = layer.build(tuple(input_shape), backend, np.float64, rng)
    layer.need_input_grad = True
    X = rng.standard_normal((n_samples,) + tuple(input_shape))
    G = rng.standard_normal((n_samples,) + tuple(out_shape))

    def objective():
        return float(np.sum(layer.forward(X, training=training) * G))

    layer.forward(X, training=training)
    dX = layer.backward(G)
    analytic = {k: np.array(v, copy=True) for k, v in layer.grads.items()}
    np.testing.assert_allclose(dX, numerical_gradient(objective, X), rtol=rtol, atol=atol,
                               err_msg=f"{layer.describe()}: input gradient")
    if not layer.trainable:
        assert not analytic, f"{layer.describe()}: a frozen layer computed parameter gradients"
        return
    for name, param in layer.params.items():
        np.testing.assert_allclose(
            analytic[name], numerical_gradient(objective, param), rtol=rtol, atol=atol,
            err_msg=f"{layer.describe()}: gradient of {name}",
        )


def check_loss_gradients(loss, z, y, sample_weight=None, rtol=1e-5, atol=1e-8):
    """Compare ``loss.loss_and_grad``'s gradient with finite differences.

    Parameters
    ----------
    loss : Loss
        The loss to check, e.g. :class:`~sknets.losses.SoftmaxCrossEntropy`.
    z : numpy.ndarray of shape (n_samples, n_outputs), float64
        Logits (perturbed in place during the check).
    y : numpy.ndarray of shape (n_samples, n_outputs)
        Encoded targets (one-hot, binary indicators or values).
    sample_weight : numpy.ndarray of shape (n_samples,), default=None
        Sample weights; None weighs every sample 1.
    rtol, atol : float
        Tolerances of :func:`numpy.testing.assert_allclose`.

    Raises
    ------
    AssertionError
        If the analytic gradient differs from the numerical one.
    """
    xp = get_backend("numpy").xp
    sw_sum = None if sample_weight is None else float(np.sum(sample_weight))
    _, dz = loss.loss_and_grad(xp, z, y, sample_weight, sw_sum)
    dz = np.array(dz, copy=True)

    def objective():
        return float(loss.loss(xp, z, y, sample_weight, sw_sum))

    np.testing.assert_allclose(dz, numerical_gradient(objective, z), rtol=rtol, atol=atol,
                               err_msg=f"{type(loss).__name__}: gradient of the logits")
