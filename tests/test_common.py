"""scikit-learn's estimator checks over every public sknets estimator.

This is the one place they run (the per-estimator test modules do not repeat
them). Every estimator is checked **at its default parameters**, as a user
who puts ``check_estimator(Est())`` in their CI would: no per-check
parameter changes.

The only expected failures are the ones scikit-learn lists for its own
estimator of the same algorithm (``sklearn/utils/_test_common/
instance_generator.py``), with its reason.
"""

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sknets

PUBLIC_ESTIMATORS = [
    obj for name in sknets.__all__
    if inspect.isclass(obj := getattr(sknets, name)) and issubclass(obj, BaseEstimator)
]

#: scikit-learn's own expected failures for the same algorithm, and nothing else.
SKLEARN_LISTED_FAILURES = {
    # sklearn.linear_model.Perceptron: per-sample updates in a shuffled order
    # make a weight of 2 differ from a repeated sample, and a weight of 0 from
    # a removed one (the sample still takes a place in the order).
    "PerceptronClassifier": {
        "check_sample_weight_equivalence_on_dense_data":
            "sample_weight is not equivalent to removing/repeating samples.",
        "check_sample_weight_equivalence_on_sparse_data":
            "sample_weight is not equivalent to removing/repeating samples.",
    },
}


def test_every_estimator_is_checked():
    names = {cls.__name__ for cls in PUBLIC_ESTIMATORS}
    assert {"MLPClassifierScratch", "MLPRegressorScratch", "PerceptronClassifier",
            "ConvNetClassifier"} <= names


@parametrize_with_checks(
    [cls() for cls in PUBLIC_ESTIMATORS],
    expected_failed_checks=lambda est: SKLEARN_LISTED_FAILURES.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
