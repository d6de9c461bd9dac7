"""Test-session set-up shared by every test.

SciPy reads SCIPY_ARRAY_API when it is first imported; scikit-learn's array-API
checks (run by ``parametrize_with_checks`` for estimators that declare
``array_api_support``) need it, so it is set here before anything imports SciPy.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
