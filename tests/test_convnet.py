"""ConvNetClassifier: accuracy on real digits, Pipeline and grid search, image
inputs and shape errors, pickling and the summary table (scikit-learn's
estimator checks run in test_common.py)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sknets import ConvNetClassifier, MLPClassifierScratch
from sknets.layers import AvgPool2D, Conv2D, MaxPool2D


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def small_fitted(digits):
    X_train, _, y_train, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ConvNetClassifier(conv_filters=(4, 8), hidden_layer_sizes=(16,), max_iter=3,
                                 random_state=0).fit(X_train[:300], y_train[:300])


def test_digits_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ConvNetClassifier(batch_size=32, max_iter=20, random_state=0).fit(X_train, y_train)
    assert clf.image_shape_ == (8, 8, 1)
    assert clf.score(X_test, y_test) >= 0.98
    assert len(clf.loss_curve_) == clf.n_iter_ == 20
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 5
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X_test), atol=1e-4)
    # fitted weights are NumPy, kernels channels-last (kh, kw, c_in, filters)
    assert [w.shape for w in clf.coefs_] == [(3, 3, 1, 32), (3, 3, 32, 64), (256, 128), (128, 10)]
    assert all(isinstance(w, np.ndarray) for w in clf.coefs_ + clf.intercepts_)


def test_early_stopping_records_validation_scores(digits):
    X_train, X_test, y_train, y_test = digits
    clf = ConvNetClassifier(conv_filters=(8,), hidden_layer_sizes=(32,), early_stopping=True,
                            n_iter_no_change=2, max_iter=30, random_state=0)
    clf.fit(X_train, y_train)
    assert len(clf.validation_scores_) == clf.n_iter_ < 30
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9


def test_pipeline_and_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(MinMaxScaler(),
                         ConvNetClassifier(hidden_layer_sizes=(32,), batch_size=32,
                                           max_iter=10, random_state=0))
    grid = GridSearchCV(pipe, {"convnetclassifier__conv_filters": [(4,), (8,)],
                               "convnetclassifier__kernel_size": [2, 3]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X_train[:400], y_train[:400])
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.score(X_test, y_test) > 0.8
    assert set(grid.best_params_) == {"convnetclassifier__conv_filters",
                                      "convnetclassifier__kernel_size"}


def test_clone_and_pickle_round_trip(small_fitted, digits):
    _, X_test, _, _ = digits
    fresh = clone(small_fitted)
    assert fresh.get_params() == small_fitted.get_params()
    assert not hasattr(fresh, "coefs_")
    restored = pickle.loads(pickle.dumps(small_fitted))
    np.testing.assert_array_equal(restored.predict_proba(X_test),
                                  small_fitted.predict_proba(X_test))
    np.testing.assert_array_equal(restored.predict(X_test), small_fitted.predict(X_test))


def test_image_array_inputs(small_fitted, digits):
    _, X_test, _, _ = digits
    flat = small_fitted.predict_proba(X_test)
    np.testing.assert_array_equal(small_fitted.predict_proba(X_test.reshape(-1, 8, 8)), flat)
    np.testing.assert_array_equal(small_fitted.predict_proba(X_test.reshape(-1, 8, 8, 1)), flat)


def test_image_shape_from_image_input_and_parameter():
    rng = np.random.RandomState(0)
    X = rng.rand(30, 4, 6, 3)
    y = np.arange(30) % 3
    params = dict(conv_filters=(2,), hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ConvNetClassifier(**params).fit(X, y)
        assert clf.image_shape_ == (4, 6, 3)
        assert clf.n_features_in_ == 72
        assert clf.coefs_[0].shape == (3, 3, 3, 2)
        # flat rows in the channels-last order predict the same
        np.testing.assert_array_equal(clf.predict_proba(X.reshape(30, -1)), clf.predict_proba(X))
        # the same data given flat with image_shape
        other = ConvNetClassifier(image_shape=(4, 6, 3), **params).fit(X.reshape(30, -1), y)
        np.testing.assert_allclose(other.coefs_[0], clf.coefs_[0])
        # non-square flat rows: a 1 x n signal
        assert ConvNetClassifier(**params).fit(X[:, 0, :, 0], y).image_shape_ == (1, 6, 1)


def test_bad_shapes_raise_clear_errors(small_fitted):
    rng = np.random.RandomState(0)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="image_shape"):
        ConvNetClassifier(image_shape=(5, 5)).fit(rng.rand(20, 64), y)
    with pytest.raises(ValueError, match="expects images of shape"):
        ConvNetClassifier(image_shape=(8, 8)).fit(rng.rand(20, 7, 7), y)
    with pytest.raises(ValueError, match=r"expects images of shape \(8, 8, 1\)"):
        small_fitted.predict(rng.rand(5, 7, 7))
    with pytest.raises(ValueError, match="features"):
        small_fitted.predict(rng.rand(5, 60))
    with pytest.raises(ValueError, match="image_shape"):
        ConvNetClassifier(image_shape=(8, 0)).fit(rng.rand(20, 64), y)
    with pytest.raises(ValueError, match="does not fit"):
        ConvNetClassifier(kernel_size=5, padding="valid").fit(rng.rand(20, 9), y)
    with pytest.raises(ValueError, match="shape"):
        small_fitted.predict(rng.rand(2, 8, 8, 1, 1))


@pytest.mark.parametrize("n_features", [1, 2, 3])
def test_tiny_inputs_build(n_features):
    rng = np.random.RandomState(0)
    X = rng.rand(20, n_features)
    y = (X[:, 0] > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ConvNetClassifier(conv_filters=(2, 2), hidden_layer_sizes=(3,), max_iter=2,
                                random_state=0).fit(X, y)
    assert clf.predict(X).shape == (20,)
    pools = [layer for layer in clf._network.layers if isinstance(layer, MaxPool2D)]
    assert all(layer.output_shape_[0] >= 1 and layer.output_shape_[1] >= 1 for layer in pools)
    assert len(pools) == (0 if n_features == 1 else 1)   # 1x2 / 1x3 pool once, then 1x1


def test_summary_rows(small_fitted):
    rows = small_fitted._network.summary_rows()
    names = [name for name, _, _, _ in rows]
    assert names[0] == "Reshape(8, 8, 1)"
    # with max pooling the activation follows the pooling (the same function)
    assert names[1:4] == ["Conv2D(4, 3x3, same)", "MaxPool2D(2x2)", "Activation(relu)"]
    assert [shape for _, shape, _, _ in rows[:4]] == [(8, 8, 1), (8, 8, 4), (4, 4, 4), (4, 4, 4)]
    conv_params = [(n, t) for name, _, n, t in rows if name.startswith("Conv2D")]
    assert conv_params == [(3 * 3 * 1 * 4 + 4,) * 2, (3 * 3 * 4 * 8 + 8,) * 2]
    text = small_fitted.summary(print_fn=None)
    assert "MaxPool2D(2x2)" in text and "(None, 2, 2, 8)" in text
    total = sum(w.size for w in small_fitted.coefs_ + small_fitted.intercepts_)
    assert f"Total params: {total:,}" in text


def test_avg_pooling_stride_and_padding_options(digits):
    X_train, X_test, y_train, y_test = digits
    clf = ConvNetClassifier(conv_filters=(8,), kernel_size=(3, 2), stride=(1, 2), padding=1,
                            pooling="avg", hidden_layer_sizes=(32,), max_iter=20, batch_size=32,
                            random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    kinds = [type(layer) for layer in clf._network.layers]
    assert Conv2D in kinds and AvgPool2D in kinds and MaxPool2D not in kinds
    assert clf._network.layers[1].output_shape_ == (8, 5, 8)   # (8+2-3)+1, (8+2-2)//2+1
    assert clf.score(X_test, y_test) > 0.85


def test_partial_fit_matches_mlp_classifier_interface(digits):
    X_train, X_test, y_train, y_test = digits
    clf = ConvNetClassifier(conv_filters=(4,), hidden_layer_sizes=(16,), batch_size=32,
                            learning_rate_init=0.01, random_state=0)
    for _ in range(3):
        clf.partial_fit(X_train, y_train, classes=np.arange(10))
    assert len(clf.loss_curve_) == 3
    assert clf.loss_curve_[2] < clf.loss_curve_[0]
    assert clf.score(X_test, y_test) > 0.8
    assert not hasattr(ConvNetClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifierScratch(), "partial_fit")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_does_not_keep_the_training_work_arrays():
    """The work arrays layers reuse between mini-batches are dropped when
    training ends (a fitted model does not carry them)."""
    X, y = load_digits(return_X_y=True)
    clf = ConvNetClassifier(conv_filters=(4,), hidden_layer_sizes=(8,), max_iter=1,
                            batch_size=64, random_state=0).fit(X[:200] / 16, y[:200])
    assert not any("_cache_work" in vars(layer) for layer in clf._network.layers)
    clf.partial_fit(X[:200] / 16, y[:200])
    assert not any("_cache_work" in vars(layer) for layer in clf._network.layers)
    clf.set_params(solver="lbfgs", max_iter=2).fit(X[:100] / 16, y[:100])
    assert not any("_cache_work" in vars(layer) for layer in clf._network.layers)
