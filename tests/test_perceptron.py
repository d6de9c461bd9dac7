"""PerceptronClassifier: logic gates, real data, equivalence with scikit-learn's
Perceptron, incremental training, weights, sparse input, errors, estimator checks."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Perceptron
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import DivergenceError, MLPClassifierScratch, PerceptronClassifier
from sknets._sgd_draws import sgd_shuffle_permutation
from sknets.backend import get_backend
from sknets.datasets import make_logic_gate
from sknets.gradcheck import check_loss_gradients
from sknets.losses import PerceptronCriterion

# ----------------------------------------------------------------- data
_BC_X, _BC_Y = load_breast_cancer(return_X_y=True)
BC_X = StandardScaler().fit_transform(_BC_X)
BC_Y = _BC_Y
_IRIS_X, IRIS_Y = load_iris(return_X_y=True)
IRIS_X = StandardScaler().fit_transform(_IRIS_X)


def _copies(kwargs):
    return {k: np.array(v, copy=True) for k, v in kwargs.items()}


def _fit_both(X, y, fit_kwargs=None, **params):
    """scikit-learn's Perceptron and ours (float64) fitted the same way."""
    fit_kwargs = fit_kwargs or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Copies: scikit-learn trains in place in the coef_init array it is given.
        theirs = Perceptron(**params).fit(X, y, **_copies(fit_kwargs))
        ours = PerceptronClassifier(**params).fit(X, y, **_copies(fit_kwargs))
    return theirs, ours


def _assert_same_model(theirs, ours):
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-10, atol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


# ------------------------------------------------------------ logic gates
@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_learns_linearly_separable_gates_exactly(gate):
    X, y = make_logic_gate(gate)
    # Defaults without shuffling (and float32 compute) learn each gate.
    clf = PerceptronClassifier(shuffle=False).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)
    # With shuffling, the default stopping rule (loss not improving by tol for
    # n_iter_no_change epochs) can stop before the last mistake is corrected,
    # in scikit-learn's Perceptron exactly as here (see the equivalence tests).
    # Without it, Novikoff's theorem applies: on linearly separable data the
    # perceptron makes finitely many mistakes, so it ends error-free.
    for random_state in range(5):
        clf = PerceptronClassifier(tol=None, max_iter=100, random_state=random_state).fit(X, y)
        np.testing.assert_array_equal(clf.predict(X), y)


@pytest.mark.parametrize("shuffle", [True, False])
def test_cannot_learn_xor(shuffle):
    # XOR is not linearly separable: a line w1 x1 + w2 x2 + b would need
    # b <= 0 (0,0 -> 0), w1 + w2 + b <= 0 (1,1 -> 0), w2 + b > 0 and
    # w1 + b > 0 (0,1 and 1,0 -> 1). Summing the last two gives
    # w1 + w2 + 2b > 0, summing the first two w1 + w2 + 2b <= 0: a
    # contradiction. So no weights a perceptron could reach classify all four.
    X, y = make_logic_gate("xor")
    for random_state in range(10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = PerceptronClassifier(shuffle=shuffle, random_state=random_state,
                                       max_iter=200).fit(X, y)
        assert clf.score(X, y) < 1.0


def test_mlp_learns_xor():
    X, y = make_logic_gate("xor")
    mlp = MLPClassifierScratch(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs",
                               random_state=0).fit(X, y)
    np.testing.assert_array_equal(mlp.predict(X), y)


# -------------------------------------------------------------- real data
def test_digits_accuracy():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=0)
    clf = PerceptronClassifier().fit(X_train, y_train)
    assert clf.coef_.shape == (10, 64)
    assert clf.intercept_.shape == (10,)
    assert clf.score(X_test, y_test) >= 0.90


def test_breast_cancer_in_pipeline_and_grid_search():
    X_train, X_test, y_train, y_test = train_test_split(
        _BC_X, BC_Y, test_size=0.25, stratify=BC_Y, random_state=0)
    pipe = make_pipeline(StandardScaler(), PerceptronClassifier())
    search = GridSearchCV(pipe, {"perceptronclassifier__penalty": [None, "l2"]}, cv=3)
    search.fit(X_train, y_train)
    assert search.score(X_test, y_test) >= 0.93


# ------------------------------------------------ equivalence with sklearn
@pytest.mark.parametrize("params", [
    {"shuffle": False},
    {"shuffle": True, "random_state": 0},
    {"shuffle": True, "random_state": 7},
    {"penalty": "l2", "alpha": 0.01},
    {"penalty": "l1", "alpha": 0.001},
    {"penalty": "elasticnet", "alpha": 0.001, "l1_ratio": 0.5},
    {"early_stopping": True, "validation_fraction": 0.2},
    {"class_weight": "balanced", "eta0": 0.3},
    {"class_weight": {0: 3.0, 1: 0.5}},
    {"fit_intercept": False},
    {"tol": None, "max_iter": 7},
    {"max_iter": 3},
], ids=str)
def test_binary_matches_sklearn(params):
    # Two classes, dense float64: the same per-sample updates in the same order
    # (scikit-learn's xorshift shuffle is reproduced), the same stopping rule.
    theirs, ours = _fit_both(BC_X, BC_Y, **params)
    _assert_same_model(theirs, ours)
    np.testing.assert_allclose(ours.decision_function(BC_X), theirs.decision_function(BC_X),
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(ours.predict(BC_X), theirs.predict(BC_X))


def test_binary_sample_weight_matches_sklearn():
    sw = np.random.RandomState(0).uniform(0.2, 3.0, BC_X.shape[0])
    theirs, ours = _fit_both(BC_X, BC_Y, fit_kwargs={"sample_weight": sw}, eta0=0.5)
    _assert_same_model(theirs, ours)


def test_binary_coef_init_matches_sklearn():
    rng = np.random.RandomState(0)
    init = {"coef_init": rng.standard_normal((1, BC_X.shape[1])), "intercept_init": [0.3]}
    theirs, ours = _fit_both(BC_X, BC_Y, fit_kwargs=init)
    _assert_same_model(theirs, ours)


@pytest.mark.parametrize("params", [
    {"shuffle": False},
    {"shuffle": False, "early_stopping": True, "validation_fraction": 0.2},
    {"shuffle": False, "penalty": "l2", "alpha": 0.001},
    {"shuffle": False, "class_weight": {0: 2.0, 1: 1.0, 2: 0.5}},
], ids=str)
def test_multiclass_without_shuffling_matches_sklearn(params):
    # One-vs-rest problems updated together, each stopping on its own;
    # n_iter_ is the maximum over the problems, as in scikit-learn.
    theirs, ours = _fit_both(IRIS_X, IRIS_Y, **params)
    _assert_same_model(theirs, ours)


DIGITS_X, DIGITS_Y = load_digits(n_class=6, return_X_y=True)
DIGITS_X, DIGITS_Y = DIGITS_X[:400] / 16.0, DIGITS_Y[:400]


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
def test_multiclass_matches_sklearn_over_its_parameter_grid(penalty):
    # Each one-vs-rest problem shuffled by its own seed, one validation split
    # for all, each stopping on its own: coef_, intercept_, n_iter_ and t_
    # equal scikit-learn's (float64) for every combination and seed.
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.3, 2.0, len(DIGITS_Y))
    grid = [dict(random_state=seed, shuffle=shuffle, early_stopping=es, class_weight=cw)
            for seed in (0, 3) for shuffle in (True, False) for es in (False, True)
            for cw in (None, "balanced")]
    for params in grid:
        for fit_kwargs in ({}, {"sample_weight": sw}):
            theirs, ours = _fit_both(DIGITS_X, DIGITS_Y, fit_kwargs, penalty=penalty,
                                     alpha=0.001, **params)
            _assert_same_model(theirs, ours)
    np.testing.assert_array_equal(ours.predict(DIGITS_X), theirs.predict(DIGITS_X))


@pytest.mark.parametrize("data", ["iris", "digits"])
def test_multiclass_warm_start_and_partial_fit_match_sklearn(data):
    X, y = (IRIS_X, IRIS_Y) if data == "iris" else (DIGITS_X, DIGITS_Y)
    params = dict(penalty="l2", alpha=0.001, max_iter=3, tol=None, random_state=5)
    theirs, ours = _fit_both(X, y, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.set_params(warm_start=True, max_iter=20, tol=1e-3).fit(X, y)
        ours.set_params(warm_start=True, max_iter=20, tol=1e-3).fit(X, y)
    _assert_same_model(theirs, ours)
    classes = np.unique(y)
    theirs, ours = Perceptron(random_state=1), PerceptronClassifier(random_state=1)
    for batch in np.array_split(np.random.RandomState(0).permutation(len(y)), 3):
        theirs.partial_fit(X[batch], y[batch], classes=classes)
        ours.partial_fit(X[batch], y[batch], classes=classes)
        _assert_same_model(theirs, ours)


def test_n_jobs_and_the_numpy_engine_give_the_same_model(monkeypatch):
    import sknets._perceptron_sgd as perceptron_sgd

    params = dict(penalty="elasticnet", alpha=0.001, early_stopping=True)
    ref = PerceptronClassifier(**params).fit(DIGITS_X, DIGITS_Y)
    threads = PerceptronClassifier(n_jobs=2, **params).fit(DIGITS_X, DIGITS_Y)
    monkeypatch.setattr(perceptron_sgd, "ENGINE", "numpy")
    numpy_engine = PerceptronClassifier(**params).fit(DIGITS_X, DIGITS_Y)
    for other in (threads, numpy_engine):
        np.testing.assert_array_equal(other.coef_, ref.coef_)
        np.testing.assert_array_equal(other.intercept_, ref.intercept_)
        assert other.n_iter_ == ref.n_iter_


def test_shuffle_permutation_is_a_permutation_applied_each_epoch():
    perm = sgd_shuffle_permutation(50, seed=12345)
    np.testing.assert_array_equal(np.sort(perm), np.arange(50))
    assert not np.array_equal(perm, np.arange(50))
    np.testing.assert_array_equal(sgd_shuffle_permutation(50, 12345), perm)
    assert not np.array_equal(sgd_shuffle_permutation(50, 54321), perm)


# ------------------------------------------ partial_fit, warm_start, weights
def test_partial_fit_continues_and_matches_sklearn():
    classes = np.unique(BC_Y)
    ours = PerceptronClassifier()
    theirs = Perceptron()
    coefs = []
    for _ in range(3):
        ours.partial_fit(BC_X, BC_Y, classes=classes)
        theirs.partial_fit(BC_X, BC_Y, classes=classes)
        coefs.append(ours.coef_.copy())
        assert ours.n_iter_ == 1
    _assert_same_model(theirs, ours)
    assert ours.t_ == 3 * BC_X.shape[0] + 1
    assert not np.allclose(coefs[0], coefs[2])  # it kept learning
    assert len(ours.history_) == 3


def test_partial_fit_epochs_equal_fit_epochs_without_shuffling():
    classes = np.unique(IRIS_Y)
    inc = PerceptronClassifier(shuffle=False)
    for _ in range(4):
        inc.partial_fit(IRIS_X, IRIS_Y, classes=classes)
    full = PerceptronClassifier(shuffle=False, tol=None, max_iter=4,
                                dtype="float64").fit(IRIS_X, IRIS_Y)
    np.testing.assert_array_equal(inc.coef_, full.coef_)
    np.testing.assert_array_equal(inc.intercept_, full.intercept_)


def test_warm_start_continues_and_matches_sklearn():
    params = dict(tol=None, max_iter=2)
    theirs, ours = _fit_both(BC_X, BC_Y, **params)
    first = ours.coef_.copy()
    theirs.set_params(warm_start=True).fit(BC_X, BC_Y)
    ours.set_params(warm_start=True).fit(BC_X, BC_Y)
    _assert_same_model(theirs, ours)
    assert not np.allclose(ours.coef_, first)
    assert len(ours.history_) == 4  # history continues over warm starts
    cold = PerceptronClassifier(**params).fit(BC_X, BC_Y)
    np.testing.assert_array_equal(cold.coef_, first)  # a cold fit starts over


def test_class_weight_moves_the_boundary():
    X = np.array([[-1.0], [-0.5], [0.2], [0.4], [0.6], [1.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    heavy_0 = PerceptronClassifier(class_weight={0: 10.0, 1: 0.1}, tol=None, max_iter=50)
    heavy_1 = PerceptronClassifier(class_weight={0: 0.1, 1: 10.0}, tol=None, max_iter=50)
    grid = np.linspace(-1, 1, 201)[:, None]
    n0 = np.sum(heavy_0.fit(X, y).predict(grid) == 0)
    n1 = np.sum(heavy_1.fit(X, y).predict(grid) == 0)
    assert n0 >= n1


def test_sample_weight_scales_updates_like_eta0():
    # Per-sample updates are multiplied by sample_weight, so a constant weight
    # c is a learning rate c (with a fixed number of epochs).
    params = dict(tol=None, max_iter=5)
    weighted = PerceptronClassifier(**params).fit(BC_X, BC_Y,
                                                  sample_weight=np.full(len(BC_Y), 2.0))
    scaled = PerceptronClassifier(eta0=2.0, **params).fit(BC_X, BC_Y)
    np.testing.assert_allclose(weighted.coef_, scaled.coef_, rtol=1e-12)


def test_zero_sample_weight_samples_make_no_update():
    # Without shuffling and without loss-based stopping, a sample of weight 0
    # only takes a place in the order: the model equals the one fitted without it.
    sw = np.ones(len(BC_Y))
    sw[::3] = 0.0
    params = dict(shuffle=False, tol=None, max_iter=3)
    weighted = PerceptronClassifier(**params).fit(BC_X, BC_Y, sample_weight=sw)
    removed = PerceptronClassifier(**params).fit(BC_X[sw > 0], BC_Y[sw > 0])
    np.testing.assert_array_equal(weighted.coef_, removed.coef_)
    np.testing.assert_array_equal(weighted.intercept_, removed.intercept_)


# ----------------------------------------------------------------- sparse
@pytest.mark.parametrize("params", [{}, {"penalty": "l1", "alpha": 0.001},
                                    {"penalty": "elasticnet", "alpha": 0.001},
                                    {"early_stopping": True, "penalty": "l2"}], ids=str)
def test_sparse_input_matches_sklearn_sparse(params):
    # CSR input is trained on its stored values, as scikit-learn does: the
    # intercept's updates damped by 0.01, the L1 step on the sample's features
    X = BC_X.copy()
    X[np.abs(X) < 0.5] = 0.0  # make it genuinely sparse
    Xs = sp.csr_matrix(X)
    theirs, ours = _fit_both(Xs, BC_Y, **params)
    _assert_same_model(theirs, ours)
    theirs, ours = _fit_both(sp.csr_matrix(IRIS_X), IRIS_Y, **params)
    _assert_same_model(theirs, ours)
    np.testing.assert_allclose(ours.decision_function(sp.csr_matrix(IRIS_X)),
                               ours.decision_function(IRIS_X), rtol=1e-10, atol=1e-10)


def test_sparse_input_gives_the_dense_result_without_intercept_and_l1():
    # scikit-learn's two sparse rules act on the intercept and the L1 step:
    # without them, sparse and dense input train the same model
    X = BC_X.copy()
    X[np.abs(X) < 0.5] = 0.0
    params = dict(fit_intercept=False, penalty="l2", alpha=0.001)
    dense = PerceptronClassifier(**params).fit(X, BC_Y)
    sparse = PerceptronClassifier(**params).fit(sp.csr_matrix(X), BC_Y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12, atol=1e-12)
    assert sparse.n_iter_ == dense.n_iter_
    with_intercept = PerceptronClassifier().fit(sp.csr_matrix(X), BC_Y)
    assert not np.allclose(with_intercept.intercept_,
                           PerceptronClassifier().fit(X, BC_Y).intercept_)


# ------------------------------------------------------ fitted attributes
def test_fitted_attributes_and_shapes():
    clf = PerceptronClassifier().fit(BC_X, BC_Y)
    assert clf.coef_.shape == (1, BC_X.shape[1])
    assert clf.coef_.dtype == np.float64  # the compute dtype follows the float64 input
    assert clf.intercept_.shape == (1,)
    assert clf.n_features_in_ == BC_X.shape[1]
    assert clf.decision_function(BC_X).shape == (len(BC_Y),)
    np.testing.assert_array_equal(
        clf.predict(BC_X), clf.classes_[(clf.decision_function(BC_X) > 0).astype(int)])
    assert len(clf.history_) == clf.n_iter_
    assert {"epoch", "train_loss", "learning_rate", "dur"} <= set(clf.history_[0])

    multi = PerceptronClassifier().fit(IRIS_X, IRIS_Y)
    scores = multi.decision_function(IRIS_X)
    assert scores.shape == (len(IRIS_Y), 3)
    np.testing.assert_array_equal(multi.predict(IRIS_X), multi.classes_[scores.argmax(axis=1)])
    assert "Dense(3)" in multi.summary(print_fn=None)


def test_string_labels_and_feature_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(IRIS_X, columns=["a", "b", "c", "d"])
    labels = np.array(["setosa", "versicolor", "virginica"])[IRIS_Y]
    clf = PerceptronClassifier().fit(X, labels)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert set(clf.predict(X)) <= set(labels)
    assert clf.score(X, labels) > 0.8


def test_verbose_prints_one_line_per_epoch(capsys):
    clf = PerceptronClassifier(verbose=1, early_stopping=True, max_iter=4, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(BC_X, BC_Y)
    out = capsys.readouterr().out
    assert "valid_score" in out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == clf.n_iter_ == 4


def test_convergence_warning_at_max_iter():
    X, y = make_logic_gate("xor")
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        PerceptronClassifier(max_iter=3, tol=0.0, n_iter_no_change=10).fit(X, y)


def test_divergence_raises_and_keeps_finite_weights():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((20, 3)) * 1e10
    y = np.arange(20) % 2
    clf = PerceptronClassifier(eta0=1e30, dtype="float32")   # overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow itself
        with pytest.raises(DivergenceError, match="overflow"):
            clf.fit(X, y)
        assert not clf.__sklearn_is_fitted__()   # a failed fit leaves it as it was
        clf.set_params(eta0=1.0, max_iter=3).fit(X / 1e10, y)
        before = clf.decision_function(X)
        with pytest.raises(DivergenceError, match="overflow"):
            clf.set_params(eta0=1e30).fit(X, y)
        np.testing.assert_array_equal(clf.decision_function(X), before)
        assert np.isfinite(clf.coef_).all()


def test_callbacks_see_epochs_and_can_stop():
    sk_callback = pytest.importorskip("sklearn.callback")

    class StopAtEpoch3:
        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, **kwargs):
            pass

        def on_fit_task_end(self, estimator, context, **kwargs):
            self.epochs = getattr(self, "epochs", 0) + (context.task_name == "epoch")
            return context.task_name == "epoch" and self.epochs == 3

    clf = PerceptronClassifier(tol=None, max_iter=50).set_callbacks(StopAtEpoch3())
    clf.fit(IRIS_X, IRIS_Y)
    assert clf.n_iter_ == 3 and len(clf.history_) == 3
    assert clf.stop_reason_ == "a callback asked to stop."

    monitor = sk_callback.ScoringMonitor(scoring="accuracy")
    clf = PerceptronClassifier(tol=None, max_iter=4).set_callbacks(monitor).fit(IRIS_X, IRIS_Y)
    rows = monitor.get_logs().data
    assert len([r for r in rows if r["task_name"] == "epoch"]) == 4
    final = [r for r in rows if r["task_name"] == "fit"]
    assert final[0]["accuracy"] == pytest.approx(clf.score(IRIS_X, IRIS_Y))
    assert clf.stop_reason_ == "max_iter=4 epoch(s) reached."


# ------------------------------------------------------ pickle and clone
def test_pickle_and_clone():
    clf = PerceptronClassifier(penalty="l2").fit(IRIS_X, IRIS_Y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict(IRIS_X), clf.predict(IRIS_X))
    np.testing.assert_array_equal(loaded.decision_function(IRIS_X),
                                  clf.decision_function(IRIS_X))
    loaded.partial_fit(IRIS_X, IRIS_Y)  # a loaded model keeps training
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "coef_")
    np.testing.assert_array_equal(fresh.fit(IRIS_X, IRIS_Y).coef_, clf.coef_)  # same seed


# ------------------------------------------------------------ bad input
def test_bad_input_errors():
    X, y = IRIS_X.copy(), IRIS_Y
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PerceptronClassifier().fit(X_nan, y)
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        PerceptronClassifier().fit(X_inf, y)
    with pytest.raises(NotFittedError):
        PerceptronClassifier().predict(X)
    clf = PerceptronClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)
    before = clf.predict(X)
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)  # a rejected fit leaves the fitted model usable
    np.testing.assert_array_equal(clf.predict(X), before)
    with pytest.raises(ValueError, match="one class"):
        PerceptronClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        PerceptronClassifier().fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="coef_init"):
        PerceptronClassifier().fit(X, y, coef_init=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="intercept_init"):
        PerceptronClassifier().fit(X, y, intercept_init=np.zeros(2))


@pytest.mark.parametrize("params, name", [
    ({"penalty": "l3"}, "penalty"),
    ({"alpha": -1.0}, "alpha"),
    ({"l1_ratio": 1.5}, "l1_ratio"),
    ({"eta0": 0.0}, "eta0"),
    ({"max_iter": 0}, "max_iter"),
    ({"tol": -1.0}, "tol"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ({"class_weight": "auto"}, "class_weight"),
    ({"dtype": "float16"}, "dtype"),
    ({"backend": "torch"}, "backend"),
])
def test_invalid_hyper_parameters(params, name):
    with pytest.raises(ValueError, match=name):
        PerceptronClassifier(**params).fit(IRIS_X, IRIS_Y)


def test_partial_fit_errors():
    with pytest.raises(ValueError, match="classes must be passed"):
        PerceptronClassifier().partial_fit(IRIS_X, IRIS_Y)
    with pytest.raises(ValueError, match="early_stopping"):
        PerceptronClassifier(early_stopping=True).partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="balanced"):
        PerceptronClassifier(class_weight="balanced").partial_fit(IRIS_X, IRIS_Y,
                                                                  classes=[0, 1, 2])
    clf = PerceptronClassifier().partial_fit(IRIS_X[IRIS_Y < 2], IRIS_Y[IRIS_Y < 2],
                                             classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(IRIS_X, IRIS_Y)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(IRIS_X[:, :2], IRIS_Y[:, None][:, 0] % 2)


# ---------------------------------------------------------------- the loss
def test_perceptron_criterion_gradient_and_output():
    rng = np.random.RandomState(0)
    z = rng.standard_normal((8, 3))
    y = np.where(rng.uniform(size=(8, 3)) > 0.5, 1.0, -1.0)
    loss = PerceptronCriterion()
    check_loss_gradients(loss, z.copy(), y)
    check_loss_gradients(loss, z.copy(), y, rng.uniform(0.1, 2.0, 8))
    xp = get_backend("numpy").xp
    np.testing.assert_array_equal(loss.output(xp, z), (z > 0).astype(float))
    np.testing.assert_array_equal(loss.per_output(xp, z, y), np.maximum(-y * z, 0.0))
    # A logit of exactly 0 is a mistake (so training can start from zeros).
    np.testing.assert_array_equal(
        loss.gradient(xp, np.zeros((1, 2)), np.array([[1.0, -1.0]])), [[-1.0, 1.0]])




def test_ctrl_c_stops_after_the_current_chunk(monkeypatch):
    """A Ctrl-C during fit stops after the current chunk of samples, commits a
    usable model, warns and raises KeyboardInterrupt again; best_epoch_ and
    stop_reason_ say where."""
    import os
    import signal

    import sknets.training.perceptron as perceptron_module
    from sknets.callbacks import FitTasks

    monkeypatch.setattr(perceptron_module, "CHUNK_ROWS", 100)
    calls = {"n": 0}
    original = FitTasks.batch_end

    def batch_end(self, ctx):
        calls["n"] += 1
        original(self, ctx)
        if calls["n"] == 40:           # in the third epoch (18 chunks of 100 rows each)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(FitTasks, "batch_end", batch_end)
    X, y = load_digits(return_X_y=True)
    clf = PerceptronClassifier(max_iter=50, tol=None, random_state=0)
    with pytest.warns(UserWarning, match="interrupted by the user"), \
            pytest.raises(KeyboardInterrupt):
        clf.fit(X / 16, y)
    assert calls["n"] == 40
    assert len(clf.history_) == clf.n_iter_ == 2
    assert "KeyboardInterrupt" in clf.stop_reason_
    assert clf.best_epoch_ in (1, 2)
    assert clf.score(X / 16, y) > 0.8
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
