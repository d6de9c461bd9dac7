"""The backends' kernels: the hot passes of layers and optimizers behind one interface.

Each :class:`~sknets.backend.Backend` owns a kernels object
(``backend.kernels``) with the passes whose best form depends on the array
library: im2col (optionally with a column of ones that carries the bias
through the GEMM) and col2im, the convolution's input and kernel gradients
(1-D and 2-D windows, stride, padding, dilation), max/average pooling
forward and backward (max pooling with an optional fused ReLU), the channel
bias and its gradient, matrix products into kept work arrays, the optimizer
steps. Layers and optimizers call these and never branch on the library, as
thinc's ``Ops`` or Chainer's ``get_array_module`` keep them generic.
Where a method takes ``work``, an implementation may write into arrays kept
from one training batch to the next (:meth:`sknets.layers.Layer._work`).

Implementations, each tested against the reference on the same inputs
(``tests/test_kernels.py``):

========================  ==========================  ==============================
class                     backend                     what it is
========================  ==========================  ==============================
``ArrayAPIKernels``       any array-API namespace     the reference: plain standard
                                                      code (:mod:`._reference`)
``NumpyKernels``          ``"numpy"``                 NumPy-tuned (:mod:`._numpy`)
``CupyKernels``           ``"cupy"``                  few GPU launches, fused
                                                      optimizer kernels (:mod:`._cupy`)
``NumbaKernels``          ``"numba"``                 NumPy's, with max pooling (+ ReLU),
                                                      col2im's additions and the
                                                      optimizer steps compiled by
                                                      numba (:mod:`._numba`)
========================  ==========================  ==============================

Kernels written elsewhere (e.g. a trainer's per-sample epoch) join the
interface with :func:`register_kernel`: ``backend.kernels.<name>`` then
finds the implementation for its backend, or for the backend it builds on
(numba on NumPy, NumPy on the reference). A module of such kernels registers
them when imported, e.g.::

    register_kernel("perceptron_epoch", array_api=epoch, numpy=epoch_numpy,
                    numba=epoch_numba)   # epoch_numba may import numba when called

and its caller imports that module and calls
``backend.kernels.perceptron_epoch(...)``.
"""

from ._numpy import NumpyKernels
from ._reference import ArrayAPIKernels
from ._registry import register_kernel, registered_kernels

__all__ = ["ArrayAPIKernels", "NumpyKernels", "kernels_for", "register_kernel",
           "registered_kernels"]

_CACHE = {}


def kernels_for(name, xp):
    """The kernels object of backend ``name`` on namespace ``xp`` (one per pair).

    Parameters
    ----------
    name : str
        ``"numpy"``, ``"cupy"``, ``"numba"``, or any other name for the
        reference implementation on ``xp``.
    xp : module

    Raises
    ------
    ImportError
        For ``"numba"`` without numba.
    """
    key = (name, getattr(xp, "__name__", str(xp)))
    found = _CACHE.get(key)
    if found is None:
        if name == "numpy":
            found = NumpyKernels(xp)
        elif name == "cupy":
            from ._cupy import CupyKernels

            found = CupyKernels(xp)
        elif name == "numba":
            from ._numba import NumbaKernels

            found = NumbaKernels(xp)
        else:
            found = ArrayAPIKernels(xp)
        _CACHE[key] = found
    return found
