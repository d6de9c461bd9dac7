"""The sequence layers: finite-difference gradients (float64) for every
option, agreement with PyTorch on the same weights (skipped without torch),
other sequence lengths than built for, and the layer contract (weights=,
frozen layers, inference copies, pickling, another array namespace)."""

import pickle

import numpy as np
import pytest

from sknets.backend import get_backend, namespace_backend
from sknets.gradcheck import check_layer_gradients, numerical_gradient
from sknets.layers import (
    GRU,
    LSTM,
    Activation,
    AvgPool1D,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    MaxPool1D,
    Residual,
    SimpleRNN,
)

NUMPY = get_backend("numpy")


def _build(layer, input_shape, dtype=np.float64, seed=0):
    layer.build(input_shape, NUMPY, dtype, np.random.RandomState(seed))
    layer.need_input_grad = True
    return layer


def _residual(filters=3, **conv):
    return Residual([Conv1D(filters, 3, padding="same", **conv), Activation("tanh"),
                     Conv1D(filters, 3, padding="same")])


# -- gradients -----------------------------------------------------------------
@pytest.mark.parametrize("layer, input_shape", [
    (Conv1D(3, 3), (6, 2)),
    (Conv1D(3, 3, strides=2, padding="same"), (7, 2)),
    (Conv1D(2, 4, strides=3, padding="causal"), (8, 2)),
    (Conv1D(3, 3, padding="causal", dilation_rate=2), (7, 2)),
    (Conv1D(2, 2, padding="same", dilation_rate=3), (7, 1)),
    (Conv1D(2, 3, dilation_rate=2), (6, 2)),
    (Conv1D(2, 3, padding="same"), (1, 2)),                 # one timestep
    (Conv1D(2, 3, padding="causal", trainable=False), (5, 2)),
    (MaxPool1D(2), (7, 2)),
    (MaxPool1D(3, strides=1), (5, 2)),
    (AvgPool1D(2), (6, 2)),
    (AvgPool1D(3, strides=2), (7, 2)),
    (GlobalAvgPool1D(), (5, 3)),
    (GlobalMaxPool1D(), (5, 3)),
    (GlobalMaxPool1D(), (1, 3)),
], ids=lambda v: v.describe() if hasattr(v, "describe") else str(v))
def test_convolution_and_pooling_gradients(layer, input_shape):
    check_layer_gradients(layer, input_shape, n_samples=2)


@pytest.mark.parametrize("cls", [SimpleRNN, GRU, LSTM])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("timesteps", [1, 4])
def test_recurrent_gradients(cls, return_sequences, timesteps):
    check_layer_gradients(cls(3, return_sequences=return_sequences), (timesteps, 2),
                          n_samples=2)


@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
def test_simple_rnn_activation_gradients(activation):
    check_layer_gradients(SimpleRNN(3, activation=activation, return_sequences=True), (3, 2))


def test_frozen_recurrent_layer_passes_input_gradients_only():
    check_layer_gradients(GRU(3, trainable=False), (3, 2), n_samples=2)


@pytest.mark.parametrize("layer, input_shape", [
    (Bidirectional(GRU(3)), (4, 2)),
    (Bidirectional(LSTM(2, return_sequences=True)), (4, 2)),
    (Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode="mul"), (3, 2)),
    (Bidirectional(GRU(2), merge_mode="ave"), (3, 2)),
    (Bidirectional(GRU(2, return_sequences=True), merge_mode="sum"), (1, 2)),
    (_residual(), (5, 3)),                                                    # identity
    (Residual([Conv1D(4, 3, padding="same"), Activation("tanh")]), (5, 3)),  # projection
    (Residual([Conv1D(4, 3, strides=2, padding="same")]), (7, 3)),           # strided
    (Residual([Conv1D(3, 3, padding="causal", dilation_rate=2),
               BatchNormalization(), Activation("relu")]), (6, 3)),
    (Residual([Conv2D(4, 3, stride=2, padding="same")]), (5, 4, 2)),          # images
    (Residual([Dense(4), Activation("tanh")]), (3,)),
    (Residual([GRU(3, return_sequences=True)]), (4, 3)),
    (Residual([_residual()]), (4, 3)),                                        # nested
    (Residual([Conv1D(3, 3, padding="same", trainable=False), Activation("tanh"),
               Conv1D(3, 3, padding="same")]), (5, 3)),                        # part frozen
    (Residual([Conv1D(3, 3, padding="same")], trainable=False), (5, 3)),
], ids=lambda v: v.describe() if hasattr(v, "describe") else str(v))
def test_container_gradients(layer, input_shape):
    check_layer_gradients(layer, input_shape, n_samples=3)


def test_embedding_gradient_and_lookup():
    layer = _build(Embedding(5, 3), (4,))
    ids = np.array([[0, 4, 4, 1], [2, 2, 0, 3]], dtype=np.float64)
    G = np.random.RandomState(1).standard_normal((2, 4, 3))
    out = layer.forward(ids, training=True)
    np.testing.assert_array_equal(out, layer.params["W"][ids.astype(int)])
    layer.backward(G)

    def objective():
        return float(np.sum(layer.forward(ids) * G))

    np.testing.assert_allclose(layer.grads["W"], numerical_gradient(objective, layer.params["W"]),
                               rtol=1e-6, atol=1e-8)
    for bad in (ids + 0.5, ids + 5, -ids - 1):
        with pytest.raises(ValueError, match=r"integer token ids in \[0, 5\)"):
            layer.forward(bad)


# -- equality with PyTorch -----------------------------------------------------
def _torch_recurrent(cls, features, units):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = {SimpleRNN: torch.nn.RNN, GRU: torch.nn.GRU, LSTM: torch.nn.LSTM}[cls](
        features, units, batch_first=True)
    w = {"W": module.weight_ih_l0.detach().numpy().T, "U": module.weight_hh_l0.detach().numpy().T}
    if cls is GRU:
        w["b"], w["b_rec"] = (module.bias_ih_l0.detach().numpy(),
                              module.bias_hh_l0.detach().numpy())
    else:
        w["b"] = (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy()
    return torch, module, w


@pytest.mark.parametrize("cls", [SimpleRNN, GRU, LSTM])
def test_recurrent_layers_equal_pytorch(cls):
    torch, module, w = _torch_recurrent(cls, 3, 5)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((4, 7, 3)).astype(np.float32)
    layer = _build(cls(5, return_sequences=True, weights=w), (7, 3), np.float32)
    out = layer.forward(X, training=True)
    Xt = torch.tensor(X, requires_grad=True)
    ref, _ = module(Xt)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    G = rng.standard_normal(out.shape).astype(np.float32)
    (ref * torch.tensor(G)).sum().backward()
    dX = layer.backward(G)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.grads["U"], module.weight_hh_l0.grad.numpy().T,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.grads["W"], module.weight_ih_l0.grad.numpy().T,
                               rtol=1e-4, atol=1e-5)
    # the last state alone, as return_sequences=False gives it
    last = _build(cls(5, weights=w), (7, 3), np.float32).forward(X)
    np.testing.assert_allclose(last, ref.detach().numpy()[:, -1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel_size, strides, padding, dilation, timesteps", [
    (3, 1, "valid", 1, 9), (4, 2, "same", 1, 10), (3, 2, "same", 1, 9),
    (3, 1, "causal", 2, 9), (3, 1, "same", 3, 10), (2, 1, "valid", 4, 9), (5, 3, "causal", 1, 11),
])
def test_conv1d_equals_pytorch(kernel_size, strides, padding, dilation, timesteps):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from sknets.layers.conv1d import conv1d_length

    rng = np.random.RandomState(0)
    layer = _build(Conv1D(4, kernel_size, strides=strides, padding=padding,
                          dilation_rate=dilation), (timesteps, 3))
    layer.params["b"] = rng.standard_normal(4)
    X = rng.standard_normal((2, timesteps, 3))
    _, pads = conv1d_length(timesteps, kernel_size, strides, padding, dilation)
    ref = F.conv1d(F.pad(torch.tensor(X).permute(0, 2, 1), pads),
                   torch.tensor(layer.params["W"].transpose(2, 1, 0)),
                   torch.tensor(layer.params["b"]), stride=strides, dilation=dilation)
    np.testing.assert_allclose(layer.forward(X), ref.permute(0, 2, 1).numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls, name", [(MaxPool1D, "max_pool1d"), (AvgPool1D, "avg_pool1d")])
@pytest.mark.parametrize("pool_size, strides, timesteps", [(2, None, 9), (3, 2, 10), (3, 1, 7)])
def test_pooling1d_equals_pytorch(cls, name, pool_size, strides, timesteps):
    torch = pytest.importorskip("torch")
    X = np.random.RandomState(0).standard_normal((2, timesteps, 3))
    layer = _build(cls(pool_size, strides), (timesteps, 3))
    ref = getattr(torch.nn.functional, name)(torch.tensor(X).permute(0, 2, 1), pool_size,
                                             strides)
    np.testing.assert_allclose(layer.forward(X), ref.permute(0, 2, 1).numpy(), rtol=1e-12)


# -- other lengths than built for ------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: GRU(3, return_sequences=True), lambda: LSTM(3), lambda: SimpleRNN(2),
    lambda: Conv1D(3, 3, strides=2, padding="same"), lambda: Conv1D(2, 2, dilation_rate=2),
    lambda: Conv1D(2, 3, padding="causal"), lambda: MaxPool1D(2), lambda: AvgPool1D(3, 1),
    lambda: GlobalAvgPool1D(), lambda: GlobalMaxPool1D(), lambda: Bidirectional(GRU(2)),
    lambda: _residual(),
])
def test_other_lengths_than_built_for(make):
    """A layer built for 6 timesteps runs sequences of 9 (and of 1 where the
    kernel fits) as a layer built for those lengths, forward and backward."""
    rng = np.random.RandomState(0)
    layer = _build(make(), (6, 2))
    for timesteps in (9, 1) if not isinstance(layer, (AvgPool1D, MaxPool1D)) else (9,):
        if isinstance(layer, Conv1D) and layer.padding == "valid":
            continue   # a kernel longer than the sequence
        ref = _build(make(), (timesteps, 2), seed=0)
        X = rng.standard_normal((2, timesteps, 2))
        out = layer.forward(X, training=True)
        np.testing.assert_allclose(out, ref.forward(X, training=True), rtol=1e-12)
        G = rng.standard_normal(out.shape)
        np.testing.assert_allclose(layer.backward(G), ref.backward(G), rtol=1e-12)


# -- the layer contract -----------------------------------------------------------
CONTRACT_LAYERS = [
    lambda: Conv1D(3, 3, padding="causal", dilation_rate=2),
    lambda: GRU(3, return_sequences=True),
    lambda: Bidirectional(LSTM(2)),
    lambda: Residual([Conv1D(4, 3, padding="same"), BatchNormalization(momentum=0.5),
                      Activation("relu")]),
]


@pytest.mark.parametrize("make", CONTRACT_LAYERS)
def test_weights_pickling_and_inference_copies(make):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3, 6, 2))
    layer = _build(make(), (6, 2))
    layer.forward(X, training=True)   # moves batch statistics where there are some
    out = layer.forward(X)
    weights = layer.get_weights()
    assert set(weights) == set(layer.params) | set(layer.state)
    # weights= starts another layer (another random state) from them
    twin = _build(make().set_params(weights=weights), (6, 2), seed=1)
    np.testing.assert_array_equal(twin.forward(X), out)
    # an inference copy computes the same and leaves the layer as it was
    before = {k: np.array(v) for k, v in {**layer.params, **layer.state}.items()}
    placed = layer.placed(NUMPY)
    np.testing.assert_array_equal(placed.forward(X), out)
    # a copy to train further (warm start) trains on weights of its own
    layer.placed(NUMPY, copy_weights=True).forward(X, training=True)
    for key, value in {**layer.params, **layer.state}.items():
        np.testing.assert_array_equal(value, before[key])
    # a pickle holds no caches and predicts the same
    blob = pickle.dumps(layer)
    assert b"_cache" not in blob
    np.testing.assert_array_equal(pickle.loads(blob).forward(X), out)
    # placed on, or moved to, another namespace: the same values there
    xps = pytest.importorskip("array_api_strict")
    strict = namespace_backend(xps)
    np.testing.assert_allclose(np.asarray(layer.placed(strict).forward(xps.asarray(X))), out,
                               rtol=1e-12)
    moved = pickle.loads(blob).to(strict)
    np.testing.assert_allclose(np.asarray(moved.forward(xps.asarray(X))), out, rtol=1e-12)
    # an optimizer-style replacement of an array reaches the computation
    key = next(k for k in layer.params if k.endswith("W"))
    layer.params[key] = layer.params[key] * 0.0
    assert not np.allclose(layer.forward(X), out)


def test_container_builds_clones_and_names_weights():
    conv = Conv1D(4, 3, padding="same")
    block = Residual([conv, Dropout(0.3)])
    assert block.stochastic and not Residual([conv]).stochastic
    assert Residual([BatchNormalization()]).keeps_running_state
    _build(block, (5, 2))
    assert not hasattr(conv, "params")           # the specification is not built
    assert set(block.params) == {"0.W", "0.b", "shortcut.W", "shortcut.b"}
    assert set(block.penalized) == {"0.W", "shortcut.W"}
    assert block.n_params == 3 * 2 * 4 + 4 + 2 * 4 + 4
    assert "projection" in block.describe()
    frozen_part = _build(Residual([Conv1D(2, 3, padding="same", trainable=False),
                                   Conv1D(2, 3, padding="same")]), (5, 2))
    assert set(frozen_part.params) == {"1.W", "1.b"}
    assert set(frozen_part.state) == {"0.W", "0.b"}   # kept, counted, never trained


def test_bad_layers_are_refused_with_clear_messages():
    with pytest.raises(ValueError, match="expects sequences of shape"):
        _build(GRU(3), (5,))
    with pytest.raises(ValueError, match="expects sequences of shape"):
        _build(Conv1D(3, 3), (5, 5, 1))
    with pytest.raises(ValueError, match="cannot both exceed 1"):
        _build(Conv1D(3, 3, strides=2, dilation_rate=2), (9, 1))
    with pytest.raises(ValueError, match="does not fit"):
        _build(Conv1D(3, 3, dilation_rate=3), (6, 1))
    with pytest.raises(ValueError, match="padding"):
        _build(Conv1D(3, 3, padding="full"), (6, 1))
    with pytest.raises(ValueError, match="longer than its input"):
        _build(MaxPool1D(4), (3, 1))
    with pytest.raises(ValueError, match="no 1x1 projection"):
        _build(Residual([Conv1D(3, 3)]), (6, 1))
    with pytest.raises(ValueError, match="non-empty list of sknets layers"):
        _build(Residual([]), (6, 1))
    with pytest.raises(TypeError, match="wraps a recurrent layer"):
        _build(Bidirectional(Conv1D(2, 3)), (6, 1))
    with pytest.raises(ValueError, match="keys"):
        _build(GRU(2, weights={"W": np.zeros((1, 6))}), (4, 1))


def test_sequence_layers_on_array_api_strict():
    """A Conv1D / residual / bidirectional GRU / pooling network computes on
    array_api_strict what it computes on NumPy, forward and backward."""
    xps = pytest.importorskip("array_api_strict")
    from sknets.network import Sequential

    def network(backend):
        return Sequential([
            Embedding(6, 3), Conv1D(4, 3, padding="causal", dilation_rate=2),
            Residual([Conv1D(5, 3, strides=2, padding="same"), BatchNormalization(),
                      Activation("relu")]),
            MaxPool1D(2, strides=1), Bidirectional(GRU(3, return_sequences=True)),
            Bidirectional(LSTM(2), merge_mode="mul"), Dense(2)]).build(
            (8,), backend, np.float64, np.random.RandomState(0))

    rng = np.random.RandomState(0)
    X, G = rng.randint(6, size=(3, 8)).astype(np.float64), rng.standard_normal((3, 2))
    ref, net = network(NUMPY), network(namespace_backend(xps))
    out_ref = ref.forward(X, training=True)
    ref.backward(G)
    out = net.forward(xps.asarray(X), training=True)
    net.backward(xps.asarray(G))
    np.testing.assert_allclose(np.asarray(out), out_ref, rtol=1e-12)
    for a, b in zip(net.grads, ref.grads):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-10, atol=1e-12)


def test_recurrent_loops_use_one_blas_thread_for_small_products():
    from threadpoolctl import threadpool_info, threadpool_limits

    from sknets.layers._sequence import SMALL_PRODUCT, loop_blas_threads

    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"):
        if blas_threads() != {2}:
            pytest.skip("no BLAS library whose threads can be set")
        with loop_blas_threads(NUMPY, 64 * 64 * 192):
            assert blas_threads() == {1}
        assert blas_threads() == {2}
        with loop_blas_threads(NUMPY, SMALL_PRODUCT):
            assert blas_threads() == {2}
        xps = pytest.importorskip("array_api_strict")
        with loop_blas_threads(namespace_backend(xps), 1):
            assert blas_threads() == {2}
