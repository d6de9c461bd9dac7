"""The fused CuPy optimizer kernels (``sknets._cupy_kernels``) without a GPU.

- Their CUDA C bodies compile (nvcc, where the CUDA toolkit is installed; no
  GPU needed) for float32 and float64, with the options CuPy is given, to
  PTX with no fused multiply-add and IEEE-rounded division and square root.
- Their arithmetic is the NumPy path's: run with the CuPy stand-in
  (``tests/fake_cupy``), a step gives bit for bit what
  ``sknets.optimizers`` computes on NumPy, in float32 and float64.
"""

import re
import shutil
import subprocess
import textwrap

import pytest
from fake_cupy_run import run_with_fake_cupy

from sknets._cupy_kernels import KERNELS, OPTIONS


def _kernel_source(name, in_params, out_params, operation):
    """The kernel body in a templated CUDA kernel, as CuPy places it: each
    element's inputs as ``const T``, its outputs as ``T&``, ``T`` the dtype."""
    ins = [p.split()[1] for p in in_params.split(",")]
    outs = [p.split()[1] for p in out_params.split(",")]
    args = ", ".join([f"const T* {n}_" for n in ins] + [f"T* {n}_" for n in outs])
    loads = " ".join([f"const T {n} = {n}_[i];" for n in ins]
                     + [f"T& {n} = {n}_[i];" for n in outs])
    sig = ", ".join(["const {0}*"] * len(ins) + ["{0}*"] * len(outs) + ["int"])
    return textwrap.dedent(f"""
        template <typename T>
        __global__ void sknets_{name}({args}, int n) {{
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i >= n) return;
            {loads}
            {operation}
        }}
        template __global__ void sknets_{name}<float>({sig.format("float")});
        template __global__ void sknets_{name}<double>({sig.format("double")});
    """)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA toolkit)")
def test_kernel_bodies_compile_with_nvcc(tmp_path):
    source = tmp_path / "kernels.cu"
    source.write_text("\n".join(_kernel_source(name, *spec) for name, spec in KERNELS.items()))
    res = subprocess.run(["nvcc", "-ptx", *OPTIONS, str(source),
                          "-o", str(tmp_path / "kernels.ptx")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    ptx = (tmp_path / "kernels.ptx").read_text()
    for name in KERNELS:   # both instantiations made it into the PTX
        assert len(re.findall(rf"\.entry \w*sknets_{name}", ptx)) == 2, name
    # every operation rounded once, as NumPy's: no fused multiply-adds, and
    # IEEE-rounded division and square root
    assert not re.search(r"\bfma\.", ptx)
    assert re.search(r"\bdiv\.rn\.f32", ptx) and re.search(r"\bsqrt\.rn\.f32", ptx)


SCRIPT = textwrap.dedent("""
    import numpy as np
    import cupy
    from sknets.optimizers import SGD, AdaGrad, Adam, RMSprop

    rng = np.random.RandomState(0)
    worst = 0
    for dtype in (np.float32, np.float64):
        for make in (lambda p: Adam(p, learning_rate_init=0.01),
                     lambda p: AdaGrad(p, learning_rate_init=0.05),
                     lambda p: RMSprop(p, learning_rate_init=0.01, decay_rate=0.9),
                     lambda p: SGD(p, learning_rate_init=0.1, momentum=0.9, nesterov=False),
                     lambda p: SGD(p, learning_rate_init=0.1, momentum=0.9, nesterov=True)):
            host = [rng.randn(7, 5).astype(dtype), rng.randn(5).astype(dtype)]
            dev = [cupy.asarray(p) for p in host]
            opt_host, opt_dev = make(host), make(dev)
            for _ in range(3):
                grads = [rng.randn(*p.shape).astype(dtype) for p in host]
                opt_host.update_params(host, grads)
                cupy.LOG.clear()
                opt_dev.update_params(dev, [cupy.asarray(g) for g in grads])
                assert cupy.LOG.count("kernel") == len(dev), cupy.LOG
            for h, d in zip(host, dev):
                assert d.dtype == h.dtype
                worst = max(worst, int(np.sum(d.get() != h)))
    print("MISMATCHES", worst)
""")


def test_fused_steps_equal_the_numpy_steps_bit_for_bit():
    res = run_with_fake_cupy(["python", "-W", "error::RuntimeWarning", "-c", SCRIPT],
                             timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "MISMATCHES 0" in res.stdout


FALLBACK_SCRIPT = textwrap.dedent("""
    import warnings
    import numpy as np
    import cupy
    from sknets.optimizers import Adam

    def broken(*args, **kwargs):
        raise RuntimeError("NVRTC_ERROR_COMPILATION (simulated)")

    cupy.ElementwiseKernel = broken
    rng = np.random.RandomState(0)
    host = [rng.randn(4, 3).astype(np.float32)]
    dev = [cupy.asarray(host[0])]
    opt_host, opt_dev = Adam(host), Adam(dev)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            g = rng.randn(4, 3).astype(np.float32)
            opt_host.update_params(host, [g])
            opt_dev.update_params(dev, [cupy.asarray(g)])
    messages = [str(w.message) for w in caught]
    print("WARNINGS", len(messages), "fused CuPy kernel for the adam step failed" in messages[0])
    print("EQUAL", bool(np.array_equal(dev[0].get(), host[0])))
""")


def test_a_kernel_that_cannot_compile_falls_back_once_with_a_warning():
    res = run_with_fake_cupy(["python", "-c", FALLBACK_SCRIPT], timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "WARNINGS 1 True" in res.stdout and "EQUAL True" in res.stdout, res.stdout
