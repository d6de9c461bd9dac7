"""Global configuration: which array backend estimators use by default, and
how much memory a fit may take.

Mirrors :func:`sklearn.set_config` / :func:`sklearn.config_context`: a
process-wide default that a ``with`` block can override for the current
thread.
"""

import math
import threading
from contextlib import contextmanager
from numbers import Real

_global_config = {"backend": "numpy", "memory_limit": "auto"}
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


def _checked(backend, memory_limit):
    """The given settings, checked, as a dict (None: not given)."""
    new = {}
    if backend is not None:
        if backend not in _VALID_BACKENDS:
            raise ValueError(
                f"backend must be one of {_VALID_BACKENDS}, got {backend!r}."
            )
        new["backend"] = backend
    if memory_limit is not None:
        ok = memory_limit == "auto" or (
            isinstance(memory_limit, Real) and not isinstance(memory_limit, bool)
            and memory_limit > 0 and not math.isnan(memory_limit))
        if not ok:
            raise ValueError(
                "memory_limit must be 'auto' or a positive number of bytes (math.inf: "
                f"no limit), got {memory_limit!r}."
            )
        new["memory_limit"] = memory_limit
    return new


def set_config(backend=None, memory_limit=None):
    """Set the global sknets configuration.

    Parameters
    ----------
    backend : {"numpy", "numba", "cupy", "auto"}, default=None
        Array backend used by estimators whose ``backend`` parameter is
        ``None``. ``"numba"`` is NumPy with compiled kernels
        (``pip install "sknets[fast]"``); ``"auto"`` picks CuPy when a usable
        GPU is present, NumPy otherwise. ``None`` leaves the setting
        unchanged.
    memory_limit : "auto", float or None, default=None
        Bytes a fit may need (its estimate, :mod:`sknets._memory`) before it
        is refused with a ``ValueError``, before anything is allocated.
        ``"auto"`` (the initial setting): the memory available when the fit
        starts (the host's, or the GPU's free memory for CuPy); ``math.inf``
        turns the check off. ``None`` leaves the setting unchanged.

    Raises
    ------
    ValueError
        If ``backend`` is not one of the accepted names, or ``memory_limit``
        is neither ``"auto"`` nor a positive number.
    """
    new = _checked(backend, memory_limit)
    _get_threadlocal_config().update(new)
    _global_config.update(new)


@contextmanager
def config_context(*, backend=None, memory_limit=None):
    """Temporarily change the sknets configuration inside a ``with`` block.

    Parameters
    ----------
    backend : {"numpy", "numba", "cupy", "auto"}, default=None
        Array backend for estimators whose ``backend`` parameter is ``None``.
    memory_limit : "auto", float or None, default=None
        Bytes a fit may need (see :func:`set_config`).

    Yields
    ------
    None
        The block runs with the changed configuration; the previous one is
        restored when it ends, even on an exception.

    Raises
    ------
    ValueError
        If ``backend`` is not one of the accepted names.

    Examples
    --------
    >>> import sknets
    >>> with sknets.config_context(backend="numpy"):
    ...     sknets.get_config()["backend"]
    'numpy'
    """
    old = get_config()
    local_config = _get_threadlocal_config()
    local_config.update(_checked(backend, memory_limit))
    try:
        yield
    finally:
        local_config.clear()
        local_config.update(old)
