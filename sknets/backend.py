"""The array backend: where arrays live and which namespace does the math.

A :class:`Backend` wraps one array-API namespace (``xp``). The numeric core
(layers, losses, optimizers) asks the backend for ``xp`` and never imports
NumPy or CuPy for array math itself. Host-side work that has no array-API
equivalent (random initialisation, shuffling) is done in NumPy and moved to
the backend with :meth:`Backend.asarray`.

Backends:

- ``"numpy"`` (default): NumPy through ``array_api_compat.numpy``.
- ``"cupy"``: CuPy on a CUDA GPU (``pip install "sknets[gpu]"``).
- ``"auto"``: CuPy when a usable GPU is present, NumPy otherwise.
- any other array-API namespace (e.g. ``array_api_strict``), used when an
  estimator follows its input's namespace under scikit-learn's
  ``array_api_dispatch``.
"""

import numpy as np
import array_api_compat

from ._config import get_config

__all__ = ["Backend", "get_backend", "to_numpy"]


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
    """

    def __init__(self, name, xp, device=None):
        self.name = name
        self.xp = xp
        self.device = device

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
        return (_backend_from_state, (self.name,))

    @property
    def is_numpy(self):
        return self.name == "numpy"

    def dtype(self, dtype):
        """The namespace's dtype object for a NumPy dtype or its name."""
        return getattr(self.xp, np.dtype(dtype).name)

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
            if self.name == "cupy":
                a = xp.asarray(a)
            else:
                a = xp.asarray(a, device=self.device)
        if dtype is not None and a.dtype != self.dtype(dtype):
            a = xp.astype(a, self.dtype(dtype))
        return a

    def to_numpy(self, a):
        """Copy a backend array to a NumPy array on the host."""
        return to_numpy(a)

    def sliding_windows(self, x, window, stride):
        """Windows over the two spatial axes of a channels-last batch.

        The im2col building block of convolution and pooling. On NumPy and
        CuPy the result is a strided *view* (``as_strided``: no copy); any
        other array-API namespace gets a copy built by a loop over the
        ``kh * kw`` kernel offsets with standard slicing and ``xp.stack``.

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
            ``windows[n, i, j, a, b, c] == x[n, i*sh + a, j*sw + b, c]`` with
            ``out_h = (height - kh) // sh + 1`` (likewise ``out_w``). Treat
            it as read-only.
        """
        n, h, w, c = x.shape
        (kh, kw), (sh, sw) = window, stride
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        shape = (n, oh, ow, kh, kw, c)
        if self.name in ("numpy", "cupy"):
            if self.name == "numpy":
                from numpy.lib.stride_tricks import as_strided
            else:  # pragma: no cover - needs a GPU
                from cupy.lib.stride_tricks import as_strided
            s0, s1, s2, s3 = x.strides
            return as_strided(x, shape, (s0, s1 * sh, s2 * sw, s1, s2, s3),
                              writeable=False)
        xp = self.xp
        rows = [
            xp.stack([x[:, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw, :]
                      for b in range(kw)], axis=3)
            for a in range(kh)
        ]
        return xp.stack(rows, axis=3)


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
    numpy.ndarray
    """
    if isinstance(a, np.ndarray):
        return a
    if array_api_compat.is_cupy_array(a):
        return a.get()
    if hasattr(a, "__dlpack__") and not np.isscalar(a):
        try:
            return np.from_dlpack(a)
        except (TypeError, RuntimeError, BufferError, ValueError):
            pass
    return np.asarray(a)


def _numpy_backend():
    import array_api_compat.numpy as xp_np

    return Backend("numpy", xp_np)


def _cupy_backend():
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError(
            "backend='cupy' needs CuPy, which is not installed. Install it with "
            "`pip install \"sknets[gpu]\"` (CUDA 12) on a machine with an "
            "NVIDIA GPU, or use backend='numpy'."
        ) from exc
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "backend='cupy' needs a CUDA GPU, but CuPy could not reach one "
            f"({exc}). Use backend='numpy' or backend='auto'."
        ) from exc
    if n_devices < 1:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "backend='cupy' needs a CUDA GPU, but none was found. Use "
            "backend='numpy' or backend='auto'."
        )
    import array_api_compat.cupy as xp_cp

    return Backend("cupy", xp_cp)


def gpu_available():
    """Return True when CuPy is installed and can reach a CUDA GPU."""
    try:
        _cupy_backend()
    except (ImportError, RuntimeError):
        return False
    return True


def _backend_from_state(name):
    if name == "numpy":
        return _numpy_backend()
    if name == "cupy":
        return _cupy_backend()
    import importlib

    return namespace_backend(importlib.import_module(name))


def namespace_backend(xp, device=None):
    """A backend for an arbitrary array-API namespace (e.g. array_api_strict)."""
    name = xp.__name__
    if name in ("numpy", "array_api_compat.numpy"):
        return _numpy_backend()
    if name in ("cupy", "array_api_compat.cupy"):
        return _cupy_backend()
    return Backend(name, xp, device=device)


def get_backend(name=None):
    """Return the backend for a name, or the configured default.

    Parameters
    ----------
    name : {"numpy", "cupy", "auto"} or None, default=None
        ``None`` reads ``sknets.get_config()["backend"]``.

    Returns
    -------
    Backend

    Raises
    ------
    ValueError
        If ``name`` is not a known backend.
    ImportError
        If ``"cupy"`` is asked for and CuPy is not installed.
    RuntimeError
        If ``"cupy"`` is asked for and no CUDA GPU is reachable.
    """
    if name is None:
        name = get_config()["backend"]
    if name == "numpy":
        return _numpy_backend()
    if name == "cupy":
        return _cupy_backend()
    if name == "auto":
        return _cupy_backend() if gpu_available() else _numpy_backend()
    raise ValueError(
        f"backend must be 'numpy', 'cupy', 'auto' or None, got {name!r}."
    )
