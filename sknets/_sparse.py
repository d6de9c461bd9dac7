"""Sparse input: kept sparse up to the first layer that can use it.

A first :class:`~sknets.layers.Dense` layer computes ``X @ W`` and
``X.T @ dY`` as sparse-dense products (SciPy's on the CPU, CuPy's
``cupyx.scipy.sparse`` on a GPU), as scikit-learn's MLP does with
``safe_sparse_dot``: memory and time follow the non-zeros, not the width.
Layers that need dense input (convolution, reshaping, recurrence...) get a
dense copy of one batch at a time (:func:`densify`), never of the whole input.

The helpers here are what the trainers and the prediction loop call:

- :func:`is_sparse`: SciPy or CuPy sparse;
- :func:`sparse_batch`: rows of a SciPy sparse matrix as a CSR matrix in the
  compute dtype on a backend (SciPy for NumPy, ``cupyx.scipy.sparse`` for
  CuPy), or a dense batch for a backend without sparse matrices;
- :func:`densify`: a sparse batch as a dense array of the backend.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["is_sparse", "sparse_batch", "densify", "backend_takes_sparse", "input_rows"]


def _is_cupyx_sparse(X):
    module = type(X).__module__
    if not module.startswith("cupyx."):
        return False
    import cupyx.scipy.sparse as csp

    return bool(csp.issparse(X))


def is_sparse(X):
    """True for a SciPy sparse matrix or array, or a CuPy one."""
    return sp.issparse(X) or _is_cupyx_sparse(X)


def backend_takes_sparse(backend):
    """Whether layers on ``backend`` receive sparse batches: NumPy (SciPy's
    sparse products) and CuPy (``cupyx.scipy.sparse``). Other array-API
    namespaces (e.g. ``array_api_strict``) have no sparse matrices: their
    batches are densified by :func:`sparse_batch`."""
    return backend is not None and backend.name in ("numpy", "cupy")


def sparse_batch(X, backend, dtype, rows=None):
    """Rows of SciPy sparse ``X`` for the layers on ``backend``, in ``dtype``.

    Parameters
    ----------
    X : scipy.sparse matrix or array of shape (n_samples, n_features)
    backend : Backend
    dtype : numpy dtype or str
        The compute dtype (only the stored values are cast).
    rows : slice, array of int or None, default=None
        The batch's rows (None: all of ``X``).

    Returns
    -------
    batch
        A CSR matrix (SciPy on NumPy, ``cupyx.scipy.sparse`` on CuPy) of
        ``len(rows)`` rows; on any other backend a dense array of that
        namespace (one batch, never the whole input).
    """
    whole = rows is None or (isinstance(rows, slice) and rows.step in (None, 1)
                             and (rows.start or 0) == 0
                             and (rows.stop is None or rows.stop >= X.shape[0]))
    batch = X if whole else X[rows]   # every row: no copy of the slice
    batch = sp.csr_matrix(batch)   # CSR matrix (not array) of the right format
    if batch.dtype != np.dtype(dtype):
        batch = batch.astype(dtype)
    if backend.is_numpy:
        return batch
    if backend.name == "cupy":
        import cupyx.scipy.sparse as csp

        return csp.csr_matrix(batch)
    return backend.asarray(batch.toarray(), dtype=dtype)


def densify(X, backend=None):
    """A sparse batch as a dense array (other inputs are returned as they are).

    Parameters
    ----------
    X : scipy.sparse, cupyx.scipy.sparse or array
        One batch: the dense copy costs ``n_rows * n_features`` values.
    backend : Backend or None, default=None
        Where the dense array goes (None: where ``X`` is).

    Returns
    -------
    array
    """
    if sp.issparse(X):
        X = X.toarray()
        return X if backend is None else backend.asarray(X)
    if _is_cupyx_sparse(X):
        return X.toarray()
    return X


def input_rows(X, rows, backend, dtype):
    """Rows ``rows`` (a slice) of validated ``X`` as a network's input batch on
    ``backend`` in ``dtype``: a sparse ``X`` stays sparse (:func:`sparse_batch`),
    a dense one is moved with :meth:`~sknets.backend.Backend.asarray`."""
    if sp.issparse(X):
        return sparse_batch(X, backend, dtype, rows)
    return backend.asarray(X[rows, ...], dtype=dtype)
