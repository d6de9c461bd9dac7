"""Conv2D, pooling and dropout layers: finite-difference gradients (float64),
shapes, and agreement with a direct (loop) convolution."""

import numpy as np
import pytest

from sknets.backend import get_backend, namespace_backend
from sknets.gradcheck import check_layer_gradients, numerical_gradient
from sknets.layers import (
    Activation,
    AvgPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    Reshape,
)
from sknets.losses import SoftmaxCrossEntropy
from sknets.network import Sequential


def _build(layer, input_shape, dtype=np.float64, backend=None):
    backend = backend or get_backend("numpy")
    layer.build(input_shape, backend, dtype, np.random.RandomState(0))
    layer.need_input_grad = True
    return layer


def _direct_conv(X, W, b, stride, pads):
    """Reference convolution with explicit loops over output pixels."""
    (pt, pb), (pl, pr) = pads
    Xp = np.pad(X, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, _, f = W.shape
    sh, sw = stride
    oh = (Xp.shape[1] - kh) // sh + 1
    ow = (Xp.shape[2] - kw) // sw + 1
    out = np.empty((X.shape[0], oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = Xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(patch, W, axes=([1, 2, 3], [0, 1, 2])) + b
    return out


@pytest.mark.parametrize(
    "kernel_size, stride, padding, pads",
    [
        (3, 1, "same", ((1, 1), (1, 1))),
        (3, 2, "same", ((1, 1), (0, 1))),     # 7x6 input: TF rule puts the odd pixel last
        ((2, 3), (2, 1), "valid", ((0, 0), (0, 0))),
        (3, 2, (1, 2), ((1, 1), (2, 2))),
    ],
)
def test_conv2d_matches_direct_convolution(kernel_size, stride, padding, pads):
    rng = np.random.RandomState(0)
    layer = _build(Conv2D(4, kernel_size, stride=stride, padding=padding), (7, 6, 3))
    X = rng.standard_normal((2, 7, 6, 3))
    W, b = layer.params["W"], rng.standard_normal(4)
    layer.params["b"] = b
    out = layer.forward(X)
    expected = _direct_conv(X, W, b, layer.stride_, pads)
    assert out.shape == (2,) + layer.output_shape_
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "filters, kernel_size, stride, padding, input_shape",
    [
        (3, 3, 2, "same", (7, 6, 2)),
        (2, (2, 3), (2, 1), 1, (5, 6, 3)),
        (4, 3, 1, "valid", (5, 5, 1)),
        (2, 2, 2, "valid", (4, 6, 2)),      # non-overlapping windows
    ],
)
def test_conv2d_gradients(filters, kernel_size, stride, padding, input_shape):
    check_layer_gradients(Conv2D(filters, kernel_size, stride=stride, padding=padding),
                          input_shape, n_samples=2)


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize(
    "pool_size, stride, input_shape",
    [(2, None, (4, 6, 2)), (2, None, (5, 7, 3)), (3, 2, (7, 6, 2)), ((2, 3), (1, 2), (5, 7, 1))],
)
def test_pooling_gradients(cls, pool_size, stride, input_shape):
    check_layer_gradients(cls(pool_size, stride), input_shape, n_samples=2)


@pytest.mark.parametrize("stride", [None, 1])
def test_maxpool_values_and_tie_split(stride):
    layer = _build(MaxPool2D(2, stride), (2, 2, 1))
    X = np.array([[[1.0], [3.0]], [[3.0], [-1.0]]])[None]      # two maxima tie
    out = layer.forward(X, training=True)
    np.testing.assert_array_equal(out.reshape(-1), [3.0])
    dX = layer.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_allclose(dX[0, :, :, 0], [[0.0, 0.5], [0.5, 0.0]])


def test_pooling_values():
    X = np.arange(2 * 5 * 4 * 3, dtype=np.float64).reshape(2, 5, 4, 3)
    maxp = _build(MaxPool2D(2), (5, 4, 3))
    avgp = _build(AvgPool2D(2), (5, 4, 3))
    assert maxp.output_shape_ == (2, 2, 3)   # the 5th row is cropped
    Xc = X[:, :4].reshape(2, 2, 2, 2, 2, 3)
    np.testing.assert_array_equal(maxp.forward(X), Xc.max(axis=(2, 4)))
    np.testing.assert_allclose(avgp.forward(X), Xc.mean(axis=(2, 4)))


def test_dropout_gradients_and_identity_at_predict():
    layer = _build(Dropout(0.4), (50,))
    X = np.random.RandomState(1).standard_normal((40, 50))
    np.testing.assert_array_equal(layer.forward(X, training=False), X)
    out = layer.forward(X, training=True)
    dropped = out == 0
    assert 0.3 < dropped.mean() < 0.5
    np.testing.assert_allclose(out[~dropped], X[~dropped] / 0.6)
    np.testing.assert_allclose(layer.backward(np.ones_like(X)), (~dropped) / 0.6)
    with pytest.raises(ValueError, match="rate"):
        _build(Dropout(1.0), (50,))


@pytest.mark.parametrize("input_shape", [(6,), (3, 4, 2)])
def test_dropout_gradients_with_a_fixed_mask(input_shape):
    """The mask is drawn in forward: fixing the draw (the same uniforms at every
    call) makes forward a fixed function whose gradient backward must be."""
    layer = Dropout(0.4)
    layer._sampler = lambda shape, dtype: np.random.default_rng(7).random(shape, dtype=dtype)
    check_layer_gradients(layer, input_shape, n_samples=4)
    assert 0 < np.mean(layer._cache_mask == 0) < 1   # some values were dropped, not all


@pytest.mark.parametrize("input_shape", [(3, 4, 2), (1, 1, 3), (5, 2, 1)])
def test_global_avg_pool_gradients(input_shape):
    check_layer_gradients(GlobalAvgPool2D(), input_shape, n_samples=2)


def test_global_avg_pool_values():
    X = np.random.RandomState(0).standard_normal((3, 5, 4, 2))
    layer = _build(GlobalAvgPool2D(), (5, 4, 2))
    assert layer.output_shape_ == (2,) and layer.n_params == 0
    np.testing.assert_allclose(layer.forward(X), X.mean(axis=(1, 2)), rtol=1e-12)
    dX = layer.backward(np.ones((3, 2)))
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX, 1 / 20)
    with pytest.raises(ValueError, match="channels"):
        _build(GlobalAvgPool2D(), (20,))


def test_layer_errors():
    with pytest.raises(ValueError, match="channels"):
        _build(Conv2D(2, 3), (8, 8))
    with pytest.raises(ValueError, match="does not fit"):
        _build(Conv2D(2, 5), (3, 3, 1))
    # hyper-parameters are checked when the layer is built (a specification until then)
    with pytest.raises(ValueError, match="padding"):
        _build(Conv2D(2, 3, padding="full"), (8, 8, 1))
    with pytest.raises(TypeError, match="kernel_size"):
        _build(Conv2D(2, (3, 3, 3)), (8, 8, 1))
    with pytest.raises(ValueError, match="'pool_size' parameter of MaxPool2D"):
        _build(MaxPool2D(0), (8, 8, 1))
    with pytest.raises(ValueError, match="larger"):
        _build(MaxPool2D(3), (2, 5, 1))


def test_conv_layers_on_array_api_strict():
    """Off NumPy (the reference kernels: stacked windows, one GEMM for col2im,
    reductions for max pooling) the layers give the NumPy results."""
    xps = pytest.importorskip("array_api_strict")
    strict = namespace_backend(xps)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2, 7, 6, 3))
    G = rng.standard_normal((2, 4, 3, 2))
    for make in [lambda: Conv2D(2, 3, stride=2, padding="same"),
                 lambda: MaxPool2D(3, 2), lambda: MaxPool2D(2), lambda: AvgPool2D(2),
                 GlobalAvgPool2D]:
        ref, other = _build(make(), (7, 6, 3)), _build(make(), (7, 6, 3), backend=strict)
        other.params = {k: strict.asarray(v) for k, v in ref.params.items()}
        out_ref = ref.forward(X, training=True)
        out = other.forward(strict.asarray(X), training=True)
        np.testing.assert_allclose(np.asarray(out), out_ref, rtol=1e-12)
        G = rng.standard_normal(out_ref.shape)
        np.testing.assert_allclose(np.asarray(other.backward(strict.asarray(G))),
                                   ref.backward(G), rtol=1e-12)


def test_small_network_and_loss_gradients():
    """Back-propagation through Reshape-Conv-ReLU-Pool-Conv-AvgPool-Flatten-Dense + loss."""
    rng = np.random.RandomState(0)
    net = Sequential([
        Reshape((6, 5, 2)), Conv2D(3, 3, padding="same"), Activation("tanh"),
        MaxPool2D(2), Conv2D(2, 2, stride=1, padding=1), AvgPool2D(2, 1), Flatten(),
        Dense(4),
    ]).build((60,), get_backend("numpy"), np.float64, rng)
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"] = rng.standard_normal(layer.params["b"].shape)
    xp = get_backend("numpy").xp
    X = rng.standard_normal((3, 60))
    Y = np.eye(4)[[0, 2, 3]]
    loss = SoftmaxCrossEntropy()

    def objective():
        return float(loss.loss(xp, net.forward(X), Y))

    _, dz = loss.loss_and_grad(xp, net.forward(X, training=True), Y)
    net.backward(dz)
    for layer in net.layers:
        for name, param in layer.params.items():
            np.testing.assert_allclose(
                layer.grads[name], numerical_gradient(objective, param),
                rtol=1e-5, atol=1e-8, err_msg=f"{layer.describe()}: {name}")


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_max_pool_commutes_with_activation(activation):
    """ConvNetClassifier activates after max pooling: the same outputs and gradients."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3, 6, 6, 2))
    outs, grads = [], []
    for order in ([Activation(activation), MaxPool2D(2)], [MaxPool2D(2), Activation(activation)]):
        net = Sequential([Conv2D(3, 3, padding="same")] + order).build(
            (6, 6, 2), get_backend("numpy"), np.float64, np.random.RandomState(1))
        out = net.forward(X, training=True)
        net.backward(np.ones_like(out))
        outs.append(out)
        grads.append(net.layers[0].grads["W"])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_work_arrays_are_kept_across_training_batches_and_only_then():
    """In training, Conv2D and MaxPool2D write each batch's work arrays over the
    last one's (same results as fresh arrays, the padded border stays zero);
    outside training nothing is kept, and every batch's output is its own."""
    rng = np.random.RandomState(0)
    conv, ref = _build(Conv2D(4, 3, padding="same"), (6, 5, 3)), \
        _build(Conv2D(4, 3, padding="same"), (6, 5, 3))
    ref.params = {k: v.copy() for k, v in conv.params.items()}
    pool = _build(MaxPool2D(2), (6, 5, 4))
    seen = []
    for _ in range(3):
        X = rng.standard_normal((2, 6, 5, 3))
        G = rng.standard_normal((2, 6, 5, 4))
        Y = conv.forward(X, training=True)
        ref._clear_cache()   # the reference starts from fresh arrays every time
        np.testing.assert_allclose(Y, ref.forward(X, training=True), rtol=1e-12)
        np.testing.assert_allclose(conv.backward(G), ref.backward(G), rtol=1e-12)
        P = pool.forward(Y, training=True)
        dP = pool.backward(np.ones_like(P))
        seen.append((conv._cache_work["cols"], conv._cache_work["output"],
                     pool._cache_work["input_grad"], dP))
        padded = conv._cache_work["padded"]
        assert np.all(padded[:, [0, -1], :, :] == 0) and np.all(padded[:, :, [0, -1], :] == 0)
    assert all(a is b for a, b in zip(seen[0][:3], seen[-1][:3]))
    # outside training: fresh output arrays, nothing written over
    conv._clear_cache()
    X = rng.standard_normal((2, 6, 5, 3))
    Y1, Y2 = conv.forward(X), conv.forward(X)
    assert not np.shares_memory(Y1, Y2) and not hasattr(conv, "_cache_work")
