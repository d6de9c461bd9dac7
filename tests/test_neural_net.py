"""NeuralNetClassifier / NeuralNetRegressor: networks from a list of layers
that stay first-class estimators (nested parameters, clone, pickle, grid
search), the presets as layer lists on the same code path, frozen layers and
transfer of fitted layers, transform, dropout against overfitting.
(scikit-learn's estimator checks run in test_common.py.)"""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sknets import (
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
)
from sknets.layers import Activation, Dense, Dropout

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_blas_thread():
    # small matrices: BLAS threads only contend on a shared 2-core machine
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


def _mlp_layers():
    return [Dense(32), Activation("relu"), ("drop", Dropout(0.2)), Dense(16), Activation("tanh")]


# ------------------------------------------------------ nested parameters
def test_layer_parameters_are_nested_parameters():
    est = NeuralNetClassifier(layers=_mlp_layers())
    params = est.get_params()
    assert params["layers__0__units"] == 32
    assert params["layers__drop__rate"] == 0.2      # by name
    assert "layers__2__rate" not in params            # a named layer goes by its name
    assert params["layers__4__activation"] == "tanh"
    assert isinstance(params["layers__3"], Dense)
    assert set(est.get_params(deep=False)) <= set(params)

    est.set_params(layers__drop__rate=0.4, layers__0__units=8, alpha=0.1)
    assert est.layers[2][1].rate == 0.4 and est.layers[0].units == 8 and est.alpha == 0.1
    est.set_params(layers__3=Dense(5))
    assert est.get_params()["layers__3__units"] == 5
    with pytest.raises(ValueError, match="no layer named or at position 'nope'"):
        est.set_params(layers__nope__rate=0.1)
    with pytest.raises(ValueError, match="Invalid parameter 'size'"):
        est.set_params(layers__0__size=3)


def test_fit_never_changes_the_given_layers(digits):
    X, y = digits
    layers = _mlp_layers()
    before = joblib.hash(layers)
    est = NeuralNetClassifier(layers=layers, max_iter=3, random_state=0).fit(X, y)
    assert joblib.hash(layers) == before
    assert not hasattr(layers[0], "params")            # the specs are never built
    assert est._network.layers[0] is not layers[0]


def test_grid_search_over_a_layer_parameter(digits):
    X, y = digits
    layers = [Dense(32), Activation("relu"), Dropout(0.5)]
    search = GridSearchCV(NeuralNetClassifier(layers=layers, max_iter=30, random_state=0,
                                              learning_rate_init=0.01),
                          {"layers__2__rate": [0.0, 0.5], "layers__0__units": [8, 32]}, cv=3)
    search.fit(X[:600], y[:600])
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.get_params()["layers__2__rate"] in (0.0, 0.5)
    # the best model is built with the chosen values; the user's layers are untouched
    best = search.best_params_
    assert search.best_estimator_._network.layers[0].units == best["layers__0__units"]
    assert layers[0].units == 32 and layers[2].rate == 0.5
    assert search.score(X[600:], y[600:]) > 0.8


@pytest.mark.parametrize("Est", [NeuralNetClassifier, NeuralNetRegressor])
def test_clone_and_pickle_keep_predictions(Est, digits):
    X, y = digits
    y = y if Est is NeuralNetClassifier else y.astype(float)
    est = Est(layers=_mlp_layers(), max_iter=5, random_state=0).fit(X, y)
    again = clone(est).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    for other in (again, loaded):
        np.testing.assert_array_equal(other.predict(X), est.predict(X))
        np.testing.assert_array_equal(other.transform(X), est.transform(X))
    assert clone(est).get_params()["layers__drop__rate"] == 0.2


def test_bad_layers_are_refused_with_a_clear_message(digits):
    X, y = digits
    with pytest.raises(TypeError, match=r"layers\[1\] must be an sknets.layers layer"):
        NeuralNetClassifier(layers=[Dense(4), "relu"]).fit(X, y)
    with pytest.raises(ValueError, match="unique"):
        NeuralNetClassifier(layers=[("a", Dense(4)), ("a", Dense(4))]).fit(X, y)
    with pytest.raises(ValueError, match="'units' parameter of Dense"):
        NeuralNetClassifier(layers=[Dense(0)]).fit(X, y)


# ------------------------------------------------ presets on the same path
def test_presets_are_layer_lists_on_the_same_code_path(digits):
    """An MLP preset and the same layers in a NeuralNet train identically."""
    X, y = digits
    common = dict(random_state=0, max_iter=5, solver="sgd")
    mlp = MLPClassifierScratch(hidden_layer_sizes=(20, 10), activation="tanh", **common)
    net = NeuralNetClassifier([Dense(20), Activation("tanh"), Dense(10), Activation("tanh")],
                              **common)
    mlp.fit(X, y), net.fit(X, y)
    for a, b in zip(mlp.coefs_ + mlp.intercepts_, net.coefs_ + net.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mlp.transform(X), net.transform(X))
    reg = MLPRegressorScratch(hidden_layer_sizes=(8,), **common)
    Xd, yd = load_diabetes(return_X_y=True)
    reg_net = NeuralNetRegressor([Dense(8), Activation("relu")], **common)
    np.testing.assert_array_equal(reg.fit(Xd, yd).predict(Xd), reg_net.fit(Xd, yd).predict(Xd))


def test_default_layers_are_the_default_mlp(digits):
    X, y = digits
    net = NeuralNetClassifier(random_state=0, max_iter=3).fit(X, y)
    mlp = MLPClassifierScratch(random_state=0, max_iter=3).fit(X, y)
    np.testing.assert_array_equal(net.predict_proba(X), mlp.predict_proba(X))


@pytest.mark.parametrize("solver", ["adagrad", "rmsprop"])
def test_book_optimizers_train_layer_list_networks_as_the_presets(solver, digits):
    X, y = digits
    params = dict(solver=solver, learning_rate_init=0.01, random_state=0, max_iter=3)
    net = NeuralNetClassifier(**params).fit(X, y)
    mlp = MLPClassifierScratch(**params).fit(X, y)
    np.testing.assert_array_equal(net.predict_proba(X), mlp.predict_proba(X))
    reg = NeuralNetRegressor(layers=[Dense(16), Activation("relu")], **params)
    reg.fit(X, y / 9.0)
    assert reg.loss_curve_[-1] < 0.5 * reg.loss_curve_[0]


# --------------------------------------------------- transform, transfer
def test_transform_gives_the_last_hidden_layer_and_works_in_a_pipeline(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    mlp = MLPClassifierScratch(hidden_layer_sizes=(40, 20), random_state=0, max_iter=50)
    features = mlp.fit(X_train, y_train).transform(X_test)
    assert features.shape == (len(X_test), 20) and features.dtype == X.dtype
    assert (features >= 0).all()                    # after the last ReLU
    W, b = mlp.coefs_[-1], mlp.intercepts_[-1]      # the output layer sees exactly these
    np.testing.assert_allclose(mlp.decision_function(X_test), features @ W + b, rtol=1e-10)
    pipe = make_pipeline(StandardScaler(), mlp, LogisticRegression(max_iter=500))
    assert pipe.fit(X_train, y_train).score(X_test, y_test) > 0.9
    assert np.array_equal(mlp.fit_transform(X_train, y_train), mlp.transform(X_train))


def test_frozen_layers_do_not_change_bit_for_bit(digits):
    X, y = digits
    base = MLPClassifierScratch(hidden_layer_sizes=(32,), random_state=0, max_iter=20)
    base.fit(X[y < 5], y[y < 5])
    frozen = base.feature_layers()                  # Dense(32) + ReLU, trainable=False
    assert [type(layer).__name__ for layer in frozen] == ["Dense", "Activation"]
    assert frozen[0].trainable is False
    W0 = frozen[0].get_params()["weights"]["W"].copy()
    new = NeuralNetClassifier(layers=[*frozen, Dense(16), Activation("relu")],
                              random_state=1, max_iter=50, learning_rate_init=0.01)
    new.fit(X[y >= 5], y[y >= 5])
    np.testing.assert_array_equal(new.coefs_[0], W0)
    np.testing.assert_array_equal(new.coefs_[0], base.coefs_[0])
    np.testing.assert_array_equal(new.intercepts_[0], base.intercepts_[0])
    assert not np.array_equal(new.coefs_[1][:5], np.zeros(5))
    assert new.score(X[y >= 5], y[y >= 5]) > 0.9
    # the summary counts them apart
    text = new.summary(print_fn=None)
    n_frozen = 64 * 32 + 32
    n_trainable = 32 * 16 + 16 + 16 * 5 + 5
    assert f"Total params: {n_frozen + n_trainable:,}" in text
    assert f"Trainable params: {n_trainable:,}" in text
    assert f"Non-trainable params: {n_frozen:,}" in text
    # unfrozen, the same layers are fine-tuned from the fitted weights
    tuned = NeuralNetClassifier(layers=base.feature_layers(trainable=True), random_state=1,
                                max_iter=2).fit(X[y >= 5], y[y >= 5])
    assert not np.array_equal(tuned.coefs_[0], base.coefs_[0])


def test_dropout_lowers_the_validation_loss_of_an_overfitting_mlp(digits):
    """An over-parameterised MLP on a few hundred digits overfits: its
    validation loss climbs while the training loss falls; dropout keeps it
    lower (Srivastava et al., 2014)."""
    X, y = digits
    X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=300, random_state=0,
                                                      stratify=y)
    from sklearn.metrics import log_loss

    losses = {}
    for rate in (0.0, 0.5):
        clf = MLPClassifierScratch(hidden_layer_sizes=(512, 512), dropout=rate, max_iter=200,
                                   n_iter_no_change=200, learning_rate_init=0.003,
                                   random_state=0)
        clf.fit(X_train, y_train)
        assert clf.loss_ < 0.01                   # both fit the training set
        losses[rate] = log_loss(y_val, clf.predict_proba(X_val))
    # 0.25 against 0.37 here; lower on every other split and seed tried too
    assert losses[0.5] < 0.9 * losses[0.0]


def test_convnet_preset_equals_its_layers_in_a_neural_net(digits):
    """ConvNetClassifier is a preset: its layer list in a NeuralNetClassifier
    (images given as arrays, so the network starts with a Reshape) trains to
    the same weights."""
    from sknets import ConvNetClassifier
    from sknets.layers import Conv2D, Flatten, MaxPool2D

    X, y = digits
    common = dict(random_state=0, max_iter=3, batch_size=64)
    preset = ConvNetClassifier(conv_filters=(4,), hidden_layer_sizes=(16,), **common).fit(X, y)
    layers = [Conv2D(4, 3, padding="same"), MaxPool2D(2), Activation("relu"), Flatten(),
              Dense(16, initializer="he_uniform"), Activation("relu")]
    images = X.reshape(-1, 8, 8, 1)
    net = NeuralNetClassifier(layers, **common).fit(images, y)
    assert net.input_shape_ == (8, 8, 1)
    for a, b in zip(preset.coefs_ + preset.intercepts_, net.coefs_ + net.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net.predict_proba(images), preset.predict_proba(X))
    np.testing.assert_array_equal(net.predict_proba(X), preset.predict_proba(X))  # flat rows too
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(8, 8, 1\)"):
        net.predict(X.reshape(-1, 4, 16, 1))
    # the preset's fitted layers seed a new network, frozen
    base = preset.feature_layers()
    assert [layer.trainable for layer in base if hasattr(layer, "weights")] == [False, False]
    head = NeuralNetClassifier([*base[:-2], Dense(8), Activation("relu")], **common)
    head.fit(X[:200], y[:200])
    np.testing.assert_array_equal(head.coefs_[0], preset.coefs_[0])
