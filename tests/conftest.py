"""Test-session settings shared by every test module."""

import os

from threadpoolctl import threadpool_limits

# Under pytest-xdist each worker is a process of its own: with the BLAS
# library's default of one thread per core, two workers on two cores run four
# threads that spin-wait on each other, and small matrix products (most of the
# suite's) become many times slower. One BLAS thread per worker keeps the cores
# busy with tests instead. A run without workers keeps the library's default.
if os.environ.get("PYTEST_XDIST_WORKER"):
    threadpool_limits(limits=1, user_api="blas")
    # the same for the Python processes tests start (examples, scripts)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
