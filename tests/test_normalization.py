"""BatchNormalization: finite-difference gradients (float64) in training,
inference and frozen modes, batch and moving statistics (Keras' rule), the
specification contract (validation at build, ``weights=``, clone, pickling)
and a network with it that trains and snapshots its moving statistics."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from sknets.backend import get_backend
from sknets.gradcheck import check_layer_gradients, numerical_gradient
from sknets.layers import Activation, BatchNormalization, Dense
from sknets.losses import SoftmaxCrossEntropy
from sknets.network import Sequential
from sknets.optimizers import Adam

NUMPY = get_backend("numpy")
SHAPES = [(4,), (3, 2, 4)]   # dense features; channels-last images


def _build(layer, input_shape, dtype=np.float64):
    layer.build(input_shape, NUMPY, dtype, np.random.RandomState(0))
    layer.need_input_grad = True
    return layer


def _weights(c, seed=0):
    rng = np.random.RandomState(seed)
    return {"gamma": rng.uniform(0.5, 2.0, c), "beta": rng.standard_normal(c),
            "moving_mean": rng.standard_normal(c),
            "moving_variance": rng.uniform(0.5, 2.0, c)}


def _affine(X, w, eps=1e-3):
    return w["gamma"] * (X - w["moving_mean"]) / np.sqrt(w["moving_variance"] + eps) + w["beta"]


# -- gradients -----------------------------------------------------------------
@pytest.mark.parametrize("input_shape", SHAPES)
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_gradients(input_shape, training):
    """gamma, beta and the input; inference uses the given moving statistics."""
    layer = BatchNormalization(weights=_weights(input_shape[-1]))
    check_layer_gradients(layer, input_shape, n_samples=5, training=training)


@pytest.mark.parametrize("input_shape", SHAPES)
def test_frozen_gradients_are_the_input_only(input_shape):
    layer = BatchNormalization(trainable=False, weights=_weights(input_shape[-1]))
    check_layer_gradients(layer, input_shape, n_samples=5, training=True)


def test_no_input_gradient_when_not_needed():
    layer = _build(BatchNormalization(), (3,))
    layer.need_input_grad = False
    layer.forward(np.random.RandomState(0).standard_normal((6, 3)), training=True)
    assert layer.backward(np.ones((6, 3))) is None
    assert set(layer.grads) == {"gamma", "beta"}


# -- statistics -----------------------------------------------------------------
@pytest.mark.parametrize("input_shape", SHAPES)
def test_batch_statistics_normalise_each_feature(input_shape):
    rng = np.random.RandomState(0)
    X = 5.0 + 3.0 * rng.standard_normal((64,) + input_shape)
    Y = _build(BatchNormalization(epsilon=1e-12), input_shape).forward(X, training=True)
    axes = tuple(range(X.ndim - 1))
    np.testing.assert_allclose(Y.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(Y.var(axis=axes), 1.0, rtol=1e-9)
    assert Y.shape == X.shape


@pytest.mark.parametrize("input_shape", SHAPES)
def test_moving_statistics_follow_keras_rule_and_serve_inference(input_shape):
    rng = np.random.RandomState(1)
    c = input_shape[-1]
    layer = _build(BatchNormalization(momentum=0.8), input_shape)
    mean, var = np.zeros(c), np.ones(c)
    axes = tuple(range(len(input_shape)))
    for _ in range(4):
        X = 2.0 + rng.standard_normal((8,) + input_shape)
        layer.forward(X, training=True)
        mean = 0.8 * mean + 0.2 * X.mean(axis=axes)
        var = 0.8 * var + 0.2 * X.var(axis=axes)     # the biased batch variance
    np.testing.assert_allclose(layer.state["moving_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"], var, rtol=1e-12)
    X = rng.standard_normal((5,) + input_shape)
    w = {**layer.get_weights()}
    np.testing.assert_allclose(layer.forward(X, training=False), _affine(X, w), rtol=1e-12)
    before = layer.get_weights()
    layer.forward(X, training=False)
    for key, value in layer.get_weights().items():   # inference moves nothing
        np.testing.assert_array_equal(value, before[key])


def test_frozen_layer_runs_in_inference_mode_and_changes_nothing():
    w = _weights(3)
    layer = _build(BatchNormalization(trainable=False, weights=w), (3,))
    X = np.random.RandomState(0).standard_normal((10, 3))
    Y = layer.forward(X, training=True)
    np.testing.assert_allclose(Y, _affine(X, w), rtol=1e-12)
    dX = layer.backward(np.ones_like(Y))
    np.testing.assert_allclose(dX, np.broadcast_to(
        w["gamma"] / np.sqrt(w["moving_variance"] + 1e-3), X.shape), rtol=1e-12)
    assert layer.grads == {}
    for key, value in layer.get_weights().items():
        np.testing.assert_array_equal(value, w[key])


# -- the specification -----------------------------------------------------------
def test_weights_seed_params_and_state_and_are_never_modified():
    w = _weights(4)
    given = {k: v.copy() for k, v in w.items()}
    layer = _build(BatchNormalization(weights=given), (4,))
    for key in ("gamma", "beta"):
        np.testing.assert_array_equal(layer.params[key], w[key])
    for key in ("moving_mean", "moving_variance"):
        np.testing.assert_array_equal(layer.state[key], w[key])
    X = np.random.RandomState(0).standard_normal((6, 4))
    layer.forward(X, training=True)   # moves the state in place
    layer.backward(np.ones_like(X))
    for key in ("gamma", "beta"):
        layer.params[key] -= 0.1 * layer.grads[key]   # as an optimizer does
    for key, value in given.items():   # the specification's arrays are its own
        np.testing.assert_array_equal(value, w[key])
    assert not np.allclose(layer.state["moving_mean"], w["moving_mean"])


def test_wrong_weights_are_a_value_error_naming_the_problem():
    w = _weights(4)
    with pytest.raises(ValueError, match="moving_variance"):
        _build(BatchNormalization(weights={k: w[k] for k in ("gamma", "beta",
                                                             "moving_mean")}), (4,))
    with pytest.raises(ValueError, match="'running_mean'"):
        _build(BatchNormalization(weights={**w, "running_mean": w["moving_mean"]}), (4,))
    with pytest.raises(ValueError, match=r"weights\['gamma'\] has shape \(3,\).*\(4,\)"):
        _build(BatchNormalization(weights={**w, "gamma": np.ones(3)}), (4,))


@pytest.mark.parametrize("params, name", [
    (dict(momentum=1.5), "momentum"), (dict(momentum="fast"), "momentum"),
    (dict(epsilon=0.0), "epsilon"), (dict(trainable="no"), "trainable"),
    (dict(weights=[1.0]), "weights"),
])
def test_hyper_parameters_are_checked_at_build(params, name):
    layer = BatchNormalization(**params)   # stored untouched, as a specification
    assert layer.get_params()[name] == params[name]
    with pytest.raises(ValueError, match=f"'{name}' parameter of BatchNormalization must be"):
        _build(layer, (3,))


def test_clone_and_get_set_params():
    w = _weights(3)
    spec = BatchNormalization(momentum=0.9, weights=w)
    params = spec.get_params()
    assert params == {"momentum": 0.9, "epsilon": 1e-3, "trainable": True, "weights": w}
    copy = clone(spec)
    assert copy is not spec and copy.get_params()["momentum"] == 0.9
    np.testing.assert_array_equal(copy.weights["gamma"], w["gamma"])
    assert copy.set_params(trainable=False, epsilon=1e-5) is copy
    assert copy.get_params()["trainable"] is False and copy.epsilon == 1e-5
    assert spec.trainable is True   # the original is untouched
    built = _build(clone(spec), (3,))
    assert not hasattr(clone(built), "params")   # a clone is a fresh specification
    assert repr(copy) == "BatchNormalization(momentum=0.9, epsilon=1e-05) (frozen)"
    assert repr(BatchNormalization()) == "BatchNormalization"


def test_pickle_keeps_numpy_weights_and_drops_caches():
    layer = _build(BatchNormalization(), (2, 2, 3), dtype=np.float32)
    X = np.random.RandomState(0).standard_normal((4, 2, 2, 3)).astype(np.float32)
    layer.forward(X, training=True)
    layer.backward(np.ones_like(X))
    loaded = pickle.loads(pickle.dumps(layer))
    assert not [k for k in vars(loaded) if k.startswith("_cache")]
    assert loaded.grads == {}
    for store in ("params", "state"):
        for key, value in getattr(layer, store).items():
            loaded_value = getattr(loaded, store)[key]
            assert isinstance(loaded_value, np.ndarray) and loaded_value.dtype == np.float32
            np.testing.assert_array_equal(loaded_value, value)
    out = loaded.forward(X, training=False)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, layer.forward(X, training=False))


def test_counts_and_penalty():
    layer = _build(BatchNormalization(), (5, 5, 6))
    assert layer.penalized == ()   # the L2 penalty leaves gamma and beta alone
    assert layer.n_params == 12 and layer.n_state == 12
    assert layer.output_shape_ == (5, 5, 6)


# -- in a network -----------------------------------------------------------------
def _network(frozen=False):
    return Sequential([Dense(5), BatchNormalization(momentum=0.9, trainable=not frozen),
                       Activation("tanh"), Dense(3)]).build(
        (4,), NUMPY, np.float64, np.random.RandomState(0))


def test_network_gradient_through_batch_normalization():
    """Dense -> BatchNormalization -> tanh -> Dense + softmax cross-entropy
    against finite differences, with batch statistics (training mode)."""
    rng = np.random.RandomState(0)
    net = _network()
    net.layers[1].params["gamma"][:] = rng.uniform(0.5, 2.0, 5)
    net.layers[1].params["beta"][:] = rng.standard_normal(5)
    X, Y = rng.standard_normal((7, 4)), np.eye(3)[rng.randint(3, size=7)]
    loss, xp = SoftmaxCrossEntropy(), NUMPY.xp

    def objective():
        return float(loss.loss(xp, net.forward(X, training=True), Y))

    _, dz = loss.loss_and_grad(xp, net.forward(X, training=True), Y)
    net.backward(dz)
    analytic = [np.array(g, copy=True) for g in net.grads]
    assert len(analytic) == 6   # W, b, gamma, beta, W, b
    for p, g in zip(net.params, analytic):
        np.testing.assert_allclose(g, numerical_gradient(objective, p), rtol=1e-5, atol=1e-8)


def test_network_trains_and_snapshots_moving_statistics():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 4)) * 4.0 + 3.0
    Y = np.eye(3)[(X[:, 0] > 3.0).astype(int) + (X[:, 1] > 5.0)]
    net, loss, xp = _network(), SoftmaxCrossEntropy(), NUMPY.xp
    opt = Adam(net.params, learning_rate_init=0.05)
    losses = []
    for _ in range(60):
        value, dz = loss.loss_and_grad(xp, net.forward(X, training=True), Y)
        net.backward(dz)
        opt.update_params(net.params, net.grads)
        losses.append(float(value))
    assert losses[-1] < 0.5 * losses[0]
    bn = net.layers[1]
    snapshot = net.get_weights()
    assert len(snapshot) == 6 + 2   # layer by layer: params, and the moving statistics
    saved = {k: np.array(v, copy=True) for k, v in bn.state.items()}
    net.forward(X + 1.0, training=True)   # moves the statistics away
    assert not np.allclose(bn.state["moving_mean"], saved["moving_mean"])
    net.set_weights(snapshot)
    for key, value in saved.items():
        np.testing.assert_array_equal(bn.state[key], value)
    rows = net.summary_rows()
    assert rows[1][0] == "BatchNormalization(momentum=0.9)"
    assert rows[1][2:] == (20, 10)   # gamma, beta trainable; moving statistics not


def test_frozen_batch_normalization_is_left_out_of_training_and_snapshots():
    net = _network(frozen=True)
    bn = net.layers[1]
    before = bn.get_weights()
    X = np.random.RandomState(0).standard_normal((8, 4))
    net.forward(X, training=True)
    net.backward(np.ones((8, 3)))
    assert bn not in net.trainable_layers and len(net.get_weights()) == 4
    for key, value in bn.get_weights().items():
        np.testing.assert_array_equal(value, before[key])
    assert net.summary_rows()[1][2:] == (20, 0)
