"""Backend selection: names, the global config, "auto", and the errors a user
without CuPy or without a GPU gets (at fit, never at import)."""

import pickle
import sys
import types
import warnings

import array_api_strict
import numpy as np
import pytest
from sklearn.datasets import load_iris

import sknets
from sknets import MLPClassifierScratch, MLPRegressorScratch, config_context, get_config
from sknets._dispatch import output_backend, to_namespace
from sknets.backend import Backend, get_backend, gpu_available, namespace_backend, to_numpy


@pytest.fixture
def no_cupy(monkeypatch):
    """Make ``import cupy`` fail, as on a machine without CuPy."""
    monkeypatch.setitem(sys.modules, "cupy", None)


@pytest.fixture
def cupy_without_gpu(monkeypatch):
    """A CuPy that imports but finds no CUDA device (driver missing)."""
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.setitem(sys.modules, "cupy", fake)


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def test_numpy_backend_is_the_default():
    assert get_config()["backend"] == "numpy"
    backend = get_backend()
    assert backend.name == "numpy" and backend.is_numpy
    a = backend.asarray([[1, 2], [3, 4]], dtype="float32")
    assert isinstance(a, np.ndarray) and a.dtype == np.float32


def test_unknown_backend_name():
    with pytest.raises(ValueError, match="backend must be"):
        get_backend("tpu")
    with pytest.raises(ValueError, match="backend must be one of"):
        sknets.set_config(backend="tpu")
    with pytest.raises(ValueError, match="backend"):
        MLPClassifierScratch(backend="tpu").fit([[0.0], [1.0]], [0, 1])


def test_config_context_sets_and_restores_the_default():
    with config_context(backend="auto"):
        assert get_config()["backend"] == "auto"
        with config_context(backend="numpy"):
            assert get_config()["backend"] == "numpy"
        assert get_config()["backend"] == "auto"
    assert get_config()["backend"] == "numpy"


def test_missing_cupy_raises_at_fit_not_at_import(no_cupy, iris):
    assert not gpu_available()
    clf = MLPClassifierScratch(hidden_layer_sizes=(5,), max_iter=5, backend="cupy")  # no error
    with pytest.raises(ImportError, match=r'pip install "sknets\[gpu\]"'):
        clf.fit(*iris)
    with pytest.raises(ImportError, match="CuPy"):
        get_backend("cupy")


def test_config_context_cupy_reaches_estimators_with_backend_none(no_cupy, iris):
    est = MLPRegressorScratch(hidden_layer_sizes=(5,), max_iter=5)
    with config_context(backend="cupy"):
        with pytest.raises(ImportError, match="CuPy"):
            est.fit(iris[0], iris[1].astype(float))
    # the explicit parameter wins over the context
    with config_context(backend="cupy"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.set_params(backend="numpy").fit(iris[0], iris[1].astype(float))
    assert est._network.backend.name == "numpy"


def test_cupy_without_gpu_names_the_missing_gpu(cupy_without_gpu, iris):
    assert not gpu_available()
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        MLPClassifierScratch(max_iter=2, backend="cupy").fit(*iris)


@pytest.mark.parametrize("fixture", ["no_cupy", "cupy_without_gpu"])
def test_auto_falls_back_to_numpy_without_error(fixture, request, iris):
    request.getfixturevalue(fixture)
    assert get_backend("auto").name == "numpy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        clf = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=60, random_state=0,
                                   learning_rate_init=0.05, backend="auto").fit(*iris)
        with config_context(backend="auto"):
            clf2 = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=60, random_state=0,
                                        learning_rate_init=0.05).fit(*iris)
    assert clf._network.backend.name == "numpy"
    assert isinstance(clf.coefs_[0], np.ndarray)
    np.testing.assert_array_equal(clf.coefs_[0], clf2.coefs_[0])
    assert clf.score(*iris) > 0.8


def test_auto_picks_cupy_when_a_gpu_is_usable():
    if not gpu_available():
        assert get_backend("auto").name == "numpy"
    else:  # pragma: no cover - needs a GPU
        assert get_backend("auto").name == "cupy"


def test_model_saved_with_backend_cupy_predicts_without_cupy(no_cupy, iris):
    """A model whose ``backend`` is "cupy" (fitted on a GPU) loads and predicts on a
    machine without CuPy: the pickle holds NumPy and predict falls back, saying so."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=30,
                                   random_state=0).fit(*iris)
    expected = clf.predict(iris[0])
    clf.set_params(backend="cupy")
    loaded = pickle.loads(pickle.dumps(clf))
    with pytest.warns(UserWarning, match="CuPy.*Predicting with the 'numpy' backend"):
        np.testing.assert_array_equal(loaded.predict(iris[0]), expected)


def test_asarray_moves_between_namespaces_and_devices():
    device1 = array_api_strict.Device("device1")
    strict = namespace_backend(array_api_strict, device=device1)
    host = np.arange(6.0).reshape(2, 3)
    a = strict.asarray(host, dtype="float32")
    assert a.device == device1 and a.dtype == array_api_strict.float32
    # an array of the same namespace on another device is moved to this one
    b = strict.asarray(array_api_strict.asarray(host))
    assert b.device == device1
    # a namespace's own dtype objects are accepted too
    assert strict.asarray(a, dtype=array_api_strict.float64).dtype == array_api_strict.float64
    back = to_numpy(a)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host.astype(np.float32))
    assert get_backend("numpy").asarray(a).dtype == np.float32


def test_namespace_backend_unwraps_sklearns_vendored_compat():
    from sklearn.externals.array_api_compat import numpy as vendored_numpy

    assert namespace_backend(vendored_numpy).name == "numpy"


def test_namespace_backend_unwraps_sklearns_vendored_torch_compat():
    pytest.importorskip("torch")
    from sklearn.externals.array_api_compat import torch as vendored_torch

    assert namespace_backend(vendored_torch).xp.__name__ == "array_api_compat.torch"


def test_backend_pickles_by_name():
    strict = namespace_backend(array_api_strict, device=array_api_strict.Device("device1"))
    assert pickle.loads(pickle.dumps(strict)) == strict
    assert pickle.loads(pickle.dumps(get_backend("numpy"))) == get_backend("numpy")
    assert isinstance(strict, Backend) and strict != get_backend("numpy")


def test_output_namespace_follows_the_input():
    assert output_backend(np.ones(3)) is None          # NumPy in -> NumPy out
    assert output_backend([[1.0, 2.0]]) is None        # array-like -> NumPy
    strict_x = array_api_strict.ones(3)
    assert output_backend(strict_x) is None            # no dispatch: NumPy
    from sklearn import config_context as sk_config_context
    with sk_config_context(array_api_dispatch=True):
        assert output_backend(strict_x).name == "array_api_strict"
        assert output_backend(np.ones(3)) is None
    labels = np.array(["a", "b"])
    with sk_config_context(array_api_dispatch=True):
        # string labels cannot live in a numeric namespace: they stay NumPy
        assert to_namespace(labels, output_backend(strict_x)) is labels
