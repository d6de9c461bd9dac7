"""``classes_`` follows fit's input namespace under array-API dispatch, as in
scikit-learn's array-API classifiers (string labels stay NumPy)."""

import array_api_strict as xps
import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits
from sklearn.utils._array_api import get_namespace_and_device

from sknets import (
    ConvNetClassifier,
    MLPClassifierScratch,
    NeuralNetClassifier,
    PerceptronClassifier,
)
from sknets.backend import to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DEVICE1 = xps.Device("device1")
CLASSIFIERS = [
    lambda: MLPClassifierScratch((8,), max_iter=5, random_state=0),
    lambda: ConvNetClassifier(conv_filters=(2,), hidden_layer_sizes=(4,), max_iter=2,
                              random_state=0),
    lambda: NeuralNetClassifier(max_iter=3, random_state=0),
    lambda: PerceptronClassifier(max_iter=5),
]


def _digits():
    X, y = load_digits(return_X_y=True)
    return (X[:200] / 16).astype(np.float32), y[:200]


def _namespace(a):
    with sklearn.config_context(array_api_dispatch=True):
        xp, _, device = get_namespace_and_device(a)
    return xp.__name__, device


@pytest.mark.parametrize("make", CLASSIFIERS, ids=lambda m: type(m()).__name__)
def test_classes_in_the_input_namespace_and_device(make):
    X, y = _digits()
    Xs, ys = xps.asarray(X, device=DEVICE1), xps.asarray(y, device=DEVICE1)
    reference = make().fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = make().fit(Xs, ys)
        labels = est.predict(Xs)
    assert _namespace(est.classes_) == ("array_api_strict", DEVICE1)
    np.testing.assert_array_equal(to_numpy(est.classes_), reference.classes_)
    np.testing.assert_array_equal(to_numpy(labels), reference.predict(X))
    # training further (partial_fit, warm start) reads them back on the host
    with sklearn.config_context(array_api_dispatch=True):
        if hasattr(est, "partial_fit"):
            est.partial_fit(Xs, ys, classes=xps.asarray(np.unique(y), device=DEVICE1))
            est.partial_fit(Xs, ys)
        est.set_params(warm_start=True).fit(Xs, ys)
    assert _namespace(est.classes_) == ("array_api_strict", DEVICE1)


def test_numpy_input_and_string_labels_keep_numpy_classes():
    X, y = _digits()
    names = np.array(["even", "odd"])[y % 2]
    with sklearn.config_context(array_api_dispatch=True):
        numpy_fit = MLPClassifierScratch((4,), max_iter=3).fit(X, y)
        strings = MLPClassifierScratch((4,), max_iter=3).fit(xps.asarray(X), names)
        predicted = strings.predict(xps.asarray(X))
    assert isinstance(numpy_fit.classes_, np.ndarray)
    assert isinstance(strings.classes_, np.ndarray) and strings.classes_.dtype.kind == "U"
    assert set(np.asarray(predicted)) <= {"even", "odd"}
