"""One-launch optimizer steps on CuPy (``cupy.ElementwiseKernel``).

On a GPU a mini-batch of a small network is bound by kernel launches, not by
arithmetic: the element-wise Adam step (a dozen operations per parameter
array) is half of the launches of an MLP's mini-batch. Here each step is one
fused kernel per parameter array, as Chainer's CuPy optimizers do.

The kernels do the NumPy path's operations in the same order, each rounded
once (``--fmad=false``: no fused multiply-add contraction; division and
square root are IEEE-rounded by default), so a step gives the same numbers as
:mod:`sknets.optimizers` computes on NumPy. Inputs are ``const`` references,
outputs (updated in place) references, ``T`` the parameters' dtype.

If a kernel cannot be compiled or run (an unusual CUDA set-up), a warning
says so once and the optimizers fall back to CuPy's element-wise ufuncs.
"""

import warnings

#: name -> (input parameters, in-place output parameters, operation)
KERNELS = {
    # m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr m / (sqrt(v) + eps)
    "adam": (
        "T g, T b1, T c1, T b2, T c2, T lr, T eps",
        "T p, T m, T v",
        "m = m * b1 + g * c1;"
        " v = v * b2 + (g * g) * c2;"
        " p = p - (m * lr) / (sqrt(v) + eps);",
    ),
    # h += g^2;  p -= lr g / (sqrt(h) + eps)   (AdaGrad)
    "adagrad": (
        "T g, T lr, T eps",
        "T p, T h",
        "h = h + g * g;"
        " p = p - (g * lr) / (sqrt(h) + eps);",
    ),
    # h = d h + (1 - d) g^2;  p -= lr g / (sqrt(h) + eps)   (RMSprop; c = 1 - d)
    "rmsprop": (
        "T g, T d, T c, T lr, T eps",
        "T p, T h",
        "h = h * d + (g * c) * g;"
        " p = p - (g * lr) / (sqrt(h) + eps);",
    ),
    # v = mu v - lr g;  p += v
    "momentum": (
        "T g, T mu, T lr",
        "T p, T v",
        "v = v * mu - g * lr;"
        " p = p + v;",
    ),
    # v = mu v - lr g;  p += mu v - lr g
    "nesterov": (
        "T g, T mu, T lr",
        "T p, T v",
        "T step = g * lr;"
        " v = v * mu - step;"
        " p = p + (v * mu - step);",
    ),
}

OPTIONS = ("--fmad=false",)

_compiled = {}
_broken = False


def fused_step(name, inputs, outputs):
    """Run kernel ``name`` on CuPy arrays; return False if fused kernels are
    unavailable (then the caller takes its ufunc path).

    Parameters
    ----------
    name : {"adam", "adagrad", "rmsprop", "momentum", "nesterov"}
    inputs : sequence
        The gradient (a CuPy array) then the Python-float hyper-parameters,
        in the order of the kernel's input parameters.
    outputs : sequence of CuPy arrays
        Updated in place, in the order of the kernel's output parameters.

    Returns
    -------
    bool
        True when the kernel ran.
    """
    global _broken
    if _broken:
        return False
    kernel = _compiled.get(name)
    try:
        if kernel is None:
            import cupy

            in_params, out_params, operation = KERNELS[name]
            kernel = cupy.ElementwiseKernel(in_params, out_params, operation,
                                            f"sknets_{name}_step", options=OPTIONS)
        kernel(*inputs, *outputs)
    except Exception as exc:   # compilation (NVRTC) or launch failure
        if name in _compiled:  # it ran before: a real error, not the set-up
            raise
        _broken = True
        warnings.warn(
            f"sknets: the fused CuPy kernel for the {name} step failed "
            f"({type(exc).__name__}: {exc}); using CuPy's element-wise operations "
            "instead (same results, more kernel launches).",
            RuntimeWarning, stacklevel=3)
        return False
    _compiled[name] = kernel
    return True
