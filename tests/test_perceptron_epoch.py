"""The perceptron's epoch functions (``sknets._perceptron_epoch``) against
scikit-learn's ``Perceptron``.

``fit_one_vs_rest`` drives them as ``BaseSGDClassifier._partial_fit`` drives
``_plain_sgd`` (the draws, the one-vs-rest problems, a fresh weight vector
per call), so ``coef_``, ``intercept_`` and ``n_iter_`` must equal
scikit-learn's at rtol 1e-10 in float64 over its parameter grid: shuffle,
early stopping, penalties, class and sample weights, warm starts and
``partial_fit``, two classes and more, dense and sparse, several seeds. The
NumPy engine (the reference) and the numba engine must agree bit for bit.
"""

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.linear_model import Perceptron

from sknets._perceptron_epoch import (
    SGDRule,
    WeightState,
    encode_problems,
    numba_available,
    run_epoch,
)
from sknets._perceptron_ovr import StoppingRule, fit_one_vs_rest
from sknets._sgd_draws import sgd_shuffle_permutation, validation_split_and_seeds
from sknets.exceptions import DivergenceError

needs_numba = pytest.mark.skipif(not numba_available(), reason="needs numba (sknets[fast])")
ENGINES = [pytest.param("numba", marks=needs_numba), "numpy"]
DEFAULTS = dict(penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True, max_iter=1000,
                tol=1e-3, shuffle=True, eta0=1.0, random_state=0, early_stopping=False,
                validation_fraction=0.1, n_iter_no_change=5, class_weight=None)


def kernel_fit(X, y, engine="auto", *, classes=None, coef=None, intercept=None,
               sample_weight=None, max_iter=None, **params):
    """One ``fit``/``partial_fit`` call of scikit-learn's Perceptron, run by
    the epoch functions; returns ``coef_, intercept_, n_iter_``."""
    p = {**DEFAULTS, **params}
    if max_iter is not None:
        p["max_iter"] = max_iter
    classes = np.unique(y) if classes is None else classes
    fit = fit_one_vs_rest(X, y, classes, coef=coef, intercept=intercept,
                          sample_weight=sample_weight, engine=engine, **p)
    return fit.coef, fit.intercept, fit.n_iter


def sklearn_fit(X, y, sample_weight=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # ConvergenceWarning on short fits
        return Perceptron(**params).fit(X, y, sample_weight=sample_weight)


def assert_same(ours, theirs, rtol=1e-10):
    coef, intercept, n_iter = ours
    assert n_iter == theirs.n_iter_
    assert coef.dtype == theirs.coef_.dtype
    np.testing.assert_allclose(coef, theirs.coef_, rtol=rtol, atol=0)
    np.testing.assert_allclose(intercept, theirs.intercept_, rtol=rtol, atol=0)


def _data(name):
    if name == "digits":   # 5 classes, scaled so that the weights are not integers
        X, y = load_digits(n_class=5, return_X_y=True)
        return X[:300] / 16.0, y[:300]
    if name == "iris":
        return load_iris(return_X_y=True)
    X, y = load_breast_cancer(return_X_y=True)   # two classes
    return (X / X.max(axis=0))[:300], y[:300]


def _weightings(y):
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.2, 2.0, len(y))
    sw[::17] = 0.0   # zero weights are allowed
    return [(None, None), ("balanced", sw)]


@pytest.mark.parametrize("data", ["digits", "breast_cancer"])
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
def test_matches_sklearn_over_its_parameter_grid(data, penalty):
    # (the estimator's tests run a larger multiclass grid through the trainer)
    X, y = _data(data)
    alpha = 0.001 if penalty else 0.0001
    orders = [(True, 0), (False, 3)] if data == "digits" else [(True, 0), (True, 7), (False, 3)]
    grid = itertools.product(orders, [False, True], _weightings(y))
    for (shuffle, seed), early_stopping, (class_weight, sw) in grid:
        params = dict(penalty=penalty, alpha=alpha, shuffle=shuffle, random_state=seed,
                      early_stopping=early_stopping, class_weight=class_weight)
        assert_same(kernel_fit(X, y, sample_weight=sw, **params),
                    sklearn_fit(X, y, sample_weight=sw, **params))


@pytest.mark.parametrize("params", [
    dict(fit_intercept=False, eta0=0.3),
    dict(tol=None, max_iter=7),
    dict(penalty="elasticnet", l1_ratio=0.7, alpha=0.01, n_iter_no_change=2),
    dict(penalty="l2", alpha=0.2, eta0=0.5),   # wscale falls below 1e-9: folded back
    dict(early_stopping=True, validation_fraction=0.3, tol=0.0, penalty="l1", alpha=0.001),
    dict(random_state=np.random.RandomState(3), early_stopping=True),
    dict(class_weight={0: 2.0, 2: 0.5}, penalty="l2", shuffle=False),
])
def test_matches_sklearn_other_settings(params):
    X, y = _data("iris")
    ours = kernel_fit(X, y, **{k: (np.random.RandomState(3) if k == "random_state" else v)
                              for k, v in params.items()})
    assert_same(ours, sklearn_fit(X, y, **params))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
def test_sparse_input_matches_sklearn_sparse(dtype, penalty):
    # sparse: the intercept's updates damped by 0.01, L1 on the sample's stored features
    X, y = _data("digits")
    Xs = sp.csr_matrix(X.astype(dtype))
    params = dict(penalty=penalty, alpha=0.001, early_stopping=penalty == "l2")
    ours = kernel_fit(Xs, y, **params)
    theirs = sklearn_fit(Xs, y, **params)
    assert_same(ours, theirs, rtol=1e-10 if dtype == np.float64 else 1e-6)
    dense = sklearn_fit(X.astype(dtype), y, **params)
    assert not np.allclose(theirs.intercept_, dense.intercept_)   # the damping mattered


@pytest.mark.parametrize("penalty", [None, "l2", "elasticnet"])
def test_float32_follows_sklearn_float32(penalty):
    X, y = _data("digits")
    X = X.astype(np.float32)
    params = dict(penalty=penalty, alpha=0.001)
    assert_same(kernel_fit(X, y, **params), sklearn_fit(X, y, **params), rtol=1e-6)


@pytest.mark.parametrize("data", ["digits", "breast_cancer"])
def test_warm_start_matches_sklearn(data):
    X, y = _data(data)
    params = dict(penalty="elasticnet", alpha=0.001, max_iter=3, tol=None)
    est = Perceptron(warm_start=True, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        coef, intercept = est.coef_.copy(), est.intercept_.copy()
        est.set_params(max_iter=20, tol=1e-3)
        est.fit(X, y)
    params.update(max_iter=20, tol=1e-3)
    assert_same(kernel_fit(X, y, coef=coef, intercept=intercept, **params), est)


@pytest.mark.parametrize("data", ["digits", "breast_cancer"])
def test_partial_fit_matches_sklearn(data):
    X, y = _data(data)
    classes = np.unique(y)
    params = dict(penalty="l1", alpha=0.001, class_weight={classes[1]: 3.0})
    est = Perceptron(**params)
    coef = intercept = None
    rng = np.random.RandomState(0)
    for batch in np.array_split(np.arange(len(y)), 4):
        sw = rng.uniform(0.5, 1.5, len(batch))
        est.partial_fit(X[batch], y[batch], classes=classes, sample_weight=sw)
        coef, intercept, n_iter = kernel_fit(X[batch], y[batch], classes=classes, coef=coef,
                                             intercept=intercept, sample_weight=sw,
                                             max_iter=1, **params)
        assert_same((coef, intercept, n_iter), est)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("params", [
    dict(), dict(penalty="l2", alpha=0.01), dict(penalty="l1", alpha=0.001),
    dict(penalty="elasticnet", alpha=0.001, early_stopping=True, class_weight="balanced"),
    dict(penalty="l2", alpha=0.2, eta0=0.5, early_stopping=True),   # wscale folded back
])
def test_numpy_engine_matches_sklearn(params, sparse):
    # the reference engine on its own (runs without numba): small data, few epochs
    X, y = load_iris(return_X_y=True)
    X = sp.csr_matrix(X) if sparse else X
    params = dict(params, max_iter=6)
    assert_same(kernel_fit(X, y, "numpy", **params), sklearn_fit(X, y, **params))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
def test_numba_engine_equals_numpy_engine_bit_for_bit(penalty, sparse, dtype):
    X, y = _data("digits")
    X, y = X[:150].astype(dtype), y[:150]
    X = sp.csr_matrix(X) if sparse else X
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2.0, len(y))
    params = dict(penalty=penalty, alpha=0.003, class_weight="balanced", max_iter=4,
                  sample_weight=sw, early_stopping=penalty == "l1")
    fast, ref = kernel_fit(X, y, "numba", **params), kernel_fit(X, y, "numpy", **params)
    assert fast[2] == ref[2]
    np.testing.assert_array_equal(fast[0], ref[0])
    np.testing.assert_array_equal(fast[1], ref[1])


@pytest.mark.parametrize("engine", ENGINES)
def test_epochs_in_chunks_give_the_same_model(engine):
    X, y = _data("digits")
    params = dict(penalty="elasticnet", alpha=0.001, max_iter=4, tol=None)
    whole = kernel_fit(X, y, engine, **params)
    seen = []
    chunked = fit_one_vs_rest(X, y, np.unique(y), engine=engine, chunk_rows=70,
                              on_chunk=lambda epoch, start, stop: seen.append((start, stop)),
                              **params)
    assert seen[:5] == [(0, 70), (70, 140), (140, 210), (210, 280), (280, 300)]
    assert len(seen) == 4 * 5
    np.testing.assert_array_equal(chunked.coef, whole[0])
    np.testing.assert_array_equal(chunked.intercept, whole[1])
    stopped = fit_one_vs_rest(X, y, np.unique(y), engine=engine, chunk_rows=70,
                              on_chunk=lambda epoch, start, stop: epoch == 1 and start == 140,
                              **params)
    assert stopped.n_iter == 1   # stopped inside the second epoch


@needs_numba
@pytest.mark.parametrize("sparse", [False, True])
def test_threads_give_the_same_model(sparse):
    X, y = _data("digits")
    X = sp.csr_matrix(X) if sparse else X
    params = dict(penalty="elasticnet", alpha=0.001, max_iter=5, early_stopping=True)
    one = kernel_fit(X, y, "numba", n_jobs=None, **params)
    two = kernel_fit(X, y, "numba", n_jobs=2, **params)
    assert one[2] == two[2]
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize("engine", ENGINES)
def test_problems_read_their_own_orders_and_stop_on_their_own(engine):
    X, y = load_iris(return_X_y=True)
    mask, seeds = validation_split_and_seeds(y, np.ones(150), 3, random_state=0,
                                             early_stopping=False, validation_fraction=0.1)
    assert len(set(seeds.tolist())) == 3
    problems = encode_problems(X, y, np.unique(y), np.ones(3), np.ones(150), mask, seeds)
    state = WeightState(np.zeros((3, 4)), np.zeros(3), 150)
    run_epoch(problems, state, SGDRule(), np.ones(3, bool), engine)
    for k in range(3):   # one epoch: each order is its own seed's permutation
        np.testing.assert_array_equal(state.orders[k], sgd_shuffle_permutation(150, seeds[k]))
    before = state.w.copy()
    result = run_epoch(problems, state, SGDRule(), np.array([True, False, True]), engine)
    np.testing.assert_array_equal(state.w[1], before[1])   # a stopped problem is left alone
    assert result.objective[1] == 0.0 and result.sumloss[0] >= 0.0


@needs_numba
def test_compiled_shuffle_is_sklearns():
    from sklearn.utils._seq_dataset import ArrayDataset64

    from sknets._perceptron_numba import shuffle_order

    n, seed = 57, 12345
    order = np.arange(n, dtype=np.int64)
    shuffle_order(order, seed)
    np.testing.assert_array_equal(order, sgd_shuffle_permutation(n, seed))
    X = np.arange(n, dtype=np.float64)[:, None]
    dataset = ArrayDataset64(X, np.zeros(n), np.ones(n), seed=1)
    dataset._shuffle_py(seed)
    seen = [int(dataset._next_py()[0][0][0]) for _ in range(n)]   # X[i, 0] == i
    np.testing.assert_array_equal(order, seen)


def test_stopping_rule_counts_epochs_without_improvement():
    rule = StoppingRule(2, tol=0.1, n_iter_no_change=2, early_stopping=False)
    for epoch, values in enumerate([[1.0, 1.0], [0.5, 0.95], [0.45, 0.5], [0.41, 0.4]]):
        rule.update(epoch, values)
    # problem 0: 0.45 and 0.41 improve by less than tol: stopped after epoch 4;
    # problem 1: 0.95 did not improve, 0.5 did, 0.4 did
    assert rule.active.tolist() == [False, True]
    assert rule.n_iter.tolist() == [4, 4]
    never = StoppingRule(1, tol=None, n_iter_no_change=1, early_stopping=True)
    for epoch in range(5):
        never.update(epoch, [0.5])
    assert never.active.all()


@pytest.mark.parametrize("engine", ENGINES)
def test_divergence_raises(engine):
    X, y = load_iris(return_X_y=True)
    X = X * 1e307
    with pytest.raises(DivergenceError, match="epoch #1"):
        kernel_fit(X, y, engine, eta0=1e10)
    with pytest.raises(ValueError, match="under-/overflow"):
        sklearn_fit(X, y, eta0=1e10)


def test_unknown_engine_is_refused():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="engine"):
        kernel_fit(X, y, "fortran")
