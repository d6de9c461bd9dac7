"""``cupy.random.default_rng``: a generator that draws where the arrays live.

CuPy's default generator (cuRAND's XORWOW) gives other numbers than NumPy's
for the same seed; the stand-in draws with NumPy's Philox, also another
stream than ``numpy.random.default_rng``'s, so no test can lean on equal
draws. A draw is logged as ``random``, never as an ``upload``.
"""
import numpy as _np


class Generator:
    def __init__(self, seed=None):
        self._gen = _np.random.Generator(_np.random.Philox(seed))

    def random(self, size=None, dtype=_np.float64, out=None):
        import cupy

        dtype = _np.dtype(dtype)
        if dtype not in (_np.float32, _np.float64):
            raise TypeError(f"[fakecupy] random: unsupported dtype {dtype}")
        if out is not None:
            raise NotImplementedError("[fakecupy] random(out=...)")
        cupy.LOG.append("random")
        return cupy.ndarray._from(self._gen.random(size, dtype=dtype))


def default_rng(seed=None):
    return Generator(seed)
