"""Global configuration: which array backend estimators use by default.

Mirrors :func:`sklearn.set_config` / :func:`sklearn.config_context`: a
process-wide default that a ``with`` block can override for the current
thread.
"""

import threading
from contextlib import contextmanager

_global_config = {"backend": "numpy"}
_threadlocal = threading.local()

_VALID_BACKENDS = ("numpy", "numba", "cupy", "auto")


def _get_threadlocal_config():
    if not hasattr(_threadlocal, "config"):
        _threadlocal.config = _global_config.copy()
    return _threadlocal.config


def get_config():
    """Return the current sknets configuration.

    Returns
    -------
    config : dict
        Keys are parameter names accepted by :func:`set_config`.
    """
    return _get_threadlocal_config().copy()


def set_config(backend=None):
    """Set the global sknets configuration.

    Parameters
    ----------
    backend : {"numpy", "numba", "cupy", "auto"}, default=None
        Array backend used by estimators whose ``backend`` parameter is
        ``None``. ``"numba"`` is NumPy with compiled kernels
        (``pip install "sknets[fast]"``); ``"auto"`` picks CuPy when a usable
        GPU is present, NumPy otherwise. ``None`` leaves the setting
        unchanged.

    Raises
    ------
    ValueError
        If ``backend`` is not one of the accepted names.
    """
    local_config = _get_threadlocal_config()
    if backend is not None:
        if backend not in _VALID_BACKENDS:
            raise ValueError(
                f"backend must be one of {_VALID_BACKENDS}, got {backend!r}."
            )
        local_config["backend"] = backend
        _global_config["backend"] = backend


@contextmanager
def config_context(*, backend=None):
    """Temporarily change the sknets configuration inside a ``with`` block.

    Parameters
    ----------
    backend : {"numpy", "numba", "cupy", "auto"}, default=None
        Array backend for estimators whose ``backend`` parameter is ``None``.

    Examples
    --------
    >>> import sknets
    >>> with sknets.config_context(backend="numpy"):
    ...     sknets.get_config()["backend"]
    'numpy'
    """
    old = get_config()
    local_config = _get_threadlocal_config()
    if backend is not None:
        if backend not in _VALID_BACKENDS:
            raise ValueError(
                f"backend must be one of {_VALID_BACKENDS}, got {backend!r}."
            )
        local_config["backend"] = backend
    try:
        yield
    finally:
        local_config.clear()
        local_config.update(old)
