"""A stand-in for ``cupyx`` (CuPy's SciPy-like modules): ``cupyx.scipy.sparse`` only."""
