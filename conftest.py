"""Test-session set-up shared by every test.

SciPy reads SCIPY_ARRAY_API when it is first imported; scikit-learn's array-API
checks (run by ``parametrize_with_checks`` for estimators that declare
``array_api_support``) need it, so it is set here before anything imports SciPy.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    """Skip scikit-learn's array-API checks on CuPy when CuPy cannot reach a GPU.

    scikit-learn skips those checks when CuPy is not installed, but runs them
    (and they fail at the first CUDA call) when CuPy is installed on a machine
    without a usable GPU, e.g. a development install of ``sknets[gpu]`` on a
    laptop.
    """
    cupy_items = [item for item in items
                  if "check_array_api_input" in item.nodeid and "cupy" in item.nodeid]
    if not cupy_items:
        return
    import pytest

    from sknets.backend import gpu_available

    if gpu_available():
        return
    skip = pytest.mark.skip(reason="CuPy is not installed or cannot reach a CUDA GPU")
    for item in cupy_items:
        item.add_marker(skip)
