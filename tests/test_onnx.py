"""ONNX export (sknets.onnx): every estimator and layer, run by onnxruntime.

Each model is fitted in float32 and its ONNX graph run on float32 input:
labels must equal ``predict`` and probabilities (or values) agree with
``predict_proba`` (``predict``, ``decision_function``) within 1e-5.
"""

import numpy as np
import pytest
from _layers import _Squash
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

rt = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

import sknets.onnx  # noqa: E402  (registers the converters)
from sknets import (  # noqa: E402
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from sknets import layers as L  # noqa: E402
from sknets.exceptions import NotExportableError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ATOL = 1e-5


def _run(onx, X):
    sess = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})


def _digits(n=400):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(np.float32), y[:n]


def _images(n=300):
    X, y = _digits(n)
    return X.reshape(-1, 8, 8, 1), y


def _check_classifier(est, X, onx=None):
    onx = sknets.onnx.to_onnx(est, X, zipmap=False) if onx is None else onx
    label, proba = _run(onx, X)
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=0, atol=ATOL)
    return label, proba


# ------------------------------------------------------------------ classifiers
@pytest.mark.parametrize("params", [
    dict(),
    dict(activation="tanh", batch_normalization=True, dropout=0.3),
    dict(activation="logistic", hidden_layer_sizes=(12, 6)),
    dict(activation="identity"),
], ids=["relu", "tanh-bn-dropout", "logistic-2layers", "identity"])
def test_mlp_classifier_multiclass(params):
    X, y = _digits()
    est = MLPClassifierScratch(**{"hidden_layer_sizes": (16,), "max_iter": 30,
                                  "random_state": 0, **params}).fit(X, y)
    _check_classifier(est, X)


def test_batch_normalization_no_longer_gives_wrong_numbers():
    """The issue's case: a network with batch normalization and dropout,
    trained until the moving statistics are far from (0, 1)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)   # unscaled: the batch statistics are far from 0 and 1
    est = MLPClassifierScratch((32, 16), batch_normalization=True, dropout=0.2, max_iter=40,
                               random_state=0).fit(X, y)
    bn = [layer for layer in est._network.layers if isinstance(layer, L.BatchNormalization)]
    assert np.abs(sknets.backend.to_numpy(bn[0].state["moving_mean"])).max() > 10
    _check_classifier(est, X)


def test_binary_and_string_labels():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    names = np.array(["benign", "malignant"])[y]
    est = MLPClassifierScratch((8,), max_iter=30, random_state=0).fit(X, names)
    label, proba = _check_classifier(est, X)
    assert label.dtype.kind in "OU" and set(label) == {"benign", "malignant"}
    assert proba.shape == (len(X), 2)


def test_multilabel():
    X, y = _digits()
    Y = np.stack([y % 2, y > 4, y == 0], axis=1).astype(int)
    est = MLPClassifierScratch((16,), max_iter=40, random_state=0).fit(X, Y)
    label, proba = _check_classifier(est, X)
    assert label.shape == Y.shape and proba.shape == Y.shape


def test_one_class_and_float_labels():
    X, y = _digits(60)
    one = MLPClassifierScratch((4,), max_iter=5, random_state=0).fit(X, np.full(len(X), 7))
    _check_classifier(one, X)
    floats = MLPClassifierScratch((4,), max_iter=5, random_state=0).fit(X, y.astype(float))
    _check_classifier(floats, X)


def test_zipmap_default_as_skl2onnx_users_expect():
    X, y = _digits()
    est = MLPClassifierScratch((8,), max_iter=10, random_state=0).fit(X, y)
    label, maps = _run(skl2onnx.to_onnx(est, X[:1]), X)
    np.testing.assert_array_equal(label, est.predict(X))
    proba = np.array([[m[c] for c in est.classes_] for m in maps])
    np.testing.assert_allclose(proba, est.predict_proba(X), atol=ATOL)


@pytest.mark.parametrize("params", [
    dict(),
    dict(pooling="avg", padding="valid", batch_normalization=True, dropout=0.2),
    dict(kernel_size=(3, 2), stride=2, padding=1, pooling=None),
    dict(conv_filters=(4, 6), pool_size=(2, 3), activation="tanh"),
], ids=["default", "avg-valid-bn-dropout", "stride-int-padding", "two-blocks"])
def test_convnet_on_images_and_rows(params):
    X, y = _images()
    est = ConvNetClassifier(**{"conv_filters": (4,), "hidden_layer_sizes": (8,), "max_iter": 4,
                               "random_state": 0, **params}).fit(X, y)
    _check_classifier(est, X)                              # (n, 8, 8, 1) input
    _check_classifier(est, X.reshape(len(X), -1))          # flat rows


def test_neural_net_classifier_with_every_layer():
    X, y = _images()
    layers = [L.Conv2D(3, 3, stride=(1, 2), padding="same"), L.BatchNormalization(),
              L.Activation("relu"), L.MaxPool2D(3, stride=1), L.Dropout(0.1),
              L.Conv2D(4, (2, 1), padding=(1, 0)), L.AvgPool2D(2), L.Activation("logistic"),
              ("regroup", L.Reshape((2, 2, 3))), L.GlobalAvgPool2D(),
              L.Dense(10), L.BatchNormalization(), L.Activation("tanh")]
    est = NeuralNetClassifier(layers, max_iter=8, random_state=0).fit(X, y)
    _check_classifier(est, X)


def test_channels_last_images_with_several_channels():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((120, 6, 5, 3)).astype(np.float32)
    y = (X[:, :3, :, 0].sum(axis=(1, 2)) > X[:, 3:, :, 2].sum(axis=(1, 2))).astype(int)
    layers = [L.Conv2D(5, (3, 2), padding="valid"), L.BatchNormalization(),
              L.Activation("relu"), L.Flatten(), L.Dense(6), L.Activation("relu")]
    est = NeuralNetClassifier(layers, max_iter=20, random_state=0).fit(X, y)
    _check_classifier(est, X)


def test_perceptron_scores():
    X, y = _digits()
    for target in (y, y % 2):
        est = PerceptronClassifier(max_iter=5, random_state=0).fit(X, target)
        label, scores = _run(sknets.onnx.to_onnx(est, X, zipmap=False), X)
        np.testing.assert_array_equal(label, est.predict(X))
        z = est.decision_function(X)
        expected = np.stack([-z, z], axis=1) if z.ndim == 1 else z
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-4)


# -------------------------------------------------------------------- regressors
def _regression(n_outputs=1):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    y = ((y - y.mean()) / y.std()).astype(np.float32)
    if n_outputs > 1:
        y = np.stack([y, X[:, 0] * X[:, 1]], axis=1)
    return X, y


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_mlp_regressor(n_outputs):
    X, y = _regression(n_outputs)
    est = MLPRegressorScratch(hidden_layer_sizes=(16,), batch_normalization=True, max_iter=30,
                              random_state=0).fit(X, y)
    (out,) = _run(sknets.onnx.to_onnx(est, X), X)
    assert out.shape == (len(X), n_outputs)
    np.testing.assert_allclose(out, est.predict(X).reshape(len(X), -1), rtol=1e-5, atol=ATOL)


def test_poisson_regressor():
    X, _ = _regression()
    y = np.random.RandomState(0).poisson(np.exp(0.5 * X[:, 2])).astype(np.float32)
    est = MLPRegressorScratch(loss="poisson", hidden_layer_sizes=(8,), max_iter=30,
                              random_state=0).fit(X, y)
    (out,) = _run(sknets.onnx.to_onnx(est, X), X)
    np.testing.assert_allclose(out[:, 0], est.predict(X), rtol=1e-5, atol=ATOL)


@pytest.mark.parametrize("activation", sorted(L.ACTIVATIONS))
def test_neural_net_regressor_every_activation(activation):
    X, y = _regression(2)
    layers = [L.Dense(8), L.Activation(activation), L.Dropout(0.2), L.Dense(5),
              L.Activation(activation)]
    est = NeuralNetRegressor(layers, max_iter=10, random_state=0).fit(X, y)
    (out,) = _run(sknets.onnx.to_onnx(est, X), X)
    np.testing.assert_allclose(out, est.predict(X), rtol=1e-5, atol=ATOL)


def test_float64_input_gives_a_float64_graph():
    X, y = _digits()
    est = MLPClassifierScratch((8,), max_iter=10, random_state=0, dtype="float64").fit(X, y)
    X64 = X.astype(np.float64)
    label, proba = _run(sknets.onnx.to_onnx(est, X64, zipmap=False, dtype=None), X64)
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(label, est.predict(X64))
    np.testing.assert_allclose(proba, est.predict_proba(X64), rtol=0, atol=1e-12)


# --------------------------------------------------------------------- pipelines
def test_in_a_pipeline_with_skl2onnx():
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch((8,), max_iter=30,
                                                                random_state=0)).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={MLPClassifierScratch: {"zipmap": False}})
    label, proba = _run(onx, X)
    np.testing.assert_array_equal(label, pipe.predict(X))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=ATOL)

    Xr, yr = _regression(2)
    reg = make_pipeline(StandardScaler(), NeuralNetRegressor(max_iter=10, random_state=0))
    reg.fit(Xr * 3 + 1, yr)
    (out,) = _run(sknets.onnx.to_onnx(reg, Xr * 3 + 1), Xr * 3 + 1)
    np.testing.assert_allclose(out, reg.predict(Xr * 3 + 1), rtol=1e-5, atol=ATOL)


# ---------------------------------------------------------------- what fails
def test_unknown_layer_raises_clearly():
    X, y = _digits(80)
    est = NeuralNetClassifier([L.Dense(4), _Squash()], max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(NotExportableError, match="_Squash layers cannot be exported"):
        sknets.onnx.to_onnx(est, X)
    with pytest.raises(NotExportableError, match="_Squash"):
        skl2onnx.to_onnx(est, X[:1])


def test_a_subclass_of_a_layer_is_not_taken_for_its_base():
    X, y = _digits(80)

    class Doubled(L.Activation):
        def forward(self, X, training=False):
            return 2 * super().forward(X, training)

        def backward(self, dY):
            return 2 * super().backward(dY)

    est = NeuralNetClassifier([L.Dense(4), Doubled("relu")], max_iter=2,
                              random_state=0).fit(X, y)
    with pytest.raises(NotExportableError, match="Doubled"):
        sknets.onnx.to_onnx(est, X)


def test_other_errors():
    X, y = _digits(80)
    with pytest.raises(NotFittedError):
        sknets.onnx.to_onnx(MLPClassifierScratch(), X)
    est = MLPClassifierScratch((4,), max_iter=2).fit(X, y)
    odd = clone(est).fit(X, y)
    odd.classes_ = odd.classes_ + 0.5   # labels ONNX cannot hold (scikit-learn refuses them)
    with pytest.raises(NotExportableError, match="int64 or strings"):
        sknets.onnx.to_onnx(odd, X)
    with pytest.raises(NotExportableError, match="opset 13"):
        sknets.onnx.to_onnx(est, X, target_opset=11)

    class Mine(MLPClassifierScratch):
        pass

    mine = Mine((4,), max_iter=2).fit(X, y)
    with pytest.raises(NotExportableError, match=r"sknets.onnx.register\(Mine\)"):
        sknets.onnx.to_onnx(mine, X)
    sknets.onnx.register(Mine)
    _check_classifier(mine, X)
    with pytest.raises(TypeError, match="sknets estimator class"):
        sknets.onnx.register(StandardScaler)


def test_every_layer_and_activation_has_a_converter():
    from sknets._onnx_layers import ACTIVATION_OPS, LAYER_CONVERTERS

    assert set(L.ACTIVATIONS) <= set(ACTIVATION_OPS)
    public = {getattr(L, name) for name in L.__all__
              if isinstance(getattr(L, name), type) and getattr(L, name) is not L.Layer}
    missing = sorted(c.__name__ for c in public - set(LAYER_CONVERTERS))
    assert not missing, f"layers without an ONNX converter: {missing}"
