"""scikit-learn's estimator checks over every public sknets estimator.

This is the one place they run (the per-estimator test modules do not repeat
them). Every estimator is checked **at its default parameters**, as a user
who puts ``check_estimator(Est())`` in their CI would: no per-check
parameter changes (the two whose default training is long, at their
defaults in a ``slow`` test, and at shorter settings in the fast one).

The only expected failures are the ones scikit-learn lists for its own
estimator of the same algorithm (``sklearn/utils/_test_common/
instance_generator.py``), with its reason.
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

# scikit-learn's checks fit on small problems with few iterations: an
# estimator that stops at max_iter says so with a ConvergenceWarning, as
# scikit-learn's MLP does, which is expected here (scikit-learn's own test
# suite filters it the same way).
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

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


def _expected_failures(est):
    return SKLEARN_LISTED_FAILURES.get(type(est).__name__, {})


#: Estimators whose default training is long for scikit-learn's checks (the
#: GAN trains 200 epochs of two networks, the ConvNet convolutions): checked at
#: their defaults by the ``slow`` test below, and in the fast test at settings
#: that train less (what the checks verify does not depend on the training
#: length).
LONG_AT_DEFAULTS = {
    "ConvNetClassifier": dict(conv_filters=(8,), hidden_layer_sizes=(32,), max_iter=60),
    "GenerativeAdversarialNetwork": dict(max_iter=10),
}


@parametrize_with_checks(
    [cls(**LONG_AT_DEFAULTS.get(cls.__name__, {})) for cls in PUBLIC_ESTIMATORS],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(
    [cls() for cls in PUBLIC_ESTIMATORS if cls.__name__ in LONG_AT_DEFAULTS],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator_at_defaults(estimator, check):
    check(estimator)
