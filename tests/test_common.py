"""scikit-learn's estimator checks over every public sknets estimator.

No check is marked as an expected failure. As scikit-learn does for its own
MLPs (``PER_ESTIMATOR_CHECK_PARAMS``), a few checks run with adjusted
parameters:

- ``check_sample_weight_equivalence_*`` compare predictions at rtol=1e-7,
  below float32's resolution (~1.2e-7 relative), so they run with
  ``dtype="float64"``; the property they test (a weight of 2 equals a
  repeated row) holds exactly in our arithmetic.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sknets

PUBLIC_ESTIMATORS = [
    obj for name in sknets.__all__
    if inspect.isclass(obj := getattr(sknets, name)) and issubclass(obj, BaseEstimator)
]

#: small settings that keep each check fast; every estimator is still checked.
FAST_PARAMS = {
    "MLPClassifierScratch": dict(max_iter=100),
    "MLPRegressorScratch": dict(max_iter=100),
    "PerceptronClassifier": dict(max_iter=20),
    "ConvNetClassifier": dict(conv_filters=(4,), hidden_layer_sizes=(16,), max_iter=20),
}

PER_CHECK_PARAMS = {
    "check_sample_weight_equivalence_on_dense_data": dict(dtype="float64"),
    "check_sample_weight_equivalence_on_sparse_data": dict(dtype="float64"),
}


def _instances():
    for cls in PUBLIC_ESTIMATORS:
        params = FAST_PARAMS.get(cls.__name__, {})
        valid = inspect.signature(cls).parameters
        yield cls(**{k: v for k, v in params.items() if k in valid})


def test_every_estimator_is_checked():
    names = {cls.__name__ for cls in PUBLIC_ESTIMATORS}
    assert {"MLPClassifierScratch", "MLPRegressorScratch"} <= names


@parametrize_with_checks(list(_instances()))
def test_sklearn_compatible_estimator(estimator, check):
    name = getattr(check, "func", check).__name__
    if name in PER_CHECK_PARAMS:
        estimator.set_params(**PER_CHECK_PARAMS[name])
    check(estimator)
