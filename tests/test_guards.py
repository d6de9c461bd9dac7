"""Never a silent wrong answer (issue 12).

- input beyond the compute dtype's range is refused by fit, partial_fit and
  every predict-like method, with a message naming the dtype, the value and
  the remedy (not a NaN row, not a label from ``inf``);
- one huge but finite value (1e30) in X makes no estimator finish
  "successfully" with a meaningless model: the networks raise
  ``DivergenceError`` (a loss past the bound), the perceptron matches
  scikit-learn's (scale-invariant rule) in float64 and raises in float32;
- predictions are never NaN from finite, in-range input, on every backend
  (NumPy, ``array_api_strict``, the CuPy stand-in) and dtype;
- a continuous ``y`` to any classifier says "continuous".
"""

import json
import textwrap
import warnings

import array_api_strict as xps
import numpy as np
import pytest
import sklearn
from fake_cupy_run import run_with_fake_cupy
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron
from sklearn.preprocessing import StandardScaler

import sknets._checks
from sknets import (
    ConvNetClassifier,
    DivergenceError,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from sknets.layers import Activation, Dense


def _maker(cls, *args, **defaults):
    return lambda **kw: cls(*args, **{**defaults, **kw})


ESTIMATORS = {
    "perceptron": _maker(PerceptronClassifier, max_iter=5),
    "mlp_classifier": _maker(MLPClassifierScratch, hidden_layer_sizes=(8,), max_iter=10),
    "mlp_regressor": _maker(MLPRegressorScratch, hidden_layer_sizes=(8,), max_iter=10),
    "convnet": _maker(ConvNetClassifier, conv_filters=(2,), hidden_layer_sizes=(4,),
                      image_shape=(2, 2, 1), max_iter=5),
    "nn_classifier": _maker(NeuralNetClassifier, [Dense(8), Activation("relu")], max_iter=10),
    "nn_regressor": _maker(NeuralNetRegressor, [Dense(8), Activation("relu")], max_iter=10),
}
NETWORKS = [name for name in ESTIMATORS if name != "perceptron"]
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function",
                   "transform")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _target(name, y):
    return y / 2.0 if name.endswith("regressor") else y


def _fit(name, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ESTIMATORS[name](random_state=0, **kw).fit(X, _target(name, y))


# ---------------------------------------------------- 1. beyond the dtype
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_predict_refuses_values_beyond_the_compute_dtype(name, iris):
    """Before: the regressor returned nan for the row, the classifiers a label."""
    X, y = iris
    est = _fit(name, X.astype(np.float32), y)   # float32 compute
    X_big = X[:3].copy()
    X_big[1, 2] = -1e39                          # finite in float64, inf in float32
    methods = [m for m in PREDICT_METHODS if hasattr(est, m)]
    assert "predict" in methods
    for method in methods:
        with pytest.raises(ValueError) as info:
            getattr(est, method)(X_big)
        message = str(info.value)
        assert "float32" in message and "1e+39" in message, message
        assert "StandardScaler" in message and 'dtype="float64"' in message
    # the same value in float64 compute is fine (and finite)
    est64 = _fit(name, X, y)
    assert np.isfinite(np.asarray(est64.predict(X_big), dtype=float)).all()


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fit_refuses_values_beyond_the_compute_dtype(name, iris):
    """Before: a DivergenceError blaming the learning rate (or, for the
    perceptron, a silent fit)."""
    X, y = iris
    X_big = X.copy()
    X_big[0, 0] = 1e39
    est = ESTIMATORS[name](random_state=0, dtype="float32")
    with pytest.raises(ValueError, match=r"1e\+39.*float32") as info:
        est.fit(X_big, _target(name, y))
    assert not isinstance(info.value, DivergenceError)
    assert "learning_rate" not in str(info.value)
    assert not est.__sklearn_is_fitted__()   # refused before anything was built
    # partial_fit after a float32 fit, and the sparse path
    est = _fit(name, X.astype(np.float32), y)
    if hasattr(est, "partial_fit"):
        extra = {"classes": np.unique(y)} if name == "perceptron" else {}
        with pytest.raises(ValueError, match="float32"):
            est.partial_fit(X_big, _target(name, y), **extra)
    import scipy.sparse as sp
    with pytest.raises(ValueError, match="float32"):
        est.predict(sp.csr_matrix(X_big))


def test_range_check_only_when_the_cast_narrows():
    """Validated float64 computed in float64 (or float32 in float32) cannot
    overflow: no reduction is run."""
    class Probe(np.ndarray):
        reductions = 0

        def __array_ufunc__(self, ufunc, method, *args, **kwargs):
            Probe.reductions += 1
            args = [np.asarray(a) for a in args]
            return getattr(ufunc, method)(*args, **kwargs)

    X = np.ones((4, 3)).view(Probe)
    sknets._checks.check_input_range(X, np.float64)
    sknets._checks.check_input_range(X.astype(np.float32).view(Probe), np.float32)
    assert Probe.reductions == 0
    sknets._checks.check_input_range(X, np.float32)
    assert Probe.reductions > 0


# ------------------------------------------------------- 2. one 1e30 value
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NETWORKS)
def test_one_huge_value_makes_the_networks_diverge_loudly(name, dtype, iris):
    """Before: the classifiers finished with overflow warnings and one class
    predicted (loss_ ~ 1e27)."""
    X, y = iris
    X = X.copy()
    X[0, 0] = 1e30   # fits float32 (3.4e38): the training is what blows up
    est = ESTIMATORS[name](random_state=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError) as info:
            est.fit(X, _target(name, y))
    message = str(info.value)
    assert "1e+30" in message and "StandardScaler" in message, message
    assert not est.__sklearn_is_fitted__()   # a failed fit leaves the estimator as it was


def test_one_huge_value_with_lbfgs_diverges_loudly(iris):
    """L-BFGS: the final loss is held to the same bound."""
    X, y = iris
    X = X.copy()
    X[0, 0] = 1e30
    reg = MLPRegressorScratch(solver="lbfgs", hidden_layer_sizes=(8,), max_iter=10,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DivergenceError, match=r"L-BFGS: .*meaningless.*1e\+30"):
            reg.fit(X, y / 2)


@pytest.mark.parametrize("name", ["mlp_classifier", "convnet"])
def test_meaningless_loss_under_early_stopping_keeps_the_best_weights(name, iris):
    """With early stopping, an epoch past the bound ends training with the
    best epoch's weights and a warning (the divergence path), not an error;
    here an SGD step too large makes the loss grow by orders of magnitude per
    epoch, and the bound stops it while the loss is still finite."""
    X, y = iris
    est = ESTIMATORS[name](random_state=0, solver="sgd", learning_rate_init=5.0,
                           momentum=0.9, activation="identity", early_stopping=True,
                           max_iter=30, n_iter_no_change=30, dtype="float64")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    diverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)
                and "meaningless" in str(w.message)]
    assert len(diverged) == 1, [str(w.message) for w in caught]
    assert np.isfinite(est.loss_) and est.loss_ > 1e12   # caught before inf/nan
    assert np.isnan(est.validation_scores_[-1])
    assert est.best_epoch_ < est.n_iter_ < 30
    assert np.isfinite(est.predict_proba(X)).all()
    assert est.score(X, y) > 0.5


def test_normal_training_stays_far_below_the_bound():
    """The bound never trips on unscaled but sane data (features of order
    1e4), which scikit-learn trains on."""
    rng = np.random.RandomState(0)
    X = rng.rand(400, 5) * [1, 10, 100, 1e3, 1e4]
    y = (X[:, 4] > 5e3).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifierScratch(max_iter=20, random_state=0).fit(X, y)
        reg = MLPRegressorScratch(max_iter=20, random_state=0).fit(X, X[:, 0])
    assert max(clf.loss_curve_) < sknets._checks.LOSS_BOUND_FACTOR * 1e-3
    assert max(reg.loss_curve_) < sknets._checks.LOSS_BOUND_FACTOR * 1e-3


def test_perceptron_with_one_huge_value_matches_sklearn_or_raises(iris):
    """The perceptron rule is scale-invariant: in float64 it gives
    scikit-learn's (mixed) predictions; in float32 the logits can overflow,
    and it says so instead of predicting from inf."""
    X, y = iris
    X = X.copy()
    X[0, 0] = 1e30
    theirs = Perceptron(max_iter=5, tol=None, random_state=0).fit(X, y).predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = PerceptronClassifier(max_iter=5, tol=None, random_state=0).fit(X, y).predict(X)
    assert len(np.unique(ours)) > 1
    assert np.mean(ours == theirs) > 0.95
    with pytest.raises(DivergenceError, match=r"float32.*1e\+30"):
        PerceptronClassifier(max_iter=5, dtype="float32").fit(X, y)


# ------------------------------------------------------------- 3. no NaN out
def _in_range_inputs(X, dtype):
    """Finite inputs within ``dtype``'s range, some of them extreme."""
    big = float(np.finfo(dtype).max) / 10
    tiny = float(np.finfo(dtype).smallest_subnormal)
    rows = np.vstack([X[:5], np.zeros((1, X.shape[1])), np.full((1, X.shape[1]), tiny),
                      np.full((1, X.shape[1]), 1e6), np.full((1, X.shape[1]), -big)])
    return rows.astype(dtype)


def _assert_no_nan(est, X):
    for method in PREDICT_METHODS:
        if not hasattr(est, method):
            continue
        try:
            out = getattr(est, method)(X)
        except ValueError as exc:   # refused, with a message that says why
            assert "X" in str(exc)
            continue
        out = np.asarray(sknets.backend.to_numpy(out))
        if out.dtype.kind == "f":
            assert not np.isnan(out).any(), (type(est).__name__, method)
            if method != "predict_log_proba":
                assert np.isfinite(out).all(), (type(est).__name__, method)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_no_nan_from_finite_in_range_input_numpy(name, dtype, iris):
    X, y = iris
    est = _fit(name, X.astype(dtype), y)
    _assert_no_nan(est, _in_range_inputs(X, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_no_nan_from_finite_in_range_input_array_api_strict(name, dtype, iris):
    X, y = iris
    with sklearn.config_context(array_api_dispatch=True):
        Xs = xps.asarray(X.astype(dtype))
        ys = xps.asarray(_target(name, y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = ESTIMATORS[name](random_state=0).fit(Xs, ys)
        _assert_no_nan(est, xps.asarray(_in_range_inputs(X, dtype)))


def test_no_nan_from_finite_in_range_input_fake_cupy():
    """backend="cupy" (the stand-in): the same guarantee, and the range check."""
    script = textwrap.dedent("""
        import json, warnings
        import numpy as np
        from sklearn.datasets import load_iris
        from sklearn.preprocessing import StandardScaler
        import sknets
        warnings.simplefilter("ignore")
        X, y = load_iris(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        report = {}
        for dtype in (np.float32, np.float64):
            big = float(np.finfo(dtype).max) / 10
            X_test = np.vstack([X[:5], np.full((1, 4), big), np.full((1, 4), -1e6)]).astype(dtype)
            for cls in (sknets.PerceptronClassifier, sknets.MLPClassifierScratch,
                        sknets.MLPRegressorScratch, sknets.ConvNetClassifier):
                conv = cls is sknets.ConvNetClassifier
                kw = dict(image_shape=(2, 2, 1), conv_filters=(2,)) if conv else {}
                target = y / 2 if cls is sknets.MLPRegressorScratch else y
                est = cls(backend="cupy", max_iter=5, random_state=0, **kw)
                est.fit(X.astype(dtype), target)
                for method in ("predict", "predict_proba", "decision_function", "transform"):
                    if not hasattr(est, method):
                        continue
                    key = f"{cls.__name__}.{method}.{np.dtype(dtype).name}"
                    try:
                        out = np.asarray(getattr(est, method)(X_test), dtype=float)
                        report[key] = "nan" if np.isnan(out).any() else "ok"
                    except ValueError as exc:
                        report[key] = "refused" if "X" in str(exc) else str(exc)
            X_far = X[:2].copy(); X_far[0, 0] = 1e39
            try:
                est.set_params(dtype="float32").fit(X_far, y[:2])
                report["range"] = "accepted"
            except ValueError as exc:
                report["range"] = "refused" if "float32" in str(exc) else str(exc)
        print(json.dumps(report))
    """)
    result = run_with_fake_cupy(["python", "-c", script], timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report.pop("range") == "refused"
    assert len(report) >= 16
    assert set(report.values()) <= {"ok", "refused"}, report
    assert "ok" in report.values()


# ------------------------------------------------------- 4. continuous y
@pytest.mark.parametrize("name", ["perceptron", "mlp_classifier", "convnet", "nn_classifier"])
def test_continuous_y_says_continuous_in_every_classifier(name, iris):
    """Before: the network classifiers dumped the array ("Unknown label type:
    (array([0.848, ..."), the perceptron said "continuous"."""
    X, _ = iris
    y = np.random.RandomState(0).rand(len(X))
    est = ESTIMATORS[name](random_state=0)
    with pytest.raises(ValueError, match="Unknown label type: continuous") as info:
        est.fit(X, y)
    assert "array(" not in str(info.value)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        ESTIMATORS[name](random_state=0).partial_fit(X, y, classes=[0, 1])


def test_docs_errors_table_matches_the_messages(iris):
    """The user guide's table of what bad input gets quotes the real messages."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "user_guide"
            / "fitted_state.rst").read_text()
    section = page.split("Errors: what bad input gets")[1]
    rows = [line for line in section.splitlines() if line.startswith("   * - ")]
    assert len(rows) >= 8
    X, y = iris
    quoted = {
        "Unknown label type: continuous": lambda: MLPClassifierScratch().fit(X, X[:, 0]),
        "y must hold numbers": lambda: MLPRegressorScratch().fit(X, np.array(["a"] * len(X))),
        'dtype="float64"': lambda: MLPClassifierScratch(dtype="float32").fit(X * 1e39, y),
        "Input X contains NaN": lambda: PerceptronClassifier().fit(np.full_like(X, np.nan), y),
    }
    for phrase, fit in quoted.items():
        assert phrase in section, phrase
        with pytest.raises(ValueError) as info:
            fit()
        assert phrase in str(info.value), (phrase, str(info.value))
