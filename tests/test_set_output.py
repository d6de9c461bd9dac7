"""set_output and get_feature_names_out of the estimators with ``transform``."""

import numpy as np
import pytest
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknets import (
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from sknets.layers import Activation, Dense, Dropout

pd = pytest.importorskip("pandas")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(max_iter=15, random_state=0)


def _iris_frame():
    X, y = load_iris(return_X_y=True, as_frame=True)
    X = X.assign(size=np.where(X["sepal length (cm)"] > 5.8, "large", "small"))
    X.index = X.index + 1000   # an index the outputs must keep
    return X, y


def _column_transformer(X):
    return ColumnTransformer([("num", StandardScaler(), list(X.columns[:4])),
                              ("cat", OneHotEncoder(sparse_output=False), ["size"])])


def test_issue_pipeline_with_column_transformer_and_pandas_output():
    X, y = _iris_frame()
    plain = make_pipeline(_column_transformer(X), MLPClassifierScratch((6,), **FAST)).fit(X, y)
    pipe = make_pipeline(_column_transformer(X), MLPClassifierScratch((6,), **FAST))
    pipe.set_output(transform="pandas").fit(X, y)
    np.testing.assert_array_equal(pipe.predict(X), plain.predict(X))
    assert list(pipe[:-1].get_feature_names_out())[-2:] == ["cat__size_large", "cat__size_small"]
    features = pipe.transform(X)   # the last step's transform: the hidden layer
    assert isinstance(features, pd.DataFrame)
    assert list(features.columns) == [f"mlpclassifierscratch{i}" for i in range(6)]
    assert features.index.equals(X.index)
    np.testing.assert_allclose(features.to_numpy(), plain.transform(X))


ESTIMATORS = [
    (MLPClassifierScratch((5, 3), **FAST), 3),
    (MLPRegressorScratch(hidden_layer_sizes=(4,), **FAST), 4),
    (ConvNetClassifier(image_shape=(2, 2), conv_filters=(2,), hidden_layer_sizes=(7,), **FAST),
     7),
    (NeuralNetClassifier([Dense(6), Activation("tanh"), Dropout(0.1)], **FAST), 6),
    (NeuralNetRegressor([], **FAST), 4),   # no hidden layer: transform is the input
]


@pytest.mark.parametrize("est, n_out", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_feature_names_and_pandas_output(est, n_out):
    X, y = load_iris(return_X_y=True, as_frame=True)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    est.fit(X, y)
    prefix = type(est).__name__.lower()
    names = est.get_feature_names_out()
    assert names.dtype == object and list(names) == [f"{prefix}{i}" for i in range(n_out)]
    default = est.transform(X)
    assert isinstance(default, np.ndarray) and default.shape == (len(X), n_out)
    out = est.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(names)
    np.testing.assert_array_equal(out.to_numpy(), default)
    assert isinstance(est.fit_transform(X, y), pd.DataFrame)
    est.set_output(transform="default")
    assert isinstance(est.transform(X), np.ndarray)


def test_global_transform_output_is_honoured():
    X, y = _iris_frame()
    X = X.drop(columns="size")
    est = MLPClassifierScratch((4,), **FAST).fit(X, y)
    with sklearn.config_context(transform_output="pandas"):
        out = est.transform(X)
    assert isinstance(out, pd.DataFrame) and out.index.equals(X.index)
    assert isinstance(est.transform(X), np.ndarray)
    # the estimator's own setting wins over the global one
    est.set_output(transform="default")
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(est.transform(X), np.ndarray)


def test_network_inside_a_column_transformer_and_as_a_middle_step():
    X, y = load_iris(return_X_y=True, as_frame=True)
    ct = ColumnTransformer([("net", MLPClassifierScratch((3,), **FAST), list(X.columns)),
                            ("raw", "passthrough", ["petal width (cm)"])])
    out = ct.fit_transform(X, y)
    assert out.shape == (len(X), 4)
    assert list(ct.get_feature_names_out()) == [
        "net__mlpclassifierscratch0", "net__mlpclassifierscratch1",
        "net__mlpclassifierscratch2", "raw__petal width (cm)"]
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch((5,), **FAST),
                         LogisticRegression()).fit(X, y)
    assert list(pipe[:-1].get_feature_names_out()) == [
        f"mlpclassifierscratch{i}" for i in range(5)]
    assert pipe.score(X, y) > 0.8


def test_estimators_without_transform_have_no_set_output():
    assert not hasattr(PerceptronClassifier(), "set_output")
    assert not hasattr(PerceptronClassifier(), "get_feature_names_out")
