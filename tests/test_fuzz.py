"""Property-based fuzzing of every estimator with hypothesis (issue 12).

Random shapes (0-50 rows, 0-20 features, 1-4 classes), input dtypes (bool,
int, uint8, float16/32/64, object, sparse), values (subnormal, huge, NaN,
inf, constant columns), targets (int and string labels, floats, multilabel
indicators, one class) and hyper-parameters drawn from each estimator's
``_parameter_constraints`` (now and then one invalid value). Every case
either succeeds, with finite outputs of the right shape and dtype from every
predict-like method, or raises ``ValueError``/``TypeError`` (scikit-learn's
``InvalidParameterError`` included) whose message names the input or the
parameter; never another exception, never a NaN.

Bounded: ``MAX_EXAMPLES`` examples per estimator (written here, derandomized,
so CI runs the same cases every time), no deadline, tiny networks (at most
3 epochs, hidden layers of at most 4 units, 2x2+ images). The module runs in
well under a minute on a 2-core machine.
"""

import re
import warnings
from numbers import Integral

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import is_regressor
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    generate_invalid_param_val,
)

from sknets import (
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from sknets.layers import Activation, Dense

#: examples per estimator: the whole module runs in well under a minute.
MAX_EXAMPLES = 150

FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                         database=None, suppress_health_check=list(HealthCheck))

#: parameters held small (the fit's cost) or fixed (no output, no GPU).
PINNED = {
    "max_iter": st.integers(1, 3),
    "max_fun": st.integers(1, 20),
    "n_iter_no_change": st.integers(1, 3),
    "hidden_layer_sizes": st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple),
    "conv_filters": st.lists(st.integers(1, 2), min_size=1, max_size=1).map(tuple),
    "kernel_size": st.integers(1, 2),
    "stride": st.integers(1, 2),
    "padding": st.sampled_from(["same", "valid", 0, 1]),
    "pool_size": st.integers(1, 2),
    "image_shape": st.just(None),
    "layers": st.just([Dense(3), Activation("relu")]),
    "verbose": st.just(0),
    "backend": st.sampled_from(["numpy", None]),
    "n_jobs": st.sampled_from([None, 1]),
    "class_weight": st.sampled_from([None, "balanced"]),
    "batch_size": st.one_of(st.just("auto"), st.integers(1, 60)),
}

ESTIMATORS = [PerceptronClassifier, MLPClassifierScratch, MLPRegressorScratch,
              ConvNetClassifier, NeuralNetClassifier, NeuralNetRegressor]

#: words one of which an error message must contain: it names the input or a parameter.
NAMES = ("X", "y", "sample", "feature", "class", "label", "target", "dtype", "image",
         "parameter")


def _interval_strategy(c):
    lo, hi = c.left, c.right
    if c.type is Integral:
        lo = -3 if lo is None else int(lo) + (c.closed in ("right", "neither"))
        hi = lo + 5 if hi is None else int(hi) - (c.closed in ("left", "neither"))
        return st.integers(lo, max(lo, hi))
    lo_f = -1e3 if lo is None else float(lo)
    hi_f = (lo_f + 1e6 if lo is not None else 1e3) if hi is None else float(hi)
    return st.floats(lo_f, hi_f, exclude_min=lo is not None and c.closed in ("right", "neither"),
                     exclude_max=hi is not None and c.closed in ("left", "neither"),
                     allow_nan=False)


def _constraint_strategy(c):
    """Values satisfying one constraint of ``_parameter_constraints``, or None."""
    if c is None:
        return st.just(None)
    if isinstance(c, StrOptions):
        return st.sampled_from(sorted(c.options))
    if isinstance(c, Options):
        return st.sampled_from(sorted(c.options, key=repr))
    if isinstance(c, Interval):
        return _interval_strategy(c)
    if c == "boolean":
        return st.booleans()
    if c == "random_state":
        return st.one_of(st.none(), st.integers(0, 2**16))
    return None


@st.composite
def params_for(draw, cls):
    """Valid hyper-parameters of ``cls`` (each drawn or left at its default), and
    now and then one invalid value: (params, name of the invalid one or None)."""
    params = {}
    for name, constraints in cls._parameter_constraints.items():
        if name in PINNED:
            params[name] = draw(PINNED[name])
            continue
        options = [s for s in map(_constraint_strategy, constraints) if s is not None]
        if options and draw(st.booleans()):
            params[name] = draw(st.one_of(options))
    candidates = sorted(n for n, cs in cls._parameter_constraints.items()
                        if n not in ("layers", "image_shape")
                        and any(isinstance(c, (Interval, StrOptions)) for c in cs))
    # about one case in 7 has one invalid parameter (None shrinks first: valid)
    invalid = draw(st.sampled_from([None] * 6 * len(candidates) + candidates))
    if invalid is not None:
        constraint = next(c for c in cls._parameter_constraints[invalid]
                          if isinstance(c, (Interval, StrOptions)))
        try:
            params[invalid] = generate_invalid_param_val(constraint)
        except NotImplementedError:
            invalid = None
    return params, invalid


@st.composite
def datasets(draw):
    """(X, y, description) of random shape, dtype, values and target type."""
    n = draw(st.integers(0, 50))
    p = draw(st.integers(0, 20))
    kind = draw(st.sampled_from(["float64", "float32", "float16", "int64", "uint8", "bool",
                                 "object", "sparse"]))
    # weighted toward data a fit accepts, so that most cases check the outputs
    values = draw(st.sampled_from(["normal"] * 4 + ["subnormal", "huge", "nan", "inf",
                                                    "constant", "constant"]))
    target = draw(st.sampled_from(["int", "int", "str", "str", "float", "multilabel",
                                   "one_class"]))
    n_classes = draw(st.integers(1, 4))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    X = rng.randn(n, p)
    if X.size:
        i, j = rng.randint(n), rng.randint(p)
        if values == "subnormal":
            X = X * 1e-310
        elif values == "huge":
            X[i, j] = 1e300 if kind == "float64" else np.finfo(np.float32).max / 2
        elif values == "nan":
            X[i, j] = np.nan
        elif values == "inf":
            X[i, j] = -np.inf
        elif values == "constant":
            X[:, : max(1, p // 2)] = 3.0
    with np.errstate(all="ignore"):
        if kind in ("int64", "uint8"):
            X = np.nan_to_num(X * 20, nan=0, posinf=200, neginf=-200).clip(-1e9, 1e9)
            X = np.abs(X).astype(kind) if kind == "uint8" else X.astype(kind)
        elif kind == "bool":
            X = X > 0
        elif kind == "object":
            X = X.astype(object)
        elif kind == "sparse":
            X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
        else:
            X = X.astype(kind)
    labels = rng.randint(n_classes, size=n)
    if target == "int":
        y = labels
    elif target == "str":
        y = np.array(["cat", "dog", "emu", "fox"])[labels]
    elif target == "float":
        y = rng.rand(n)
    elif target == "multilabel":
        y = rng.randint(2, size=(n, max(2, n_classes)))
    else:
        y = np.zeros(n, dtype=int)
    return X, y, f"{kind}/{values}/{target} ({n}x{p})"


def _check_outputs(est, X, y):
    n = X.shape[0]
    regressor = is_regressor(est)
    pred = est.predict(X)
    assert pred.shape[0] == n
    if regressor:
        assert pred.dtype == est._compute_dtype() and np.isfinite(pred).all()
        assert pred.shape == np.shape(y)
    else:
        assert set(np.unique(pred)) <= set(np.unique(np.asarray(y)))
    for method in ("predict_proba", "decision_function", "transform"):
        if not hasattr(est, method):
            continue
        out = getattr(est, method)(X)
        assert out.shape[0] == n and out.dtype == est._compute_dtype(), method
        assert np.isfinite(out).all(), method
        if method == "predict_proba":
            assert out.shape[1] == len(est.classes_) or np.ndim(y) == 2


def _check_error(exc, params, invalid):
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    message = str(exc)
    if invalid is not None and isinstance(exc, InvalidParameterError):
        assert repr(invalid)[1:-1] in message, message
        return
    names = NAMES + tuple(params)
    assert any(re.search(rf"\b{re.escape(w)}", message) for w in names), message


def _fuzz(cls, data, hyper):
    X, y, _ = data
    params, invalid = hyper
    est = cls(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # convergence, overflow on the way to a clear error...
        try:
            est.fit(X, y)
        except Exception as exc:   # noqa: BLE001 - the type is what is checked
            _check_error(exc, params, invalid)
            return
        assert invalid is None, f"fit accepted the invalid {invalid}={params[invalid]!r}"
        try:
            _check_outputs(est, X, y)
        except AssertionError:
            raise
        except Exception as exc:   # noqa: BLE001 - e.g. the output overflowed: said so
            _check_error(exc, params, invalid)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fuzz(cls):
    @FUZZ_SETTINGS
    @given(data=datasets(), hyper=params_for(cls))
    def run(data, hyper):
        _fuzz(cls, data, hyper)

    run()


# -------------------------------------------------- predict-time fuzzing
_FITTED = {}


def _fitted(cls, dtype):
    """A small model of ``cls`` fitted on 4 standardised features (cached)."""
    key = (cls, dtype)
    if key not in _FITTED:
        rng = np.random.RandomState(0)
        X = rng.randn(40, 4)
        y = X[:, 0] if is_regressor(cls()) else (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
        small = {k: v for k, v in dict(max_iter=3, hidden_layer_sizes=(4,), conv_filters=(2,),
                                       layers=[Dense(3), Activation("tanh")],
                                       random_state=0, dtype=dtype).items()
                 if k in cls().get_params()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITTED[key] = cls(**small).fit(X, y)
    return _FITTED[key]


@st.composite
def predict_inputs(draw):
    """X for a model fitted on 4 features: any dtype, extreme values, 0-20 rows,
    now and then the wrong number of features."""
    n = draw(st.integers(0, 20))
    p = draw(st.sampled_from([4] * 6 + [0, 3, 5]))
    kind = draw(st.sampled_from(["float64", "float32", "float16", "int64", "uint8", "bool",
                                 "object", "sparse"]))
    scale = draw(st.sampled_from([1.0, 1e-310, 1e-30, 1e6, 1e30, 1e38, 1e300]))
    special = draw(st.sampled_from([None] * 5 + [np.nan, np.inf, -np.inf]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    X = rng.randn(n, p) * scale
    if special is not None and X.size:
        X[rng.randint(n), rng.randint(p)] = special
    with np.errstate(all="ignore"):
        if kind in ("int64", "uint8"):
            X = np.nan_to_num(X, nan=0, posinf=1e9, neginf=-1e9).clip(-1e9, 1e9).astype(kind)
        elif kind == "bool":
            X = X > 0
        elif kind == "object":
            X = X.astype(object)
        elif kind == "sparse":
            X = sp.csr_matrix(X)
        else:
            X = X.astype(kind)
    return X


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fuzz_predict(cls, dtype):
    """Fitted models, fuzzed inputs: finite outputs of the right shape and
    dtype, or a ValueError naming X (beyond the dtype, NaN, shape...)."""
    est = _fitted(cls, dtype)

    @settings(max_examples=MAX_EXAMPLES // 3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(X=predict_inputs())
    def run(X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                y_like = np.zeros(X.shape[0]) if is_regressor(est) else est.classes_[:1]
                _check_outputs(est, X, np.resize(y_like, X.shape[0]) if is_regressor(est)
                               else est.classes_)
            except AssertionError:
                raise
            except Exception as exc:   # noqa: BLE001 - the type is what is checked
                _check_error(exc, {}, None)
                assert re.search(r"\bX\b|feature|sample", str(exc)), str(exc)

    run()
