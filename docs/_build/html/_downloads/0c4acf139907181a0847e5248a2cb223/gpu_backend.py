"""
Training on a GPU with the CuPy backend (skips politely without one)
====================================================================

The same estimator trains on an NVIDIA GPU when given ``backend="cupy"``
(or ``"auto"``: the GPU when there is one), or for a whole block of code with
``sknets.config_context(backend="cupy")``. The fitted attributes users read
(``coefs_``, ``loss_curve_``) are NumPy arrays either way, so a model trained
on a GPU pickles and predicts anywhere. Install CuPy with
``pip install "sknets[gpu]"``.

This example trains the same network on the CPU and on the GPU from the same
seed, reports the time of each and how close the two models are. Without
CuPy or a CUDA device it says so and exits successfully.

Run: ``python examples/gpu_backend.py`` (``SKNETS_EXAMPLE_FAST=1`` trains
fewer epochs; ``SKNETS_MNIST=path/to/mnist10k.npz`` uses 10,000 MNIST digits
instead of the bundled 8x8 digits).
"""

import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import sknets
from sknets import MLPClassifierScratch
from sknets.backend import gpu_available

FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"


def load():
    path = os.environ.get("SKNETS_MNIST")
    if path:
        data = np.load(path)
        return data["X"][:8000] / 255.0, data["y"][:8000]
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def main():
    if not gpu_available():
        print("No CUDA GPU with CuPy here: skipping the GPU example. "
              'On a machine with an NVIDIA GPU: pip install "sknets[gpu]".')
        return
    X, y = load()
    params = dict(hidden_layer_sizes=(256, 128), max_iter=3 if FAST else 20,
                  random_state=0, dtype="float32")
    times, models = {}, {}
    for backend in ["numpy", "cupy"]:
        clf = MLPClassifierScratch(**params, backend=backend)
        tic = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        times[backend] = time.perf_counter() - tic
        models[backend] = clf
        print(f"{backend:6s} fit {times[backend]:6.2f} s, training accuracy "
              f"{clf.score(X, y):.3f}")
    diff = max(np.abs(a - b).max() for a, b in zip(models["numpy"].coefs_,
                                                   models["cupy"].coefs_))
    agree = np.mean(models["numpy"].predict(X) == models["cupy"].predict(X))
    print(f"GPU speed-up {times['numpy'] / times['cupy']:.1f}x; largest weight "
          f"difference {diff:.2e} (float32 rounding); predictions agree on {agree:.1%}")
    with sknets.config_context(backend="cupy"):
        clf = MLPClassifierScratch(hidden_layer_sizes=(32,), max_iter=2).fit(X, y)
    print("config_context(backend='cupy') fitted coefs_ of type",
          type(clf.coefs_[0]).__name__)


if __name__ == "__main__":
    main()
