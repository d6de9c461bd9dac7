"""The main job's datasets: the bundled ones, ``xor``, and CSV/NPZ files.

Used by :mod:`sknets.__main__`; a bad name, file or column raises
:class:`UsageError`, which the job reports in one line (exit code 2).
"""

import csv
import os
import pickle

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.utils.multiclass import type_of_target

BUNDLED = {
    "digits": sk_datasets.load_digits,
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "diabetes": sk_datasets.load_diabetes,
}


class UsageError(Exception):
    """A bad argument or dataset: reported in one line, exit code 2."""


class Dataset:
    """Features, targets and how they were prepared.

    Attributes
    ----------
    name : str
    X : ndarray of shape (n_samples, n_features), float
    y : ndarray of shape (n_samples,)
    task : {"classification", "regression"}
    scaling : str
        What was done to the features in the loader (e.g. ``"X/16"``), or ``""``.
    """

    def __init__(self, name, X, y, scaling="", task=None):
        self.name, self.X, self.y, self.scaling = name, X, y, scaling
        if len(X) != len(y):
            raise UsageError(f"{name}: {len(X)} feature rows but {len(y)} labels.")
        if len(y) < 4:
            raise UsageError(f"{name}: only {len(y)} samples, need at least 4.")
        if task is None:
            task = "regression" if type_of_target(y) == "continuous" else "classification"
        self.task = task


# ------------------------------------------------------------------ datasets
def make_xor(n_samples=400, random_state=0):
    """Points in [-1, 1]^2 labelled by XOR of the signs of their coordinates.

    Not linearly separable: a perceptron stays near chance, an MLP learns it.
    """
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = np.logical_xor(X[:, 0] > 0, X[:, 1] > 0).astype(np.int64)
    return X, y


def load_dataset(name, label_column=None, random_state=0):
    """Load a dataset by name or path.

    Parameters
    ----------
    name : str
        ``"digits"``, ``"iris"``, ``"wine"``, ``"breast_cancer"``,
        ``"diabetes"``, ``"xor"``, ``"mnist"`` (:func:`load_mnist`), or a path
        to a ``.csv`` or ``.npz`` file.
    label_column : str or None
        CSV: the label column's name (needs a header) or index (negative
        counts from the end); default the last column. NPZ: the key of the
        labels (default ``"y"``); the features are under ``"X"`` (or the only
        other array).
    random_state : int
        Seed of the generated ``xor`` data.

    Returns
    -------
    Dataset

    Raises
    ------
    UsageError
        Unknown name, missing or unreadable file, bad label column, MNIST
        out of reach.
    """
    if name in BUNDLED:
        X, y = BUNDLED[name](return_X_y=True)
        if name == "digits":
            return Dataset(name, X / 16.0, y, scaling="X/16")
        return Dataset(name, X, y, task="regression" if name == "diabetes" else None)
    if name == "xor":
        return Dataset(name, *make_xor(random_state=random_state))
    if name == "mnist":
        return load_mnist()
    ext = os.path.splitext(name)[1].lower()
    if ext not in (".csv", ".npz"):
        known = ", ".join([*BUNDLED, "xor", "mnist"])
        raise UsageError(f"unknown dataset {name!r}: use one of {known}, or a .csv or .npz path")
    if not os.path.isfile(name):
        raise UsageError(f"no such file: {name}")
    try:
        X, y = _load_npz(name, label_column) if ext == ".npz" else _load_csv(name, label_column)
    except UsageError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, csv.Error, pickle.UnpicklingError) as exc:
        raise UsageError(f"cannot read {name}: {exc}".splitlines()[0]) from None
    scaling = ""
    if X.dtype == np.uint8:
        X, scaling = X / 255.0, "X/255"
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return Dataset(os.path.basename(name), X, y, scaling)


def load_mnist():
    """MNIST's 70,000 digits through ``sklearn.datasets.fetch_openml("mnist_784")``.

    Downloaded once from OpenML and cached in scikit-learn's data home
    (``sklearn.datasets.get_data_home()``, ``$SCIKIT_LEARN_DATA``); the pixels
    are divided by 255.

    Raises
    ------
    UsageError
        When OpenML cannot be reached and nothing is cached (offline): one
        line that says so and how to pass a local ``.npz`` instead.
    """
    try:
        X, y = sk_datasets.fetch_openml("mnist_784", version=1, return_X_y=True,
                                        as_frame=False, parser="auto")
    except Exception as exc:   # URLError/OSError offline, OpenML's own errors
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise UsageError(
            f"mnist: cannot fetch mnist_784 from OpenML and it is not cached in "
            f"{sk_datasets.get_data_home()} ({reason}); offline, pass a local file: "
            "--dataset path/to/mnist10k.npz (arrays X, uint8 n x 784, and y)"
        ) from None
    X = np.asarray(X, dtype=np.float64) / 255.0
    y = np.asarray(y).astype(np.int64)
    return Dataset("mnist", X, y, scaling="X/255")


def _load_npz(path, label_key):
    label_key = "y" if label_key is None else label_key
    with np.load(path, allow_pickle=False) as data:
        keys = list(data.keys())
        if label_key not in keys:
            raise UsageError(f"{path}: no array {label_key!r} (it has {', '.join(keys)})")
        others = [k for k in keys if k != label_key]
        x_key = "X" if "X" in others else (others[0] if len(others) == 1 else None)
        if x_key is None:
            raise UsageError(f"{path}: no features array 'X' (it has {', '.join(keys)})")
        X, y = data[x_key], data[label_key]
    if y.ndim != 1:
        raise UsageError(f"{path}: labels {label_key!r} must be 1-D, got shape {y.shape}")
    if X.ndim < 2 or not np.issubdtype(X.dtype, np.number):
        raise UsageError(f"{path}: features {x_key!r} must be a numeric array of 2+ dimensions")
    return X, y


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


def _load_csv(path, label_column):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if len(rows) < 2:
        raise UsageError(f"{path}: needs at least two rows")
    # A header is a first row with text where the second row has numbers.
    header = rows[0] if any(not _is_number(a) and _is_number(b)
                            for a, b in zip(rows[0], rows[1])) else None
    body = rows[1:] if header else rows
    n_cols = len(body[0])
    if n_cols < 2 or any(len(r) != n_cols for r in body):
        raise UsageError(f"{path}: every row needs the same number (>= 2) of columns")
    if label_column is None:
        col = n_cols - 1
    elif label_column.lstrip("-").isdigit():
        col = int(label_column)
        if not -n_cols <= col < n_cols:
            raise UsageError(f"{path}: label column {col} out of range (it has {n_cols} columns)")
        col %= n_cols
    elif header and label_column in header:
        col = header.index(label_column)
    else:
        names = f"its columns are {', '.join(header)}" if header else "it has no header row"
        raise UsageError(f"{path}: no column named {label_column!r} ({names})")
    table = np.array(body, dtype=object)
    labels = table[:, col]
    features = np.delete(table, col, axis=1)
    _check_cells(path, table, header, col, first_row=2 if header else 1)
    X = features.astype(np.float64)
    y = labels.astype(np.float64) if all(_is_number(v) for v in labels) else labels.astype(str)
    return X, y


#: cells read as a missing value (compared in lower case, without spaces).
MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


def _check_cells(path, table, header, label_col, first_row):
    """Raise UsageError naming the first missing value (row and column), or the
    first feature column that is not numeric. ``first_row``: the file's line
    number of the table's first row."""
    def column(j):
        return f"{j + 1} ({header[j]!r})" if header else str(j + 1)

    empty = np.argwhere(np.vectorize(lambda v: v.strip().lower() in MISSING, otypes=[bool])(table))
    if len(empty):
        i, j = empty[0]
        what = "label" if j == label_col else "value"
        raise UsageError(f"{path}: missing {what} in row {i + first_row}, column {column(j)} "
                         f"({len(empty)} missing in all); fill "
                         "or drop the rows with missing values")
    for j in range(table.shape[1]):
        if j == label_col:
            continue
        bad = next((i for i, v in enumerate(table[:, j]) if not _is_number(v)), None)
        if bad is not None:
            raise UsageError(f"{path}: feature column {column(j)} is not numeric "
                             f"({table[bad, j]!r} in row {bad + first_row}; choose the label "
                             "column with --label-column)")


# ----------------------------------------------------------------- estimator
