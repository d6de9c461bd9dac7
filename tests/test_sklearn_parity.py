"""What scikit-learn's own tests assert about its MLPs and Perceptron, checked on ours.

Each test restates, in our own code, a public-API behaviour asserted by
``sklearn/neural_network/tests/test_mlp.py`` or
``sklearn/linear_model/tests/test_perceptron.py`` (named in its docstring) and,
where it can, runs scikit-learn's estimator side by side on the same data with
the same parameters, so that the expectation is scikit-learn's result, not a
number written here (float64 data, where our weights equal scikit-learn's).
Where ours differs on purpose (documented in its docstring), the test asserts
our behaviour and says why.

Not mirrored: ``test_fit`` and ``test_gradient`` (they set or call private
attributes; the weight equivalence in ``tests/test_mlp.py`` and the gradient
checks in ``tests/test_layers.py`` / ``tests/test_losses.py`` cover them) and
``test_sparse_matrices`` (in ``tests/test_mlp.py``).
Left to ``tests/test_perceptron.py``: the perceptron's weights equal to scikit-learn's
(penalties, class_weight, early stopping, sample_weight, partial_fit, warm_start).
"""

import re
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import (
    load_digits,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron, PoissonRegressor
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler, scale
from threadpoolctl import threadpool_limits

from sknets import MLPClassifierScratch, MLPRegressorScratch, PerceptronClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The problems here are tiny: on a busy machine, BLAS threads cost far
    more than they save (ten times slower measured on 2 shared cores)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# ----------------------------------------------------------------- data
_X3, _y3 = load_digits(n_class=3, return_X_y=True)
MULTI = MinMaxScaler().fit_transform(_X3[:200]), _y3[:200]
_X2, _y2 = load_digits(n_class=2, return_X_y=True)
BINARY = MinMaxScaler().fit_transform(_X2[:200]), _y2[:200]
_Xr, _yr = make_regression(n_samples=200, n_features=10, bias=20.0, noise=100.0,
                           random_state=7)
REGRESSION = _Xr, scale(_yr)
IRIS = load_iris(return_X_y=True)
TWO_POINTS = np.array([[3.0, 2.0], [1.0, 6.0]]), np.array([1, 0])
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

#: our estimator and scikit-learn's counterpart
PAIRS = {
    "classifier": (MLPClassifierScratch, MLPClassifier),
    "regressor": (MLPRegressorScratch, MLPRegressor),
    "perceptron": (PerceptronClassifier, Perceptron),
}
MLPS = ["classifier", "regressor"]
CLASSIFIERS = ["classifier", "perceptron"]


def _data(name):
    return REGRESSION if name == "regressor" else MULTI


def _pair(name, **params):
    ours, theirs = PAIRS[name]
    return ours(**params), theirs(**params)


def _fit_pair(name, X, y, **params):
    """Ours and scikit-learn's estimator, both fitted on ``X, y`` with ``params``."""
    ours, theirs = _pair(name, **params)
    return ours.fit(X, y), theirs.fit(X, y)


def _weights(est):
    if hasattr(est, "coefs_"):
        return est.coefs_ + est.intercepts_
    return [est.coef_, est.intercept_]


def _assert_same_weights(a, b, rtol=1e-10):
    for wa, wb in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=1e-12)


def _table_rows(text):
    """Rows of our per-epoch table: the lines that start with an epoch number."""
    return [line for line in text.splitlines() if line.strip()[:1].isdigit()]


# ------------------------------------------------- dtype of fitted params
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", list(PAIRS))
def test_fitted_params_and_outputs_follow_the_input_dtype(name, dtype):
    """test_mlp_param_dtypes: float32 stays float32, float64 stays float64,
    integers become float64 -- in the weights and in what predictions return."""
    X, y = _data(name)
    X = X.astype(dtype) if dtype != np.int64 else np.rint(X * 4).astype(dtype)
    params = (dict(max_iter=5) if name == "perceptron"
              else dict(hidden_layer_sizes=(5, 3), random_state=1, max_iter=5))
    ours, theirs = _fit_pair(name, X, y, **params)
    assert [w.dtype for w in _weights(ours)] == [w.dtype for w in _weights(theirs)]
    assert _weights(ours)[0].dtype == (np.float64 if dtype == np.int64 else dtype)
    output = {"classifier": "predict_proba", "regressor": "predict",
              "perceptron": "decision_function"}[name]
    assert getattr(ours, output)(X).dtype == getattr(theirs, output)(X).dtype
    assert ours.predict(X).dtype == theirs.predict(X).dtype


@pytest.mark.parametrize("name", MLPS)
def test_float32_fit_predicts_like_float64(name):
    """test_mlp_{classifier,regressor}_dtypes_casting."""
    X, y = _X2[:300], _y2[:300]
    X_test = _X2[300:]
    params = dict(alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1)
    params.update(dict(max_iter=100, tol=1e-1) if name == "classifier"
                  else dict(max_iter=150, tol=1e-3))
    model = {dt: PAIRS[name][0](**params).fit(X.astype(dt), y)
             for dt in (np.float32, np.float64)}
    pred = {dt: m.predict(X_test.astype(dt)) for dt, m in model.items()}
    if name == "classifier":
        np.testing.assert_array_equal(pred[np.float32], pred[np.float64])
        np.testing.assert_allclose(model[np.float32].predict_proba(X_test.astype(np.float32)),
                                   model[np.float64].predict_proba(X_test), rtol=1e-2)
    else:
        np.testing.assert_allclose(pred[np.float32], pred[np.float64], rtol=5e-4)


# ----------------------------------------------------- verbose/partial_fit
@pytest.mark.parametrize("name", list(PAIRS))
def test_verbose_prints_during_fit_and_partial_fit(name, capsys):
    """test_verbose_sgd. scikit-learn prints an "Iteration" line per epoch;
    ours prints a table row per epoch (README: the per-epoch table)."""
    X, y = TWO_POINTS
    y = y.astype(float) if name == "regressor" else y
    extra = {} if name == "perceptron" else dict(solver="sgd", hidden_layer_sizes=2)
    partial = {"classes": [0, 1]} if name == "perceptron" else {}
    printed = []
    for est in _pair(name, max_iter=2, verbose=10, **extra):
        est.fit(X, y)
        fit_out = capsys.readouterr().out
        est.partial_fit(X, y, **partial)
        printed.append((fit_out, capsys.readouterr().out))
        assert all(printed[-1])
    (ours_fit, ours_partial), _ = printed
    assert len(_table_rows(ours_fit)) == 2
    assert len(_table_rows(ours_partial)) == 1


# -------------------------------------------------------- feature names
@pytest.mark.parametrize("name", list(PAIRS))
def test_feature_names_are_kept_and_checked(name):
    """feature_names_in_ from a DataFrame, and scikit-learn's warnings and
    errors when predicting on data with other (or no) names."""
    pd = pytest.importorskip("pandas")
    X, y = _data(name)
    X = X[:, :4]
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    for est in _pair(name, max_iter=3):
        est.fit(df, y)
        np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            est.predict(X)
        with pytest.raises(ValueError, match="feature names should match"):
            est.predict(df[["b", "a", "c", "d"]])
        est.fit(X, y)
        assert not hasattr(est, "feature_names_in_")
        with pytest.warns(UserWarning, match="X has feature names"):
            est.predict(df)


@pytest.mark.parametrize("name", list(PAIRS))
def test_early_stopping_with_a_dataframe_gives_no_feature_name_warning(name):
    """test_preserve_feature_names: the validation split keeps the names."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(20, 2), columns=["colname_a", "colname_b"])
    # scikit-learn's test uses one class; the perceptron (like scikit-learn's)
    # needs two.
    values = np.arange(20) % 2 if name == "perceptron" else np.full(20, 1)
    y = pd.Series(values, name="colname_y")
    for est in _pair(name, early_stopping=True, validation_fraction=0.2):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            est.fit(X, y)
            est.predict(X)


# ------------------------------------------------------ joblib round trip
def test_loaded_regressor_learns_a_new_target_with_partial_fit(tmp_path):
    """test_mlp_loading_from_joblib_partial_fit."""
    for i, est in enumerate(_pair("regressor", hidden_layer_sizes=(42,), random_state=42,
                                  learning_rate_init=0.01, max_iter=200)):
        est.fit([[2.0]], [4.0])
        path = tmp_path / f"model{i}.joblib"
        joblib.dump(est, path)
        loaded = joblib.load(path)
        for _ in range(200):
            loaded.partial_fit([[2.0]], [1.0])
        np.testing.assert_allclose(loaded.predict([[2.0]]), [1.0], rtol=1e-4)


@pytest.mark.parametrize("name", list(PAIRS))
def test_loaded_model_continues_exactly_like_the_original(name, tmp_path):
    X, y = _data(name)
    est = PAIRS[name][0](max_iter=1, random_state=0).fit(X, y)
    before = [w.copy() for w in _weights(est)]
    joblib.dump(est, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)
    _assert_same_weights(loaded, est, rtol=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, _weights(loaded)))


# ------------------------------------------------------------ warm start
@pytest.mark.parametrize("name, solver", [
    ("classifier", "sgd"), ("classifier", "adam"), ("classifier", "lbfgs"),
    ("regressor", "sgd"), ("regressor", "adam"), ("regressor", "lbfgs"),
    ("perceptron", None),
])
def test_warm_start_runs_max_iter_in_every_fit(name, solver):
    """test_warm_start_full_iteration, test_mlp_warm_start_no_convergence:
    n_iter_ counts the epochs of the last fit only, up to its max_iter; t_
    and loss_curve_ go on over the fits, as scikit-learn's."""
    X, y = IRIS
    params = (dict(tol=0.0, n_iter_no_change=100) if name == "perceptron"
              else dict(solver=solver, n_iter_no_change=np.inf, random_state=0))
    progress = []
    for est in _pair(name, warm_start=True, max_iter=10, **params):
        with pytest.warns(ConvergenceWarning):
            est.fit(X, y)
        assert est.n_iter_ == 10
        est.set_params(max_iter=20)
        with pytest.warns(ConvergenceWarning):
            est.fit(X, y)
        assert est.n_iter_ == 20
        # scikit-learn's lbfgs keeps no loss_curve_ (ours: one per fit's iterations)
        progress.append((est.t_, len(est.loss_curve_) if solver in ("sgd", "adam") else None))
    assert progress[0] == progress[1]


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_warm_start_continues_the_learning_rate_schedule(learning_rate):
    """test_learning_rate_warmstart: the schedule follows the samples seen over
    warm-started fits (t_), so a partial_fit after two warm fits of the 4
    samples steps with learning_rate_init / 9 ** power_t under "invscaling"."""
    X = [[3, 2], [1, 6], [5, 6], [-2, -4]]
    y = [1, 1, 1, 0]
    models = _pair("classifier", solver="sgd", hidden_layer_sizes=4, learning_rate=learning_rate,
                   max_iter=1, power_t=0.25, warm_start=True, random_state=0)
    for est in models:
        est.fit(X, y).fit(X, y)
        assert est.t_ == 8
        est.partial_fit(X, y)
    ours, theirs = models
    _assert_same_weights(ours, theirs)
    expected = 0.001 / 9 ** 0.25 if learning_rate == "invscaling" else 0.001
    assert ours.history_[-1]["learning_rate"] == pytest.approx(expected, rel=1e-12)


def test_warm_start_refuses_other_classes():
    """test_warm_start: the same classes (in any proportions) may be refitted;
    others raise scikit-learn's message."""
    X, y = IRIS
    params = dict(hidden_layer_sizes=2, solver="lbfgs", warm_start=True, random_state=42,
                  tol=1e-2)
    ours = MLPClassifierScratch(**params).fit(X, y)
    ours.fit(X, y)
    ours.fit(X, np.array([0] * 40 + [1] * 40 + [2] * 70))
    for y_other in (np.array([0] * 75 + [1] * 75), np.array([0] * 50 + [1] * 50 + [3] * 50),
                    np.arange(150) % 4, np.arange(150) % 5):
        messages = []
        for est in _pair("classifier", **params):
            est.fit(X, y)
            with pytest.raises(ValueError) as info:
                est.fit(X, y_other)
            messages.append(str(info.value))
        assert messages[0] == messages[1]
        assert messages[0].startswith("warm_start can only be used where `y` has the same")


@pytest.mark.parametrize("name", MLPS)
def test_warm_start_with_early_stopping_keeps_recording(name):
    """test_mlp_warm_start_with_early_stopping: validation_scores_ grows over
    warm-started fits (here, equal to scikit-learn's)."""
    X, y = IRIS
    models = _pair(name, max_iter=10, random_state=0, warm_start=True, early_stopping=True)
    for est in models:
        est.fit(X, y)
        first = len(est.validation_scores_)
        est.set_params(max_iter=20).fit(X, y)
        assert len(est.validation_scores_) > first
    np.testing.assert_allclose(models[0].validation_scores_, models[1].validation_scores_)


# ----------------------------------------------------- n_iter_no_change
@pytest.mark.parametrize("n_iter_no_change", [2, 5, 10])
@pytest.mark.parametrize("name", list(PAIRS))
def test_n_iter_no_change_stops_where_sklearn_stops(name, n_iter_no_change):
    """test_n_iter_no_change (and test_tolerance): training stops on its own,
    after the same number of epochs as scikit-learn's."""
    X, y = (REGRESSION[0][:100], REGRESSION[1][:100]) if name == "regressor" else (
        BINARY[0][:100], BINARY[1][:100])
    params = dict(tol=0.01, max_iter=500, n_iter_no_change=n_iter_no_change)
    if name != "perceptron":
        params.update(solver="sgd", random_state=0, hidden_layer_sizes=(20,))
    ours, theirs = _fit_pair(name, X, y, **params)
    assert ours.n_iter_ == theirs.n_iter_ < params["max_iter"]
    assert "did not improve" in ours.stop_reason_
    assert f"for {n_iter_no_change} consecutive epochs" in ours.stop_reason_


@pytest.mark.parametrize("name", MLPS)
def test_n_iter_no_change_inf_never_stops(name):
    """test_n_iter_no_change_inf: with np.inf, even a tol no epoch can meet
    runs all max_iter epochs."""
    X, y = BINARY if name == "classifier" else REGRESSION
    for est in _pair(name, tol=1e9, max_iter=15, solver="sgd", n_iter_no_change=np.inf,
                     hidden_layer_sizes=(10,), random_state=0):
        with pytest.warns(ConvergenceWarning):
            est.fit(X[:100], y[:100])
        assert est.n_iter_ == 15


@pytest.mark.parametrize("learning_rate", ["constant", "adaptive"])
def test_tol_stops_training_before_max_iter(learning_rate):
    """test_tolerance, test_adaptive_learning_rate: a large tol stops training
    early, as scikit-learn's; "adaptive" first divides the rate by 5 at every
    stall, and stops once it is at most 1e-6."""
    X, y = TWO_POINTS
    ours, theirs = _fit_pair("classifier", X, y, tol=0.5, max_iter=3000, solver="sgd",
                             learning_rate=learning_rate, random_state=0)
    assert ours.n_iter_ == theirs.n_iter_ < 3000
    rates = [h["learning_rate"] for h in ours.history_]
    steps = {round(a / b, 9) for a, b in zip(rates, rates[1:])}
    if learning_rate == "adaptive":
        assert steps == {1.0, 5.0} and rates[-1] <= 1e-6
    else:
        assert steps == {1.0}


# -------------------------------------------------------- early stopping
@pytest.mark.parametrize("name", MLPS)
def test_early_stopping_attributes(name):
    """test_early_stopping: validation_scores_ and best_validation_score_ with
    it (best_loss_ None), the reverse without it; same scores as scikit-learn."""
    X, y = BINARY[0][:100], BINARY[1][:100]
    tol = 0.2
    ours, theirs = _fit_pair(name, X, y, tol=tol, max_iter=3000, solver="sgd",
                             early_stopping=True, random_state=0)
    assert ours.n_iter_ == theirs.n_iter_ < 3000
    assert ours.best_loss_ is None
    assert isinstance(ours.validation_scores_, list)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert ours.best_validation_score_ == max(ours.validation_scores_)
    assert ours.best_validation_score_ + tol > max(ours.validation_scores_[-2:])

    ours, theirs = _fit_pair(name, X, y, tol=tol, max_iter=3000, solver="sgd",
                             early_stopping=False, random_state=0)
    assert ours.validation_scores_ is None and ours.best_validation_score_ is None
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_early_stopping_split_is_stratified(name):
    """test_early_stopping_stratified: a class of one sample cannot be split.
    The MLP gives scikit-learn's message word for word (both stratify on the
    binary target as a bool); the perceptron's names the class as given, where
    scikit-learn's names its internal encoding (1.0)."""
    X, y = [[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1]
    too_few = "The least populated classes in y have only 1 member"
    messages = []
    for est in _pair(name, early_stopping=True):
        with pytest.raises(ValueError, match=too_few) as info:
            est.fit(X, y)
        messages.append(str(info.value))
    if name == "classifier":
        assert messages[0] == messages[1]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_early_stopping_with_string_labels(name):
    """test_mlp_early_stopping_string_labels."""
    X, y = make_classification(n_samples=200, n_features=10, n_classes=3, n_informative=5,
                               random_state=42)
    y = np.array(["class_a", "class_b", "class_c"], dtype=object)[y]
    ours, theirs = _fit_pair(name, X, y, early_stopping=True, max_iter=50, random_state=42)
    assert set(ours.predict(X)) <= set(y)
    scores = [h["valid_score"] for h in ours.history_]
    assert len(scores) == ours.n_iter_ and np.isfinite(scores).all()
    if name == "classifier":
        assert ours.validation_scores_ == scores
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)


def test_early_stopping_with_multilabel_targets():
    """test_multilabel_classification (last part): the split is not stratified
    for multilabel targets, so early stopping works."""
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)
    ours, theirs = _fit_pair("classifier", X, Y, early_stopping=True, random_state=0)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("name", MLPS)
def test_unit_sample_weight_with_early_stopping_equals_none(name):
    """test_mlp_sample_weight_with_early_stopping: the weights are split with
    the samples."""
    X, y = make_regression(n_samples=100, n_features=2, n_informative=2, random_state=42)
    y = y > 0 if name == "classifier" else y
    params = dict(hidden_layer_sizes=10, early_stopping=True, tol=1e-2, learning_rate_init=0.01,
                  batch_size=10, random_state=42)
    weighted = PAIRS[name][0](**params).fit(X, y, sample_weight=np.ones(len(y)))
    plain = PAIRS[name][0](**params).fit(X, y)
    np.testing.assert_allclose(weighted.predict(X), plain.predict(X))
    np.testing.assert_allclose(weighted.validation_scores_, plain.validation_scores_)


def test_too_small_validation_set_is_refused():
    """test_minimum_input_sample_size: scikit-learn's message."""
    X, y = make_regression(n_samples=2, n_features=5, random_state=0)
    for est in _pair("regressor", early_stopping=True, random_state=0):
        with pytest.raises(ValueError, match="The validation set is too small"):
            est.fit(X, y)


@pytest.mark.parametrize("name", MLPS)
def test_partial_fit_after_fit_with_early_stopping_is_refused(name):
    """test_mlp_partial_fit_after_fit."""
    X, y = IRIS
    for est in _pair(name, early_stopping=True, random_state=0, max_iter=5):
        est.fit(X, y)
        with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
            est.partial_fit(X, y)


def test_diverging_loss_under_early_stopping_records_nan():
    """test_mlp_diverging_loss: no error, the diverged epoch's validation score
    is a float nan, and the best score stays a float.

    Deliberate difference: scikit-learn trains on after the divergence (nan
    epochs) until max_iter or n_iter_no_change; ours stops at the diverged
    epoch with a ConvergenceWarning (see ``early_stopping`` in its docstring).
    Both keep the best epoch's weights, so both hold the same best score.
    """
    X, y = IRIS
    params = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                  learning_rate_init=1, max_iter=20, early_stopping=True, n_iter_no_change=10,
                  random_state=0)
    ours, theirs = _pair("regressor", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # overflow in the products
        theirs.fit(X, y)
        with pytest.warns(ConvergenceWarning, match="diverged"):
            ours.fit(X, y)
    for est in (ours, theirs):
        assert isinstance(est.validation_scores_[-1], float)
        assert np.isnan(est.validation_scores_[-1])
        assert isinstance(est.best_validation_score_, float)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_,
                                                        rel=1e-10)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_non_finite_weights_raise_sklearns_message(solver):
    """test_nonfinite_params: input near the float64 maximum."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    message = re.escape("Solver produced non-finite parameter weights. The input data may "
                        "contain large values and need to be preprocessed.")
    for est in _pair("regressor", solver=solver):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(ValueError, match=message):
                est.fit(X, y)


# ------------------------------------------------------------------ lbfgs
@pytest.mark.parametrize("dataset", ["multiclass", "binary", "regression"])
def test_lbfgs_fits_the_training_data(dataset):
    """test_lbfgs_classification, test_lbfgs_regression: for every activation,
    a training score above scikit-learn's bar, and labels of y's kind."""
    X, y = {"multiclass": MULTI, "binary": BINARY, "regression": REGRESSION}[dataset]
    name = "regressor" if dataset == "regression" else "classifier"
    for activation in ACTIVATIONS:
        params = dict(solver="lbfgs", hidden_layer_sizes=50, random_state=1,
                      activation=activation)
        if name == "regressor":
            ours, theirs = _fit_pair(name, X, y, max_iter=200, tol=1e-3, **params)
            bar = 0.80 if activation == "identity" else 0.98
            assert ours.score(X, y) > bar and theirs.score(X, y) > bar
        else:
            ours, theirs = _fit_pair(name, X[:150], y[:150], max_iter=150, **params)
            assert ours.score(X[:150], y[:150]) > 0.95
            pred = ours.predict(X[150:])
            assert pred.shape == (len(X) - 150,)
            assert pred.dtype.kind == y.dtype.kind
            np.testing.assert_array_equal(pred, theirs.predict(X[150:]))


@pytest.mark.parametrize("dataset", ["multiclass", "binary", "regression"])
def test_lbfgs_max_fun_limits_the_iterations(dataset):
    """test_lbfgs_{classification,regression}_maxfun: max_fun caps the loss
    evaluations (so the iterations) before max_iter, with a ConvergenceWarning."""
    X, y = {"multiclass": MULTI, "binary": BINARY, "regression": REGRESSION}[dataset]
    name = "regressor" if dataset == "regression" else "classifier"
    for activation in ACTIVATIONS:
        iterations = []
        for est in _pair(name, solver="lbfgs", hidden_layer_sizes=50, max_iter=150, max_fun=10,
                         tol=0.0, random_state=1, activation=activation):
            with pytest.warns(ConvergenceWarning):
                est.fit(X, y)
            iterations.append(est.n_iter_)
        assert iterations[0] == iterations[1] <= 10


# ---------------------------------------------- multilabel / multioutput
def test_multilabel_classification_with_lbfgs_and_partial_fit():
    """test_multilabel_classification: lbfgs fits, and so do repeated
    partial_fit calls with sgd."""
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)
    common = dict(hidden_layer_sizes=50, alpha=1e-5, max_iter=150, random_state=0,
                  activation="logistic", learning_rate_init=0.2)
    ours, theirs = _fit_pair("classifier", X, Y, solver="lbfgs", **common)
    assert ours.score(X, Y) > 0.97
    assert ours.score(X, Y) == pytest.approx(theirs.score(X, Y))
    ours, theirs = _pair("classifier", solver="sgd", **common)
    for _ in range(100):
        for est in (ours, theirs):
            est.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    assert ours.score(X, Y) > 0.9
    _assert_same_weights(ours, theirs, rtol=1e-8)


def test_multioutput_regression():
    """test_multioutput_regression."""
    X, y = make_regression(n_samples=200, n_targets=5, random_state=11)
    ours, theirs = _fit_pair("regressor", X, y, solver="lbfgs", hidden_layer_sizes=50,
                             max_iter=200, tol=1e-2, random_state=1)
    assert ours.predict(X).shape == y.shape
    assert ours.score(X, y) > 0.9 and theirs.score(X, y) > 0.9


# -------------------------------------------------------- predict_proba
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_predict_proba_shapes_and_sums(kind):
    """test_predict_proba_{binary,multiclass,multilabel}: one column per class
    (two for binary), rows summing to 1 except for multilabel (independent
    sigmoids); the log-probabilities are checked in tests/test_proba.py."""
    if kind == "binary":
        X, y = BINARY[0][:50], BINARY[1][:50]
        params = dict(hidden_layer_sizes=5, activation="logistic", random_state=1)
    elif kind == "multiclass":
        X, y = MULTI[0][:10], MULTI[1][:10]
        params = dict(hidden_layer_sizes=5, random_state=0)
    else:
        X, y = make_multilabel_classification(n_samples=50, random_state=0)
        params = dict(solver="lbfgs", hidden_layer_sizes=30, random_state=0)
    ours, theirs = _fit_pair("classifier", X, y, **params)
    proba = ours.predict_proba(X)
    n_columns = y.shape[1] if kind == "multilabel" else len(np.unique(y))
    assert proba.shape == (len(X), n_columns)
    np.testing.assert_allclose(proba, theirs.predict_proba(X), rtol=1e-6, atol=1e-9)
    if kind == "multilabel":
        np.testing.assert_array_equal(proba > 0.5, y)
        assert np.abs(proba.sum(axis=1) - 1).max() > 1e-5
    else:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    if kind == "binary":
        assert roc_auc_score(y, proba[:, 1]) == 1.0


# ------------------------------------------------------------ partial_fit
@pytest.mark.parametrize("case", ["multiclass", "binary", "regression-momentum-0",
                                  "regression-momentum-0.9"])
def test_partial_fit_epochs_equal_fit_epochs(case):
    """test_partial_fit_classification, test_partial_fit_regression: with sgd,
    k partial_fit calls train as fit with max_iter=k (and tol=0), to
    scikit-learn's scores (its 100 epochs for regression; 30 reach its bar for
    classification)."""
    if case.startswith("regression"):
        name, (X, y) = "regressor", REGRESSION
        params = dict(solver="sgd", random_state=1, learning_rate_init=0.01,
                      batch_size=X.shape[0], momentum=float(case.rsplit("-", 1)[1]))
        epochs, bar = 100, 0.65
    else:
        name, (X, y) = "classifier", (MULTI if case == "multiclass" else BINARY)
        params = dict(solver="sgd", random_state=1, alpha=1e-5, learning_rate_init=0.2)
        epochs, bar = 30, 0.95
    full = PAIRS[name][0](max_iter=epochs, tol=0, **params).fit(X, y)
    ours, theirs = _pair(name, **params)
    for _ in range(epochs):
        for est in (ours, theirs):
            est.partial_fit(X, y, **({} if name == "regressor" else {"classes": np.unique(y)}))
    _assert_same_weights(ours, full, rtol=1e-12)
    _assert_same_weights(ours, theirs, rtol=1e-8)
    assert ours.score(X, y) > bar


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_partial_fit_class_errors(name):
    """test_partial_fit_classes_error, test_partial_fit_errors,
    test_partial_fit_unseen_classes."""
    for est in _pair(name):
        est.partial_fit([[3, 2]], [0], classes=[0, 1])
        with pytest.raises(ValueError, match="is not the same as on last call to partial_fit"):
            est.partial_fit([[3, 2]], [0], classes=[1, 2])
    for est in _pair(name):
        with pytest.raises(ValueError):
            est.partial_fit([[3, 2], [1, 6]], [1, 0], classes=[2])
    # classes announced on the first call but seen later are learnt
    for est in _pair(name, random_state=0):
        est.partial_fit([[1], [2], [3]], ["a", "b", "c"], classes=["a", "b", "c", "d"])
        est.partial_fit([[4]], ["d"])
        assert list(est.classes_) == ["a", "b", "c", "d"]
        assert est.score([[1], [2], [3], [4]], ["a", "b", "c", "d"]) > 0


# --------------------------------------------------------- other behaviours
def test_shuffle_changes_training():
    """test_shuffle: the same seed gives the same model, shuffle or not; with
    one-sample batches, shuffling changes it. Equal to scikit-learn's each time."""
    X, y = make_regression(n_samples=50, n_features=5, random_state=0)
    params = dict(hidden_layer_sizes=1, max_iter=1, batch_size=1, random_state=0)
    fitted = {}
    for shuffle in (True, False):
        ours, theirs = _fit_pair("regressor", X, y, shuffle=shuffle, **params)
        again = MLPRegressorScratch(shuffle=shuffle, **params).fit(X, y)
        _assert_same_weights(ours, again, rtol=0)
        _assert_same_weights(ours, theirs)
        fitted[shuffle] = ours
    assert not np.array_equal(fitted[True].coefs_[0], fitted[False].coefs_[0])


@pytest.mark.parametrize("name", MLPS)
def test_larger_alpha_gives_smaller_weights(name):
    """test_alpha: every layer's weights shrink when alpha grows."""
    X, y = BINARY[0][:100], BINARY[1][:100]
    y = y.astype(float) if name == "regressor" else y
    norms = [[np.abs(W).sum() for W in PAIRS[name][0](hidden_layer_sizes=10, alpha=alpha,
                                                      random_state=1).fit(X, y).coefs_]
             for alpha in (0.0, 1.0)]
    assert (np.array(norms[0]) > np.array(norms[1])).all()


def test_poisson_loss_without_hidden_nonlinearity_is_a_poisson_glm():
    """test_mlp_vs_poisson_glm_equivalent (one seed): one identity unit and the
    exponential output give the GLM's predictions; the squared error does not."""
    rng = np.random.default_rng(0)
    X = np.linspace(0, 1, 100).reshape(-1, 1)
    y = rng.poisson(np.exp(X[:, 0] + 1))
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    params = dict(hidden_layer_sizes=(1,), activation="identity", alpha=0, solver="lbfgs",
                  tol=1e-7, random_state=1)
    poisson = MLPRegressorScratch(loss="poisson", **params).fit(X, y)
    np.testing.assert_allclose(poisson.predict(X), glm.predict(X), rtol=1e-4)
    squared = MLPRegressorScratch(loss="squared_error", **params).fit(X, y)
    assert not np.allclose(squared.predict(X), glm.predict(X), rtol=1e-4)


# ------------------------------------------------------------- perceptron
_order = np.random.RandomState(12).permutation(len(IRIS[1]))
IRIS_SHUFFLED = IRIS[0][_order], IRIS[1][_order]


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_perceptron_accuracy_on_iris(container):
    """test_perceptron_accuracy. Dense and sparse input give scikit-learn's
    weights (for sparse input, scikit-learn's damped intercept updates)."""
    X, y = IRIS_SHUFFLED
    params = dict(max_iter=100, tol=None, shuffle=False)
    ours, theirs = _fit_pair("perceptron", container(X), y, **params)
    assert ours.score(container(X), y) > 0.7
    _assert_same_weights(ours, theirs)


def test_perceptron_is_rosenblatts_rule():
    """test_perceptron_correctness: two epochs in order, unit step, equal to
    the textbook loop w += y x, b += y on every mistake (a zero score counts
    as one)."""
    X, y = IRIS_SHUFFLED
    y_signed = np.where(y == 1, 1, -1)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(2):
        for x_i, y_i in zip(X, y_signed):
            if y_i * (x_i @ w + b) <= 0:
                w, b = w + y_i * x_i, b + y_i
    ours = PerceptronClassifier(max_iter=2, shuffle=False, tol=None).fit(X, y_signed)
    np.testing.assert_allclose(ours.coef_.ravel(), w, rtol=1e-12)
    np.testing.assert_allclose(ours.intercept_, [b], rtol=1e-12)


def test_perceptron_has_no_probabilities():
    """test_undefined_methods: a perceptron has no predict_proba."""
    ours = PerceptronClassifier(max_iter=100)
    for method in ("predict_proba", "predict_log_proba"):
        assert not hasattr(ours, method)
        with pytest.raises(AttributeError):
            getattr(ours, method)


def test_perceptron_l1_ratio():
    """test_perceptron_l1_ratio: l1_ratio matters under "elasticnet", whose
    ends are the "l1" and "l2" penalties."""
    X, y = IRIS_SHUFFLED

    def fit(**params):
        return PerceptronClassifier(**params).fit(X, y)

    assert fit(penalty="elasticnet", l1_ratio=0).score(X, y) != fit(
        penalty="elasticnet", l1_ratio=0.15).score(X, y)
    np.testing.assert_allclose(fit(penalty="l1").coef_,
                               fit(penalty="elasticnet", l1_ratio=1).coef_)
    np.testing.assert_allclose(fit(penalty="l2").coef_,
                               fit(penalty="elasticnet", l1_ratio=0).coef_)
