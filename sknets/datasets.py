"""Small built-in problems for teaching and tests.

- :func:`make_logic_gate`: the truth tables of AND, OR, NAND and XOR, the
  classic demonstration that a single perceptron learns any linearly
  separable Boolean function but not XOR (Minsky and Papert, 1969).
- :func:`make_fruit`: a generated two-feature data set (fruit size in cm and
  a colour value), two classes, for plotting a perceptron's decision line.
- :func:`make_mnist1d`: MNIST-1D (Greydanus, 2020), ten classes of
  40-step signals generated offline by the ``mnist1d`` package, for the
  sequence layers.
"""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["FRUIT_NAMES", "LOGIC_GATES", "make_fruit", "make_logic_gate", "make_mnist1d"]

#: Output column of each gate's truth table, for the inputs
#: ``(0, 0), (0, 1), (1, 0), (1, 1)`` in that order.
LOGIC_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}


def make_logic_gate(name):
    """The truth table of a two-input logic gate.

    Parameters
    ----------
    name : {"and", "or", "nand", "xor"}
        The gate (case-insensitive). AND, OR and NAND are linearly separable;
        XOR is not, so no single perceptron can learn it, while a network with
        one hidden layer can.

    Returns
    -------
    X : ndarray of shape (4, 2), dtype float64
        The inputs ``(0, 0), (0, 1), (1, 0), (1, 1)``.
    y : ndarray of shape (4,), dtype int64
        The gate's output (0 or 1) for each row of ``X``.

    Raises
    ------
    ValueError
        If ``name`` is not a known gate.
    TypeError
        If ``name`` is not a string.

    References
    ----------
    .. [1] M. Minsky and S. Papert, "Perceptrons: An Introduction to
       Computational Geometry", MIT Press, 1969.

    Examples
    --------
    >>> from sknets.datasets import make_logic_gate
    >>> X, y = make_logic_gate("xor")
    >>> X.shape, y.tolist()
    ((4, 2), [0, 1, 1, 0])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'and', got {type(name).__name__}.")
    key = name.lower()
    if key not in LOGIC_GATES:
        raise ValueError(
            f"Unknown logic gate {name!r}; expected one of {sorted(LOGIC_GATES)}."
        )
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array(LOGIC_GATES[key], dtype=np.int64)
    return X, y


#: Class names of :func:`make_fruit`, indexed by the label.
FRUIT_NAMES = ("apple", "lemon")


def make_fruit(n_samples=100, random_state=None):
    """Generated fruit measurements: size (cm) and colour value, two classes.

    Apples (label 0) are larger and red, lemons (label 1) smaller and
    yellow. Each class is a Gaussian cloud:

    ==========  =================  ========================
    class       size (cm)          colour (0 red, 1 yellow)
    ==========  =================  ========================
    0 "apple"   mean 8.0, sd 0.7   mean 0.25, sd 0.08
    1 "lemon"   mean 6.0, sd 0.5   mean 0.75, sd 0.08
    ==========  =================  ========================

    The colour value is clipped to ``[0, 1]``. The classes are far apart
    along the colour axis, so the set is linearly separable in practice (a
    perceptron finds a separating line), but not along either feature's size
    alone.

    Parameters
    ----------
    n_samples : int, default=100
        Total number of fruits, split as evenly as possible between the two
        classes (apples get the extra one when odd).
    random_state : int, RandomState instance or None, default=None
        Seed of the measurements.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        Columns: size in cm, colour value in ``[0, 1]``.
    y : ndarray of shape (n_samples,), dtype int64
        0 for apple, 1 for lemon (names in :data:`FRUIT_NAMES`).

    Raises
    ------
    ValueError
        If ``n_samples`` is not an integer >= 2.

    Examples
    --------
    >>> from sknets.datasets import make_fruit
    >>> X, y = make_fruit(10, random_state=0)
    >>> X.shape, int(y.sum())
    ((10, 2), 5)
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}.")
    rng = check_random_state(random_state)
    n_lemon = int(n_samples) // 2
    n_apple = int(n_samples) - n_lemon
    apples = np.column_stack([rng.normal(8.0, 0.7, n_apple), rng.normal(0.25, 0.08, n_apple)])
    lemons = np.column_stack([rng.normal(6.0, 0.5, n_lemon), rng.normal(0.75, 0.08, n_lemon)])
    X = np.vstack([apples, lemons])
    X[:, 1] = np.clip(X[:, 1], 0.0, 1.0)
    y = np.concatenate([np.zeros(n_apple, dtype=np.int64), np.ones(n_lemon, dtype=np.int64)])
    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_mnist1d(n_samples=5000, *, random_state=42):
    """MNIST-1D: ten classes of one-dimensional signals of 40 timesteps [1]_.

    Generated (offline, nothing is downloaded) by the ``mnist1d`` package's
    ``make_dataset`` with its default arguments but ``num_samples`` and
    ``seed``: each class is a template pattern, padded, shifted, scaled,
    sheared and noised at random; the set is standardised as a whole (zero
    mean, unit standard deviation). With the defaults, the first 4,000 rows
    are the package's training set and the last 1,000 its test set, the
    split the paper and its benchmarks use. Python's and NumPy's global
    random states, which the package seeds, are restored afterwards.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of signals (a multiple of 10 keeps the classes balanced).
    random_state : int, default=42
        The package's ``seed`` (42 is its default).

    Returns
    -------
    X : ndarray of shape (n_samples, 40, 1), dtype float64
        The signals as channels-last sequences ``(n_samples, timesteps,
        features)``.
    y : ndarray of shape (n_samples,), dtype int64
        The digit classes 0-9.

    Raises
    ------
    ImportError
        If the ``mnist1d`` package is not installed (``pip install mnist1d``).
    ValueError
        If ``n_samples`` is not an integer >= 10.

    References
    ----------
    .. [1] S. Greydanus and D. Kobak, "Scaling down deep learning with
       MNIST-1D", ICML 2024 (arXiv:2011.14439).

    Examples
    --------
    >>> from sknets.datasets import make_mnist1d
    >>> X, y = make_mnist1d(100, random_state=0)  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((100, 40, 1), (100,))
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 10:
        raise ValueError(f"n_samples must be an integer >= 10, got {n_samples!r}.")
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise ImportError("make_mnist1d needs the mnist1d package: pip install mnist1d") \
            from exc
    import random

    args = get_dataset_args()
    args.num_samples, args.seed = int(n_samples), int(random_state)
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    X = np.concatenate([data["x"], data["x_test"]]).astype(np.float64)[:, :, None]
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
    return X, y
