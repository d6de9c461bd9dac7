"""The array backend: where arrays live and which namespace does the math.

A :class:`Backend` wraps one array-API namespace (``xp``). The numeric core
(layers, losses, optimizers) asks the backend for ``xp`` and never imports
NumPy or CuPy for array math itself. Host-side work that has no array-API
equivalent (random initialisation, shuffling) is done in NumPy and moved to
the backend with :meth:`Backend.asarray`.

Backends:

- ``"numpy"`` (default): NumPy through ``array_api_compat.numpy``.
- ``"numba"``: NumPy arrays too, with the hot passes (im2col/col2im, max
  pooling, bias, optimizer steps) compiled by numba
  (``pip install "sknets[fast]"``); the same results as ``"numpy"``.
- ``"cupy"``: CuPy on a CUDA GPU (``pip install "sknets[gpu]"``).
- ``"auto"``: CuPy when a usable GPU is present, NumPy otherwise.
- any other array-API namespace (e.g. ``array_api_strict``), used when an
  estimator follows its input's namespace under scikit-learn's
  ``array_api_dispatch``.

Each backend owns its kernels (``Backend.kernels``, :mod:`sknets._kernels`):
the passes whose best form depends on the library, behind one interface.
Where an estimator's results go, and which backend its input asks for under
scikit-learn's array-API dispatch, is :mod:`sknets._dispatch`.
"""

import contextlib
import warnings

import array_api_compat
import numpy as np

from ._config import get_config
from ._cupy_setup import _cupy_backend, _is_cupy_array, gpu_available
from ._kernels import kernels_for

__all__ = ["Backend", "get_backend", "gpu_available", "namespace_backend", "to_numpy",
           "read_back"]


#: Multiply-adds under which a product in a loop over time (a recurrent
#: step) runs on one BLAS thread (:meth:`Backend.small_product_threads`).
SMALL_PRODUCT = 1 << 22

_blas_controller = None


class Backend:
    """One array namespace and the device arrays are placed on.

    Parameters
    ----------
    name : str
        Short name: ``"numpy"``, ``"cupy"`` or the namespace's module name.
    xp : module
        An array-API compatible namespace.
    device : object, default=None
        Device on which arrays are created (``None``: the namespace default).

    Attributes
    ----------
    kernels : sknets._kernels.ArrayAPIKernels
        The backend's implementation of the hot passes.
    """

    def __init__(self, name, xp, device=None):
        self.name = name
        self.xp = xp
        self.device = device
        self.kernels = kernels_for(name, xp)

    def __repr__(self):
        return f"Backend({self.name!r})"

    def __eq__(self, other):
        return (
            isinstance(other, Backend)
            and self.name == other.name
            and self.device == other.device
        )

    def __hash__(self):
        return hash((self.name, str(self.device)))

    def __reduce__(self):
        # A namespace is a module and cannot be pickled: rebuild by name.
        # (Fitted estimators never pickle a Backend: they store NumPy arrays.)
        return (_backend_from_state, (self.name, self.device))

    @property
    def is_numpy(self):
        """Whether the arrays are NumPy arrays (``"numpy"`` and ``"numba"``)."""
        return self.name in ("numpy", "numba")

    @property
    def reuses_buffers(self):
        """Whether a layer keeps its work buffers between batches (host memory:
        NumPy; a GPU's memory pool, or a strict namespace, gets fresh arrays)."""
        return self.is_numpy

    def relu_over(self, a):
        """``max(a, 0)`` written over ``a`` on the host (NumPy), a new array
        elsewhere: for an array no one else holds (a layer's fresh output).

        Parameters
        ----------
        a : array
            A floating array of this backend that nothing else refers to.

        Returns
        -------
        array
            The rectified values (``a`` itself on NumPy).
        """
        if self.is_numpy:
            return np.maximum(a, 0.0, out=a)
        return self.xp.maximum(a, 0.0)

    def small_product_threads(self, n_mult_adds):
        """A context in which a loop of small matrix products (each under
        :data:`SMALL_PRODUCT` multiply-adds) runs on one BLAS thread.

        On the host (NumPy), a product such as a recurrent step's ``h @ U``
        (64 x 64 by 64 x 192) is too small to share between threads: each of
        the hundreds per batch would wait for a descheduled thread on a busy
        machine. scikit-learn limits BLAS threads the same way
        (``threadpoolctl``) around its own small-product loops. On other
        backends, and for larger products, it does nothing.

        Parameters
        ----------
        n_mult_adds : int
            Multiply-adds of one product of the loop.

        Returns
        -------
        context manager
            The limit of threadpoolctl on the host for small products, else a
            context that does nothing.
        """
        global _blas_controller
        if not self.is_numpy or n_mult_adds >= SMALL_PRODUCT:
            return contextlib.nullcontext()
        if _blas_controller is None:
            from threadpoolctl import ThreadpoolController

            _blas_controller = ThreadpoolController()
        return _blas_controller.limit(limits=1, user_api="blas")

    def dtype(self, dtype):
        """The namespace's dtype object for a dtype given in any form.

        Parameters
        ----------
        dtype : numpy dtype, str or dtype of this namespace
            A NumPy dtype, its name, or a dtype of this namespace (returned
            as is).

        Returns
        -------
        dtype : dtype of this namespace
            E.g. ``cupy.float32`` or ``array_api_strict.float32``.
        """
        try:
            name = np.dtype(dtype).name
        except TypeError:
            return dtype
        return getattr(self.xp, name)

    def asarray(self, a, dtype=None):
        """Move ``a`` (NumPy, CuPy, any array-API array) onto this backend.

        Parameters
        ----------
        a : array-like
            Input array; host arrays are copied to the device only if needed.
        dtype : numpy dtype or str, default=None
            Target floating dtype (``None`` keeps the dtype).

        Returns
        -------
        array
            An array of this backend's namespace.
        """
        xp = self.xp
        if self.is_numpy:
            a = to_numpy(a)
            return a if dtype is None else a.astype(dtype, copy=False)
        if not _is_namespace_array(a, xp):
            a = to_numpy(a)
            if dtype is not None and a.dtype.kind == "f":
                # cast on the host: half the bytes to move for float64 -> float32
                try:
                    a = a.astype(np.dtype(dtype), copy=False)
                except TypeError:   # a dtype object of the target namespace
                    pass
            if self.name == "cupy":
                a = xp.asarray(a)
            else:
                a = xp.asarray(a, device=self.device)
        elif self.device is not None and array_api_compat.device(a) != self.device:
            a = array_api_compat.to_device(a, self.device)
        if dtype is not None and a.dtype != self.dtype(dtype):
            a = xp.astype(a, self.dtype(dtype))
        return a

    def to_numpy(self, a):
        """Copy a backend array to a NumPy array on the host.

        Parameters
        ----------
        a : array
            An array of this backend's namespace.

        Returns
        -------
        array : numpy.ndarray
            A copy on the host.
        """
        return to_numpy(a)

    def uniform_sampler(self, seed):
        """A source of uniform [0, 1) arrays on this backend, seeded by ``seed``.

        NumPy and CuPy draw with their own generators where the arrays live
        (``numpy.random.default_rng``, ``cupy.random.default_rng``: no host
        draw and upload per call on a GPU); a namespace without random numbers
        (the array API has none, e.g. ``array_api_strict``) gets NumPy draws
        moved over.

        Parameters
        ----------
        seed : int
            Seed of the generator (drawn from the estimator's ``random_state``).

        Returns
        -------
        draw : callable
            ``draw(shape, dtype)`` returns a new array of ``shape``.
        """
        if self.name == "cupy":
            import cupy

            gen = cupy.random.default_rng(seed)
            return lambda shape, dtype: gen.random(size=shape, dtype=np.dtype(dtype))
        gen = np.random.default_rng(seed)
        if self.is_numpy:
            return lambda shape, dtype: gen.random(shape, dtype=np.dtype(dtype))
        return lambda shape, dtype: self.asarray(gen.random(shape, dtype=np.dtype(dtype)))

    def sliding_windows(self, x, window, stride):
        """Windows over the two spatial axes of a channels-last batch.

        Parameters
        ----------
        x : array of shape (n_samples, height, width, channels)
            Already padded input.
        window : (int, int)
            Window height and width ``(kh, kw)``.
        stride : (int, int)
            Step between windows along height and width.

        Returns
        -------
        windows : array of shape (n_samples, out_h, out_w, kh, kw, channels)
            ``windows[n, i, j, a, b, c] == x[n, i*sh + a, j*sw + b, c]``: a
            strided view on NumPy and CuPy, a copy elsewhere
            (:class:`sknets._kernels.ArrayAPIKernels`). Treat it as read-only.
        """
        from ._kernels._geometry import plan

        return self.kernels._windows(x, plan(x.shape, window, stride))


def ufunc_namespace(a):
    """NumPy or CuPy itself for an array of either, else None.

    Their ufuncs take ``out=``, so element-wise updates (the optimizers') can
    write into reused arrays instead of allocating temporaries; ``out=`` is
    outside the array-API standard, so any other namespace gets None and the
    caller takes its standard path.
    """
    if isinstance(a, np.ndarray):
        return np
    if _is_cupy_array(a):
        import cupy

        return cupy
    return None


def is_array(a):
    """True for an array of any namespace (NumPy, CuPy, torch, array-API...)."""
    return (not isinstance(a, (np.generic, type)) and hasattr(a, "__dlpack__")
            and hasattr(a, "shape") and hasattr(a, "dtype"))


def _is_namespace_array(a, xp):
    try:
        return array_api_compat.array_namespace(a) is xp
    except TypeError:
        return False


def to_numpy(a):
    """Convert any supported array (NumPy, CuPy, array-API) to NumPy.

    Parameters
    ----------
    a : array-like
        NumPy array, CuPy array, or an array of any namespace that supports
        DLPack on the CPU.

    Returns
    -------
    array : numpy.ndarray
        The same values on the host (no copy for a NumPy array).
    """
    if isinstance(a, np.ndarray):
        return a
    if _is_cupy_array(a):
        return a.get()
    if type(a).__module__.split('.')[0] == 'torch':
        return a.detach().cpu().numpy()
    if hasattr(a, "__dlpack__") and not np.isscalar(a):
        try:
            return np.from_dlpack(a)
        except (TypeError, RuntimeError, BufferError, ValueError, AttributeError):
            pass
    if hasattr(a, "to_device") and hasattr(a, "__array_namespace__"):
        try:  # e.g. array_api_strict arrays on a non-CPU device
            return np.asarray(a.to_device("cpu"))
        except (TypeError, RuntimeError, ValueError):
            pass
    return np.asarray(a)


def _numpy_backend():
    import array_api_compat.numpy as xp_np

    return Backend("numpy", xp_np)


def _numba_backend():
    """NumPy arrays with the compiled kernels (ImportError without numba)."""
    import array_api_compat.numpy as xp_np

    from ._kernels._numba import numba_import_error

    error = numba_import_error()
    if error is not None:
        raise error
    return Backend("numba", xp_np)


def _backend_from_state(name, device=None):
    if name == "numpy":
        return _numpy_backend()
    if name == "cupy":
        return _cupy_backend()
    if name == "numba":
        try:
            return _numba_backend()
        except ImportError as exc:   # the same arrays, without the compiled kernels
            warnings.warn(f"{exc} Using backend='numpy' instead.", UserWarning, stacklevel=2)
            return _numpy_backend()
    import importlib

    return namespace_backend(importlib.import_module(name), device=device)


def _canonical_namespace(xp):
    """``xp`` itself, or the public module that a vendored copy wraps.

    scikit-learn vendors array-api-compat (``sklearn.externals.array_api_compat``);
    sknets always computes with the public ``array_api_compat`` wrappers so
    that a namespace has one identity.
    """
    name = xp.__name__
    prefix = "sklearn.externals."
    if name.startswith(prefix):
        import importlib

        return importlib.import_module(name[len(prefix):])
    return xp


def namespace_backend(xp, device=None):
    """A backend for an arbitrary array-API namespace (e.g. array_api_strict).

    Parameters
    ----------
    xp : module
        An array-API namespace, e.g. one returned by
        :func:`sklearn.utils._array_api.get_namespace`.
    device : object, default=None
        The device arrays are placed on (``None``: the namespace's default).

    Returns
    -------
    backend : Backend
        A backend computing in ``xp`` on ``device``.
    """
    xp = _canonical_namespace(xp)
    name = xp.__name__
    if name in ("numpy", "array_api_compat.numpy"):
        return _numpy_backend()
    if name in ("cupy", "array_api_compat.cupy"):
        return _cupy_backend()
    return Backend(name, xp, device=device)


def read_back(xp, value, flag=None):
    """An array and a 0-d boolean flag of namespace ``xp`` to the host in one
    device-to-host copy.

    Parameters
    ----------
    xp : module
        The arrays' namespace.
    value : array or float
        E.g. an epoch's summed loss (0-d) or per-class objective.
    flag : 0-d bool array, bool or None, default=None
        E.g. whether the weights are finite; None counts as True.

    Returns
    -------
    value : float or numpy.ndarray
        A float for a 0-d ``value``, else a NumPy array of its shape.
    flag : bool
        The flag, on the host.
    """
    if is_array(value) and is_array(flag):
        flat = xp.reshape(value, (-1,))
        both = to_numpy(xp.concat([flat, xp.reshape(xp.astype(flag, value.dtype), (1,))]))
        host, ok = np.reshape(both[:-1], tuple(value.shape)), bool(both[-1])
    else:
        host = to_numpy(value) if is_array(value) else np.asarray(value)
        ok = True if flag is None else bool(flag)
    return (float(host) if host.ndim == 0 else host), ok


def get_backend(name=None):
    """Return the backend for a name, or the configured default.

    Parameters
    ----------
    name : {"numpy", "numba", "cupy", "auto"} or None, default=None
        ``None`` reads ``sknets.get_config()["backend"]``.

    Returns
    -------
    backend : Backend
        The backend (one object per name and device).

    Raises
    ------
    ValueError
        If ``name`` is not a known backend.
    ImportError
        If ``"cupy"`` is asked for and CuPy is not installed, or ``"numba"``
        and numba is not.
    RuntimeError
        If ``"cupy"`` is asked for and no CUDA GPU is reachable.
    """
    if name is None:
        name = get_config()["backend"]
    if name == "numpy":
        return _numpy_backend()
    if name == "numba":
        return _numba_backend()
    if name == "cupy":
        return _cupy_backend()
    if name == "auto":
        return _cupy_backend() if gpu_available() else _numpy_backend()
    raise ValueError(
        f"backend must be 'numpy', 'numba', 'cupy', 'auto' or None, got {name!r}."
    )
