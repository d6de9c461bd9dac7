"""Kernels added to the interface from elsewhere (:func:`register_kernel`)."""

#: kernel name -> {implementation name: callable}
_REGISTERED = {}

#: the implementation each one falls back on for a kernel it does not have
_PARENT = {"numba": "numpy", "numpy": "array_api", "cupy": "array_api", "array_api": None}


def register_kernel(name, *, array_api, numpy=None, cupy=None, numba=None):
    """Add a kernel to the interface (e.g. from a module of its own).

    Parameters
    ----------
    name : str
        The attribute under which ``backend.kernels`` offers it.
    array_api : callable
        The reference implementation (any namespace).
    numpy, cupy, numba : callable or None, default=None
        Implementations for those backends; a backend without one uses the
        one it builds on (numba: NumPy's; NumPy and CuPy: the reference).
        A callable given for ``numba`` is only called on the ``"numba"``
        backend, so it may import numba when called.

    Raises
    ------
    ValueError
        If ``name`` is already a method of the interface.
    """
    from ._reference import ArrayAPIKernels

    if hasattr(ArrayAPIKernels, name):
        raise ValueError(f"{name!r} is a built-in kernel of the interface.")
    impls = {"array_api": array_api, "numpy": numpy, "cupy": cupy, "numba": numba}
    _REGISTERED[name] = {k: v for k, v in impls.items() if v is not None}


def registered_kernels():
    """The names of the kernels added by :func:`register_kernel`."""
    return sorted(_REGISTERED)


def _registered(kernels, name):
    impls = _REGISTERED.get(name)
    if impls is None:
        return None
    level = kernels.name
    while level is not None:
        if level in impls:
            return impls[level]
        level = _PARENT.get(level, "array_api" if level != "array_api" else None)
    return None


def lookup(kernels, name):
    """The registered kernel ``name`` for a kernels object (AttributeError if none)."""
    found = None if name.startswith("__") else _registered(kernels, name)
    if found is None:
        raise AttributeError(f"{type(kernels).__name__} has no kernel {name!r}.")
    return found
