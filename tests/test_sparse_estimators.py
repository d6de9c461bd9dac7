"""Memory that scales with the data, through the estimators (issue 18).

Sparse input is never densified by the MLP (fit, every prediction method,
L-BFGS) and the perceptron keeps it sparse up to its per-sample updates; the
results equal the dense input's. Fits are sized before anything is
allocated; ``summary(input_shape=...)`` allocates nothing; a fitted model's
pickle holds each weight once.
"""

import math
import pickle
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits

import sknets
from sknets import (
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    PerceptronClassifier,
)
from sknets._memory import GIB
from sknets.layers import Activation, Dense

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _traced_peak(fn):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _wide_csr(n, d, per_row, seed=0):
    """``per_row`` non-zeros a row among ``d`` columns, labels from a few of them."""
    rng = np.random.RandomState(seed)
    cols = rng.randint(d, size=(n, per_row))
    X = sp.csr_matrix((rng.rand(n * per_row), cols.ravel(), np.arange(0, n * per_row + 1,
                                                                      per_row)), shape=(n, d))
    X.sum_duplicates()
    y = (np.asarray(X[:, : d // 2].sum(axis=1)).ravel() > np.asarray(
        X[:, d // 2:].sum(axis=1)).ravel()).astype(int)
    return X, y


@pytest.fixture(scope="module")
def digits_sparse():
    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16
    return sp.csr_matrix(X), X, y[:400]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_mlp_on_sparse_input_equals_the_dense_fit(digits_sparse, solver):
    Xs, Xd, y = digits_sparse
    params = dict(hidden_layer_sizes=(12,), solver=solver, max_iter=5, random_state=0,
                  early_stopping=solver == "sgd")
    sparse = MLPClassifierScratch(**params).fit(Xs, y)
    dense = MLPClassifierScratch(**params).fit(Xd, y)
    for a, b in zip(sparse.coefs_ + sparse.intercepts_, dense.coefs_ + dense.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(Xd), rtol=1e-10)
    np.testing.assert_allclose(sparse.transform(Xs), dense.transform(Xd), rtol=1e-10)


def test_regressor_and_convnet_take_sparse_input(digits_sparse):
    Xs, Xd, y = digits_sparse
    reg = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    np.testing.assert_allclose(MLPRegressorScratch(**reg).fit(Xs, y / 9).predict(Xs),
                               MLPRegressorScratch(**reg).fit(Xd, y / 9).predict(Xd),
                               rtol=1e-10)
    # a convolution needs dense images: each batch is densified, not the input
    conv = dict(conv_filters=(2,), hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                dtype="float64")
    np.testing.assert_allclose(ConvNetClassifier(**conv).fit(Xs, y).predict_proba(Xs),
                               ConvNetClassifier(**conv).fit(Xd, y).predict_proba(Xd),
                               rtol=1e-10)


def test_wide_sparse_input_is_never_densified():
    # dense, one training batch would be 200 * 10**5 * 8 bytes = 160 MB, and
    # one prediction batch 1.6 GB
    X, y = _wide_csr(1000, 10 ** 5, 20)
    est = MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    _, fit_peak = _traced_peak(lambda: est.fit(X, y))
    proba, predict_peak = _traced_peak(lambda: est.predict_proba(X))
    assert proba.shape == (1000, 2)
    assert fit_peak < 32 * 2 ** 20, fit_peak            # weights 3.2 MB, seven copies
    assert predict_peak < 8 * 2 ** 20, predict_peak


def test_perceptron_keeps_sparse_rows_sparse(digits_sparse):
    Xs, _, y = digits_sparse
    # scikit-learn's Perceptron on the same CSR rows: its sparse path decays the
    # intercept's updates (SPARSE_INTERCEPT_DECAY), so the sparse fit is compared
    # with scikit-learn's sparse fit, not with the dense one.
    from sklearn.linear_model import Perceptron

    sparse = PerceptronClassifier(max_iter=3, random_state=0).fit(Xs, y)
    reference = Perceptron(max_iter=3, random_state=0).fit(Xs, y)
    np.testing.assert_allclose(sparse.coef_, reference.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, reference.intercept_, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(sparse.predict(Xs), reference.predict(Xs))
    X, y = _wide_csr(600, 10 ** 5, 20)
    # dense, one chunk of 4,096 rows would be 600 * 10**5 * 8 bytes = 480 MB
    est, peak = _traced_peak(lambda: PerceptronClassifier(max_iter=2).fit(X, y))
    assert peak < 32 * 2 ** 20, peak
    assert est.score(X, y) > 0.6


def test_summary_of_an_unfitted_billion_weight_model_allocates_nothing():
    est = MLPClassifierScratch(hidden_layer_sizes=(32_000, 32_000))
    text, peak = _traced_peak(lambda: est.summary(input_shape=(784,), n_outputs=10,
                                                  print_fn=None))
    n = 784 * 32_000 + 32_000 + 32_000 ** 2 + 32_000 + 32_000 * 10 + 10
    assert f"Total params: {n:,}" in text and n > 10 ** 9
    assert peak < 2 ** 20, peak
    assert not hasattr(est, "n_outputs_")


@pytest.mark.parametrize("make, message", [
    (lambda: MLPClassifierScratch(hidden_layer_sizes=(20000,) * 7),
     "units=20000, set by hidden_layer_sizes"),
    (lambda: ConvNetClassifier(padding=10 ** 4), "padding=10000"),
    (lambda: ConvNetClassifier(kernel_size=10 ** 9), "kernel_size=1000000000"),
    (lambda: NeuralNetClassifier([Dense(10 ** 9), Activation("relu")]), "units=1000000000"),
], ids=["hidden_layer_sizes", "padding", "kernel_size", "Dense"])
def test_fits_beyond_the_memory_fail_at_once(make, message):
    X, y = load_digits(return_X_y=True)
    est = make()
    tic = time.perf_counter()
    with sknets.config_context(memory_limit=16 * GIB), pytest.raises(ValueError) as info:
        est.fit(X[:200], y[:200])
    assert time.perf_counter() - tic < 1.0
    assert message in str(info.value)
    assert "kernel_size" in message or "GiB" in str(info.value)
    assert not est.__sklearn_is_fitted__()


def _pickle_ratio(est):
    weights = sum(a.nbytes for a in est.coefs_ + est.intercepts_)
    return len(pickle.dumps(est)) / weights


@pytest.mark.parametrize("params, moments", [
    (dict(solver="adam"), 2), (dict(solver="sgd"), 1),
    (dict(solver="adam", early_stopping=True), 2), (dict(solver="lbfgs"), 0),
], ids=["adam", "sgd", "early_stopping", "lbfgs"])
def test_a_fitted_pickle_holds_each_weight_once(params, moments):
    """The weights once (coefs_ is the network's W; no copy of the best
    weights), plus the optimizer's moments or velocities, which a later
    partial_fit continues, as scikit-learn's does."""
    X, y = load_digits(return_X_y=True)
    est = MLPClassifierScratch(hidden_layer_sizes=(200,), max_iter=5, random_state=0,
                               **params).fit(X / 16, y)
    assert 1 + moments < _pickle_ratio(est) < 1.2 + moments
    if moments:   # in memory too: no work arrays of the optimizer's updates
        assert est._optimizer._work is None
    assert est._best_weights is None


def test_warm_start_keeps_the_best_weights_without_a_copy():
    """The best weights of early stopping are the network's at the end of a
    fit; a warm start that never beats them ends on them again."""
    X, y = load_digits(return_X_y=True)
    est = MLPClassifierScratch(hidden_layer_sizes=(16,), early_stopping=True, max_iter=8,
                               random_state=0).fit(X / 16, y)
    best = [w.copy() for w in est.coefs_]
    assert est._best_weights is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.set_params(warm_start=True, max_iter=2, learning_rate_init=5.0).fit(X / 16, y)
    assert max(est.validation_scores_[-2:]) < est.best_validation_score_
    for a, b in zip(est.coefs_, best):
        np.testing.assert_array_equal(a, b)


def test_a_million_features_predict():
    X, y = _wide_csr(300, 10 ** 6, 10)
    est = MLPClassifierScratch(hidden_layer_sizes=(2,), max_iter=1, random_state=0).fit(X, y)
    assert est.predict(X).shape == (300,)
    assert math.isfinite(est.loss_)
