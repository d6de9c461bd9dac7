"""Secure saving with skops.io: fitted estimators round-trip with identical
predictions, and their files hold no types but sknets' own (and those skops
trusts by default)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknets
from sknets import (
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from sknets import layers as L

sio = pytest.importorskip("skops.io")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

METHODS = ("predict", "predict_proba", "decision_function", "transform")


def _data(kind):
    X, y = load_digits(return_X_y=True)
    X = (X[:240] / 16).astype(np.float32)
    y = y[:240]
    if kind == "images":
        return X.reshape(-1, 8, 8, 1), y
    if kind == "strings":
        return X, np.array(["even", "odd"])[y % 2]
    if kind == "multilabel":
        return X, np.stack([y % 2, y > 4], axis=1)
    if kind == "regression":
        return X, np.stack([X[:, 20] - X[:, 40], X[:, 30]], axis=1)
    return X, y


CASES = {
    "mlp-adam-bn-dropout": (lambda: MLPClassifierScratch(
        (8,), batch_normalization=True, dropout=0.2, max_iter=5), "digits"),
    "mlp-sgd-early-stopping": (lambda: MLPClassifierScratch(
        (8,), solver="sgd", early_stopping=True, max_iter=5), "strings"),
    "mlp-lbfgs-multilabel": (lambda: MLPClassifierScratch(
        (8,), solver="lbfgs", max_iter=5), "multilabel"),
    "mlp-regressor-poisson": (lambda: MLPRegressorScratch(
        loss="poisson", hidden_layer_sizes=(8,), max_iter=5), "regression"),
    "convnet": (lambda: ConvNetClassifier(
        conv_filters=(2,), hidden_layer_sizes=(4,), batch_normalization=True, max_iter=2),
        "images"),
    "neural-net-every-layer": (lambda: NeuralNetClassifier([
        L.Conv2D(3, 3, padding="same"), L.BatchNormalization(), L.Activation("relu"),
        L.MaxPool2D(2), L.Conv2D(2, 2), L.AvgPool2D(1), L.Dropout(0.1), ("flat", L.Flatten()),
        L.Reshape((3, 3, 2)), L.GlobalAvgPool2D(), L.Dense(4), L.Activation("tanh")],
        max_iter=2), "images"),
    "neural-net-regressor": (lambda: NeuralNetRegressor(max_iter=3), "regression"),
    "perceptron": (lambda: PerceptronClassifier(max_iter=3), "digits"),
    "pipeline": (lambda: make_pipeline(StandardScaler(), MLPClassifierScratch((4,), max_iter=3)),
                 "digits"),
}


def _outputs(est, X):
    return {m: getattr(est, m)(X) for m in METHODS if hasattr(est, m)}


@pytest.mark.parametrize("case", CASES)
def test_round_trip_with_identical_predictions_and_only_sknets_types(case):
    make, kind = CASES[case]
    X, y = _data(kind)
    est = make().set_params(**{k: 0 for k in make().get_params() if k.endswith("random_state")})
    est.fit(X, y)
    blob = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=blob)
    assert untrusted and all(name.startswith("sknets.") for name in untrusted), untrusted
    assert set(untrusted) <= set(sknets.trusted_types())
    loaded = sio.loads(blob, trusted=sknets.trusted_types())
    expected, got = _outputs(est, X), _outputs(loaded, X)
    assert set(got) == set(expected) and "predict" in got
    for method, value in expected.items():
        np.testing.assert_array_equal(got[method], value, err_msg=method)


def test_training_continues_after_loading():
    """The optimizer state is saved too: partial_fit after loading takes the
    same step as on the original."""
    X, y = _data("digits")
    est = MLPClassifierScratch((8,), random_state=0).partial_fit(X, y, classes=np.arange(10))
    loaded = sio.loads(sio.dumps(est), trusted=sknets.trusted_types())
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for a, b in zip(est.coefs_ + est.intercepts_, loaded.coefs_ + loaded.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_nothing_trusted_refuses_and_other_types_are_listed():
    X, y = load_iris(return_X_y=True)
    est = MLPClassifierScratch((4,), max_iter=3).fit(X, y)
    blob = sio.dumps(est)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(blob)

    class Halve(L.Activation):   # a user's layer: not sknets' own, so not trusted
        pass

    custom = NeuralNetClassifier([L.Dense(4), Halve("relu")], max_iter=2).fit(X, y)
    blob = sio.dumps(custom)
    extra = set(sio.get_untrusted_types(data=blob)) - set(sknets.trusted_types())
    assert len(extra) == 1 and extra.pop().endswith(".Halve")
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(blob, trusted=sknets.trusted_types())


def test_unfitted_estimators_and_layers_round_trip():
    spec = NeuralNetClassifier([L.Dense(3), ("drop", L.Dropout(0.3))], alpha=0.1)
    loaded = sio.loads(sio.dumps(spec), trusted=sknets.trusted_types())
    assert loaded.get_params()["layers__drop__rate"] == 0.3 and loaded.alpha == 0.1
