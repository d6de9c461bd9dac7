"""Run a Python child process with the CuPy stand-in (``tests/fake_cupy``)
first on its ``PYTHONPATH``: it then imports that ``cupy``, never a real one,
and never meets the other tests' modules."""

import os
import subprocess
import sys

FAKE_CUPY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_cupy")


def env_with_fake_cupy(**extra):
    """``os.environ`` with the stand-in prepended to ``PYTHONPATH``, plus ``extra``."""
    path = [FAKE_CUPY] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path), **extra)


def run_with_fake_cupy(args, timeout=300, cwd=None, **extra_env):
    """``subprocess.run(args)`` (``args[0]`` may be ``"python"``: this
    interpreter) under the stand-in; output captured as text."""
    args = [sys.executable if a == "python" else a for a in args[:1]] + list(args[1:])
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env_with_fake_cupy(**extra_env))
