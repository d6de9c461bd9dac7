"""Every estimator on a CUDA GPU through CuPy (``backend="cupy"``).

Marked ``gpu`` and skipped unless CuPy can reach a GPU
(:func:`sknets.backend.gpu_available`); CI has none, and portability there is
proven by ``test_array_api.py``. On a GPU machine: ``python -m pytest -m gpu``.
"""

import inspect
import pickle
import sys
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, is_classifier
from sklearn.datasets import load_digits

import sknets
from sknets.backend import gpu_available
from sknets.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    Reshape,
)
from sknets.network import Sequential

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

ESTIMATORS = [
    obj for name in sknets.__all__
    if inspect.isclass(obj := getattr(sknets, name)) and issubclass(obj, BaseEstimator)
]
#: the classifiers and regressors (``predict``); the GAN (``sample``) has its own tests below.
PREDICTORS = [cls for cls in ESTIMATORS if hasattr(cls, "predict")]

PARAMS = {
    "MLPClassifierScratch": dict(hidden_layer_sizes=(64,), max_iter=30),
    "MLPRegressorScratch": dict(hidden_layer_sizes=(64,), max_iter=30),
    "PerceptronClassifier": dict(max_iter=20),
    "ConvNetClassifier": dict(conv_filters=(8,), hidden_layer_sizes=(32,), max_iter=5),
    # the layer-list networks with every kind of layer that has weights or randomness
    # (dropout masks come from each backend's own generator: the two devices
    # train alike, not identically)
    "NeuralNetClassifier": dict(layers=[
        Reshape((8, 8, 1)), Conv2D(8, 3, padding="same"), BatchNormalization(),
        Activation("relu"), MaxPool2D(2), Flatten(), Dense(32), Activation("relu"),
        Dropout(0.1)], max_iter=10),
    "NeuralNetRegressor": dict(layers=[
        Reshape((8, 8, 1)), Conv2D(4, 3, padding="same"), Activation("relu"),
        GlobalAvgPool2D(), Dense(32), BatchNormalization(), Activation("relu")], max_iter=30),
}


def _make(cls, **params):
    valid = inspect.signature(cls).parameters
    base = {k: v for k, v in PARAMS.get(cls.__name__, {}).items() if k in valid}
    return cls(**{**base, "random_state": 0, **params})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def _continuous(est, X):
    """Logits (classifiers) or predictions (regressors), as NumPy: compared
    across devices with a float32 tolerance (labels could flip on a near tie)."""
    out = est.decision_function(X) if hasattr(est, "decision_function") else est.predict(X)
    return np.asarray(out, dtype=np.float64)


def _target(est, y):
    return y if is_classifier(est) else (y / 9.0).astype(np.float32)


@pytest.mark.parametrize("cls", PREDICTORS, ids=lambda c: c.__name__)
def test_trains_and_predicts_on_the_gpu(cls, digits):
    import cupy

    X, y = digits
    est = _make(cls, backend="cupy")
    est.fit(X, _target(est, y))
    assert est._network.backend.name == "cupy"
    # fitted from NumPy, the attributes users read are NumPy
    public = [v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")]
    for value in public:
        for v in value if isinstance(value, list) else [value]:
            assert not isinstance(v, cupy.ndarray)
    # NumPy in -> NumPy out; CuPy in -> CuPy out (with either backend)
    pred = est.predict(X)
    assert isinstance(pred, np.ndarray)
    pred_gpu = est.predict(cupy.asarray(X))
    assert isinstance(pred_gpu, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(pred_gpu), pred)
    cpu = _make(cls, backend="numpy").fit(cupy.asarray(X), cupy.asarray(_target(est, y)))
    assert isinstance(cpu.predict(cupy.asarray(X)), cupy.ndarray)
    assert isinstance(est.score(cupy.asarray(X), cupy.asarray(_target(est, y))), float)


@pytest.mark.parametrize("cls", PREDICTORS, ids=lambda c: c.__name__)
def test_cpu_and_gpu_agree(cls, digits):
    X, y = digits
    cpu = _make(cls, backend="numpy")
    target = _target(cpu, y)
    cpu.fit(X, target)
    gpu = _make(cls, backend="cupy").fit(X, target)
    # accuracy (R² for the regressor) within 1 point
    assert abs(cpu.score(X, target) - gpu.score(X, target)) <= 0.01


def test_same_initial_weights_on_cpu_and_gpu(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", momentum=0.0, max_iter=1,
              shuffle=False, random_state=3, dtype="float64")
    cpu = sknets.MLPClassifierScratch(backend="numpy", **kw).fit(X, y)
    gpu = sknets.MLPClassifierScratch(backend="cupy", **kw).fit(X, y)
    for a, b in zip(cpu.coefs_, gpu.coefs_):
        np.testing.assert_allclose(b, a, atol=1e-10)


@pytest.mark.parametrize("cls", PREDICTORS, ids=lambda c: c.__name__)
def test_gpu_pickle_loads_without_cupy_and_moves_back(cls, digits, monkeypatch):
    X, y = digits
    est = _make(cls, backend="cupy")
    est.fit(X, _target(est, y))
    expected = _continuous(est, X)
    blob = pickle.dumps(est)
    assert b"cupy._core" not in blob  # NumPy arrays only

    with monkeypatch.context() as m:
        m.setitem(sys.modules, "cupy", None)  # a machine without CuPy
        loaded = pickle.loads(blob)
        with pytest.warns(UserWarning, match="Predicting with the 'numpy' backend"):
            np.testing.assert_allclose(_continuous(loaded, X), expected, rtol=1e-4, atol=1e-4)

    loaded = pickle.loads(blob)
    loaded.set_params(backend="numpy")
    np.testing.assert_allclose(_continuous(loaded, X), expected, rtol=1e-4, atol=1e-4)
    placements = []
    original = Sequential.placed
    monkeypatch.setattr(Sequential, "placed",
                        lambda net, backend: placements.append(backend.name)
                        or original(net, backend))
    loaded.set_params(backend="cupy")  # back to the GPU without refitting
    np.testing.assert_allclose(_continuous(loaded, X), expected, rtol=1e-4, atol=1e-4)
    assert placements and set(placements) == {"cupy"}   # predicted on the GPU
    assert loaded._network.backend.name == "numpy"      # the fitted model is not moved


def test_cupy_input_under_array_api_dispatch(digits):
    import cupy

    X, y = digits
    with sklearn.config_context(array_api_dispatch=True):
        est = sknets.MLPClassifierScratch(hidden_layer_sizes=(32,), max_iter=5,
                                          random_state=0).fit(cupy.asarray(X), cupy.asarray(y))
        proba = est.predict_proba(cupy.asarray(X))
    assert est._network.backend.name == "cupy"  # backend=None follows the input
    assert isinstance(est.coefs_[0], cupy.ndarray)  # sklearn's convention
    assert isinstance(proba, cupy.ndarray)


def test_config_context_cupy(digits):
    X, y = digits
    with sknets.config_context(backend="cupy"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = sknets.MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=3).fit(X, y)
    assert est._network.backend.name == "cupy"
    with sknets.config_context(backend="auto"):
        assert sknets.backend.get_backend().name == "cupy"


# ------------------------------------------------------------------- the GAN
#: a small conditional GAN without dropout (whose masks each backend draws with
#: its own generator), so that float64 fits on the CPU and the GPU train alike.
GAN_PARAMS = dict(generator=[Dense(32), Activation("leaky_relu")],
                  discriminator=[Dense(32), Activation("leaky_relu")], latent_dim=8,
                  max_iter=3, random_state=0)


def test_gan_trains_and_samples_on_the_gpu_like_on_the_cpu(digits):
    import cupy

    X, y = digits
    gan = sknets.GenerativeAdversarialNetwork(backend="cupy", dtype="float64", **GAN_PARAMS)
    gan.fit(X, y)
    # fitted from NumPy: NumPy weights and attributes, NumPy samples
    weights = [p for net in (gan.generator_, gan.discriminator_) for layer in net.layers
               for p in layer.params.values()]
    assert weights and all(isinstance(w, np.ndarray) for w in weights)
    assert isinstance(gan.data_min_, np.ndarray) and isinstance(gan.class_prior_, np.ndarray)
    X_new, y_new = gan.sample(50, random_state=0)
    assert isinstance(X_new, np.ndarray) and isinstance(y_new, np.ndarray)
    # the noise is drawn on the host: the CPU fit trains alike (float64; cuBLAS
    # rounds otherwise than NumPy, so not bit for bit)
    cpu = sknets.GenerativeAdversarialNetwork(backend="numpy", dtype="float64", **GAN_PARAMS)
    X_cpu, y_cpu = cpu.fit(X, y).sample(50, random_state=0)
    np.testing.assert_array_equal(y_new, y_cpu)
    np.testing.assert_allclose(X_new, X_cpu, atol=1e-3)
    # CuPy input without dispatch trains too (validated on the host)
    assert sknets.GenerativeAdversarialNetwork(backend="cupy", **GAN_PARAMS).fit(
        cupy.asarray(X), cupy.asarray(y)).n_features_in_ == 64


def test_gan_gpu_pickle_loads_without_cupy(digits, monkeypatch):
    X, y = digits
    gan = sknets.GenerativeAdversarialNetwork(backend="cupy", **GAN_PARAMS).fit(X, y)
    expected, labels = gan.sample(20, random_state=0)
    blob = pickle.dumps(gan)
    assert b"cupy._core" not in blob  # NumPy arrays only
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "cupy", None)  # a machine without CuPy
        loaded = pickle.loads(blob)
        with pytest.warns(UserWarning, match="Sampling with the 'numpy' backend"):
            X_new, y_new = loaded.sample(20, random_state=0)
    np.testing.assert_array_equal(y_new, labels)
    np.testing.assert_allclose(X_new, expected, rtol=1e-4, atol=1e-4)


def test_gan_cupy_input_under_array_api_dispatch(digits):
    import cupy

    X, y = digits
    with sklearn.config_context(array_api_dispatch=True):
        gan = sknets.GenerativeAdversarialNetwork(**GAN_PARAMS).fit(cupy.asarray(X),
                                                                     cupy.asarray(y))
        X_new, y_new = gan.sample(10, random_state=0)
    assert gan.generator_.backend.name == "cupy"   # backend=None follows the input
    assert isinstance(gan.data_min_, cupy.ndarray)  # scikit-learn's convention
    assert isinstance(X_new, cupy.ndarray) and isinstance(y_new, cupy.ndarray)
    assert X_new.shape == (10, 64) and X_new.dtype == cupy.float32
