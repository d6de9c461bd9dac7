"""Finding CuPy and a usable CUDA GPU: the ``"cupy"`` backend and
:func:`gpu_available`.

Every failure says what is missing and how to fix it (install the matching
CuPy wheel, check the driver) or how to go on without a GPU
(``backend="numpy"`` or ``"auto"``). A first kernel and a first matrix
product run once, when the backend is first asked for, so that a broken CUDA
set-up shows there and not in the middle of a fit.
"""

import functools


def _is_cupy_array(a):
    # Not array_api_compat.is_cupy_array: that one fails when ``cupy`` is
    # masked in sys.modules (how tests simulate a machine without CuPy).
    cls = type(a)
    return cls.__name__ == "ndarray" and cls.__module__.split(".")[0] == "cupy"


def _cupy_backend():
    try:
        import cupy
    except ImportError as exc:
        raise ImportError(
            "backend='cupy' needs CuPy, which is not installed. Install it with "
            "`pip install \"sknets[gpu]\"` (CUDA 12; `sknets[gpu-cuda13]` for CUDA 13) "
            "on a machine with an "
            "NVIDIA GPU, or use backend='numpy'."
        ) from exc
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise RuntimeError(
            "backend='cupy' needs a CUDA GPU, but CuPy (installed) could not reach "
            f"one ({exc}). Check the NVIDIA driver and that the CuPy wheel matches "
            "the CUDA version (`pip install \"sknets[gpu]\"` installs cupy-cuda12x, "
            "`sknets[gpu-cuda13]` cupy-cuda13x), "
            "or use backend='numpy' or backend='auto'."
        ) from exc
    if n_devices < 1:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "backend='cupy' needs a CUDA GPU, but none was found. Use "
            "backend='numpy' or backend='auto'."
        )
    _cupy_smoke_test()
    import array_api_compat.cupy as xp_cp

    from .backend import Backend

    return Backend("cupy", xp_cp)


@functools.lru_cache(maxsize=1)
def _cupy_works():
    import cupy

    # A kernel and a matrix product: CuPy compiles kernels (NVRTC) and loads
    # cuBLAS on first use, so a broken CUDA set-up shows here, not mid-fit.
    a = cupy.arange(4, dtype=cupy.float32)
    return float(a @ cupy.ones(4, dtype=cupy.float32)) == 6.0


def _cupy_smoke_test():  # pragma: no cover - needs a GPU
    try:
        ok = _cupy_works()
    except Exception as exc:
        raise RuntimeError(
            "backend='cupy': CuPy found a GPU but could not run on it "
            f"({type(exc).__name__}: {exc}). Check that the CuPy wheel matches the "
            "CUDA version and driver (`pip install \"sknets[gpu]\"` installs "
            "cupy-cuda12x, `sknets[gpu-cuda13]` cupy-cuda13x), or use backend='numpy' "
            "or backend='auto'."
        ) from exc
    if not ok:
        raise RuntimeError("backend='cupy': CuPy computed a wrong result on the GPU.")


def gpu_available():
    """Return True when CuPy is installed and can reach a CUDA GPU.

    Returns
    -------
    available : bool
        CuPy imports, finds a device, and a first kernel and matrix product
        run on it.
    """
    try:
        _cupy_backend()
    except (ImportError, RuntimeError):
        return False
    return True
