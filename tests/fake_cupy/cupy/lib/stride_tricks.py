from numpy.lib.stride_tricks import as_strided as _as


def as_strided(x, shape=None, strides=None):   # CuPy's exact signature
    import cupy
    return cupy.ndarray._from(_as(x._a, shape, strides))
