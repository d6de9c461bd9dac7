"""Where an estimator's inputs, results and fitted arrays live.

scikit-learn's array-API dispatch and CuPy inputs, on the estimator side of
the backend (:mod:`sknets.backend`): which backend an input asks for
(:func:`dispatch_backend`), where results go (:func:`output_backend`,
:func:`returns_input_namespace`), validation dtypes in the input's namespace,
and the host copies scikit-learn's validation needs.

Predictions come back in the input's namespace (NumPy for NumPy or
array-likes, CuPy for CuPy, the input's namespace under dispatch); fitted
attributes are NumPy, or the input's namespace when fitted under dispatch. A
pickled model holds NumPy arrays only.
"""

import functools

import array_api_compat
import numpy as np
import scipy.sparse as sp

from .backend import _cupy_backend, _is_cupy_array, is_array, namespace_backend, to_numpy

__all__ = ["dispatch_backend", "output_backend", "to_namespace", "returns_input_namespace",
           "accepts_cupy", "validation_dtypes", "float_dtype_name", "host_copy", "take_rows"]


def _dispatch_enabled():
    from sklearn import get_config as sklearn_config

    return bool(sklearn_config().get("array_api_dispatch", False))


def dispatch_backend(X):
    """The backend of ``X``'s namespace under scikit-learn's array-API dispatch.

    Parameters
    ----------
    X : array-like or sparse matrix

    Returns
    -------
    Backend or None
        ``None`` when ``sklearn.config_context(array_api_dispatch=True)`` is
        off, or when ``X`` is a NumPy array, a sparse matrix or not an array.
    """
    if not _dispatch_enabled() or isinstance(X, np.ndarray) or sp.issparse(X):
        return None
    if not is_array(X):
        return None
    xp = array_api_compat.array_namespace(X)
    if xp.__name__ in ("numpy", "array_api_compat.numpy"):
        return None
    return namespace_backend(xp, device=array_api_compat.device(X))


def output_backend(X):
    """The backend that results for input ``X`` are returned on.

    Under array-API dispatch: ``X``'s namespace (:func:`dispatch_backend`).
    Without it, CuPy arrays still get CuPy results. ``None`` means NumPy.

    Parameters
    ----------
    X : array-like or sparse matrix

    Returns
    -------
    Backend or None
    """
    backend = dispatch_backend(X)
    if backend is None and _is_cupy_array(X):
        backend = _cupy_backend()
    return backend


def to_namespace(a, backend):
    """Move ``a`` to ``backend``, or to NumPy when ``backend`` is None.

    Arrays of strings or objects (e.g. string class labels) stay NumPy.

    Parameters
    ----------
    a : array
    backend : Backend or None

    Returns
    -------
    array
    """
    if backend is None or backend.is_numpy:
        return to_numpy(a)
    if isinstance(a, np.ndarray) and a.dtype.kind not in "biuf":
        return a
    return backend.asarray(a)


def host_copy(a):
    """``a`` as NumPy when it is a CuPy array and dispatch is off, else ``a``.

    scikit-learn's validation calls ``np.asarray``, which CuPy refuses; CuPy
    inputs are brought to the host for validation (and moved back to the
    device once per fit by the training loop).
    """
    if not _dispatch_enabled() and _is_cupy_array(a):
        return a.get()
    return a


def take_rows(X, idx):
    """Rows ``idx`` (NumPy integers) of ``X``: NumPy, sparse or any namespace."""
    if sp.issparse(X) or isinstance(X, np.ndarray):
        return X[idx]
    xp = array_api_compat.array_namespace(X)
    return xp.take(X, xp.asarray(np.asarray(idx), device=array_api_compat.device(X)), axis=0)


def validation_dtypes(X):
    """Float dtypes for ``check_array(dtype=...)`` in ``X``'s namespace.

    NumPy's ``(float64, float32)``; under array-API dispatch, the same two
    dtypes of ``X``'s namespace (scikit-learn rejects NumPy dtypes there).
    """
    if _dispatch_enabled() and not sp.issparse(X):
        from sklearn.utils._array_api import get_namespace

        xp, is_array_api = get_namespace(X)
        if is_array_api:
            return [xp.float64, xp.float32]
    return (np.float64, np.float32)


def float_dtype_name(X):
    """``"float32"`` when ``X`` (NumPy, sparse or any array-API array) holds
    float32 values, else ``"float64"``.

    The compute dtype that follows the input: validated inputs are float32 or
    float64 (scikit-learn's ``check_array(dtype=(float64, float32))`` keeps
    float32 and turns integers, booleans and the rest into float64).
    """
    dtype = X.dtype
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return "float32" if dtype == np.float32 else "float64"
    try:
        xp = array_api_compat.array_namespace(X)
        return "float32" if dtype == xp.float32 else "float64"
    except TypeError:
        return "float32" if np.dtype(dtype) == np.float32 else "float64"


def _to_numpy_tree(value):
    """``value`` with every non-NumPy array (also in lists, tuples, dicts) as NumPy."""
    if isinstance(value, (np.ndarray, np.generic)) or sp.issparse(value):
        return value
    if isinstance(value, list):
        return [_to_numpy_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_numpy_tree(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_numpy_tree(v) for k, v in value.items()}
    if is_array(value):
        return to_numpy(value)
    return value


def returns_input_namespace(method):
    """Decorate a predict-like method ``method(self, X)`` of a network estimator.

    - raises :class:`~sklearn.exceptions.NotFittedError` before ``fit``;
    - under array-API dispatch, checks that ``X`` uses the namespace and
      device of the fitted attributes (scikit-learn's
      ``check_same_namespace``);
    - accepts CuPy arrays without dispatch (validated on the host);
    - returns the result in ``X``'s namespace: NumPy for NumPy (or any
      array-like) input, CuPy for CuPy input, ``X``'s namespace under
      dispatch.
    """
    from sklearn.utils._array_api import check_same_namespace
    from sklearn.utils.validation import check_is_fitted

    name = method.__name__

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="_namespace_reference_", method=name)
        out = output_backend(X)
        result = method(self, host_copy(X), *args, **kwargs)
        return result if out is None else to_namespace(result, out)

    return wrapper


def accepts_cupy(method):
    """Decorate ``method(self, X, y, sample_weight=None)`` (e.g. ``score``) so that
    CuPy inputs work without array-API dispatch (copied to the host)."""

    @functools.wraps(method)
    def wrapper(self, X, y, sample_weight=None):
        return method(self, host_copy(X), host_copy(y), sample_weight=host_copy(sample_weight))

    return wrapper
