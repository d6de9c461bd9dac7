"""predict_proba and predict_log_proba of every network classifier.

``predict_log_proba`` is ``log(predict_proba)``, as scikit-learn defines it:
the two share their argmax and their ties, and ``-inf`` appears only where a
probability underflows to 0 in the compute dtype. ``predict_proba`` keeps
every probability that the compute dtype can represent (a binary model's
``classes_[0]`` probability is ``sigmoid(-z)``, not ``1 - sigmoid(z)``).
Checked for binary, multiclass and multilabel targets, float32 and float64.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from sknets import ConvNetClassifier, MLPClassifierScratch

CLASSIFIERS = {
    "mlp": lambda **kw: MLPClassifierScratch(hidden_layer_sizes=(30,), **kw),
    "convnet": lambda **kw: ConvNetClassifier(conv_filters=(4,), hidden_layer_sizes=(16,),
                                              **kw),
}


def _targets(kind):
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    if kind == "binary":
        return X, y > 4
    if kind == "multiclass":
        return X, y
    return X, np.c_[y % 2 == 0, y > 4, y % 3 == 0].astype(int)


def _fit(name, X, y, dtype, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CLASSIFIERS[name](random_state=0, max_iter=15, **params).fit(X.astype(dtype), y)


def _assert_consistent(proba, log_proba):
    assert log_proba.dtype == proba.dtype
    np.testing.assert_array_equal(log_proba.argmax(axis=1), proba.argmax(axis=1))
    np.testing.assert_array_equal(np.argsort(log_proba, axis=1, kind="stable"),
                                  np.argsort(proba, axis=1, kind="stable"))
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-6, atol=0)
    # -inf exactly where the probability underflowed to 0
    np.testing.assert_array_equal(np.isfinite(log_proba), proba > 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_log_proba_is_log_of_proba(name, kind, dtype):
    X, y = _targets(kind)
    clf = _fit(name, X, y, dtype)
    for scale in (1.0, 50.0):   # 50: logits far into saturation
        Xs = (X * scale).astype(dtype)
        proba, log_proba = clf.predict_proba(Xs), clf.predict_log_proba(Xs)
        assert proba.dtype == dtype
        assert proba.shape == (len(X), 2 if kind == "binary" else y.shape[1] if y.ndim > 1
                               else 10)
        _assert_consistent(proba, log_proba)
        if kind != "multilabel":
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float64
                                       else 1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_binary_keeps_every_representable_probability(name, dtype):
    """Far from the boundary, P(classes_[0]) = sigmoid(-z) is tiny but
    representable: it must not round to 0 (log-probability -inf)."""
    X, y = _targets("binary")
    clf = _fit(name, X, y, dtype)
    Xs = (X * 30).astype(dtype)
    z = clf.decision_function(Xs).astype(np.float64)
    log_proba = clf.predict_log_proba(Xs)
    expected = np.c_[-np.logaddexp(0, z), -np.logaddexp(0, -z)]
    tiny = np.log(np.finfo(dtype).smallest_normal)   # normal numbers: full precision
    representable = expected > tiny
    assert (np.abs(z) > 20).any()   # the case is exercised: 1 - sigmoid(z) would be 0 there
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(log_proba[representable], expected[representable],
                               rtol=rtol, atol=1e-6)
    with np.errstate(divide="ignore"):
        log_of_proba = np.log(clf.predict_proba(Xs))
    np.testing.assert_allclose(log_of_proba[representable], expected[representable],
                               rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_multilabel_ties_are_shared(dtype):
    """L-BFGS on a small multilabel set saturates several sigmoids to exactly
    1.0; the stable log-sigmoid would still tell them apart, log(proba) does
    not, so the argmax agrees (scikit-learn's definition and test)."""
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)
    clf = MLPClassifierScratch(solver="lbfgs", hidden_layer_sizes=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X.astype(dtype), Y)
    proba = clf.predict_proba(X.astype(dtype))
    assert ((proba == 1.0).sum(axis=1) > 1).any()   # ties at 1.0 exist
    _assert_consistent(proba, clf.predict_log_proba(X.astype(dtype)))
