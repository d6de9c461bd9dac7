"""A strict stand-in for ``cupyx.scipy.sparse`` (CSR and CSC matrices).

A matrix wraps a SciPy one; like CuPy's it lives "on the device": products
take and return stand-in ``cupy`` arrays and refuse NumPy ones, ``toarray()``
returns a device array, ``get()`` copies to the host (a SciPy matrix), and
pickling raises ``TypeError``. Building one from a SciPy matrix is an
``upload`` in ``cupy.LOG``, as copying it to the GPU would be.
"""
import cupy
import numpy as _np
import scipy.sparse as _sp


def _wrap(m):
    if _sp.issparse(m):
        return {"csr": csr_matrix, "csc": csc_matrix}[m.format]._from(m)
    if isinstance(m, _np.ndarray):
        return cupy.ndarray._from(m)
    return m


def _device_operand(other, where):
    if isinstance(other, cupy.ndarray):
        return other._a
    raise TypeError(f"[fakecupy] cupyx.scipy.sparse {where} with {type(other).__name__} "
                    "(CuPy's sparse matrices take CuPy arrays only)")


class spmatrix:
    format = None

    def __init__(self, arg1, shape=None, dtype=None, copy=False):
        if _sp.issparse(arg1):
            cupy.LOG.append("upload")
            m = arg1.asformat(self.format).astype(dtype or arg1.dtype, copy=True)
        elif isinstance(arg1, spmatrix):
            m = arg1._m.asformat(self.format)
            m = m.astype(dtype, copy=True) if dtype is not None else m
        else:
            raise TypeError(f"[fakecupy] cupyx.scipy.sparse: unsupported input {type(arg1)}")
        self._m = m

    @classmethod
    def _from(cls, m):
        o = object.__new__(cls)
        o._m = m
        return o

    shape = property(lambda s: s._m.shape)
    dtype = property(lambda s: s._m.dtype)
    nnz = property(lambda s: s._m.nnz)
    ndim = 2
    T = property(lambda s: _wrap(s._m.T))
    data = property(lambda s: cupy.ndarray._from(s._m.data))

    def __matmul__(self, other):
        return _wrap(self._m @ _device_operand(other, "@"))

    def __rmatmul__(self, other):
        return _wrap(_device_operand(other, "@") @ self._m)

    def toarray(self):
        return cupy.ndarray._from(self._m.toarray())

    def astype(self, dtype):
        return _wrap(self._m.astype(dtype))

    def tocsr(self):
        return _wrap(self._m.tocsr())

    def tocsc(self):
        return _wrap(self._m.tocsc())

    def __getitem__(self, key):
        if isinstance(key, _np.ndarray):
            cupy.LOG.append("numpy index into device array")
        if isinstance(key, cupy.ndarray):
            key = key._a
        return _wrap(self._m[key])

    def get(self):
        cupy.LOG.append("get")
        return self._m.copy()

    def __array__(self, *a, **k):
        raise TypeError("[fakecupy] Implicit conversion to a NumPy array is not allowed.")

    def __reduce__(self):
        raise TypeError("[fakecupy] pickling a device sparse matrix")


class csr_matrix(spmatrix):
    format = "csr"


class csc_matrix(spmatrix):
    format = "csc"


def issparse(x):
    return isinstance(x, spmatrix)
