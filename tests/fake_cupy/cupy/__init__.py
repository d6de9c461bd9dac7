"""A strict, NumPy-backed stand-in for CuPy, for tests on machines without a GPU.

Only ``tests/test_fake_cupy.py`` puts this folder on ``sys.path``, in a child
process. Its arrays are *not* NumPy arrays and, as CuPy's, refuse to mix
with them: a NumPy operand, ``np.asarray(device_array)`` (``__array__``) and
pickling raise ``TypeError``; ``.get()`` copies to the host. Functions are
NumPy's, wrapped to take and return stand-in arrays (``out=`` included), and
``cupy.lib.stride_tricks.as_strided`` has CuPy's signature (no
``writeable``). ``LOG`` records host synchronisations (``float``, ``bool``,
``get``),
copies from the host (``upload``), draws of ``cupy.random`` generators on the
device (``random``) and NumPy index arrays used on device arrays (slow on a
real GPU).
It checks the CuPy-only branches of sknets; it is no substitute for running
``tests/test_gpu.py`` on a GPU.
"""
import builtins
import functools
import sys
import types

import numpy as _np

LOG = []
_HOST_OK = {"asarray", "array", "asnumpy", "ascontiguousarray"}

class _Device:
    id = 0
    def __init__(self, device=None): pass
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def __int__(self): return 0
    def __eq__(self, o): return isinstance(o, _Device)
    def __hash__(self): return 0
    def __repr__(self): return "<CUDA Device 0>"

def _reject(x, where):
    if isinstance(x, _np.ndarray):
        raise TypeError(f"[fakecupy] numpy.ndarray passed to {where} (CuPy: unsupported type / implicit conversion)")

def _unwrap(x, where, allow_host=False):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where, allow_host) for v in x)
    if not allow_host:
        _reject(x, where)
    return x

def _wrap(r):
    if isinstance(r, _np.ndarray):
        return ndarray._from(r)
    if isinstance(r, _np.generic) and not isinstance(r, (_np.str_, _np.bytes_)):
        return ndarray._from(_np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r

def _binop(name):
    def f(self, other):
        if isinstance(other, _np.ndarray):
            raise TypeError(f"[fakecupy] {name} with numpy.ndarray operand")
        o = other._a if isinstance(other, ndarray) else other
        r = getattr(self._a, name)(o)
        if r is NotImplemented:
            return r
        if name.startswith("__i"):
            return self
        return _wrap(r)
    return f

class ndarray:
    __array_priority__ = 1000
    __array_ufunc__ = None   # numpy ops with us defer -> our reflected op -> TypeError on ndarray
    @classmethod
    def _from(cls, a):
        o = object.__new__(cls); o._a = a; return o
    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        raise TypeError("use as_strided")
    def __array__(self, *a, **k):
        raise TypeError("[fakecupy] Implicit conversion to a NumPy array is not allowed. Please use `.get()`")
    def __dlpack__(self, *a, **k): return self._a.__dlpack__(*a, **k)
    def __dlpack_device__(self): return (2, 0)
    shape = property(lambda s: s._a.shape)
    dtype = property(lambda s: s._a.dtype)
    ndim = property(lambda s: s._a.ndim)
    size = property(lambda s: s._a.size)
    strides = property(lambda s: s._a.strides)
    itemsize = property(lambda s: s._a.itemsize)
    nbytes = property(lambda s: s._a.nbytes)
    T = property(lambda s: _wrap(s._a.T))
    device = property(lambda s: _Device())
    @property
    def flags(self): return self._a.flags
    def get(self, *a, **k): LOG.append("get"); return self._a.copy()
    def __float__(self): LOG.append("float"); return builtins.float(self._a)
    def __int__(self): return builtins.int(self._a)
    def __index__(self): return self._a.__index__()
    def __bool__(self): LOG.append("bool"); return builtins.bool(self._a)
    def __len__(self): return len(self._a)
    def __iter__(self): raise TypeError("[fakecupy] iteration over a device array (slow, avoid)")
    def __repr__(self): return "fakecupy." + repr(self._a)
    def __getitem__(self, k):
        if isinstance(k, _np.ndarray) or (isinstance(k, tuple) and builtins.any(isinstance(i, _np.ndarray) for i in k)):
            LOG.append("numpy index into device array")
        return _wrap(self._a[_unwrap(k, "getitem", True)])
    def __setitem__(self, k, v):
        if isinstance(v, _np.ndarray):
            raise TypeError("[fakecupy] setitem with numpy value")
        self._a[_unwrap(k, "setitem", True)] = v._a if isinstance(v, ndarray) else v
    def __neg__(self): return _wrap(-self._a)
    def __abs__(self): return _wrap(builtins.abs(self._a))
    def __invert__(self): return _wrap(~self._a)
    def __reduce__(self): raise TypeError("[fakecupy] pickling a device array (would embed cupy in the pickle)")
    def astype(self, dtype, copy=True, **k): return _wrap(self._a.astype(dtype, copy=copy))
    def copy(self, *a, **k): return _wrap(self._a.copy())
    def reshape(self, *s, **k): return _wrap(self._a.reshape(*s, **k))
    def ravel(self, *a): return _wrap(self._a.ravel(*a))
    def view(self, *a, **k): return _wrap(self._a.view(*a, **k))
    def transpose(self, *a): return _wrap(self._a.transpose(*a))
    def sum(self, *a, **k): return _wrap(self._a.sum(*a, **k))
    def max(self, *a, **k): return _wrap(self._a.max(*a, **k))
    def any(self, *a, **k): return _wrap(self._a.any(*a, **k))
    def all(self, *a, **k): return _wrap(self._a.all(*a, **k))
    def tolist(self): return self._a.tolist()
    def __array_namespace__(self, api_version=None):
        import array_api_compat.cupy as x; return x
    def __setstate__(self, s): raise TypeError

for _n in ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
           "lt", "le", "gt", "ge", "eq", "ne"]:
    for _f in (f"__{_n}__", f"__r{_n}__", f"__i{_n}__"):
        if hasattr(_np.ndarray, _f):
            setattr(ndarray, _f, _binop(_f))

def _wrapfunc(name, fn):
    @functools.wraps(fn)
    def w(*args, **kw):
        host = name in _HOST_OK
        a = [_unwrap(x, f"cupy.{name}", host) for x in args]
        k = {kk: _unwrap(v, f"cupy.{name}", host) for kk, v in kw.items()}
        if "device" in k: k.pop("device")
        return _wrap(fn(*a, **k))
    return w

def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        return a if dtype is None else a.astype(dtype, copy=False)
    LOG.append("upload")
    return ndarray._from(_np.array(a, dtype=dtype, copy=True))

def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, **k):
    if isinstance(obj, ndarray):
        r = obj._a.astype(dtype) if dtype is not None else obj._a
        return ndarray._from(r.copy() if copy else r)
    LOG.append("upload")
    return ndarray._from(_np.array(obj, dtype=dtype, copy=True))

def asnumpy(a, *k, **kw): return a._a.copy() if isinstance(a, ndarray) else _np.asarray(a)
def get_array_module(*a): return sys.modules[__name__]

_skip = {"ndarray", "asarray", "array", "asnumpy"}
_mod = sys.modules[__name__]
__all__ = []
for _name in dir(_np):
    if _name.startswith("_") or _name in _skip:
        continue
    _obj = getattr(_np, _name)
    if isinstance(_obj, types.ModuleType):
        continue
    if isinstance(_obj, type) or not callable(_obj):
        setattr(_mod, _name, _obj)
    else:
        setattr(_mod, _name, _wrapfunc(_name, _obj))
    __all__.append(_name)
__all__ += ["ndarray", "asarray", "array", "asnumpy"]
from cupy import cuda, lib, linalg, fft, random  # noqa
__version__ = "13.99-fake"


class ElementwiseKernel:
    """CuPy's user-defined element-wise kernel, for simple bodies.

    Typed parameters (one type placeholder ``T``), Python scalars cast to
    ``T``, output arrays updated in place; the CUDA C body must be
    statements ``[T] name = expression;`` whose expressions are also Python
    (``sqrt`` is NumPy's), run on whole arrays in order. Kernels count as
    ``LOG`` entries ``kernel``. Compiling the C for real is done by
    ``tests/test_cupy_kernels.py`` with nvcc, where it is installed.
    """

    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", no_return=False, return_tuple=False, **kwargs):
        def parse(params):
            out = []
            for p in params.split(","):
                typ, nm = p.split()
                if typ != "T":
                    raise NotImplementedError(f"[fakecupy] only type T, got {typ}")
                out.append(nm)
            return out
        self.in_names, self.out_names = parse(in_params), parse(out_params)
        self.statements = [s.strip() for s in operation.split(";") if s.strip()]
        self.name = name
        self.options = kwargs.get("options", ())

    def __call__(self, *args):
        n_in, n_out = len(self.in_names), len(self.out_names)
        if len(args) != n_in + n_out:
            raise TypeError(f"[fakecupy] {self.name}: wrong number of arguments ({len(args)})")
        arrays = [a for a in args if isinstance(a, ndarray)]
        for a in args:
            _reject(a, self.name)
        dtype = arrays[0].dtype
        if builtins.any(a.dtype != dtype for a in arrays):
            raise TypeError(f"[fakecupy] {self.name}: type T is not unique")
        outs = args[n_in:]
        if not builtins.all(isinstance(o, ndarray) for o in outs):
            raise TypeError(f"[fakecupy] {self.name}: outputs must be arrays")
        env = {"sqrt": _np.sqrt}
        for nm, a in zip(self.in_names + self.out_names, args):
            env[nm] = a._a.copy() if isinstance(a, ndarray) else _np.asarray(a, dtype=dtype)[()]
        for st in self.statements:
            target, expr = (x.strip() for x in st.split("=", 1))
            if target.startswith("T "):
                target = target[2:].strip()
            elif target not in self.out_names:
                raise TypeError(f"[fakecupy] {self.name}: assigns to {target!r}, not an output")
            env[target] = _np.asarray(eval(expr, {"__builtins__": {}}, env), dtype=dtype)
        for nm, o in zip(self.out_names, outs):
            o._a[...] = env[nm]
        LOG.append("kernel")
        return outs[0] if len(outs) == 1 else tuple(outs)
