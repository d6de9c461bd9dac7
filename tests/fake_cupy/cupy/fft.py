import numpy as _np

from cupy import _wrapfunc

for _n in dir(_np.fft):
    if not _n.startswith("_") and callable(getattr(_np.fft, _n)):
        globals()[_n] = _wrapfunc(_n, getattr(_np.fft, _n))
