"""MLPClassifierScratch / MLPRegressorScratch: sklearn equivalence and behaviour on real data."""

import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import ConvNetClassifier, DivergenceError, MLPClassifierScratch, MLPRegressorScratch

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def digits_split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def _max_coef_diff(a, b):
    return max(np.abs(c1 - c2).max() for c1, c2 in zip(a.coefs_ + a.intercepts_,
                                                         b.coefs_ + b.intercepts_))


# --------------------------------------------------------------- equivalence
@pytest.mark.parametrize("params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="invscaling"),
    dict(solver="sgd", nesterovs_momentum=False, momentum=0.5),
    dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=2, tol=10.0),
    dict(solver="adam", early_stopping=True, alpha=0.01),
    dict(solver="lbfgs", activation="tanh"),
    dict(solver="adam", activation="logistic", shuffle=False),
])
def test_classifier_trains_to_sklearn_weights_in_float64(digits, params):
    """Same algorithm, same random_state: the same weights as scikit-learn's MLP."""
    X, y = digits
    common = dict(hidden_layer_sizes=(30, 20), random_state=0, max_iter=8, **params)
    ref = MLPClassifier(**common).fit(X, y)
    ours = MLPClassifierScratch(**common).fit(X, y)
    assert _max_coef_diff(ref, ours) < 1e-10
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-10)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-10)
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)


def test_binary_with_sample_weight_matches_sklearn(digits):
    X, y = digits
    sw = np.random.RandomState(0).uniform(0.1, 2.0, len(y))
    kw = dict(random_state=0, max_iter=5, activation="logistic")
    ref = MLPClassifier(**kw).fit(X, y > 4, sample_weight=sw)
    ours = MLPClassifierScratch(**kw).fit(X, y > 4, sample_weight=sw)
    assert _max_coef_diff(ref, ours) < 1e-10


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_matches_sklearn(loss):
    X, y = load_diabetes(return_X_y=True)
    kw = dict(loss=loss, random_state=0, max_iter=5)
    ref = MLPRegressor(**kw).fit(X, y)
    ours = MLPRegressorScratch(**kw).fit(X, y)
    assert _max_coef_diff(ref, ours) < 1e-9
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9)


def test_partial_fit_and_warm_start_match_sklearn():
    X, y = load_iris(return_X_y=True)
    pairs = []
    for cls in (MLPClassifier, MLPClassifierScratch):
        a = cls(random_state=0)
        a.partial_fit(X, y, classes=[0, 1, 2])
        a.partial_fit(X, y)
        b = cls(random_state=0, warm_start=True, max_iter=5).fit(X, y).fit(X, y)
        pairs.append((a, b))
    (ra, rb), (oa, ob) = pairs
    for ref, ours in ((ra, oa), (rb, ob)):
        assert _max_coef_diff(ref, ours) < 1e-10
        assert (ours.n_iter_, ours.t_, len(ours.loss_curve_)) == (
            ref.n_iter_, ref.t_, len(ref.loss_curve_))


# ----------------------------------------------------------- real-data skill
def test_digits_accuracy_with_default_parameters(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = MLPClassifierScratch(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.97
    assert clf.coefs_[0].dtype == np.float64   # dtype follows the (float64) input


def test_breast_cancer_pipeline():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch(random_state=0))
    assert pipe.fit(X_train, y_train).score(X_test, y_test) >= 0.93


def test_diabetes_regression():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    pipe = make_pipeline(StandardScaler(),
                         MLPRegressorScratch(random_state=0, learning_rate_init=0.01,
                                             max_iter=500))
    assert pipe.fit(X_train, y_train).score(X_test, y_test) >= 0.25


def test_multilabel_classification():
    X, y = load_digits(return_X_y=True)
    Y = np.c_[y % 2 == 0, y > 4].astype(int)
    clf = MLPClassifierScratch(random_state=0, max_iter=60).fit(X[:1200] / 16, Y[:1200])
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 2
    assert clf.predict(X[1200:] / 16).shape == (len(X) - 1200, 2)
    assert clf.score(X[1200:] / 16, Y[1200:]) > 0.8
    np.testing.assert_allclose(clf.predict_log_proba(X[:5] / 16),
                               np.log(clf.predict_proba(X[:5] / 16)), rtol=1e-4)


def test_predict_log_proba_is_log_of_predict_proba(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = MLPClassifierScratch(random_state=0, max_iter=20).fit(X_train, y_train)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_test)),
                               clf.predict_proba(X_test), rtol=1e-4, atol=1e-7)
    binary = MLPClassifierScratch(random_state=0, max_iter=20).fit(X_train, y_train > 4)
    np.testing.assert_allclose(np.exp(binary.predict_log_proba(X_test)),
                               binary.predict_proba(X_test), rtol=1e-4, atol=1e-7)


def test_sparse_input_gives_the_dense_result(digits):
    X, y = digits
    dense = MLPClassifierScratch(random_state=0, max_iter=5).fit(X, y)
    sparse = MLPClassifierScratch(random_state=0, max_iter=5).fit(
        sp.csr_matrix(X), y)
    assert _max_coef_diff(dense, sparse) < 1e-12
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X))


# ---------------------------------------------------------------- behaviour
def test_same_random_state_same_model(digits):
    X, y = digits
    a = MLPClassifierScratch(random_state=3, max_iter=5).fit(X, y)
    b = MLPClassifierScratch(random_state=3, max_iter=5).fit(X, y)
    c = MLPClassifierScratch(random_state=4, max_iter=5).fit(X, y)
    assert _max_coef_diff(a, b) == 0
    assert _max_coef_diff(a, c) > 0


def test_partial_fit_and_warm_start_continue_training(digits):
    X, y = digits
    clf = MLPClassifierScratch(random_state=0)
    clf.partial_fit(X, y, classes=np.unique(y))
    first = clf.loss_
    for _ in range(5):
        clf.partial_fit(X, y)
    assert clf.loss_ < first and len(clf.loss_curve_) == 6
    warm = MLPClassifierScratch(random_state=0, max_iter=3, warm_start=True).fit(X, y)
    loss_after_3 = warm.loss_
    warm.fit(X, y)
    assert len(warm.loss_curve_) == 6 and warm.loss_ < loss_after_3


@pytest.mark.parametrize("solver", ["adagrad", "rmsprop"])
def test_book_optimizers_train_digits_as_well_as_adam(solver, digits_split):
    """AdaGrad and RMSprop ("Deep Learning from Scratch", with the book's step
    size 0.01) reach Adam's test accuracy (at its default step size 0.001),
    within a point, in the same 30 epochs of the default network."""
    Xtr, Xte, ytr, yte = digits_split
    adam = MLPClassifierScratch(max_iter=30, random_state=0).fit(Xtr, ytr)
    book = MLPClassifierScratch(solver=solver, learning_rate_init=0.01, max_iter=30,
                                random_state=0).fit(Xtr, ytr)
    assert book.n_iter_ == adam.n_iter_ == 30
    assert type(book._state.optimizer).__name__ == {"adagrad": "AdaGrad",
                                                     "rmsprop": "RMSprop"}[solver]
    assert book.score(Xte, yte) >= adam.score(Xte, yte) - 0.01
    assert adam.score(Xte, yte) > 0.93


@pytest.mark.parametrize("solver", ["adagrad", "rmsprop"])
def test_book_optimizers_continue_with_their_state(solver, digits):
    # partial_fit is available (a stochastic solver) and keeps the optimizer's
    # squared-gradient averages from call to call: three calls equal three epochs
    X, y = digits
    params = dict(solver=solver, learning_rate_init=0.01, random_state=0, tol=0.0,
                  n_iter_no_change=100, shuffle=False)
    inc = MLPClassifierScratch(**params)
    for _ in range(3):
        inc.partial_fit(X, y, classes=np.unique(y))
    full = MLPClassifierScratch(max_iter=3, **params).fit(X, y)
    assert _max_coef_diff(inc, full) < 1e-12
    assert inc.loss_curve_[2] < inc.loss_curve_[0]


def test_partial_fit_unavailable_for_lbfgs():
    assert not hasattr(MLPClassifierScratch(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifierScratch(solver="adam"), "partial_fit")


def test_early_stopping_restores_best_weights(digits):
    X, y = digits
    clf = MLPClassifierScratch(random_state=0, early_stopping=True, max_iter=30,
                               n_iter_no_change=3, learning_rate_init=0.05).fit(X, y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert len(clf.history_) == len(clf.loss_curve_)
    assert {"valid_loss", "valid_score", "learning_rate", "dur"} <= set(clf.history_[0])


def test_pickle_clone_and_model_selection(digits):
    X, y = digits
    clf = MLPClassifierScratch(hidden_layer_sizes=(20,), random_state=0, max_iter=15).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params()
    assert not hasattr(clone(clf), "coefs_")
    scores = cross_val_score(MLPClassifierScratch(max_iter=60, random_state=0), X, y, cv=3)
    assert scores.mean() > 0.85
    grid = GridSearchCV(MLPClassifierScratch(max_iter=15, random_state=0),
                        {"hidden_layer_sizes": [(10,), (30,)]}, cv=2, n_jobs=2).fit(X, y)
    serial = GridSearchCV(MLPClassifierScratch(max_iter=15, random_state=0),
                          {"hidden_layer_sizes": [(10,), (30,)]}, cv=2).fit(X, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"])


def test_prediction_runs_in_bounded_memory(monkeypatch):
    """1,000,000 rows never hold all hidden activations (1e6 x 256 floats = 1 GB) at once."""
    rng = np.random.RandomState(0)
    X_small = rng.standard_normal((200, 4)).astype(np.float32)
    clf = MLPRegressorScratch(hidden_layer_sizes=(256,), max_iter=2, random_state=0)
    clf.fit(X_small, X_small.sum(axis=1))
    X = rng.standard_normal((1_000_000, 4)).astype(np.float32)
    tracemalloc.start()
    pred = clf.predict(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert pred.shape == (1_000_000,)
    full_activations = X.shape[0] * 256 * 4
    assert peak < full_activations / 10, f"peak {peak / 2**20:.0f} MiB"


def test_summary_table(digits, capsys):
    X, y = digits
    clf = MLPClassifierScratch(hidden_layer_sizes=(32, 16), max_iter=2).fit(X, y)
    text = clf.summary()
    assert capsys.readouterr().out.strip() == text.strip()
    assert "Dense(32)" in text and "(None, 16)" in text
    n_params = 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert f"Total params: {n_params:,}" in text


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(bad):
    X, y = load_iris(return_X_y=True)
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        MLPClassifierScratch().fit(X, y)


def test_wrong_number_of_features_at_predict():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifierScratch(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        clf.predict(X[:, :3])


def test_not_fitted():
    with pytest.raises(NotFittedError):
        MLPClassifierScratch().predict(np.ones((2, 3)))


@pytest.mark.parametrize("params, match", [
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(activation="softplus"), "activation"),
    (dict(solver="adamw"), "solver"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(alpha=-1.0), "alpha"),
    (dict(backend="tpu"), "backend"),
    (dict(dtype="float16"), "dtype"),
])
def test_invalid_hyper_parameters(params, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        MLPClassifierScratch(**params).fit(X, y)


@pytest.mark.parametrize("Est", [MLPClassifierScratch, ConvNetClassifier])
def test_one_class_fits_and_predicts_it(Est):
    """As scikit-learn's MLPClassifier: a single class in y fits, and
    predicts that class (probability 1, log-probability 0)."""
    X, _ = load_iris(return_X_y=True)
    clf = Est(max_iter=5, random_state=0).fit(X, np.full(len(X), "setosa"))
    assert list(clf.classes_) == ["setosa"]
    assert (clf.predict(X) == "setosa").all()
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((len(X), 1)))
    np.testing.assert_array_equal(clf.predict_log_proba(X), np.zeros((len(X), 1)))
    assert clf.score(X, np.full(len(X), "setosa")) == 1.0


def test_divergence_stops_with_a_message_and_no_nan_model():
    """A diverged fit fails and leaves the estimator as it was: unfitted stays
    unfitted, a fitted model keeps its weights and predictions."""
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressorScratch(solver="sgd", learning_rate_init=10.0, max_iter=50,
                              random_state=0, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError, match="diverged at epoch"):
            reg.fit(X * 100, y)
        with pytest.raises(NotFittedError):
            reg.predict(X)
        reg.set_params(learning_rate_init=0.001, max_iter=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            before = reg.fit(X, y).predict(X)
        reg.set_params(learning_rate_init=10.0, max_iter=50)
        with pytest.raises(DivergenceError, match="diverged at epoch"):
            reg.fit(X * 100, y)
        np.testing.assert_array_equal(reg.predict(X), before)
    assert all(np.isfinite(c).all() for c in reg.coefs_)


def test_divergence_message_starts_with_sklearns():
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressorScratch(solver="sgd", learning_rate_init=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError) as info:
            reg.fit(StandardScaler().fit_transform(X), y)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(
        "Solver produced non-finite parameter weights. The input data may contain large "
        "values and need to be preprocessed. Training diverged at epoch ")


@pytest.mark.parametrize("Est", [MLPRegressorScratch, MLPClassifierScratch])
def test_divergence_with_early_stopping_stops_and_keeps_the_best_weights(Est):
    """As scikit-learn since its issue 29504: no error, the best epoch's
    weights, nan recorded for the diverged epoch; and a warning that says so."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if Est is MLPClassifierScratch:
        y = y > np.median(y)
    # the classifier's loss has bounded gradients: it takes a huge step to blow up
    params = (dict(learning_rate_init=0.1) if Est is MLPRegressorScratch
              else dict(learning_rate_init=1e6, activation="identity"))
    est = Est(solver="sgd", early_stopping=True, max_iter=50, n_iter_no_change=50,
              random_state=0, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    diverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)
                and "diverged" in str(w.message)]
    assert len(diverged) == 1
    assert f"at epoch {est.n_iter_}" in str(diverged[0].message)
    assert f"from epoch {est.best_epoch_}" in str(diverged[0].message)
    assert np.isnan(est.validation_scores_[-1]) and isinstance(est.validation_scores_[-1], float)
    assert len(est.validation_scores_) == est.n_iter_ < 50
    assert isinstance(est.best_validation_score_, float)
    assert est.best_validation_score_ == np.nanmax(est.validation_scores_)
    assert est.best_epoch_ < est.n_iter_
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    assert np.isfinite(est.predict(X).astype(float)).all()
    assert "Diverged at epoch" in est.stop_reason_


@pytest.mark.parametrize("incremental", [False, True])
def test_divergence_in_the_last_step_of_an_epoch_is_caught(incremental):
    """The epoch's loss is measured before each update, so a single-batch
    epoch whose update overflows has a finite loss: the weights are checked
    too, and the model keeps the weights from before the epoch."""
    X = np.random.RandomState(0).rand(150, 3)
    y = X[:, 0] * 1e10
    reg = MLPRegressorScratch(solver="sgd", learning_rate_init=1e30, batch_size=150,
                              max_iter=1, random_state=0, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError, match="weights became non-finite"):
            reg.partial_fit(X, y) if incremental else reg.fit(X, y)
        assert not reg.__sklearn_is_fitted__()   # left as it was: unfitted


def test_decision_function_gives_logits_consistent_with_proba(digits_split):
    from sklearn.metrics import roc_auc_score

    X_train, X_test, y_train, y_test = digits_split
    multi = MLPClassifierScratch(random_state=0, max_iter=20).fit(X_train, y_train)
    scores = multi.decision_function(X_test)
    assert scores.shape == (len(X_test), 10)
    np.testing.assert_array_equal(multi.classes_[scores.argmax(axis=1)], multi.predict(X_test))
    np.testing.assert_allclose(np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True),
                               multi.predict_proba(X_test), rtol=1e-4, atol=1e-6)
    binary = MLPClassifierScratch(random_state=0, max_iter=20).fit(X_train, y_train > 4)
    logit = binary.decision_function(X_test)
    assert logit.shape == (len(X_test),)
    np.testing.assert_array_equal(logit > 0, binary.predict(X_test))
    assert roc_auc_score(y_test > 4, logit) > 0.95
