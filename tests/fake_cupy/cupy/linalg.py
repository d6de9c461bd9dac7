import numpy as _np

from cupy import _wrapfunc

for _n in dir(_np.linalg):
    if not _n.startswith("_") and callable(getattr(_np.linalg, _n)) and not isinstance(getattr(_np.linalg, _n), type):
        globals()[_n] = _wrapfunc(_n, getattr(_np.linalg, _n))
