"""The benchmarks' MNIST file: ``mnist10k.npz`` (``X`` uint8 n x 784, ``y``).

Every benchmark reads it the same way: pixels scaled to [0, 1] (``X / 255``)
in the dtype it asks for, rows 0-7999 to train and 8000-9999 to test (80% /
20% for a file of another size).
"""

import numpy as np


def load_mnist(path, dtype=np.float64):
    """``(X_train, X_test, y_train, y_test)`` from the ``.npz`` file at ``path``.

    Parameters
    ----------
    path : str
        The ``.npz`` file (arrays ``X`` of shape (n, 784) and ``y``).
    dtype : numpy dtype, default=numpy.float64
        The dtype of the returned ``X`` arrays.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, 784) and (n - n_train, 784)
    y_train, y_test : ndarray of int64
    """
    with np.load(path) as d:
        X = d["X"].reshape(len(d["X"]), -1).astype(dtype) / 255
        y = d["y"].astype(np.int64)
    n_train = 8000 if len(X) == 10000 else int(0.8 * len(X))
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]
