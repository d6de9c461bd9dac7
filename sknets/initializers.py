"""Weight initialisation schemes, drawn on the host from a NumPy RandomState.

Drawing on the host keeps results identical across backends: the same
``random_state`` gives the same initial weights on NumPy and on a GPU.

References
----------
.. [1] X. Glorot and Y. Bengio, "Understanding the difficulty of training
   deep feedforward neural networks", AISTATS 2010.
.. [2] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers:
   surpassing human-level performance on ImageNet classification", ICCV 2015.
.. [3] A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the
   nonlinear dynamics of learning in deep linear neural networks", ICLR 2014.
"""

import numpy as np


def glorot_uniform(rng, fan_in, fan_out, kernel_shape, bias_shape, factor=6.0):
    """Glorot/Xavier uniform weights and biases, as scikit-learn's MLP draws them.

    Both weights and biases are drawn from ``U(-b, b)`` with
    ``b = sqrt(factor / (fan_in + fan_out))``; ``factor=6`` is Glorot's
    choice, ``factor=2`` the one scikit-learn uses for logistic units.
    The weights are drawn first, then the biases.

    Parameters
    ----------
    rng : numpy.random.RandomState
        The source of the draws (the estimator's ``random_state``).
    fan_in, fan_out : int
        Number of inputs and outputs of one unit.
    kernel_shape, bias_shape : tuple of int
        Shapes of the weights and of the biases.
    factor : float, default=6.0
        The numerator of the bound: 6 (Glorot), 2 (scikit-learn, logistic).

    Returns
    -------
    kernel, bias : numpy.ndarray of dtype float64
        The weights and the biases, of ``kernel_shape`` and ``bias_shape``.
    """
    bound = np.sqrt(factor / (fan_in + fan_out))
    kernel = rng.uniform(-bound, bound, kernel_shape)
    bias = rng.uniform(-bound, bound, bias_shape)
    return kernel, bias


def he_uniform(rng, fan_in, fan_out, kernel_shape, bias_shape):
    """He/Kaiming uniform weights (``U(-b, b)``, ``b = sqrt(6 / fan_in)``), zero biases.

    The scheme suited to ReLU units [1]_, used by default for convolutions.

    Parameters
    ----------
    rng : numpy.random.RandomState
        The source of the draws (the estimator's ``random_state``).
    fan_in, fan_out : int
        Number of inputs and outputs of one unit (``fan_out`` is unused).
    kernel_shape, bias_shape : tuple of int
        Shapes of the weights and of the biases.

    Returns
    -------
    kernel, bias : numpy.ndarray of dtype float64
        The weights, of ``kernel_shape``, and zero biases, of ``bias_shape``.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers:
       surpassing human-level performance on ImageNet classification", ICCV 2015.
    """
    bound = np.sqrt(6.0 / fan_in)
    kernel = rng.uniform(-bound, bound, kernel_shape)
    return kernel, np.zeros(bias_shape)


def orthogonal(rng, n, n_blocks=1):
    """``n_blocks`` orthogonal ``(n, n)`` matrices side by side, shape ``(n, n_blocks * n)``.

    Each block is the ``Q`` of the QR decomposition of a standard normal
    matrix, its columns' signs fixed by the diagonal of ``R`` so that the draw
    is uniform over the orthogonal group [3]_; recurrent kernels start this way
    (one block per gate), as Keras' ``Orthogonal`` initializer does.

    Parameters
    ----------
    rng : numpy.random.RandomState
        The source of the draws.
    n : int
        Size of each square block (a recurrent layer's units).
    n_blocks : int, default=1
        Number of blocks (a recurrent layer's gates).

    Returns
    -------
    kernel : numpy.ndarray of shape (n, n_blocks * n), dtype float64
        The blocks side by side.
    """
    blocks = []
    for _ in range(n_blocks):
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        blocks.append(q * np.sign(np.diag(r) + (np.diag(r) == 0)))
    return np.concatenate(blocks, axis=1)


INITIALIZERS = {"glorot_uniform": glorot_uniform, "he_uniform": he_uniform}
