"""Portability of the numeric core, proven without a GPU.

Every estimator declares ``array_api_support``; under
``sklearn.config_context(array_api_dispatch=True)`` it computes in its input's
namespace. ``array_api_strict`` rejects anything outside the array-API
standard (NumPy-only calls, NumPy index arrays, implicit device mixing), so a
fit that runs there runs on any compliant library, CuPy included.
"""

import inspect
import pickle

import array_api_strict as xps
import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, is_regressor
from sklearn.datasets import load_diabetes, load_digits
from sklearn.utils._array_api import get_namespace_and_device, move_estimator_to
from sklearn.utils.estimator_checks import _yield_array_api_checks, check_array_api_input

import sknets
from sknets import MLPClassifierScratch, MLPRegressorScratch
from sknets.backend import to_numpy
from sknets.layers import Activation, Dense

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    obj for name in sknets.__all__
    if inspect.isclass(obj := getattr(sknets, name)) and issubclass(obj, BaseEstimator)
]

#: small settings keeping each check fast (the checks fit 30 samples).
FAST_PARAMS = {
    "MLPClassifierScratch": dict(hidden_layer_sizes=(8,), max_iter=20),
    "MLPRegressorScratch": dict(hidden_layer_sizes=(8,), max_iter=20),
    "PerceptronClassifier": dict(max_iter=10),
    "ConvNetClassifier": dict(conv_filters=(4,), hidden_layer_sizes=(8,), max_iter=5),
    "GenerativeAdversarialNetwork": dict(
        generator=[Dense(8), Activation("leaky_relu")],
        discriminator=[Dense(8), Activation("leaky_relu")], latent_dim=4, max_iter=5),
}

STRICT_CPU = xps.Device("CPU_DEVICE")
STRICT_DEVICE1 = xps.Device("device1")  # a second device, float32 only


def _make(cls, **params):
    fast = {k: v for k, v in FAST_PARAMS.get(cls.__name__, {}).items()
            if k in inspect.signature(cls).parameters}
    return cls(**{**fast, **params})


def _outputs(est, X):
    """What a fitted estimator produces: ``predict(X)``, or for a generative
    model (``sample``, no ``predict``) ``sample(40, random_state=0)``, its
    samples and labels concatenated."""
    if hasattr(est, "predict"):
        return est.predict(X)
    out = est.sample(40, random_state=0)
    if not isinstance(out, tuple):
        return out
    X_new, y_new = out
    xp = get_namespace_and_device(X_new)[0]
    return xp.concat([X_new, xp.reshape(xp.astype(y_new, X_new.dtype), (-1, 1))], axis=1)


def _check_id(check):
    kw = getattr(check, "keywords", {})
    parts = [check.func.__name__] + [str(v) for v in kw.values()]
    return "-".join(parts).replace(" ", "")


def _array_api_cases():
    return [pytest.param(cls, check, id=f"{cls.__name__}-{_check_id(check)}")
            for cls in ESTIMATORS for check in _yield_array_api_checks(_make(cls))]


def _namespaces(check):
    """The array namespaces a check's parameters name (NumPy included)."""
    kw = getattr(check, "keywords", {})
    names = set()
    for value in kw.values():
        xp = getattr(value, "xp", value)   # NamespaceAndDevice(xp=..., device=...)
        if isinstance(xp, str) and xp in {"numpy", "array_api_strict", "torch", "cupy",
                                         "jax.numpy", "dpnp"}:
            names.add(xp)
    return names


def _needs_strict(check):
    """A check that only involves array_api_strict (and NumPy) must run here;
    one that mixes in an absent library (torch, CuPy) may be skipped."""
    names = _namespaces(check)
    return "array_api_strict" in names and names <= {"array_api_strict", "numpy"}


def test_every_estimator_declares_array_api_support():
    assert {c.__name__ for c in ESTIMATORS} >= {"MLPClassifierScratch", "MLPRegressorScratch"}
    for cls in ESTIMATORS:
        assert sklearn.utils.get_tags(_make(cls)).array_api_support, cls.__name__


@pytest.mark.parametrize("cls, check", _array_api_cases())
def test_sklearn_array_api_checks(cls, check):
    """scikit-learn's own array-API checks; those on array_api_strict must run
    (a skip there is a failure), those of absent libraries (CuPy without a GPU,
    torch on CUDA...) are skipped by scikit-learn itself."""
    from unittest import SkipTest

    try:
        check(cls.__name__, _make(cls))
    except SkipTest as exc:
        if _needs_strict(check):
            pytest.fail(f"array_api_strict check was skipped: {exc}")
        pytest.skip(str(exc))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_strict_float64_fit_matches_numpy_values(cls):
    """With float64 compute, fitting on array_api_strict gives the values of
    fitting on NumPy (attributes and every prediction method)."""
    check_array_api_input(cls.__name__, _make(cls, dtype="float64"),
                          array_namespace="array_api_strict", device_name="CPU_DEVICE",
                          dtype_name="float64", check_values=True, check_sample_weight=True)


def _digits(n=300):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n]


@pytest.mark.parametrize("params", [
    dict(solver="adam", alpha=1e-3),
    dict(solver="sgd", learning_rate="invscaling", nesterovs_momentum=False),
    dict(solver="lbfgs", activation="tanh"),
    dict(solver="adam", early_stopping=True, activation="logistic"),
], ids=["adam", "sgd", "lbfgs", "early-stopping"])
def test_mlp_trains_identically_on_strict_and_numpy(params):
    X, y = _digits()
    sw = np.random.RandomState(0).uniform(0.5, 1.5, len(y))
    kw = dict(hidden_layer_sizes=(16,), random_state=0, max_iter=8, dtype="float64", **params)
    ref = MLPClassifierScratch(**kw).fit(X, y, sample_weight=sw)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifierScratch(**kw).fit(xps.asarray(X), xps.asarray(y),
                                              sample_weight=xps.asarray(sw))
        proba = est.predict_proba(xps.asarray(X))
    # the core really ran in the strict namespace
    assert est._network.backend.name == "array_api_strict"
    for a, b in zip(ref.coefs_ + ref.intercepts_, est.coefs_ + est.intercepts_):
        np.testing.assert_allclose(np.asarray(b), a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(proba), ref.predict_proba(X), atol=1e-12)
    assert est.loss_curve_ == pytest.approx(ref.loss_curve_, abs=1e-12)


def test_gan_trains_identically_on_strict_and_numpy():
    """A conditional GAN (dropout in the discriminator: a namespace without
    random numbers gets NumPy's draws) fitted on array_api_strict on a second
    device computes there and gives NumPy's samples; its fitted arrays and
    samples stay in the input's namespace and on its device."""
    from sknets import GenerativeAdversarialNetwork
    from sknets.layers import Dropout

    X, y = _digits(200)
    kw = dict(generator=[Dense(16), Activation("leaky_relu")],
              discriminator=[Dense(16), Activation("leaky_relu"), Dropout(0.2)],
              latent_dim=4, batch_size=50, max_iter=3, random_state=0,
              validation_fraction=0.2)
    X32 = X.astype(np.float32)
    ref = GenerativeAdversarialNetwork(**kw).fit(X32, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = GenerativeAdversarialNetwork(**kw).fit(xps.asarray(X32, device=STRICT_DEVICE1),
                                                     xps.asarray(y, device=STRICT_DEVICE1))
        X_new, y_new = est.sample(30, random_state=0)
    assert est.generator_.backend.name == "array_api_strict"   # computed there
    for value in (est.data_min_, est.data_max_, est.class_prior_, X_new, y_new):
        assert value.device == STRICT_DEVICE1
    assert X_new.dtype == xps.float32
    X_ref, y_ref = ref.sample(30, random_state=0)
    np.testing.assert_array_equal(to_numpy(y_new), y_ref)
    np.testing.assert_allclose(to_numpy(X_new), X_ref, rtol=0, atol=1e-6)
    for a, b in zip(ref.history_, est.history_):
        assert b["d_loss"] == pytest.approx(a["d_loss"], abs=1e-6)
        assert b["valid_c2st"] == a["valid_c2st"]


def test_regressor_on_second_device_keeps_everything_there():
    X, y = load_diabetes(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    y = ((y - y.mean()) / y.std()).astype(np.float32)
    Xs = xps.asarray(X, device=STRICT_DEVICE1)
    ys = xps.asarray(y, device=STRICT_DEVICE1)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPRegressorScratch(hidden_layer_sizes=(16,), random_state=0, max_iter=50,
                                  learning_rate_init=0.01).fit(Xs, ys)
        pred = est.predict(Xs)
        score = est.score(Xs, ys)
    assert all(c.device == STRICT_DEVICE1 for c in est.coefs_ + est.intercepts_)
    assert pred.device == STRICT_DEVICE1 and pred.dtype == xps.float32
    assert isinstance(est.loss_curve_[0], float)
    assert isinstance(score, float) and score > 0.4


def test_numpy_input_gives_numpy_attributes_and_outputs_under_dispatch():
    X, y = _digits(200)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
        out = est.predict_proba(X)
    assert isinstance(est.coefs_[0], np.ndarray) and isinstance(out, np.ndarray)
    assert est._network.backend.name == "numpy"


def test_explicit_numpy_backend_with_strict_input():
    """backend="numpy" computes on NumPy even for strict input; attributes and
    outputs still follow the input's namespace (scikit-learn's convention)."""
    X, y = _digits(200)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                                   backend="numpy").fit(xps.asarray(X), xps.asarray(y))
        labels = est.predict(xps.asarray(X))
        assert get_namespace_and_device(est.coefs_[0])[0].__name__ == "array_api_strict"
        assert get_namespace_and_device(labels)[0].__name__ == "array_api_strict"
    assert est._network.backend.name == "numpy"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_pickle_of_a_strict_fit_holds_numpy_only(cls):
    X, y = _digits(120)
    X = X.astype(np.float32)
    est = _make(cls, random_state=0)
    if is_regressor(est):
        y = y.astype(np.float32)
    with sklearn.config_context(array_api_dispatch=True):
        est.fit(xps.asarray(X, device=STRICT_DEVICE1), xps.asarray(y, device=STRICT_DEVICE1))
        expected = to_numpy(_outputs(est, xps.asarray(X, device=STRICT_DEVICE1)))
    blob = pickle.dumps(est)
    assert b"array_api_strict" not in blob  # no strict array, device or namespace inside
    loaded = pickle.loads(blob)
    for key, value in vars(loaded).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        assert not any(type(v).__module__.startswith("array_api_strict") for v in values), key
    # the loaded model predicts on NumPy input (or samples), to NumPy, the same
    # labels (samples)
    pred = _outputs(loaded, X)
    assert isinstance(pred, np.ndarray)
    np.testing.assert_array_equal(pred, expected)


def test_predict_with_another_namespace_than_fit_raises():
    X, y = _digits(100)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=3).fit(
            xps.asarray(X), xps.asarray(y))
        with pytest.raises(ValueError, match=r"MLPClassifierScratch.predict_proba\(\) must "
                                             "use the same namespace"):
            est.predict_proba(X)
        # scikit-learn's documented remedy moves the fitted model to NumPy
        xp, _, device = get_namespace_and_device(X)
        moved = move_estimator_to(est, xp, device)
        assert isinstance(moved.predict_proba(X), np.ndarray)


def test_same_initial_weights_on_every_backend():
    """Weights are drawn on the host: one epoch of plain SGD from the same
    random_state lands on the same weights in NumPy and in strict."""
    X, y = _digits(100)
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, max_iter=1,
              random_state=3, dtype="float64", shuffle=False)
    ref = MLPClassifierScratch(**kw).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifierScratch(**kw).fit(xps.asarray(X), xps.asarray(y))
    np.testing.assert_allclose(np.asarray(est.coefs_[0]), ref.coefs_[0], atol=1e-14)


def test_network_built_on_any_backend_has_the_same_initial_weights():
    from sknets.backend import get_backend, namespace_backend
    from sknets.layers import Activation, Dense
    from sknets.network import Sequential

    def build(backend):
        layers = [Dense(8), Activation("relu"), Dense(3)]
        return Sequential(layers).build((5,), backend, np.float32, np.random.RandomState(3))

    ref = build(get_backend("numpy"))
    other = build(namespace_backend(xps, device=STRICT_DEVICE1))
    for a, b in zip(ref.params, other.params):
        assert b.device == STRICT_DEVICE1
        np.testing.assert_array_equal(to_numpy(b), a)


class _ReadBackCounter:
    """Counts every conversion of an array_api_strict array to a Python scalar or
    to another library (``float()``, ``bool()``, DLPack...): on a GPU each one is
    a device-to-host round trip that stalls the pipeline."""

    NAMES = ("__float__", "__bool__", "__int__", "__index__", "__dlpack__", "__array__")

    def __init__(self, monkeypatch):
        from array_api_strict._array_object import Array

        self.count = 0
        for name in self.NAMES:
            if hasattr(Array, name):
                monkeypatch.setattr(Array, name, self._wrap(getattr(Array, name)))

    def _wrap(self, method):
        def counted(array, *args, **kwargs):
            self.count += 1
            return method(array, *args, **kwargs)
        return counted


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_no_host_round_trip_inside_an_epoch(cls, monkeypatch):
    """Data goes to the device once per fit; in an epoch the only read-back is
    the epoch's loss, with the weights' finiteness flag in the same copy: their
    number grows with epochs, never with mini-batches."""
    X, y = _digits(400)
    Xs, ys = xps.asarray(X), xps.asarray(y)
    counter = _ReadBackCounter(monkeypatch)

    def read_backs(max_iter, batch_size):
        params = dict(max_iter=max_iter, random_state=0, n_iter_no_change=100,
                      batch_size=batch_size)
        signature = inspect.signature(cls).parameters
        est = _make(cls, **{k: v for k, v in params.items() if k in signature})
        with sklearn.config_context(array_api_dispatch=True):
            counter.count = 0
            est.fit(Xs, ys)
        assert est.n_iter_ == max_iter
        return counter.count

    per_epoch = (read_backs(4, 40) - read_backs(2, 40)) / 2
    # the loss and the finite-weights flag, read back together; the perceptron
    # trains on the host (its per-sample rule): its data comes over once per fit
    assert per_epoch == (0 if cls.__name__ == "PerceptronClassifier" else 1)
    if "batch_size" in inspect.signature(cls).parameters:
        assert read_backs(4, 40) == read_backs(4, 200)  # 10 vs 2 batches per epoch


def _bn_dropout_gap_step(backend, X, Y):
    """Build a small Conv-BN-ReLU-Dropout-GlobalAvgPool-Dense-BN network on
    ``backend``, train it one Adam step and predict."""
    from sknets.layers import (
        Activation,
        BatchNormalization,
        Conv2D,
        Dense,
        Dropout,
        GlobalAvgPool2D,
    )
    from sknets.losses import SoftmaxCrossEntropy
    from sknets.network import Sequential
    from sknets.optimizers import Adam

    net = Sequential([Conv2D(4, 3, padding="same"), BatchNormalization(momentum=0.9),
                      Activation("relu"), Dropout(0.3), GlobalAvgPool2D(), Dense(6),
                      BatchNormalization(), Dense(3)])
    net.build(X.shape[1:], backend, np.float64, np.random.RandomState(0))
    X, Y = backend.asarray(X), backend.asarray(Y)
    opt = Adam(net.params, learning_rate_init=0.01)
    _, dz = SoftmaxCrossEntropy().loss_and_grad(backend.xp, net.forward(X, training=True), Y)
    net.backward(dz)
    opt.update_params(net.params, net.grads)
    return net, net.forward(X, training=False)


def test_batch_norm_dropout_global_pool_network_matches_numpy():
    """One training step and a prediction on array_api_strict give NumPy's
    values in float64: the Dropout masks are the same draws (a namespace
    without random numbers gets NumPy's, moved over)."""
    from sknets.backend import get_backend, namespace_backend

    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((6, 5, 5, 2)), np.eye(3)[rng.randint(3, size=6)]
    ref, out_ref = _bn_dropout_gap_step(get_backend("numpy"), X, Y)
    net, out = _bn_dropout_gap_step(namespace_backend(xps, device=STRICT_CPU), X, Y)
    assert type(out).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(to_numpy(out), out_ref, rtol=1e-12, atol=1e-12)
    for layer_ref, layer in zip(ref.layers, net.layers):
        for key, value in {**layer_ref.params, **layer_ref.state}.items():
            np.testing.assert_allclose(to_numpy({**layer.params, **layer.state}[key]), value,
                                       rtol=1e-12, atol=1e-12, err_msg=layer.describe())
    assert not np.allclose(ref.layers[1].state["moving_mean"], 0.0)   # the statistics moved


def test_sequence_network_trains_identically_on_strict_and_numpy():
    """3-D input ``(n_samples, timesteps, features)`` through Conv1D, a
    residual block, pooling and a bidirectional GRU: a fit on array_api_strict
    gives NumPy's values (float64), and predicts in the input's namespace."""
    from sknets import NeuralNetClassifier
    from sknets.layers import (
        GRU,
        Activation,
        BatchNormalization,
        Bidirectional,
        Conv1D,
        MaxPool1D,
        Residual,
    )

    X, y = _digits(120)
    X = X.reshape(-1, 8, 8)

    def make():
        return NeuralNetClassifier(
            [Conv1D(4, 3, padding="causal", dilation_rate=2),
             Residual([Conv1D(6, 3, strides=2, padding="same"), BatchNormalization(),
                       Activation("relu")]),
             MaxPool1D(2, strides=1), Bidirectional(GRU(3))],
            max_iter=3, random_state=0, dtype="float64")

    ref = make().fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = make().fit(xps.asarray(X), xps.asarray(y))
        proba = est.predict_proba(xps.asarray(X))
    assert est._network.backend.name == "array_api_strict"
    assert type(proba).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(proba), ref.predict_proba(X), atol=1e-12)
    assert est.loss_curve_ == pytest.approx(ref.loss_curve_, abs=1e-12)
