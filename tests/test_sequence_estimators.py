"""Sequence layers inside NeuralNetClassifier / NeuralNetRegressor: 3-D input
``(n_samples, timesteps, features)`` end to end (fit, predict, transform,
summary, feature_layers, frozen layers, solvers, nested parameters, pickling),
on real data: the 8x8 digits read row by row as sequences of 8 timesteps."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sknets import NeuralNetClassifier, NeuralNetRegressor
from sknets.layers import (
    GRU,
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Embedding,
    Flatten,
    GlobalMaxPool1D,
    MaxPool1D,
    Reshape,
    Residual,
    SimpleRNN,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def digit_rows():
    """Digits as sequences: 8 timesteps (the image rows) of 8 features."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).reshape(-1, 8, 8)
    return train_test_split(X, y, random_state=0, stratify=y)


def _conv_net():
    return [Conv1D(16, 3, padding="same"), Activation("relu"),
            Residual([Conv1D(16, 3, padding="causal", dilation_rate=2),
                      BatchNormalization(), Activation("relu")]),
            MaxPool1D(2), Flatten()]


@pytest.mark.parametrize("layers, minimum", [
    ([GRU(16)], 0.9),
    ([LSTM(16)], 0.9),
    ([Bidirectional(SimpleRNN(8, return_sequences=True)), GlobalMaxPool1D()], 0.85),
    (_conv_net(), 0.94),
], ids=["GRU", "LSTM", "BiRNN", "Conv1D-residual"])
def test_sequence_networks_learn_digit_rows(digit_rows, layers, minimum):
    X_train, X_test, y_train, y_test = digit_rows
    clf = NeuralNetClassifier(layers, max_iter=10, batch_size=64, learning_rate_init=0.02,
                              random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) > minimum
    assert clf.input_shape_ == (8, 8)


def test_3d_input_end_to_end(digit_rows):
    X_train, X_test, y_train, _ = digit_rows
    clf = NeuralNetClassifier(_conv_net(), max_iter=3, random_state=0).fit(X_train, y_train)
    # flat rows of the same values give the same predictions
    flat = NeuralNetClassifier([Reshape((8, 8))] + _conv_net(), max_iter=3,
                               random_state=0).fit(X_train.reshape(len(X_train), -1), y_train)
    np.testing.assert_allclose(flat.predict_proba(X_test.reshape(len(X_test), -1)),
                               clf.predict_proba(X_test), rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X_test.reshape(len(X_test), -1)),
                                  clf.predict(X_test))
    with pytest.raises(ValueError, match=r"samples of shape \(4, 16\).*fitted on samples of "
                                         r"shape \(8, 8\)"):
        clf.predict(X_test.reshape(-1, 4, 16))
    assert clf.transform(X_test).shape == (len(X_test), 4 * 16)
    text = clf.summary(print_fn=None)
    assert "Residual(3 layers)" in text
    assert "\n  Conv1D(16, 3, dilation_rate=2, causal)   (None, 8, 16)" in text
    assert "(None, 4, 16)" in text
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(clone(clf).fit(X_train, y_train).predict(X_test),
                                  clf.predict(X_test))


def test_feature_layers_of_a_sequence_network_freeze_bit_for_bit(digit_rows):
    X_train, X_test, y_train, y_test = digit_rows
    base = NeuralNetClassifier([Conv1D(8, 3, padding="same"), Activation("relu"),
                                Residual([Conv1D(8, 3, padding="same"), Activation("relu")]),
                                Bidirectional(GRU(8))],
                               max_iter=8, batch_size=64, learning_rate_init=0.02,
                               random_state=0).fit(X_train[y_train < 5], y_train[y_train < 5])
    frozen = base.feature_layers()
    new = NeuralNetClassifier([*frozen, Dense(16), Activation("relu")], max_iter=8,
                              batch_size=64, learning_rate_init=0.02,
                              random_state=1).fit(X_train[y_train >= 5], y_train[y_train >= 5])
    fitted = [layer for layer in base._network.layers[:-1] if layer.params]
    kept = [layer for layer in new._network.layers if layer.params][:len(fitted)]
    assert [type(layer).__name__ for layer in kept] == ["Conv1D", "Residual", "Bidirectional"]
    for old, layer in zip(fitted, kept):
        assert not layer.trainable
        for key, value in old.get_weights().items():
            np.testing.assert_array_equal(layer.get_weights()[key], value, err_msg=key)
    assert new.score(X_test[y_test >= 5], y_test[y_test >= 5]) > 0.8
    text = new.summary(print_fn=None)
    frozen_count = sum(layer.n_params for layer in fitted)
    assert f"Non-trainable params: {frozen_count:,}" in text


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_other_solvers_train_a_recurrent_network(digit_rows, solver):
    X_train, X_test, y_train, y_test = digit_rows
    clf = NeuralNetClassifier([GRU(16)], solver=solver, max_iter=40, learning_rate_init=0.1,
                              random_state=0).fit(X_train[:500], y_train[:500])
    assert clf.score(X_test, y_test) > 0.7


def test_regressor_sums_a_sequence():
    """A linear recurrence can carry a running sum: R² near 1."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 6, 2))
    y = X[:, :, 0].sum(axis=1) - X[:, :, 1].sum(axis=1)
    reg = NeuralNetRegressor([SimpleRNN(8, activation="identity")], max_iter=200,
                             learning_rate_init=0.01, random_state=0).fit(X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) > 0.98


def test_embedding_reads_token_ids():
    """Token-id sequences: the class is whether token 3 occurs before token 7."""
    rng = np.random.RandomState(0)
    X = rng.randint(10, size=(600, 10))
    def first(row, token):
        return list(row).index(token) if token in row else 99

    y = np.array([first(r, 3) < first(r, 7) for r in X], dtype=int)
    clf = NeuralNetClassifier([Embedding(10, 8), GRU(16)], max_iter=40,
                              learning_rate_init=0.01, random_state=0).fit(X[:450], y[:450])
    assert clf.score(X[450:], y[450:]) > 0.9
    with pytest.raises(ValueError, match="integer token ids"):
        clf.predict(X[450:] + 10)


def test_nested_parameters_reach_wrapped_layers(digit_rows):
    X_train, _, y_train, _ = digit_rows
    clf = NeuralNetClassifier([("rnn", Bidirectional(GRU(4))), Dense(5)])
    assert clf.get_params()["layers__rnn__layer__units"] == 4
    clf.set_params(layers__rnn__layer__units=6, max_iter=2, random_state=0)
    assert clf.layers[0][1].layer.units == 6
    clf.fit(X_train, y_train)
    assert clf._network.layers[1].params["forward.U"].shape == (6, 18)


def test_summary_before_fit_counts_the_layers_inside_containers():
    """The unfitted summary (computed from plans, nothing allocated) equals
    the fitted network's, Residual and Bidirectional included. Before: their
    weights counted 0 and their inner layers had no rows."""
    import numpy as np

    from sknets import NeuralNetClassifier
    from sknets.layers import (
        GRU,
        Activation,
        BatchNormalization,
        Bidirectional,
        Conv1D,
        GlobalAvgPool1D,
        Residual,
    )

    net = NeuralNetClassifier(
        [Conv1D(4, 3, padding="same"),
         Residual([Conv1D(6, 3, padding="same"), BatchNormalization(), Activation("relu")]),
         Bidirectional(GRU(3, return_sequences=True)), GlobalAvgPool1D()],
        max_iter=1, dtype="float64", random_state=0)
    before = net.summary(input_shape=(8, 2), n_outputs=3, print_fn=None)
    rng = np.random.RandomState(0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(rng.standard_normal((12, 8, 2)), np.arange(12) % 3)
    after = net.summary(print_fn=None)   # the fitted one starts with Reshape (flat rows)
    assert before[before.index("Conv1D(4"):] == after[after.index("Conv1D(4"):]
    assert "  forward: GRU(3, return_sequences=True)" in before
    assert "  Conv1D(6, 3, same)" in before and "  shortcut: 1x1 projection" in before
