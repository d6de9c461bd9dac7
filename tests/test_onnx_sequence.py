"""ONNX export of the sequence, container and generative layers, run by onnxruntime.

Each network is fitted a few iterations in float32 on tiny data and its
graph run on float32 input: labels equal ``predict``, probabilities and
values agree with ``predict_proba`` / ``predict`` within 1e-5.
"""

import numpy as np
import pytest
from _layers import _Squash

rt = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

import sknets.onnx  # noqa: E402  (registers the converters)
from sknets import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402
from sknets import layers as L  # noqa: E402
from sknets.exceptions import NotExportableError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TOL = dict(rtol=1e-5, atol=1e-5)


def _run(onx, X):
    sess = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})


def _sequences(n=64, steps=12, features=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, steps, features)).astype(np.float32)
    y = (X[:, : steps // 2, 0].sum(axis=1) > X[:, steps // 2:, -1].sum(axis=1)).astype(int)
    y[X[:, 0, 0] > 1.0] = 2   # three classes
    return X, y


def _check_classifier(layers, X, y, max_iter=3):
    est = NeuralNetClassifier(layers, max_iter=max_iter, random_state=0).fit(X, y)
    label, proba = _run(sknets.onnx.to_onnx(est, X, zipmap=False), X)
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), **TOL)
    return est


def _check_regressor(layers, X, max_iter=3):
    y = np.stack([X.reshape(len(X), -1).mean(axis=1), X.reshape(len(X), -1)[:, 0]], axis=1)
    est = NeuralNetRegressor(layers, max_iter=max_iter, random_state=0).fit(X, y)
    (out,) = _run(sknets.onnx.to_onnx(est, X), X)
    np.testing.assert_allclose(out, est.predict(X), **TOL)
    return est


# ---------------------------------------------------------- convolution, pooling
@pytest.mark.parametrize("conv", [
    L.Conv1D(4, 3),
    L.Conv1D(4, 3, strides=2, padding="same"),
    L.Conv1D(3, 4, padding="same"),                     # even kernel: the odd zero at the end
    L.Conv1D(4, 3, padding="causal", dilation_rate=2),
    L.Conv1D(3, 2, padding="valid", dilation_rate=3),
], ids=["valid", "same-stride", "same-even", "causal-dilated", "valid-dilated"])
def test_conv1d(conv):
    X, y = _sequences()
    _check_classifier([conv, L.Activation("relu"), L.Flatten()], X, y)


@pytest.mark.parametrize("pool", [
    L.MaxPool1D(2), L.MaxPool1D(3, strides=2), L.AvgPool1D(2), L.AvgPool1D(4, strides=3),
    L.GlobalAvgPool1D(), L.GlobalMaxPool1D(),
], ids=["max", "max-strided", "avg", "avg-strided", "global-avg", "global-max"])
def test_poolings_1d(pool):
    X, y = _sequences()
    layers = [L.Conv1D(4, 3, padding="same"), L.BatchNormalization(), L.Activation("tanh"),
              pool, L.Flatten()]
    _check_classifier(layers, X, y)


def test_conv1d_network_on_flat_rows_and_3d_input():
    X, y = _sequences()
    layers = [L.Conv1D(5, 3, padding="causal"), L.Activation("leaky_relu"), L.MaxPool1D(2),
              L.Dropout(0.2), L.Conv1D(4, 2), L.GlobalAvgPool1D(), L.Dense(6)]
    est = _check_classifier(layers, X, y)                  # (n, timesteps, features)
    flat = X.reshape(len(X), -1)
    label, proba = _run(sknets.onnx.to_onnx(est, flat, zipmap=False), flat)
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), **TOL)


# ------------------------------------------------------------------- recurrence
@pytest.mark.parametrize("rnn", [
    L.SimpleRNN(5), L.SimpleRNN(5, activation="relu", return_sequences=True),
    L.SimpleRNN(4, activation="logistic"), L.SimpleRNN(4, activation="identity"),
    L.GRU(5), L.GRU(4, return_sequences=True), L.LSTM(5), L.LSTM(4, return_sequences=True),
], ids=["rnn", "rnn-relu-seq", "rnn-logistic", "rnn-identity", "gru", "gru-seq", "lstm",
        "lstm-seq"])
def test_recurrent(rnn):
    X, y = _sequences()
    est = _check_classifier([rnn, L.Flatten()], X, y, max_iter=5)
    # trained weights, not their initial values: the gates' biases moved
    assert np.abs(est._network.layers[1].get_weights()["b"]).max() > 1e-3


def test_stacked_recurrent_regressor_after_conv1d():
    # a channels-first Conv1D output feeding the time-major recurrent input
    X, _ = _sequences()
    _check_regressor([L.Conv1D(4, 3, padding="same"), L.GRU(6, return_sequences=True),
                      L.LSTM(5, return_sequences=True), L.SimpleRNN(3)], X)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("rnn", [L.GRU(4), L.LSTM(3, return_sequences=True),
                                 L.SimpleRNN(3, activation="relu")], ids=["gru", "lstm-seq", "rnn"])
def test_bidirectional(rnn, merge_mode):
    X, y = _sequences()
    _check_classifier([L.Bidirectional(rnn, merge_mode=merge_mode), L.Flatten()], X, y,
                      max_iter=4)


def test_recurrent_layers_refuse_a_float64_graph():
    X, y = _sequences(n=30)
    est = NeuralNetClassifier([L.GRU(3)], max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(NotExportableError, match=r"GRU\(3\).*float32 only"):
        sknets.onnx.to_onnx(est, X.astype(np.float64), dtype=None)
    _run(sknets.onnx.to_onnx(est, X), X)   # float32: fine


# -------------------------------------------------------------------- residual
def test_residual_identity_and_projection_shortcuts():
    X, y = _sequences(steps=16)
    layers = [L.Conv1D(6, 3, padding="same"),
              L.Residual([L.Conv1D(6, 3, padding="same"), L.BatchNormalization(),
                          L.Activation("relu"), L.Conv1D(6, 3, padding="same")]),
              L.Activation("relu"),
              # stride 2 and 6 -> 8 channels: a strided 1x1 projection
              L.Residual([L.Conv1D(8, 3, strides=2, padding="same"), L.Activation("relu")]),
              # a nested block, and a recurrent layer inside one
              L.Residual([L.Residual([L.Conv1D(8, 1)]), L.GRU(8, return_sequences=True)]),
              L.GlobalAvgPool1D()]
    est = _check_classifier(layers, X, y)
    assert est._network.layers[4].shortcut_strides_ == (2,)


def test_residual_on_rows_and_images():
    X, y = _sequences(steps=16, features=1)
    images = X.reshape(-1, 4, 4, 1)
    _check_classifier([L.Conv2D(3, 3, padding="same"),
                       L.Residual([L.Conv2D(5, 3, stride=2, padding="same")]),
                       L.Residual([L.Conv2D(5, 3, padding="same"), L.Activation("relu")]),
                       L.Flatten()], images, y)
    rows = X.reshape(len(X), -1)
    _check_regressor([L.Residual([L.Dense(16), L.Activation("tanh")]),
                      L.Residual([L.Dense(6)]), L.Activation("relu")], rows)


# ------------------------------------------------------------------- embedding
def test_embedding_of_token_ids():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 9, size=(80, 7)).astype(np.float32)
    y = (X == 3).any(axis=1).astype(int)
    layers = [L.Embedding(9, 4), L.Conv1D(4, 2), L.Activation("relu"), L.GRU(4)]
    est = _check_classifier(layers, X, y, max_iter=5)
    # integer ids as the graph's input
    ids = X.astype(np.int64)
    label, proba = _run(sknets.onnx.to_onnx(est, ids, zipmap=False, dtype=None), ids)
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), **TOL)


# ------------------------------------------------------------------ generative
def test_upsampling2d():
    X, y = _sequences(steps=9, features=1)
    images = X.reshape(-1, 3, 3, 1)
    _check_classifier([L.UpSampling2D(), L.Conv2D(3, 3), L.Activation("relu"),
                       L.UpSampling2D(3), L.Flatten()], images, y)
    _check_classifier([L.UpSampling2D(2), L.Flatten()], images, y)   # channels-last input


def test_minibatch_stddev_on_rows_and_images():
    X, y = _sequences(steps=16, features=1)
    images = X.reshape(-1, 4, 4, 1)
    _check_classifier([L.Conv2D(3, 3, padding="same"), L.MinibatchStdDev(), L.Conv2D(2, 2),
                       L.Flatten()], images, y)
    rows = X.reshape(len(X), -1)
    _check_regressor([L.Dense(8), L.MinibatchStdDev(), L.Activation("relu")], rows)


@pytest.mark.parametrize("target_opset", [13, 17, None])
def test_older_opsets(target_opset):
    """Reductions take their axes as an attribute before opset 18, as an input from it."""
    X, y = _sequences(steps=16, features=1)
    images = X.reshape(-1, 4, 4, 1)
    layers = [L.MinibatchStdDev(), L.UpSampling2D(), L.Reshape((64, 2)), L.LSTM(3),
              L.Dense(4), L.Activation("leaky_relu")]
    est = NeuralNetClassifier(layers, max_iter=2, random_state=0).fit(images, y)
    onx = sknets.onnx.to_onnx(est, images, zipmap=False, target_opset=target_opset)
    if target_opset is not None:
        assert max(op.version for op in onx.opset_import if op.domain == "") <= target_opset
    label, proba = _run(onx, images)
    np.testing.assert_array_equal(label, est.predict(images))
    np.testing.assert_allclose(proba, est.predict_proba(images), **TOL)


def test_a_layer_without_converter_inside_a_residual_block_raises():
    X, y = _sequences(n=30)
    est = NeuralNetClassifier([L.Residual([L.Conv1D(2, 3, padding="same"), _Squash()]),
                               L.Flatten()], max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(NotExportableError, match="_Squash layers cannot be exported"):
        sknets.onnx.to_onnx(est, X)
